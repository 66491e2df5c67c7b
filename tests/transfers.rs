//! Transfers stay sound and bounded (issue 22, points 0 and 6): the partial downloads a failed
//! run leaves are used or started over, never a reason for the next pull to fail; a transient
//! 503 on one layer's one-pass upload costs that layer alone; `--concurrency` bounds the uploads
//! packing makes too; disk and memory stay within what the manifest records, whatever an archive
//! header or a digest claims.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

use crate::util::proxy::{Fault, FaultProxy};
use crate::util::registry::Registry;
use crate::util::*;

/// The big dataset file: over the 64 MiB from which a tar layer's download is kept beside its
/// extraction (`resume::KEPT_BESIDE_FROM`), so that it has a partial file.
const BIG: usize = 65 << 20;

/// A suite with a dataset tar of over 64 MiB, pushed to a layout and copied from there to `reg`
/// (the same blobs in both): the suite, the layout and its manifest.
fn published(root: &Path, reg: &Registry) -> (PathBuf, PathBuf, Value) {
    let suite = small_suite(root);
    write(&suite, "data/test/big.bin", pseudo_random(BIG, 7), false);
    let layout = root.join("zoo");
    let at = format!("oci:{}:1", layout.display());
    run_in(root, &["push", "-q", "--no-cache", suite.to_str().unwrap(), &at]).ok();
    run_in(root, &["copy", "-q", "--to-plain-http", &at, &reg.at("zoo/t:1")]).ok();
    let manifest = manifest(&layout, "1");
    (suite, layout, manifest)
}

/// The manifest's layers as `(digest, size, media type)`.
fn layers(manifest: &Value) -> Vec<(String, u64, String)> {
    manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap().to_string();
            (text("digest"), l["size"].as_u64().unwrap(), text("mediaType"))
        })
        .collect()
}

/// The layers whose download is kept in a partial file: the big tar and the raw layers.
fn kept_layers(manifest: &Value) -> Vec<(String, u64)> {
    layers(manifest)
        .into_iter()
        .filter(|(_, size, media_type)| *size >= 64 << 20 || media_type.ends_with(".raw"))
        .map(|(digest, size, _)| (digest, size))
        .collect()
}

