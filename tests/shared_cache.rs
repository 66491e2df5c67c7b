//! The shared cache of pulled suites (issue 14, point 3): `pull --cache` snapshots of hard links
//! into one file store, layers never downloaded twice (counted in the registry's access log),
//! offline pulls from the cache alone, `pull -o` filling from it, `cache ls|rm|prune`, and two
//! processes pulling at once.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::registry::Registry;
use crate::util::*;

/// A test's own cache folder and the environment that names it.
struct Cached {
    dir: PathBuf,
}

impl Cached {
    fn new(root: &Path) -> Cached {
        Cached { dir: root.join("cache") }
    }

    fn run(&self, cwd: &Path, extra_env: &[(&str, &str)], args: &[&str]) -> Run {
        let mut env = vec![("ZOO_OCI_CACHE", self.dir.to_str().unwrap())];
        env.extend_from_slice(extra_env);
        run_env(cwd, &env, args)
    }

    /// `pull --cache --format json`: the report.
    fn pull(&self, cwd: &Path, args: &[&str]) -> Value {
        let mut all = vec!["pull", "--cache", "-q", "--format", "json"];
        all.extend_from_slice(args);
        let run = self.run(cwd, &[], &all);
        run.ok();
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
    }

    fn ls(&self, cwd: &Path) -> Value {
        let run = self.run(cwd, &[], &["cache", "ls", "--format", "json"]);
        run.ok();
        serde_json::from_str(&run.stdout).unwrap()
    }
}

/// Blob downloads in the registry's access log (200s only: a HEAD or a 404 is no download).
fn blob_gets(registry: &Registry) -> Vec<String> {
    registry.requests().into_iter().filter(|r| r.starts_with("GET ") && r.contains("/blobs/sha256:")).collect()
}

fn push(cwd: &Path, suite: &Path, at: &str) -> String {
    let run = run_in(cwd, &["push", "-q", "--plain-http", suite.to_str().unwrap(), at]);
    run.ok();
    run.stdout.trim().to_string()
}

