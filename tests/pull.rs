//! `zoo-oci pull`: round trips byte for byte, selection, idempotence, and atomic replacement.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

struct Pushed {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    suite: PathBuf,
    location: String,
}

fn pushed_small_suite() -> Pushed {
    let tmp = scratch();
    let root = tmp.path().to_path_buf();
    let suite = small_suite(&root);
    let location = format!("oci:{}:v1", root.join("zoo").display());
    run_in(&root, &["push", "-q", suite.to_str().unwrap(), &location]).ok();
    Pushed { _tmp: tmp, root, suite, location }
}

fn files_under(root: &Path) -> Vec<String> {
    tree(root).into_iter().map(|(name, _, _)| name).collect()
}

fn leftovers(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-") || n.contains(".old-"))
        .collect()
}

/// Every example suite, by name, checked complete.
fn examples() -> Vec<(String, PathBuf)> {
    let mut found: Vec<String> = fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|dir| dir.join("zoo.yaml").is_file())
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    found.sort();
    found.into_iter().map(|name| (name.clone(), example(&name))).collect()
}

#[test]
fn every_example_suite_round_trips_through_a_layout_byte_for_byte() {
    let tmp = scratch();
    let mut round_trips = 0;
    for (name, suite) in examples() {
        let layout = tmp.path().join("zoo");
        let location = format!("oci:{}:{name}", layout.display());
        run_in(tmp.path(), &["push", "-q", "--strict", suite.to_str().unwrap(), &location]).ok();
        let out = tmp.path().join("pulled").join(&name);
        run_in(tmp.path(), &["pull", "-q", &location, "-o", out.to_str().unwrap()]).ok();
        assert_same_tree(&suite, &out);
        round_trips += 1;
    }
    assert!(round_trips >= 2, "expected at least two example suites");
}

#[test]
fn the_multi_framework_example_has_several_frameworks_scripts_a_notebook_and_a_test_set() {
    // Pins what the round trip above covers: a real suite with all the classes.
    let tmp = scratch();
    let mut best: Option<(usize, Value)> = None;
    for (name, suite) in examples() {
        let layout = tmp.path().join(&name);
        run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:x", layout.display())]).ok();
        let m = manifest(&layout, "x");
        let frameworks = m["annotations"]["io.zoo-oci.frameworks"].as_str().unwrap().split(',').count();
        if best.as_ref().is_none_or(|(n, _)| frameworks > *n) {
            best = Some((frameworks, m));
        }
    }
    let (frameworks, m) = best.expect("examples exist");
    assert!(frameworks >= 2, "no example has two frameworks");
    let classes: Vec<&str> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["annotations"]["io.zoo-oci.class"].as_str().unwrap())
        .collect();
    for class in ["model", "scripts", "notebooks", "dataset", "readme", "license", "docs"] {
        assert!(classes.contains(&class), "the multi-framework example lacks {class}: {classes:?}");
    }
    let readme = m["annotations"]["io.zoo-oci.readme"].as_str().unwrap();
    assert!(!readme.is_ascii(), "the README should be real UTF-8");
}

