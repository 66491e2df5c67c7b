//! Hostile and corrupt artifacts, built by hand as OCI image layouts: every pull of one must stop
//! with exit 5, say what it refused, and leave nothing behind — no destination folder, no
//! `DEST.partial-*`, no file outside the destination (DESIGN §3, "Integrity").
//!
//! Each refusal test pulls into `pulls/out` of a fresh work folder that holds only `layout/` and
//! `pulls/`, and then checks that `pulls/` is empty and the work folder holds nothing new. The
//! positive controls pull artifacts made by the same builder, so a refusal is the artifact's
//! fault, not the builder's.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;

use serde_json::{Value, json};
use tar::{EntryType, Header};

use crate::util::*;

const WEIGHT_TAR: &str = "application/vnd.cncf.model.weight.v1.tar";
const WEIGHT_RAW: &str = "application/vnd.cncf.model.weight.v1.raw";
const WEIGHT_CONFIG_TAR: &str = "application/vnd.cncf.model.weight.config.v1.tar";
const DATASET_TAR_ZSTD: &str = "application/vnd.cncf.model.dataset.v1.tar+zstd";
const DOC_RAW: &str = "application/vnd.cncf.model.doc.v1.raw";
const FILEPATH: &str = "org.cncf.model.filepath";
const TAG: &str = "v1";
const MIB: u64 = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Tar bytes, including what the tar crate refuses to write.

/// A tar header whose name is written as raw bytes: the tar crate's setters refuse `..` and
/// absolute paths, which are the point here.
fn header(name: &str, kind: EntryType, size: u64) -> Header {
    let mut h = Header::new_gnu();
    let field = &mut h.as_old_mut().name;
    assert!(name.len() < field.len(), "{name} is too long for a plain header");
    field[..name.len()].copy_from_slice(name.as_bytes());
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    h
}

/// A tar archive built entry by entry.
struct Tar(tar::Builder<Vec<u8>>);

impl Tar {
    fn new() -> Tar {
        Tar(tar::Builder::new(Vec::new()))
    }

    /// A regular file.
    fn file(mut self, name: &str, data: &[u8]) -> Tar {
        self.0.append(&header(name, EntryType::Regular, data.len() as u64), data).unwrap();
        self
    }

    /// An entry of another type (link, device, FIFO), pointing at `link` where that applies.
    fn special(mut self, name: &str, kind: EntryType, link: &str) -> Tar {
        let mut h = header(name, kind, 0);
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        if kind == EntryType::Char {
            h.set_device_major(1).unwrap(); // 1:3 is /dev/null
            h.set_device_minor(3).unwrap();
        }
        h.set_cksum();
        self.0.append(&h, io::empty()).unwrap();
        self
    }

    /// A PAX extended header whose `path` record renames the entry that follows it.
    fn pax_path(mut self, path: &str) -> Tar {
        let record = pax_record("path", path);
        self.0.append(&header("PaxHeaders/next", EntryType::XHeader, record.len() as u64), record.as_bytes()).unwrap();
        self
    }

    fn bytes(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

/// One PAX record, `LEN key=value\n`, where LEN counts the whole record, itself included.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len != body.len() + len.to_string().len() {
        len = body.len() + len.to_string().len();
    }
    format!("{len}{body}")
}

// ---------------------------------------------------------------------------------------------
// Hand-built ModelPack artifacts in an OCI image layout.

/// One layer: media type, blob bytes, annotations.
struct Layer {
    media_type: &'static str,
    bytes: Vec<u8>,
    annotations: Vec<(&'static str, String)>,
}

impl Layer {
    fn digest(&self) -> String {
        zoo_oci::digest::of_bytes(&self.bytes)
    }
}

fn layer(media_type: &'static str, bytes: Vec<u8>, annotations: &[(&'static str, &str)]) -> Layer {
    Layer { media_type, bytes, annotations: annotations.iter().map(|(k, v)| (*k, v.to_string())).collect() }
}

/// A foreign tar layer of weights (no zoo-oci annotations) holding `tar`.
fn weights(tar: Tar) -> Layer {
    layer(WEIGHT_TAR, tar.bytes(), &[(FILEPATH, "./")])
}

