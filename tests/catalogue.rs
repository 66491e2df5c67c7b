//! Issue 25, point 5: `index` of a registry walks the catalogue page by page whatever page
//! size the registry allows, keeps what it read in the shared cache so that indexing again
//! costs the catalogue and what is new, and says so when the registry is a pull-through cache
//! that lists only what it has seen.

use std::path::Path;

use serde_json::Value;

use crate::util::registry::{Registry, Setup};
use crate::util::*;

/// `index REGISTRY --format json` with the test's cache, plus `extra`.
fn index(dir: &Path, reg: &Registry, extra: &[&str]) -> (Value, String) {
    let mut args = vec!["index", "--plain-http", &reg.addr, "--format", "json"];
    args.extend_from_slice(extra);
    let run = run_in(dir, &args);
    run.ok();
    (serde_json::from_str(&run.stdout).expect("index JSON"), run.stderr.clone())
}

fn locations(index: &Value) -> Vec<String> {
    let mut all: Vec<String> =
        index["suites"].as_array().unwrap().iter().map(|s| s["location"].as_str().unwrap().to_string()).collect();
    all.sort();
    all
}

/// The reads made since `before` (an index into the access log), with `tags/list` and manifest
/// reads counted apart. The one write an index makes, the pull-through probe (a manifest put by
/// digest that no registry stores), is left out.
fn since(reg: &Registry, before: usize) -> (Vec<String>, usize, usize) {
    let requests: Vec<String> = reg.requests()[before..].iter().filter(|r| !r.starts_with("PUT ")).cloned().collect();
    let tag_lists = requests.iter().filter(|r| r.contains("/tags/list")).count();
    let manifests = requests.iter().filter(|r| r.contains("/manifests/")).count();
    (requests, tag_lists, manifests)
}

/// A suite pushed to `zoo/s0:1` and copied (mounted) to `zoo/s1:1` … `zoo/s{n-1}:1`.
fn zoo_of(dir: &Path, reg: &Registry, n: usize) {
    let suite = small_suite(dir);
    run_in(dir, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &reg.at("zoo/s0:1")]).ok();
    for i in 1..n {
        run_in(dir, &["copy", "-q", "--plain-http", &reg.at("zoo/s0:1"), &reg.at(&format!("zoo/s{i}:1"))]).ok();
    }
}

#[test]
fn a_catalogue_in_small_pages_is_walked_whole_and_a_second_index_reads_only_what_is_new() {
    // Distribution refusing pages over 2: the walk asks again without `n` and follows `Link`.
    let reg = Registry::start(Setup { catalog_max_entries: Some(2), ..Setup::default() });
    let tmp = scratch();
    zoo_of(tmp.path(), &reg, 5);
    let before = reg.requests().len();
    let (first, _) = index(tmp.path(), &reg, &[]);
    let want: Vec<String> = (0..5).map(|i| reg.at(&format!("zoo/s{i}:1"))).collect();
    assert_eq!(locations(&first), want);
    let (requests, tag_lists, manifests) = since(&reg, before);
    let catalogue: Vec<&String> = requests.iter().filter(|r| r.contains("/_catalog")).collect();
    assert_eq!(catalogue[0], "GET /v2/_catalog?n=1000", "{catalogue:#?}");
    assert!(catalogue.len() >= 4, "n=1000 refused, then 3 pages of 2: {catalogue:#?}");
    assert!(catalogue.iter().any(|r| r.contains("last=zoo%2Fs1")), "the Link's next page was followed: {catalogue:#?}");
    assert_eq!((tag_lists, manifests), (5, 5), "{requests:#?}");
    assert!(first.get("notes").is_none(), "nothing to say of a first index: {first}");

    // Nothing changed: the catalogue, and nothing else.
    let before = reg.requests().len();
    let (second, stderr) = index(tmp.path(), &reg, &[]);
    assert_eq!(second["suites"], first["suites"]);
    let (requests, tag_lists, manifests) = since(&reg, before);
    let other = requests.iter().filter(|r| !r.contains("/_catalog") && *r != "GET /v2/");
    assert_eq!(other.count(), 0, "only the catalogue was read: {requests:#?}");
    assert_eq!((tag_lists, manifests), (0, 0));
    assert!(stderr.contains("the tags of 5 of 5 repositories are as listed within the last 15m"), "{stderr}");
    assert!(second.get("notes").is_none(), "the JSON is the catalogue's, the same as before: {second}");

    // A repository pushed in between shows, and is the only one read.
    run_in(tmp.path(), &["copy", "-q", "--plain-http", &reg.at("zoo/s0:1"), &reg.at("zoo/new:2")]).ok();
    let before = reg.requests().len();
    let (third, _) = index(tmp.path(), &reg, &[]);
    assert!(locations(&third).contains(&reg.at("zoo/new:2")), "{third}");
    let (requests, tag_lists, manifests) = since(&reg, before);
    assert_eq!(tag_lists, 1, "{requests:#?}");
    assert!(requests.iter().filter(|r| r.contains("/manifests/")).all(|r| r.contains("/zoo/new/")), "{requests:#?}");
    assert_eq!(manifests, 1, "its manifest's bytes are the others': read once, by tag: {requests:#?}");
}

