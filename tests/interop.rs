//! Interoperability with independent clients over real registries: skopeo copies our artifacts
//! registry ↔ layout unchanged, the ORAS Python SDK reads our layers by media type, we read what
//! the ORAS SDK pushes, and `copy` mirrors what is not a suite (other artifacts, image indexes)
//! byte for byte.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use zoo_oci::artifact::media;
use zoo_oci::digest::of_bytes;

use crate::util::registry::{PASSWORD, Registry, USER, oras_python};
use crate::util::*;

/// An empty Docker config folder inside the test's scratch folder, so no run sees the real
/// home's credentials.
fn docker_config(tmp: &Path) -> String {
    let dir = tmp.join("docker-config");
    fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

/// Runs `zoo-oci ARGS` in `tmp`, isolated from the real home.
fn zoo_in(tmp: &Path, args: &[&str]) -> Run {
    run_env(tmp, &[("DOCKER_CONFIG", &docker_config(tmp))], args)
}

/// Runs skopeo isolated from the real home's credentials; panics unless it succeeds.
fn skopeo(tmp: &Path, args: &[&str]) -> Vec<u8> {
    require_tool("skopeo");
    let out = Command::new("skopeo")
        .args(args)
        .env("DOCKER_CONFIG", docker_config(tmp))
        .env("REGISTRY_AUTH_FILE", tmp.join("no-auth.json"))
        .output()
        .expect("skopeo runs");
    assert!(out.status.success(), "skopeo {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Runs a Python script with the ORAS SDK (`HOME` points into `tmp`: the SDK reads
/// `~/.docker/config.json`); panics unless it succeeds; returns its stdout parsed as JSON.
fn oras(tmp: &Path, script: &str, args: &[&str]) -> Value {
    let python = oras_python();
    let file = tempfile::Builder::new().prefix("oras-").suffix(".py").tempfile_in(tmp).unwrap();
    fs::write(file.path(), script).unwrap();
    let home = tmp.join("python-home");
    fs::create_dir_all(&home).unwrap();
    let out = Command::new(&python)
        .arg(file.path())
        .args(args)
        .current_dir(tmp)
        .env("HOME", &home)
        .env("DOCKER_CONFIG", docker_config(tmp))
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the ORAS script failed\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("the ORAS script printed no JSON ({e}):\n{stdout}"))
}

/// Pushes `small_suite` to a plain registry as `zoo/tiny:1.0.0`; returns the suite folder and
/// the manifest digest push printed.
fn push_small_suite(tmp: &Path, registry: &Registry) -> (std::path::PathBuf, String) {
    let suite = small_suite(tmp);
    let pushed = zoo_in(tmp, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &registry.at("zoo/tiny:1.0.0")]);
    pushed.ok();
    let digest = pushed.stdout.trim().to_string();
    assert!(digest.starts_with("sha256:"), "push prints the manifest digest: {digest:?}");
    (suite, digest)
}

/// The digest `index.json` of a layout gives a tag.
fn tagged_digest(layout: &Path, tag: &str) -> String {
    let index = index_json(layout);
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"][media::ANN_REF_NAME] == tag)
        .unwrap_or_else(|| panic!("tag {tag} not in {index}"));
    entry["digest"].as_str().unwrap().to_string()
}

#[test]
fn skopeo_copies_our_artifact_from_a_registry_to_a_layout_and_back_unchanged() {
    let tmp = scratch();
    let registry = Registry::plain();
    let (suite, digest) = push_small_suite(tmp.path(), &registry);
    let source = format!("docker://{}", registry.at("zoo/tiny:1.0.0"));
    let raw = skopeo(tmp.path(), &["inspect", "--raw", "--tls-verify=false", &source]);
    assert_eq!(of_bytes(&raw), digest, "skopeo reads our exact manifest bytes from the registry");

    let layout = tmp.path().join("skopeo-layout");
    let in_layout = format!("oci:{}:t", layout.display());
    skopeo(tmp.path(), &["copy", "-q", "--src-tls-verify=false", &source, &in_layout]);
    assert_eq!(of_bytes(&skopeo(tmp.path(), &["inspect", "--raw", &in_layout])), digest);
    assert_eq!(tagged_digest(&layout, "t"), digest, "skopeo stored the manifest unchanged");
    assert_eq!(of_bytes(&blob(&layout, &digest)), digest);

    let mirror = registry.at("mirror/tiny:1.0.0");
    skopeo(tmp.path(), &["copy", "-q", "--dest-tls-verify=false", &in_layout, &format!("docker://{mirror}")]);
    let raw = skopeo(tmp.path(), &["inspect", "--raw", "--tls-verify=false", &format!("docker://{mirror}")]);
    assert_eq!(of_bytes(&raw), digest, "the round trip kept the manifest unchanged");

    let out = tmp.path().join("out");
    zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &mirror, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

#[test]
fn skopeo_reads_our_artifact_from_an_authenticated_tls_registry() {
    let tmp = scratch();
    let registry = Registry::tls_auth();
    let suite = small_suite(tmp.path());
    let target = registry.at("zoo/tiny:1.0.0");
    let config = docker_config(tmp.path());
    let ca = registry.ca_arg();
    let pushed = run_env(
        tmp.path(),
        &[("DOCKER_CONFIG", &config), ("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD)],
        &["push", "-q", "--ca-file", &ca, suite.to_str().unwrap(), &target],
    );
    pushed.ok();
    assert!(!pushed.stdout.contains(PASSWORD) && !pushed.stderr.contains(PASSWORD), "the password leaked");
    let digest = pushed.stdout.trim().to_string();

    // skopeo's --cert-dir wants the CA as a `*.crt` file in a folder.
    let certs = tmp.path().join("certs");
    fs::create_dir_all(&certs).unwrap();
    fs::copy(&ca, certs.join("ca.crt")).unwrap();
    let layout = tmp.path().join("skopeo-layout");
    let creds = format!("{USER}:{PASSWORD}");
    skopeo(
        tmp.path(),
        &[
            "copy",
            "-q",
            "--src-creds",
            &creds,
            "--src-cert-dir",
            certs.to_str().unwrap(),
            &format!("docker://{target}"),
            &format!("oci:{}:t", layout.display()),
        ],
    );
    assert_eq!(tagged_digest(&layout, "t"), digest, "skopeo read the manifest we pushed, unchanged");
    assert_eq!(of_bytes(&blob(&layout, &digest)), digest);
    // Every blob the manifest names arrived intact.
    let manifest = manifest(&layout, "t");
    for d in manifest["layers"].as_array().unwrap().iter().chain([&manifest["config"]]) {
        let digest = d["digest"].as_str().unwrap();
        assert_eq!(of_bytes(&blob(&layout, digest)), digest);
    }
}

/// Reads our manifest and two layers with the ORAS SDK: prints the manifest, the README layer's
/// bytes, and the files of the safetensors model layer's tar with their sha256.
const ORAS_READ: &str = r#"
import hashlib, io, json, sys, tarfile
import oras.provider

addr, name, out = sys.argv[1:4]
registry = oras.provider.Registry(hostname=addr, insecure=True)
target = f"{addr}/{name}"
manifest = registry.get_manifest(target)

def download(layer, path):
    registry.download_blob(target, layer["digest"], path)
    data = open(path, "rb").read()
    assert "sha256:" + hashlib.sha256(data).hexdigest() == layer["digest"], "ORAS downloaded other bytes"
    return data

readme = [l for l in manifest["layers"]
          if l["mediaType"] == "application/vnd.cncf.model.doc.v1.raw"
          and l["annotations"]["org.opencontainers.image.title"] == "README.md"]
assert len(readme) == 1, readme
readme_bytes = download(readme[0], f"{out}/readme")

# Every weight file is a raw layer: the file as it is, its path in the filepath annotation, its
# sha256 the layer's digest.
files = {}
for layer in manifest["layers"]:
    if layer["mediaType"] != "application/vnd.cncf.model.weight.v1.raw":
        continue
    path = layer["annotations"]["org.cncf.model.filepath"]
    data = download(layer, f"{out}/weights")
    files[path] = "sha256:" + hashlib.sha256(data).hexdigest()
    assert files[path] == layer["digest"], "the layer digest is the file's sha256"

print(json.dumps({"manifest": manifest, "readme": list(readme_bytes), "model_files": files}))
"#;

#[test]
fn the_oras_sdk_reads_our_layers_by_media_type() {
    let tmp = scratch();
    let registry = Registry::plain();
    let (suite, _) = push_small_suite(tmp.path(), &registry);
    let downloads = tmp.path().join("downloads");
    fs::create_dir_all(&downloads).unwrap();
    let read = oras(tmp.path(), ORAS_READ, &[&registry.addr, "zoo/tiny:1.0.0", downloads.to_str().unwrap()]);

    let manifest = &read["manifest"];
    assert_eq!(manifest["mediaType"], media::OCI_MANIFEST);
    assert_eq!(manifest["artifactType"], media::MODEL_ARTIFACT);
    assert_eq!(manifest["config"]["mediaType"], media::MODEL_CONFIG);
    let expected_type = |class: &str, path: &str| match class {
        "model" if path.ends_with('/') => media::WEIGHT_CONFIG_TAR,
        "model" => media::WEIGHT_RAW,
        "scripts" | "notebooks" => media::CODE_TAR,
        "dataset" => media::DATASET_TAR,
        "readme" | "license" => media::DOC_RAW,
        "docs" => media::DOC_TAR,
        other => panic!("unexpected class {other}"),
    };
    let mut classes = Vec::new();
    for layer in manifest["layers"].as_array().unwrap() {
        let class = layer["annotations"][media::ANN_CLASS].as_str().expect("every layer names its class");
        let path = layer["annotations"][media::ANN_FILEPATH].as_str().expect("every layer names its path");
        assert_eq!(layer["mediaType"], expected_type(class, path), "media type of the {class} layer: {layer}");
        classes.push(class.to_string());
    }
    classes.sort();
    assert_eq!(classes, ["dataset", "docs", "license", "model", "model", "model", "notebooks", "readme", "scripts"]);

    let readme: Vec<u8> = serde_json::from_value(read["readme"].clone()).unwrap();
    assert_eq!(readme, fs::read(suite.join("README.md")).unwrap(), "the README layer holds the README as-is");
    let model_files: BTreeMap<String, String> = serde_json::from_value(read["model_files"].clone()).unwrap();
    let expected: BTreeMap<String, String> =
        ["models/model.safetensors", "models/onnx/model.onnx", "models/onnx/extra/weights.bin"]
            .iter()
            .map(|p| (p.to_string(), of_bytes(&fs::read(suite.join(p)).unwrap())))
            .collect();
    assert_eq!(model_files, expected);
}

/// `oras pull` of a suite with the ORAS SDK: every layer is written to the file its title names.
/// Prints the files it wrote; then extracts each `.tar` it wrote into the same folder and
/// removes it, which must give the suite back.
const ORAS_PULL: &str = r#"
import json, os, sys, tarfile
import oras.client

addr, name, out = sys.argv[1:4]
client = oras.client.OrasClient(hostname=addr, insecure=True)
written = client.pull(target=f"{addr}/{name}", outdir=out)
archives = []
for path in written:
    if path.endswith(".tar"):
        with tarfile.open(path) as tar:
            tar.extractall(out)
        os.remove(path)
        archives.append(os.path.relpath(path, out))
print(json.dumps({"written": sorted(os.path.relpath(p, out) for p in written), "archives": sorted(archives)}))
"#;

#[test]
fn oras_pull_writes_the_weight_files_as_files_and_every_tar_as_a_named_archive() {
    let tmp = scratch();
    let registry = Registry::plain();
    let (suite, _) = push_small_suite(tmp.path(), &registry);
    let out = tmp.path().join("oras-out");
    fs::create_dir_all(&out).unwrap();
    let pulled = oras(tmp.path(), ORAS_PULL, &[&registry.addr, "zoo/tiny:1.0.0", out.to_str().unwrap()]);
    let written: Vec<String> = serde_json::from_value(pulled["written"].clone()).unwrap();
    assert_eq!(
        written,
        [
            "LICENSE",
            "README.md",
            "dataset-tiny-test.tar",
            "docs.tar",
            "models/model.safetensors",
            "models/onnx/extra/weights.bin",
            "models/onnx/model.onnx",
            "notebooks.tar",
            "scripts.tar",
        ],
        "raw layers land as their files, tar layers as archives named for what they hold"
    );
    // Extracting the archives where they landed gives the suite back, file for file.
    let got: Vec<(String, Vec<u8>)> = tree(&out).into_iter().map(|(p, b, _)| (p, b)).collect();
    let want: Vec<(String, Vec<u8>)> = tree(&suite).into_iter().map(|(p, b, _)| (p, b)).collect();
    assert_eq!(got.len(), want.len(), "{:?}", got.iter().map(|(p, _)| p).collect::<Vec<_>>());
    assert!(got == want, "the files differ");
}

/// Pushes files with the ORAS SDK the way other tools do (`push`, which sets the title
/// annotation to the file name and no `artifactType`) as tag `plain`, then the same manifest with
/// `ARTIFACT_TYPE` set as tag `typed` (when given). Prints the digest of each tag.
const ORAS_PUSH: &str = r#"
import json, os, sys
import oras.provider

addr, repo, folder, config, artifact_type = sys.argv[1:6]
files = sys.argv[6:]
registry = oras.provider.Registry(hostname=addr, insecure=True)
os.chdir(folder)
response = registry.push(target=f"{addr}/{repo}:plain", files=files, manifest_config=config, quiet=True)
digests = {"plain": response.headers["Docker-Content-Digest"]}
if artifact_type:
    manifest = registry.get_manifest(f"{addr}/{repo}:plain")
    assert "artifactType" not in manifest, manifest
    manifest["artifactType"] = artifact_type
    response = registry.upload_manifest(manifest, registry.get_container(f"{addr}/{repo}:typed"))
    assert response.status_code == 201, response.text
    digests["typed"] = response.headers["Docker-Content-Digest"]
print(json.dumps(digests))
"#;

#[test]
fn we_pull_an_artifact_the_oras_sdk_pushed() {
    let tmp = scratch();
    let registry = Registry::plain();
    let theirs = tmp.path().join("theirs");
    let weights = pseudo_random(30_000, 9);
    let readme = "# Their model\n\nPushed by ORAS. ✓\n";
    write(&theirs, "model.safetensors", &weights, false);
    write(&theirs, "README.md", readme, false);
    let config = json!({
        "descriptor": {"name": "their-model", "version": "0.1.0", "licenses": ["Apache-2.0"]},
        "config": {"format": "safetensors", "precision": "fp16"},
        "modelfs": {"type": "layers", "diffIds": [of_bytes(&weights), of_bytes(readme.as_bytes())]},
    });
    write(&theirs, "config.json", serde_json::to_vec(&config).unwrap(), false);
    let digests = oras(
        tmp.path(),
        ORAS_PUSH,
        &[
            &registry.addr,
            "theirs/model",
            theirs.to_str().unwrap(),
            &format!("config.json:{}", media::MODEL_CONFIG),
            media::MODEL_ARTIFACT,
            &format!("model.safetensors:{}", media::WEIGHT_RAW),
            &format!("README.md:{}", media::DOC_RAW),
        ],
    );

    // `plain` is known as a model by its config media type, `typed` by its artifactType too.
    for tag in ["plain", "typed"] {
        let source = registry.at(&format!("theirs/model:{tag}"));
        let out = tmp.path().join(format!("out-{tag}"));
        zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &source, "-o", out.to_str().unwrap()]).ok();
        let files: Vec<(String, Vec<u8>)> = tree(&out).into_iter().map(|(name, bytes, _)| (name, bytes)).collect();
        assert_eq!(
            files,
            [("README.md".to_string(), readme.as_bytes().to_vec()), ("model.safetensors".to_string(), weights.clone())],
            "pull of {tag} wrote both files by their title, byte for byte"
        );

        let only = tmp.path().join(format!("only-{tag}"));
        zoo_in(tmp.path(), &["pull", "-q", "--plain-http", &source, "--only", "model", "-o", only.to_str().unwrap()])
            .ok();
        let names: Vec<String> = tree(&only).into_iter().map(|(name, _, _)| name).collect();
        assert_eq!(names, ["model.safetensors"], "--only model of {tag}");
        assert_eq!(fs::read(only.join("model.safetensors")).unwrap(), weights);

        let inspect = zoo_in(tmp.path(), &["inspect", "--plain-http", "--format", "json", &source]);
        let v: Value = serde_json::from_str(&inspect.ok().stdout).unwrap();
        assert_eq!(v["digest"], digests[tag], "inspect of {tag}");
        let layers: Vec<(&str, &str)> = v["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["class"].as_str().unwrap(), l["path"].as_str().unwrap()))
            .collect();
        assert_eq!(layers, [("model", "model.safetensors"), ("readme", "README.md")], "inspect of {tag}: {v}");
    }
}

#[test]
fn pulling_a_non_model_artifact_names_its_artifact_type() {
    let tmp = scratch();
    let registry = Registry::plain();
    let theirs = tmp.path().join("theirs");
    write(&theirs, "thing.json", r#"{"kind":"thing"}"#, false);
    write(&theirs, "data.bin", pseudo_random(1_000, 4), false);
    let config_type = "application/vnd.example.thing.config.v1+json";
    let artifact_type = "application/vnd.example.thing.v1";
    let digests = oras(
        tmp.path(),
        ORAS_PUSH,
        &[
            &registry.addr,
            "things/thing",
            theirs.to_str().unwrap(),
            &format!("thing.json:{config_type}"),
            artifact_type,
            "data.bin:application/vnd.example.thing.layer.v1",
        ],
    );

    // With an artifactType that is what is named; without one, the config's media type.
    for (tag, named) in [("typed", artifact_type), ("plain", config_type)] {
        let out = tmp.path().join(format!("out-{tag}"));
        let source = registry.at(&format!("things/thing:{tag}"));
        zoo_in(tmp.path(), &["pull", "--plain-http", &source, "-o", out.to_str().unwrap()])
            .code(1)
            .stderr_has("not a model suite")
            .stderr_has(named);
        assert!(!out.exists(), "a refused pull leaves nothing behind");
        zoo_in(tmp.path(), &["inspect", "--plain-http", &source]).code(1).stderr_has("not a model suite");
    }

    // copy is a general mirror: it copies what it cannot read as a suite, unchanged.
    let mirror = registry.at("mirror/thing:typed");
    let copied = zoo_in(tmp.path(), &["copy", "-q", "--plain-http", &registry.at("things/thing:typed"), &mirror]);
    assert_eq!(copied.ok().stdout.trim(), digests["typed"]);
    let original = skopeo(
        tmp.path(),
        &["inspect", "--raw", "--tls-verify=false", &format!("docker://{}", registry.at("things/thing:typed"))],
    );
    let mirrored = skopeo(tmp.path(), &["inspect", "--raw", "--tls-verify=false", &format!("docker://{mirror}")]);
    assert_eq!(of_bytes(&original), digests["typed"]);
    assert!(mirrored == original, "the copy's manifest bytes differ from the original's");
}

/// Stores `bytes` as a blob of a layout; returns its descriptor.
fn put_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let digest = of_bytes(bytes);
    let path = blob_path(layout, &digest);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// A small image manifest (config and one layer) for `arch`, pretty-printed so that any
/// re-serialisation shows.
fn put_image(layout: &Path, arch: &str) -> Vec<u8> {
    let layer_bytes = format!("layer for {arch}\n");
    let layer = put_blob(layout, "application/vnd.oci.image.layer.v1.tar", layer_bytes.as_bytes());
    let config = json!({
        "architecture": arch,
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
    });
    let config = put_blob(layout, "application/vnd.oci.image.config.v1+json", &serde_json::to_vec(&config).unwrap());
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config,
        "layers": [layer],
    });
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    put_blob(layout, media::OCI_MANIFEST, &bytes);
    bytes
}

#[test]
fn copy_mirrors_an_image_index_graph_unchanged() {
    let tmp = scratch();
    let registry = Registry::plain();
    let layout = tmp.path().join("images");
    fs::create_dir_all(&layout).unwrap();
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let images: Vec<(&str, Vec<u8>)> = ["amd64", "arm64"].into_iter().map(|a| (a, put_image(&layout, a))).collect();
    let index = json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": images.iter().map(|(arch, bytes)| json!({
            "mediaType": media::OCI_MANIFEST,
            "digest": of_bytes(bytes),
            "size": bytes.len(),
            "platform": {"architecture": arch, "os": "linux"},
        })).collect::<Vec<_>>(),
    });
    let index_bytes = serde_json::to_vec_pretty(&index).unwrap();
    let mut root = put_blob(&layout, media::OCI_INDEX, &index_bytes);
    root["annotations"] = json!({media::ANN_REF_NAME: "idx"});
    fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [root]})).unwrap(),
    )
    .unwrap();
    let index_digest = of_bytes(&index_bytes);

    let mirror = registry.at("mirror/idx:v1");
    let pushed =
        zoo_in(tmp.path(), &["copy", "-q", &format!("oci:{}:idx", layout.display()), "--to-plain-http", &mirror]);
    assert_eq!(pushed.ok().stdout.trim(), index_digest);
    let raw = skopeo(tmp.path(), &["inspect", "--raw", "--tls-verify=false", &format!("docker://{mirror}")]);
    assert!(raw == index_bytes, "the registry holds other index bytes:\n{}", String::from_utf8_lossy(&raw));

    let out = tmp.path().join("out");
    let pulled = zoo_in(tmp.path(), &["copy", "-q", "--plain-http", &mirror, &format!("oci:{}:idx", out.display())]);
    assert_eq!(pulled.ok().stdout.trim(), index_digest);
    assert_eq!(tagged_digest(&out, "idx"), index_digest);
    assert!(blob(&out, &index_digest) == index_bytes, "the index changed on the way");
    for (arch, bytes) in &images {
        assert!(blob(&out, &of_bytes(bytes)) == *bytes, "the {arch} manifest changed on the way");
        let manifest: Value = serde_json::from_slice(bytes).unwrap();
        for d in manifest["layers"].as_array().unwrap().iter().chain([&manifest["config"]]) {
            let digest = d["digest"].as_str().unwrap();
            assert_eq!(blob(&out, digest), blob(&layout, digest), "blob {digest} of {arch}");
        }
    }
}

