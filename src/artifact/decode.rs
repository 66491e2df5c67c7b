//! Decoding: a manifest read from any store becomes a [`SuiteView`] — the suite's metadata and
//! what each layer holds — without reading a layer. Works for zoo-oci's artifacts and, from
//! media types and `org.cncf.model.filepath` alone, for ModelPack artifacts of other tools.

use std::collections::BTreeMap;

use serde::Deserialize as _;
use serde_json::Value;

use super::archive::{Compression, FileRecord};
use super::manifest::{Descriptor, Manifest};
use super::media;
use super::media::{LayerContent, LayerEncoding};
use super::record::{LayerRecord, SuiteRecord};
use super::variant::Variant;
use crate::error::{Error, Result};
use crate::suite::inspect::Recognised;
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
    /// A ModelPack `weight.config` layer (a model's configuration files): part of the variant
    /// of the weights in its folder, not a variant of its own.
    pub weight_config: bool,
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
    /// The ModelPack config, read for artifacts zoo-oci did not write (see [`attach_config`]).
    pub model_config: Option<ModelPackConfig>,
    /// Layers of media types zoo-oci does not read (listed, never silently dropped).
    pub unknown_layers: Vec<Descriptor>,
    /// What decoding found odd: an unreadable config, unknown layers.
    pub warnings: Vec<String>,
    /// The Kitfile of a KitOps ModelKit (its config blob), as JSON.
    pub kitfile: Option<Value>,
}

/// One entry of what a layer holds, as its manifest says: a file it lists, or, for a layer
/// whose files are not listed (more than 1,000 of them, or another tool's tar), the layer as
/// one entry standing for them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ListedFile {
    /// Suite-relative path (a folder's, ending in `/`, for a layer standing for its files).
    pub path: String,
    /// Size in bytes (for a layer standing for its files, their total when recorded).
    pub size: u64,
    /// `sha256:<hex>` of its bytes (the layer's, for a layer standing for its files).
    pub digest: String,
    /// Packed with mode 0755.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub executable: bool,
    /// Set when this entry stands for a whole layer whose files are not listed: their count,
    /// when recorded (0 when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_files: Option<u64>,
}

impl LayerView {
    /// The layer's files as the manifest lists them; else the layer as one entry: a raw layer
    /// is one file (its digest is the file's sha256), a tar layer stands for the files it holds.
    pub fn listed_files(&self) -> Vec<ListedFile> {
        if let Some(files) = &self.files {
            return files
                .iter()
                .map(|f| ListedFile {
                    path: f.path.clone(),
                    size: f.size,
                    digest: f.sha256.clone(),
                    executable: f.executable,
                    layer_files: None,
                })
                .collect();
        }
        let path =
            self.filepath.clone().or_else(|| self.name.clone()).unwrap_or_else(|| self.descriptor.digest.clone());
        vec![ListedFile {
            path,
            size: self.unpacked_size.unwrap_or(self.descriptor.size),
            digest: self.descriptor.digest.clone(),
            executable: false,
            layer_files: match self.storage {
                Storage::Raw => None,
                Storage::Tar(_) => Some(self.file_count.unwrap_or(0)),
            },
        }]
    }
}

/// The facts of a ModelPack config (model-spec `config.go`), as other tools write them.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelPackConfig {
    /// `descriptor`.
    #[serde(default)]
    pub descriptor: ModelPackDescriptor,
    /// `config`.
    #[serde(default)]
    pub config: ModelPackModel,
}

/// `descriptor` of a ModelPack config.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPackDescriptor {
    /// The model's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its family (`llama3`, `qwen2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// Its vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Its title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its authors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authors: Vec<String>,
    /// Its licences (SPDX).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Where its source is.
    #[serde(default, rename = "sourceURL", skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// Where its documentation is.
    #[serde(default, rename = "docURL", skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    /// When it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// `config` of a ModelPack config.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPackModel {
    /// The architecture (`transformer`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    /// The file format (`safetensors`, `gguf`, `onnx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The parameter count as written (`8b`, `22.7M`); model-spec 0.0.1 wrote it as the number
    /// `parameterSize`.
    #[serde(
        default,
        alias = "parameterSize",
        deserialize_with = "text_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub param_size: Option<String>,
    /// The precision (`bf16`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<String>,
    /// The quantisation (`awq`, `gptq`, `q4_k_m`); model-spec 0.0.1–0.0.3 spelt it `puantization`,
    /// as modctl ≤ 0.0.3 and Harbor 2.13 still read and write it.
    #[serde(default, alias = "puantization", skip_serializing_if = "Option::is_none")]
    pub quantization: Option<String>,
    /// What it takes and gives, as written (input and output types, languages, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Value>,
}

