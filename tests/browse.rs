//! Browsing: `inspect` reads only the manifest; `index` catalogues a registry or a layout in
//! every format; the HTML page works in a real headless Chromium.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::registry::*;
use crate::util::*;

/// A third suite, of another modality and framework than the examples.
fn speech_suite(root: &Path) -> PathBuf {
    let dir = small_suite(root);
    let yaml = SMALL_SUITE_YAML
        .replace("name: tiny", "name: tiny-asr")
        .replace("task: image-classification", "task: speech_recognition")
        .replace("license: MIT", "license: Apache-2.0")
        .replace("framework: safetensors", "framework: pytorch")
        .replace("summary: A tiny suite for tests", "summary: Transcribes speech, tinily");
    write(&dir, "zoo.yaml", yaml, false);
    write(
        &dir,
        "README.md",
        "# Tiny ASR\n\nA *test* model that <b>never</b> transcribes.\n\n<script>alert('x')</script>\n",
        false,
    );
    dir
}

struct Zoo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    reg: Registry,
    layout: PathBuf,
}

fn zoo_with_three_suites() -> Zoo {
    let tmp = scratch();
    let root = tmp.path().to_path_buf();
    let reg = Registry::plain();
    let layout = root.join("layout");
    let speech = speech_suite(&root.join("speech"));
    for (suite, repo) in [
        (example("iris-logreg"), "zoo/iris-logreg"),
        (example("squeezenet-light"), "zoo/squeezenet"),
        (speech, "lab/tiny-asr"),
    ] {
        run_in(&root, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at(repo)]).ok();
        run_in(&root, &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}", layout.display())]).ok();
    }
    // A second tag of the same manifest is one entry with two tags.
    run_in(&root, &["tag", "--plain-http", &reg.at("zoo/iris-logreg:1.0"), "stable"]).ok();
    Zoo { _tmp: tmp, root, reg, layout }
}

