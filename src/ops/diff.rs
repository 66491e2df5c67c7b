//! `diff`: what changed between two suites, from their manifests alone.
//!
//! Why no layer is read: a zoo-oci manifest records, per layer, every file with its size and
//! sha256 and the normalised descriptor (the `io.zoo-oci.suite` record, DESIGN §2), so files
//! added, removed and changed are known without a byte of the layers. Other tools' ModelPack
//! artifacts carry no record: their layers are compared as the manifest describes them (a raw
//! layer is one file whose digest is the file's), and their name, version and licence come from
//! the small ModelPack config blob, the only blob this reads, and only for them (a zoo-oci
//! config holds nothing its record does not).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use super::Context;
use crate::artifact::decode::{LayerView, SuiteView};
use crate::artifact::media;
use crate::artifact::variant::Variant;
use crate::copy;
use crate::error::{Result, Side};
use crate::reference::{Location, Reference};
use crate::retry::DEFAULT_RETRIES;
use crate::store::{self, Source};
use crate::suite::Class;

/// The two suites to compare.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DiffOptions {
    /// The old side: a location with a tag or digest, or none (the only tag).
    pub a: Location,
    /// The new side.
    pub b: Location,
}

impl DiffOptions {
    /// Compares `a` with `b`.
    pub fn new(a: Location, b: Location) -> Self {
        DiffOptions { a, b }
    }
}

/// What changed from `a` to `b` (what `diff --format json` prints). Empty lists mean "no
/// change there".
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DiffReport {
    /// The old side.
    pub a: SuiteSide,
    /// The new side.
    pub b: SuiteSide,
    /// Both locations name the same manifest (same digest): nothing can differ.
    pub identical: bool,
    /// Per class with a change, in layer order: files added, removed and changed.
    pub classes: Vec<ClassDiff>,
    /// Variants added, removed, or with other framework, format, opset, precision or parameters.
    pub variants: Vec<VariantDiff>,
    /// Descriptor fields (`zoo.yaml` names) whose values differ; `models` is in `variants`.
    pub metadata: Vec<FieldChange>,
    /// Manifest annotations that differ, but for those the descriptor makes (when both sides
    /// have one, the change is in `metadata`), the suite record and the README (its file is in
    /// `classes`).
    pub annotations: Vec<FieldChange>,
}

impl DiffReport {
    /// Whether any file, variant, field or annotation differs. False with `identical` false
    /// when the manifests differ only in what none of these show (e.g. the order of layers).
    pub fn has_changes(&self) -> bool {
        !(self.classes.is_empty()
            && self.variants.is_empty()
            && self.metadata.is_empty()
            && self.annotations.is_empty())
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SuiteSide {
    /// The location read, with its reference.
    pub location: String,
    /// The manifest's digest.
    pub digest: String,
    /// The suite's name.
    pub name: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Total bytes of its layers.
    pub size: u64,
}

/// The changes in one class of files.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassDiff {
    /// The class.
    pub class: Class,
    /// Bytes of the class's layers in `a` (0: it has none).
    pub old_size: u64,
    /// Bytes of the class's layers in `b`.
    pub new_size: u64,
    /// Files only in `b`, by path.
    pub added: Vec<FileEntry>,
    /// Files only in `a`, by path.
    pub removed: Vec<FileEntry>,
    /// Files in both whose content or mode differs.
    pub changed: Vec<FileChange>,
    /// The layers' media types, when they differ (e.g. `--compression zstd` on one side).
    pub media_types: Option<MediaTypeChange>,
}

/// A file as a manifest records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileState {
    /// Size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of its bytes.
    pub digest: String,
    /// Packed with mode 0755.
    pub executable: bool,
    /// Set when this entry stands for a whole layer whose files are not listed (a layer of
    /// more than 1,000 files, or another tool's tar): their count, when recorded. `size` is
    /// then their total and `digest` the layer's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_files: Option<u64>,
}