#[test]
fn a_cached_pull_links_files_once_and_a_changed_suite_downloads_only_its_new_layer() {
    let tmp = scratch();
    let registry = Registry::plain();
    let cache = Cached::new(tmp.path());
    let suite = small_suite(tmp.path());
    let v1 = registry.at("zoo/tiny:1");
    let digest = push(tmp.path(), &suite, &v1);
    registry.clear_requests();

    let first = cache.pull(tmp.path(), &["--plain-http", &v1]);
    let snapshot = PathBuf::from(first["destination"].as_str().unwrap());
    assert_eq!(snapshot, cache.dir.join("snapshots").join(&digest["sha256:".len()..]), "keyed by the manifest digest");
    assert_eq!(first["digest"], digest.as_str());
    let downloads = blob_gets(&registry);
    assert_eq!(downloads.len() as u64, first["layers"].as_u64().unwrap(), "each layer fetched once: {downloads:?}");
    assert_same_tree_ignoring_record(&suite, &snapshot);
    let model = snapshot.join("models/onnx/model.onnx");
    let meta = fs::metadata(&model).unwrap();
    assert!(meta.nlink() >= 2, "a snapshot file is a hard link into the store");
    assert_eq!(meta.mode() & 0o222, 0, "and read-only: writing through it would change every suite");
    assert_eq!(fs::metadata(snapshot.join("scripts/infer.py")).unwrap().mode() & 0o111, 0o111, "executables stay so");
    let record = fs::metadata(snapshot.join(".zoo-oci.json")).unwrap().mode();
    assert_eq!(record & 0o444, 0o444, "records are readable by a container running as another user: {record:o}");

    // The same pull again: nothing downloaded, nothing written.
    registry.clear_requests();
    let again = cache.pull(tmp.path(), &["--plain-http", &v1]);
    assert_eq!(again["up_to_date"], true);
    assert!(blob_gets(&registry).is_empty(), "a cached suite downloads nothing: {:?}", blob_gets(&registry));

    // Version 2 changes one file of the safetensors variant: only that layer comes down.
    write(&suite, "models/model.safetensors", safetensors_model(&pseudo_random(20_000, 99)), false);
    let v2 = registry.at("zoo/tiny:2");
    let digest2 = push(tmp.path(), &suite, &v2);
    let changed = fs::metadata(suite.join("models/model.safetensors")).unwrap().len();
    registry.clear_requests();
    let second = cache.pull(tmp.path(), &["--plain-http", &v2]);
    let downloads = blob_gets(&registry);
    assert_eq!(downloads.len(), 1, "only the changed layer: {downloads:?}");
    assert_eq!(second["layers"], 1);
    assert_eq!(second["bytes"].as_u64().unwrap(), changed, "its bytes, a raw layer of the one file");
    assert!(second["from_cache"].as_u64().unwrap() >= 5, "the rest from the cache: {second}");
    let snapshot2 = PathBuf::from(second["destination"].as_str().unwrap());
    assert_eq!(
        fs::metadata(snapshot2.join("models/onnx/model.onnx")).unwrap().ino(),
        meta.ino(),
        "an unchanged file is the same stored file in both versions"
    );

    let listing = cache.ls(tmp.path());
    let digests: Vec<&str> =
        listing["snapshots"].as_array().unwrap().iter().map(|s| s["digest"].as_str().unwrap()).collect();
    assert_eq!(digests, [digest2.as_str(), digest.as_str()], "most recently used first");
    let one: u64 = listing["snapshots"][0]["size"].as_u64().unwrap();
    assert!(
        listing["size"].as_u64().unwrap() < 2 * one,
        "the store holds shared files once: {} for two snapshots of {one} each",
        listing["size"]
    );
    assert_eq!(listing["snapshots"][1]["refs"][0], v1.as_str());
}

/// The snapshot holds the suite's files, plus the pull record.
fn assert_same_tree_ignoring_record(suite: &Path, snapshot: &Path) {
    let mut got = tree(snapshot);
    got.retain(|(path, _, _)| path != ".zoo-oci.json");
    let want: Vec<_> = tree(suite).into_iter().map(|(p, bytes, mode)| (p, bytes, mode & 0o111)).collect();
    let got: Vec<_> = got.into_iter().map(|(p, bytes, mode)| (p, bytes, mode & 0o111)).collect();
    assert_eq!(got.iter().map(|g| &g.0).collect::<Vec<_>>(), want.iter().map(|w| &w.0).collect::<Vec<_>>());
    assert_eq!(got, want);
}

