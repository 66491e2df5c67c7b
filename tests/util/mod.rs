//! Shared helpers for the integration tests: run the real `zoo-oci` binary, build suites, and
//! read layouts.

#![allow(dead_code)]

pub mod forward;
pub mod nginx;
pub mod proxy;
pub mod registry;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The binary under test.
pub fn zoo() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_zoo-oci"));
    cmd.env_remove("SOURCE_DATE_EPOCH");
    // Each test its own cache (partial downloads, the digest cache, snapshots), never the
    // user's, and never another test's: tests run at once, and one's partial files or cached
    // layers must not change what another sees. The test's thread bears its name.
    let test = std::thread::current().name().unwrap_or("main").replace("::", "-");
    let cache = std::env::temp_dir().join(format!("zoo-oci-test-cache-{}", std::process::id())).join(test);
    cmd.env("ZOO_OCI_CACHE", cache);
    cmd
}

/// The result of one run, with helpers to assert on it.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
    /// Panics unless the exit code is `code`.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
    /// Panics unless the run succeeded.
    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }
    /// Panics unless stderr contains `text`.
    #[track_caller]
    pub fn stderr_has(&self, text: &str) -> &Run {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }
    /// Panics unless stdout contains `text`.
    #[track_caller]
    pub fn stdout_has(&self, text: &str) -> &Run {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}", self.stdout);
        self
    }
}

/// Runs `zoo-oci ARGS` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    Run::from(zoo().current_dir(cwd).args(args).output().expect("zoo-oci runs"))
}

/// Runs `zoo-oci ARGS` with extra environment.
pub fn run_env(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = zoo();
    cmd.current_dir(cwd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("zoo-oci runs"))
}

/// A fresh temp folder for one test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("zoo-oci-test-").tempdir().expect("temp dir")
}

/// Writes `content` at `root/rel`, creating folders; `exec` sets mode 0755.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>, exec: bool) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, content).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(if exec { 0o755 } else { 0o644 })).unwrap();
}

/// A small multi-framework suite, made here: two model variants (a folder and a file),
/// scripts (one executable), a notebook, a test set, a UTF-8 README, a licence, docs.
pub fn small_suite(root: &Path) -> PathBuf {
    let dir = root.join("suite");
    write(&dir, "models/onnx/model.onnx", onnx_model(13, &pseudo_random(70_000, 1)), false);
    write(&dir, "models/onnx/extra/weights.bin", pseudo_random(5_000, 2), false);
    write(&dir, "models/model.safetensors", safetensors_model(&pseudo_random(20_000, 3)), false);
    write(&dir, "scripts/infer.py", "#!/usr/bin/env python3\nprint('infer')\n", true);
    write(&dir, "scripts/validate.py", "#!/usr/bin/env python3\nprint('validate')\n", true);
    write(&dir, "scripts/common.py", "X = 1\n", false);
    write(&dir, "notebooks/demo.ipynb", r#"{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}"#, false);
    for i in 0..5 {
        write(&dir, &format!("data/test/sample-{i}.csv"), format!("a,b\n{i},{}\n", i * 2), false);
    }
    write(&dir, "README.md", "# Tiny — a test suite\n\nÜbung macht den Meister. 模型 ×2\n", false);
    write(&dir, "LICENSE", "MIT License\n", false);
    write(&dir, "docs/card.md", "More docs.\n", false);
    write(&dir, "zoo.yaml", SMALL_SUITE_YAML, false);
    dir
}

/// The descriptor of [`small_suite`].
pub const SMALL_SUITE_YAML: &str = r#"name: tiny
version: "1.0.0"
summary: A tiny suite for tests
task: image-classification
tags: [test, tiny]
license: MIT
authors: ["Zoë Tester"]
source: https://example.org/tiny
models:
  - {name: onnx-opset13, path: models/onnx/, framework: onnx, framework_version: "1.14", opset: 13, precision: fp32, params: 17500}
  - {name: safetensors, path: models/model.safetensors, framework: safetensors, precision: fp32}
io:
  inputs: [{name: input, dtype: float32, shape: [1, 3, 224, 224], layout: NCHW}]
  outputs: [{name: logits, dtype: float32, shape: [1, 1000]}]
results:
  - dataset: {name: tiny-test, split: test}
    metrics: [{type: accuracy, value: 0.5}]
scripts: {inference: scripts/infer.py, validate: scripts/validate.py, other: [scripts/common.py]}
notebooks: [notebooks/demo.ipynb]
datasets:
  - {name: tiny-test, role: test, path: data/test/}
  - {name: tiny-train, role: train, url: https://example.org/train.tar, sha256: null, size: null}
docs: [docs/]
"#;

/// A real ONNX model (opset `opset`) holding `weights` as one float32 initializer `w`: what the
/// model-file readers read as an ONNX file of `weights.len() / 4` parameters.
pub fn onnx_model(opset: u8, weights: &[u8]) -> Vec<u8> {
    fn field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = varint(number << 3 | 2);
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
        out
    }
    fn varint(mut n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }
    // TensorProto: dims (1), data_type (2) = FLOAT, name (8), raw_data (9).
    let mut tensor = vec![0x08];
    tensor.extend(varint(weights.len() as u64 / 4));
    tensor.extend([0x10, 0x01]);
    tensor.extend(field(8, b"w"));
    tensor.extend(field(9, weights));
    // GraphProto: name (2), initializer (5).
    let mut graph = field(2, b"test");
    graph.extend(field(5, &tensor));
    // ModelProto: ir_version (1) = 7, graph (7), opset_import (8) with version (2).
    let mut model = vec![0x08, 0x07];
    model.extend(field(7, &graph));
    model.extend(field(8, &[0x10, opset]));
    model
}

/// A real safetensors file holding `weights` as one float32 tensor `w`.
pub fn safetensors_model(weights: &[u8]) -> Vec<u8> {
    let n = weights.len();
    let header = format!(r#"{{"w":{{"dtype":"F32","shape":[{}],"data_offsets":[0,{n}]}}}}"#, n / 4);
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(weights);
    out
}

/// Deterministic pseudo-random bytes (weights don't compress; neither does this).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Reads a layout's `index.json`.
pub fn index_json(layout: &Path) -> Value {
    serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap()
}

/// The bytes of a blob in a layout.
pub fn blob(layout: &Path, digest: &str) -> Vec<u8> {
    fs::read(blob_path(layout, digest)).unwrap()
}

/// The path of a blob in a layout.
pub fn blob_path(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs/sha256").join(digest.trim_start_matches("sha256:"))
}

/// The manifest a tag points at in a layout, parsed.
pub fn manifest(layout: &Path, tag: &str) -> Value {
    let index = index_json(layout);
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("tag {tag} not in {index}"));
    serde_json::from_slice(&blob(layout, entry["digest"].as_str().unwrap())).unwrap()
}

/// Every file below `root` with its bytes and mode, skipping the pull record.
pub fn tree(root: &Path) -> Vec<(String, Vec<u8>, u32)> {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>, u32)>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if rel == ".zoo-oci.json" {
            continue;
        }
        let meta = fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            walk(root, &path, out);
        } else {
            out.push((rel, fs::read(&path).unwrap(), meta.permissions().mode() & 0o777));
        }
    }
}