fn hex(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

/// `zoo-oci pull --plain-http FROM -o OUT` with its own shared cache.
fn pull(cwd: &Path, cache: &Path, from: &str, out: &Path) -> Run {
    let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
    run_env(cwd, &env, &["pull", "--plain-http", from, "-o", out.to_str().unwrap()])
}

/// Fills the cache's `partial/` as a run that failed on another layer leaves it: for each kept
/// layer, `bytes(blob)` of its blob.
fn leave_partials(cache: &Path, layout: &Path, manifest: &Value, bytes: impl Fn(&[u8]) -> Vec<u8>) -> Vec<String> {
    let partial = cache.join("partial");
    fs::create_dir_all(&partial).unwrap();
    let mut left = Vec::new();
    for (digest, _) in kept_layers(manifest) {
        fs::write(partial.join(hex(&digest)), bytes(&blob(layout, &digest))).unwrap();
        left.push(digest);
    }
    assert!(left.len() >= 3, "a big tar and raw layers: {left:?}");
    left
}

/// Regression (issue 22.0): a whole partial file (the run stopped before the sink took the
/// blob) made the next pull ask for `Range: bytes=SIZE-`, which registries answer 416: every pull
/// failed until the cache was pruned. A whole partial file is verified and used, asking nothing.
#[test]
fn a_whole_partial_download_is_used_without_asking_for_it_again() {
    let reg = Registry::plain();
    let tmp = scratch();
    let (suite, layout, manifest) = published(tmp.path(), &reg);
    let cache = tmp.path().join("cache");
    let left = leave_partials(&cache, &layout, &manifest, <[u8]>::to_vec);
    let proxy = FaultProxy::start(&reg.addr, Fault::Watch);
    let out = tmp.path().join("out");
    pull(tmp.path(), &cache, &proxy.at("zoo/t:1"), &out).ok();
    assert_same_tree(&suite, &out);
    for digest in &left {
        assert_eq!(proxy.served(hex(digest)), vec![], "{digest} was asked for although it was here whole");
        assert!(!cache.join("partial").join(hex(digest)).exists(), "the partial file of {digest} is used up");
    }
}

/// Regression (issue 22.0): bytes kept from before that are not the blob's (a whole file of other
/// bytes, a wrong prefix) failed the pull as corrupt (exit 5), and so every pull after it. They
/// are dropped and the blob downloaded again from byte 0.
#[test]
fn a_partial_download_that_is_not_the_blob_is_downloaded_again_from_byte_0() {
    let reg = Registry::plain();
    let tmp = scratch();
    let (suite, layout, manifest) = published(tmp.path(), &reg);
    let cache = tmp.path().join("cache");
    // The big tar's partial file whole but wrong; the raw layers' a wrong half.
    let wrong = |blob: &[u8]| {
        let len = if blob.len() >= 64 << 20 { blob.len() } else { blob.len() / 2 };
        pseudo_random(len, 99)
    };
    let left = leave_partials(&cache, &layout, &manifest, wrong);
    let proxy = FaultProxy::start(&reg.addr, Fault::Watch);
    let out = tmp.path().join("out");
    pull(tmp.path(), &cache, &proxy.at("zoo/t:1"), &out).ok();
    assert_same_tree(&suite, &out);
    for digest in &left {
        let served = proxy.served(hex(digest));
        assert!(served.iter().any(|(_, range)| range.is_empty()), "{digest} downloaded whole at last: {served:?}");
    }
}

/// Regression (issue 22.0): a registry's 416 to the range a partial download asked for failed
/// the pull (`HTTP 416`). It means "not this range": the download starts again from byte 0.
#[test]
fn a_416_restarts_a_partial_download_from_byte_0() {
    let reg = Registry::plain();
    let tmp = scratch();
    let (suite, layout, manifest) = published(tmp.path(), &reg);
    let cache = tmp.path().join("cache");
    let left = leave_partials(&cache, &layout, &manifest, |blob| blob[..blob.len() / 2].to_vec());
    let proxy = FaultProxy::start(&reg.addr, Fault::RefuseRanges);
    let out = tmp.path().join("out");
    pull(tmp.path(), &cache, &proxy.at("zoo/t:1"), &out).ok();
    assert_same_tree(&suite, &out);
    for digest in &left {
        let refused = proxy.faults().iter().filter(|f| f.contains(hex(digest))).count();
        assert_eq!(refused, 1, "the rest of {digest} was asked for once: {:?}", proxy.faults());
        let served = proxy.served(hex(digest));
        assert!(served.iter().any(|(_, range)| range.is_empty()), "{digest} downloaded whole: {served:?}");
    }
}

/// Regression (issue 22.0): one 503 on the streamed `PATCH` of one-pass push abandoned every
/// layer's upload ("an upload of another layer failed first"), and continuing the failed one's
/// session skipped its first byte (Distribution's `Range: 0-0` for an empty session read as one
/// byte): `400 DIGEST_INVALID`, the push failed. Now that layer alone goes up again, in a new
/// session, and the others keep what they sent while packing.
#[test]
fn a_503_on_one_layers_one_pass_upload_costs_that_layer_alone() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let proxy = FaultProxy::start(&reg.addr, Fault::FailNth("PATCH ", 1));
    let cache = tmp.path().join("cache");
    let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
    let pushed = run_env(tmp.path(), &env, &["push", "--plain-http", suite.to_str().unwrap(), &proxy.at("zoo/t:1")]);
    pushed.ok();
    assert_eq!(proxy.faults().len(), 1, "{:?}", proxy.faults());
    assert_eq!(
        pushed.stderr.matches("uploading it again").count(),
        1,
        "only the layer whose PATCH failed went up again:\n{}",
        pushed.stderr
    );
    assert!(!pushed.stderr.contains("another layer"), "{}", pushed.stderr);
    let out = tmp.path().join("out");
    pull(tmp.path(), &cache, &reg.at("zoo/t:1"), &out).ok();
    assert_same_tree(&suite, &out);
}

