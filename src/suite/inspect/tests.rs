//! The dispatcher, the example suites' real files, and properties every reader must keep on
//! random and truncated bytes.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::Value;

use super::*;

fn facts_of(bytes: &[u8], ext: &str) -> Facts {
    read_from(Cursor::new(bytes.to_vec()), bytes.len() as u64, ext, None)
}

/// A valid small file of every format with a reader, and the extension it goes by.
fn samples() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("onnx", onnx::tests::model_bytes()),
        ("safetensors", safetensors::tests::file_bytes()),
        ("gguf", gguf::tests::file_bytes()),
        ("pt", zip::tests::torchscript_bytes()),
        (
            "mar",
            zip::tests::zip_bytes(&[("MAR-INF/MANIFEST.json", br#"{"model":{"modelName":"m"},"runtime":"python"}"#)]),
        ),
        ("tflite", tflite::tests::model_bytes()),
        ("xml", openvino::tests::XML.as_bytes().to_vec()),
    ]
}

#[test]
fn every_sample_is_read_from_its_content_without_warnings() {
    for (ext, bytes) in samples() {
        let f = facts_of(&bytes, ext);
        assert_eq!(f.recognised, Recognised::Content, ".{ext}: {f:?}");
        assert!(f.warnings.is_empty(), ".{ext}: {:?}", f.warnings);
    }
}

#[test]
fn content_wins_over_a_wrong_extension_with_a_warning() {
    let f = facts_of(&gguf::tests::file_bytes(), "onnx");
    assert_eq!((f.format.as_str(), f.recognised), ("gguf", Recognised::Content));
    assert!(f.warnings[0].contains("the extension says .onnx, but the content is GGUF"), "{:?}", f.warnings);
    let f = facts_of(&safetensors::tests::file_bytes(), "bin");
    assert_eq!(f.format, "safetensors");
    assert!(f.warnings.is_empty(), ".bin says nothing about the format: {:?}", f.warnings);
}

/// A TensorFlow `saved_model.pb` starts like a ModelProto (field 1 a small varint, then
/// field 2): only files whose extension names no format are sniffed for ONNX.
#[test]
fn other_protobuf_formats_are_not_taken_for_onnx() {
    let looks_like_onnx = onnx::tests::model_bytes();
    for (ext, framework) in [("pb", "tensorflow"), ("mlmodel", "coreml")] {
        let f = facts_of(&looks_like_onnx, ext);
        assert_eq!((f.framework.as_str(), f.recognised), (framework, Recognised::Extension));
    }
    assert_eq!(facts_of(&looks_like_onnx, "").format, "onnx");
}

#[test]
fn unknown_formats_are_recognised_by_extension_only_with_a_framework_guess() {
    for (ext, framework) in [
        ("pdmodel", "paddle"),
        ("pdiparams", "paddle"),
        ("keras", "keras"),
        ("pb", "tensorflow"),
        ("mlmodel", "coreml"),
        ("engine", "tensorrt"),
        ("plan", "tensorrt"),
        ("pth", "pytorch"),
        ("bin", "other"),
    ] {
        let f = facts_of(b"\x01\x02 opaque bytes", ext);
        assert_eq!((f.format.as_str(), f.framework.as_str()), (ext, framework));
        assert_eq!(f.recognised, Recognised::Extension);
        assert!(f.warnings.iter().any(|w| w.contains("extension only") || w.contains("not a readable")), "{f:?}");
    }
}

#[test]
fn old_style_pickles_are_not_read() {
    // torch.save's legacy format: a pickle of the magic number first.
    let f = facts_of(b"\x80\x02\x8a\x0alz\xfc\x9cF\xf9 j\xa8P\x19.\x80\x02M\xe9\x03.", "pth");
    assert_eq!((f.framework.as_str(), f.recognised), ("pytorch", Recognised::Extension));
    assert!(f.warnings[0].contains("pickle") && f.warnings[0].contains("not read"), "{:?}", f.warnings);
    let f = facts_of(b"\x80\x04\x95\x10\x00", "bin");
    assert_eq!(f.framework, "pytorch");
}

#[test]
fn a_missing_file_or_a_folder_is_a_warning() {
    let f = read(Path::new("/nonexistent/model.onnx"));
    assert_eq!((f.format.as_str(), f.recognised), ("onnx", Recognised::Extension));
    assert!(f.warnings[0].starts_with("cannot read the file"), "{:?}", f.warnings);
    let dir = tempfile::tempdir().unwrap();
    let f = read(dir.path());
    assert!(f.warnings[0].contains("a folder"), "{:?}", f.warnings);
}

#[test]
fn an_empty_file_is_recognised_by_extension() {
    for ext in ["onnx", "safetensors", "gguf", "pt", "tflite", "xml", "bin", ""] {
        let f = facts_of(b"", ext);
        assert_eq!(f.recognised, Recognised::Extension, ".{ext}");
        assert!(!f.warnings.is_empty(), ".{ext}");
    }
}

/// A fetched example model file. Missing is a setup error, never a silent skip.
fn example(path: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(path);
    assert!(
        p.exists(),
        "setup error: {} is missing; run scripts/fetch-examples.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

/// The folder scripts/fetch-fixtures.sh fills, with its FACTS.json. Missing is a setup error,
/// never a silent skip.
pub(super) fn fixtures() -> PathBuf {
    let cache = std::env::var_os("ZOO_OCI_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME or ZOO_OCI_CACHE is set")).join(".cache/zoo-oci")
    });
    let dir = cache.join("fixtures");
    assert!(
        dir.join("FACTS.json").is_file(),
        "setup error: {} is missing; run scripts/fetch-fixtures.sh (scripts/test.sh does)",
        dir.join("FACTS.json").display()
    );
    dir
}

