//! Facts read from model files: format, versions, opsets, inputs and outputs, parameter count,
//! precision. Every reader reads headers or metadata only — never weights into memory, never
//! code — and bounds every length it reads from a file before allocating. A file that is not
//! what its extension says, or is truncated, gives a warning, not an error.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::Path;

use serde::{Deserialize, Serialize};

use self::source::{Bad, Source};

/// How the facts were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Recognised {
    /// The file's content was read.
    Content,
    /// Only the extension was looked at (unknown or unreadable format).
    #[default]
    Extension,
}

/// A tensor as a model file declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorFacts {
    /// Name in the graph.
    pub name: String,
    /// Element type, in zoo.yaml's words (`float32`, `int64`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Shape: numbers for fixed dimensions, strings for named ones, null for unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<serde_json::Value>>,
}

/// What a model file says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Facts {
    /// File format: `onnx`, `safetensors`, `gguf`, `torchscript`, `pytorch`, `tflite`,
    /// `openvino`, `torchserve-mar`, or the extension when unknown.
    pub format: String,
    /// The framework to declare in zoo.yaml for it.
    pub framework: String,
    /// Content or extension only.
    pub recognised: Recognised,
    /// Version of the file format (ONNX IR version, GGUF version, TorchScript format version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format_version: Option<String>,
    /// ONNX: the default-domain opset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opset: Option<u64>,
    /// ONNX: every opset import, domain → version (`""` is the default domain).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub opsets: BTreeMap<String, u64>,
    /// Producer (ONNX producer name and version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// Architecture (GGUF `general.architecture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// Model name recorded in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Parameter count (elements of the weight tensors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<u64>,
    /// Dominant precision: `fp32`, `fp16`, `bf16`, `int8`, `q4_k`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// Element count per dtype.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dtypes: BTreeMap<String, u64>,
    /// Tensor count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensors: Option<u64>,
    /// Graph inputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<TensorFacts>,
    /// Graph outputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<TensorFacts>,
    /// Other key facts (safetensors `__metadata__`, GGUF keys, a .mar manifest), bounded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// What could not be read, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Why the file is broken, when it is: empty, unreadable in the format its extension names
    /// (truncated, corrupt), or another format than its extension says. `check` warns about it;
    /// it is not recorded in the manifest.
    #[serde(skip)]
    pub defect: Option<String>,
    /// ONNX: the files the initializers' external data is in, as the graph names them (relative
    /// to the model's folder), each once and at most [`MAX_EXTERNAL_FILES`]. `init` keeps them in
    /// the model's variant; not recorded in the manifest.
    #[serde(skip)]
    pub external_data: Vec<String>,
}

/// Extensions of model files: what `init` reads as candidate variants and `push` records facts
/// for (an OpenVINO `.xml` only when its content is a network).
pub const MODEL_EXTENSIONS: &[&str] = &[
    "onnx",
    "safetensors",
    "gguf",
    "pt",
    "pth",
    "pt2",
    "jit",
    "ckpt",
    "tflite",
    "pb",
    "h5",
    "keras",
    "pdmodel",
    "pdiparams",
    "mlmodel",
    "engine",
    "plan",
    "mar",
    "xml",
    "bin",
    "ggml",
    "npz",
    "pkl",
    "joblib",
    "msgpack",
];

/// The facts of a model made of several files, one value for `init`, `check`, packing and
/// decoding alike: those of its main file (read from content, most parameters), with the
/// parameters of every file read in the main file's format summed when there are several — the
/// shards of a checkpoint (`model-00001-of-00004.safetensors`…) are one model. Files of another
/// format (an ONNX graph's external data, a tokenizer) add nothing. `None` when no file has facts.
pub fn combine<'a>(files: impl IntoIterator<Item = &'a Facts>) -> Option<Facts> {
    let files: Vec<&Facts> = files.into_iter().collect();
    let main = files.iter().copied().max_by_key(|f| (f.recognised == Recognised::Content, f.params.unwrap_or(0)))?;
    let mut facts = main.clone();
    if main.recognised == Recognised::Content {
        let same: Vec<&Facts> =
            files.iter().copied().filter(|f| f.recognised == Recognised::Content && f.format == main.format).collect();
        if same.len() > 1 {
            facts.params = same.iter().map(|f| f.params).sum::<Option<u64>>().or(facts.params);
            let mut dtypes = BTreeMap::new();
            for f in &same {
                for (dtype, n) in &f.dtypes {
                    *dtypes.entry(dtype.clone()).or_insert(0) += n;
                }
            }
            facts.dtypes = dtypes;
            facts.tensors = same.iter().map(|f| f.tensors).sum::<Option<u64>>().or(facts.tensors);
        }
    }
    Some(facts)
}

