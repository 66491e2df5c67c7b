//! Issue 23, second step, against a real Distribution 2.8: layers of over 1,000 files (read
//! once to learn their digests; a signed push takes them from packing), a folder signed by PyPI's
//! `model_signing` and pushed with its `model.sig`, a bundle stored the way cosign stores one by
//! another client, the certificate mode both ways with `model_signing`, and the signature policy
//! of unattended pulls.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::util::registry::{Registry, model_signing, oras_python};
use crate::util::*;

const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oms/cert");

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn cert(name: &str) -> String {
    format!("{CERTS}/{name}")
}

fn blob_gets(requests: &[String]) -> Vec<&String> {
    requests.iter().filter(|r| r.starts_with("GET") && r.contains("/blobs/sha256")).collect()
}

/// Runs PyPI's `model_signing` in `cwd`; panics with its output unless it succeeds.
fn model_signing_ok(cwd: &Path, args: &[&str]) {
    let out = Command::new(model_signing()).current_dir(cwd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "model_signing {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_layer_of_over_a_thousand_files_is_read_once_to_sign_and_a_signed_push_reads_nothing_back() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    for i in 0..1_200 {
        write(&suite, &format!("data/test/many/{i:04}.txt"), format!("sample {i}\n"), false);
    }
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    let at = reg.at("zoo/many:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &at]).ok();
    // The dataset's record lists no file: signing reads that layer, once, and no other.
    let before = reg.requests().len();
    run_in(tmp.path(), &["sign", "--plain-http", &at, "--key", path(&key)]).ok().stderr_has("1216 files");
    let requests = reg.requests();
    let read = blob_gets(&requests[before..]);
    assert_eq!(read.len(), 1, "the one unlisted layer is read once: {read:#?}");
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).ok();
    // The verified pull's model.sig lists every file: model_signing agrees with the folder.
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)]).ok();
    model_signing_ok(
        tmp.path(),
        &["verify", "key", "out", "--signature", "out/model.sig", "--public_key", path(&public)]
            .iter()
            .copied()
            .chain(["--ignore-paths", "out/.zoo-oci.json"])
            .collect::<Vec<_>>(),
    );
    // A signed push hashes every file while packing: nothing is read back to sign it.
    let at2 = reg.at("zoo/many:2");
    let before = reg.requests().len();
    run_in(tmp.path(), &["push", "--plain-http", "--no-cache", "--sign-key", path(&key), path(&suite), &at2])
        .ok()
        .stderr_has("signed: sha256:");
    let requests = reg.requests();
    assert!(blob_gets(&requests[before..]).is_empty(), "a signed push downloaded: {:#?}", &requests[before..]);
    run_in(tmp.path(), &["verify", "--plain-http", &at2, "--key", path(&public)]).ok().stderr_has("1216 files");
}

#[test]
fn a_folder_signed_by_model_signing_is_pushed_with_its_signature_and_a_stale_one_stops_the_push() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    model_signing_ok(
        tmp.path(),
        &["sign", "key", "suite", "--private_key", path(&key), "--signature", "suite/model.sig"],
    );
    let at = reg.at("zoo/carried:1");
    run_in(tmp.path(), &["push", "--plain-http", path(&suite), &at]).ok().stderr_has("model.sig stored as signature");
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).ok();
    // The signature is carried, not shipped: a plain pull has no model.sig, and check is quiet.
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "plain"]).ok();
    assert!(!tmp.path().join("plain/model.sig").exists(), "model.sig was shipped as a file");
    let checked = run_in(tmp.path(), &["check", path(&suite)]);
    assert!(!checked.stderr.contains("model.sig"), "check warns about the signature: {}", checked.stderr);
    // A verified pull writes the very bytes model_signing wrote.
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)]).ok();
    assert_eq!(fs::read(tmp.path().join("out/model.sig")).unwrap(), fs::read(suite.join("model.sig")).unwrap());
    // A file changed after signing: the push is refused, nothing is tagged.
    write(&suite, "scripts/common.py", "X = 2\n", false);
    run_in(tmp.path(), &["push", "--plain-http", path(&suite), &reg.at("zoo/carried:2")])
        .code(5)
        .stderr_has("does not sign the files being pushed: scripts/common.py is not the file that was signed");
    let tags = run_in(tmp.path(), &["tags", "--plain-http", &reg.at("zoo/carried")]).ok().stdout.clone();
    assert!(!tags.lines().any(|t| t.trim() == "2"), "{tags}");
    // Not a signature at all: refused before anything is packed.
    fs::write(suite.join("model.sig"), "{}").unwrap();
    let before = reg.requests().len();
    run_in(tmp.path(), &["push", "--plain-http", path(&suite), &reg.at("zoo/carried:3")])
        .code(5)
        .stderr_has("model.sig is not a Sigstore bundle");
    assert!(!reg.requests()[before..].iter().any(|r| r.starts_with("PUT") || r.starts_with("POST")));
}