impl SuiteView {
    /// The suite's name: from zoo-oci's descriptor, else the ModelPack config, else the title
    /// annotation.
    pub fn name(&self) -> Option<&str> {
        self.spec
            .as_ref()
            .map(|d| d.name.as_str())
            .or_else(|| self.model_config.as_ref().and_then(|c| c.descriptor.name.as_deref()))
            .or_else(|| self.annotation(media::ANN_TITLE))
            .filter(|n| !n.is_empty())
    }

    /// The suite's version: from zoo-oci's descriptor, else the ModelPack config, else the
    /// version annotation.
    pub fn version(&self) -> Option<&str> {
        self.spec
            .as_ref()
            .map(|d| d.version.as_str())
            .or_else(|| self.model_config.as_ref().and_then(|c| c.descriptor.version.as_deref()))
            .or_else(|| self.annotation(media::ANN_VERSION))
            .filter(|v| !v.is_empty())
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
    let is_model = media::is_model_artifact(manifest.artifact_type.as_deref(), &manifest.config.media_type);
    if !is_model {
        let what = match &manifest.artifact_type {
            Some(t) => format!("of artifact type {t}"),
            None => format!("an artifact with config media type {}", manifest.config.media_type),
        };
        return Err(not_a_suite(&what));
    }
    let record: Option<SuiteRecord> = match manifest.annotations.get(media::ANN_SUITE) {
        Some(text) => {
            let malformed = |e: serde_json::Error| {
                Error::malformed(format!(
                    "manifest {}: the {} annotation is malformed",
                    manifest_descriptor.digest,
                    media::ANN_SUITE
                ))
                .with_cause(e)
            };
            let value: Value = serde_json::from_str(text).map_err(malformed)?;
            // The version first: a newer record may have another shape, which is no corruption.
            let version = value.get("zoo_oci").and_then(Value::as_u64).unwrap_or(0);
            if version > u64::from(super::record::RECORD_VERSION) {
                return Err(Error::failed(format!(
                    "manifest {} was written by a newer zoo-oci: its suite record is version {version}, \
                     this zoo-oci reads up to {}",
                    manifest_descriptor.digest,
                    super::record::RECORD_VERSION
                ))
                .with_hint("upgrade zoo-oci (pip install -U zoo-oci, or the latest release) to read it"));
            }
            Some(serde_json::from_value(value).map_err(malformed)?)
        }
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
    let mut unknown_layers = Vec::new();
    let mut warnings = Vec::new();
    for layer in &manifest.layers {
        let Some((content, encoding)) = media::layer_type(&layer.media_type) else {
            // Not a layer zoo-oci reads (an SBOM another tool attached, a newer type): listed.
            warnings.push(format!(
                "layer {} has media type {}, which zoo-oci does not read: it is listed, not extracted",
                layer.digest, layer.media_type
            ));
            unknown_layers.push(layer.clone());
            continue;
        };
        let storage = storage_of(encoding);
        let filepath = layer
            .annotation(media::ANN_FILEPATH)
            .or_else(|| layer.annotation(media::LEGACY_ANN_FILEPATH))
            .or_else(|| layer.annotation(media::ANN_TITLE))
            .map(String::from);
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
            .or_else(|| recorded.and_then(|r| r.name.clone()));
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
            weight_config: content == LayerContent::WeightConfig,
            descriptor: layer.clone(),
        });
    }
    name_foreign_variants(&mut layers);
    // One variant per name, in the order its first weights appear; a variant made of several
    // layers (another tool's one layer per file) counts all their bytes.
    // Its facts are those of all its files together: the shards of a checkpoint, each a layer
    // of its own, are one model.
    let mut variants: Vec<Variant> = Vec::new();
    for l in layers.iter().filter(|l| l.class == Class::Model && !l.weight_config) {
        let name = l.name.clone().unwrap_or_else(|| "model".into());
        if variants.iter().any(|v| v.name == name) {
            continue;
        }
        let of_variant = || layers.iter().filter(|o| o.class == Class::Model && o.name.as_deref() == Some(&name));
        let size = of_variant().filter(|o| !o.weight_config).map(|o| o.descriptor.size).sum();
        let read = of_variant().flat_map(|o| o.facts.values()).filter(|f| f.recognised == Recognised::Content);
        let facts = crate::suite::inspect::combine(read);
        let declared = descriptor.as_ref().and_then(|d| d.models.iter().find(|m| m.name == name));
        variants.push(Variant::merge(name, l.framework.clone(), declared, facts.as_ref(), size));
    }
    // KitOps's ModelPack mode (≥ 1.10) keeps the Kitfile as a manifest annotation.
    let kitfile = manifest.annotations.get(media::KIT_ANN_KITFILE).and_then(|text| serde_json::from_str(text).ok());
    Ok(SuiteView {
        manifest_descriptor: manifest_descriptor.clone(),
        manifest,
        spec: descriptor,
        layers,
        variants,
        model_config: None,
        unknown_layers,
        warnings,
        kitfile,
    })
}

