//! The artifact encoding (DESIGN §2): ModelPack manifest and config, one layer per class,
//! annotations, reproducible bytes, size limits.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::*;

fn push(cwd: &Path, suite: &Path, layout: &Path, tag: &str) -> String {
    let run = run_in(cwd, &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:{tag}", layout.display())]);
    run.ok();
    run.stdout.trim().to_string()
}

fn layers_by_class<'a>(manifest: &'a Value, class: &str) -> Vec<&'a Value> {
    manifest["layers"].as_array().unwrap().iter().filter(|l| l["annotations"]["io.zoo-oci.class"] == class).collect()
}

#[test]
fn push_writes_a_modelpack_manifest_with_one_layer_per_class_and_variant() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let digest = push(tmp.path(), &suite, &layout, "v1");
    let m = manifest(&layout, "v1");
    assert_eq!(zoo_oci::digest::of_bytes(&blob(&layout, &digest)), digest);
    assert_eq!(m["schemaVersion"], 2);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m["artifactType"], "application/vnd.cncf.model.manifest.v1+json");
    assert_eq!(m["config"]["mediaType"], "application/vnd.cncf.model.config.v1+json");

    let models = layers_by_class(&m, "model");
    assert_eq!(models.len(), 3, "each weight file its own layer: two of the ONNX folder, one safetensors");
    let onnx = models[0];
    assert_eq!(onnx["mediaType"], "application/vnd.cncf.model.weight.v1.raw");
    let a = &onnx["annotations"];
    assert_eq!(a["org.cncf.model.filepath"], "models/onnx/extra/weights.bin");
    assert_eq!(a["org.opencontainers.image.title"], "models/onnx/extra/weights.bin");
    assert_eq!(a["io.zoo-oci.variant"], "onnx-opset13");
    assert_eq!(a["io.zoo-oci.framework"], "onnx");
    assert_eq!(a["io.zoo-oci.framework-version"], "1.14");
    assert_eq!(a["io.zoo-oci.precision"], "fp32");
    assert_eq!(models[1]["annotations"]["org.cncf.model.filepath"], "models/onnx/model.onnx");
    assert_eq!(models[1]["annotations"]["io.zoo-oci.variant"], "onnx-opset13");
    assert_eq!(models[2]["annotations"]["org.cncf.model.filepath"], "models/model.safetensors");

    let scripts = layers_by_class(&m, "scripts");
    assert_eq!(scripts.len(), 1);
    assert_eq!(scripts[0]["mediaType"], "application/vnd.cncf.model.code.v1.tar");
    assert_eq!(scripts[0]["annotations"]["org.cncf.model.filepath"], "scripts/");
    assert_eq!(scripts[0]["annotations"]["org.opencontainers.image.title"], "scripts.tar", "an archive, titled as one");
    assert_eq!(layers_by_class(&m, "notebooks")[0]["mediaType"], "application/vnd.cncf.model.code.v1.tar");
    let data = layers_by_class(&m, "dataset");
    assert_eq!(data.len(), 1, "the URL-only training set is not shipped");
    assert_eq!(data[0]["mediaType"], "application/vnd.cncf.model.dataset.v1.tar");
    assert_eq!(data[0]["annotations"]["io.zoo-oci.dataset"], "tiny-test");
    let readme = layers_by_class(&m, "readme")[0];
    assert_eq!(readme["mediaType"], "application/vnd.cncf.model.doc.v1.raw");
    assert_eq!(blob(&layout, readme["digest"].as_str().unwrap()), fs::read(suite.join("README.md")).unwrap());
    let meta: Value =
        serde_json::from_str(readme["annotations"]["org.cncf.model.file.metadata+json"].as_str().unwrap()).unwrap();
    assert_eq!(meta["name"], "README.md");
    assert_eq!(meta["mode"], 0o644);
    assert_eq!(meta["size"], fs::metadata(suite.join("README.md")).unwrap().len());
    assert_eq!(layers_by_class(&m, "license")[0]["mediaType"], "application/vnd.cncf.model.doc.v1.raw");
    let docs = layers_by_class(&m, "docs");
    assert_eq!(docs[0]["mediaType"], "application/vnd.cncf.model.doc.v1.tar");
    assert_eq!(docs[0]["annotations"]["org.cncf.model.filepath"], "./", "zoo.yaml and docs/ share no folder");
    assert_eq!(docs[0]["annotations"]["org.opencontainers.image.title"], "docs.tar", "never ./");
    assert_eq!(data[0]["annotations"]["org.opencontainers.image.title"], "dataset-tiny-test.tar");

    let ann = &m["annotations"];
    assert_eq!(ann["org.opencontainers.image.title"], "tiny");
    assert_eq!(ann["org.opencontainers.image.description"], "A tiny suite for tests");
    assert_eq!(ann["org.opencontainers.image.version"], "1.0.0");
    assert_eq!(ann["org.opencontainers.image.licenses"], "MIT");
    assert_eq!(ann["org.opencontainers.image.authors"], "Zoë Tester");
    assert_eq!(ann["org.opencontainers.image.source"], "https://example.org/tiny");
    assert_eq!(ann["io.zoo-oci.task"], "image-classification");
    assert_eq!(ann["io.zoo-oci.modality"], "cv");
    assert_eq!(ann["io.zoo-oci.frameworks"], "onnx,safetensors");
    assert_eq!(ann["io.zoo-oci.tags"], "test,tiny");
    assert_eq!(ann["io.zoo-oci.readme"].as_str().unwrap(), fs::read_to_string(suite.join("README.md")).unwrap());
    assert!(ann.get("org.opencontainers.image.created").is_none(), "created only on request");
    let record: Value = serde_json::from_str(ann["io.zoo-oci.suite"].as_str().unwrap()).unwrap();
    assert_eq!(record["descriptor"]["name"], "tiny");
    assert_eq!(record["descriptor"]["readme"], "README.md", "defaults are filled in");
    assert_eq!(record["descriptor"]["license_file"], "LICENSE");
    let first = &record["layers"][0];
    assert_eq!(first["digest"], onnx["digest"]);
    assert_eq!(first["name"], "onnx-opset13");
    let files = first["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["path"], "models/onnx/extra/weights.bin");
    assert_eq!(files[0]["size"], 5000);
    assert_eq!(files[0]["sha256"], zoo_oci::digest::of_bytes(&pseudo_random(5_000, 2)));
}

