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

/// An origin holding the small suite at `zoo/mirrored:1`, and a mirror holding a copy.
fn origin_and_mirror(dir: &std::path::Path) -> (Registry, Registry, std::path::PathBuf) {
    let origin = Registry::plain();
    let mirror = Registry::plain();
    let suite = small_suite(dir);
    run_in(dir, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &origin.at("zoo/mirrored:1")]).ok();
    run_in(
        dir,
        &[
            "copy",
            "-q",
            "--from-plain-http",
            "--to-plain-http",
            &origin.at("zoo/mirrored:1"),
            &mirror.at("zoo/mirrored:1"),
        ],
    )
    .ok();
    origin.clear_requests();
    mirror.clear_requests();
    (origin, mirror, suite)
}

fn record(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join(".zoo-oci.json")).unwrap()).unwrap()
}

#[test]
fn mirrors_from_registries_conf_serve_reads_and_a_dead_one_is_skipped_at_once() {
    let tmp = scratch();
    let (origin, mirror, _) = origin_and_mirror(tmp.path());
    let dead = format!("127.0.0.1:{}", crate::util::registry::free_port());
    let conf = tmp.path().join("registries.conf");
    let host = origin.at("").trim_end_matches('/').to_string();
    let mirror_host = mirror.at("").trim_end_matches('/').to_string();
    std::fs::write(
        &conf,
        format!(
            "unqualified-search-registries = [\"docker.io\"]\n[aliases]\n\"tiny\" = \"{host}/zoo/mirrored\"\n\n\
             [[registry]]\nlocation = \"{host}\"\ninsecure = true\n\n\
             [[registry.mirror]]\nlocation = \"{dead}\"\ninsecure = true\n\n\
             [[registry.mirror]]\nlocation = \"{mirror_host}\"\ninsecure = true\n"
        ),
    )
    .unwrap();
    let env = [("CONTAINERS_REGISTRIES_CONF", conf.to_str().unwrap())];
    let at = origin.at("zoo/mirrored:1");
    let started = std::time::Instant::now();
    let run = run_env(tmp.path(), &env, &["pull", "--plain-http", &at, "-o", "out"]);
    run.ok().stderr_has(&format!("mirror {dead} skipped")).stderr_has(&format!("through its mirror {mirror_host}"));
    assert_eq!(run.stderr.matches(&format!("mirror {dead} skipped")).count(), 1, "one line: {}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the dead mirror was waited for");
    assert!(origin.requests().is_empty(), "the origin saw requests: {:#?}", origin.requests());
    assert!(mirror.requests().iter().any(|r| r.contains("/blobs/sha256:")));
    let rec = record(&tmp.path().join("out"));
    assert_eq!(rec["source"], at.as_str(), "the record keeps the reference as given");
    assert_eq!(rec["mirror"], mirror_host.as_str(), "and says which mirror served it");
    // inspect reads through it too; writes go to the origin only.
    run_env(tmp.path(), &env, &["inspect", "--plain-http", &at]).ok().stdout_has("tiny");
    assert!(origin.requests().is_empty());
    let suite2 = small_suite(&tmp.path().join("two"));
    run_env(tmp.path(), &env, &["push", "-q", "--plain-http", suite2.to_str().unwrap(), &origin.at("zoo/mirrored:2")])
        .ok();
    assert!(
        !mirror.requests().iter().any(|r| r.starts_with("PUT") || r.starts_with("POST")),
        "a write went to the mirror"
    );
    // A tag the mirror does not have (404): skipped, the origin answers.
    run_env(tmp.path(), &env, &["pull", "--plain-http", &origin.at("zoo/mirrored:2"), "-o", "second"])
        .ok()
        .stderr_has(&format!("mirror {mirror_host} skipped"));
    assert!(record(&tmp.path().join("second"))["mirror"].is_null());
}