/// A string field that some writers put as a number (`parameterSize: 494032768`).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// Names the model layers of an artifact zoo-oci did not write (no variant annotation): the
/// weights of one folder are one variant, named after the folder (the model's own name for
/// the top folder, set later from the config, else `model`), as modctl writes a sharded model
/// as a layer per file. A `weight.config` layer joins the variant of the weights in its folder,
/// or the only variant there is, so that `--variant` gives a folder the model loads from.
fn name_foreign_variants(layers: &mut [LayerView]) {
    let folder_of = |l: &LayerView| -> String {
        let path = l.filepath.as_deref().unwrap_or_default();
        match l.storage {
            Storage::Raw => path.rsplit_once('/').map(|(dir, _)| dir.to_string()).unwrap_or_default(),
            Storage::Tar(_) => {
                let dir = path.trim_end_matches('/').trim_start_matches("./");
                if dir == "." {
                    String::new()
                } else if path.ends_with('/') || dir.is_empty() {
                    dir.to_string()
                } else {
                    // A tar named like a file: the folder it sits in.
                    dir.rsplit_once('/').map(|(d, _)| d.to_string()).unwrap_or_default()
                }
            }
        }
    };
    let variant_of_folder =
        |folder: &str| if folder.is_empty() { "model".to_string() } else { folder.replace('/', "-") };
    for l in layers.iter_mut().filter(|l| l.class == Class::Model && l.name.is_none() && !l.weight_config) {
        l.name = Some(variant_of_folder(&folder_of(l)));
    }
    let weights: Vec<(String, String)> = layers
        .iter()
        .filter(|l| l.class == Class::Model && !l.weight_config)
        .filter_map(|l| Some((folder_of(l), l.name.clone()?)))
        .collect();
    let mut names: Vec<&String> = weights.iter().map(|(_, n)| n).collect();
    names.sort();
    names.dedup();
    let only = (names.len() == 1).then(|| names[0].clone());
    for l in layers.iter_mut().filter(|l| l.weight_config && l.name.is_none()) {
        let folder = folder_of(l);
        l.name = weights
            .iter()
            .find(|(f, _)| *f == folder)
            .map(|(_, n)| n.clone())
            .or_else(|| only.clone())
            .or_else(|| Some(variant_of_folder(&folder)));
    }
}

