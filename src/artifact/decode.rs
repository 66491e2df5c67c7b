//! Decoding: a manifest read from any store becomes a [`SuiteView`] — the suite's metadata and
//! what each layer holds — without reading a layer. Works for zoo-oci's artifacts and, from
//! media types and `org.cncf.model.filepath` alone, for ModelPack artifacts of other tools.

use std::collections::BTreeMap;

use serde_json::Value;

use super::archive::{Compression, FileRecord};
use super::manifest::{Descriptor, Manifest};
use super::media;
use super::media::{LayerContent, LayerEncoding};
use super::record::{LayerRecord, SuiteRecord};
use super::variant::Variant;
use crate::error::{Error, Result};
use crate::suite::{Class, SuiteSpec};

/// How a layer's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A tar, possibly compressed.
    Tar(Compression),
    /// One file as-is.
    Raw,
}

/// One layer, as the manifest describes it.
#[derive(Debug, Clone)]
pub struct LayerView {
    /// The layer's descriptor.
    pub descriptor: Descriptor,
    /// Its class.
    pub class: Class,
    /// Variant (model) or dataset name.
    pub name: Option<String>,
    /// Framework of a model layer.
    pub framework: Option<String>,
    /// `org.cncf.model.filepath`.
    pub filepath: Option<String>,
    /// How it is stored.
    pub storage: Storage,
    /// Its files, when the manifest lists them.
    pub files: Option<Vec<FileRecord>>,
    /// File count, when known.
    pub file_count: Option<u64>,
    /// Total bytes of its files, when known.
    pub unpacked_size: Option<u64>,
    /// What its model files say about themselves, when recorded.
    pub facts: BTreeMap<String, crate::suite::inspect::Facts>,
}

impl LayerView {
    /// The facts of the layer's main model file: read from content, most parameters.
    pub fn main_facts(&self) -> Option<&crate::suite::inspect::Facts> {
        self.facts
            .values()
            .filter(|f| f.recognised == crate::suite::inspect::Recognised::Content)
            .max_by_key(|f| f.params.unwrap_or(0))
    }
}

/// A suite as its manifest describes it.
#[derive(Debug, Clone)]
pub struct SuiteView {
    /// The manifest's descriptor.
    pub manifest_descriptor: Descriptor,
    /// The manifest.
    pub manifest: Manifest,
    /// The descriptor recorded by zoo-oci (absent for other tools' artifacts).
    pub spec: Option<SuiteSpec>,
    /// The layers, in manifest order.
    pub layers: Vec<LayerView>,
    /// The model variants (one per model layer, in layer order): declared ⊕ read from files.
    pub variants: Vec<Variant>,
}

impl SuiteView {
    /// The suite's name: from the descriptor, else the title annotation.
    pub fn name(&self) -> Option<&str> {
        self.spec.as_ref().map(|d| d.name.as_str()).or_else(|| self.annotation(media::ANN_TITLE))
    }
    /// A manifest annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.manifest.annotations.get(key).map(String::as_str)
    }
}

