//! The OCI image layout target: format, tags, copy, inspect, concurrency, and skopeo reading
//! what we write and us reading what skopeo writes.

use std::fs;
use std::process::Command;

use serde_json::Value;

use crate::util::*;

fn skopeo(args: &[&str]) -> std::process::Output {
    require_tool("skopeo");
    let out = Command::new("skopeo").args(args).output().expect("skopeo runs");
    assert!(out.status.success(), "skopeo {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn a_layout_has_the_standard_files_and_tags_in_index_json() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("new/nested/zoo");
    let run = run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:v1", layout.display())]);
    run.ok();
    let digest = run.stdout.trim();
    let marker: Value = serde_json::from_slice(&fs::read(layout.join("oci-layout")).unwrap()).unwrap();
    assert_eq!(marker["imageLayoutVersion"], "1.0.0");
    let index = index_json(&layout);
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(index["manifests"][0]["digest"], digest);
    assert_eq!(index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"], "v1");
    // every blob is named by its digest
    for entry in fs::read_dir(layout.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        assert_eq!(zoo_oci::digest::of_bytes(&fs::read(&path).unwrap()), format!("sha256:{name}"));
    }
}

#[test]
fn skopeo_reads_what_we_write_and_we_read_what_skopeo_writes() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let ours = tmp.path().join("ours");
    let pushed = run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1.0.0", ours.display())]);
    pushed.ok();
    let raw = skopeo(&["inspect", "--raw", &format!("oci:{}:1.0.0", ours.display())]);
    assert_eq!(zoo_oci::digest::of_bytes(&raw.stdout), pushed.stdout.trim(), "skopeo sees our exact manifest bytes");
    let theirs = tmp.path().join("theirs");
    skopeo(&["copy", "-q", &format!("oci:{}:1.0.0", ours.display()), &format!("oci:{}:mirrored", theirs.display())]);
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &format!("oci:{}:mirrored", theirs.display()), "-o", out.to_str().unwrap()])
        .ok();
    assert_same_tree(&suite, &out);
    let inspect = run_in(tmp.path(), &["inspect", "--format", "json", &format!("oci:{}:mirrored", theirs.display())]);
    let v: Value = serde_json::from_str(&inspect.ok().stdout).unwrap();
    assert_eq!(v["digest"], pushed.stdout.trim(), "skopeo kept the manifest unchanged");
}

#[test]
fn an_unknown_tag_is_not_found_and_lists_the_tags() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:v1", layout.display())]).ok();
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", &format!("oci:{}:v2", layout.display()), "-o", out.to_str().unwrap()])
        .code(4)
        .stderr_has("tag \"v2\" not found")
        .stderr_has("the tags are: v1");
    assert!(!out.exists());
}

#[test]
fn a_missing_layout_is_not_found_with_a_hint() {
    let tmp = scratch();
    run_in(tmp.path(), &["inspect", "oci:nowhere:v1"]).code(4).stderr_has("nowhere does not exist").stderr_has("hint:");
}

#[test]
fn a_bad_location_is_a_usage_error() {
    let tmp = scratch();
    run_in(tmp.path(), &["inspect", "zoo:v1"]).code(2).stderr_has("unsupported location");
    run_in(tmp.path(), &["inspect", "oci:zoo:bad tag"]).code(2).stderr_has("invalid tag");
}

#[test]
fn tag_adds_tags_and_copy_mirrors_between_layouts() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let a = tmp.path().join("a");
    let pushed = run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:v1", a.display())]);
    let digest = pushed.ok().stdout.trim().to_string();
    run_in(tmp.path(), &["tag", &format!("oci:{}:v1", a.display()), "stable", "latest"]).ok();
    assert_eq!(manifest(&a, "stable"), manifest(&a, "latest"));
    run_in(tmp.path(), &["tag", &format!("oci:{}:v1", a.display()), "no good"]).code(2);

    let b = tmp.path().join("b");
    let copied =
        run_in(tmp.path(), &["copy", &format!("oci:{}@{digest}", a.display()), &format!("oci:{}:mirror", b.display())]);
    assert_eq!(copied.ok().stdout.trim(), digest);
    assert_eq!(manifest(&b, "mirror"), manifest(&a, "v1"));
    // A second copy finds every blob there.
    run_in(tmp.path(), &["copy", &format!("oci:{}:v1", a.display()), &format!("oci:{}:mirror", b.display())])
        .ok()
        .stderr_has("0 blobs copied");
    // Without a target tag, the source tag is kept.
    run_in(tmp.path(), &["copy", "-q", &format!("oci:{}:stable", a.display()), &format!("oci:{}", b.display())]).ok();
    assert_eq!(manifest(&b, "stable"), manifest(&a, "v1"));
}

#[test]
fn moving_a_tag_keeps_one_index_entry_per_tag() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let target = format!("oci:{}:latest", layout.display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &target]).ok();
    write(&suite, "scripts/common.py", "X = 3\n", false);
    let second = run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &target]);
    let index = index_json(&layout);
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index}");
    assert_eq!(entries[0]["digest"], second.ok().stdout.trim());
}