/// A file present on one side only.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Suite-relative path (a folder, ending with `/`, for a whole layer).
    pub path: String,
    /// What the manifest records of it.
    #[serde(flatten)]
    pub file: FileState,
}

/// A file present on both sides, with other content or mode.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    /// Suite-relative path.
    pub path: String,
    /// In `a`.
    pub old: FileState,
    /// In `b`.
    pub new: FileState,
}

/// The media types of a class's layers on each side, in layer order.
#[derive(Debug, Clone, Serialize)]
pub struct MediaTypeChange {
    /// In `a`.
    pub old: Vec<String>,
    /// In `b`.
    pub new: Vec<String>,
}

/// A value that differs: a descriptor field, a variant's property, or an annotation.
#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    /// Its name, as written in `zoo.yaml`, the variant view, or the annotation key.
    pub field: String,
    /// In `a`; null when absent.
    pub old: Option<Value>,
    /// In `b`; null when absent.
    pub new: Option<Value>,
}

/// A model variant that was added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct VariantDiff {
    /// The variant's name.
    pub name: String,
    /// In `a` (absent: added).
    pub old: Option<Variant>,
    /// In `b` (absent: removed).
    pub new: Option<Variant>,
    /// The properties that differ, when both sides have it.
    pub changes: Vec<FieldChange>,
}

/// Compares two suites from their manifests (and, for other tools' artifacts, their configs);
/// downloads no layer. Two suites that differ are not an error.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, DiffOptions};
/// use zoo_oci::reference::Location;
/// let options = DiffOptions::new(Location::parse("oci:./zoo:1.0")?, Location::parse("oci:./zoo:1.1")?);
/// let report = ops::diff(&options, &Context::default()).await?;
/// for class in &report.classes {
///     println!("{}: {} added, {} removed", class.class.as_str(), class.added.len(), class.removed.len());
/// }
/// # Ok(()) }
/// ```
pub async fn diff(options: &DiffOptions, context: &Context) -> Result<DiffReport> {
    let (a, b) = tokio::try_join!(open_and_read(&options.a, context), open_and_read(&options.b, context))?;
    Ok(compare(&a, &b))
}

/// A side as read: its manifest decoded, and the config of an artifact without a record.
struct ReadSuite {
    location: String,
    view: SuiteView,
}

async fn open_and_read(location: &Location, context: &Context) -> Result<ReadSuite> {
    let source = context.source(location).await?;
    let reference = store::reference_or_only_tag(location, source.as_ref()).await?;
    let named = location.with_reference(Some(reference.clone())).to_string();
    read_suite(source.as_ref(), &reference, named).await
}

async fn read_suite(source: &dyn Source, reference: &Reference, location: String) -> Result<ReadSuite> {
    let root = copy::resolve(source, reference, DEFAULT_RETRIES).await?;
    let view = store::suite_view(source, &root.descriptor, &root.bytes)
        .await
        .map_err(|e| e.on(Side::Source, source.name()))?;
    Ok(ReadSuite { location, view })
}

fn compare(a: &ReadSuite, b: &ReadSuite) -> DiffReport {
    let identical = a.view.manifest_descriptor.digest == b.view.manifest_descriptor.digest;
    let (old_files, new_files) = (files_by_class(&a.view), files_by_class(&b.view));
    let classes = Class::ALL
        .iter()
        .filter_map(|class| compare_class(*class, old_files.get(class), new_files.get(class)))
        .collect();
    let both_described = a.view.spec.is_some() && b.view.spec.is_some();
    DiffReport {
        a: side(a),
        b: side(b),
        identical,
        classes,
        variants: compare_variants(&a.view.variants, &b.view.variants),
        metadata: compare_fields(&metadata(a), &metadata(b), METADATA_ORDER),
        annotations: compare_fields(&annotations(&a.view, both_described), &annotations(&b.view, both_described), &[]),
    }
}

