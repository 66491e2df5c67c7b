//! Issue 25, point 3: `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (both spellings) reach every
//! request: plain HTTP in absolute form through a forward proxy, TLS through a `CONNECT` tunnel
//! (the certificate still checked end to end), and the hosts `NO_PROXY` names go direct.
//! Point 4: twenty processes pulling one suite into one shared cache download each layer once.

use crate::util::forward::ForwardProxy;
use crate::util::registry::Registry;
use crate::util::*;

/// The proxy variables, set both ways (curl reads the lower-case ones; many tools the upper).
fn through(proxy: &ForwardProxy, no_proxy: &str) -> Vec<(&'static str, String)> {
    let url = proxy.url();
    vec![
        ("HTTP_PROXY", url.clone()),
        ("http_proxy", url.clone()),
        ("HTTPS_PROXY", url.clone()),
        ("https_proxy", url),
        ("NO_PROXY", no_proxy.to_string()),
        ("no_proxy", no_proxy.to_string()),
    ]
}

fn env_of<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn plain_http_goes_through_the_proxy_in_absolute_form_and_no_proxy_bypasses_it() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/proxied:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    let proxy = ForwardProxy::start();
    let vars = through(&proxy, "");
    run_env(tmp.path(), &env_of(&vars), &["pull", "-q", "--plain-http", &at, "-o", "out"]).ok();
    let log = proxy.log();
    let host = at.split('/').next().unwrap();
    assert!(log.iter().any(|l| l.starts_with(&format!("GET http://{host}/v2/zoo/proxied/manifests/1"))), "{log:#?}");
    assert!(log.iter().any(|l| l.contains("/blobs/sha256:")), "the layers came through it too: {log:#?}");
    // NO_PROXY naming the registry: nothing goes through the proxy.
    let before = proxy.log().len();
    let vars = through(&proxy, host.split(':').next().unwrap());
    run_env(tmp.path(), &env_of(&vars), &["pull", "-q", "--plain-http", &at, "-o", "direct"]).ok();
    assert_eq!(proxy.log().len(), before, "NO_PROXY went through the proxy: {:#?}", &proxy.log()[before..]);
}

#[test]
fn tls_goes_through_a_connect_tunnel_with_the_certificate_checked_end_to_end() {
    let reg = Registry::tls();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let ca = reg.ca_arg();
    let at = reg.at("zoo/tunnelled:1");
    run_in(tmp.path(), &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &at]).ok();
    let proxy = ForwardProxy::start();
    let vars = through(&proxy, "");
    run_env(tmp.path(), &env_of(&vars), &["pull", "-q", "--ca-file", &ca, &at, "-o", "out"]).ok();
    let host = at.split('/').next().unwrap();
    let log = proxy.log();
    assert!(log.iter().any(|l| l == &format!("CONNECT {host} HTTP/1.1")), "{log:#?}");
    assert!(!log.iter().any(|l| l.starts_with("GET")), "TLS stays inside the tunnel: {log:#?}");
    // The tunnel does not weaken TLS: without the CA the certificate is refused, as direct.
    run_env(tmp.path(), &env_of(&vars), &["pull", "-q", &at, "-o", "refused"]).code(1).stderr_has("certificate");
}

