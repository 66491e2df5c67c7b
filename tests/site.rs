//! Issue 26: `index --format site` writes the zoo as a static site (a front page grouped by
//! modality and task with a table of every suite, a page per suite with every version, and
//! index.json), rewrites nothing when nothing changed, and reads right in a real browser:
//! Debian's Chromium driven by npm's puppeteer-core (tests/site/check.mjs), with axe-core.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::registry::Registry;
use crate::util::*;

/// A tabular suite of another framework, whose README tries raw HTML and a script, and whose
/// training set is a download with its checksum.
fn tabular_suite(root: &Path) -> PathBuf {
    let dir = root.join("tabular");
    write(&dir, "models/model.safetensors", safetensors_model(&pseudo_random(4_000, 11)), false);
    write(
        &dir,
        "README.md",
        "# Zebra tab\n\nStripes, <b>bold</b> claims.\n\n<script>document.title='owned'</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        false,
    );
    write(
        &dir,
        "zoo.yaml",
        "name: zebra-tab\nversion: \"3.1\"\nsummary: Zebra-striped tabular model\ntask: tabular-classification\nlicense: Apache-2.0\n\
         models:\n  - {name: safetensors, path: models/model.safetensors, framework: safetensors, precision: fp32}\n\
         datasets:\n  - {name: zebra-train, role: train, url: https://example.org/zebra-train.csv, sha256: 5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef, size: 123456}\n",
        false,
    );
    dir
}

struct Site {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    reg: Registry,
}

impl Site {
    fn dir(&self) -> PathBuf {
        self.root.join("site")
    }

    fn write(&self, extra: &[&str]) -> Run {
        let mut args = vec!["index", "--plain-http", &self.reg.addr, "--format", "site", "-o", "site"];
        args.extend_from_slice(extra);
        run_in(&self.root, &args)
    }