fn side(read: &ReadSuite) -> SuiteSide {
    let view = &read.view;
    SuiteSide {
        location: read.location.clone(),
        digest: view.manifest_descriptor.digest.clone(),
        name: view.name().map(String::from),
        version: view.version().map(String::from),
        size: view.layers.iter().map(|l| l.descriptor.size).sum(),
    }
}

/// The files of one class on one side.
#[derive(Default)]
struct ClassFiles {
    layer_bytes: u64,
    media_types: Vec<String>,
    files: BTreeMap<String, FileState>,
}

fn files_by_class(view: &SuiteView) -> BTreeMap<Class, ClassFiles> {
    let mut by_class: BTreeMap<Class, ClassFiles> = BTreeMap::new();
    for layer in &view.layers {
        let class = by_class.entry(layer.class).or_default();
        class.layer_bytes += layer.descriptor.size;
        class.media_types.push(layer.descriptor.media_type.clone());
        for (path, file) in layer_files(layer) {
            // Two unlisted layers of another tool may share a path: keep both, told apart.
            let path = if class.files.contains_key(&path) {
                format!("{path} ({})", crate::format::short_digest(&layer.descriptor.digest))
            } else {
                path
            };
            class.files.insert(path, file);
        }
    }
    by_class
}

/// A layer's files as the record lists them, else the layer as one entry
/// ([`LayerView::listed_files`]).
fn layer_files(layer: &LayerView) -> Vec<(String, FileState)> {
    layer
        .listed_files()
        .into_iter()
        .map(|f| {
            let state =
                FileState { size: f.size, digest: f.digest, executable: f.executable, layer_files: f.layer_files };
            (f.path, state)
        })
        .collect()
}

fn compare_class(class: Class, old: Option<&ClassFiles>, new: Option<&ClassFiles>) -> Option<ClassDiff> {
    let none = ClassFiles::default();
    let (old, new) = (old.unwrap_or(&none), new.unwrap_or(&none));
    let entry = |(path, file): (&String, &FileState)| FileEntry { path: path.clone(), file: file.clone() };
    let added: Vec<FileEntry> = new.files.iter().filter(|(p, _)| !old.files.contains_key(*p)).map(entry).collect();
    let removed: Vec<FileEntry> = old.files.iter().filter(|(p, _)| !new.files.contains_key(*p)).map(entry).collect();
    let changed: Vec<FileChange> = old
        .files
        .iter()
        .filter_map(|(path, before)| match new.files.get(path) {
            Some(after) if after != before => {
                Some(FileChange { path: path.clone(), old: before.clone(), new: after.clone() })
            }
            _ => None,
        })
        .collect();
    // Only when both sides have the class: a class added or removed already lists its files.
    let media_types =
        (!old.media_types.is_empty() && !new.media_types.is_empty() && old.media_types != new.media_types)
            .then(|| MediaTypeChange { old: old.media_types.clone(), new: new.media_types.clone() });
    let unchanged = added.is_empty() && removed.is_empty() && changed.is_empty() && media_types.is_none();
    (!unchanged).then_some(ClassDiff {
        class,
        old_size: old.layer_bytes,
        new_size: new.layer_bytes,
        added,
        removed,
        changed,
        media_types,
    })
}