#[test]
fn twenty_processes_pulling_into_one_shared_cache_download_each_layer_once() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/many-pods:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    reg.clear_requests();
    // One node's hostPath cache, twenty pods' init containers at once.
    let cache = tmp.path().join("node-cache");
    let pods: Vec<_> = (0..20)
        .map(|_| {
            zoo()
                .current_dir(tmp.path())
                .env("ZOO_OCI_CACHE", &cache)
                .args(["pull", "-q", "--plain-http", "--cache", &at])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut folders = std::collections::BTreeSet::new();
    for pod in pods {
        let out = pod.wait_with_output().unwrap();
        assert!(out.status.success(), "a pod failed: {}", String::from_utf8_lossy(&out.stderr));
        folders.insert(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    assert_eq!(folders.len(), 1, "every pod got the same snapshot: {folders:?}");
    let snapshot = std::path::PathBuf::from(folders.into_iter().next().unwrap());
    assert_eq!(
        std::fs::read(snapshot.join("models/model.safetensors")).unwrap(),
        std::fs::read(suite.join("models/model.safetensors")).unwrap()
    );
    let mut per_blob: std::collections::BTreeMap<String, usize> = Default::default();
    for r in reg.requests().iter().filter(|r| r.starts_with("GET") && r.contains("/blobs/sha256:")) {
        *per_blob.entry(r.rsplit('/').next().unwrap().to_string()).or_default() += 1;
    }
    assert!(!per_blob.is_empty());
    for (blob, gets) in &per_blob {
        assert_eq!(*gets, 1, "blob {blob} was downloaded {gets} times: {per_blob:#?}");
    }
}

/// The layers' blob GETs the origin saw, by digest.
fn origin_blob_gets(origin: &Registry) -> std::collections::BTreeMap<String, usize> {
    let mut per_blob = std::collections::BTreeMap::new();
    for r in origin.requests().iter().filter(|r| r.starts_with("GET") && r.contains("/blobs/sha256:")) {
        *per_blob.entry(r.rsplit('/').next().unwrap().to_string()).or_default() += 1;
    }
    per_blob
}

/// Pulls `at` into `out` in `n` processes at once; panics unless all succeed with the bytes of
/// `suite`.
fn pull_at_once(dir: &std::path::Path, at: &str, n: usize, suite: &std::path::Path, out: &str) {
    let pulls: Vec<_> = (0..n)
        .map(|i| {
            zoo()
                .current_dir(dir)
                .args(["pull", "-q", "--plain-http", at, "-o", &format!("{out}-{i}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, pull) in pulls.into_iter().enumerate() {
        let done = pull.wait_with_output().unwrap();
        assert!(done.status.success(), "pull {i} failed: {}", String::from_utf8_lossy(&done.stderr));
        let got = std::fs::read(dir.join(format!("{out}-{i}/models/model.safetensors"))).unwrap();
        assert_eq!(got, std::fs::read(suite.join("models/model.safetensors")).unwrap(), "pull {i}: other bytes");
    }
}

#[test]
fn a_pull_through_cache_serves_a_rollout_and_keeps_serving_with_the_origin_down() {
    let mut origin = Registry::plain();
    let cache = Registry::pull_through(&origin);
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &origin.at("zoo/rollout:1")]).ok();
    let through = cache.at("zoo/rollout:1");
    // Twenty pulls started at once, the cache cold: all complete with the right bytes.
    origin.clear_requests();
    pull_at_once(tmp.path(), &through, 20, &suite, "cold");
    let cold = origin_blob_gets(&origin);
    assert!(!cold.is_empty(), "the cache fetched from the origin");
    eprintln!("cold rollout, origin GETs per blob: {:?}", cold.values().collect::<Vec<_>>());
    // Warm: twenty at once cost the origin at most two GETs per blob (Distribution's proxy
    // fetches once for the client and once for its store; here, none at all once stored).
    origin.clear_requests();
    pull_at_once(tmp.path(), &through, 20, &suite, "warm");
    let warm = origin_blob_gets(&origin);
    eprintln!("warm rollout, origin GETs per blob: {:?}", warm.values().collect::<Vec<_>>());
    for (blob, gets) in warm {
        assert!(gets <= 2, "the origin served {blob} {gets} times to a warm cache");
    }
    // The origin stopped: what the cache holds still pulls, by tag and by digest.
    let digest = digest_of(tmp.path(), &through);
    origin.stop();
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &through, "-o", "offline-tag"]).ok();
    let pinned = format!("{}@{digest}", cache.at("zoo/rollout"));
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &pinned, "-o", "offline-digest"]).ok();
    for out in ["offline-tag", "offline-digest"] {
        let got = std::fs::read(tmp.path().join(out).join("models/model.safetensors")).unwrap();
        assert_eq!(got, std::fs::read(suite.join("models/model.safetensors")).unwrap());
    }
}

/// The manifest digest `at` resolves to, as `inspect --format json` says.
fn digest_of(dir: &std::path::Path, at: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&run_in(dir, &["inspect", "--plain-http", "--format", "json", at]).ok().stdout).unwrap();
    json["digest"].as_str().unwrap().to_string()
}
