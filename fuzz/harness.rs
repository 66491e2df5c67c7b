//! What each fuzz target feeds its input to: the library's own entry points for bytes that come
//! from a registry, a layout or a suite folder. Shared with `tests/inputs.rs` (included there by
//! path), so every input a fuzz run found and kept goes through the same code in the test suite.
//! Each function may return an error for its input; it must never panic, hang or run away with
//! memory or disk.
#![allow(dead_code)]

use std::io::Cursor;
use std::path::Path;

use zoo_oci::artifact::archive::{Compression, Expected, Extracted, extract_tar};
use zoo_oci::artifact::decode;
use zoo_oci::artifact::manifest::{self, Descriptor};
use zoo_oci::artifact::media;
use zoo_oci::reference::{Location, Scope};

/// A target: its name (its file in `fuzz/fuzz_targets/`, its folder in
/// `tests/fuzz_regressions/`) and what it runs an input through.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("manifest", manifest),
    ("config", config),
    ("tar", tar),
    ("reference", reference),
    ("zoo_yaml", zoo_yaml),
    ("onnx", onnx),
    ("gguf", gguf),
    ("tflite", tflite),
    ("safetensors", safetensors),
    ("openvino", openvino),
    ("torchscript", torchscript),
];

/// Manifest bytes as a registry serves them: decoded as a suite, read as an index, as a
/// referrer, and their children listed.
pub fn manifest(data: &[u8]) {
    let as_manifest = Descriptor::for_bytes(media::OCI_MANIFEST, data);
    if let Ok(view) = decode::decode(&as_manifest, data) {
        let _ = decode::descriptor_json(&view);
    }
    let _ = manifest::parse_manifest(data, "fuzzed manifest");
    let _ = manifest::parse_index(data, "fuzzed index");
    let as_index = Descriptor::for_bytes(media::OCI_INDEX, data);
    let _ = manifest::index_children(&as_index, data);
    let _ = manifest::children(&as_index, data);
    let _ = manifest::children(&as_manifest, data);
    let _ = manifest::as_referrer(&as_manifest, data);
}

/// A config blob (ModelPack's config, or another tool's) and a Kitfile, read into the view of a
/// model manifest that names them.
pub fn config(data: &[u8]) {
    let layer = |media_type: &str, path: &str| {
        let mut d = Descriptor::new(media_type, format!("sha256:{}", "ab".repeat(32)), 10);
        d.annotations.insert(media::ANN_FILEPATH.to_string(), path.to_string());
        d
    };
    let config = Descriptor::for_bytes(media::MODEL_CONFIG, data);
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "artifactType": media::MODEL_ARTIFACT,
        "config": config,
        "layers": [layer(media::WEIGHT_RAW, "model.onnx"), layer(media::DOC_RAW, "README.md"), layer(media::CODE_TAR, "scripts/")],
    });
    let bytes = serde_json::to_vec(&body).expect("a JSON value serialises");
    let Ok(mut view) = decode::decode(&Descriptor::for_bytes(media::OCI_MANIFEST, &bytes), &bytes) else {
        panic!("the fixed model manifest decodes");
    };
    let mut kit = view.clone();
    decode::attach_config(&mut view, data);
    let _ = decode::descriptor_json(&view);
    decode::attach_kitfile(&mut kit, data);
    let _ = decode::descriptor_json(&kit);
}

/// A tar layer (plain, zstd or gzip, by the first byte) extracted into a scratch folder, under a
/// bound of 1 MiB; the descriptor's digest is the input's, so extraction runs to its end.
pub fn tar(data: &[u8]) {
    let Some((&how, layer)) = data.split_first() else { return };
    let compression = match how % 3 {
        0 => Compression::None,
        1 => Compression::Zstd,
        _ => Compression::Gzip,
    };
    let blob = Descriptor::for_bytes(media::WEIGHT_TAR, layer);
    let dest = tempfile::tempdir().expect("a scratch folder");
    let mut extracted = Extracted::default();
    let _ = extract_tar(
        Cursor::new(layer),
        &blob,
        compression,
        dest.path(),
        &Expected::Bound(1 << 20),
        &|_| true,
        &mut extracted,
    );
}

/// Text typed as a location, a scope or a tag.
pub fn reference(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(location) = Location::parse(text) {
        let _ = location.to_string();
    }
    let _ = Scope::parse(text);
    let _ = zoo_oci::reference::validate_tag(text);
    let _ = zoo_oci::reference::other_tools_form(text);
}

/// A zoo.yaml, parsed and checked against the schema.
pub fn zoo_yaml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut problems = zoo_oci::suite::problems::Problems::default();
    let _ = zoo_oci::suite::spec::parse(text, "zoo.yaml", &mut problems);
}

/// A model file of this extension, read as `check` and `init` read it.
fn model_file(ext: &str, data: &[u8]) {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let path = dir.path().join(format!("model.{ext}"));
    std::fs::write(&path, data).expect("the scratch folder takes the file");
    let _ = zoo_oci::suite::inspect::read(&path);
}

/// An ONNX model.
pub fn onnx(data: &[u8]) {
    model_file("onnx", data)
}

/// A GGUF model.
pub fn gguf(data: &[u8]) {
    model_file("gguf", data)
}

/// A TFLite model.
pub fn tflite(data: &[u8]) {
    model_file("tflite", data)
}

/// A safetensors file.
pub fn safetensors(data: &[u8]) {
    model_file("safetensors", data)
}

/// An OpenVINO IR: the `.xml`, and the `.bin` beside it when the input holds the separator
/// `\0BIN\0` (what comes after it).
pub fn openvino(data: &[u8]) {
    const SEPARATOR: &[u8] = b"\0BIN\0";
    let (xml, bin) = match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        Some(at) => (&data[..at], Some(&data[at + SEPARATOR.len()..])),
        None => (data, None),
    };
    let dir = tempfile::tempdir().expect("a scratch folder");
    let path = dir.path().join("model.xml");
    std::fs::write(&path, xml).expect("the scratch folder takes the file");
    if let Some(bin) = bin {
        std::fs::write(Path::new(dir.path()).join("model.bin"), bin).expect("the scratch folder takes the file");
    }
    let _ = zoo_oci::suite::inspect::read(&path);
}

/// A TorchScript (or other zip-based) model.
pub fn torchscript(data: &[u8]) {
    model_file("pt", data)
}
