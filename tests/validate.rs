//! `validate` (issue 24): a real validate script, run under bubblewrap, its metrics compared with
//! the suite's claims; an honest claim reproduced, an inflated one refused, and each escape a
//! stranger's script might try contained, each shown to work without the sandbox so that the
//! containment, not the script, is what the test sees.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::registry::Registry;
use crate::util::*;

/// A validate script of the standard library only: the share of test rows whose `a` is under
/// 3 (0.6 on the small suite's five rows), after `escape` (code that must not succeed; it exits
/// 42 when it does).
fn script(escape: &str) -> String {
    format!(
        r#"import csv, glob, json, os, sys
{escape}
data, model = os.environ["ZOO_OCI_DATA"], os.environ["ZOO_OCI_MODEL"]
assert os.path.exists(model), model
rows = []
for name in sorted(glob.glob(os.path.join(data, "*.csv"))):
    with open(name, newline="") as f:
        rows += list(csv.DictReader(f))
accuracy = sum(1 for r in rows if int(r["a"]) < 3) / len(rows)
with open(os.environ["ZOO_OCI_METRICS"], "w") as f:
    json.dump({{"accuracy": accuracy, "rows": len(rows)}}, f)
print("measured", accuracy)
"#
    )
}

/// The small suite with `escape` in its validate script, claiming `claimed` accuracy.
fn suite(root: &Path, escape: &str, claimed: &str) -> PathBuf {
    let dir = small_suite(root);
    write(&dir, "scripts/validate.py", script(escape), true);
    let yaml = fs::read_to_string(dir.join("zoo.yaml")).unwrap();
    fs::write(
        dir.join("zoo.yaml"),
        yaml.replace("{type: accuracy, value: 0.5}", &format!("{{type: accuracy, value: {claimed}}}")),
    )
    .unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn report(run: &Run) -> serde_json::Value {
    serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

/// A folder outside `/tmp` (the sandbox hides `/tmp` anyway; a secret there would prove nothing).
fn outside_tmp(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(name).tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

#[test]
fn an_honest_claim_is_reproduced_and_an_inflated_one_is_refused() {
    require_tool("bwrap");
    let tmp = scratch();
    let honest = suite(tmp.path(), "", "0.6");
    let run = run_in(tmp.path(), &["validate", path(&honest)]);
    run.ok().stdout_has("accuracy").stdout_has("reproduced").stdout_has("sandboxed");
    let json = report(&run_in(tmp.path(), &["validate", "--format", "json", path(&honest)]));
    assert_eq!(json["verdict"], "reproduced");
    assert_eq!(json["metrics"][0]["measured"], 0.6);
    assert_eq!(json["metrics"][0]["tolerance"], 0.05, "half a unit in the claim's last decimal");
    assert_eq!(json["metrics"][1]["type"], "rows", "a metric nobody claimed is listed");
    assert!(json["metrics"][1]["passed"].is_null());
    assert_eq!(json["dataset_files"].as_object().map(|o| o.len()), Some(5), "the test set's files, hashed");
    assert!(json["harness"]["script_digest"].as_str().unwrap().starts_with("sha256:"));
    // A virtualenv under a home folder the sandbox hides (the test tools' own) still runs.
    let venv_python = crate::util::registry::oras_python();
    run_in(tmp.path(), &["validate", "--python", path(&venv_python), path(&honest)]).ok().stdout_has("reproduced");
    // Inflated: exit 1, naming the metric and both values.
    let tmp = scratch();
    let inflated = suite(tmp.path(), "", "0.9");
    run_in(tmp.path(), &["validate", path(&inflated)])
        .code(1)
        .stdout_has("NOT reproduced")
        .stderr_has("accuracy: claimed 0.9, measured 0.6");
    // An explicit tolerance wide enough accepts it.
    let yaml = fs::read_to_string(inflated.join("zoo.yaml")).unwrap();
    fs::write(inflated.join("zoo.yaml"), yaml.replace("value: 0.9}", "value: 0.9, tolerance: 0.35}")).unwrap();
    run_in(tmp.path(), &["validate", path(&inflated)]).ok();
}

#[test]
fn nothing_to_check_and_a_failing_script_have_their_own_exit_codes() {
    require_tool("bwrap");
    let tmp = scratch();
    let dir = suite(tmp.path(), "", "0.6");
    let yaml = fs::read_to_string(dir.join("zoo.yaml")).unwrap();
    // No claim on the test set: 2, saying so; nothing runs.
    fs::write(dir.join("zoo.yaml"), yaml.replace("dataset: {name: tiny-test", "dataset: {name: another")).unwrap();
    run_in(tmp.path(), &["validate", path(&dir)]).code(2).stderr_has("no result claims a metric on the test dataset");
    fs::write(dir.join("zoo.yaml"), &yaml).unwrap();
    // A script that fails: 6, with its last output.
    write(
        &dir,
        "scripts/validate.py",
        "import sys\nprint('cannot load the model', file=sys.stderr)\nsys.exit(3)\n",
        true,
    );
    run_in(tmp.path(), &["validate", path(&dir)])
        .code(6)
        .stderr_has("exited with status 3")
        .stderr_has("cannot load the model");
    // One that writes no metrics, or not numbers: 6 too, saying what is wrong.
    write(&dir, "scripts/validate.py", "print('done')\n", true);
    run_in(tmp.path(), &["validate", path(&dir)]).code(6).stderr_has("wrote no metrics");
    let bad = "import json, os\njson.dump({'accuracy': 'high'}, open(os.environ['ZOO_OCI_METRICS'], 'w'))\n";
    write(&dir, "scripts/validate.py", bad, true);
    run_in(tmp.path(), &["validate", path(&dir)]).code(6).stderr_has("\"accuracy\" is not a number");
}

#[test]
fn the_network_is_out_of_reach() {
    require_tool("bwrap");
    let reg = Registry::plain();
    let port = reg.at("").trim_end_matches('/').rsplit(':').next().unwrap().to_string();
    let escape = format!(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\nexcept OSError:\n    pass\nelse:\n    sys.exit(42)"
    );
    let tmp = scratch();
    let dir = suite(tmp.path(), &escape, "0.6");
    run_in(tmp.path(), &["validate", path(&dir)]).ok();
    // Unsandboxed, the same script reaches the registry: the test can tell.
    run_in(tmp.path(), &["validate", "--unsandboxed", path(&dir)]).code(6).stderr_has("exited with status 42");
}

#[test]
fn credentials_and_files_outside_are_neither_readable_nor_writable() {
    require_tool("bwrap");
    let home = outside_tmp("home-");
    write(home.path(), ".docker/config.json", r#"{"auths":{"r.example":{"auth":"c2VjcmV0"}}}"#, false);
    let docker = outside_tmp("docker-");
    write(docker.path(), "config.json", r#"{"auths":{"r.example":{"auth":"c2VjcmV0"}}}"#, false);
    let elsewhere = outside_tmp("elsewhere-");
    let escape = format!(
        r#"for secret in ({:?}, {:?}):
    try:
        open(secret).read()
    except OSError:
        pass
    else:
        sys.exit(42)
for target in (os.path.join(os.environ["ZOO_OCI_MODEL"], "planted"), {:?}):
    try:
        open(target, "w").write("x")
    except OSError:
        pass
    else:
        sys.exit(43)
assert not os.path.exists(os.path.expanduser("~/.docker/config.json"))
assert open(os.path.join(os.environ["TMPDIR"], "scratch"), "w").write("ok") == 2"#,
        home.path().join(".docker/config.json"),
        docker.path().join("config.json"),
        elsewhere.path().join("planted"),
    );
    let tmp = scratch();
    let dir = suite(tmp.path(), &escape, "0.6");
    let env = [("HOME", path(home.path())), ("DOCKER_CONFIG", path(docker.path()))];
    run_env(tmp.path(), &env, &["validate", path(&dir)]).ok();
    assert!(!dir.join("models/onnx/planted").exists() && !elsewhere.path().join("planted").exists());
    // Unsandboxed, the same script reads the credentials; and, once it may not read them, writes.
    run_env(tmp.path(), &env, &["validate", "--unsandboxed", path(&dir)]).code(6).stderr_has("exited with status 42");
    fs::remove_file(home.path().join(".docker/config.json")).unwrap();
    fs::remove_file(docker.path().join("config.json")).unwrap();
    run_env(tmp.path(), &env, &["validate", "--unsandboxed", path(&dir)]).code(6).stderr_has("exited with status 43");
    assert!(elsewhere.path().join("planted").exists() || dir.join("models/onnx/planted").exists());
}

#[test]
fn a_script_that_never_ends_is_killed_with_every_process_it_started() {
    require_tool("bwrap");
    let marker = format!("zoo-oci-runaway-{}", std::process::id());
    let escape = format!(
        r#"import subprocess, time
subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)", {marker:?}], start_new_session=True)
time.sleep(600)"#
    );
    let tmp = scratch();
    let dir = suite(tmp.path(), &escape, "0.6");
    let started = std::time::Instant::now();
    run_in(tmp.path(), &["validate", "--time-limit", "2s", path(&dir)]).code(7).stderr_has("timed out after 2s");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // No process of the sandbox is left, the setsid grandchild that ignores SIGTERM included.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let left: Vec<String> = fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.contains(&marker) && !c.contains("validate"))
            .collect();
        if left.is_empty() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "left running: {left:?}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn memory_past_the_limit_fails_the_script_not_the_machine() {
    require_tool("bwrap");
    let tmp = scratch();
    let dir = suite(tmp.path(), "hog = bytearray(1 << 30)", "0.6");
    run_in(tmp.path(), &["validate", "--memory-limit", "256MiB", path(&dir)]).code(6).stderr_has("MemoryError");
    run_in(tmp.path(), &["validate", "--memory-limit", "4GiB", path(&dir)]).ok();
}

#[test]
fn without_bubblewrap_validate_refuses_and_names_the_package() {
    let tmp = scratch();
    let dir = suite(tmp.path(), "", "0.6");
    let python = crate::util::which("python3");
    run_env(tmp.path(), &[("PATH", "/nonexistent")], &["validate", "--python", path(&python), path(&dir)])
        .code(2)
        .stderr_has("apt-get install bubblewrap")
        .stderr_has("--unsandboxed");
}

#[test]
fn a_suite_in_a_registry_is_validated_from_what_it_needs() {
    require_tool("bwrap");
    let reg = Registry::plain();
    let tmp = scratch();
    let dir = suite(tmp.path(), "", "0.6");
    let at = reg.at("zoo/validated:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&dir), &at]).ok();
    reg.clear_requests();
    let json = report(&run_in(tmp.path(), &["validate", "--plain-http", "--format", "json", &at]));
    assert_eq!(json["verdict"], "reproduced", "{json}");
    assert!(json["manifest"].as_str().unwrap().starts_with("sha256:"));
    // The chosen variant, the scripts and the test set came down; not the notebook or the docs.
    let gets = reg.requests().iter().filter(|r| r.starts_with("GET") && r.contains("/blobs/sha256")).count();
    assert!((3..=5).contains(&gets), "{:#?}", reg.requests());
}

/// Verifies a DSSE envelope with PyPI's securesystemslib (made by scripts/setup.sh), against
/// the public key PEM, whose sha256 must be the signature's keyid; prints the payload.
const SSLIB_VERIFY: &str = r#"
import hashlib, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
envelope_path, pem_path = sys.argv[1:3]
pem = open(pem_path, "rb").read()
key = SSlibKey.from_crypto(load_pem_public_key(pem), keyid=hashlib.sha256(pem).hexdigest())
envelope = Envelope.from_dict(json.load(open(envelope_path)))
assert envelope.payload_type == "application/vnd.in-toto+json", envelope.payload_type
envelope.verify([key], 1)
print(envelope.payload.decode())
"#;

fn securesystemslib_python() -> PathBuf {
    crate::util::registry::setup_tool(
        "venv-securesystemslib/bin/python",
        &["-c", "import securesystemslib.dsse"],
        "securesystemslib",
    )
}

#[test]
fn attach_publishes_a_signed_attestation_that_securesystemslib_verifies_and_inspect_shows() {
    require_tool("bwrap");
    let tmp = scratch();
    let dir = suite(tmp.path(), "", "0.6");
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    // A folder has nowhere to publish to.
    run_in(tmp.path(), &["validate", path(&dir), "--attach", "--key", path(&key)]).code(2).stderr_has("--attach");
    let zoo = tmp.path().join("zoo");
    let at = format!("oci:{}:1", zoo.display());
    run_in(tmp.path(), &["push", "-q", path(&dir), &at]).ok();
    let json = report(&run_in(tmp.path(), &["validate", "--format", "json", &at, "--attach", "--key", path(&key)]));
    let attestation = json["attestation"].as_str().unwrap().to_string();
    // The referrer in index.json, then its one layer: the envelope.
    let blob = |digest: &str| zoo.join("blobs/sha256").join(digest.trim_start_matches("sha256:"));
    let manifest: serde_json::Value = serde_json::from_slice(&fs::read(blob(&attestation)).unwrap()).unwrap();
    assert_eq!(manifest["artifactType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(manifest["subject"]["digest"], json["manifest"]);
    let envelope = blob(manifest["layers"][0]["digest"].as_str().unwrap());
    let checked = std::process::Command::new(securesystemslib_python())
        .args(["-c", SSLIB_VERIFY, path(&envelope), path(&public)])
        .output()
        .unwrap();
    assert!(checked.status.success(), "securesystemslib refused it: {}", String::from_utf8_lossy(&checked.stderr));
    let statement: serde_json::Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://in-toto.io/attestation/test-result/v0.1");
    let manifest_hex = json["manifest"].as_str().unwrap().trim_start_matches("sha256:");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], manifest_hex);
    let predicate = &statement["predicate"];
    assert_eq!(predicate["result"], "PASSED");
    assert_eq!(predicate["passedTests"], serde_json::json!(["accuracy"]));
    assert_eq!(predicate["metrics"][0]["measured"], 0.6);
    assert_eq!(predicate["metrics"][0]["passed"], true);
    assert_eq!(predicate["harness"]["scriptDigest"], json["harness"]["script_digest"]);
    assert_eq!(predicate["dataset"]["files"].as_object().map(|f| f.len()), Some(5));
    // Another key: securesystemslib refuses it.
    let (_, other_public) = key_pair(tmp.path(), "other", "prime256v1");
    let refused = std::process::Command::new(securesystemslib_python())
        .args(["-c", SSLIB_VERIFY, path(&envelope), path(&other_public)])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "securesystemslib accepted another key");
    // inspect shows the metric as reproduced, with date and signer; its JSON carries it too.
    run_in(tmp.path(), &["inspect", &at]).ok().stdout_has("Validated").stdout_has("reproduced (");
    let inspected: serde_json::Value =
        serde_json::from_str(&run_in(tmp.path(), &["inspect", "--format", "json", &at]).ok().stdout).unwrap();
    let metric = &inspected["validations"][0]["metrics"][0];
    assert_eq!((metric["measured"].as_f64(), metric["passed"].as_bool()), (Some(0.6), Some(true)));
    // index of the layout marks it reproduced.
    run_in(tmp.path(), &["index", &format!("oci:{}", zoo.display())]).ok().stdout_has("accuracy 0.6 ✓");
}

#[test]
fn attach_to_a_registry_without_the_referrers_api_goes_under_the_tag_schema() {
    require_tool("bwrap");
    let reg = Registry::plain();
    let tmp = scratch();
    let dir = suite(tmp.path(), "", "0.9");
    let (key, _) = key_pair(tmp.path(), "key", "prime256v1");
    let at = reg.at("zoo/attested:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&dir), &at]).ok();
    // Not reproduced is an outcome too: published, exit 1.
    run_in(tmp.path(), &["validate", "--plain-http", &at, "--attach", "--key", path(&key)])
        .code(1)
        .stdout_has("attached the outcome");
    let tags = run_in(tmp.path(), &["tags", "--plain-http", &reg.at("zoo/attested")]).ok().stdout.clone();
    assert!(tags.contains("sha256-"), "the referrers tag schema: {tags}");
    run_in(tmp.path(), &["inspect", "--plain-http", &at]).ok().stdout_has("NOT reproduced (claimed 0.9)");
    // index marks the metric with what the validation measured, and lists no referrers tag.
    let index: serde_json::Value = serde_json::from_str(
        &run_in(tmp.path(), &["index", "--plain-http", "--format", "json", &reg.at("zoo")]).ok().stdout,
    )
    .unwrap();
    let metric = &index["suites"][0]["metrics"][0];
    assert_eq!(metric["reproduced"]["passed"], false, "{index}");
    assert_eq!(metric["reproduced"]["measured"], 0.6);
    assert_eq!(index["skipped"].as_array().map(|s| s.len()), Some(0), "the sha256- tag is not a suite: {index}");
    run_in(tmp.path(), &["index", "--plain-http", &reg.at("zoo")]).ok().stdout_has("accuracy 0.9 ✗");
    let html = tmp.path().join("zoo.html");
    run_in(tmp.path(), &["index", "--plain-http", "--format", "html", "-o", path(&html), &reg.at("zoo")]).ok();
    assert!(fs::read_to_string(&html).unwrap().contains("not reproduced 20"), "the catalogue marks it");
}

#[test]
fn init_writes_a_validate_skeleton_that_says_what_to_fill_in() {
    require_tool("bwrap");
    let tmp = scratch();
    let dir = tmp.path().join("fresh");
    write(&dir, "model.safetensors", safetensors_model(&pseudo_random(4_000, 5)), false);
    write(&dir, "data/test/rows.csv", "a,b\n1,2\n", false);
    run_in(tmp.path(), &["init", path(&dir)]).ok().stderr_has("scripts/validate.py: a skeleton");
    let skeleton = fs::read_to_string(dir.join("scripts/validate.py")).unwrap();
    for contract in ["ZOO_OCI_MODEL", "ZOO_OCI_DATA", "ZOO_OCI_METRICS", "TMPDIR"] {
        assert!(skeleton.contains(contract), "the skeleton documents {contract}");
    }
    let yaml = fs::read_to_string(dir.join("zoo.yaml")).unwrap();
    assert!(yaml.contains("validate: scripts/validate.py"), "{yaml}");
    // Claimed, not yet written: the script fails, saying what to do.
    let claim = "results:\n  - dataset: {name: test, split: test}\n    metrics: [{type: accuracy, value: 0.9}]\n";
    fs::write(dir.join("zoo.yaml"), format!("{yaml}{claim}")).unwrap();
    run_in(tmp.path(), &["validate", path(&dir)])
        .code(6)
        .stderr_has("NotImplementedError")
        .stderr_has("make measure()");
    // A folder that already has a validate script gets none.
    let tmp = scratch();
    let dir = tmp.path().join("scripted");
    write(&dir, "model.safetensors", safetensors_model(&pseudo_random(4_000, 5)), false);
    write(&dir, "data/test/rows.csv", "a,b\n1,2\n", false);
    write(&dir, "eval.py", "print(1)\n", false);
    run_in(tmp.path(), &["init", path(&dir)]).ok();
    assert!(!dir.join("scripts/validate.py").exists());
}