/// Regression (issue 22.6): the uploads one-pass push streams while packing were not counted
/// by `--concurrency`: a push of 8 layers at `--concurrency 2` had 10 uploads in flight, every
/// layer's `PATCH` open until the manifest was built. Each now ends with its layer, and packing
/// streams as many layers at once as `--concurrency` says.
#[test]
fn a_push_at_concurrency_2_has_at_most_2_transfers_in_flight() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = tmp.path().join("eight");
    let mut yaml = String::from(
        "name: eight\nversion: 1.0.0\nsummary: eight variants\nlicense: MIT\nreadme: README.md\nmodels:\n",
    );
    for i in 1..=8 {
        write(&suite, &format!("models/v{i}/w.bin"), pseudo_random(4 << 20, i), false);
        yaml.push_str(&format!("  - {{name: v{i}, path: models/v{i}/, framework: pytorch}}\n"));
    }
    write(&suite, "README.md", "# eight\n", false);
    write(&suite, "zoo.yaml", yaml, false);
    let proxy = FaultProxy::start(&reg.addr, Fault::Watch);
    let cache = tmp.path().join("cache");
    let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
    let args = ["push", "-q", "--plain-http", "--concurrency", "2", suite.to_str().unwrap(), &proxy.at("zoo/eight:1")];
    run_env(tmp.path(), &env, &args).ok();
    let most = proxy.most_in_flight();
    eprintln!("most blob transfers in flight: {most}");
    assert!((1..=2).contains(&most), "{most} transfers in flight at --concurrency 2: {:#?}", proxy.log());
    let out = tmp.path().join("out");
    pull(tmp.path(), &cache, &reg.at("zoo/eight:1"), &out).ok();
    assert_same_tree(&suite, &out);
}

/// Bytes allocated on disk to the files below `root` (what `fallocate` reserves counts, although
/// the files' sizes do not show it).
fn allocated(root: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    match fs::symlink_metadata(root) {
        Ok(m) if m.is_dir() => fs::read_dir(root).map(|d| d.flatten().map(|e| allocated(&e.path())).sum()).unwrap_or(0),
        Ok(m) if m.is_file() => m.blocks() * 512,
        _ => 0,
    }
}

/// Whether the file system at `dir` reserves space for `fallocate`: without it the next test
/// could not fail.
fn reserves_space(dir: &Path) -> bool {
    let file = fs::File::create(dir.join("probe")).unwrap();
    let reserved = rustix::fs::fallocate(&file, rustix::fs::FallocateFlags::KEEP_SIZE, 0, 16 << 20).is_ok()
        && file.metadata().map(|m| std::os::unix::fs::MetadataExt::blocks(&m) * 512 >= 16 << 20).unwrap_or(false);
    fs::remove_file(dir.join("probe")).unwrap();
    reserved
}

