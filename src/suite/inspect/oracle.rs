//! The fixture oracle. `scripts/fetch-fixtures.sh` writes `FACTS.json` beside the fixture files:
//! for every file, what a correct reader must find in it, computed once with the reference
//! Python packages (onnx, safetensors, gguf, zipfile; see `tests/fixtures/README.md`). One
//! table-driven test reads every fixture with zoo-oci's own functions and compares every fact the
//! oracle records that one of them reads; the mismatches are listed together, not one per run.
//!
//! Every field of every entry is either compared or named in [`NOT_READ`] with the reason, so a
//! field added to the oracle later fails here until someone decides which it is. Where zoo-oci
//! reads a fact differently from the oracle on purpose, [`DIFFERENCES`] says so and pins both
//! values.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use serde_json::{Map, Value, json};

use super::tests::fixtures;
use super::{Facts, MODEL_EXTENSIONS, Recognised, TensorFacts, extension, gguf, read};
use crate::suite::scan;

/// Fields of FACTS.json that no zoo-oci function reads, and why they are not compared.
const NOT_READ: &[(&str, &str)] = &[
    ("sha256", "fetch-fixtures.sh checks every file against this sha256 before it writes FACTS.json"),
    ("source", "where the file came from (package and member), not something in the file"),
    ("title", "init takes the card's first paragraph as the summary, not its heading"),
    ("architectures", "config.json is a doc to init: no function reads it"),
    ("model_type", "config.json is a doc to init: no function reads it"),
    ("graph_inputs_including_initializers", "the raw graph.input count; `inputs` (initializers left out) is compared"),
    ("constant_node_elements", "for information: the ONNX reader does not look into Constant nodes"),
    ("nodes", "for information: the ONNX reader does not count nodes"),
    ("op_types", "for information: the ONNX reader only notes ConstantOfShape nodes"),
    ("header_size", "the safetensors reader reads the header length but does not keep it"),
    ("kv_count", "the GGUF reader walks the pairs but keeps only some (`kv` is compared for those)"),
    ("keys", "the GGUF reader keeps only some keys (`kv` is compared for those)"),
    ("key_types", "the GGUF reader keeps values, not their types"),
    ("arrays", "the GGUF reader skips arrays; the vocabulary's length is compared as `vocab_size`"),
    ("file_type_name", "llama.cpp's enum name; the number is compared as `file_type`"),
    ("version_entry", "the raw `version` entry; compared, trimmed, as `format_version`"),
    ("byteorder", "the zip reader reads only the version and the entry names"),
    ("archive_root", "the zip reader finds the folder holding data.pkl but does not keep its name"),
    ("entries", "the zip reader does not count entries"),
    ("code_entries", "the zip reader only asks whether there is a code/ folder"),
    ("code_py_entries", "the zip reader only asks whether there is a code/ folder"),
    ("data_bytes", "the zip reader counts storages, not their bytes"),
    ("has_constants_pkl", "tells TorchScript from torch.save, as `format` (compared) does"),
    ("has_data_pkl", "tells a PyTorch zip from another zip, as `format` (compared) does"),
    ("root_class", "data.pkl is not read: pickles are not looked into"),
    ("storage_types", "data.pkl is not read: pickles are not looked into"),
    ("entry_names", "the zip reader does not keep entry names"),
];