fn compare_variants(old: &[Variant], new: &[Variant]) -> Vec<VariantDiff> {
    // The catalogue's view of a variant: the merged values, not every fact of every file.
    let plain = |v: &Variant| Variant { facts: None, ..v.clone() };
    let find = |list: &[Variant], name: &str| list.iter().find(|v| v.name == name).map(plain);
    let mut names: Vec<&str> = old.iter().map(|v| v.name.as_str()).collect();
    names.extend(new.iter().map(|v| v.name.as_str()).filter(|n| !old.iter().any(|v| v.name == *n)));
    names
        .into_iter()
        .filter_map(|name| {
            let (before, after) = (find(old, name), find(new, name));
            let changes = match (&before, &after) {
                (Some(x), Some(y)) => {
                    // The layer's size is not a property of the variant: its files show it.
                    let properties = |v: &Variant| {
                        let mut map = as_object(serde_json::to_value(v).expect("variants serialise"));
                        for own in ["name", "size", "facts"] {
                            map.remove(own);
                        }
                        map
                    };
                    let changes = compare_fields(&properties(x), &properties(y), VARIANT_ORDER);
                    if changes.is_empty() {
                        return None;
                    }
                    changes
                }
                _ => Vec::new(),
            };
            Some(VariantDiff { name: name.to_string(), old: before, new: after, changes })
        })
        .collect()
}

/// Descriptor fields in the order `zoo.yaml` lists them (DESIGN §1); others (`x-*`) follow, sorted.
const METADATA_ORDER: &[&str] = &[
    "name",
    "version",
    "summary",
    "task",
    "tags",
    "license",
    "authors",
    "contributors",
    "source",
    "references",
    "io",
    "results",
    "performance",
    "scripts",
    "notebooks",
    "datasets",
    "readme",
    "license_file",
    "docs",
];

const VARIANT_ORDER: &[&str] = &["framework", "framework_version", "format", "opset", "precision", "params"];

/// The descriptor's fields but `models`; for an artifact without a record, what its ModelPack
/// config says, under the descriptor's names.
fn metadata(read: &ReadSuite) -> BTreeMap<String, Value> {
    if let Some(spec) = &read.view.spec {
        let mut fields = as_object(serde_json::to_value(spec).expect("descriptors serialise"));
        fields.remove("models");
        return fields;
    }
    let Some(config) = &read.view.model_config else {
        return BTreeMap::new();
    };
    let d = &config.descriptor;
    let mut fields = BTreeMap::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            fields.insert(key.to_string(), v);
        }
    };
    put("name", d.name.clone().map(Value::String));
    put("version", d.version.clone().map(Value::String));
    put("summary", d.description.clone().map(Value::String));
    // zoo-oci writes its one SPDX expression as `licenses: [it]`; several mean all of them.
    put("license", (!d.licenses.is_empty()).then(|| Value::String(d.licenses.join(" AND "))));
    put("authors", (!d.authors.is_empty()).then(|| Value::from(d.authors.clone())));
    put("source", d.source_url.clone().map(Value::String));
    fields
}

/// Annotations the descriptor makes: their changes show as descriptor fields when both sides
/// have a descriptor.
const DESCRIPTOR_ANNOTATIONS: &[&str] = &[
    media::ANN_TITLE,
    media::ANN_DESCRIPTION,
    media::ANN_VERSION,
    media::ANN_LICENSES,
    media::ANN_AUTHORS,
    media::ANN_SOURCE,
    media::ANN_URL,
    media::ANN_DOCUMENTATION,
    media::ANN_TASK,
    media::ANN_MODALITY,
    media::ANN_FRAMEWORKS,
    media::ANN_TAGS,
];