/// Reads what `path` says about itself. Never fails: an unreadable file gives facts from its
/// extension with a warning.
///
/// The format is told by the file's first bytes (a magic number, a header's shape), then by its
/// extension; a file whose content contradicts its extension is read as what it is, with a
/// warning. Warnings do not repeat the file's name: the caller knows it.
pub fn read(path: &Path) -> Facts {
    let ext = extension(path);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return by_extension(&ext, Some(format!("cannot read the file: {e}"))),
    };
    if meta.is_dir() {
        return by_extension(&ext, Some("a folder, not a file: its files are read one by one".into()));
    }
    match File::open(path) {
        Ok(file) => read_from(file, meta.len(), &ext, Some(path)),
        Err(e) => by_extension(&ext, Some(format!("cannot open the file: {e}"))),
    }
}

/// Reads facts from `reader`, `len` bytes long, named with extension `ext`. `path`, when known,
/// lets a reader look beside the file (OpenVINO's `.bin`).
pub(crate) fn read_from<R: Read + Seek>(reader: R, len: u64, ext: &str, path: Option<&Path>) -> Facts {
    let by_ext = Kind::from_extension(ext);
    if len == 0 {
        let mut facts = by_extension(ext, Some("the file is empty".into()));
        facts.defect = Some("is empty".into());
        return facts;
    }
    let mut src = Source::new(reader, len);
    let head = match src.head(HEAD) {
        Ok(h) => h,
        Err(e) => return by_extension(ext, Some(e.0)),
    };
    let sniffed = Kind::sniff(&head, len, ext);
    let kind = match (sniffed, by_ext) {
        (Some(k), _) => k,
        (None, Some(k)) => k,
        (None, None) => {
            return by_extension(ext, None);
        }
    };
    // An old-style torch.save checkpoint is a pickle under a .pt name: not a mistake.
    let mismatch = match (sniffed, by_ext) {
        (Some(k), Some(e)) if k != e && !(k == Kind::Pickle && e == Kind::Zip) => {
            Some(format!("is named .{ext}, but holds {} {}", article(k.name()), k.name()))
        }
        _ => None,
    };
    let mut facts = Facts {
        format: kind.format().into(),
        framework: kind.framework().into(),
        recognised: Recognised::Extension,
        ..Facts::default()
    };
    let result = match kind {
        Kind::Onnx => onnx::read(&mut src, &mut facts),
        Kind::Safetensors => safetensors::read(&mut src, &mut facts),
        Kind::Gguf => gguf::read(&mut src, &mut facts),
        Kind::Zip => zip::read(&mut src, &mut facts),
        Kind::Tflite => tflite::read(&mut src, &mut facts),
        Kind::OpenVino => openvino::read(&mut src, &mut facts, path),
        Kind::Pickle => {
            let mut f = by_extension(ext, None);
            if ext == "bin" {
                f.framework = "pytorch".into();
            }
            f.warnings = vec![
                "a pickle (an old-style torch.save checkpoint or another Python object), not read: unpickling \
                 runs code; recognised by extension only"
                    .into(),
            ];
            f.defect = mismatch;
            return f;
        }
        Kind::Hdf5 => {
            let mut f = by_extension(ext, None);
            if f.framework == "other" {
                f.framework = "keras".into();
            }
            f.warnings = vec!["an HDF5 file, not read: recognised by extension only".into()];
            f.defect = mismatch;
            return f;
        }
    };
    if let Err(Bad(why)) = result {
        if facts.recognised == Recognised::Extension {
            let mut facts = by_extension(
                ext,
                Some(format!("not a readable {} file: {why}; recognised by extension only", kind.name())),
            );
            facts.defect = mismatch.or_else(|| Some(format!("is not a readable {} file: {why}", kind.name())));
            return facts;
        }
        facts.warnings.push(format!("read only in part: {why}"));
        facts.defect = Some(format!("is not a complete {} file: {why}", kind.name()));
    }
    if let (Some(k), Some(e)) = (sniffed, by_ext)
        && k != e
        && facts.recognised == Recognised::Content
    {
        facts.warnings.insert(0, format!("the extension says .{ext}, but the content is {}", kind.name()));
    }
    facts.defect = facts.defect.or(mismatch);
    facts
}