/// Facts zoo-oci reads differently from the oracle on purpose: entry, field, the oracle's value,
/// zoo-oci's value (both as JSON), and why. Both values are checked, so a row goes stale (and
/// fails) as soon as either side changes.
const DIFFERENCES: &[(&str, &str, &str, &str, &str)] = &[
    // The light models' float weights are made at run time by ConstantOfShape nodes from int64
    // shape initializers: zoo-oci counts the tensors those nodes make (the real network's
    // parameters: 25.6M for ResNet-50, BatchNorm statistics included) instead of their shapes;
    // the oracle counts the initializers as they are in the file.
    ("onnx/light_resnet50.onnx", "params", "2194", "25610155", "ConstantOfShape weights counted"),
    (
        "onnx/light_resnet50.onnx",
        "initializer_dtypes",
        r#"{"float32": 1793, "int64": 401}"#,
        r#"{"float32": 25610153, "int64": 2}"#,
        "ConstantOfShape weights counted",
    ),
    ("onnx/light_shufflenet.onnx", "params", "657", "1420298", "ConstantOfShape weights counted"),
    (
        "onnx/light_shufflenet.onnx",
        "initializer_dtypes",
        r#"{"float32": 120, "int64": 537}"#,
        r#"{"float32": 1420152, "int64": 146}"#,
        "ConstantOfShape weights counted",
    ),
    // Its weights (545,601 elements) are all in Constant nodes, mostly inside If subgraphs,
    // which the reader does not look into: "0 parameters" would be false, so the count is
    // left unknown.
    ("silero-vad/silero_vad.onnx", "params", "0", "null", "weights in Constant nodes: unknown, not 0"),
    // The oracle finds FloatStorage among data.pkl's opcodes; zoo-oci does not look into pickles.
    ("silero-vad/silero_vad.jit", "precision", r#""fp32""#, "null", "data.pkl is not read"),
];

/// Every fixture file is read with zoo-oci's functions, and every fact FACTS.json records for it
/// is compared with what they return.
#[test]
fn the_readers_find_what_the_fixture_oracle_says() {
    let dir = fixtures();
    let path = dir.join("FACTS.json");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("setup error: cannot read {}: {e}", path.display()));
    let oracle: Map<String, Value> = serde_json::from_str(&text).expect("FACTS.json is a JSON object");
    assert!(oracle.len() >= 24, "FACTS.json has only {} entries", oracle.len());

    let mut check = Check::default();
    let mut plans = BTreeMap::new();
    for (entry, expected) in &oracle {
        let expected = expected.as_object().unwrap_or_else(|| panic!("{entry}: not a JSON object"));
        let file = dir.join(entry);
        let mut c = check.entry(entry, expected);
        c.same("size", || fs::metadata(&file).map(|m| json!(m.len())).unwrap_or_else(|e| json!(format!("{e}"))));
        // The licence init declares for the folder: from a card's front matter, else from a
        // licence file's text. FACTS.json gives each file its folder's licence.
        let folder = entry.split_once('/').map_or("", |(f, _)| f).to_string();
        let plan = plans.entry(folder.clone()).or_insert_with(|| {
            scan::plan(&dir.join(&folder), crate::suite::Links::Refuse)
                .map(|p| p.spec.license)
                .map_err(|e| e.to_string())
        });
        c.same("license", || match plan {
            Ok(license) => json!(license),
            Err(e) => json!(format!("init failed: {e}")),
        });
        let facts = read(&file);
        let model = MODEL_EXTENSIONS.contains(&extension(&file).as_str()) && facts.recognised == Recognised::Content;
        c.same("model", || json!(model));
        if expected.get("model") == Some(&Value::Bool(true)) {
            model_facts(&mut c, &facts);
        }
        if entry.ends_with("README.md") {
            c.same("front_matter", || {
                fs::read_to_string(&file).ok().and_then(|t| crate::suite::card::front_matter(&t)).unwrap_or(Value::Null)
            });
        }
        // A non-model file is read by extension only: its format is its extension, not the
        // oracle's word for it (`markdown`, `json`).
        if expected.get("model") != Some(&Value::Bool(true)) {
            c.skip("format");
        }
        c.done();
    }
    check.finish(oracle.len());
}