#[test]
fn hosts_toml_and_the_mirror_flag_configure_mirrors_too() {
    let tmp = scratch();
    let (origin, mirror, _) = origin_and_mirror(tmp.path());
    let host = origin.at("").trim_end_matches('/').to_string();
    let mirror_host = mirror.at("").trim_end_matches('/').to_string();
    let certs = tmp.path().join("certs.d");
    std::fs::create_dir_all(certs.join(&host)).unwrap();
    std::fs::write(
        certs.join(&host).join("hosts.toml"),
        format!(
            "server = \"http://{host}\"\n\n[host.\"http://{mirror_host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n"
        ),
    )
    .unwrap();
    let at = origin.at("zoo/mirrored:1");
    run_in(tmp.path(), &["pull", "--plain-http", "--certs-dir", certs.to_str().unwrap(), &at, "-o", "by-hosts"]).ok();
    assert!(origin.requests().is_empty(), "{:#?}", origin.requests());
    assert_eq!(record(&tmp.path().join("by-hosts"))["mirror"], mirror_host.as_str());
    // --mirror, for one command.
    run_in(tmp.path(), &["pull", "--plain-http", "--mirror", &mirror_host, &at, "-o", "by-flag"]).ok();
    assert!(origin.requests().is_empty(), "{:#?}", origin.requests());
    assert_eq!(record(&tmp.path().join("by-flag"))["mirror"], mirror_host.as_str());
}

#[test]
fn a_mirror_serving_other_bytes_is_an_integrity_error_for_it_and_the_next_is_tried() {
    let tmp = scratch();
    let (origin, mirror, suite) = origin_and_mirror(tmp.path());
    // The mirror's copy of the manifest changed in its storage, same length.
    let tampered = mirror.tamper_in_storage(|bytes| {
        let text = String::from_utf8_lossy(bytes);
        (text.contains("\"schemaVersion\"") && text.contains("A tiny suite for tests"))
            .then(|| text.replace("A tiny suite for tests", "A tiny suite for pests").into_bytes())
    });
    assert_eq!(tampered, 1);
    let mirror_host = mirror.at("").trim_end_matches('/').to_string();
    let at = origin.at("zoo/mirrored:1");
    run_in(tmp.path(), &["pull", "--plain-http", "--mirror", &mirror_host, &at, "-o", "out"])
        .ok()
        .stderr_has(&format!("mirror {mirror_host} skipped"))
        .stderr_has("the registry says the manifest is");
    assert!(record(&tmp.path().join("out"))["mirror"].is_null(), "the origin served it");
    assert_eq!(
        std::fs::read(tmp.path().join("out/models/model.safetensors")).unwrap(),
        std::fs::read(suite.join("models/model.safetensors")).unwrap()
    );
}

#[test]
fn a_mirror_sending_other_bytes_for_a_blob_is_skipped_for_it_and_the_origin_sends_it() {
    let tmp = scratch();
    let (origin, mirror, suite) = origin_and_mirror(tmp.path());
    let weights = std::fs::read(suite.join("models/model.safetensors")).unwrap();
    // The mirror's copy of the safetensors layer (a raw layer: the file's bytes) changed in its
    // storage, same length.
    // So did the test set's tar layer, extracted as it streams in: a value in sample-3.csv.
    let tampered = mirror.tamper_in_storage(|bytes| {
        let tar = bytes.len() > 512 && &bytes[257..262] == b"ustar";
        let sample = bytes.windows(7).position(|w| w == b"a,b\n3,6");
        if bytes == weights.as_slice() {
            let mut changed = bytes.to_vec();
            let last = changed.len() - 1;
            changed[last] ^= 0xff;
            Some(changed)
        } else if let (true, Some(at)) = (tar, sample) {
            let mut changed = bytes.to_vec();
            changed[at + 6] = b'7';
            Some(changed)
        } else {
            None
        }
    });
    assert_eq!(tampered, 2);
    let mirror_host = mirror.at("").trim_end_matches('/').to_string();
    let at = origin.at("zoo/mirrored:1");
    let run = run_in(tmp.path(), &["pull", "--plain-http", "--mirror", &mirror_host, &at, "-o", "out"]);
    run.ok().stderr_has(&format!("mirror {mirror_host} skipped for blob sha256:")).stderr_has("other bytes");
    assert_eq!(std::fs::read(tmp.path().join("out/models/model.safetensors")).unwrap(), weights);
    assert_same_tree(&suite, &tmp.path().join("out"));
    assert_eq!(run.stderr.matches("skipped for blob").count(), 2, "a line each: {}", run.stderr);
    // The mirror served the manifest and every other layer; the origin those two blobs.
    assert_eq!(record(&tmp.path().join("out"))["mirror"], mirror_host.as_str());
    let from_origin: Vec<String> = origin.requests().into_iter().filter(|r| r.contains("/blobs/")).collect();
    assert_eq!(from_origin.len(), 2, "{from_origin:#?}");
    assert!(origin.requests().iter().all(|r| !r.contains("/manifests/")), "{:#?}", origin.requests());
}
