//! `diff A B`: files added, removed and changed per class, variants, metadata, from manifests
//! alone; between registry suites, layout suites, and one of each.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use zoo_oci::format::human_bytes;

use crate::util::registry::*;
use crate::util::*;

/// Two versions of the small suite: `b` has another safetensors model file (more weights), one
/// script more (`scripts/export.py`), one doc less (`docs/old.md`), version 1.1.0 and
/// licence Apache-2.0.
struct TwoVersions {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    a: PathBuf,
    b: PathBuf,
}

const EXPORT_PY: &str = "print('export')\n";

fn two_versions() -> TwoVersions {
    let tmp = scratch();
    let root = tmp.path().to_path_buf();
    let a = small_suite(&root.join("a"));
    write(&a, "docs/old.md", "Old notes.\n", false);
    let b = small_suite(&root.join("b"));
    write(&b, "models/model.safetensors", safetensors_model(&pseudo_random(24_000, 4)), false);
    write(&b, "scripts/export.py", EXPORT_PY, false);
    let yaml = SMALL_SUITE_YAML
        .replace("version: \"1.0.0\"", "version: \"1.1.0\"")
        .replace("license: MIT", "license: Apache-2.0")
        .replace("other: [scripts/common.py]", "other: [scripts/common.py, scripts/export.py]");
    write(&b, "zoo.yaml", yaml, false);
    TwoVersions { _tmp: tmp, root, a, b }
}

fn size_of(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

/// The lines that name a file or a variant (`+ `, `- `, `~ `), without their indent, sorted.
fn change_lines(stdout: &str) -> Vec<String> {
    let mut lines: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("  + ") || l.starts_with("  - ") || l.starts_with("  ~ "))
        .map(|l| l.trim_start().to_string())
        .collect();
    lines.sort();
    lines
}

/// What the text of a diff from `a` to `b` must list, and nothing else.
fn expected_change_lines(v: &TwoVersions) -> Vec<String> {
    let (model, yaml) = ("models/model.safetensors", "zoo.yaml");
    let mut lines = vec![
        format!("+ scripts/export.py ({})", human_bytes(EXPORT_PY.len() as u64)),
        "- docs/old.md".to_string(),
        format!("~ {model} ({})", size_change(size_of(&v.a.join(model)), size_of(&v.b.join(model)))),
        format!("~ {yaml} ({})", size_change(size_of(&v.a.join(yaml)), size_of(&v.b.join(yaml)))),
        // 20,000 and 24,000 bytes of float32 weights.
        "~ safetensors: params 5000 → 6000".to_string(),
    ];
    lines.sort();
    lines
}

/// How the text shows a changed size: rounded, or in bytes when rounding hides the change.
fn size_change(old: u64, new: u64) -> String {
    let (o, n) = (human_bytes(old), human_bytes(new));
    assert_ne!(old, new, "the test suites' changed files change size");
    if o == n { format!("{old} B → {new} B") } else { format!("{o} → {n}") }
}

fn field<'a>(changes: &'a Value, name: &str) -> &'a Value {
    changes.as_array().unwrap().iter().find(|c| c["field"] == name).unwrap_or_else(|| panic!("no {name} in {changes}"))
}

fn class<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["classes"].as_array().unwrap().iter().find(|c| c["class"] == name).unwrap_or_else(|| panic!("no {name}"))
}