/// Reads the ModelPack config blob of an artifact zoo-oci did not write into its view: the
/// model's name, version, format, precision, quantisation, size, licences and authors. A config
/// that is not JSON, or not a ModelPack config, gives a warning naming it, not an error: the
/// layers can still be listed and pulled.
pub fn attach_config(view: &mut SuiteView, bytes: &[u8]) {
    let digest = &view.manifest.config.digest;
    let parsed: std::result::Result<Value, _> = serde_json::from_slice(bytes);
    let config = match parsed {
        Ok(Value::Object(map)) if map.contains_key("descriptor") || map.contains_key("config") => {
            serde_json::from_value::<ModelPackConfig>(Value::Object(map)).map_err(|e| e.to_string())
        }
        Ok(_) => Err("it has neither `descriptor` nor `config`".to_string()),
        Err(e) => Err(format!("it is not JSON ({e})")),
    };
    match config {
        Ok(config) => {
            // The top folder's weights are the model itself: name the variant after it.
            if let Some(name) = config.descriptor.name.clone().filter(|n| !n.is_empty()) {
                let renamed = safe_variant_name(&name);
                for l in
                    view.layers.iter_mut().filter(|l| l.class == Class::Model && l.name.as_deref() == Some("model"))
                {
                    l.name = Some(renamed.clone());
                }
                for v in view.variants.iter_mut().filter(|v| v.name == "model") {
                    v.name = renamed.clone();
                }
            }
            for v in &mut view.variants {
                v.format = v.format.clone().or_else(|| config.config.format.clone());
                v.precision = v.precision.clone().or_else(|| config.config.precision.clone());
            }
            view.model_config = Some(config);
        }
        Err(why) => view.warnings.push(format!("the config {digest} is not a ModelPack config: {why}")),
    }
}