fn index_json(z: &Zoo, extra: &[&str]) -> Value {
    let mut args = vec!["index", "--plain-http", z.reg.addr.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_in(&z.root, &args);
    serde_json::from_str(&run.ok().stdout).unwrap()
}

fn names(index: &Value) -> Vec<String> {
    let mut n: Vec<String> =
        index["suites"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect();
    n.sort();
    n
}

#[test]
fn inspect_reads_the_manifest_and_no_layer() {
    let z = zoo_with_three_suites();
    z.reg.clear_requests();
    let run = run_in(&z.root, &["inspect", "--plain-http", &z.reg.at("zoo/squeezenet:1.1.0")]);
    run.ok()
        .stdout_has("squeezenet-light 1.1.0")
        .stdout_has("image-classification (cv)")
        .stdout_has("onnx-external-data")
        .stdout_has("Inputs and outputs")
        .stdout_has("zoo-oci pull --plain-http 127.0.0.1:");
    assert!(!run.stdout.contains("\u{1b}["), "no terminal codes when stdout is not a terminal");
    assert!(!run.stdout.contains("\n  # "), "the README is rendered, not shown as Markdown source");
    let json = run_in(&z.root, &["inspect", "--plain-http", "--format", "json", &z.reg.at("zoo/squeezenet:1.1.0")]);
    let v: Value = serde_json::from_str(&json.ok().stdout).unwrap();
    assert_eq!(v["modality"], "cv");
    let requests = z.reg.requests();
    assert!(requests.iter().all(|r| !r.contains("/blobs/")), "inspect touched a blob: {requests:?}");
    assert!(requests.iter().any(|r| r.starts_with("GET ") && r.contains("/manifests/")), "{requests:?}");
}

#[test]
fn index_of_a_registry_groups_suites_by_modality_and_task() {
    let z = zoo_with_three_suites();
    let table = run_in(&z.root, &["index", "--plain-http", &z.reg.addr]);
    table
        .ok()
        .stdout_has("3 suites")
        .stdout_has("Computer vision (cv): 1")
        .stdout_has("Tabular (tabular): 1")
        .stdout_has("Audio (audio): 1")
        .stdout_has("automatic-speech-recognition")
        .stdout_has(&z.reg.at("zoo/iris-logreg:1.0"));
    let v = index_json(&z, &[]);
    assert_eq!(names(&v), ["iris-logreg", "squeezenet-light", "tiny-asr"]);
    assert_eq!(v["counts"]["cv"], 1);
    let iris = v["suites"].as_array().unwrap().iter().find(|s| s["name"] == "iris-logreg").unwrap();
    assert_eq!(iris["tags"], serde_json::json!(["1.0", "stable"]));
    assert_eq!(iris["modality"], "tabular");
    assert!(iris["metrics"].as_array().unwrap().iter().any(|m| m["type"] == "accuracy"));
    assert!(iris["variants"].as_array().unwrap().len() >= 2);
    // The documented shape.
    let schema: Value = serde_json::from_slice(&fs::read(repo().join("schemas/index.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn index_filters_narrow_the_catalogue() {
    let z = zoo_with_three_suites();
    assert_eq!(
        names(&index_json(&z, &["--task", "classification"])),
        ["squeezenet-light"],
        "an alias of image-classification"
    );
    assert_eq!(names(&index_json(&z, &["--framework", "pytorch"])), ["tiny-asr"]);
    assert_eq!(names(&index_json(&z, &["--license", "mit"])), ["iris-logreg"], "a part of MIT AND Apache-2.0");
    assert_eq!(names(&index_json(&z, &["--license", "Apache-2.0"])), ["iris-logreg", "squeezenet-light", "tiny-asr"]);
    assert_eq!(names(&index_json(&z, &["--query", "FLOWER"])), ["iris-logreg"]);
    assert!(names(&index_json(&z, &["--query", "nothing-like-this"])).is_empty());
    run_in(&z.root, &["index", "--plain-http", &z.reg.addr, "--task", "image-clasification"])
        .code(2)
        .stderr_has("did you mean \"image-classification\"");
}

#[test]
fn a_namespace_or_named_repositories_narrow_the_walk() {
    let z = zoo_with_three_suites();
    let run = run_in(&z.root, &["index", "--plain-http", &format!("{}/zoo", z.reg.addr), "--format", "json"]);
    let v: Value = serde_json::from_str(&run.ok().stdout).unwrap();
    assert_eq!(names(&v), ["iris-logreg", "squeezenet-light"]);
    z.reg.clear_requests();
    let run = run_in(&z.root, &["index", "--plain-http", &z.reg.addr, "--repo", "lab/tiny-asr", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.ok().stdout).unwrap();
    assert_eq!(names(&v), ["tiny-asr"]);
    assert!(z.reg.requests().iter().all(|r| !r.contains("_catalog")), "--repo needs no catalogue");
}

#[test]
fn index_of_a_layout_and_markdown_output() {
    let z = zoo_with_three_suites();
    let run = run_in(&z.root, &["index", &format!("oci:{}", z.layout.display()), "--format", "markdown"]);
    run.ok()
        .stdout_has("# Model zoo: oci:")
        .stdout_has("## Computer vision (cv)")
        .stdout_has("### Automatic Speech Recognition (`automatic-speech-recognition`)")
        .stdout_has("| [iris-logreg](#iris-logreg-1-0) | 1.0 |")
        .stdout_has("<a id=\"tiny-asr-1-0-0\"></a>")
        .stdout_has("- **Pull**: `zoo-oci pull oci:");
    // Into folders that do not exist yet.
    let out = z.root.join("site/wiki/index.md");
    assert!(!z.root.join("site").exists());
    run_in(
        &z.root,
        &["index", &format!("oci:{}", z.layout.display()), "--format", "markdown", "-o", out.to_str().unwrap()],
    )
    .ok();
    assert_eq!(fs::read_to_string(&out).unwrap(), run.stdout);
}

#[test]
fn index_of_a_folder_of_layouts_lists_each_layout_as_a_repository() {
    let tmp = scratch();
    let root = tmp.path();
    let zoo = root.join("zoo");
    let tiny = small_suite(&root.join("tiny"));
    let speech = speech_suite(&root.join("speech"));
    // One layout per suite, at any depth; both suites' tags are versions. A hidden folder is not
    // looked into; a folder holding no layout is passed by.
    for (suite, at) in [(&tiny, "tiny"), (&speech, "lab/tiny-asr"), (&tiny, ".trash/old")] {
        run_in(root, &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}", zoo.join(at).display())]).ok();
    }
    write(&zoo, "notes/readme.txt", "not a layout\n", false);

    let source = format!("oci:{}", zoo.display());
    let listed = |extra: &[&str]| -> Value {
        let mut args = vec!["index", source.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&run_in(root, &args).ok().stdout).unwrap()
    };
    let all = listed(&[]);
    assert_eq!(all["source"], source.as_str());
    assert_eq!(names(&all), ["tiny", "tiny-asr"]);
    assert_eq!(all["skipped"], serde_json::json!([]), "a folder without a layout is not an error");
    let by_name = |name: &str| all["suites"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap().clone();
    let asr = by_name("tiny-asr");
    assert_eq!(asr["repository"], format!("{source}/lab/tiny-asr").as_str());
    assert_eq!(asr["location"], format!("{source}/lab/tiny-asr:1.0.0").as_str());
    assert_eq!(by_name("tiny")["location"], format!("{source}/tiny:1.0.0").as_str());
    // Each entry's pull command works as printed.
    let pulled = root.join("pulled");
    run_in(root, &["pull", asr["location"].as_str().unwrap(), "-o", pulled.to_str().unwrap()]).ok();
    assert_same_tree(&speech, &pulled);

    // --repo names layouts by their path in the folder, as it names a registry's repositories.
    assert_eq!(names(&listed(&["--repo", "lab/tiny-asr"])), ["tiny-asr"]);
    let missing = listed(&["--repo", "tiny", "--repo", "gone"]);
    assert_eq!(names(&missing), ["tiny"]);
    assert_eq!(missing["skipped"][0]["location"], format!("{source}/gone").as_str());
    run_in(root, &["index", &source, "--repo", "../tiny"]).code(2).stderr_has("not a path inside");

    // A layout given directly is walked as before; --repo there is a mistake, said so.
    let one = format!("oci:{}", zoo.join("tiny").display());
    let direct: Value = serde_json::from_str(&run_in(root, &["index", &one, "--format", "json"]).ok().stdout).unwrap();
    assert_eq!(direct["suites"][0]["location"], format!("{one}:1.0.0").as_str());
    run_in(root, &["index", &one, "--repo", "tiny"]).code(2).stderr_has("is one layout");
    // A folder holding no layout at all is still an error.
    run_in(root, &["index", &format!("oci:{}", zoo.join("notes").display())])
        .code(4)
        .stderr_has("nor a folder holding any");
}

#[test]
fn index_of_one_suite_reference_is_an_index_of_that_suite() {
    let z = zoo_with_three_suites();
    let layout = format!("oci:{}", z.layout.display());
    let one = |location: &str| -> Value {
        let run = run_in(&z.root, &["index", "--plain-http", location, "--format", "json"]);
        let v: Value = serde_json::from_str(&run.ok().stdout).unwrap();
        assert_eq!(v["source"], location);
        v
    };

    let v = one(&z.reg.at("zoo/squeezenet:1.1.0"));
    assert_eq!(names(&v), ["squeezenet-light"], "only the suite named, not its registry");
    assert_eq!(v["suites"][0]["tags"], serde_json::json!(["1.1.0"]));
    assert_eq!(v["counts"], serde_json::json!({"cv": 1}));
    let schema: Value = serde_json::from_slice(&fs::read(repo().join("schemas/index.schema.json")).unwrap()).unwrap();
    let errors: Vec<String> =
        jsonschema::validator_for(&schema).unwrap().iter_errors(&v).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");

    // By digest: listed under every tag that points at it.
    let iris = one(&z.reg.at("zoo/iris-logreg:1.0"));
    let digest = iris["suites"][0]["digest"].as_str().unwrap();
    let by_digest = one(&z.reg.at(&format!("zoo/iris-logreg@{digest}")));
    assert_eq!(by_digest["suites"][0]["tags"], serde_json::json!(["1.0", "stable"]));
    assert_eq!(by_digest["suites"][0]["location"], z.reg.at("zoo/iris-logreg:1.0"));

    assert_eq!(names(&one(&format!("{layout}:1.0.0"))), ["tiny-asr"], "a layout's suite");
    run_in(&z.root, &["index", &format!("{layout}:1.0.0")]).ok().stdout_has("1 suite in oci:").stdout_has("tiny-asr");
    run_in(&z.root, &["index", &format!("{layout}:no-such-tag")]).code(4).stderr_has("no-such-tag");
    run_in(&z.root, &["index", &format!("{layout}:1.0.0"), "--repo", "x"]).code(2).stderr_has("names one suite");
}

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    require_tool("chromium");
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// The names of the cards the page shows (not hidden) after its script ran.
fn visible_cards(dom: &str) -> Vec<String> {
    let mut shown = Vec::new();
    for part in dom.split("<article ").skip(1) {
        let tag = &part[..part.find('>').unwrap()];
        if tag.contains(" hidden") {
            continue;
        }
        let name = tag.split("data-name=\"").nth(1).unwrap().split('"').next().unwrap();
        shown.push(name.to_string());
    }
    shown.sort();
    shown
}

#[test]
fn the_html_index_is_self_contained_and_its_filters_work_in_chromium() {
    let z = zoo_with_three_suites();
    let page = z.root.join("site/index.html");
    run_in(&z.root, &["index", "--plain-http", &z.reg.addr, "--format", "html", "-o", page.to_str().unwrap()]).ok();
    let html = fs::read_to_string(&page).unwrap();
    for external in ["<script src", "@import", "url(", "<img", "<iframe"] {
        assert!(!html.contains(external), "the page must not load {external}");
    }
    // The one link is an empty icon of its own (else a browser asks the server for /favicon.ico).
    assert_eq!(html.matches("<link").count(), 1);
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
    assert!(html.contains("<h1>Tiny ASR</h1>"), "README rendered from Markdown");
    assert!(!html.contains("<script>alert"), "a README's script is shown as text, never run");
    assert!(html.contains("data-copy=\"zoo-oci pull "), "copy buttons carry the pull command");

    let profile = z.root.join("chromium-profile");
    let url = format!("file://{}", page.display());
    let dom = |fragment: &str| {
        let out = chromium(&["--dump-dom", &format!("{url}{fragment}")], &profile);
        String::from_utf8(out.stdout).unwrap()
    };
    let all = dom("");
    assert_eq!(visible_cards(&all), ["iris-logreg", "squeezenet-light", "tiny-asr"]);
    assert!(all.contains("data-shown=\"3\""), "the script ran");
    assert_eq!(visible_cards(&dom("#framework=pytorch")), ["tiny-asr"]);
    assert_eq!(visible_cards(&dom("#modality=cv")), ["squeezenet-light"]);
    assert_eq!(visible_cards(&dom("#task=tabular-classification")), ["iris-logreg"]);
    assert_eq!(visible_cards(&dom("#license=MIT")), ["iris-logreg"]);
    assert_eq!(visible_cards(&dom("#q=flower")), ["iris-logreg"]);
    let none = dom("#q=no-such-model");
    assert!(visible_cards(&none).is_empty());
    assert!(none.contains("<p id=\"empty\">"), "the empty message shows");

    let shot = z.root.join("site/index.png");
    chromium(&["--window-size=1300,1000", &format!("--screenshot={}", shot.display()), &url], &profile);
    let png = fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    // Keep it where a person can look at it.
    let keep = repo().join("target/index-screenshot.png");
    let _ = fs::copy(&shot, keep);
}