#[test]
fn the_config_is_a_valid_modelpack_config_with_a_diff_id_per_layer() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let at = format!("oci:{}:v1", layout.display());
    run_in(tmp.path(), &["push", "-q", "--compression", "zstd", suite.to_str().unwrap(), &at]).ok();
    let m = manifest(&layout, "v1");
    let config: Value = serde_json::from_slice(&blob(&layout, m["config"]["digest"].as_str().unwrap())).unwrap();
    let schema: Value =
        serde_json::from_slice(&fs::read(repo().join("schemas/modelpack/config-schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&config).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}\n{config}");
    assert_eq!(config["descriptor"]["name"], "tiny");
    assert_eq!(config["descriptor"]["licenses"][0], "MIT");
    assert_eq!(config["descriptor"]["datasetsURL"][0], "https://example.org/train.tar");
    assert_eq!(config["config"]["format"], "onnx");
    assert_eq!(config["config"]["paramSize"], "17.5K");
    let layers = m["layers"].as_array().unwrap();
    let diff_ids = config["modelfs"]["diffIds"].as_array().unwrap();
    assert_eq!(diff_ids.len(), layers.len());
    // An uncompressed layer's diff id is its digest; a zstd layer's is the digest of its tar.
    assert_eq!(diff_ids[0], layers[0]["digest"]);
    let scripts = layers.iter().position(|l| l["annotations"]["io.zoo-oci.class"] == "scripts").unwrap();
    let compressed = blob(&layout, layers[scripts]["digest"].as_str().unwrap());
    let tar = zstd::decode_all(&compressed[..]).unwrap();
    assert_eq!(diff_ids[scripts].as_str().unwrap(), zoo_oci::digest::of_bytes(&tar));
}

#[test]
fn layer_tars_are_reproducible_sorted_and_owned_by_root_at_time_zero() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    push(tmp.path(), &suite, &layout, "v1");
    let m = manifest(&layout, "v1");
    let scripts = layers_by_class(&m, "scripts")[0];
    let tar = blob(&layout, scripts["digest"].as_str().unwrap());
    let mut archive = tar::Archive::new(&tar[..]);
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let h = entry.header();
        assert_eq!(h.mtime().unwrap(), 0);
        assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
        assert_eq!(h.username().unwrap(), Some(""));
        seen.push((entry.path().unwrap().to_string_lossy().into_owned(), h.mode().unwrap()));
    }
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["scripts/", "scripts/common.py", "scripts/infer.py", "scripts/validate.py"]);
    assert_eq!(seen[1].1, 0o644);
    assert_eq!(seen[2].1, 0o755);
}

#[test]
fn the_same_suite_gives_the_same_manifest_digest_wherever_it_is_packed() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let first = push(tmp.path(), &suite, &tmp.path().join("a"), "v1");
    // A copy elsewhere, with other mtimes and created in another order, packs the same.
    let other = tmp.path().join("elsewhere/copy");
    copy_tree(&suite, &other);
    fs::write(other.join("LICENSE"), fs::read(suite.join("LICENSE")).unwrap()).unwrap();
    touch_ahead(&other.join("LICENSE"), std::time::Duration::from_secs(60));
    let second = push(tmp.path(), &other, &tmp.path().join("b"), "v1");
    assert_eq!(first, second);
    // And the manifest bytes themselves are identical.
    assert_eq!(blob(&tmp.path().join("a"), &first), blob(&tmp.path().join("b"), &second));
    // A changed script changes the digest.
    write(&other, "scripts/common.py", "X = 2\n", false);
    assert_ne!(push(tmp.path(), &other, &tmp.path().join("c"), "v1"), first);
}