fn article(name: &str) -> &'static str {
    if name.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U', 'H']) { "an" } else { "a" }
}

/// Bytes looked at to tell the format.
const HEAD: usize = 64;
/// Longest string read from a file (names, producer, metadata values).
pub(super) const MAX_STRING: u64 = 1 << 20;
/// Most metadata entries kept.
pub(super) const MAX_METADATA: usize = 50;
/// Longest metadata value kept, in characters.
pub(super) const MAX_METADATA_VALUE: usize = 1024;
/// Most inputs or outputs kept.
pub(super) const MAX_IO: usize = 10_000;
/// Most tensors looked at.
pub(super) const MAX_TENSORS: u64 = 10_000_000;
/// Most external-data files of an ONNX model noted.
pub const MAX_EXTERNAL_FILES: usize = 10_000;

/// The formats that have a reader, and the two that are told apart only to say why not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Onnx,
    Safetensors,
    Gguf,
    /// TorchScript, `torch.save` zips, TorchServe `.mar`, Keras 3 `.keras`.
    Zip,
    Tflite,
    OpenVino,
    Pickle,
    Hdf5,
}

impl Kind {
    fn from_extension(ext: &str) -> Option<Kind> {
        Some(match ext {
            "onnx" => Kind::Onnx,
            "safetensors" => Kind::Safetensors,
            "gguf" => Kind::Gguf,
            "tflite" => Kind::Tflite,
            "xml" => Kind::OpenVino,
            "pt" | "pth" | "pt2" | "jit" | "ptl" | "mar" | "keras" => Kind::Zip,
            "pkl" | "pickle" => Kind::Pickle,
            "h5" | "hdf5" => Kind::Hdf5,
            _ => return None,
        })
    }

    /// The format the first bytes show, if they show one.
    fn sniff(head: &[u8], len: u64, ext: &str) -> Option<Kind> {
        if head.starts_with(b"GGUF") {
            return Some(Kind::Gguf);
        }
        if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
            return Some(Kind::Zip);
        }
        if head.get(4..8) == Some(b"TFL3") {
            return Some(Kind::Tflite);
        }
        if head.starts_with(b"\x89HDF\r\n\x1a\n") {
            return Some(Kind::Hdf5);
        }
        if head.len() >= 9 && head[8] == b'{' {
            let n = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
            if ext == "safetensors" || (n >= 2 && n <= len.saturating_sub(8)) {
                return Some(Kind::Safetensors);
            }
        }
        if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
            return Some(Kind::Pickle);
        }
        let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
        let text = &text[text.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
        if text.starts_with(b"<?xml") || text.starts_with(b"<net") {
            return Some(Kind::OpenVino);
        }
        // Other protobuf formats (TensorFlow's saved_model.pb, Core ML's .mlmodel) start the same
        // way: only a file whose extension names no format is taken for ONNX by its content.
        if guessed_framework(ext) == "other" && onnx::looks_like_model(head) {
            return Some(Kind::Onnx);
        }
        None
    }

    fn format(self) -> &'static str {
        match self {
            Kind::Onnx => "onnx",
            Kind::Safetensors => "safetensors",
            Kind::Gguf => "gguf",
            Kind::Zip => "zip",
            Kind::Tflite => "tflite",
            Kind::OpenVino => "openvino",
            Kind::Pickle => "pickle",
            Kind::Hdf5 => "h5",
        }
    }

    fn framework(self) -> &'static str {
        match self {
            Kind::Onnx => "onnx",
            Kind::Safetensors => "safetensors",
            Kind::Gguf => "gguf",
            Kind::Zip => "pytorch",
            Kind::Tflite => "tflite",
            Kind::OpenVino => "openvino",
            Kind::Pickle => "pytorch",
            Kind::Hdf5 => "keras",
        }
    }

    /// The format in words, for warnings.
    fn name(self) -> &'static str {
        match self {
            Kind::Onnx => "ONNX",
            Kind::Safetensors => "safetensors",
            Kind::Gguf => "GGUF",
            Kind::Zip => "zip archive",
            Kind::Tflite => "TFLite",
            Kind::OpenVino => "OpenVINO IR",
            Kind::Pickle => "pickle",
            Kind::Hdf5 => "HDF5",
        }
    }
}

