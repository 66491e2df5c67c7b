//! The suite descriptor, `zoo.yaml` (DESIGN §1): its types, and reading it with every problem
//! reported at once (YAML syntax with line and column, then the JSON Schema with field paths).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::problems::Problems;

/// The JSON Schema of the descriptor, embedded so that `check` needs no files.
pub const SCHEMA_JSON: &str = include_str!("../../schemas/zoo.schema.json");

/// File names a suite's descriptor may have, in order of preference.
pub const DESCRIPTOR_NAMES: [&str; 2] = ["zoo.yaml", "zoo.json"];

/// A model suite's descriptor. Field names follow the Hugging Face model card where one exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteSpec {
    /// Suite name, `[a-z0-9][a-z0-9._-]*`.
    pub name: String,
    /// Suite version.
    pub version: String,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Task: a Hugging Face pipeline tag, or an alias of one (schemas/taxonomy.json).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// Free tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// SPDX licence expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Authors of the model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Contributors to the suite.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributors: Vec<String>,
    /// Where the model comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Papers and pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Citation>,
    /// The model in each framework and version it ships in: one layer each.
    pub models: Vec<ModelEntry>,
    /// Inputs and outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io: Option<Io>,
    /// Evaluation results, in the model-index shape of Hugging Face cards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<EvalResult>,
    /// Speed and size measurements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub performance: Vec<Performance>,
    /// Scripts by role.
    #[serde(default, skip_serializing_if = "Scripts::is_empty")]
    pub scripts: Scripts,
    /// Jupyter notebooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notebooks: Vec<String>,
    /// Datasets: shipped (`path`) or referenced (`url`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<Dataset>,
    /// README path (default `README.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readme: Option<String>,
    /// Licence text path (default `LICENSE` when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_file: Option<String>,
    /// Other documents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
    /// `x-*` extension fields, kept as written.
    #[serde(flatten)]
    pub extensions: BTreeMap<String, Value>,
}

/// A reference to a paper or page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Citation {
    /// Title.
    pub title: String,
    /// Address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// DOI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doi: Option<String>,
}

/// One variant of the model: a framework and version, a file or a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// Variant name, what `pull --variant` selects.
    pub name: String,
    /// The file or folder (ending in `/`), or several paths and globs, relative to the suite.
    pub path: ModelPath,
    /// Framework, e.g. `onnx`, `pytorch`, `safetensors`.
    pub framework: String,
    /// Framework version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework_version: Option<String>,
    /// ONNX opset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opset: Option<u64>,
    /// Numeric precision, e.g. `fp32`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// Parameter count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<u64>,
    /// File format when it differs from the framework.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `x-*` extension fields.
    #[serde(flatten)]
    pub extensions: BTreeMap<String, Value>,
}

/// Where a variant's files are. A Hugging Face folder keeps its weights beside the configs and
/// tokenizer that load them (`config.json`, `tokenizer.json`, `1_Pooling/`, …), with other files
/// in the same folder: the variant then names its files one by one, or by glob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModelPath {
    /// A file, or a folder ending in `/`: what every zoo.yaml before lists of paths says.
    One(String),
    /// Files, folders and globs; the variant holds everything they name, each file once.
    Many(Vec<String>),
}

impl ModelPath {
    /// A path from what `init` found: one entry stays a plain string, as people write it.
    pub fn from_entries(mut entries: Vec<String>) -> ModelPath {
        if entries.len() == 1 { ModelPath::One(entries.remove(0)) } else { ModelPath::Many(entries) }
    }

    /// The declared paths and globs, in the order written.
    pub fn entries(&self) -> &[String] {
        match self {
            ModelPath::One(path) => std::slice::from_ref(path),
            ModelPath::Many(paths) => paths,
        }
    }

    /// Whether a declared entry is written as a glob (`*`, `?`, `[…]`, `{a,b}`); a file of that
    /// very name is still that file.
    pub fn is_glob(entry: &str) -> bool {
        entry.contains(['*', '?', '[', '{'])
    }
}

impl std::fmt::Display for ModelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.entries().join(", "))
    }
}