#[test]
fn created_is_written_only_when_asked() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let plain = push(tmp.path(), &suite, &layout, "plain");
    let target = format!("oci:{}:dated", layout.display());
    let run =
        run_env(tmp.path(), &[("SOURCE_DATE_EPOCH", "1700000000")], &["push", "-q", suite.to_str().unwrap(), &target]);
    run.ok();
    assert_ne!(run.stdout.trim(), plain);
    let m = manifest(&layout, "dated");
    assert_eq!(m["annotations"]["org.opencontainers.image.created"], "2023-11-14T22:13:20Z");
    let again =
        run_env(tmp.path(), &[("SOURCE_DATE_EPOCH", "1700000000")], &["push", "-q", suite.to_str().unwrap(), &target]);
    assert_eq!(again.stdout, run.stdout, "the same epoch gives the same digest");
    let flag =
        run_in(tmp.path(), &["push", "-q", "--created", "2024-01-02T03:04:05Z", suite.to_str().unwrap(), &target]);
    flag.ok();
    assert_eq!(manifest(&layout, "dated")["annotations"]["org.opencontainers.image.created"], "2024-01-02T03:04:05Z");
}

#[test]
fn without_a_tag_the_suite_version_is_the_tag() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", suite.to_str().unwrap(), &format!("oci:{}", layout.display())])
        .ok()
        .stderr_has("pushed tiny 1.0.0 to oci:");
    assert_eq!(manifest(&layout, "1.0.0")["annotations"]["org.opencontainers.image.version"], "1.0.0");
}

#[test]
fn a_long_readme_is_cut_in_the_annotation_and_whole_in_its_layer() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    // 300 KiB of 3-byte characters: the cut must fall on a character boundary.
    let long = "模".repeat(100 * 1024);
    write(&suite, "README.md", &long, false);
    let layout = tmp.path().join("zoo");
    push(tmp.path(), &suite, &layout, "v1");
    let m = manifest(&layout, "v1");
    let annotation = m["annotations"]["io.zoo-oci.readme"].as_str().unwrap();
    assert!(annotation.len() <= 256 * 1024 && annotation.len() > 256 * 1024 - 3);
    assert!(long.starts_with(annotation));
    assert_eq!(m["annotations"]["io.zoo-oci.readme.truncated"], "true");
    let readme = layers_by_class(&m, "readme")[0];
    assert_eq!(blob(&layout, readme["digest"].as_str().unwrap()), long.as_bytes());
}

#[test]
fn a_manifest_over_4_mib_is_refused_before_anything_is_written() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let huge = "x".repeat(4 * 1024 * 1024 + 10);
    write(&suite, "zoo.yaml", format!("{SMALL_SUITE_YAML}x-notes: {huge}\n"), false);
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", suite.to_str().unwrap(), &format!("oci:{}:v1", layout.display())])
        .code(1)
        .stderr_has("over the 4194304 bytes registries accept")
        .stderr_has("io.zoo-oci.suite");
    assert!(!layout.exists(), "nothing may be written");
}

#[test]
fn layers_are_plain_tar_by_default_and_zstd_on_request() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    push(tmp.path(), &suite, &layout, "plain");
    for layer in manifest(&layout, "plain")["layers"].as_array().unwrap() {
        let media_type = layer["mediaType"].as_str().unwrap();
        assert!(media_type.ends_with(".tar") || media_type.ends_with(".raw"), "modctl and kit read it: {media_type}");
    }
    let at = format!("oci:{}:zstd", layout.display());
    run_in(tmp.path(), &["push", "-q", "--compression", "zstd", suite.to_str().unwrap(), &at]).ok();
    let m = manifest(&layout, "zstd");
    for class in ["scripts", "notebooks", "dataset", "docs"] {
        let media_type = layers_by_class(&m, class)[0]["mediaType"].as_str().unwrap();
        assert!(media_type.ends_with(".tar+zstd"), "{class}: {media_type}");
    }
    assert_eq!(layers_by_class(&m, "readme")[0]["mediaType"], "application/vnd.cncf.model.doc.v1.raw");
    for tag in ["plain", "zstd"] {
        let out = tmp.path().join(format!("out-{tag}"));
        run_in(tmp.path(), &["pull", "-q", &format!("oci:{}:{tag}", layout.display()), "-o", out.to_str().unwrap()])
            .ok();
        assert_same_tree(&suite, &out);
    }
}