/// The file's extension, lowercased (`""` when it has none).
fn extension(path: &Path) -> String {
    path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).unwrap_or_default()
}

/// Facts from the extension alone: the format is the extension, the framework a guess from it.
/// Without `warning`, the warning says the file was recognised by extension only.
fn by_extension(ext: &str, warning: Option<String>) -> Facts {
    let framework = guessed_framework(ext);
    let format = if ext.is_empty() { "unknown" } else { ext };
    let warning = warning.unwrap_or_else(|| {
        if framework == "other" {
            format!("recognised by extension only: .{format} files are not read, framework unknown")
        } else {
            format!("recognised by extension only: .{format} files are not read")
        }
    });
    Facts {
        format: format.into(),
        framework: framework.into(),
        recognised: Recognised::Extension,
        warnings: vec![warning],
        ..Facts::default()
    }
}

/// The framework an extension suggests (lowercase, without its dot); `other` when it suggests
/// none.
pub(crate) fn guessed_framework(ext: &str) -> &'static str {
    match ext {
        "onnx" => "onnx",
        "safetensors" => "safetensors",
        "gguf" | "ggml" => "gguf",
        "tflite" | "lite" => "tflite",
        "xml" => "openvino",
        "pt" | "pth" | "pt2" | "jit" | "ptl" | "ckpt" => "pytorch",
        "mar" => "torchserve",
        "pdmodel" | "pdiparams" | "pdparams" | "pdopt" => "paddle",
        "h5" | "hdf5" | "keras" => "keras",
        "pb" | "savedmodel" => "tensorflow",
        "mlmodel" | "mlpackage" => "coreml",
        "engine" | "plan" | "trt" => "tensorrt",
        _ => "other",
    }
}

/// Elements in a tensor of `dims`: 1 for a scalar, saturating instead of overflowing.
pub(super) fn element_count(dims: impl IntoIterator<Item = u64>) -> u64 {
    dims.into_iter().fold(1u64, |n, d| n.saturating_mul(d))
}

/// The dominant precision among element counts per dtype: the float or small-integer dtype
/// with the most elements, in zoo.yaml's words (`fp32`, `fp16`, `bf16`, `int8`, `q4_k`, …).
/// Integer dtypes wider than 8 bits hold shapes and indices, not weights, and do not count.
pub(super) fn dominant_precision(dtypes: &BTreeMap<String, u64>) -> Option<String> {
    dtypes
        .iter()
        .filter_map(|(dtype, n)| precision_word(dtype).map(|p| (n, p)))
        .max_by_key(|(n, _)| **n)
        .filter(|(n, _)| **n > 0)
        .map(|(_, p)| p)
}

/// A dtype's precision word, if it is a weight dtype.
fn precision_word(dtype: &str) -> Option<String> {
    Some(match dtype {
        "float32" => "fp32".into(),
        "float16" => "fp16".into(),
        "bfloat16" => "bf16".into(),
        "float64" => "fp64".into(),
        "int8" | "uint8" | "int4" | "uint4" => dtype.into(),
        d if d.starts_with("float8") => format!("fp8{}", &d["float8".len()..]),
        d if d.starts_with("float4") => format!("fp4{}", &d["float4".len()..]),
        d if d.starts_with('q') || d.starts_with("iq") || d.starts_with("tq") || d.starts_with("mxfp") => d.into(),
        _ => return None,
    })
}

/// Keeps `value` in `facts.metadata` under `key` while there is room, shortened to a bound.
pub(super) fn put_metadata(facts: &mut Facts, key: &str, value: &str) {
    if facts.metadata.len() >= MAX_METADATA && !facts.metadata.contains_key(key) {
        return;
    }
    let value = if value.chars().count() > MAX_METADATA_VALUE {
        let mut v: String = value.chars().take(MAX_METADATA_VALUE).collect();
        v.push('…');
        v
    } else {
        value.to_string()
    };
    facts.metadata.insert(key.to_string(), value);
}

mod gguf;
mod onnx;
mod openvino;
mod safetensors;
mod source;
mod tflite;
mod zip;

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;
