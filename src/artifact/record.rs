//! The `io.zoo-oci.suite` record (DESIGN §2): what a manifest says each layer holds. Written by
//! [`super::pack`], read by [`super::decode`]; neither imports the other's types.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::archive::FileRecord;
use crate::suite::Class;

/// The version of the record this zoo-oci writes and reads. Weight files as layers of their own
/// (issue 20) did not change its shape: a variant is several layer records of one name, which
/// every earlier reader already reads. A change of shape is a new number.
pub const RECORD_VERSION: u32 = 1;

/// The `io.zoo-oci.suite` annotation: the normalised descriptor with what each layer holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteRecord {
    /// Format version of this record.
    pub zoo_oci: u32,
    /// The normalised descriptor.
    pub descriptor: serde_json::Value,
    /// One entry per layer, in layer order.
    pub layers: Vec<LayerRecord>,
}

/// What one layer holds, in the `io.zoo-oci.suite` annotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LayerRecord {
    /// The layer's digest.
    pub digest: String,
    /// Its class.
    pub class: Class,
    /// Variant or dataset name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every file, when there are at most 1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileRecord>>,
    /// File count.
    pub file_count: u64,
    /// Total bytes of the files.
    pub size: u64,
    /// Model layers: what each model file says about itself (format, opset, inputs and
    /// outputs, parameters, precision).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, crate::suite::inspect::Facts>,
}