/// Stores `bundle` as a referrer of `reference`'s manifest the way cosign does on a registry
/// without the referrers API, with a plain HTTP client: empty config, the bundle as the one
/// layer, `artifactType` the bundle's, cosign's annotations, and the subject's tag-schema index.
const STORE_AS_COSIGN: &str = r#"
import hashlib, json, sys, urllib.request
base, repo, tag, bundle_path = sys.argv[1:5]
def call(method, url, data=None, headers={}):
    req = urllib.request.Request(base + url, data=data, method=method, headers=headers)
    return urllib.request.urlopen(req)
def put_blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = call("POST", f"/v2/{repo}/blobs/uploads/").headers["Location"]
    sep = "&" if "?" in loc else "?"
    loc = loc.replace(base, "")
    call("PUT", f"{loc}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"})
    return {"digest": digest, "size": len(data)}
accept = "application/vnd.oci.image.manifest.v1+json"
subject_bytes = call("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": accept}).read()
subject = {"mediaType": accept, "digest": "sha256:" + hashlib.sha256(subject_bytes).hexdigest(), "size": len(subject_bytes)}
bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
config = dict(put_blob(b"{}"), mediaType="application/vnd.oci.empty.v1+json")
layer = dict(put_blob(open(bundle_path, "rb").read()), mediaType=bundle_type)
manifest = {"schemaVersion": 2, "mediaType": accept, "artifactType": bundle_type, "config": config,
            "layers": [layer], "subject": subject,
            "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                            "dev.sigstore.bundle.predicateType": "https://model_signing/signature/v1.0",
                            "org.opencontainers.image.created": "2026-12-07T00:00:00Z"}}
body = json.dumps(manifest).encode()
digest = "sha256:" + hashlib.sha256(body).hexdigest()
call("PUT", f"/v2/{repo}/manifests/{digest}", body, {"Content-Type": accept})
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": accept, "digest": digest, "size": len(body), "artifactType": bundle_type,
     "annotations": manifest["annotations"]}]}
call("PUT", f"/v2/{repo}/manifests/" + subject["digest"].replace(":", "-"), json.dumps(index).encode(),
     {"Content-Type": "application/vnd.oci.image.index.v1+json"})
"#;

#[test]
fn a_bundle_another_client_stored_the_cosign_way_verifies() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    let at = reg.at("zoo/cosigned:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &at]).ok();
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).code(4);
    // model_signing signs the folder (its signature kept outside it), another client stores it.
    model_signing_ok(tmp.path(), &["sign", "key", "suite", "--private_key", path(&key), "--signature", "folder.sig"]);
    let base = format!("http://{}", reg.at("").trim_end_matches('/'));
    let stored = Command::new(oras_python())
        .args(["-c", STORE_AS_COSIGN, &base, "zoo/cosigned", "1", path(&tmp.path().join("folder.sig"))])
        .output()
        .unwrap();
    assert!(stored.status.success(), "{}", String::from_utf8_lossy(&stored.stderr));
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).ok().stderr_has("verified");
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)]).ok();
    assert_eq!(fs::read(tmp.path().join("out/model.sig")).unwrap(), fs::read(tmp.path().join("folder.sig")).unwrap());
}

