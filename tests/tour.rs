//! The README's tour, run as written: its ```sh block, read from README.md, from the checkout
//! with `bash -euo pipefail`. It must succeed, write only into the scratch folder it makes for
//! itself, and leave there what it says it does.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// The tour's build line: the test has built `zoo-oci` already (cargo's test binary) and puts
/// that one on PATH instead, so that a stale release build is never what is tested.
const BUILD_LINE: &str = "cargo build --release && export PATH=\"$PWD/target/release:$PATH\"";

/// The first ```sh block under `## A tour` in README.md, without its build line.
fn tour() -> String {
    let readme = fs::read_to_string(repo().join("README.md")).expect("README.md reads");
    let section = readme.split_once("\n## A tour\n").expect("README.md has a \"## A tour\" section").1;
    let block = section.split_once("```sh\n").expect("the tour has a ```sh block").1;
    let block = block.split_once("\n```").expect("the tour's block ends").0;
    let (first, rest) = block.split_once('\n').expect("the tour has more than one line");
    assert!(
        first.starts_with(BUILD_LINE),
        "the tour's first line is expected to build zoo-oci and put it on PATH ({BUILD_LINE}); it is {first:?}"
    );
    rest.to_string()
}

/// What `git status` says of the checkout: modified, added and untracked files (ignored ones,
/// such as target/ and the examples' fetched model files, are not listed).
fn git_status() -> String {
    let out = Command::new("git")
        .current_dir(repo())
        .args(["status", "--porcelain", "--untracked-files=all"])
        .output()
        .expect("setup error: `git` is not installed (the tour's test compares the checkout's git status)");
    assert!(
        out.status.success(),
        "setup error: `git status` fails in {} (the tour's test needs a git checkout): {}",
        repo().display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The files below `root` (relative paths, sorted), the pull record left out.
fn files(root: &Path) -> Vec<String> {
    tree(root).into_iter().map(|(name, _, _)| name).collect()
}

#[test]
fn the_readme_tour_runs_as_written_in_a_scratch_folder_and_writes_nothing_into_the_checkout() {
    require_tool("skopeo");
    let script = tour();
    let tmp = scratch();
    // The tour's `mktemp -d` makes its scratch folder here, and only it: TMPDIR is empty.
    let tmpdir = tmp.path().join("tmp");
    fs::create_dir(&tmpdir).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_zoo-oci")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let before = git_status();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(repo())
        .env("PATH", path)
        .env("TMPDIR", &tmpdir)
        // The shared cache and the Docker config are the test's own; the user's stay untouched.
        .env("ZOO_OCI_CACHE", tmp.path().join("cache"))
        .env("DOCKER_CONFIG", tmp.path().join("docker"))
        .env_remove("ZOO_OCI_OFFLINE")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("bash runs");
    let run = Run::from(out);
    assert_eq!(
        run.code, 0,
        "the tour failed\n--- script:\n{script}\n--- stdout:\n{}\n--- stderr:\n{}",
        run.stdout, run.stderr
    );
    assert_eq!(git_status(), before, "the tour changed the checkout (git status before, then after)");
    assert!(!run.stderr.contains("--force"), "no step of the tour leads to --force:\n{}", run.stderr);

    let made: Vec<PathBuf> = fs::read_dir(&tmpdir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(made.len(), 1, "the tour makes one scratch folder: {made:?}");
    let here = &made[0];
    let mut entries: Vec<String> =
        fs::read_dir(here).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    entries.sort();
    assert_eq!(entries, ["backup", "iris", "iris-scripts", "serve", "zoo"], "what the tour leaves in its folder");

    // One layout per suite, each tagged with its version; the catalogue of the folder lists both.
    let iris_layout = here.join("zoo/iris-logreg");
    let squeeze_layout = here.join("zoo/squeezenet-light");
    let iris_digest = tagged(&iris_layout, "1.0");
    assert_eq!(tagged(&iris_layout, "stable"), iris_digest, "the tour's tag command");
    assert_eq!(tagged(&iris_layout, "latest"), iris_digest);
    assert!(!tagged(&squeeze_layout, "1.1.0").is_empty());
    run.stdout_has("2 suites in oci:./zoo").stdout_has("oci:./zoo/squeezenet-light:1.1.0");
    // The copy is the same manifest under the same tag.
    assert_eq!(tagged(&here.join("backup/iris-logreg"), "1.0"), iris_digest);

    // The pulls: the whole suite byte for byte; one model variant; the scripts alone.
    let examples = repo().join("examples");
    assert_same_tree(&examples.join("iris-logreg"), &here.join("iris"));
    assert_eq!(files(&here.join("serve")), ["models/squeezenet1.1-light.onnx"]);
    let mut scripts: Vec<String> =
        files(&examples.join("iris-logreg")).into_iter().filter(|f| f.ends_with(".py")).collect();
    scripts.sort();
    assert!(!scripts.is_empty());
    assert_eq!(files(&here.join("iris-scripts")), scripts, "--include '*.py' pulls the Python files only");
}

/// The digest `tag` points at in the layout at `layout`.
fn tagged(layout: &Path, tag: &str) -> String {
    let index = index_json(layout);
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("{} has no tag {tag}: {index}", layout.display()))["digest"]
        .as_str()
        .unwrap()
        .to_string()
}