#[test]
fn offline_pulls_come_from_the_cache_alone_and_pull_o_fills_from_it() {
    let tmp = scratch();
    let cache = Cached::new(tmp.path());
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let at = format!("oci:{}:1.0", layout.display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at]).ok();
    let first = cache.pull(tmp.path(), &[&at, "--only", "model"]);
    let snapshot = PathBuf::from(first["destination"].as_str().unwrap());
    assert!(snapshot.join("models/model.safetensors").is_file());
    assert!(!snapshot.join("README.md").exists(), "--only model links the model files only");

    // The layout's layer blobs go: what the cache holds is all there is.
    let manifest = manifest(&layout, "1.0");
    for layer in manifest["layers"].as_array().unwrap() {
        fs::remove_file(blob_path(&layout, layer["digest"].as_str().unwrap())).unwrap();
    }
    let offline = [("ZOO_OCI_OFFLINE", "1")];
    let args = ["pull", "--cache", "-q", &at, "--only", "model"];
    let run = cache.run(tmp.path(), &offline, &args);
    run.ok();
    assert_eq!(PathBuf::from(run.stdout.trim()), snapshot);
    // Offline, the tag resolves from the cache even with the layout gone.
    fs::rename(&layout, tmp.path().join("gone")).unwrap();
    cache.run(tmp.path(), &offline, &args).ok();
    let missing = format!("oci:{}:2.0", layout.display());
    cache
        .run(tmp.path(), &offline, &["pull", "--cache", &missing])
        .code(4)
        .stderr_has("not in the cache, and ZOO_OCI_OFFLINE is set")
        .stderr_has("hint: unset ZOO_OCI_OFFLINE");
    // More than the cache holds, offline: the README's layer was never pulled.
    cache.run(tmp.path(), &offline, &["pull", "--cache", &at]).code(4).stderr_has("ZOO_OCI_OFFLINE");

    // A pull into a folder takes the cached layers from the cache: no blob of them is left in
    // the layout, so a download would fail.
    fs::rename(tmp.path().join("gone"), &layout).unwrap();
    let out = tmp.path().join("out");
    let run =
        cache.run(tmp.path(), &[], &["pull", "--format", "json", &at, "--only", "model", "-o", out.to_str().unwrap()]);
    run.ok();
    let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(report["layers"], 0, "nothing downloaded: {report}");
    assert!(report["from_cache"].as_u64().unwrap() >= 2);
    assert_eq!(
        fs::read(out.join("models/model.safetensors")).unwrap(),
        fs::read(suite.join("models/model.safetensors")).unwrap()
    );
    let copy = fs::metadata(out.join("models/model.safetensors")).unwrap();
    assert_eq!(copy.nlink(), 1, "a folder the user asked for holds copies, not links into the cache");
    assert_eq!(copy.mode() & 0o200, 0o200, "and they are writable");

    // A cached file changed behind the cache's back is caught, not copied out.
    let stored = fs::read_dir(cache.dir.join("files/sha256"))
        .unwrap()
        .flatten()
        .flat_map(|shard| fs::read_dir(shard.path()).unwrap().flatten().map(|f| f.path()).collect::<Vec<_>>())
        .find(|p| fs::metadata(p).unwrap().len() == fs::metadata(suite.join("models/model.safetensors")).unwrap().len())
        .expect("the safetensors file is stored");
    fs::set_permissions(&stored, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let mut bytes = fs::read(&stored).unwrap();
    bytes[10] ^= 1;
    fs::write(&stored, bytes).unwrap();
    let bad = tmp.path().join("bad");
    cache
        .run(tmp.path(), &[], &["pull", &at, "--only", "model", "-o", bad.to_str().unwrap()])
        .code(5)
        .stderr_has("does not match its sha256")
        .stderr_has("cache rm");
    assert!(!bad.exists(), "nothing is left of the failed pull");
}

