//! The layer digest cache: an unchanged re-push hashes nothing; any change, even one byte with
//! the size and mtime put back, is read again; `--no-cache` and a corrupt cache read everything.

use std::fs;
use std::path::Path;

use crate::util::*;

/// Pushes with the cache in `cache`; the bytes the hashing pass read (its `hashed` event) and
/// the manifest digest printed.
fn push(dir: &Path, cache: &Path, suite: &Path, at: &str, extra: &[&str]) -> (u64, String) {
    let mut args = vec!["push", "--log-format", "json", suite.to_str().unwrap(), at];
    args.extend(extra);
    let run = run_env(dir, &[("ZOO_OCI_CACHE", cache.to_str().unwrap())], &args);
    run.ok();
    let hashed = run
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|e| e["event"] == "hashed")
        .and_then(|e| e["bytes"].as_u64())
        .unwrap_or_else(|| panic!("no hashed event: {}", run.stderr));
    (hashed, run.stdout.trim().to_string())
}

#[test]
fn an_unchanged_re_push_hashes_nothing_and_any_change_is_read_again() {
    let tmp = scratch();
    let cache = tmp.path().join("cache");
    let suite = small_suite(tmp.path());
    let at = format!("oci:{}:1", tmp.path().join("zoo").display());
    let (first, digest) = push(tmp.path(), &cache, &suite, &at, &[]);
    assert!(first > 100_000, "the first push reads every layer: {first}");
    let (again, same) = push(tmp.path(), &cache, &suite, &at, &["--force"]);
    assert_eq!(again, 0, "an unchanged re-push hashes nothing");
    assert_eq!(same, digest, "and gives the same manifest");

    // One byte changed in place, size and mtime put back: the ctime still moves, so it misses.
    let weights = suite.join("models/onnx/extra/weights.bin");
    let stamp = tmp.path().join("stamp");
    fs::write(&stamp, "").unwrap();
    let status = std::process::Command::new("touch").arg("-r").arg(&weights).arg(&stamp).status().unwrap();
    assert!(status.success());
    let mut bytes = fs::read(&weights).unwrap();
    bytes[100] ^= 0xff;
    fs::write(&weights, &bytes).unwrap();
    let status = std::process::Command::new("touch").arg("-r").arg(&stamp).arg(&weights).status().unwrap();
    assert!(status.success());
    let (changed, other) = push(tmp.path(), &cache, &suite, &at, &["--force"]);
    assert!(changed > 0 && changed < first, "only the changed variant's layer is read: {changed} of {first}");
    assert_ne!(other, digest, "the changed byte changes the suite");
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &at, "-o", out.to_str().unwrap()]).ok();
    assert_eq!(fs::read(out.join("models/onnx/extra/weights.bin")).unwrap(), bytes);

    // --no-cache reads everything; a corrupt cache is ignored, then written again.
    let (all, _) = push(tmp.path(), &cache, &suite, &at, &["--force", "--no-cache"]);
    assert_eq!(all, first, "--no-cache hashes every layer");
    for entry in fs::read_dir(cache.join("digests")).unwrap().flatten() {
        fs::write(entry.path(), b"{not json").unwrap();
    }
    let (rebuilt, _) = push(tmp.path(), &cache, &suite, &at, &["--force"]);
    assert_eq!(rebuilt, first, "a corrupt cache is not trusted");
    let (after, _) = push(tmp.path(), &cache, &suite, &at, &["--force"]);
    assert_eq!(after, 0, "and is rebuilt");
}

/// A layer of more files than the manifest lists (1,000) keeps no per-file digests: its cache
/// entry holds none either, and still hits; a changed byte still misses.
#[test]
fn a_layer_of_more_files_than_the_manifest_lists_is_cached_too() {
    let tmp = scratch();
    let cache = tmp.path().join("cache");
    let suite = small_suite(tmp.path());
    for i in 0..1001 {
        write(&suite, &format!("data/test/many/{i:04}.txt"), format!("sample {i}\n"), false);
    }
    let at = format!("oci:{}:1", tmp.path().join("zoo").display());
    let (first, digest) = push(tmp.path(), &cache, &suite, &at, &[]);
    let (again, same) = push(tmp.path(), &cache, &suite, &at, &["--force"]);
    assert_eq!((again, &same), (0, &digest), "an unchanged re-push of {first} bytes hashes nothing");
    let one = suite.join("data/test/many/0500.txt");
    fs::write(&one, "sample X\n").unwrap(); // same size, one byte other
    let (changed, other) = push(tmp.path(), &cache, &suite, &at, &["--force"]);
    assert!(changed > 0 && changed < first, "the dataset layer is read again: {changed} of {first}");
    assert_ne!(other, digest);
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

/// After a `touch` (or a fresh checkout) the cache's exact key misses, but the same files give
/// the same layer: the push reads the files again and asks the registry first, which has every
/// blob, so nothing is uploaded.
#[test]
fn a_touched_suite_is_read_again_but_not_uploaded_again() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = crate::util::registry::Registry::plain();
    let tmp = scratch();
    let cache = tmp.path().join("cache");
    let suite = small_suite(tmp.path());
    let (_, digest) = push(tmp.path(), &cache, &suite, &reg.at("zoo/tiny:1"), &["--plain-http"]);
    for entry in walkdir(&suite) {
        let status = std::process::Command::new("touch").arg(&entry).status().unwrap();
        assert!(status.success());
    }
    let proxy = FaultProxy::start(&reg.addr, Fault::Delay("never-matches", 0));
    let (hashed, again) = push(tmp.path(), &cache, &suite, &proxy.at("zoo/tiny:1"), &["--plain-http"]);
    assert!(hashed > 0, "the touched files are read again");
    assert_eq!(again, digest);
    let uploads: Vec<String> = proxy
        .log()
        .into_iter()
        .filter(|l| l.starts_with("RECV ") && l.contains("/blobs/uploads/") && !l.starts_with("RECV 0 "))
        .collect();
    assert!(uploads.is_empty(), "no blob byte is sent again: {uploads:?}");
}

/// Every file under `dir`.
fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walkdir(&path));
        } else {
            out.push(path);
        }
    }
    out
}
