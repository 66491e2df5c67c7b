//! The format at model scale (issue 20): each weight file of a variant is a raw layer of its
//! own, the variant's other files one `weight.config` layer; what a config-only change costs to
//! push and to pull; selections give the same folders as from an artifact of the old format; and
//! an artifact written before the change (a committed fixture) pulls byte for byte for good.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;
use zoo_oci::artifact::media;
use zoo_oci::digest::of_bytes;

use crate::util::registry::Registry;
use crate::util::*;

const SHARDS: usize = 4;
/// Each shard's tensor bytes: big enough that re-sending one would show in every count below.
const SHARD_BYTES: usize = 2 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

/// A Hugging Face checkpoint in 4 safetensors shards with its index, config and tokenizer, as a
/// suite whose one variant is the folder.
fn sharded_suite(root: &Path) -> PathBuf {
    let dir = root.join("sharded");
    let mut weight_map = serde_json::Map::new();
    for i in 1..=SHARDS {
        let name = format!("model-{i:05}-of-{SHARDS:05}.safetensors");
        write(&dir, &format!("model/{name}"), safetensors_model(&pseudo_random(SHARD_BYTES, i as u64)), false);
        weight_map.insert(format!("layer{i}.w"), Value::String(name));
    }
    let index = serde_json::json!({"metadata": {"total_size": SHARDS * SHARD_BYTES}, "weight_map": weight_map});
    write(&dir, "model/model.safetensors.index.json", serde_json::to_vec_pretty(&index).unwrap(), false);
    write(&dir, "model/config.json", r#"{"model_type": "tiny", "hidden_size": 4}"#, false);
    write(&dir, "model/tokenizer.json", r#"{"version": "1.0", "vocab": {"a": 0}}"#, false);
    write(&dir, "README.md", "# Sharded\n\nA checkpoint in four shards.\n", false);
    write(&dir, "LICENSE", "MIT License\n", false);
    write(
        &dir,
        "zoo.yaml",
        format!(
            "name: sharded\nversion: \"1\"\nsummary: four shards\nlicense: MIT\ntask: text-generation\n\
             models:\n  - {{name: hf, path: model/, framework: safetensors, params: {}}}\n",
            SHARDS * SHARD_BYTES / 4
        ),
        false,
    );
    dir
}

fn layers(manifest: &Value) -> &Vec<Value> {
    manifest["layers"].as_array().unwrap()
}

#[test]
fn each_weight_file_is_a_raw_layer_of_its_own_and_the_configs_one_weight_config_layer() {
    let tmp = scratch();
    let suite = sharded_suite(tmp.path());
    run_in(tmp.path(), &["check", "--strict", suite.to_str().unwrap()]).ok();
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", layout.display())]).ok();
    let m = manifest(&layout, "1");
    let models: Vec<&Value> = layers(&m).iter().filter(|l| l["annotations"][media::ANN_CLASS] == "model").collect();
    assert_eq!(models.len(), SHARDS + 1, "a layer per shard and one for the rest: {models:#?}");
    for (i, layer) in models[..SHARDS].iter().enumerate() {
        let path = format!("model/model-{:05}-of-{SHARDS:05}.safetensors", i + 1);
        let bytes = fs::read(suite.join(&path)).unwrap();
        assert_eq!(layer["mediaType"], media::WEIGHT_RAW);
        assert_eq!(layer["digest"], of_bytes(&bytes).as_str(), "a raw layer's digest is its file's sha256");
        assert_eq!(layer["size"], bytes.len());
        let a = &layer["annotations"];
        assert_eq!(a[media::ANN_FILEPATH], path.as_str());
        assert_eq!(a[media::ANN_TITLE], path.as_str(), "a raw layer is titled by its file's path");
        assert_eq!(a[media::ANN_VARIANT], "hf");
        assert_eq!(a[media::ANN_FRAMEWORK], "safetensors");
        assert!(a[media::ANN_FILE_METADATA].is_string());
    }
    let config = models[SHARDS];
    assert_eq!(config["mediaType"], media::WEIGHT_CONFIG_TAR);
    assert_eq!(config["annotations"][media::ANN_FILEPATH], "model/");
    assert_eq!(config["annotations"][media::ANN_TITLE], "model-hf-config.tar", "an archive is titled as one");
    assert_eq!(config["annotations"][media::ANN_VARIANT], "hf");
    let entries = tar_files(&blob(&layout, config["digest"].as_str().unwrap()));
    assert_eq!(entries, ["model/config.json", "model/model.safetensors.index.json", "model/tokenizer.json"]);
    assert!(config["size"].as_u64().unwrap() < 16 * 1024, "the configs layer is small: {}", config["size"]);

    // Inspect shows one variant with the parameters of all four shards.
    let run = run_in(tmp.path(), &["inspect", "--format", "json", &format!("oci:{}:1", layout.display())]);
    run.ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let variants = report["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 1, "{variants:#?}");
    assert_eq!(variants[0]["name"], "hf");
    assert_eq!(variants[0]["params"], SHARDS * SHARD_BYTES / 4, "the shards' parameters summed");
    let config: Value = serde_json::from_slice(&blob(&layout, m["config"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(config["modelfs"]["diffIds"].as_array().unwrap().len(), layers(&m).len());
    assert_eq!(config["config"]["paramSize"], "2.1M", "the ModelPack config counts every shard");
}

/// The regular files of an uncompressed tar, by path.
fn tar_files(bytes: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(bytes);
    let mut out: Vec<String> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.header().entry_type().is_file())
        .map(|e| e.path().unwrap().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// The bytes the registry received: the sizes of the blobs whose upload it completed.
fn uploaded_bytes(registry: &Registry) -> u64 {
    registry
        .requests()
        .iter()
        .filter(|r| r.starts_with("PUT ") && r.contains("/blobs/uploads/"))
        .filter_map(|r| r.split("digest=").nth(1))
        .map(|d| registry.blob_size(&d.split('&').next().unwrap().replace("%3A", ":")))
        .sum()
}

/// The bytes of the blobs the registry served (each answer's bytes: a ranged GET its part).
fn downloaded_bytes(registry: &Registry) -> u64 {
    registry.blob_downloads().iter().map(|(_, _, bytes)| bytes).sum()
}

/// The bytes the hashing pass of a push read (its `hashed` event), and the manifest digest.
fn push_counting(cwd: &Path, cache: &Path, suite: &Path, at: &str) -> (u64, String) {
    let args = ["push", "--plain-http", "--log-format", "json", suite.to_str().unwrap(), at];
    let run = run_env(cwd, &[("ZOO_OCI_CACHE", cache.to_str().unwrap())], &args);
    run.ok();
    let hashed = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["event"] == "hashed")
        .and_then(|e| e["bytes"].as_u64())
        .unwrap_or_else(|| panic!("no hashed event: {}", run.stderr));
    (hashed, run.stdout.trim().to_string())
}

#[test]
fn a_config_only_change_re_pushes_and_re_pulls_under_a_mebibyte_and_hashes_no_shard() {
    let tmp = scratch();
    let registry = Registry::plain();
    let cache = tmp.path().join("cache");
    let suite = sharded_suite(tmp.path());
    let total = (SHARDS * SHARD_BYTES) as u64;

    let v1 = registry.at("zoo/sharded:1");
    let (hashed, _) = push_counting(tmp.path(), &cache, &suite, &v1);
    assert!(hashed >= total, "the first push reads every shard: {hashed}");
    let pulled = |at: &str| {
        let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
        run_env(tmp.path(), &env, &["pull", "--cache", "-q", "--plain-http", at]).ok();
    };
    pulled(&v1);

    // A 19-byte change to config.json, pushed as a new tag.
    write(&suite, "model/config.json", r#"{"model_type": "tiny", "hidden_size": 8, "x": 1}"#, false);
    registry.clear_requests();
    let v2 = registry.at("zoo/sharded:2");
    let (hashed, _) = push_counting(tmp.path(), &cache, &suite, &v2);
    assert!(hashed < MIB, "the digest cache reads no unchanged shard: {hashed} bytes hashed");
    let sent = uploaded_bytes(&registry);
    assert!(sent > 0 && sent < MIB, "a config-only change re-pushes under 1 MiB: {sent} bytes");

    registry.clear_requests();
    pulled(&v2);
    let fetched = downloaded_bytes(&registry);
    assert!(fetched > 0 && fetched < MIB, "and pulls under 1 MiB into the cache after v1: {fetched} bytes");
}

#[test]
fn shards_download_side_by_side_up_to_the_concurrency() {
    let tmp = scratch();
    let registry = Registry::plain();
    let suite = sharded_suite(tmp.path());
    let at = registry.at("zoo/sharded:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    // Each blob answer is held 300 ms: shards fetched one after another would take 4 × 300 ms.
    let proxy =
        crate::util::proxy::FaultProxy::start(&registry.addr, crate::util::proxy::Fault::Delay("/blobs/sha256:", 300));
    let out = tmp.path().join("out");
    run_in(
        tmp.path(),
        &["pull", "-q", "--plain-http", "--concurrency", "4", &proxy.at("zoo/sharded:1"), "-o", out.to_str().unwrap()],
    )
    .ok();
    assert_same_tree(&suite, &out);
    // The proxy logs each request as it arrives and `DONE …` once answered: the most blob GETs
    // between the two is how many moved side by side.
    let (mut in_flight, mut most) = (0, 0);
    for line in proxy.log() {
        if line.contains("/blobs/sha256:") && line.starts_with("GET ") {
            in_flight += 1;
            most = most.max(in_flight);
        } else if line.contains("/blobs/sha256:") && line.starts_with("DONE GET ") {
            in_flight -= 1;
        }
    }
    assert_eq!(most, 4, "--concurrency 4 keeps 4 blob downloads in flight: {:#?}", proxy.log());
}

/// The committed fixture: a layout written by zoo-oci before weight files became layers of their
/// own (a three-file ONNX variant as one weight tar, a one-file variant, scripts, notebooks, a
/// test set, README, licence, docs); `v1-layout.files` lists each file's sha256, mode and path.
fn fixture(tmp: &Path) -> (PathBuf, Vec<(String, String, String)>) {
    let layout = tmp.join("v1-layout");
    copy_tree(&repo().join("tests/fixtures/v1-layout"), &layout);
    let listing = fs::read_to_string(repo().join("tests/fixtures/v1-layout.files")).unwrap();
    let files = listing
        .lines()
        .map(|l| {
            let mut parts = l.splitn(3, ' ');
            let (sha, mode, path) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            (path.to_string(), sha.to_string(), mode.to_string())
        })
        .collect();
    (layout, files)
}

/// Every file below `dir` as (path, sha256 hex, mode in octal), the pull record left out.
fn listing(dir: &Path) -> Vec<(String, String, String)> {
    tree(dir)
        .into_iter()
        .map(|(path, bytes, mode)| (path, of_bytes(&bytes)["sha256:".len()..].to_string(), format!("{mode:o}")))
        .collect()
}

#[test]
fn an_artifact_written_before_the_change_pulls_byte_for_byte() {
    let tmp = scratch();
    let (layout, files) = fixture(tmp.path());
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &format!("oci:{}:1.0.0", layout.display()), "-o", out.to_str().unwrap()]).ok();
    assert_eq!(listing(&out), files);
    let m = manifest(&layout, "1.0.0");
    assert!(
        layers(&m).iter().any(|l| l["mediaType"] == media::WEIGHT_TAR),
        "the fixture holds the old format's weight tar: {m}"
    );
}

#[test]
fn selections_give_the_same_folders_from_the_old_and_the_new_format() {
    let tmp = scratch();
    let (old, _) = fixture(tmp.path());
    let old = format!("oci:{}:1.0.0", old.display());
    // The same suite, pushed by this zoo-oci.
    let suite = tmp.path().join("suite");
    run_in(tmp.path(), &["pull", "-q", &old, "-o", suite.to_str().unwrap()]).ok();
    fs::remove_file(suite.join(".zoo-oci.json")).unwrap();
    let new = format!("oci:{}:1.0.0", tmp.path().join("new").display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &new]).ok();
    let m = manifest(&tmp.path().join("new"), "1.0.0");
    let types: Vec<&str> = layers(&m).iter().map(|l| l["mediaType"].as_str().unwrap()).collect();
    assert!(!types.contains(&media::WEIGHT_TAR), "the new writer splits the ONNX folder: {types:?}");

    let selections: [&[&str]; 6] = [
        &[],
        &["--variant", "onnx"],
        &["--framework", "safetensors"],
        &["--only", "model"],
        &["--only", "model", "--variant", "onnx", "--include", "models/onnx/*.json"],
        &["--include", "**/*.onnx"],
    ];
    for (i, selection) in selections.iter().enumerate() {
        let pull = |from: &str, to: &str| {
            let dest = tmp.path().join(format!("{to}-{i}"));
            let mut args = vec!["pull", "-q", from, "-o", dest.to_str().unwrap()];
            args.extend_from_slice(selection);
            run_in(tmp.path(), &args).ok();
            listing(&dest)
        };
        let (a, b) = (pull(&old, "old"), pull(&new, "new"));
        assert!(!a.is_empty(), "{selection:?} selects something");
        assert_eq!(a, b, "{selection:?} gives the same folder from both formats");
    }
}

#[test]
fn check_strict_passes_what_init_writes_for_a_sharded_checkpoint_and_catches_a_missing_shard() {
    let tmp = scratch();
    let suite = sharded_suite(tmp.path());
    // A Hugging Face folder as downloaded: no zoo.yaml, a model card with its licence.
    let folder = tmp.path().join("downloaded");
    copy_tree(&suite.join("model"), &folder.join("model"));
    write(
        &folder,
        "README.md",
        "---\nlicense: mit\npipeline_tag: text-generation\n---\n# Sharded\n\nFour shards.\n",
        false,
    );
    run_in(tmp.path(), &["init", folder.to_str().unwrap()]).ok();
    let descriptor = fs::read_to_string(folder.join("zoo.yaml")).unwrap();
    let expected = format!("params: {}", SHARDS * SHARD_BYTES / 4);
    assert!(descriptor.contains(&expected), "init sums the shards' parameters:\n{descriptor}");
    run_in(tmp.path(), &["check", "--strict", folder.to_str().unwrap()]).ok();

    // A shard the index names but the folder lacks: the checkpoint cannot load.
    fs::remove_file(folder.join("model/model-00003-of-00004.safetensors")).unwrap();
    run_in(tmp.path(), &["check", folder.to_str().unwrap()])
        .code(1)
        .stderr_has("model/model.safetensors.index.json names shards the variant does not hold: model/model-00003-of-00004.safetensors");
    // A truncated shard: the index's total_size says so.
    copy_tree(&suite.join("model"), &folder.join("model"));
    let shard = folder.join("model/model-00002-of-00004.safetensors");
    let bytes = fs::read(&shard).unwrap();
    fs::write(&shard, &bytes[..bytes.len() - 4]).unwrap();
    run_in(tmp.path(), &["check", folder.to_str().unwrap()]).ok().stderr_has(&format!(
        "model/model.safetensors.index.json says the shards hold {} bytes of tensors, but they hold {}",
        SHARDS * SHARD_BYTES,
        SHARDS * SHARD_BYTES - 4
    ));
}