#[test]
fn cache_rm_and_prune_free_what_no_suite_holds() {
    let tmp = scratch();
    let cache = Cached::new(tmp.path());
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let v1 = format!("oci:{}:1", layout.display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &v1]).ok();
    write(&suite, "docs/card.md", "Changed docs.\n", false);
    let v2 = format!("oci:{}:2", layout.display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &v2]).ok();
    let first = cache.pull(tmp.path(), &[&v1]);
    let second = cache.pull(tmp.path(), &[&v2]);
    let before = cache.ls(tmp.path());
    assert_eq!(before["snapshots"].as_array().unwrap().len(), 2);
    assert_eq!(before["unused"], 0);

    // Removing version 1 (by its location as pulled) frees only the docs file it alone held.
    let run = cache.run(tmp.path(), &[], &["cache", "rm", "--format", "json", &v1]);
    run.ok();
    let removed: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(removed["removed"][0], first["digest"]);
    assert_eq!(removed["freed"].as_u64().unwrap(), "More docs.\n".len() as u64);
    assert!(!Path::new(first["destination"].as_str().unwrap()).exists());
    let kept = PathBuf::from(second["destination"].as_str().unwrap());
    assert_eq!(fs::read_to_string(kept.join("docs/card.md")).unwrap(), "Changed docs.\n");
    assert_eq!(
        fs::read(kept.join("models/model.safetensors")).unwrap(),
        fs::read(suite.join("models/model.safetensors")).unwrap()
    );
    cache.run(tmp.path(), &[], &["cache", "rm", &v1]).code(4).stderr_has("is not in the cache");

    // prune keeps a suite used within the age given; it frees a partial download left a day
    // ago or more, not one of today (a pull may still resume it).
    let (old, fresh) = (cache.dir.join("partial").join("a".repeat(64)), cache.dir.join("partial").join("b".repeat(64)));
    write(&cache.dir, &format!("partial/{}", "a".repeat(64)), vec![7u8; 1000], false);
    write(&cache.dir, &format!("partial/{}", "b".repeat(64)), vec![7u8; 10], false);
    let touched = std::process::Command::new("touch").args(["-d", "2 days ago"]).arg(&old).status().unwrap();
    assert!(touched.success());
    let run = cache.run(tmp.path(), &[], &["cache", "prune", "--older-than", "1h", "--format", "json"]);
    run.ok();
    let pruned: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(pruned["removed"], serde_json::json!([]));
    assert_eq!(pruned["freed"], 1000, "the stale partial download only: {pruned}");
    assert!(!old.exists() && fresh.exists());
    assert!(kept.is_dir());
    // By name, this time: everything goes.
    cache.run(tmp.path(), &[], &["cache", "rm", "tiny"]).ok().stdout_has(second["digest"].as_str().unwrap());
    let after = cache.ls(tmp.path());
    assert_eq!(after["snapshots"], serde_json::json!([]));
    assert_eq!((after["files"].as_u64(), after["size"].as_u64()), (Some(0), Some(0)), "{after}");
}

#[test]
fn two_processes_pulling_one_suite_into_the_cache_download_it_once() {
    let tmp = scratch();
    let registry = Registry::plain();
    let cache = Cached::new(tmp.path());
    let suite = tmp.path().join("big");
    write(&suite, "models/weights.bin", pseudo_random(32 << 20, 5), false);
    write(&suite, "README.md", "# big\n", false);
    write(
        &suite,
        "zoo.yaml",
        "name: big\nversion: \"1\"\nsummary: A big one\nlicense: MIT\nmodels:\n  - {name: w, path: models/weights.bin, framework: other}\n",
        false,
    );
    let at = registry.at("zoo/big:1");
    push(tmp.path(), &suite, &at);
    registry.clear_requests();
    let start = || {
        let mut cmd = zoo();
        cmd.current_dir(tmp.path()).env("ZOO_OCI_CACHE", &cache.dir).args([
            "pull",
            "--cache",
            "-q",
            "--plain-http",
            &at,
        ]);
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
    };
    let (a, b) = (start(), start());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        a.status.success() && b.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    assert_eq!(a.stdout, b.stdout, "both give the same snapshot");
    let snapshot = PathBuf::from(String::from_utf8(a.stdout).unwrap().trim());
    assert_eq!(
        fs::read(snapshot.join("models/weights.bin")).unwrap(),
        fs::read(suite.join("models/weights.bin")).unwrap()
    );
    // The weights come down in parallel ranges: counted in bytes, not requests.
    let downloads = registry.blob_downloads();
    let mut once: Vec<&str> = downloads.iter().map(|(request, _, _)| request.as_str()).collect();
    once.sort();
    once.dedup();
    assert_eq!(once.len(), 3, "weights, README and descriptor layers: {downloads:?}");
    let served: u64 = downloads.iter().map(|(_, _, bytes)| bytes).sum();
    let layers: u64 = once.iter().map(|r| registry.blob_size(r.rsplit('/').next().unwrap())).sum();
    assert_eq!(served, layers, "each layer came down once: the second process waited for the first: {downloads:?}");
}