/// Checks the JSON report of a diff from `a` to `b` against the files themselves.
#[track_caller]
fn assert_json_report(v: &TwoVersions, report: &Value) {
    assert_eq!(report["identical"], false);
    let classes: Vec<&str> =
        report["classes"].as_array().unwrap().iter().map(|c| c["class"].as_str().unwrap()).collect();
    assert_eq!(classes, ["model", "scripts", "docs"], "only the classes that changed, in layer order");

    let model = class(report, "model");
    assert_eq!(model["added"], json!([]));
    assert_eq!(model["removed"], json!([]));
    let [changed] = model["changed"].as_array().unwrap().as_slice() else { panic!("one model file changed: {model}") };
    let file = "models/model.safetensors";
    assert_eq!(changed["path"], file);
    assert_eq!(changed["old"]["size"], size_of(&v.a.join(file)));
    assert_eq!(changed["new"]["size"], size_of(&v.b.join(file)));
    assert_eq!(changed["new"]["digest"], zoo_oci::digest::of_bytes(&fs::read(v.b.join(file)).unwrap()));
    assert!(model["newSize"].as_u64().unwrap() > model["oldSize"].as_u64().unwrap(), "the layers grew: {model}");

    let scripts = class(report, "scripts");
    assert_eq!(
        scripts["added"],
        json!([{"path": "scripts/export.py", "size": EXPORT_PY.len(), "digest": zoo_oci::digest::of_bytes(EXPORT_PY.as_bytes()), "executable": false}])
    );
    assert_eq!(scripts["removed"], json!([]));
    assert_eq!(scripts["changed"], json!([]));

    let docs = class(report, "docs");
    let removed: Vec<&str> = docs["removed"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(removed, ["docs/old.md"]);
    let changed: Vec<&str> = docs["changed"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert_eq!(changed, ["zoo.yaml"], "the descriptor itself is a doc");

    let metadata = &report["metadata"];
    assert_eq!(
        (&field(metadata, "version")["old"], &field(metadata, "version")["new"]),
        (&json!("1.0.0"), &json!("1.1.0"))
    );
    assert_eq!(
        (&field(metadata, "license")["old"], &field(metadata, "license")["new"]),
        (&json!("MIT"), &json!("Apache-2.0"))
    );
    let fields: Vec<&str> = metadata.as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["version", "license", "scripts"], "the fields that changed, in zoo.yaml's order");

    let [variant] = report["variants"].as_array().unwrap().as_slice() else { panic!("one variant changed") };
    assert_eq!(variant["name"], "safetensors");
    assert_eq!(variant["changes"], json!([{"field": "params", "old": 5000, "new": 6000}]));
    assert_eq!(report["annotations"], json!([]), "what the descriptor makes is shown once, in metadata");
    assert_eq!((&report["a"]["version"], &report["b"]["version"]), (&json!("1.0.0"), &json!("1.1.0")));
}

#[test]
fn diff_of_two_registry_suites_lists_what_changed_and_downloads_no_layer() {
    let v = two_versions();
    let reg = Registry::plain();
    for suite in [&v.a, &v.b] {
        run_in(&v.root, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/tiny")]).ok();
    }
    reg.clear_requests();
    let (a, b) = (reg.at("zoo/tiny:1.0.0"), reg.at("zoo/tiny:1.1.0"));

    let run = run_in(&v.root, &["diff", "--plain-http", &a, &b]);
    run.ok() // they differ, and that is not an error
        .stdout_has(&format!("a  tiny 1.0.0  {a}  sha256:"))
        .stdout_has(&format!("b  tiny 1.1.0  {b}  sha256:"))
        .stdout_has("\nmodel  ")
        .stdout_has("\nscripts  ")
        .stdout_has("\ndocs  ")
        .stdout_has("\nmetadata\n  version: 1.0.0 → 1.1.0\n  license: MIT → Apache-2.0\n");
    assert_eq!(change_lines(&run.stdout), expected_change_lines(&v), "{}", run.stdout);
    for untouched in ["\nreadme", "\nlicense ", "\nnotebooks", "\ndataset", "README.md", "data/test/"] {
        assert!(!run.stdout.contains(untouched), "{untouched:?} did not change:\n{}", run.stdout);
    }

    let json = run_in(&v.root, &["diff", "--plain-http", "--format", "json", &a, &b]);
    let report: Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_json_report(&v, &report);

    let requests = reg.requests();
    let manifest_gets = requests.iter().filter(|r| r.starts_with("GET ") && r.contains("/manifests/")).count();
    assert!(manifest_gets >= 4, "both manifests were read, twice: {requests:?}");
    assert!(requests.iter().all(|r| !r.contains("/blobs/")), "diff touched a blob: {requests:?}");
}

#[test]
fn diff_of_two_layout_suites_reads_no_layer_blob() {
    let v = two_versions();
    let layout = v.root.join("zoo");
    let target = format!("oci:{}", layout.display());
    for suite in [&v.a, &v.b] {
        run_in(&v.root, &["push", "-q", suite.to_str().unwrap(), &target]).ok();
    }
    let b_digest = index_json(&layout)["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "1.1.0")
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    // The proof that no layer is read: there is none left to read.
    let mut deleted = 0;
    for tag in ["1.0.0", "1.1.0"] {
        for layer in manifest(&layout, tag)["layers"].as_array().unwrap() {
            if fs::remove_file(blob_path(&layout, layer["digest"].as_str().unwrap())).is_ok() {
                deleted += 1;
            }
        }
    }
    assert!(deleted >= 10, "the layers of both suites were deleted ({deleted})");
    let (a, b) = (format!("{target}:1.0.0"), format!("{target}@{b_digest}"));

    let run = run_in(&v.root, &["diff", &a, &b]);
    run.ok().stdout_has(&format!("b  tiny 1.1.0  {b}  "));
    assert_eq!(change_lines(&run.stdout), expected_change_lines(&v), "{}", run.stdout);

    let json = run_in(&v.root, &["diff", "--format", "json", &a, &b]);
    let report: Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_json_report(&v, &report);
    assert_eq!(report["b"]["digest"], b_digest);

    // Reversed, what was added is removed.
    let back = run_in(&v.root, &["diff", "--format", "json", &b, &a]);
    let report: Value = serde_json::from_str(&back.ok().stdout).unwrap();
    assert_eq!(class(&report, "scripts")["removed"][0]["path"], "scripts/export.py");
    assert_eq!(class(&report, "docs")["added"][0]["path"], "docs/old.md");

    run_in(&v.root, &["diff", &a, &format!("{target}:9.9.9")]).code(4).stderr_has("9.9.9");
}

#[test]
fn the_same_suite_in_a_registry_and_a_layout_has_no_changes() {
    let v = two_versions();
    let reg = Registry::plain();
    let layout = format!("oci:{}", v.root.join("zoo").display());
    run_in(&v.root, &["push", "-q", "--plain-http", v.a.to_str().unwrap(), &reg.at("zoo/tiny")]).ok();
    run_in(&v.root, &["push", "-q", v.a.to_str().unwrap(), &layout]).ok();
    let (a, b) = (reg.at("zoo/tiny:1.0.0"), format!("{layout}:1.0.0"));

    let run = run_in(&v.root, &["diff", "--plain-http", &a, &b]);
    run.ok().stdout_has("no changes");
    assert!(change_lines(&run.stdout).is_empty(), "{}", run.stdout);

    let json = run_in(&v.root, &["diff", "--plain-http", "--format", "json", &a, &b]);
    let report: Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_eq!(report["identical"], true);
    assert_eq!(report["a"]["digest"], report["b"]["digest"]);
    for list in ["classes", "variants", "metadata", "annotations"] {
        assert_eq!(report[list], json!([]), "{list}");
    }

    // And a registry suite against a changed one in the layout: the pair of stores works both ways.
    run_in(&v.root, &["push", "-q", v.b.to_str().unwrap(), &layout]).ok();
    let run = run_in(&v.root, &["diff", "--plain-http", &a, &format!("{layout}:1.1.0")]);
    assert_eq!(change_lines(&run.ok().stdout), expected_change_lines(&v));
}