/// The facts every model file has, and each format's own.
fn model_facts(c: &mut EntryCheck<'_, '_>, f: &Facts) {
    c.same("format", || json!(f.format));
    // A real, valid file reads from its content without a warning.
    c.always("warnings", json!([]), json!(f.warnings));
    c.always("recognised", json!("content"), json!(f.recognised));
    c.field("format_version", |v| v.as_u64().map_or(Value::Null, |n| json!(n.to_string())), || json!(f.format_version));
    c.same("precision", || json!(f.precision));
    c.same("params", || json!(f.params));
    c.same("tensors", || json!(f.tensors));
    c.same("architecture", || json!(f.architecture));
    c.same("opset", || json!(f.opset));
    c.same("inputs", || io(&f.inputs));
    c.same("outputs", || io(&f.outputs));
    let meta = |key: &str| f.metadata.get(key).map_or(Value::Null, |v| json!(v));
    match f.format.as_str() {
        "onnx" => {
            c.field("ir_version", |v| json!(v.to_string()), || json!(f.format_version));
            c.field("opset_imports", by_domain, || json!(f.opsets));
            let version = c.expected.get("producer_version").and_then(Value::as_str).unwrap_or("").to_string();
            c.field(
                "producer",
                |v| json!(format!("{} {version}", v.as_str().unwrap_or("")).trim()),
                || json!(f.producer),
            );
            // Compared together with `producer`, the way the reader keeps them.
            c.skip("producer_version");
            c.same("graph_name", || meta("graph_name"));
            // Absent is protobuf's default, 0.
            c.same("model_version", || {
                f.metadata.get("model_version").and_then(|v| v.parse::<i64>().ok()).map_or(json!(0), |v| json!(v))
            });
            // metadata_props, without what the reader keeps beside them from other fields.
            c.same("metadata", || {
                let mut m = f.metadata.clone();
                for own in ["graph_name", "model_version", "domain"] {
                    m.remove(own);
                }
                json!(m)
            });
            c.field("initializer_dtypes", elements_by_dtype, || json!(f.dtypes));
        }
        "safetensors" => {
            c.field("metadata", |v| if v.is_null() { json!({}) } else { v.clone() }, || json!(f.metadata));
            c.field("dtypes", elements_by_dtype, || json!(f.dtypes));
        }
        "gguf" => gguf_facts(c, f),
        "torchscript" => {
            c.same("data_entries", || meta("storages").as_str().map_or(Value::Null, |n| json!(n.parse::<u64>().ok())))
        }
        _ => {}
    }
}

/// GGUF: the keys the reader keeps, with the oracle's values.
fn gguf_facts(c: &mut EntryCheck<'_, '_>, f: &Facts) {
    let meta = |key: &str| f.metadata.get(key).map_or(Value::Null, |v| json!(v));
    let arch = f.architecture.clone().unwrap_or_default();
    c.same("name", || json!(f.name));
    c.same("tokenizer_model", || meta("tokenizer.ggml.model"));
    c.field("vocab_size", |v| json!(format!("{v} entries")), || meta("tokenizer.ggml.tokens"));
    for (field, key) in
        [("context_length", "context_length"), ("embedding_length", "embedding_length"), ("block_count", "block_count")]
    {
        c.field(field, |v| json!(v.to_string()), || meta(&format!("{arch}.{key}")));
    }
    c.field("file_type", |v| json!(v.to_string()), || meta("general.file_type"));
    // No `general.alignment` key: the default, 32.
    c.same("alignment", || meta("general.alignment").as_str().map_or(json!(32), |a| json!(a.parse::<u64>().ok())));
    // Every scalar the reader keeps, with the oracle's value; architecture and name go to their
    // own facts, the rest to `metadata`.
    let kept = |key: &str| {
        gguf::KEPT.contains(&key)
            || key
                .strip_prefix(&arch)
                .and_then(|k| k.strip_prefix('.'))
                .is_some_and(|k| gguf::KEPT_FOR_ARCHITECTURE.contains(&k))
    };
    c.field(
        "kv",
        |kv| {
            let kv = kv.as_object().cloned().unwrap_or_default();
            let words = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let mut out = BTreeMap::new();
            for (key, value) in &kv {
                if kept(key) || matches!(key.as_str(), "general.architecture" | "general.name" | "general.file_type") {
                    out.insert(key.clone(), words(value));
                }
            }
            json!(out)
        },
        || {
            let mut out: BTreeMap<String, String> = f
                .metadata
                .iter()
                .filter(|(k, _)| *k != "tokenizer.ggml.tokens")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            out.extend(f.architecture.clone().map(|a| ("general.architecture".to_string(), a)));
            out.extend(f.name.clone().map(|n| ("general.name".to_string(), n)));
            json!(out)
        },
    );
}

/// Inputs or outputs as the oracle writes them: `dtype` and `shape` null when unknown.
fn io(list: &[TensorFacts]) -> Value {
    list.iter().map(|t| json!({"name": t.name, "dtype": t.dtype, "shape": t.shape})).collect()
}