#[test]
fn pull_round_trips_files_and_modes_and_records_what_it_pulled() {
    let p = pushed_small_suite();
    let out = p.root.join("deep/new/dir");
    run_in(&p.root, &["pull", "-q", &p.location, "-o", out.to_str().unwrap()]).ok().stdout_has("deep/new/dir");
    assert_same_tree(&p.suite, &out);
    let record: Value = serde_json::from_slice(&fs::read(out.join(".zoo-oci.json")).unwrap()).unwrap();
    assert_eq!(record["source"], p.location);
    assert!(record["manifest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(record["files"].as_array().unwrap().len(), tree(&p.suite).len());
    assert!(leftovers(&p.root.join("deep/new")).is_empty());
}

#[test]
fn pull_without_output_writes_a_folder_named_after_the_suite() {
    let p = pushed_small_suite();
    run_in(&p.root, &["pull", "-q", &p.location]).ok();
    assert_same_tree(&p.suite, &p.root.join("tiny"));
}

#[test]
fn only_variant_framework_and_include_select_what_is_written() {
    let p = pushed_small_suite();
    let pull = |name: &str, extra: &[&str]| -> Vec<String> {
        let out = p.root.join(name);
        let mut args = vec!["pull", "-q", p.location.as_str(), "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        run_in(&p.root, &args).ok();
        files_under(&out)
    };
    assert_eq!(
        pull("models", &["--only", "model"]),
        ["models/model.safetensors", "models/onnx/extra/weights.bin", "models/onnx/model.onnx"]
    );
    assert_eq!(pull("variant", &["--only", "model", "--variant", "safetensors"]), ["models/model.safetensors"]);
    assert_eq!(
        pull("fw", &["--framework", "onnx", "--only", "model,readme"]),
        ["README.md", "models/onnx/extra/weights.bin", "models/onnx/model.onnx"]
    );
    // --variant narrows models but keeps the other classes
    let with_rest = pull("rest", &["--variant", "safetensors"]);
    assert!(
        with_rest.contains(&"scripts/infer.py".to_string()) && !with_rest.iter().any(|f| f.contains("onnx")),
        "{with_rest:?}"
    );
    assert_eq!(pull("py", &["--include", "*.py"]), ["scripts/common.py", "scripts/infer.py", "scripts/validate.py"]);
    assert_eq!(
        pull("deep", &["--include", "models/onnx/**"]),
        ["models/onnx/extra/weights.bin", "models/onnx/model.onnx"]
    );
    assert_eq!(
        pull("two", &["--include", "README.md", "--include", "sample-1.csv"]),
        ["README.md", "data/test/sample-1.csv"]
    );
    // the executable bit survives a selective pull
    let script = fs::metadata(p.root.join("py/scripts/infer.py")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&script.permissions()) & 0o777, 0o755);
}

#[test]
fn a_selection_matching_nothing_is_not_found_and_lists_what_exists() {
    let p = pushed_small_suite();
    let out = p.root.join("none");
    let o = out.to_str().unwrap();
    let run = run_in(&p.root, &["pull", &p.location, "-o", o, "--variant", "tflite"]);
    run.code(4)
        .stderr_has("no model variant \"tflite\"")
        .stderr_has("model variants onnx-opset13 (onnx), safetensors (safetensors)");
    assert_eq!(
        run.stderr.matches("onnx-opset13").count(),
        1,
        "a variant of two weight files is named once: {}",
        run.stderr
    );
    run_in(&p.root, &["pull", &p.location, "-o", o, "--include", "*.nothing"]).code(4).stderr_has("matches nothing");
    run_in(&p.root, &["pull", &p.location, "-o", o, "--only", "weights"])
        .code(2)
        .stderr_has("unknown class \"weights\"");
    assert!(!out.exists());
    assert!(leftovers(&p.root).is_empty());
}

#[test]
fn pulling_the_same_digest_again_is_a_no_op() {
    let p = pushed_small_suite();
    let out = p.root.join("out");
    let o = out.to_str().unwrap();
    run_in(&p.root, &["pull", "-q", &p.location, "-o", o]).ok();
    let before = fs::metadata(out.join("models/onnx/model.onnx")).unwrap().modified().unwrap();
    let second = run_in(&p.root, &["pull", "--format", "json", &p.location, "-o", o]);
    let v: Value = serde_json::from_str(&second.ok().stdout).unwrap();
    assert_eq!(v["up_to_date"], true);
    assert_eq!(v["layers"], 0);
    assert_eq!(fs::metadata(out.join("models/onnx/model.onnx")).unwrap().modified().unwrap(), before);
    // A different selection is a different pull.
    let third = run_in(&p.root, &["pull", "--format", "json", &p.location, "-o", o, "--only", "readme"]);
    let v: Value = serde_json::from_str(&third.ok().stdout).unwrap();
    assert_eq!(v["up_to_date"], false);
    assert_eq!(files_under(&out), ["README.md"]);
    // A deleted file is noticed: the pull is done again.
    let fourth = run_in(&p.root, &["pull", "--format", "json", &p.location, "-o", o, "--only", "readme"]);
    assert_eq!(serde_json::from_str::<Value>(&fourth.stdout).unwrap()["up_to_date"], true);
    fs::remove_file(out.join("README.md")).unwrap();
    let fifth = run_in(&p.root, &["pull", "--format", "json", &p.location, "-o", o, "--only", "readme"]);
    assert_eq!(serde_json::from_str::<Value>(&fifth.stdout).unwrap()["up_to_date"], false);
    assert!(out.join("README.md").is_file());
}

#[test]
fn a_new_digest_replaces_a_folder_zoo_oci_created() {
    let p = pushed_small_suite();
    let out = p.root.join("out");
    let o = out.to_str().unwrap();
    run_in(&p.root, &["pull", "-q", &p.location, "-o", o]).ok();
    write(&p.suite, "scripts/common.py", "X = 42\n", false);
    fs::remove_file(p.suite.join("docs/card.md")).unwrap();
    write(&p.suite, "docs/other.md", "new\n", false);
    run_in(&p.root, &["push", "-q", p.suite.to_str().unwrap(), &p.location]).ok();
    run_in(&p.root, &["pull", "-q", &p.location, "-o", o]).ok();
    assert_same_tree(&p.suite, &out);
    assert!(leftovers(&p.root).is_empty(), "{:?}", leftovers(&p.root));
}

#[test]
fn a_non_empty_folder_zoo_oci_did_not_create_is_refused_unless_forced() {
    let p = pushed_small_suite();
    let out = p.root.join("mine");
    write(&out, "precious.txt", "do not lose me", false);
    run_in(&p.root, &["pull", &p.location, "-o", out.to_str().unwrap()])
        .code(1)
        .stderr_has("not empty and was not written by zoo-oci")
        .stderr_has("--force");
    assert_eq!(fs::read_to_string(out.join("precious.txt")).unwrap(), "do not lose me");
    // --force writes the suite's files into it and keeps the files that were there.
    run_in(&p.root, &["pull", "-q", "--force", &p.location, "-o", out.to_str().unwrap()]).ok();
    assert_eq!(fs::read_to_string(out.join("precious.txt")).unwrap(), "do not lose me");
    fs::remove_file(out.join("precious.txt")).unwrap();
    assert_same_tree(&p.suite, &out);
    // An empty folder is fine without --force.
    let empty = p.root.join("empty");
    fs::create_dir(&empty).unwrap();
    run_in(&p.root, &["pull", "-q", &p.location, "-o", empty.to_str().unwrap()]).ok();
}

#[test]
fn a_failed_pull_leaves_the_previous_content_untouched() {
    let p = pushed_small_suite();
    let out = p.root.join("out");
    let o = out.to_str().unwrap();
    run_in(&p.root, &["pull", "-q", &p.location, "-o", o]).ok();
    let before = tree(&out);
    // A new version whose model blob is then corrupted in the layout.
    write(&p.suite, "models/model.safetensors", pseudo_random(20_000, 99), false);
    run_in(&p.root, &["push", "-q", p.suite.to_str().unwrap(), &p.location]).ok();
    let m = manifest(&p.root.join("zoo"), "v1");
    let layer = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["annotations"]["io.zoo-oci.variant"] == "safetensors")
        .unwrap();
    let path = blob_path(&p.root.join("zoo"), layer["digest"].as_str().unwrap());
    let mut bytes = fs::read(&path).unwrap();
    bytes[1000] ^= 0xff;
    fs::write(&path, bytes).unwrap();
    run_in(&p.root, &["pull", &p.location, "-o", o]).code(5).stderr_has("digest mismatch");
    assert_eq!(tree(&out), before, "the old content must stay");
    assert!(leftovers(&p.root).is_empty(), "{:?}", leftovers(&p.root));
}

#[test]
fn pull_by_digest_works() {
    let p = pushed_small_suite();
    let m = index_json(&p.root.join("zoo"));
    let digest = m["manifests"][0]["digest"].as_str().unwrap();
    let out = p.root.join("bydigest");
    run_in(
        &p.root,
        &["pull", "-q", &format!("oci:{}@{digest}", p.root.join("zoo").display()), "-o", out.to_str().unwrap()],
    )
    .ok();
    assert_same_tree(&p.suite, &out);
}

/// A pulled folder, a file the user added at the top, one inside a folder of the suite and a
/// folder of their own, and a new version of the suite (`scripts/common.py` changed).
fn pulled_then_added_to(p: &Pushed) -> PathBuf {
    let out = p.root.join("full");
    run_in(&p.root, &["pull", "-q", &p.location, "-o", out.to_str().unwrap()]).ok();
    write(&out, "my-results.txt", "accuracy 0.93", false);
    write(&out, "scripts/mine.py", "print('mine')\n", false);
    write(&out, "runs/1/log.txt", "epoch 1", false);
    write(&p.suite, "scripts/common.py", "X = 2\n", false);
    fs::remove_file(p.suite.join("docs/card.md")).unwrap();
    run_in(&p.root, &["push", "-q", p.suite.to_str().unwrap(), &p.location]).ok();
    out
}

fn assert_added_files_kept(out: &Path) {
    assert_eq!(fs::read_to_string(out.join("my-results.txt")).unwrap(), "accuracy 0.93");
    assert_eq!(fs::read_to_string(out.join("scripts/mine.py")).unwrap(), "print('mine')\n");
    assert_eq!(fs::read_to_string(out.join("runs/1/log.txt")).unwrap(), "epoch 1");
}

#[test]
fn a_re_pull_keeps_the_files_the_user_added_and_removes_only_its_own() {
    let p = pushed_small_suite();
    let out = pulled_then_added_to(&p);
    run_in(&p.root, &["pull", "-q", &p.location, "-o", out.to_str().unwrap()]).ok();
    assert_added_files_kept(&out);
    assert_eq!(fs::read_to_string(out.join("scripts/common.py")).unwrap(), "X = 2\n");
    assert!(!out.join("docs/card.md").exists(), "a file of the old version the new one lacks goes");
    // What is left besides the added files is the new version, byte for byte.
    for added in ["my-results.txt", "scripts/mine.py", "runs/1/log.txt"] {
        fs::remove_file(out.join(added)).unwrap();
    }
    fs::remove_dir_all(out.join("runs")).unwrap();
    assert_same_tree(&p.suite, &out);
    assert!(leftovers(&p.root).is_empty(), "{:?}", leftovers(&p.root));
}

#[test]
fn a_re_pull_stops_on_a_file_of_the_suite_the_user_changed_unless_forced() {
    let p = pushed_small_suite();
    let out = pulled_then_added_to(&p);
    let o = out.to_str().unwrap();
    write(&out, "scripts/infer.py", "print('my edit')\n", true);
    write(&out, "data/test/sample-1.csv", "a,b\n9,9\n", false); // same size, other bytes
    let before = tree(&out);
    run_in(&p.root, &["pull", &p.location, "-o", o])
        .code(1)
        .stderr_has("2 files of the suite in")
        .stderr_has("changed since they were pulled: data/test/sample-1.csv, scripts/infer.py")
        .stderr_has("--force");
    assert_eq!(tree(&out), before, "nothing was touched");
    // The same digest again stops too: an edit is not an up-to-date folder.
    run_in(&p.root, &["pull", &p.location, "-o", o]).code(1).stderr_has("scripts/infer.py");

    // A file touched but not changed is still the pull's.
    touch_ahead(&out.join("scripts/validate.py"), std::time::Duration::from_secs(5));

    run_in(&p.root, &["pull", "-q", "--force", &p.location, "-o", o]).ok();
    assert_added_files_kept(&out);
    assert_eq!(fs::read(out.join("scripts/infer.py")).unwrap(), fs::read(p.suite.join("scripts/infer.py")).unwrap());
    assert_eq!(
        fs::read(out.join("data/test/sample-1.csv")).unwrap(),
        fs::read(p.suite.join("data/test/sample-1.csv")).unwrap()
    );
    // Once replaced, the folder is the pull's again: up to date.
    let again = run_in(&p.root, &["pull", "--format", "json", &p.location, "-o", o]).ok().stdout.clone();
    assert!(again.contains("\"up_to_date\":true"), "{again}");
}

#[test]
fn a_file_the_user_added_where_the_new_version_has_one_stops_the_pull_unless_forced() {
    let p = pushed_small_suite();
    let out = p.root.join("out");
    let o = out.to_str().unwrap();
    run_in(&p.root, &["pull", "-q", &p.location, "-o", o]).ok();
    write(&out, "docs/new.md", "my notes", false);
    write(&p.suite, "docs/new.md", "the suite's new page\n", false);
    run_in(&p.root, &["push", "-q", p.suite.to_str().unwrap(), &p.location]).ok();
    run_in(&p.root, &["pull", &p.location, "-o", o])
        .code(1)
        .stderr_has("1 path in")
        .stderr_has("not from an earlier pull: docs/new.md")
        .stderr_has("--force");
    assert_eq!(fs::read_to_string(out.join("docs/new.md")).unwrap(), "my notes");
    assert!(leftovers(&p.root).is_empty(), "{:?}", leftovers(&p.root));
    run_in(&p.root, &["pull", "-q", "--force", &p.location, "-o", o]).ok();
    assert_same_tree(&p.suite, &out);
}