#[test]
fn a_moved_tag_shows_once_its_listing_is_stale_or_with_refresh() {
    let reg = Registry::plain();
    let tmp = scratch();
    zoo_of(tmp.path(), &reg, 2);
    let (first, _) = index(tmp.path(), &reg, &[]);
    assert!(first["suites"].as_array().unwrap().iter().all(|s| s["version"] == "1.0.0"));
    // zoo/s1:1 now points at another version of the suite.
    let moved = tmp.path().join("moved");
    copy_tree(&tmp.path().join("suite"), &moved);
    let yaml =
        std::fs::read_to_string(moved.join("zoo.yaml")).unwrap().replace("version: \"1.0.0\"", "version: \"2.0.0\"");
    std::fs::write(moved.join("zoo.yaml"), yaml).unwrap();
    run_in(tmp.path(), &["push", "-q", "--plain-http", moved.to_str().unwrap(), &reg.at("zoo/s1:1")]).ok();
    let version_of_s1 = |index: &Value| {
        let s1 = index["suites"].as_array().unwrap().iter().find(|s| s["repository"] == reg.at("zoo/s1")).cloned();
        s1.unwrap()["version"].as_str().unwrap().to_string()
    };
    // Within the default age the book's listing stands, and the note says how to refresh.
    let (kept, stderr) = index(tmp.path(), &reg, &[]);
    assert_eq!(version_of_s1(&kept), "1.0.0");
    assert!(stderr.contains("--refresh"), "{stderr}");
    let (refreshed, stderr) = index(tmp.path(), &reg, &["--refresh"]);
    assert_eq!(version_of_s1(&refreshed), "2.0.0");
    assert!(!stderr.contains("as listed within"), "{stderr}");
    // --tags-max-age 0 lists every time; a short age lists again once it has passed.
    let (listed, _) = index(tmp.path(), &reg, &["--tags-max-age", "0"]);
    assert_eq!(version_of_s1(&listed), "2.0.0");
    let before = reg.requests().len();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    index(tmp.path(), &reg, &["--tags-max-age", "2s"]);
    let (requests, tag_lists, _) = since(&reg, before);
    assert_eq!(tag_lists, 2, "listings older than 2s were listed again: {requests:#?}");
    // A bad age is a usage error naming the flag.
    run_in(tmp.path(), &["index", "--plain-http", &reg.addr, "--tags-max-age", "soon"])
        .code(2)
        .stderr_has("--tags-max-age");
}

#[test]
fn index_through_a_pull_through_cache_says_it_lists_only_what_the_cache_has_seen() {
    let origin = Registry::plain();
    let tmp = scratch();
    zoo_of(tmp.path(), &origin, 3);
    let cache = Registry::pull_through(&origin);
    // One suite pulled through the cache: the only one its catalogue knows.
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &cache.at("zoo/s1:1"), "-o", "pulled"]).ok();
    let (through, stderr) = index(tmp.path(), &cache, &[]);
    assert_eq!(locations(&through), vec![cache.at("zoo/s1:1")]);
    let note = through["notes"][0].as_str().expect("a note in the JSON");
    assert!(note.contains("is a pull-through cache") && note.contains("index its origin"), "{note}");
    assert!(stderr.contains("pull-through cache"), "{stderr}");
    // Naming repositories goes through to the origin: complete, so nothing to say.
    let (named, stderr) = index(tmp.path(), &cache, &["--repo", "zoo/s2"]);
    assert_eq!(locations(&named), vec![cache.at("zoo/s2:1")]);
    assert!(!stderr.contains("pull-through"), "{stderr}");

    // The origin is no cache, and asking it wrote nothing: its catalogue is as it was.
    let catalogue = |reg: &Registry| -> Value {
        let out =
            std::process::Command::new("curl").args(["-fsS", &format!("http://{}/v2/_catalog", reg.addr)]).output();
        serde_json::from_slice(&out.unwrap().stdout).unwrap()
    };
    let before = catalogue(&origin);
    let logged = origin.requests().len();
    let (direct, stderr) = index(tmp.path(), &origin, &[]);
    assert!(direct.get("notes").is_none(), "{direct}");
    assert!(!stderr.contains("pull-through"), "{stderr}");
    assert_eq!(catalogue(&origin), before);
    let writes: Vec<String> = origin.requests()[logged..].iter().filter(|r| !r.starts_with("GET")).cloned().collect();
    assert_eq!(writes.len(), 1, "one probe: {writes:#?}");
    assert!(
        writes[0].starts_with("PUT /v2/zoo/s0/manifests/sha256:"),
        "by digest, into a repository that is there: {writes:#?}"
    );
    // Markdown and HTML say it too.
    let md = run_in(tmp.path(), &["index", "-q", "--plain-http", &cache.addr, "--format", "markdown"]);
    md.ok().stdout_has("**Note:**").stdout_has("pull-through cache");
    let html = run_in(tmp.path(), &["index", "-q", "--plain-http", &cache.addr, "--format", "html"]);
    html.ok().stdout_has("class=\"note\"");
}