#[test]
fn certificate_mode_signs_here_and_verifies_there_and_back() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let at = reg.at("zoo/certified:1");
    let (leaf_key, root, other_root) = (cert("leaf-key.pem"), cert("root.pem"), cert("other-root.pem"));
    let leaf = cert("leaf.pem");
    run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &at]).ok();
    // A certificate that may not sign, or that is another key's, is refused before signing.
    run_in(tmp.path(), &["sign", "--plain-http", &at, "--key", &leaf_key, "--certificate", &cert("leaf-nosign.pem")])
        .code(2)
        .stderr_has("may not sign");
    let (other_key, _) = key_pair(tmp.path(), "other", "prime256v1");
    run_in(tmp.path(), &["sign", "--plain-http", &at, "--key", path(&other_key), "--certificate", &leaf])
        .code(2)
        .stderr_has("is not the certificate of the key");
    let chain = cert("chain.pem");
    let sign = ["sign", "--plain-http", &at, "--key", &leaf_key, "--certificate", &leaf, "--certificate-chain", &chain];
    run_in(tmp.path(), &sign).ok();
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--certificate-chain", &root]).ok();
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--certificate-chain", &other_root])
        .code(5)
        .stderr_has("not trusted: no trusted root issued");
    // model_signing verifies what zoo-oci signed, from the pulled folder.
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", &root]).ok();
    let verify = ["verify", "certificate", "out", "--signature", "out/model.sig", "--certificate_chain", &root];
    model_signing_ok(tmp.path(), &[&verify[..], &["--ignore-paths", "out/.zoo-oci.json"]].concat());
    // And zoo-oci verifies what model_signing signed in certificate mode, carried by a push.
    let sign = ["sign", "certificate", "suite", "--private_key", &leaf_key, "--signing_certificate", &leaf];
    model_signing_ok(
        tmp.path(),
        &[&sign[..], &["--certificate_chain", &chain, "--signature", "suite/model.sig"]].concat(),
    );
    let at2 = reg.at("zoo/certified:2");
    run_in(tmp.path(), &["push", "--plain-http", path(&suite), &at2]).ok();
    run_in(tmp.path(), &["verify", "--plain-http", &at2, "--certificate-chain", &root]).ok();
    // push --sign-key in certificate mode, in one run.
    fs::remove_file(suite.join("model.sig")).unwrap();
    let at3 = reg.at("zoo/certified:3");
    let push = ["push", "--plain-http", "--sign-key", &leaf_key, "--sign-certificate", &leaf];
    run_in(tmp.path(), &[&push[..], &["--sign-certificate-chain", &chain, path(&suite), &at3]].concat())
        .ok()
        .stderr_has("signed: sha256:");
    run_in(tmp.path(), &["verify", "--plain-http", &at3, "--certificate-chain", &root]).ok();
}