fn annotations(view: &SuiteView, both_described: bool) -> BTreeMap<String, Value> {
    // The record and the README are compared as files and fields; the README's cut mark follows it.
    let shown_elsewhere = [media::ANN_SUITE, media::ANN_README, media::ANN_README_TRUNCATED];
    view.manifest
        .annotations
        .iter()
        .filter(|(k, _)| !shown_elsewhere.contains(&k.as_str()))
        .filter(|(k, _)| !(both_described && DESCRIPTOR_ANNOTATIONS.contains(&k.as_str())))
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// The fields whose values differ, in `order` first, then the rest sorted.
fn compare_fields(old: &BTreeMap<String, Value>, new: &BTreeMap<String, Value>, order: &[&str]) -> Vec<FieldChange> {
    let keys: BTreeSet<&str> = old.keys().chain(new.keys()).map(String::as_str).collect();
    let mut ordered: Vec<&str> = order.iter().copied().filter(|k| keys.contains(k)).collect();
    ordered.extend(keys.iter().copied().filter(|k| !order.contains(k)));
    ordered
        .into_iter()
        .filter_map(|key| {
            // A null and an absent field say the same thing.
            let (before, after) = (present(old.get(key)), present(new.get(key)));
            (before != after).then(|| FieldChange { field: key.to_string(), old: before, new: after })
        })
        .collect()
}

fn present(value: Option<&Value>) -> Option<Value> {
    value.filter(|v| !v.is_null()).cloned()
}

fn as_object(value: Value) -> BTreeMap<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::manifest::Descriptor;
    use crate::digest;
    use crate::store::memory::MemoryStore;

    /// Another tool's ModelPack artifact: no record, one raw weight layer whose blob is not in
    /// the store (reading it would fail), a config naming version and licence.
    fn foreign(store: &MemoryStore, tag: &str, version: &str, license: &str, weights: &[u8]) {
        let config = serde_json::json!({
            "descriptor": {"name": "other-tool-model", "version": version, "licenses": [license]},
            "config": {"format": "safetensors"},
            "modelfs": {"type": "layers", "diffIds": []},
        });
        let config = store.insert(media::MODEL_CONFIG, &serde_json::to_vec(&config).unwrap());
        let mut layer = Descriptor::for_bytes(media::WEIGHT_RAW, weights);
        layer.annotations.insert(media::ANN_FILEPATH.into(), "model.safetensors".into());
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "artifactType": media::MODEL_ARTIFACT,
            "config": config,
            "layers": [layer],
        });
        let manifest = store.insert(media::OCI_MANIFEST, &serde_json::to_vec(&manifest).unwrap());
        store.set_tag(tag, &manifest.digest);
    }

    #[tokio::test]
    async fn another_tools_artifacts_are_compared_from_their_configs_and_layer_descriptors() {
        let store = MemoryStore::new("memory");
        foreign(&store, "1", "1.0", "MIT", b"weights one");
        foreign(&store, "2", "2.0", "Apache-2.0", b"weights two, longer");
        let (one, two) = (Reference::Tag("1".into()), Reference::Tag("2".into()));
        let a = read_suite(&store, &one, "memory:1".into()).await.unwrap();
        let b = read_suite(&store, &two, "memory:2".into()).await.unwrap();
        let report = compare(&a, &b);

        assert_eq!(report.a.version.as_deref(), Some("1.0"), "the version comes from the config");
        let fields: Vec<(&str, Option<&Value>, Option<&Value>)> =
            report.metadata.iter().map(|c| (c.field.as_str(), c.old.as_ref(), c.new.as_ref())).collect();
        assert_eq!(
            fields,
            [
                ("version", Some(&Value::from("1.0")), Some(&Value::from("2.0"))),
                ("license", Some(&Value::from("MIT")), Some(&Value::from("Apache-2.0"))),
            ]
        );
        let [model] = report.classes.as_slice() else { panic!("one class changed: {:?}", report.classes) };
        assert_eq!(model.class, Class::Model);
        let [change] = model.changed.as_slice() else { panic!("one file changed: {model:?}") };
        assert_eq!((change.path.as_str(), change.old.size, change.new.size), ("model.safetensors", 11, 19));
        assert_eq!(change.new.digest, digest::of_bytes(b"weights two, longer"), "a raw layer's digest is its file's");
        assert!(!report.identical && report.has_changes());
    }

    #[tokio::test]
    async fn a_suite_compared_with_itself_has_no_changes() {
        let store = MemoryStore::new("memory");
        foreign(&store, "1", "1.0", "MIT", b"weights");
        let a = read_suite(&store, &Reference::Tag("1".into()), "memory:1".into()).await.unwrap();
        let report = compare(&a, &a);
        assert!(report.identical && !report.has_changes(), "{report:?}");
    }
}