/// Files as a record lists them: (path, the content whose size and sha256 it records).
type Listed<'a> = &'a [(&'a str, &'a [u8])];

/// An `io.zoo-oci.suite` record: for each layer, the files it holds.
fn suite_record(layers: &[(&Layer, Listed)]) -> Value {
    let layers: Vec<Value> = layers
        .iter()
        .map(|(layer, files)| {
            let files: Vec<Value> = files
                .iter()
                .map(|(path, content)| {
                    json!({"path": path, "size": content.len(), "sha256": zoo_oci::digest::of_bytes(content)})
                })
                .collect();
            let size: usize = files.iter().map(|f| f["size"].as_u64().unwrap() as usize).sum();
            json!({"digest": layer.digest(), "class": "model", "name": "hostile", "files": files,
                   "file_count": files.len(), "size": size})
        })
        .collect();
    json!({"zoo_oci": 1, "descriptor": {"name": "hostile", "version": "1.0.0", "models": []}, "layers": layers})
}

/// Writes `bytes` as a blob of `layout`; returns its descriptor.
fn put_blob(layout: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let digest = zoo_oci::digest::of_bytes(bytes);
    fs::write(blob_path(layout, &digest), bytes).unwrap();
    json!({"mediaType": media_type, "digest": digest, "size": bytes.len()})
}

/// Adds a ModelPack manifest of `layers` (with the `io.zoo-oci.suite` record `suite`, if any)
/// to the OCI image layout at `layout`, tagged `tag`; creates the layout if needed.
fn write_artifact(layout: &Path, tag: &str, layers: &[Layer], suite: Option<&Value>) {
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let descriptors: Vec<Value> = layers
        .iter()
        .map(|l| {
            let mut d = put_blob(layout, l.media_type, &l.bytes);
            d["annotations"] = l.annotations.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
            d
        })
        .collect();
    let diff_ids: Vec<String> = layers.iter().map(Layer::digest).collect();
    let config = json!({
        "descriptor": {"name": "hostile", "version": "1.0.0"},
        "config": {},
        "modelfs": {"type": "layers", "diffIds": diff_ids},
    });
    let config = put_blob(layout, "application/vnd.cncf.model.config.v1+json", config.to_string().as_bytes());
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.cncf.model.manifest.v1+json",
        "config": config,
        "layers": descriptors,
    });
    if let Some(suite) = suite {
        manifest["annotations"] = json!({"io.zoo-oci.suite": suite.to_string()});
    }
    let mut entry = put_blob(layout, "application/vnd.oci.image.manifest.v1+json", manifest.to_string().as_bytes());
    entry["artifactType"] = json!("application/vnd.cncf.model.manifest.v1+json");
    entry["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    let mut index = if layout.join("index.json").exists() {
        index_json(layout)
    } else {
        json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})
    };
    index["manifests"].as_array_mut().unwrap().push(entry);
    fs::write(layout.join("index.json"), index.to_string()).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Pulling, and checking nothing was left behind.

/// A work folder holding `layout/` (an artifact tagged [`TAG`]) and an empty `pulls/`.
fn workspace(layers: &[Layer], suite: Option<&Value>) -> tempfile::TempDir {
    let work = scratch();
    write_artifact(&work.path().join("layout"), TAG, layers, suite);
    fs::create_dir(work.path().join("pulls")).unwrap();
    work
}