fn shape(dims: &[i64]) -> Option<Vec<Value>> {
    Some(dims.iter().map(|&d| Value::from(d)).collect())
}

/// onnx's `light_squeezenet.onnx` backend-test model: IR 3, opset 9, initializers that old IR
/// versions also list as inputs, a [1, 1000, 1, 1] softmax output, and 39 of its 52 weights made
/// at run time by `ConstantOfShape` nodes from int64 shape initializers.
#[test]
fn real_squeezenet_light_onnx() {
    let path = example("squeezenet-light/models/squeezenet1.1-light.onnx");
    let f = read(&path);
    assert_eq!(f.recognised, Recognised::Content, "{f:?}");
    assert_eq!(f.format_version.as_deref(), Some("3"));
    assert_eq!(f.opset, Some(9));
    assert_eq!(f.inputs.len(), 1, "weights listed as inputs are not inputs: {:?}", f.inputs);
    assert_eq!(f.inputs[0].name, "data_0");
    assert_eq!(f.inputs[0].dtype.as_deref(), Some("float32"));
    assert_eq!(f.inputs[0].shape, shape(&[1, 3, 224, 224]));
    assert_eq!(f.outputs.len(), 1);
    assert_eq!(f.outputs[0].name, "softmaxout_1");
    assert_eq!(f.outputs[0].shape, shape(&[1, 1000, 1, 1]));
    assert_eq!(f.producer.as_deref(), Some("onnx-caffe2"));
    assert_eq!(f.tensors, Some(52));
    assert_eq!(f.params, Some(1_235_496), "the ConstantOfShape weights count, not their shapes");
    assert_eq!(f.dtypes.keys().collect::<Vec<_>>(), ["float32"]);
    assert_eq!(f.precision.as_deref(), Some("fp32"));
}

/// The same model re-saved with external data (`model.onnx` + `model.onnx.data`): the facts are
/// in the proto, the data file is not needed.
#[test]
fn real_squeezenet_light_onnx_with_external_data() {
    let path = example("squeezenet-light/models/onnx/model.onnx");
    let f = read(&path);
    assert_eq!(f.recognised, Recognised::Content, "{f:?}");
    assert_eq!(f.opset, Some(9));
    assert_eq!(f.inputs[0].name, "data_0");
    assert_eq!(f.params, Some(1_235_496));
}

#[test]
fn real_squeezenet_light_safetensors() {
    let path = example("squeezenet-light/models/squeezenet1.1-light.safetensors");
    let f = read(&path);
    assert_eq!((f.format.as_str(), f.recognised), ("safetensors", Recognised::Content), "{f:?}");
    assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    assert_eq!(f.params, Some(1_235_496));
    assert_eq!(f.precision.as_deref(), Some("fp32"));
}