/// Decodes a manifest. Refuses manifests that are not model artifacts, naming what they are.
pub fn decode(manifest_descriptor: &Descriptor, bytes: &[u8]) -> Result<SuiteView> {
    if manifest_descriptor.media_type != media::OCI_MANIFEST {
        return Err(not_a_suite(&format!("an artifact of media type {}", manifest_descriptor.media_type)));
    }
    let manifest = super::manifest::parse_manifest(bytes, &format!("manifest {}", manifest_descriptor.digest))?;
    let is_model = manifest.artifact_type.as_deref() == Some(media::MODEL_ARTIFACT)
        || manifest.config.media_type == media::MODEL_CONFIG;
    if !is_model {
        let what = match &manifest.artifact_type {
            Some(t) => format!("of artifact type {t}"),
            None => format!("an artifact with config media type {}", manifest.config.media_type),
        };
        return Err(not_a_suite(&what));
    }
    let record: Option<SuiteRecord> = match manifest.annotations.get(media::ANN_SUITE) {
        Some(text) => Some(serde_json::from_str(text).map_err(|e| {
            Error::malformed(format!(
                "manifest {}: the {} annotation is malformed",
                manifest_descriptor.digest,
                media::ANN_SUITE
            ))
            .with_cause(e)
        })?),
        None => None,
    };
    let descriptor = match &record {
        Some(r) => Some(serde_json::from_value::<SuiteSpec>(r.descriptor.clone()).map_err(|e| {
            Error::malformed(format!("manifest {}: the recorded descriptor is malformed", manifest_descriptor.digest))
                .with_cause(e)
        })?),
        None => None,
    };
    let by_digest: BTreeMap<&str, &LayerRecord> =
        record.iter().flat_map(|r| r.layers.iter()).map(|l| (l.digest.as_str(), l)).collect();
    let mut layers = Vec::new();
    for layer in &manifest.layers {
        let Some((content, encoding)) = media::layer_type(&layer.media_type) else {
            continue; // not a model layer (e.g. an SBOM another tool attached): left alone
        };
        let storage = storage_of(encoding);
        let filepath =
            layer.annotation(media::ANN_FILEPATH).or_else(|| layer.annotation(media::ANN_TITLE)).map(String::from);
        let recorded = by_digest.get(layer.digest.as_str());
        let class = match layer.annotation(media::ANN_CLASS) {
            Some(name) => Class::parse(name)
                .map_err(|_| Error::malformed(format!("layer {} has an unknown class {name:?}", layer.digest)))?,
            None => class_from_media_type(content, filepath.as_deref()),
        };
        let name = layer
            .annotation(media::ANN_VARIANT)
            .or_else(|| layer.annotation(media::ANN_DATASET))
            .map(String::from)
            .or_else(|| recorded.and_then(|r| r.name.clone()))
            .or_else(|| {
                (class == Class::Model).then(|| filepath.clone().map(|p| p.trim_end_matches('/').to_string())).flatten()
            });
        layers.push(LayerView {
            class,
            name,
            framework: layer.annotation(media::ANN_FRAMEWORK).map(String::from),
            filepath,
            storage,
            files: recorded.and_then(|r| r.files.clone()),
            file_count: recorded.map(|r| r.file_count),
            unpacked_size: recorded.map(|r| r.size),
            facts: recorded.map(|r| r.facts.clone()).unwrap_or_default(),
            descriptor: layer.clone(),
        });
    }
    let variants = layers
        .iter()
        .filter(|l| l.class == Class::Model)
        .map(|l| {
            let name = l.name.clone().unwrap_or_else(|| "model".into());
            let declared = descriptor.as_ref().and_then(|d| d.models.iter().find(|m| m.name == name));
            Variant::merge(name, l.framework.clone(), declared, l.main_facts(), l.descriptor.size)
        })
        .collect();
    Ok(SuiteView { manifest_descriptor: manifest_descriptor.clone(), manifest, spec: descriptor, layers, variants })
}

fn not_a_suite(what: &str) -> Error {
    Error::failed(format!("this is not a model suite: it is {what}"))
        .with_hint("zoo-oci copy can still mirror it; pull and inspect read ModelPack artifacts")
}

fn storage_of(encoding: LayerEncoding) -> Storage {
    match encoding {
        LayerEncoding::Raw => Storage::Raw,
        LayerEncoding::Tar => Storage::Tar(Compression::None),
        LayerEncoding::TarZstd => Storage::Tar(Compression::Zstd),
    }
}

fn class_from_media_type(content: LayerContent, filepath: Option<&str>) -> Class {
    let file =
        filepath.unwrap_or_default().trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
    match content {
        LayerContent::Weight => Class::Model,
        LayerContent::Dataset => Class::Dataset,
        LayerContent::Code if file.ends_with(".ipynb") => Class::Notebooks,
        LayerContent::Code => Class::Scripts,
        LayerContent::Doc if file.starts_with("readme") => Class::Readme,
        LayerContent::Doc
            if file.starts_with("license") || file.starts_with("licence") || file.starts_with("copying") =>
        {
            Class::License
        }
        LayerContent::Doc => Class::Docs,
    }
}

/// The descriptor recorded in a manifest, as JSON (for `inspect --format json`).
pub fn descriptor_json(view: &SuiteView) -> Value {
    view.spec.as_ref().map(|d| serde_json::to_value(d).expect("descriptors serialise")).unwrap_or(Value::Null)
}