    fn page(&self, rel: &str) -> String {
        fs::read_to_string(self.dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

/// tiny 1.0.0 and 1.1.0 (a notebook more, a metric changed) in zoo/tiny, zebra-tab 3.1 in
/// lab/zebra-tab, and the iris example (a real README: tables, code) in zoo/iris-logreg.
fn zoo() -> Site {
    let tmp = scratch();
    let root = tmp.path().to_path_buf();
    let reg = Registry::plain();
    let tiny = small_suite(&root);
    run_in(&root, &["push", "-q", "--plain-http", tiny.to_str().unwrap(), &reg.at("zoo/tiny:1.0.0")]).ok();
    run_in(&root, &["tag", "--plain-http", &reg.at("zoo/tiny:1.0.0"), "stable"]).ok();
    write(&tiny, "notebooks/more.ipynb", r#"{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}"#, false);
    let yaml = SMALL_SUITE_YAML
        .replace("version: \"1.0.0\"", "version: \"1.1.0\"")
        .replace("notebooks: [notebooks/demo.ipynb]", "notebooks: [notebooks/demo.ipynb, notebooks/more.ipynb]")
        .replace("value: 0.5", "value: 0.75");
    write(&tiny, "zoo.yaml", yaml, false);
    run_in(&root, &["push", "-q", "--plain-http", tiny.to_str().unwrap(), &reg.at("zoo/tiny:1.1.0")]).ok();
    let tab = tabular_suite(&root);
    run_in(&root, &["push", "-q", "--plain-http", tab.to_str().unwrap(), &reg.at("lab/zebra-tab:3.1")]).ok();
    let iris = example("iris-logreg");
    run_in(&root, &["push", "-q", "--plain-http", iris.to_str().unwrap(), &reg.at("zoo/iris-logreg:1.0")]).ok();
    Site { _tmp: tmp, root, reg }
}

#[test]
fn the_site_has_a_grouped_front_page_a_page_per_suite_with_every_version_and_the_json() {
    let site = zoo();
    site.write(&[]).ok().stderr_has("wrote the site of 3 suites");
    let front = site.page("index.html");
    // Sections per modality and per task, each headed by its label, holding its suites.
    let cv = front.find("<h2 id=\"h-modality-cv\">Computer vision").expect("a section for vision");
    let tabular = front.find("<h2 id=\"h-modality-tabular\">").expect("a section for tabular data");
    let image_classification = front.find("<h3 id=\"h-task-image-classification\">Image Classification").unwrap();
    let tiny_card =
        front.find("<a class=\"name\" href=\"tiny/index.html\">tiny</a> <span class=\"version\">1.1.0</span>").unwrap();
    let zebra_card = front.find("<a class=\"name\" href=\"zebra-tab/index.html\">zebra-tab</a>").unwrap();
    assert!(
        cv < image_classification && image_classification < tiny_card && tiny_card < tabular && tabular < zebra_card
    );
    // The table view: a row per suite with its name and version.
    let table = &front[front.find("<table>").expect("a table")..];
    assert!(table.contains("<td><a href=\"tiny/index.html\">tiny</a></td><td>1.1.0</td>"), "{table}");
    assert!(table.contains("<td><a href=\"zebra-tab/index.html\">zebra-tab</a></td><td>3.1</td>"), "{table}");
    // Nothing from elsewhere: no src= or href= to another origin, no stylesheet or script files.
    for page in [&front, &site.page("tiny/index.html"), &site.page("zebra-tab/index.html")] {
        assert!(!page.contains("src=\"http") && !page.contains("rel=\"stylesheet\""), "a page fetches from elsewhere");
    }
    // index.json is `index --format json`, byte for byte.
    let json = run_in(&site.root, &["index", "--plain-http", &site.reg.addr, "--format", "json"]).ok().stdout.clone();
    assert_eq!(site.page("index.json"), json);
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["suites"].as_array().unwrap().len(), 4, "four versions");

    // A suite's page: its tutorial.
    let tiny = site.page("tiny/index.html");
    let at = site.reg.at("zoo/tiny:1.1.0");
    let pull =
        parsed["suites"].as_array().unwrap().iter().find(|s| s["location"] == at.as_str()).unwrap()["pull"].clone();
    assert_eq!(pull, format!("zoo-oci pull --plain-http {at} -o tiny"));
    for want in [
        "<h1>tiny <span class=\"version\">1.1.0</span></h1>",
        "<p class=\"summary\">A tiny suite for tests</p>",
        &format!("<code id=\"snippet-pull\">{}</code>", pull.as_str().unwrap()),
        &format!("model = zoo_oci.hub.load(&quot;{at}&quot;)"),
        &format!(
            "args: [&quot;pull&quot;, &quot;{at}&quot;, &quot;-o&quot;, &quot;/models/tiny&quot;, &quot;--only&quot;, &quot;model&quot;]"
        ),
        &format!("image: {{reference: &quot;{at}-image&quot;"),
        // README rendered.
        "<h1>Tiny — a test suite</h1>",
        // Variants with framework, precision, parameters, size.
        "<td>onnx-opset13</td><td>onnx 1.14</td>",
        // Files under their classes.
        "<h3>model</h3>",
        "<code>models/model.safetensors</code>",
        "<h3>notebooks</h3>",
        "<code>notebooks/more.ipynb</code>",
        // Datasets: the shipped one with its layer's digest, the download with its URL.
        "in the suite: <code>data/test/</code>",
        "https://example.org/train.tar",
        // Metrics, claimed.
        "<td>tiny-test</td><td>test</td><td>accuracy</td><td class=\"num\">0.75</td><td>not validated</td>",
        // Every version, each a link whose text is the version.
        "<li><a href=\"#v-1.1.0\">1.1.0</a>",
        "<li><a href=\"#v-1.0.0\">1.0.0</a>",
        "<section class=\"version\" id=\"v-1.0.0\"",
        &format!("Reference <code>{}</code>", site.reg.at("zoo/tiny:1.0.0")),
        // What changed from the one before.
        "<h4>Changes from 1.0.0</h4>",
        "notebooks: <code>notebooks/more.ipynb</code> added",
        "accuracy on tiny-test: 0.5 → 0.75",
        // A second tag of 1.0.0's manifest is the same version, listed once with both tags.
        "<li><a href=\"#v-1.0.0\">1.0.0</a> <span class=\"muted\">1.0.0, stable</span></li>",
    ] {
        assert!(tiny.contains(want), "tiny's page lacks {want:?}");
    }
    let zebra = site.page("zebra-tab/index.html");
    assert!(zebra.contains(
        "sha256 <code class=\"digest\">5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef</code>"
    ));
    assert!(zebra.contains("<a href=\"https://example.org/zebra-train.csv\""));
    // The README's raw HTML and script are text, never markup.
    assert!(zebra.contains("&lt;script&gt;document.title="), "the script is shown as text");
    assert!(!zebra.contains("<script>document.title"), "the README's script is in the page");
    assert!(!zebra.contains("<b>bold</b>"), "the README's raw HTML is in the page");
    assert!(zebra.contains("The first version listed."));
}

#[test]
fn writing_the_site_again_rewrites_nothing_and_a_suite_gone_loses_its_page() {
    let site = zoo();
    site.write(&[]).ok();
    let stamp = |rel: &str| fs::metadata(site.dir().join(rel)).unwrap().modified().unwrap();
    let pages = ["index.html", "index.json", "tiny/index.html", "zebra-tab/index.html", "iris-logreg/index.html"];
    let before: Vec<_> = pages.map(stamp).into();
    std::thread::sleep(std::time::Duration::from_millis(50));
    site.write(&[]).ok().stderr_has("0 files written, 5 unchanged");
    let after: Vec<_> = pages.map(stamp).into();
    assert_eq!(before, after, "a file was rewritten");
    // Only zoo/tiny indexed now: zebra-tab's page goes, with its folder; nothing else does.
    fs::write(site.dir().join("CNAME"), "zoo.example.org\n").unwrap();
    site.write(&["--repo", "zoo/tiny"]).ok().stderr_has("2 removed");
    assert!(!site.dir().join("zebra-tab").exists() && !site.dir().join("iris-logreg").exists());
    assert!(site.dir().join("tiny/index.html").exists());
    assert!(site.dir().join("CNAME").exists(), "a file the site did not write was removed");
    // A folder of someone else's files is refused, whole.
    let other = site.root.join("other");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join("index.html"), "mine").unwrap();
    run_in(&site.root, &["index", "--plain-http", &site.reg.addr, "--format", "site", "-o", "other"])
        .code(2)
        .stderr_has("did not write");
    assert_eq!(fs::read_to_string(other.join("index.html")).unwrap(), "mine");
    // And a site needs a folder.
    run_in(&site.root, &["index", "--plain-http", &site.reg.addr, "--format", "site"]).code(2).stderr_has("-o DIR");
}

/// What tests/site/check.mjs saw of the site in `dir`.
fn browse(dir: &Path, shots: &Path, search: &str, framework: &str) -> Value {
    browse_with(dir, shots, &[search, framework], false)
}

fn browse_with(dir: &Path, shots: &Path, words: &[&str], layout_only: bool) -> Value {
    require_tool("node");
    require_tool("chromium");
    let tools = repo().join("tests/site");
    assert!(
        tools.join("node_modules/puppeteer-core").is_dir() && tools.join("node_modules/axe-core").is_dir(),
        "tests/site/node_modules lacks puppeteer-core or axe-core: run scripts/setup.sh (npm ci in tests/site)"
    );
    let out = Command::new("node")
        .arg(tools.join("check.mjs"))
        .args([dir, shots])
        .args(words)
        .env("LAYOUT_ONLY", if layout_only { "1" } else { "0" })
        .output()
        .expect("node runs");
    assert!(out.status.success(), "check.mjs failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("check.mjs printed no JSON ({e})"))
}

#[test]
fn the_site_reads_right_in_chromium_at_every_width() {
    let site = zoo();
    site.write(&[]).ok();
    let shots = repo().join("target/site-screenshots");
    let seen = browse(&site.dir(), &shots, "zebra", "onnx");
    let list = |key: &str| seen[key].as_array().unwrap().clone();
    assert_eq!(list("pages").len(), 4);
    assert!(list("overflow").is_empty(), "pages scroll sideways: {:#}", seen["overflow"]);
    assert!(list("console").is_empty(), "console errors: {:#}", seen["console"]);
    assert!(list("failed").is_empty(), "failed loads: {:#}", seen["failed"]);
    assert!(list("foreign").is_empty(), "loads from elsewhere: {:#}", seen["foreign"]);
    let axe = list("axe");
    let serious: Vec<&Value> =
        axe.iter().filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical"))).collect();
    assert!(serious.is_empty(), "axe-core finds serious or critical violations: {serious:#?}");
    // Front page → a suite's page → back, by mouse and by keyboard.
    let nav = &seen["navigation"];
    assert_eq!(nav["h1"], nav["expected"]);
    assert!(nav["suiteUrl"].as_str().unwrap().starts_with("file://"), "{nav}");
    assert!(nav["suiteUrl"].as_str().unwrap().ends_with("/index.html"), "{nav}");
    assert!(nav["backUrl"].as_str().unwrap().ends_with("/site/index.html"), "{nav}");
    assert_eq!(seen["keyboard"]["focused"], seen["keyboard"]["h1"], "{}", seen["keyboard"]);
    assert!(seen["keyboard"]["h1"].is_string(), "no suite link took the focus: {}", seen["keyboard"]);
    // Search and the framework filter.
    let search = &seen["search"];
    assert_eq!(search["all"], serde_json::json!(["iris-logreg", "tiny", "zebra-tab"]));
    assert_eq!(search["filtersShown"], true);
    assert_eq!(search["word"]["rows"], serde_json::json!(["zebra-tab"]));
    assert_eq!(search["word"]["cards"], serde_json::json!(["zebra-tab"]));
    assert_eq!(search["word"]["status"], "1 of 3 suites");
    assert_eq!(search["word"]["hiddenSections"], serde_json::json!(["modality-cv", "task-image-classification"]));
    assert_eq!(search["framework"]["rows"], serde_json::json!(["iris-logreg", "tiny"]));
    assert_eq!(search["framework"]["cards"], serde_json::json!(["tiny", "iris-logreg"]));
    assert_eq!(search["framework"]["hash"], "#framework=onnx");
    // Without JavaScript every suite reads, and the controls that need it are not shown.
    assert_eq!(seen["noScript"]["rows"], serde_json::json!(["iris-logreg", "tiny", "zebra-tab"]));
    assert_eq!(seen["noScript"]["filtersShown"], false);
    // Every copy button copies its snippet.
    let copies = list("copy");
    assert!(copies.len() >= 5, "{copies:#?}");
    assert!(copies.iter().all(|c| c["same"] == true), "{copies:#?}");
    // Screenshots at 420 and 1280 px, kept as the test's artifacts.
    for name in ["front-420", "front-1280", "suite-420", "suite-1280"] {
        let png = fs::read(shots.join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 5_000, "{name}.png");
    }
}

#[test]
fn the_one_page_index_fits_every_width_too() {
    // `--format html`, the one self-contained page: its cards' tables and pull commands scroll
    // inside the card, by keyboard too, and the page never sideways.
    let site = zoo();
    let dir = site.root.join("one-page");
    run_in(&site.root, &["index", "--plain-http", &site.reg.addr, "--format", "html", "-o", "one-page/index.html"])
        .ok();
    let seen = browse_with(&dir, &site.root.join("shots"), &[], true);
    assert!(seen["overflow"].as_array().unwrap().is_empty(), "the page scrolls sideways: {:#}", seen["overflow"]);
    assert!(seen["console"].as_array().unwrap().is_empty(), "console errors: {:#}", seen["console"]);
    let axe = seen["axe"].as_array().unwrap();
    let serious: Vec<&Value> =
        axe.iter().filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical"))).collect();
    assert!(serious.is_empty(), "axe-core finds serious or critical violations: {serious:#?}");
}

#[test]
fn two_manifests_claiming_one_version_each_get_a_section_of_their_own() {
    let tmp = scratch();
    let reg = Registry::plain();
    let tiny = small_suite(tmp.path());
    run_in(tmp.path(), &["push", "-q", "--plain-http", tiny.to_str().unwrap(), &reg.at("zoo/tiny:first")]).ok();
    write(&tiny, "docs/card.md", "Rebuilt, same version.\n", false);
    run_in(tmp.path(), &["push", "-q", "--plain-http", tiny.to_str().unwrap(), &reg.at("zoo/tiny:rebuilt")]).ok();
    run_in(tmp.path(), &["index", "-q", "--plain-http", &reg.addr, "--format", "site", "-o", "site"]).ok();
    let page = fs::read_to_string(tmp.path().join("site/tiny/index.html")).unwrap();
    let ids: Vec<&str> =
        page.split("<section class=\"version\" id=\"").skip(1).map(|p| &p[..p.find('"').unwrap()]).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_ne!(ids[0], ids[1], "one id twice");
    assert!(ids.iter().all(|id| id.starts_with("v-1.0.0")), "{ids:?}");
    for id in &ids {
        assert!(page.contains(&format!("<li><a href=\"#{id}\">1.0.0</a>")), "no link to {id}");
    }
    let changes = &page[page.find("<h4>Changes from").expect("changes are said")..];
    assert!(
        changes.contains("docs: <code>"),
        "what changed between them is said: {}",
        &changes[..changes.len().min(600)]
    );
}