/// Regression (issue 22.6): a layer the suite record does not list, whose tar header claims a
/// 2 GiB file, made a pull reserve 2.15 GB of disk (`fallocate` from the header's size) before
/// the expansion bound stopped it. Space is reserved only for what the record lists.
#[test]
fn a_tar_header_claiming_2_gib_reserves_no_disk() {
    let reg = Registry::plain();
    let tmp = scratch();
    if !reserves_space(tmp.path()) {
        eprintln!("skipped: this file system does not reserve space for fallocate");
        return;
    }
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", "--no-cache", suite.to_str().unwrap(), &format!("oci:{}:1", layout.display())])
        .ok();
    // The scripts tar swapped for one entry whose header claims 2 GiB, followed by 256 KiB of it.
    let mut header = tar::Header::new_gnu();
    header.set_path("scripts/huge.bin").unwrap();
    header.set_size(2 << 30);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    let hostile = [header.as_bytes().as_slice(), &vec![0u8; 256 << 10]].concat();
    let digest = format!("sha256:{}", sha256_hex(&hostile));
    fs::write(blob_path(&layout, &digest), &hostile).unwrap();
    let mut manifest = manifest(&layout, "1");
    let scripts = manifest["layers"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|l| l["annotations"]["org.opencontainers.image.title"] == "scripts.tar")
        .expect("a scripts tar");
    scripts["digest"] = digest.clone().into();
    scripts["size"] = hostile.len().into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let manifest_digest = format!("sha256:{}", sha256_hex(&bytes));
    fs::write(blob_path(&layout, &manifest_digest), &bytes).unwrap();
    let mut index = index_json(&layout);
    index["manifests"][0]["digest"] = manifest_digest.into();
    index["manifests"][0]["size"] = bytes.len().into();
    fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    run_in(tmp.path(), &["copy", "-q", "--to-plain-http", &format!("oci:{}:1", layout.display()), &reg.at("zoo/h:1")])
        .ok();

    // The blobs come at 64 KiB/s: the pull sits on the hostile layer for seconds, its file made.
    let proxy = FaultProxy::start(&reg.addr, Fault::Throttle("/blobs/sha256:", 64 << 10));
    let (pulls, cache) = (tmp.path().join("pull"), tmp.path().join("cache"));
    fs::create_dir_all(&pulls).unwrap();
    let mut child = zoo()
        .current_dir(tmp.path())
        .env("ZOO_OCI_CACHE", &cache)
        .args(["pull", "--plain-http", &proxy.at("zoo/h:1"), "-o", pulls.join("out").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut most = 0;
    while child.try_wait().unwrap().is_none() {
        most = most.max(allocated(&pulls) + allocated(&cache));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let run = Run::from(child.wait_with_output().unwrap());
    run.code(5).stderr_has("scripts/huge.bin");
    eprintln!("disk allocated while pulling a layer that claims 2 GiB: {} KiB at most", most >> 10);
    assert!(most < 64 << 20, "{most} bytes reserved for a file the record does not list");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `args` while the layout's blob `hex` is a named pipe fed with zeros for as long as zoo-oci
/// reads it (64 MiB at most): how many bytes zoo-oci took from it.
fn bytes_read_from_an_endless_blob(cwd: &Path, layout: &Path, hex: &str, args: &[&str]) -> (Run, u64) {
    let fifo = layout.join("blobs/sha256").join(hex);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo");
    let feeding = fifo.clone();
    let feeder = std::thread::spawn(move || {
        // Blocks until zoo-oci opens the blob; ends when it closes it (EPIPE) or after 64 MiB.
        let Ok(mut pipe) = fs::OpenOptions::new().write(true).open(&feeding) else { return 0 };
        let chunk = vec![0u8; 256 << 10];
        let mut fed = 0u64;
        while fed < 64 << 20 && pipe.write_all(&chunk).is_ok() {
            fed += chunk.len() as u64;
        }
        fed
    });
    let run = run_in(cwd, args);
    // A zoo-oci that never opened the blob leaves the feeder waiting for a reader: be it.
    if !feeder.is_finished() {
        let _ = fs::File::open(&fifo);
    }
    let fed = feeder.join().unwrap();
    fs::remove_file(&fifo).unwrap();
    (run, fed)
}

/// A layout holding the small suite, tagged 1.
fn small_layout(root: &Path) -> PathBuf {
    let suite = small_suite(root);
    let layout = root.join("zoo");
    run_in(root, &["push", "-q", "--no-cache", suite.to_str().unwrap(), &format!("oci:{}:1", layout.display())]).ok();
    layout
}

/// Regression (issue 22.6): resolving `oci:LAYOUT@DIGEST` for a digest `index.json` does not
/// list read the whole blob into memory to learn its media type: a digest naming a 10 GB layer
/// took 10 GB of memory. It reads at most what a manifest may be (4 MiB).
#[test]
fn resolving_a_digest_that_names_a_big_blob_reads_no_more_than_a_manifest_can_be() {
    let tmp = scratch();
    let layout = small_layout(tmp.path());
    let hex = "ab".repeat(32);
    let at = format!("oci:{}@sha256:{hex}", layout.display());
    let (run, fed) = bytes_read_from_an_endless_blob(tmp.path(), &layout, &hex, &["inspect", &at]);
    assert_ne!(run.code, 0, "{}", run.stdout);
    run.stderr_has("not a manifest");
    assert!(fed < 16 << 20, "inspect read {fed} bytes of a blob to learn whether it is a manifest");
}

/// Regression (issue 22.6): gc read each manifest `index.json` lists whole, whatever its size.
/// It reads at most what a manifest may be, and stops (removing nothing) at one that is longer.
#[test]
fn gc_reads_no_more_of_a_manifest_than_a_manifest_can_be() {
    let tmp = scratch();
    let layout = small_layout(tmp.path());
    let hex = "ab".repeat(32);
    let mut index = index_json(&layout);
    let listed = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": format!("sha256:{hex}"),
        "size": 1000,
    });
    index["manifests"].as_array_mut().unwrap().push(listed);
    fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let before = fs::read_dir(layout.join("blobs/sha256")).unwrap().count();
    let gc = ["gc", &format!("oci:{}", layout.display())];
    let (run, fed) = bytes_read_from_an_endless_blob(tmp.path(), &layout, &hex, &gc);
    assert_ne!(run.code, 0, "gc went on past a manifest it could not read: {}", run.stdout);
    assert!(fed < 16 << 20, "gc read {fed} bytes of one manifest");
    assert_eq!(fs::read_dir(layout.join("blobs/sha256")).unwrap().count(), before, "gc removed nothing");
}