/// `zoo-oci pull oci:layout:TAG -o OUT EXTRA...`, run in `work`.
fn pull(work: &Path, tag: &str, out: &str, extra: &[&str]) -> Run {
    let source = format!("oci:layout:{tag}");
    let mut args = vec!["pull", source.as_str(), "-o", out];
    args.extend_from_slice(extra);
    run_in(work, &args)
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

/// Panics unless `pulls/` is empty and the work folder holds only `layout/` and `pulls/`.
#[track_caller]
fn assert_nothing_left(work: &Path) {
    let pulls = names(&work.join("pulls"));
    assert!(pulls.is_empty(), "the failed pull left {pulls:?} in pulls/");
    let top = names(work);
    let expected: BTreeSet<String> = ["layout".to_string(), "pulls".to_string()].into();
    assert_eq!(top, expected, "the failed pull left something beside pulls/");
}

/// Builds the artifact, pulls it into `pulls/out` (with `extra` flags), and checks the pull
/// exited 5 and left nothing behind. Returns the work folder and the run, for its message.
#[track_caller]
fn refused(layers: &[Layer], suite: Option<&Value>, extra: &[&str]) -> (tempfile::TempDir, Run) {
    let work = workspace(layers, suite);
    let run = pull(work.path(), TAG, "pulls/out", extra);
    run.code(5);
    assert_nothing_left(work.path());
    (work, run)
}

// ---------------------------------------------------------------------------------------------
// Positive controls: the builder makes artifacts that pull.

#[test]
fn hand_built_foreign_modelpack_artifact_pulls_byte_for_byte() {
    let weights_bin = pseudo_random(3000, 7);
    let readme = "# Foreign\n\nMade by another tool.\n";
    let work = workspace(
        &[
            layer(WEIGHT_TAR, Tar::new().file("model.bin", &weights_bin).bytes(), &[(FILEPATH, "model.bin")]),
            layer(DOC_RAW, readme.as_bytes().to_vec(), &[(FILEPATH, "README.md")]),
        ],
        None,
    );
    pull(work.path(), TAG, "pulls/out", &[]).ok();
    let expected = work.path().join("expected");
    write(&expected, "model.bin", &weights_bin, false);
    write(&expected, "README.md", readme, false);
    assert_same_tree(&expected, &work.path().join("pulls/out"));
    assert_eq!(names(&work.path().join("pulls")), ["out".to_string()].into(), "no scratch folder remains");
}

#[test]
fn hand_built_zoo_oci_record_pulls_when_the_layer_matches_it() {
    let tar = Tar::new().file("good.txt", b"good\n").file("a.txt", b"hello");
    let layer = weights(tar);
    let suite = suite_record(&[(&layer, &[("good.txt", b"good\n"), ("a.txt", b"hello")])]);
    let work = workspace(&[layer], Some(&suite));
    pull(work.path(), TAG, "pulls/out", &[]).ok();
    assert_eq!(fs::read(work.path().join("pulls/out/a.txt")).unwrap(), b"hello");
    assert_eq!(fs::read(work.path().join("pulls/out/good.txt")).unwrap(), b"good\n");
}

// ---------------------------------------------------------------------------------------------
// Paths that leave the destination.

#[test]
fn tar_entry_with_dotdot_is_refused() {
    let (work, run) = refused(&[weights(Tar::new().file("ok.txt", b"ok").file("../evil.txt", b"evil"))], None, &[]);
    run.stderr_has("\"../evil.txt\"").stderr_has("leaves the destination");
    assert!(!work.path().join("evil.txt").exists());
    assert!(!work.path().parent().unwrap().join("evil.txt").exists());
}

#[test]
fn tar_entry_with_dotdot_in_a_pax_path_is_refused() {
    // The header names an innocent file; the PAX record before it renames it.
    let tar = Tar::new().file("ok.txt", b"ok").pax_path("../evil.txt").file("innocent.txt", b"evil");
    let (work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"../evil.txt\"");
    assert!(!work.path().join("evil.txt").exists());
}

#[test]
fn tar_entry_with_dotdot_leaves_no_created_parent_folders() {
    // The destination's parents do not exist: the pull creates them, and must remove them.
    let work = workspace(&[weights(Tar::new().file("ok.txt", b"ok").file("../../evil.txt", b"evil"))], None);
    pull(work.path(), TAG, "pulls/new/deeper/out", &[]).code(5).stderr_has("\"../../evil.txt\"");
    assert_nothing_left(work.path());
}

#[test]
fn tar_entry_with_an_absolute_path_is_refused() {
    let work = scratch();
    // A unique absolute path, inside this test's own temp folder.
    let target = work.path().join("absolute-evil.txt");
    let target = target.to_str().unwrap();
    let (pull_work, run) = refused(&[weights(Tar::new().file("ok.txt", b"ok").file(target, b"evil"))], None, &[]);
    run.stderr_has(target).stderr_has("leaves the destination");
    assert!(!Path::new(target).exists(), "{target} was written");
    assert!(!pull_work.path().join("pulls").join(target.trim_start_matches('/')).exists());
}

#[test]
fn foreign_raw_layer_whose_filepath_climbs_out_is_refused() {
    let (work, run) = refused(&[layer(DOC_RAW, b"evil\n".to_vec(), &[(FILEPATH, "../../x")])], None, &[]);
    run.stderr_has("\"../../x\"").stderr_has("leaves the destination");
    assert!(!work.path().join("x").exists());
}

// ---------------------------------------------------------------------------------------------
// Entries that are not files or folders.

#[test]
fn symlink_entry_is_refused() {
    let tar = Tar::new().file("ok.txt", b"ok").special("escape-link", EntryType::Symlink, "/etc/passwd");
    let (_work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"escape-link\"").stderr_has("only files and folders");
}

#[test]
fn hard_link_entry_is_refused() {
    let tar = Tar::new().file("ok.txt", b"ok").special("hard-link", EntryType::Link, "ok.txt");
    let (_work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"hard-link\"").stderr_has("only files and folders");
}

#[test]
fn character_device_entry_is_refused() {
    let tar = Tar::new().file("ok.txt", b"ok").special("null-device", EntryType::Char, "");
    let (_work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"null-device\"").stderr_has("only files and folders");
}

#[test]
fn fifo_entry_is_refused() {
    let tar = Tar::new().file("ok.txt", b"ok").special("a-fifo", EntryType::Fifo, "");
    let (_work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"a-fifo\"").stderr_has("only files and folders");
}

// ---------------------------------------------------------------------------------------------
// Layers that do not hold what the io.zoo-oci.suite record says.

#[test]
fn file_larger_than_its_record_is_refused_before_it_is_written() {
    let layer = weights(Tar::new().file("good.txt", b"good\n").file("a.txt", b"0123456789"));
    let suite = suite_record(&[(&layer, &[("good.txt", b"good\n"), ("a.txt", b"01234")])]);
    let (_work, run) = refused(&[layer], Some(&suite), &[]);
    run.stderr_has("\"a.txt\" is 10 bytes; the manifest says 5");
}

#[test]
fn file_missing_from_the_record_is_refused() {
    let layer = weights(Tar::new().file("good.txt", b"good\n").file("stowaway.txt", b"surprise"));
    let suite = suite_record(&[(&layer, &[("good.txt", b"good\n")])]);
    let (_work, run) = refused(&[layer], Some(&suite), &[]);
    run.stderr_has("\"stowaway.txt\" is not in the manifest's file list");
}

#[test]
fn file_whose_content_differs_from_its_recorded_sha256_is_refused() {
    let layer = weights(Tar::new().file("good.txt", b"good\n").file("a.txt", b"HELLO"));
    let suite = suite_record(&[(&layer, &[("good.txt", b"good\n"), ("a.txt", b"hello")])]);
    let (_work, run) = refused(&[layer], Some(&suite), &[]);
    run.stderr_has("a.txt: digest mismatch").stderr_has(&zoo_oci::digest::of_bytes(b"hello"));
}

#[test]
fn tar_entry_that_appears_twice_is_refused() {
    let tar = Tar::new().file("a.txt", b"first").file("a.txt", b"second");
    let (_work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"a.txt\" appears twice");
}

#[test]
fn tar_entries_that_name_one_file_two_ways_are_refused() {
    let tar = Tar::new().file("a.txt", b"first").file("./a.txt", b"second");
    let (_work, run) = refused(&[weights(tar)], None, &[]);
    run.stderr_has("\"a.txt\" appears twice");
}

#[test]
fn file_written_by_a_tar_layer_and_again_by_a_raw_layer_is_refused_as_hostile() {
    // --concurrency 1 copies layers in manifest order: the raw layer comes second.
    let layers = [
        weights(Tar::new().file("a.txt", b"from the tar")),
        layer(DOC_RAW, b"from the raw layer".to_vec(), &[(FILEPATH, "a.txt")]),
    ];
    let (_work, run) = refused(&layers, None, &["--concurrency", "1"]);
    run.stderr_has("a.txt");
}

#[test]
fn file_written_by_a_raw_layer_and_again_by_a_tar_layer_is_refused_as_hostile() {
    let layers = [
        layer(DOC_RAW, b"from the raw layer".to_vec(), &[(FILEPATH, "a.txt")]),
        weights(Tar::new().file("a.txt", b"from the tar")),
    ];
    let (_work, run) = refused(&layers, None, &["--concurrency", "1"]);
    run.stderr_has("\"a.txt\" appears twice");
}

// ---------------------------------------------------------------------------------------------
// Corrupt blobs.

/// XORs one byte of the file at `path` (`at` counts from the start, or from the end if negative).
fn flip(path: &Path, at: i64) {
    let mut bytes = fs::read(path).unwrap();
    let i = if at < 0 { bytes.len() as i64 + at } else { at } as usize;
    bytes[i] ^= 0x5a;
    fs::write(path, bytes).unwrap();
}

#[test]
fn corrupt_layer_blobs_are_refused_with_digest_mismatch() {
    let work = scratch();
    let suite = small_suite(work.path());
    // A config beside the ONNX weights: the variant gets an (uncompressed) weight.config tar.
    write(&suite, "models/onnx/config.json", r#"{"model_type": "tiny"}"#, false);
    fs::create_dir(work.path().join("pulls")).unwrap();
    run_in(work.path(), &["push", "--compression", "zstd", "suite", "oci:layout:1.0.0"]).ok();
    let layout = work.path().join("layout");
    let layers = manifest(&layout, "1.0.0")["layers"].as_array().unwrap().clone();
    let path_of = |media_type: &str| {
        let layer = layers.iter().filter(|l| l["mediaType"] == media_type).max_by_key(|l| l["size"].as_u64()).unwrap();
        (blob_path(&layout, layer["digest"].as_str().unwrap()), layer["digest"].as_str().unwrap().to_string())
    };
    let (weight, weight_digest) = path_of(WEIGHT_RAW);
    let (configs, configs_digest) = path_of(WEIGHT_CONFIG_TAR);
    let (readme, readme_digest) = path_of(DOC_RAW);
    let (zstd_tar, zstd_digest) = path_of("application/vnd.cncf.model.code.v1.tar+zstd");
    let len = |p: &Path| fs::metadata(p).unwrap().len() as i64;
    let cases: [(&str, &Path, i64, &str); 4] = [
        // Inside a model file, which its recorded sha256 also covers.
        ("a byte inside a weight file", &weight, len(&weight) / 2, &weight_digest),
        // In the tar's end-of-archive blocks: only the blob digest covers these bytes.
        ("the last byte of a weight.config tar", &configs, -1, &configs_digest),
        // zstd may fail to decode it, or decode it to other bytes: the blob digest is the cause.
        ("a byte inside a zstd tar", &zstd_tar, len(&zstd_tar) / 2, &zstd_digest),
        ("a byte of a raw README", &readme, 3, &readme_digest),
    ];
    for (what, path, at, names) in cases {
        flip(path, at);
        let run = pull(work.path(), "1.0.0", "pulls/out", &[]);
        assert_eq!(run.code, 5, "{what}: exit code\n{}", run.stderr);
        assert!(run.stderr.contains("digest mismatch") && run.stderr.contains(names), "{what}:\n{}", run.stderr);
        assert_nothing_left_but(work.path(), &["layout", "pulls", "suite"], what);
        flip(path, at); // XOR again: restored
    }

    // A blob longer than its descriptor says.
    let pristine = fs::read(&weight).unwrap();
    fs::OpenOptions::new().append(true).open(&weight).unwrap().write_all(b"trailing junk").unwrap();
    let run = pull(work.path(), "1.0.0", "pulls/out", &[]);
    assert_eq!(run.code, 5, "a longer blob: exit code\n{}", run.stderr);
    run.stderr_has("size mismatch").stderr_has(&weight_digest);
    assert_nothing_left_but(work.path(), &["layout", "pulls", "suite"], "a longer blob");
    fs::write(&weight, pristine).unwrap();

    // Restored, the same layout pulls: the failures were the flipped bytes'.
    pull(work.path(), "1.0.0", "pulls/out", &[]).ok();
    assert_same_tree(&suite, &work.path().join("pulls/out"));
}

#[track_caller]
fn assert_nothing_left_but(work: &Path, top: &[&str], what: &str) {
    let pulls = names(&work.join("pulls"));
    assert!(pulls.is_empty(), "{what}: the failed pull left {pulls:?} in pulls/");
    let expected: BTreeSet<String> = top.iter().map(|s| s.to_string()).collect();
    assert_eq!(names(work), expected, "{what}: the failed pull left something beside pulls/");
}

// ---------------------------------------------------------------------------------------------
// Decompression bombs.

/// A zstd tar holding `data/zeros.bin`, `size` zero bytes, compressed to a few KiB.
fn zero_bomb(size: u64) -> Vec<u8> {
    let encoder = zstd::Encoder::new(Vec::new(), 3).unwrap();
    let mut builder = tar::Builder::new(encoder);
    builder.append(&header("data/zeros.bin", EntryType::Regular, size), io::repeat(0).take(size)).unwrap();
    builder.into_inner().unwrap().finish().unwrap()
}

#[test]
fn decompression_bomb_in_a_foreign_layer_stops_at_the_bound_unless_raised() {
    let size = 64 * MIB;
    let bomb = zero_bomb(size);
    let compressed = bomb.len() as u64;
    assert!(compressed * 50 < size && compressed * 100_000 > size + MIB, "the bomb is {compressed} bytes");
    let bomb = layer(DATASET_TAR_ZSTD, bomb, &[(FILEPATH, "data/")]);
    let (work, run) = refused(&[bomb], None, &[]);
    run.stderr_has("expands past its bound").stderr_has("--max-expansion");

    // The same artifact, with the bound raised, pulls: the flag works, and the refusal above was
    // the bound's doing.
    pull(work.path(), TAG, "pulls/out", &["--max-expansion", "100000"]).ok();
    assert_eq!(fs::metadata(work.path().join("pulls/out/data/zeros.bin")).unwrap().len(), size);
}

// ---------------------------------------------------------------------------------------------
// A failed pull over an earlier one.

#[test]
fn refused_pull_keeps_the_folder_an_earlier_pull_wrote() {
    let work = workspace(&[weights(Tar::new().file("model.bin", b"the good weights"))], None);
    let layout = work.path().join("layout");
    write_artifact(&layout, "evil", &[weights(Tar::new().file("model.bin", b"x").file("../evil.txt", b"e"))], None);
    pull(work.path(), TAG, "pulls/out", &[]).ok();
    let before = tree(&work.path().join("pulls/out"));
    let record = fs::read(work.path().join("pulls/out/.zoo-oci.json")).unwrap();
    pull(work.path(), "evil", "pulls/out", &[]).code(5).stderr_has("\"../evil.txt\"");
    assert_eq!(tree(&work.path().join("pulls/out")), before, "the earlier pull's files changed");
    assert_eq!(fs::read(work.path().join("pulls/out/.zoo-oci.json")).unwrap(), record);
    assert_eq!(names(&work.path().join("pulls")), ["out".to_string()].into(), "a scratch folder remains");
}

#[test]
fn refused_layer_leaves_nothing_while_another_layer_is_still_extracting() {
    // A large, valid layer is still being extracted on another thread when the small hostile
    // one is refused. The scratch folder must not be deleted under it and then re-created by
    // it: whatever it was writing must be stopped first. The race is lost only some of the time,
    // so try several times.
    let mut tar = Tar::new();
    let content = [b'x'; 100];
    for i in 0..20_000 {
        tar = tar.file(&format!("d{}/f{i}.txt", i / 10), &content);
    }
    let evil = layer(WEIGHT_TAR, Tar::new().file("../evil.txt", b"evil").bytes(), &[(FILEPATH, "evil/")]);
    let work = workspace(&[weights(tar), evil], None);
    for attempt in 1..=20 {
        pull(work.path(), TAG, "pulls/out", &[]).code(5).stderr_has("\"../evil.txt\"");
        let left = names(&work.path().join("pulls"));
        assert!(left.is_empty(), "attempt {attempt}: the failed pull left {left:?} in pulls/");
    }
    assert_nothing_left(work.path());
}
