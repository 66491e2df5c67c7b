//! Issue 22, points 1, 2, 3 and 8: credentials go only to the registry's own origin, offline
//! means no request at all, the shared cache stands in only for a registry that cannot be
//! reached, `login --docker-config FILE` writes FILE, and the digest cache is its user's own.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::util::proxy::{Fault, FaultProxy};
use crate::util::registry::{PASSWORD, Registry, USER};
use crate::util::*;

/// `zoo-oci ARGS` with a cache of the test's own (and a Docker config folder of its own, so no
/// user's credentials are read).
fn zoo(root: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let cache = root.join("cache");
    let docker = root.join("docker-config");
    fs::create_dir_all(&docker).unwrap();
    let mut all = vec![("ZOO_OCI_CACHE", cache.to_str().unwrap()), ("DOCKER_CONFIG", docker.to_str().unwrap())];
    all.extend_from_slice(env);
    run_env(root, &all, args)
}

fn zoo_stdin(root: &Path, env: &[(&str, &str)], input: &str, args: &[&str]) -> Run {
    use std::io::Write as _;
    let docker = root.join("docker-config");
    fs::create_dir_all(&docker).unwrap();
    let mut child = crate::util::zoo()
        .current_dir(root)
        .env("ZOO_OCI_CACHE", root.join("cache"))
        .env("DOCKER_CONFIG", &docker)
        .envs(env.iter().copied())
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    Run::from(child.wait_with_output().unwrap())
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Point 1: a registry that hands out upload `Location`s on another origin (S3, a CDN) gets its
/// token; the other origin gets the uploads but never an `Authorization` header.
#[test]
fn credentials_never_follow_an_upload_location_to_another_origin() {
    let reg = Registry::plain();
    let elsewhere = FaultProxy::start(&reg.addr, Fault::Witness);
    let other: &'static str = Box::leak(elsewhere.addr.clone().into_boxed_str());
    let front = FaultProxy::start(&reg.addr, Fault::ForeignUploads(USER, PASSWORD, other));
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = front.at("zoo/tiny:1");
    let creds = [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD)];
    zoo(tmp.path(), &creds, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    let out = tmp.path().join("out");
    zoo(tmp.path(), &creds, &["pull", "-q", "--plain-http", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
    assert!(front.log().iter().any(|l| l == "TOKEN granted"), "the registry gave its token: {:?}", front.log());
    let there = elsewhere.log();
    assert!(
        there.iter().any(|l| l.starts_with("PUT ") && l.contains("/blobs/uploads/")),
        "the uploads went to the other origin: {there:?}"
    );
    let leaked: Vec<_> = there.iter().filter(|l| l.starts_with("AUTHORIZATION ")).collect();
    assert!(leaked.is_empty(), "the other origin was sent credentials: {leaked:?}");
}

/// Point 1: blob downloads a registry redirects to another origin (a CDN) are followed without
/// its credentials (reqwest drops `Authorization` on such a redirect; this pins it).
#[test]
fn credentials_never_follow_a_download_redirect_to_another_origin() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    zoo(tmp.path(), &[], &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny:1")]).ok();
    let cdn = FaultProxy::start(&reg.addr, Fault::Witness);
    let other: &'static str = Box::leak(cdn.addr.clone().into_boxed_str());
    let front = FaultProxy::start(&reg.addr, Fault::RedirectBlobs(USER, PASSWORD, other));
    let creds = [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD)];
    let out = tmp.path().join("out");
    zoo(tmp.path(), &creds, &["pull", "-q", "--plain-http", &front.at("zoo/tiny:1"), "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
    assert!(front.log().iter().any(|l| l.starts_with("REDIRECT ")), "{:?}", front.log());
    let there = cdn.log();
    assert!(there.iter().any(|l| l.starts_with("GET ") && l.contains("/blobs/sha256:")), "{there:?}");
    let leaked: Vec<_> = there.iter().filter(|l| l.starts_with("AUTHORIZATION ")).collect();
    assert!(leaked.is_empty(), "the other origin was sent credentials: {leaked:?}");
}

/// Point 2: offline, every command answers from the cache or fails at once saying it is
/// offline; the registry's log stays empty.
#[test]
fn offline_every_command_answers_from_the_cache_or_fails_at_once_and_the_registry_hears_nothing() {
    let reg = Registry::plain();
    let tmp = scratch();
    let root = tmp.path();
    let suite = small_suite(root);
    let at = reg.at("zoo/tiny:1.0");
    let repo = reg.at("zoo/tiny");
    zoo(root, &[], &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    zoo(root, &[], &["pull", "-q", "--cache", "--plain-http", &at]).ok();
    reg.clear_requests();

    let offline = [("ZOO_OCI_OFFLINE", "1")];
    let answers = |args: &[&str]| {
        let run = zoo(root, &offline, args);
        run.ok();
        run.stdout
    };
    answers(&["pull", "-q", "--cache", "--plain-http", &at]);
    assert!(answers(&["inspect", "--plain-http", &at]).contains("tiny"));
    let diff: Value = serde_json::from_str(&answers(&["diff", "--plain-http", "--format", "json", &at, &at])).unwrap();
    assert_eq!(diff["identical"], true);
    assert!(answers(&["tags", "--plain-http", &repo]).lines().any(|l| l.trim() == "1.0"), "the cached tag");
    assert!(answers(&["index", "--plain-http", &at, "--format", "json"]).contains("\"tiny\""));

    let copy = root.join("copy");
    let into_copy = format!("oci:{}", copy.display());
    let later = reg.at("zoo/tiny:2.0");
    let login = ["login", "--plain-http", &reg.addr, "-u", USER, "--password-stdin"];
    let refused: Vec<Vec<&str>> = vec![
        vec!["index", "--plain-http", &reg.addr],
        vec!["copy", "--from-plain-http", &at, &into_copy],
        vec!["push", "-q", "--plain-http", suite.to_str().unwrap(), &later],
        vec!["tag", "--plain-http", &at, "1.1"],
        vec!["rm", "--plain-http", &at],
    ];
    for args in &refused {
        let run = zoo(root, &offline, args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        run.stderr_has("offline (ZOO_OCI_OFFLINE)");
    }
    let run = zoo_stdin(root, &offline, "x", &login);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("offline (ZOO_OCI_OFFLINE)"), "{}", run.stderr);
    assert!(!copy.exists(), "a refused copy creates nothing");
    assert_eq!(reg.requests(), Vec::<String>::new(), "offline, the registry was asked");
}

/// Point 3: a registry that answers nothing (a stall: its connections open, then stay silent)
/// is not stood in for by the cache, whose tag may be stale; one that refuses connections is.
#[test]
fn a_stalled_registry_is_not_stood_in_for_by_the_cache_but_a_stopped_one_is() {
    let mut reg = Registry::plain();
    let tmp = scratch();
    let root = tmp.path();
    let suite = small_suite(root);
    let at = reg.at("zoo/tiny:1.0");
    zoo(root, &[], &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    zoo(root, &[], &["pull", "-q", "--cache", "--plain-http", &at, "--only", "model"]).ok();

    reg.pause();
    let stalled = zoo(root, &[], &["pull", "--cache", "--plain-http", "--timeout", "1s", &at, "--only", "model"]);
    reg.resume();
    stalled.code(1);
    assert!(!stalled.stderr.contains("could not be reached"), "the cache stood in for a stall:\n{}", stalled.stderr);

    reg.stop();
    let stopped = zoo(root, &[], &["pull", "--cache", "--plain-http", &at, "--only", "model"]);
    stopped.ok().stderr_has("could not be reached");
}

/// Point 8: `login --docker-config FILE` writes FILE (0600), which `--docker-config FILE` then
/// reads; the usual config is left alone.
#[test]
fn login_with_docker_config_writes_that_file_and_not_the_usual_one() {
    let reg = Registry::tls_auth();
    let tmp = scratch();
    let root = tmp.path();
    let ca = reg.ca_arg();
    let file = root.join("ci/config.json");
    let file_arg = file.to_str().unwrap();
    let login = ["login", &reg.addr, "-u", USER, "--password-stdin", "--ca-file", &ca, "--docker-config", file_arg];
    zoo_stdin(root, &[], PASSWORD, &login).ok().stderr_has(file_arg);
    assert_eq!(mode(&file), 0o600);
    let v: Value = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    assert!(v["auths"][&reg.addr]["auth"].is_string(), "{v}");
    assert!(!root.join("docker-config/config.json").exists(), "the usual Docker config was written");
    let suite = small_suite(root);
    let at = reg.at("zoo/tiny:1");
    zoo(root, &[], &["push", "-q", "--ca-file", &ca, "--docker-config", file_arg, suite.to_str().unwrap(), &at]).ok();
    zoo(root, &[], &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &at]).code(3);
}

/// Point 8: the digest cache is private (0700, entries 0600); one that others may write is not
/// read, so an entry planted there cannot make a push publish what the files are not.
#[test]
fn the_digest_cache_is_private_and_one_others_may_write_is_not_believed() {
    let tmp = scratch();
    let root = tmp.path();
    let suite = small_suite(root);
    let first = root.join("first");
    zoo(root, &[], &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", first.display())]).ok();
    let digests = root.join("cache/digests");
    assert_eq!(mode(&digests), 0o700);
    let entries: Vec<_> = fs::read_dir(&digests).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!entries.is_empty());
    for entry in &entries {
        assert_eq!(mode(entry), 0o600, "{}", entry.display());
        // Another digest, well formed: believed, it would publish or fail on a layer the files
        // are not.
        let mut known: Value = serde_json::from_slice(&fs::read(entry).unwrap()).unwrap();
        known["digest"] = Value::from(format!("sha256:{}", "0".repeat(64)));
        fs::write(entry, serde_json::to_vec(&known).unwrap()).unwrap();
    }
    fs::set_permissions(&digests, fs::Permissions::from_mode(0o777)).unwrap();
    let second = root.join("second");
    zoo(root, &[], &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", second.display())]).ok();
    assert_eq!(manifest(&second, "1")["layers"], manifest(&first, "1")["layers"]);
    assert_eq!(mode(&digests), 0o777, "a folder others may write is left alone");
    for entry in &entries {
        let known: Value = serde_json::from_slice(&fs::read(entry).unwrap()).unwrap();
        assert_eq!(known["digest"], format!("sha256:{}", "0".repeat(64)), "nothing is written there either");
    }
}