/// A Kitfile as KitOps writes it into a ModelKit's config: each entry carries its layer's digest.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kitfile {
    #[serde(default)]
    package: KitPackage,
    #[serde(default)]
    model: Option<KitModel>,
    #[serde(default)]
    code: Vec<KitEntry>,
    #[serde(default)]
    datasets: Vec<KitEntry>,
    #[serde(default)]
    docs: Vec<KitEntry>,
    #[serde(default)]
    prompts: Vec<KitEntry>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct KitPackage {
    name: Option<String>,
    version: Option<String>,
    description: Option<String>,
    license: Option<String>,
    #[serde(default)]
    authors: Vec<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct KitModel {
    name: Option<String>,
    path: Option<String>,
    framework: Option<String>,
    format: Option<String>,
    license: Option<String>,
    description: Option<String>,
    #[serde(default)]
    parts: Vec<KitEntry>,
    digest: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct KitEntry {
    name: Option<String>,
    path: Option<String>,
    license: Option<String>,
    digest: Option<String>,
}

/// Reads a KitOps ModelKit's Kitfile (its config blob) into its view: each layer's path and name
/// from the Kitfile entry that carries its digest (kit ≤ 1.7 puts no annotation on layers), the
/// package's name, version, description, licence and authors, the model's framework and format.
/// The model's parts join its variant; docs stay docs; a Kitfile that cannot be read is a warning.
pub fn attach_kitfile(view: &mut SuiteView, bytes: &[u8]) {
    let digest = view.manifest.config.digest.clone();
    let (raw, kitfile) = match serde_json::from_slice::<Value>(bytes) {
        Ok(raw) => match serde_json::from_value::<Kitfile>(raw.clone()) {
            Ok(k) => (raw, k),
            Err(e) => return view.warnings.push(format!("the Kitfile {digest} is not one KitOps writes: {e}")),
        },
        Err(e) => return view.warnings.push(format!("the Kitfile {digest} is not JSON: {e}")),
    };
    let package_name = kitfile.package.name.clone().filter(|n| !n.is_empty());
    let model = kitfile.model.as_ref();
    let variant = safe_variant_name(
        &model.and_then(|m| m.name.clone()).or_else(|| package_name.clone()).unwrap_or_else(|| "model".into()),
    );
    // Layer digest → (path, name, is a model part).
    let mut entries: BTreeMap<&str, (Option<&str>, Option<&str>)> = BTreeMap::new();
    if let Some(m) = model {
        if let Some(d) = m.digest.as_deref() {
            entries.insert(d, (m.path.as_deref(), None));
        }
        for part in &m.parts {
            if let Some(d) = part.digest.as_deref() {
                entries.insert(d, (part.path.as_deref(), None));
            }
        }
    }
    for e in kitfile.code.iter().chain(&kitfile.datasets).chain(&kitfile.docs).chain(&kitfile.prompts) {
        if let Some(d) = e.digest.as_deref() {
            entries.insert(d, (e.path.as_deref(), e.name.as_deref()));
        }
    }
    for layer in &mut view.layers {
        if let Some((path, name)) = entries.get(layer.descriptor.digest.as_str()) {
            if layer.filepath.is_none() {
                layer.filepath = path.map(String::from);
            }
            if layer.class == Class::Dataset && layer.name.is_none() {
                layer.name = name.map(String::from);
            }
        }
        match layer.class {
            Class::Model => {
                layer.name = Some(variant.clone());
                layer.framework = layer.framework.clone().or_else(|| model.and_then(|m| m.framework.clone()));
            }
            // KitOps's docs are docs, whatever their file is called.
            Class::Readme | Class::License => layer.class = Class::Docs,
            Class::Scripts | Class::Notebooks => {
                let notebook = layer.filepath.as_deref().is_some_and(|p| p.ends_with(".ipynb"));
                layer.class = if notebook { Class::Notebooks } else { Class::Scripts };
            }
            _ => {}
        }
    }
    let framework = model.and_then(|m| m.framework.clone());
    let size: u64 =
        view.layers.iter().filter(|l| l.class == Class::Model && !l.weight_config).map(|l| l.descriptor.size).sum();
    view.variants = if view.layers.iter().any(|l| l.class == Class::Model) {
        let mut v = Variant::merge(variant.clone(), framework, None, None, size);
        v.format = model.and_then(|m| m.format.clone());
        vec![v]
    } else {
        Vec::new()
    };
    let mut licenses: Vec<String> =
        kitfile.package.license.iter().chain(model.and_then(|m| m.license.as_ref())).cloned().collect();
    licenses.extend(model.iter().flat_map(|m| m.parts.iter()).filter_map(|p| p.license.clone()));
    licenses.sort();
    licenses.dedup();
    view.model_config = Some(ModelPackConfig {
        descriptor: ModelPackDescriptor {
            name: package_name.or_else(|| model.and_then(|m| m.name.clone())),
            version: kitfile.package.version.clone(),
            description: kitfile.package.description.clone().or_else(|| model.and_then(|m| m.description.clone())),
            authors: kitfile.package.authors.clone(),
            licenses,
            ..Default::default()
        },
        config: ModelPackModel { format: model.and_then(|m| m.format.clone()), ..Default::default() },
    });
    view.kitfile = Some(raw);
}

/// A model name as a variant name: letters, digits, `.`, `_` and `-` kept, the rest `-`.
fn safe_variant_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect()
}

fn not_a_suite(what: &str) -> Error {
    Error::failed(format!("this is not a model suite: it is {what}"))
        .with_hint("zoo-oci copy can still mirror it; pull and inspect read ModelPack artifacts")
}

fn storage_of(encoding: LayerEncoding) -> Storage {
    match encoding {
        LayerEncoding::Raw => Storage::Raw,
        LayerEncoding::Tar => Storage::Tar(Compression::None),
        LayerEncoding::TarGzip => Storage::Tar(Compression::Gzip),
        LayerEncoding::TarZstd => Storage::Tar(Compression::Zstd),
    }
}

fn class_from_media_type(content: LayerContent, filepath: Option<&str>) -> Class {
    let file =
        filepath.unwrap_or_default().trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
    match content {
        LayerContent::Weight | LayerContent::WeightConfig => Class::Model,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_newer_than_this_reader_says_to_upgrade_whatever_its_shape() {
        let record = r#"{"zoo_oci":2,"layers":{"not":"a list"}}"#;
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "artifactType": media::MODEL_ARTIFACT,
            "config": {"mediaType": media::MODEL_CONFIG, "digest": format!("sha256:{}", "0".repeat(64)), "size": 2},
            "layers": [],
            "annotations": {media::ANN_SUITE: record},
        });
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let e = decode(&Descriptor::for_bytes(media::OCI_MANIFEST, &bytes), &bytes).unwrap_err();
        assert!(e.to_string().contains("written by a newer zoo-oci"), "{e}");
        assert!(e.hint().unwrap().contains("upgrade zoo-oci"));
    }
}