/// `[{"domain", "version"}]` as a map, domain → version.
fn by_domain(v: &Value) -> Value {
    let mut out = Map::new();
    for o in v.as_array().into_iter().flatten() {
        out.insert(o["domain"].as_str().unwrap_or("").to_string(), o["version"].clone());
    }
    Value::Object(out)
}

/// `{dtype: {"tensors", "elements"}}` as `{dtype: elements}`.
fn elements_by_dtype(v: &Value) -> Value {
    let mut out = Map::new();
    for (dtype, counts) in v.as_object().into_iter().flatten() {
        out.insert(dtype.clone(), counts["elements"].clone());
    }
    Value::Object(out)
}

/// The mismatches of every entry, and which rows of [`DIFFERENCES`] were met.
#[derive(Default)]
struct Check {
    mismatches: Vec<String>,
    differences_met: BTreeSet<(String, String)>,
    compared: usize,
}

impl Check {
    fn entry<'c, 'e>(&'c mut self, name: &'e str, expected: &'e Map<String, Value>) -> EntryCheck<'c, 'e> {
        EntryCheck { check: self, name, expected, seen: BTreeSet::new() }
    }

    fn finish(self, entries: usize) {
        let mut mismatches = self.mismatches;
        for (entry, field, ..) in DIFFERENCES {
            if !self.differences_met.contains(&(entry.to_string(), field.to_string())) {
                mismatches.push(format!("{entry}: {field}: listed in DIFFERENCES, but no such entry or field"));
            }
        }
        assert!(
            mismatches.is_empty(),
            "the readers disagree with the fixture oracle (FACTS.json) in {} places:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
        assert!(self.compared >= 200, "only {} facts compared over {entries} entries", self.compared);
        eprintln!("fixture oracle: {} facts compared over {entries} entries", self.compared);
    }
}

/// One entry's comparisons.
struct EntryCheck<'c, 'e> {
    check: &'c mut Check,
    name: &'e str,
    expected: &'e Map<String, Value>,
    /// Fields compared or deliberately skipped.
    seen: BTreeSet<String>,
}

impl EntryCheck<'_, '_> {
    /// Compares `field` as the oracle writes it with `actual`, when the entry has that field.
    fn same(&mut self, field: &str, actual: impl FnOnce() -> Value) {
        self.field(field, Value::clone, actual);
    }

    /// Compares `field`, turned into zoo-oci's terms by `expected`, with `actual`, when the
    /// entry has that field.
    fn field(&mut self, field: &str, expected: impl FnOnce(&Value) -> Value, actual: impl FnOnce() -> Value) {
        let Some(oracle) = self.expected.get(field) else { return };
        self.seen.insert(field.to_string());
        self.check.compared += 1;
        let want = expected(oracle);
        let got = actual();
        let known = DIFFERENCES.iter().find(|(e, f, ..)| *e == self.name && *f == field);
        if let Some((_, _, says, reads, why)) = known {
            self.check.differences_met.insert((self.name.to_string(), field.to_string()));
            let says: Value = serde_json::from_str(says).expect("DIFFERENCES holds JSON");
            let reads: Value = serde_json::from_str(reads).expect("DIFFERENCES holds JSON");
            if want != says || got != reads {
                self.check.mismatches.push(format!(
                    "{}: {field}: DIFFERENCES ({why}) expects oracle {says} and zoo-oci {reads}; oracle has {want}, zoo-oci read {got}",
                    self.name
                ));
            }
        } else if want != got {
            self.check.mismatches.push(format!("{}: {field}: expected {want}, read {got}", self.name));
        }
    }

    /// A fact the oracle does not record but implies for every model file.
    fn always(&mut self, what: &str, want: Value, got: Value) {
        self.check.compared += 1;
        if want != got {
            self.check.mismatches.push(format!("{}: {what}: expected {want}, read {got}", self.name));
        }
    }

    /// A field deliberately not compared for this entry (the reason is at the call).
    fn skip(&mut self, field: &str) {
        self.seen.insert(field.to_string());
    }

    /// Every field the entry has was compared, skipped, or is one no function reads.
    fn done(self) {
        for field in self.expected.keys() {
            if !self.seen.contains(field) && !NOT_READ.iter().any(|(f, _)| f == field) {
                self.check.mismatches.push(format!("{}: {field}: neither compared nor listed in NOT_READ", self.name));
            }
        }
    }
}
