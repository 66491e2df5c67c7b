//! The variant view: one model variant as users see it, the declared values of `zoo.yaml`
//! merged with the facts read from its files. Built in one place, by [`Variant::merge`], where a
//! manifest is decoded (for `inspect` and `index`) and where a suite is packed (for the ModelPack
//! config), so every front end shows the same values.
//!
//! The rule: what the model file says beats what the descriptor says; the descriptor fills in
//! what the file does not tell (framework version, a precision a file leaves open).

use serde::{Deserialize, Serialize};

use crate::suite::inspect::Facts;
use crate::suite::spec::ModelEntry;

/// A model variant: declared ⊕ read from its files.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Variant {
    /// Variant name.
    pub name: String,
    /// Framework.
    pub framework: Option<String>,
    /// Framework version (declared only: files rarely say).
    pub framework_version: Option<String>,
    /// Precision.
    pub precision: Option<String>,
    /// Parameter count.
    pub params: Option<u64>,
    /// Layer size in bytes.
    pub size: u64,
    /// File format (`onnx`, `safetensors`, `gguf`, …).
    pub format: Option<String>,
    /// ONNX opset.
    pub opset: Option<u64>,
    /// Everything read from the variant's main model file, when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
}

impl Variant {
    /// Merges what the descriptor declares for a variant with what its main model file says.
    /// `framework` is the layer's own annotation, when the manifest has one.
    pub fn merge(
        name: String,
        framework: Option<String>,
        declared: Option<&ModelEntry>,
        facts: Option<&Facts>,
        size: u64,
    ) -> Variant {
        Variant {
            name,
            framework: framework.or_else(|| declared.map(|m| m.framework.clone())),
            framework_version: declared.and_then(|m| m.framework_version.clone()),
            precision: facts.and_then(|f| f.precision.clone()).or_else(|| declared.and_then(|m| m.precision.clone())),
            // A reader that found no parameters (0) knows less than a declared count.
            params: facts.and_then(|f| f.params).filter(|p| *p > 0).or_else(|| declared.and_then(|m| m.params)),
            size,
            format: facts.map(|f| f.format.clone()).or_else(|| declared.and_then(|m| m.format.clone())),
            opset: facts.and_then(|f| f.opset).or_else(|| declared.and_then(|m| m.opset)),
            facts: facts.cloned(),
        }
    }
}