/// Inputs, outputs and how to prepare and read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Io {
    /// Input tensors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<Tensor>,
    /// Output tensors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<Tensor>,
    /// Preprocessing, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preprocessing: Option<String>,
    /// Postprocessing, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postprocessing: Option<String>,
}

/// A named tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tensor {
    /// Name in the graph.
    pub name: String,
    /// Element type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    /// Shape; a string or null is a dynamic dimension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<Value>>,
    /// Layout, e.g. `NCHW`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// An evaluation result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// The dataset evaluated on.
    pub dataset: DatasetRef,
    /// The metrics measured.
    pub metrics: Vec<Metric>,
}

/// A dataset named in a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetRef {
    /// Name.
    pub name: String,
    /// Split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Hub type id.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
}

/// A metric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Metric type, e.g. `top-1`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Value.
    pub value: f64,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How far a value `validate` measures may be from `value` and still reproduce it
    /// (absolute); default: half a unit in the last decimal `value` is written with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<f64>,
}

/// A performance measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    /// What was measured, e.g. `latency_ms`.
    pub metric: String,
    /// Value.
    pub value: f64,
    /// Hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<String>,
    /// Runtime and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Batch size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u64>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Scripts by role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Scripts {
    /// Training script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<String>,
    /// Inference script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference: Option<String>,
    /// Validation script.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate: Option<String>,
    /// Other scripts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

impl Scripts {
    /// True when no script is declared.
    pub fn is_empty(&self) -> bool {
        self.train.is_none() && self.inference.is_none() && self.validate.is_none() && self.other.is_empty()
    }

    /// Every declared script path with the field that declares it.
    pub fn declared(&self) -> Vec<(String, &str)> {
        let roles = [
            ("scripts.train", &self.train),
            ("scripts.inference", &self.inference),
            ("scripts.validate", &self.validate),
        ];
        let mut out: Vec<(String, &str)> =
            roles.iter().filter_map(|(field, p)| p.as_deref().map(|p| (field.to_string(), p))).collect();
        out.extend(self.other.iter().enumerate().map(|(i, p)| (format!("scripts.other[{i}]"), p.as_str())));
        out
    }
}

/// A dataset: shipped with the suite (`path`) or referenced (`url`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Name.
    pub name: String,
    /// `test`, `validation`, `train`, `calibration` or `other`.
    pub role: String,
    /// Shipped: file or folder in the suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Not shipped: where to get it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// sha256 of the download, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size of the download in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The dataset's own licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

fn schema_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).expect("schemas/zoo.schema.json is valid JSON");
        jsonschema::validator_for(&schema).expect("schemas/zoo.schema.json is a valid JSON Schema")
    })
}

/// Parses descriptor text (YAML, or JSON, which is YAML too) and checks it against the schema.
/// Returns the descriptor when it is well-formed; every problem found goes into `problems`
/// under `file` (the name shown to the user).
pub fn parse(text: &str, file: &str, problems: &mut Problems) -> Option<SuiteSpec> {
    let value: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            // serde-saphyr prints "error: line L column C: message" and then a source snippet;
            // the first line is the one to show, the snippet only repeats the file.
            let first = e.to_string();
            let first = first.lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
            problems.error(file, format!("invalid YAML: {first}"), None);
            return None;
        }
    };
    if !value.is_object() {
        problems.error(file, "the descriptor must be a mapping of fields (name, version, models, ...)", None);
        return None;
    }
    let errors: Vec<_> = schema_validator().iter_errors(&value).collect();
    let schema_failed = !errors.is_empty();
    if schema_failed {
        for e in errors {
            let field = pointer_to_field(&e.instance_path().to_string());
            let at = if field.is_empty() { file.to_string() } else { format!("{file}: {field}") };
            let instance = e.instance();
            let key = e.instance_path().to_string().rsplit('/').find(|k| k.parse::<usize>().is_err()).map(String::from);
            let hint =
                number_where_string_hint(e.kind(), instance, key.as_deref().and_then(|k| written(text, k, instance)));
            problems.error(at, schema_message(&e.to_string(), instance), hint);
        }
    }
    // Even when the schema found problems, a descriptor that still reads goes on to the file
    // checks, so that `check` lists every problem at once.
    match serde_json::from_value::<SuiteSpec>(value) {
        Ok(d) => Some(d),
        Err(_) if schema_failed => None,
        Err(e) => {
            // The schema is meant to reject everything serde rejects; if this fires, they drifted.
            problems.error(file, format!("invalid descriptor: {e}"), None);
            None
        }
    }
}