/// Asserts two folders hold the same files, bytes and modes.
#[track_caller]
pub fn assert_same_tree(expected: &Path, actual: &Path) {
    let a = tree(expected);
    let b = tree(actual);
    let names = |t: &[(String, Vec<u8>, u32)]| t.iter().map(|(n, _, m)| format!("{n} {m:o}")).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b), "file lists or modes differ");
    for ((name, x, _), (_, y, _)) in a.iter().zip(&b) {
        assert!(x == y, "{name} differs");
    }
}

/// Panics with a setup message when a tool the tests need is missing.
pub fn require_tool(name: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "setup error: `{name}` is not installed; run scripts/test.sh (it installs what the tests need)");
}

/// An ECDSA key pair made by openssl, as users make them: (private SEC1 PEM, public SPKI PEM),
/// `DIR/NAME.pem` and `DIR/NAME.pub.pem`; `curve` is openssl's name (`prime256v1`, `secp384r1`).
pub fn key_pair(dir: &Path, name: &str, curve: &str) -> (PathBuf, PathBuf) {
    require_tool("openssl");
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    let made = Command::new("openssl")
        .args(["ecparam", "-name", curve, "-genkey", "-noout", "-out"])
        .arg(&private)
        .status()
        .unwrap();
    assert!(made.success(), "openssl ecparam");
    let made =
        Command::new("openssl").args(["ec", "-pubout", "-in"]).arg(&private).arg("-out").arg(&public).output().unwrap();
    assert!(made.status.success(), "openssl ec -pubout");
    (private, public)
}

/// Where `name` is on `PATH` (after [`require_tool`]'s check).
pub fn which(name: &str) -> PathBuf {
    require_tool(name);
    let out = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().unwrap();
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An example suite, after checking its model files were fetched.
pub fn example(name: &str) -> PathBuf {
    let dir = repo().join("examples").join(name);
    assert!(dir.join("zoo.yaml").is_file(), "no example {name}");
    let check = run_in(&repo(), &["check", dir.to_str().unwrap()]);
    assert!(
        check.code == 0,
        "setup error: example {name} is incomplete (run scripts/fetch-examples.sh; scripts/test.sh does):\n{}",
        check.stderr
    );
    dir
}

/// Copies a folder tree (files and modes).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Sets `path`'s modification time `ahead` of now: a file "changed since" without waiting for
/// the clock to tick past the last write.
pub fn touch_ahead(path: &Path, ahead: std::time::Duration) {
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now() + ahead).unwrap();
}