#[test]
fn concurrent_pushes_into_one_layout_keep_every_tag() {
    let tmp = scratch();
    let mut children = Vec::new();
    let layout = tmp.path().join("shared");
    for i in 0..8 {
        let root = tmp.path().join(format!("s{i}"));
        let suite = small_suite(&root);
        write(&suite, "scripts/common.py", format!("X = {i}\n"), false);
        let child = zoo()
            .current_dir(tmp.path())
            .args(["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:t{i}", layout.display())])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        children.push(child);
    }
    let digests: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        })
        .collect();
    let index = index_json(&layout);
    assert_eq!(index["manifests"].as_array().unwrap().len(), 8, "{index}");
    for (i, digest) in digests.iter().enumerate() {
        let out = tmp.path().join(format!("out{i}"));
        let pulled = run_in(
            tmp.path(),
            &["pull", "--format", "json", &format!("oci:{}:t{i}", layout.display()), "-o", out.to_str().unwrap()],
        );
        let v: Value = serde_json::from_str(&pulled.ok().stdout).unwrap();
        assert_eq!(&v["digest"], digest);
        assert_eq!(fs::read_to_string(out.join("scripts/common.py")).unwrap(), format!("X = {i}\n"));
    }
}

#[test]
fn inspect_shows_metadata_layers_and_readme_without_reading_layers() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:v1", layout.display())]).ok();
    // Remove every layer blob: inspect must not need them.
    let m = manifest(&layout, "v1");
    for layer in m["layers"].as_array().unwrap() {
        fs::remove_file(blob_path(&layout, layer["digest"].as_str().unwrap())).unwrap();
    }
    let text = run_in(tmp.path(), &["inspect", &format!("oci:{}:v1", layout.display())]);
    text.ok()
        .stdout_has("tiny 1.0.0")
        .stdout_has("image-classification (cv)")
        .stdout_has("onnx-opset13")
        .stdout_has("models/model.safetensors")
        .stdout_has("Übung macht den Meister")
        .stdout_has("tiny-test (test): accuracy 0.5")
        .stdout_has("zoo-oci pull oci:");
    let json = run_in(tmp.path(), &["inspect", "--format", "json", &format!("oci:{}:v1", layout.display())]);
    let v: Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_eq!(v["name"], "tiny");
    assert_eq!(v["task"], "image-classification");
    assert_eq!(v["layers"].as_array().unwrap().len(), 9);
    assert_eq!(v["layers"][0]["name"], "onnx-opset13");
    assert_eq!(v["layers"][0]["files"], 1);
    assert_eq!(v["descriptor"]["models"][1]["framework"], "safetensors");
    assert!(v["readme"].as_str().unwrap().contains("模型"));
}

#[test]
fn a_layout_with_several_tags_needs_one_named() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:a", layout.display())]).ok();
    run_in(tmp.path(), &["inspect", &format!("oci:{}", layout.display())]).ok();
    run_in(tmp.path(), &["tag", &format!("oci:{}:a", layout.display()), "b"]).ok();
    run_in(tmp.path(), &["inspect", &format!("oci:{}", layout.display())]).code(2).stderr_has("tags: a, b");
}

#[test]
fn progress_bars_on_a_terminal_and_plain_lines_otherwise() {
    require_tool("script");
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let bin = env!("CARGO_BIN_EXE_zoo-oci");
    let target = format!("oci:{}:tty", tmp.path().join("zoo").display());
    // `script` gives the command a terminal.
    // Both pushes share one digest cache, so the second knows the layers without reading them.
    let cache = tmp.path().join("cache");
    let out = Command::new("script")
        .env("ZOO_OCI_CACHE", &cache)
        .args(["-qfc", &format!("{bin} push {} {target}", suite.display()), "/dev/null"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains('\u{1b}'), "a terminal gets progress bars");
    assert!(shown.contains("copied  config (sha256:"), "and a line per blob: {shown}");
    let plain = run_env(
        tmp.path(),
        &[("ZOO_OCI_CACHE", cache.to_str().unwrap())],
        &["push", suite.to_str().unwrap(), &target.replace(":tty", ":plain")],
    );
    plain.ok().stderr_has("exists  models/onnx/");
    assert!(!plain.stderr.contains('\u{1b}') && !plain.stderr.contains('\r'), "{:?}", plain.stderr);
}

/// A tag in a shared layout belongs to one suite: another suite pushed onto it is refused,
/// naming both, unless --force; another version of the same suite moves it.
#[test]
fn pushing_another_suite_onto_a_taken_tag_is_refused_unless_forced() {
    let tmp = scratch();
    let tiny = small_suite(tmp.path());
    let other = tmp.path().join("other");
    copy_tree(&tiny, &other);
    write(&other, "zoo.yaml", SMALL_SUITE_YAML.replace("name: tiny", "name: other"), false);
    let layout = tmp.path().join("zoo");
    let at = format!("oci:{}:stable", layout.display());
    let first = run_in(tmp.path(), &["push", "-q", tiny.to_str().unwrap(), &at]).ok().stdout.trim().to_string();

    let refused = run_in(tmp.path(), &["push", "-q", other.to_str().unwrap(), &at]);
    refused.code(1).stderr_has("holds the suite tiny").stderr_has("pushing other there").stderr_has("--force");
    assert_eq!(manifest_digest(&layout, "stable"), first, "the tag did not move");

    // Another version of the same suite moves the tag, as a release does.
    write(&tiny, "zoo.yaml", SMALL_SUITE_YAML.replace("version: \"1.0.0\"", "version: \"1.0.1\""), false);
    let second = run_in(tmp.path(), &["push", "-q", tiny.to_str().unwrap(), &at]).ok().stdout.trim().to_string();
    assert_eq!(manifest_digest(&layout, "stable"), second);

    let forced =
        run_in(tmp.path(), &["push", "-q", "--force", other.to_str().unwrap(), &at]).ok().stdout.trim().to_string();
    assert_eq!(manifest_digest(&layout, "stable"), forced);
}

fn manifest_digest(layout: &std::path::Path, tag: &str) -> String {
    index_json(layout)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .map(|m| m["digest"].as_str().unwrap().to_string())
        .unwrap_or_default()
}