/// How a number was written in the YAML text, after `key:` (`1.10`, which YAML reads as 1.1).
fn written(text: &str, key: &str, instance: &Value) -> Option<String> {
    let value = instance.as_f64()?;
    let needle = format!("{key}:");
    for line in text.lines() {
        for (at, _) in line.match_indices(&needle) {
            let rest = line[at + needle.len()..].trim_start();
            let token: String =
                rest.chars().take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '}' | ']' | '#')).collect();
            if token.parse::<f64>().ok() == Some(value) {
                return Some(token);
            }
        }
    }
    None
}

/// YAML reads `version: 1.10` as the number 1.1: where the schema wanted a string, say so, and
/// quote the value as it was written.
fn number_where_string_hint(
    kind: &jsonschema::error::ValidationErrorKind,
    instance: &Value,
    written: Option<String>,
) -> Option<String> {
    use jsonschema::error::{TypeKind, ValidationErrorKind};
    let wants_string = match kind {
        ValidationErrorKind::Type { kind: TypeKind::Single(t) } => *t == jsonschema::JsonType::String,
        ValidationErrorKind::Type { kind: TypeKind::Multiple(set) } => set.contains(jsonschema::JsonType::String),
        _ => false,
    };
    if instance.is_number() && wants_string {
        let as_written = written.unwrap_or_else(|| instance.to_string());
        Some(format!("YAML reads {as_written} as the number {instance}: quote it, e.g. \"{as_written}\""))
    } else {
        None
    }
}

/// The patterns of the schema's shared definitions, with the description users should read
/// instead of a regular expression.
fn pattern_descriptions() -> &'static [(String, String)] {
    static PATTERNS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).expect("schemas/zoo.schema.json is valid JSON");
        let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
        defs.values()
            .filter_map(|d| Some((d["pattern"].as_str()?.to_string(), d["description"].as_str()?.to_string())))
            .collect()
    })
}

/// jsonschema's messages quote whole instances and raw patterns; say what is expected instead,
/// on one short line.
fn schema_message(message: &str, instance: &Value) -> String {
    for (pattern, description) in pattern_descriptions() {
        if message.ends_with(&format!("{:?}", pattern)) || message.contains(&format!("\"{pattern}\"")) {
            return format!("{instance} is not valid here: {description}");
        }
    }
    let one_line = message.replace('\n', " ");
    if one_line.chars().count() > 300 { one_line.chars().take(300).collect::<String>() + "…" } else { one_line }
}

/// `/models/0/path` → `models[0].path`: the way users write field names.
pub fn pointer_to_field(pointer: &str) -> String {
    let mut out = String::new();
    for part in pointer.split('/').skip(1) {
        let part = part.replace("~1", "/").replace("~0", "~");
        if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
            out.push_str(&format!("[{part}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_becomes_a_field_path() {
        assert_eq!(pointer_to_field("/models/1/path"), "models[1].path");
        assert_eq!(pointer_to_field(""), "");
    }

    #[test]
    fn yaml_error_names_line_and_column() {
        let mut p = Problems::default();
        assert!(parse("name: x\nversion: '1'\nmodels: [a, b\n", "zoo.yaml", &mut p).is_none());
        let text = p.to_string();
        assert!(text.contains("line 3 column 9"), "{text}");
    }

    #[test]
    fn every_schema_problem_is_listed_at_once() {
        let mut p = Problems::default();
        let yaml = "name: Bad\nversion: 1.0\nmodels: []\nmodles: 1\n";
        assert!(parse(yaml, "zoo.yaml", &mut p).is_none());
        let text = p.to_string();
        assert!(text.contains("zoo.yaml: name"), "{text}");
        assert!(text.contains("zoo.yaml: version"), "{text}");
        assert!(text.contains("quote it"), "{text}");
        assert!(text.contains("modles"), "{text}");
        assert!(p.error_count() >= 4, "{text}");
    }
}