#[test]
fn a_policy_enforces_warns_or_stays_off_per_scope_from_its_default_places_too() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, _) = key_pair(tmp.path(), "key", "prime256v1");
    let (_, other_public) = key_pair(tmp.path(), "other", "prime256v1");
    let policy_dir = tmp.path().join("etc");
    fs::create_dir_all(&policy_dir).unwrap();
    fs::copy(tmp.path().join("key.pub.pem"), policy_dir.join("team.pub")).unwrap();
    let host = reg.at("").trim_end_matches('/').to_string();
    let policy = policy_dir.join("policy.json");
    fs::write(
        &policy,
        serde_json::json!({
            "default": {"mode": "enforce", "keys": ["team.pub"]},
            "scopes": {
                format!("{host}/zoo/open"): {"mode": "off"},
                format!("{host}/zoo/lax"): {"mode": "warn", "keys": ["team.pub"]},
            }
        })
        .to_string(),
    )
    .unwrap();
    let signed = reg.at("zoo/team/signed:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", "--sign-key", path(&key), path(&suite), &signed]).ok();
    for unsigned in ["zoo/team/unsigned:1", "zoo/open/x:1", "zoo/lax/x:1"] {
        run_in(tmp.path(), &["push", "-q", "--plain-http", path(&suite), &reg.at(unsigned)]).ok();
    }
    let pull = |source: &str, out: &str, env: &[(&str, &str)], policy: Option<&Path>| {
        let mut args = vec!["pull", "--plain-http", source, "-o", out];
        if let Some(p) = policy {
            args.extend(["--policy", path(p)]);
        }
        run_env(tmp.path(), env, &args)
    };
    pull(&signed, "signed", &[], Some(&policy)).ok().stderr_has("verified");
    assert!(tmp.path().join("signed/model.sig").is_file());
    pull(&reg.at("zoo/team/unsigned:1"), "unsigned", &[], Some(&policy))
        .code(4)
        .stderr_has("(scope default) requires a signature")
        .stderr_has("has no signature");
    assert!(!tmp.path().join("unsigned").exists());
    pull(&reg.at("zoo/open/x:1"), "open", &[], Some(&policy)).ok();
    pull(&reg.at("zoo/lax/x:1"), "lax", &[], Some(&policy)).ok().stderr_has("warning:").stderr_has("only warns");
    // Another key trusted: the signed suite is refused, exit 5.
    let strict = policy_dir.join("strict.json");
    let other = other_public.display().to_string();
    fs::write(&strict, serde_json::json!({"default": {"mode": "enforce", "keys": [other]}}).to_string()).unwrap();
    pull(&signed, "wrong", &[], Some(&strict)).code(5);
    assert!(!tmp.path().join("wrong").exists());
    // From its default places: $ZOO_OCI_POLICY, then $XDG_CONFIG_HOME/zoo-oci/policy.json; the
    // shared cache as well as a folder.
    pull(&reg.at("zoo/team/unsigned:1"), "by-env", &[("ZOO_OCI_POLICY", path(&policy))], None).code(4);
    let config = tmp.path().join("config");
    fs::create_dir_all(config.join("zoo-oci")).unwrap();
    fs::write(config.join("zoo-oci/policy.json"), fs::read_to_string(&strict).unwrap()).unwrap();
    let xdg = [("XDG_CONFIG_HOME", path(&config))];
    pull(&signed, "by-xdg", &xdg, None).code(5);
    run_env(tmp.path(), &xdg, &["pull", "--plain-http", "--cache", &signed]).code(5);
    run_env(tmp.path(), &[], &["pull", "--plain-http", "--cache", &signed]).ok();
    // --verify-key overrides a default policy; a broken policy is named with its fault.
    let team = policy_dir.join("team.pub");
    run_env(tmp.path(), &xdg, &["pull", "--plain-http", &signed, "-o", "by-key", "--verify-key", path(&team)]).ok();
    fs::write(policy_dir.join("broken.json"), r#"{"default": {"mode": "enforce"}}"#).unwrap();
    pull(&signed, "broken", &[], Some(&policy_dir.join("broken.json"))).code(2).stderr_has("names no key");
}

#[test]
fn a_manifest_tampered_with_in_the_registry_stops_a_verified_pull_before_any_layer() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let (key, public) = key_pair(tmp.path(), "key", "prime256v1");
    let at = reg.at("zoo/manifest-tampered:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", "--sign-key", path(&key), path(&suite), &at]).ok();
    // The suite's manifest, in the registry's storage: its summary changed, same length.
    let tampered = reg.tamper_in_storage(|bytes| {
        let text = String::from_utf8_lossy(bytes);
        let manifest = text.contains("\"schemaVersion\"") && text.contains("\"config\"");
        (manifest && text.contains("A tiny suite for tests"))
            .then(|| text.replace("A tiny suite for tests", "A tiny suite for pests").into_bytes())
    });
    assert_eq!(tampered, 1, "one suite manifest");
    let before = reg.requests().len();
    run_in(tmp.path(), &["pull", "--plain-http", &at, "-o", "out", "--verify-key", path(&public)])
        .code(5)
        .stderr_has("the registry says the manifest is sha256:");
    assert!(blob_gets(&reg.requests()[before..]).is_empty(), "no blob read after a bad manifest");
    assert!(!tmp.path().join("out").exists());
    run_in(tmp.path(), &["verify", "--plain-http", &at, "--key", path(&public)]).code(5);
}
