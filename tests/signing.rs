//! `sign` and `verify` (issue 23, first step): an OpenSSF Model Signing signature made from the
//! manifest's record, stored as a referrer, in a layout and in a real Distribution 2.8 (no
//! referrers API: the referrers tag schema), checked with the right key, another key, no
//! signature, and a signature tampered with in the registry's own storage.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::registry::{Registry, model_signing};
use crate::util::*;

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `model_signing verify key FOLDER` with the `model.sig` a verified pull wrote, run in `cwd`.
fn model_signing_verify(cwd: &Path, folder: &str, public: &Path) -> std::process::Output {
    let signature = format!("{folder}/model.sig");
    let record = format!("{folder}/.zoo-oci.json");
    Command::new(model_signing())
        .current_dir(cwd)
        .args(["verify", "key", folder, "--signature", &signature, "--public_key", path(public)])
        .args(["--ignore-paths", &record])
        .output()
        .unwrap()
}

#[test]
fn a_suite_in_a_layout_signed_with_a_key_verifies_with_its_public_key_only() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "p256", "prime256v1");
    let (_, other) = key_pair(tmp.path(), "p384", "secp384r1");
    let zoo = format!("oci:{}:1", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", path(&suite), &zoo]).ok();
    run_in(tmp.path(), &["verify", &zoo, "--key", path(&public)]).code(4).stderr_has("has no signature");
    run_in(tmp.path(), &["sign", &zoo, "--key", path(&key)]).ok().stderr_has("signed sha256:");
    run_in(tmp.path(), &["verify", &zoo, "--key", path(&public)]).ok().stderr_has("verified sha256:");
    let inspected: serde_json::Value =
        serde_json::from_str(&run_in(tmp.path(), &["inspect", "--format", "json", &zoo]).ok().stdout).unwrap();
    assert_eq!(inspected["signatures"].as_array().map(|s| s.len()), Some(1), "inspect lists the signature");
    run_in(tmp.path(), &["inspect", &zoo]).ok().stdout_has("signatures");
    run_in(tmp.path(), &["verify", &zoo, "--key", path(&other)]).code(5).stderr_has("not signed by this key");
    // copy -r carries the signature along; a plain copy does not.
    let carried = format!("oci:{}:1", tmp.path().join("carried").display());
    let bare = format!("oci:{}:1", tmp.path().join("bare").display());
    run_in(tmp.path(), &["copy", "-r", &zoo, &carried]).ok();
    run_in(tmp.path(), &["verify", &carried, "--key", path(&public)]).ok();
    run_in(tmp.path(), &["copy", &zoo, &bare]).ok();
    run_in(tmp.path(), &["verify", &bare, "--key", path(&public)]).code(4);
    // The signature is a referrer in index.json, untagged, of the bundle's artifact type.
    let index = index_json(&tmp.path().join("zoo"));
    let bundles: Vec<_> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json")
        .collect();
    assert_eq!(bundles.len(), 1, "{index}");
    assert!(bundles[0]["annotations"]["org.opencontainers.image.ref.name"].is_null(), "not tagged");
    // The same tag moved to other content: the signature covers the old manifest only.
    write(&suite, "scripts/infer.py", "print('changed')\n", false);
    run_in(tmp.path(), &["push", "-q", "--force", path(&suite), &zoo]).ok();
    run_in(tmp.path(), &["verify", &zoo, "--key", path(&public)]).code(4);
    // A key that is no key, and a private key given to verify, are usage errors.
    fs::write(tmp.path().join("junk.pem"), "not a key").unwrap();
    run_in(tmp.path(), &["sign", &zoo, "--key", path(&tmp.path().join("junk.pem"))]).code(2);
    run_in(tmp.path(), &["verify", &zoo, "--key", path(&key)]).code(2).stderr_has("private key, not a public one");
}