/// onnxruntime's `logreg_iris.onnx`: a scikit-learn logistic regression in the ai.onnx.ml
/// domain, whose probabilities output is a sequence of maps.
#[test]
fn real_iris_logreg_onnx() {
    let path = example("iris-logreg/models/logreg_iris.onnx");
    let f = read(&path);
    assert_eq!(f.recognised, Recognised::Content, "{f:?}");
    assert_eq!(f.opsets.get("ai.onnx.ml"), Some(&1));
    assert_eq!(f.inputs.len(), 1);
    assert_eq!(f.inputs[0].name, "float_input");
    assert_eq!(f.inputs[0].dtype.as_deref(), Some("float32"));
    assert_eq!(f.inputs[0].shape, shape(&[3, 2]), "the upstream file declares [3, 2]");
    assert_eq!(f.outputs.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["label", "probabilities"]);
    assert_eq!(f.outputs[0].dtype.as_deref(), Some("int64"));
    assert_eq!(f.outputs[1].dtype.as_deref(), Some("sequence(map(int64,float32))"));
    assert_eq!(f.producer.as_deref(), Some("OnnxMLTools 1.2.0.0116"));
    assert_eq!(f.opset, None, "no default-domain import");
    assert_eq!(f.params, None, "coefficients are node attributes, not initializers");
}

/// The iris model with its shapes declared as they should be: [N, 4] in, [N] out.
#[test]
fn real_iris_logreg_fixed_onnx() {
    let path = example("iris-logreg/models/logreg_iris_fixed.onnx");
    let f = read(&path);
    assert_eq!(f.inputs[0].shape, Some(vec![Value::from("N"), Value::from(4)]));
    assert_eq!(f.outputs[0].shape, Some(vec![Value::from("N")]));
}

#[test]
fn real_iris_logreg_safetensors() {
    let path = example("iris-logreg/models/logreg_iris.safetensors");
    let f = read(&path);
    assert_eq!((f.params, f.tensors, f.precision.as_deref()), (Some(15), Some(2), Some("fp32")));
    assert_eq!(f.metadata.get("format").map(String::as_str), Some("onnx-ml-linear-classifier"));
}

/// Every prefix of a valid file is read without a panic, quickly, and comes back with either
/// content facts or a warning.
#[test]
fn every_truncation_of_every_sample_is_handled() {
    for (ext, bytes) in samples() {
        let step = (bytes.len() / 300).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let started = Instant::now();
            let f = facts_of(&bytes[..cut], ext);
            assert!(started.elapsed() < Duration::from_secs(2), ".{ext} cut at {cut} took too long");
            assert!(
                !f.warnings.is_empty() || f.recognised == Recognised::Content,
                ".{ext} cut at {cut} of {}: no warning: {f:?}",
                bytes.len()
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random bytes under every extension: no panic, and fast.
    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..2048),
        ext in prop::sample::select(vec!["onnx", "safetensors", "gguf", "pt", "mar", "tflite", "xml", "bin", ""]),
    ) {
        let started = Instant::now();
        let f = facts_of(&bytes, ext);
        prop_assert!(started.elapsed() < Duration::from_secs(2));
        prop_assert!(!f.format.is_empty());
    }

    /// A valid file's magic followed by random bytes, so each reader goes past its first check.
    #[test]
    fn random_bytes_after_a_real_header_never_panic(
        which in 0usize..7,
        keep in 0usize..64,
        tail in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let (ext, sample) = samples().swap_remove(which);
        let mut bytes = sample[..keep.min(sample.len())].to_vec();
        bytes.extend_from_slice(&tail);
        let started = Instant::now();
        let _ = facts_of(&bytes, ext);
        prop_assert!(started.elapsed() < Duration::from_secs(2));
    }

    /// One byte of a valid file changed: no panic.
    #[test]
    fn a_flipped_byte_never_panics(which in 0usize..7, at in any::<prop::sample::Index>(), value in any::<u8>()) {
        let (ext, mut bytes) = samples().swap_remove(which);
        let i = at.index(bytes.len());
        bytes[i] = value;
        let _ = facts_of(&bytes, ext);
    }
}