/// A signature-like artifact that refers to a suite (its `subject`), stored untagged in a layout
/// as oras stores referrers. `copy -r` brings it along into a registry without the referrers API
/// (Distribution 2.8) through the tag schema, which skopeo reads, and back into a layout.
#[test]
fn copy_with_referrers_brings_a_signature_along_through_the_tag_schema() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let src = tmp.path().join("src");
    let digest = zoo_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1.0", src.display())])
        .ok()
        .stdout
        .trim()
        .to_string();
    let subject = index_json(&src)["manifests"][0].clone();
    let store = |bytes: &[u8]| {
        let d = of_bytes(bytes);
        fs::write(blob_path(&src, &d), bytes).unwrap();
        d
    };
    let (config, layer) = (b"{}".as_slice(), b"signed: tiny 1.0".as_slice());
    let signature = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.example.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": store(config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.example.signature.v1", "digest": store(layer), "size": layer.len()}],
        "subject": {"mediaType": subject["mediaType"], "digest": digest, "size": subject["size"]},
    }))
    .unwrap();
    let signature_digest = store(&signature);
    let mut top = index_json(&src);
    top["manifests"].as_array_mut().unwrap().push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": signature_digest, "size": signature.len(),
    }));
    fs::write(src.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();

    let at = reg.at("zoo/signed:1.0");
    zoo_in(tmp.path(), &["copy", "-q", "--plain-http", "-r", &format!("oci:{}:1.0", src.display()), &at]).ok();
    let tag_schema = reg.at(&format!("zoo/signed:{}", digest.replace(':', "-")));
    let listed: Value = serde_json::from_slice(&skopeo(
        tmp.path(),
        &["inspect", "--raw", "--tls-verify=false", &format!("docker://{tag_schema}")],
    ))
    .unwrap();
    let entries = listed["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{listed}");
    assert_eq!(entries[0]["digest"], signature_digest.as_str());
    assert_eq!(entries[0]["artifactType"], "application/vnd.example.signature");

    // Back out of the registry: with -r the signature comes along, without it stays behind.
    for (flag, expected) in [(Some("-r"), true), (None, false)] {
        let dst = tmp.path().join(format!("dst{}", flag.unwrap_or("")));
        let mut args = vec!["copy", "-q", "--plain-http"];
        args.extend(flag);
        let to = format!("oci:{}", dst.display());
        args.extend([at.as_str(), to.as_str()]);
        zoo_in(tmp.path(), &args).ok();
        let listed =
            index_json(&dst)["manifests"].as_array().unwrap().iter().any(|m| m["digest"] == signature_digest.as_str());
        assert_eq!(listed, expected, "copy {flag:?}: the signature in index.json");
        assert_eq!(blob_path(&dst, &signature_digest).is_file(), expected);
    }
}