#[test]
fn a_suite_in_a_registry_is_signed_without_downloading_a_layer_and_a_tampered_signature_is_refused() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    let at = reg.at("zoo/signed:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &at]).ok();
    let before = reg.requests().len();
    run_in(tmp.path(), &["sign", "--plain-http", &at, "--key", path(&key)]).ok();
    let signing: Vec<String> = reg.requests()[before..].to_vec();
    assert!(
        !signing.iter().any(|r| r.starts_with("GET") && r.contains("/blobs/")),
        "sign downloaded a blob: {signing:#?}"
    );
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).ok();
    // Distribution 2.8 has no referrers API: the signature is listed under the subject's tag.
    let tags = run_in(tmp.path(), &["tags", "--plain-http", &reg.at("zoo/signed")]);
    assert!(tags.stdout.contains("sha256-"), "the referrers tag schema: {}", tags.stdout);
    // Tampered in the registry's storage: the bundle's bytes are no longer their digest.
    let tampered = reg.tamper_in_storage(|bytes| {
        bytes.windows(18).any(|w| w == b"\"dsseEnvelope\":{\"p").then(|| {
            String::from_utf8(bytes.to_vec()).unwrap().replacen("\"keyid\":\"\"", "\"keyid\":\"x\"", 1).into_bytes()
        })
    });
    assert_eq!(tampered, 1, "one bundle in the registry's storage");
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).code(5);
}

#[test]
fn pull_verify_key_checks_before_downloading_and_writes_a_signature_model_signing_accepts() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    let (_, other) = key_pair(tmp.path(), "other", "secp384r1");
    let at = reg.at("zoo/verified:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &at]).ok();
    // Unsigned: refused before any layer comes down, no destination.
    let before = reg.requests().len();
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)])
        .code(4)
        .stderr_has("has no signature");
    assert!(!reg.requests()[before..].iter().any(|r| r.starts_with("GET") && r.contains("/blobs/")));
    assert!(!tmp.path().join("out").exists());
    run_in(tmp.path(), &["sign", "--plain-http", &at, "--key", path(&key)]).ok();
    // Another key: exit 5, nothing downloaded, no destination.
    let before = reg.requests().len();
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&other)]).code(5);
    // The one blob read is the signature's bundle; no layer of the suite.
    let requests = reg.requests();
    let blob_reads: Vec<&String> =
        requests[before..].iter().filter(|r| r.starts_with("GET") && r.contains("/blobs/sha256")).collect();
    assert_eq!(blob_reads.len(), 1, "only the bundle is read before the refusal: {blob_reads:#?}");
    assert!(!tmp.path().join("out").exists());
    // The right key: pulled, with the verified bundle as model.sig.
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)])
        .ok()
        .stderr_has("verified");
    let out = tmp.path().join("out");
    assert!(out.join("model.sig").is_file());
    // PyPI's model_signing verifies the folder with it (the signature file itself it skips).
    let checked = model_signing_verify(tmp.path(), "out", &public);
    assert!(checked.status.success(), "model_signing refused it: {}", String::from_utf8_lossy(&checked.stderr));
    // A file changed afterwards: model_signing refuses the folder.
    write(&out, "scripts/infer.py", "print('changed')\n", false);
    assert!(
        !model_signing_verify(tmp.path(), "out", &public).status.success(),
        "model_signing accepted a changed file"
    );
}

#[test]
fn a_layer_tampered_with_in_the_registry_stops_a_verified_pull_and_leaves_nothing() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    let at = reg.at("zoo/tampered:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &at]).ok();
    run_in(tmp.path(), &["sign", "--plain-http", &at, "--key", path(&key)]).ok();
    // The script layer's bytes changed in the registry's storage (same size): its digest no
    // longer matches, which the signature, covering the record, depends on.
    let tampered = reg.tamper_in_storage(|bytes| {
        bytes.windows(5).position(|w| w == b"print").map(|at| {
            let mut changed = bytes.to_vec();
            changed[at] = b'P';
            changed
        })
    });
    assert!(tampered >= 1, "a blob holding a script");
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)]).code(5);
    assert!(!tmp.path().join("out").exists(), "no destination");
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("out"))
        .collect();
    assert!(left.is_empty(), "nothing partial: {left:?}");
}

#[test]
fn push_sign_key_pushes_and_signs_in_one_run_and_a_bad_key_stops_it_before_packing() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "secp384r1");
    let at = reg.at("zoo/pushed-signed:1");
    fs::write(tmp.path().join("junk.pem"), "not a key").unwrap();
    run_in(tmp.path(), &["push", "--plain-http", "--sign-key", path(&tmp.path().join("junk.pem")), path(&suite), &at])
        .code(2);
    assert!(!reg.requests().iter().any(|r| r.starts_with("PUT")), "nothing pushed with a bad key");
    run_in(tmp.path(), &["push", "--plain-http", "--sign-key", path(&key), path(&suite), &at])
        .ok()
        .stderr_has("signed: sha256:");
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).ok();
}
