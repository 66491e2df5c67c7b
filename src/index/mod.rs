//! The catalogue: every suite a registry, a layout or a folder of layouts holds, read from
//! manifests alone, grouped by modality and task, filtered, and rendered as a terminal table,
//! JSON, Markdown or one self-contained HTML page. The JSON shape is `schemas/index.schema.json`.

pub mod remembered;
pub mod render;
pub mod site;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use self::remembered::{Remembering, TagBook};

use crate::artifact::attestation::{self, Validation};
use crate::artifact::decode::SuiteView;
use crate::artifact::media;
use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::store::Source;
use crate::store::layout::LayoutStore;
use crate::store::registry::RegistryStore;
use crate::taxonomy;

pub use crate::artifact::decode::ListedFile;
pub use crate::artifact::variant::Variant;

/// Version of the index JSON shape.
pub const FORMAT_VERSION: u32 = 1;

/// A catalogue of suites.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Index {
    /// Shape version, [`FORMAT_VERSION`].
    pub zoo_oci_index: u32,
    /// What was walked: `HOST[:PORT]`, `HOST/NAMESPACE` or `oci:PATH`.
    pub source: String,
    /// Suites per modality, after filtering.
    pub counts: BTreeMap<String, usize>,
    /// One entry per suite version (tags pointing at one manifest are merged), sorted by
    /// modality, task, name, version.
    pub suites: Vec<SuiteEntry>,
    /// Manifests that are not model suites, or could not be read, and why.
    pub skipped: Vec<Skipped>,
    /// What the reader should know of how complete the catalogue is: a pull-through cache
    /// listing only what it has seen, tags as listed a while ago.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What the reader of this run's output should know that is not the catalogue's (tags used
    /// as an earlier run listed them): told on the terminal, kept out of what is written, so
    /// that indexing an unchanged zoo writes the same bytes.
    #[serde(skip)]
    pub run_notes: Vec<String>,
}

/// One suite version.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuiteEntry {
    /// Suite name.
    pub name: String,
    /// Suite version.
    pub version: String,
    /// One-line summary.
    pub summary: Option<String>,
    /// Canonical task (a Hugging Face pipeline tag), or `null`.
    pub task: Option<String>,
    /// Modality of the task; `other` when unknown.
    pub modality: String,
    /// SPDX licence expression.
    pub license: Option<String>,
    /// Frameworks of the model variants, sorted.
    pub frameworks: Vec<String>,
    /// Free tags of the suite.
    pub keywords: Vec<String>,
    /// Authors.
    pub authors: Vec<String>,
    /// Repository (registry) or layout path.
    pub repository: String,
    /// The tags that point at this manifest, sorted.
    pub tags: Vec<String>,
    /// Where to pull it from, with its first tag.
    pub location: String,
    /// The manifest digest.
    pub digest: String,
    /// Total size of the layers, in bytes.
    pub size: u64,
    /// The model variants.
    pub variants: Vec<Variant>,
    /// Evaluation results.
    pub metrics: Vec<MetricEntry>,
    /// Where the model comes from.
    pub source_url: Option<String>,
    /// The README (as the manifest annotation holds it).
    pub readme: Option<String>,
    /// The command that pulls it.
    pub pull: String,
    /// Its files under their classes, as the manifest lists them (a layer whose files are
    /// not listed stands for them), in layer order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<SuiteFile>,
    /// The datasets it names: shipped (a path, and the layer's digest) or to download (a URL,
    /// its sha256 and size when known).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetEntry>,
}

/// A file of a suite, under its class.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SuiteFile {
    /// `model`, `scripts`, `notebooks`, `dataset`, `readme`, `license` or `docs`.
    pub class: String,
    /// The file (or the layer standing for files it does not list).
    #[serde(flatten)]
    pub file: ListedFile,
}

/// A dataset a suite names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetEntry {
    /// Name.
    pub name: String,
    /// `test`, `validation`, `train`, `calibration` or `other`.
    pub role: String,
    /// Shipped: its file or folder in the suite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Shipped: the digest of the layer holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Not shipped: where to get it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// sha256 of the download, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Size of the download in bytes, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The dataset's own licence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
}

/// One metric value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MetricEntry {
    /// Dataset name.
    pub dataset: String,
    /// Split.
    pub split: Option<String>,
    /// Metric type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Value.
    pub value: f64,
    /// What the latest published validation (`validate --attach`) measured of it, when one
    /// did: absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproduced: Option<Reproduced>,
}

/// A metric as a published validation measured it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Reproduced {
    /// The value measured.
    pub measured: Option<f64>,
    /// Within the claim's tolerance.
    pub passed: bool,
    /// When (RFC 3339).
    pub validated_at: String,
    /// The signer's key id (sha256 of its public key PEM); the signature is not checked here.
    pub signer: String,
    /// The attestation's referrer digest.
    pub attestation: String,
}

/// A manifest left out of the index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Skipped {
    /// Where.
    pub location: String,
    /// Why.
    pub reason: String,
}

/// Filters; all given ones must match.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Task or alias.
    pub task: Option<String>,
    /// Framework.
    pub framework: Option<String>,
    /// Licence (case-insensitive; matches a part of an SPDX expression).
    pub license: Option<String>,
    /// Free text, in name, summary, task, keywords, frameworks and README.
    pub query: Option<String>,
}

/// Walks a layout.
pub async fn walk_layout(layout: &LayoutStore, source: &str) -> Result<Index> {
    let tags = layout.tags().await?;
    Ok(assemble(source, read_layout(layout, tags, source).await))
}

async fn read_layout(layout: &LayoutStore, tags: Vec<String>, source: &str) -> Vec<Found> {
    let mut found = Vec::new();
    for tag in tags.iter().filter(|t| !is_referrers_tag(t)) {
        let location = format!("{source}:{tag}");
        found.push(read_one(layout, tag, &location, source).await);
    }
    // A layout lists its referrers in index.json, untagged: the attestations among them, read once.
    let mut validations: BTreeMap<String, Vec<Validation>> = BTreeMap::new();
    let attestations = layout.read_index().map(|i| i.manifests).unwrap_or_default();
    for entry in attestations.iter().filter(|e| e.artifact_type.as_deref() == Some(attestation::ENVELOPE_MEDIA_TYPE)) {
        let Ok(bytes) = layout.fetch_manifest(entry).await else { continue };
        let Some((subject, _)) = crate::artifact::manifest::as_referrer(entry, &bytes) else { continue };
        if let Ok(Some(v)) = crate::store::validation_of(layout, entry).await {
            validations.entry(subject).or_default().push(v);
        }
    }
    mark_reproduced(&mut found, &validations);
    found
}

/// Whether a tag is the referrers tag schema's (`sha256-<hex>`, listing a manifest's
/// referrers on a registry without the referrers API), not a version.
fn is_referrers_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The validations listed under a repository's referrers tags, by subject digest. Only the
/// tags the walk lists anyway are read: a registry with the referrers API (and no such tags) is
/// not asked once per suite, which would double an index's requests.
async fn validations_by_tags(target: &dyn Source, tags: &[String]) -> BTreeMap<String, Vec<Validation>> {
    let mut out: BTreeMap<String, Vec<Validation>> = BTreeMap::new();
    for tag in tags.iter().filter(|t| is_referrers_tag(t)) {
        let subject = format!("sha256:{}", &tag["sha256-".len()..]);
        let Ok(descriptor) = target.resolve(&Reference::Tag(tag.clone())).await else { continue };
        let Ok(bytes) = target.fetch_manifest(&descriptor).await else { continue };
        let Ok(index) = crate::artifact::manifest::parse_index(&bytes, tag) else { continue };
        let attestations =
            index.manifests.iter().filter(|e| e.artifact_type.as_deref() == Some(attestation::ENVELOPE_MEDIA_TYPE));
        for entry in attestations {
            if let Ok(Some(v)) = crate::store::validation_of(target, entry).await {
                out.entry(subject.clone()).or_default().push(v);
            }
        }
    }
    out
}

/// Marks each claimed metric that the latest validation of its suite measured (same dataset,
/// same type).
fn mark_reproduced(found: &mut [Found], validations: &BTreeMap<String, Vec<Validation>>) {
    for f in found.iter_mut() {
        let Found::Suite(entry) = f else { continue };
        let Some(list) = validations.get(&entry.digest) else { continue };
        let Some(latest) = list.iter().max_by(|a, b| a.validated_at.cmp(&b.validated_at)) else { continue };
        for metric in entry.metrics.iter_mut().filter(|m| m.dataset == latest.dataset) {
            if let Some(m) = latest.metrics.iter().find(|m2| m2.kind == metric.kind && m2.passed.is_some()) {
                metric.reproduced = Some(Reproduced {
                    measured: m.measured,
                    passed: m.passed == Some(true),
                    validated_at: latest.validated_at.clone(),
                    signer: latest.signer.clone(),
                    attestation: latest.attestation.clone(),
                });
            }
        }
    }
}

/// Walks `oci:PATH` (`source`): one layout, or a folder of layouts, one per suite as a
/// registry keeps one repository per suite, so that every layout's tags stay versions.
///
/// In a folder, every layout below it is walked (at any depth; hidden folders, symbolic links
/// and the insides of a layout are not looked into) and listed under `source/NAME`, where NAME,
/// its path relative to the folder, is what a registry's catalogue calls a repository:
/// `repositories` names some of them instead, as `--repo` does for a registry. A layout that
/// cannot be read is listed as skipped, as a repository is.
pub async fn walk_layouts(root: &Path, source: &str, repositories: &[String]) -> Result<Index> {
    if root.join("oci-layout").is_file() {
        if !repositories.is_empty() {
            return Err(Error::usage(format!("{source} is one layout; --repo names the layouts in a folder of them"))
                .with_hint("drop --repo, or give the folder that holds the layouts"));
        }
        return walk_layout(&LayoutStore::open(root)?, source).await;
    }
    if !root.is_dir() {
        // Not there, or a file: the layout's own error says which.
        LayoutStore::open(root)?;
    }
    let mut skipped = Vec::new();
    let names = if repositories.is_empty() {
        let names = find_layouts(root, source, &mut skipped);
        if names.is_empty() && skipped.is_empty() {
            return Err(Error::not_found(format!(
                "{} is not an OCI image layout, nor a folder holding any (no oci-layout file below it)",
                root.display()
            ))
            .with_hint("push a suite there first: zoo-oci push SUITE_DIR oci:PATH/NAME"));
        }
        names
    } else {
        for name in repositories {
            let inside =
                !name.is_empty() && Path::new(name).components().all(|c| matches!(c, std::path::Component::Normal(_)));
            if !inside {
                return Err(Error::usage(format!("--repo {name:?} is not a path inside {source}")).with_hint(
                    "name a layout by its path relative to the folder, as index lists it: NAME or GROUP/NAME",
                ));
            }
        }
        repositories.to_vec()
    };
    let base = source.trim_end_matches('/');
    let mut found: Vec<Found> = skipped.into_iter().map(Found::Skipped).collect();
    for name in names {
        let name = name.trim_end_matches('/');
        let repository = format!("{base}/{name}");
        let error = match LayoutStore::open(&root.join(name)) {
            Ok(layout) => match layout.tags().await {
                Ok(tags) => {
                    found.extend(read_layout(&layout, tags, &repository).await);
                    continue;
                }
                Err(e) => e,
            },
            Err(e) => e,
        };
        found.push(Found::Skipped(Skipped { location: repository, reason: error.to_string() }));
    }
    Ok(assemble(source, found))
}

/// The layouts below `root`, as paths relative to it joined by `/`, sorted. Folders that cannot
/// be read, and names that are not UTF-8, are noted in `skipped`.
fn find_layouts(root: &Path, source: &str, skipped: &mut Vec<Skipped>) -> Vec<String> {
    let base = source.trim_end_matches('/');
    let mut layouts = Vec::new();
    let mut pending = vec![String::new()];
    while let Some(rel) = pending.pop() {
        let (dir, location) = if rel.is_empty() {
            (root.to_path_buf(), base.to_string())
        } else {
            (root.join(&rel), format!("{base}/{rel}"))
        };
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                skipped.push(Skipped { location, reason: format!("cannot read it: {e}") });
                continue;
            }
        };
        for entry in entries.flatten() {
            // A symbolic link is not followed: no loops, and nothing outside the folder.
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let Some(name) = entry.file_name().to_str().map(String::from) else {
                let name = entry.file_name().to_string_lossy().into_owned();
                skipped
                    .push(Skipped { location: format!("{location}/{name}"), reason: "its name is not UTF-8".into() });
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let child = if rel.is_empty() { name } else { format!("{rel}/{name}") };
            if entry.path().join("oci-layout").is_file() {
                layouts.push(child);
            } else {
                pending.push(child);
            }
        }
    }
    layouts.sort();
    layouts
}

/// How a registry is walked.
#[derive(Debug, Clone, Copy)]
pub struct RegistryWalk<'a> {
    /// Requests in flight at most (tag lists, manifests, configs).
    pub concurrency: usize,
    /// The shared cache: what was read by digest is kept there and read back, and each
    /// repository's tags in the registry's tag book ([`remembered`]).
    pub cache: Option<&'a Cache>,
    /// How long a repository's tags, once listed, are used without listing them again; zero
    /// lists every repository's tags.
    pub tags_max_age: Duration,
}

/// Walks a registry: the repositories named, or those its catalogue lists (under `namespace`),
/// their tags and manifests. `walk.concurrency` requests are in flight at most, whether the
/// registry holds many repositories of few tags or few of many.
pub async fn walk_registry(
    registry: &RegistryStore,
    namespace: Option<&str>,
    repositories: &[String],
    walk: &RegistryWalk<'_>,
) -> Result<Index> {
    let whole_catalogue = repositories.is_empty();
    let repos = if whole_catalogue { registry.catalog(namespace).await? } else { repositories.to_vec() };
    let source = match namespace {
        Some(ns) => format!("{}/{ns}", registry.registry()),
        None => registry.registry().to_string(),
    };
    let concurrency = walk.concurrency.max(1);
    let slots = Semaphore::new(concurrency);
    let book = Mutex::new(TagBook::open(walk.cache, registry.registry()));
    let from_the_book = AtomicUsize::new(0);
    let (slots, book_ref, from_the_book_ref) = (&slots, &book, &from_the_book);
    let per_repo: Vec<Vec<Found>> = stream::iter(repos.iter().cloned())
        .map(|repo: String| async move {
            let base = format!("{}/{repo}", registry.registry());
            let known = book_ref.lock().expect("no panics").fresh(&repo, walk.tags_max_age);
            let target = Remembering::new(registry, &repo, walk.cache, known);
            let tags = {
                let _slot = slots.acquire().await.expect("never closed");
                target.tags().await
            };
            let tags = match tags {
                Ok(tags) => tags,
                Err(e) => return vec![Found::Skipped(Skipped { location: base, reason: e.to_string() })],
            };
            if target.from_the_book() {
                from_the_book_ref.fetch_add(1, Ordering::Relaxed);
            }
            let versions: Vec<String> = tags.iter().filter(|t| !is_referrers_tag(t)).cloned().collect();
            let (target, base) = (&target, &base);
            let mut found: Vec<Found> = stream::iter(versions)
                .map(|tag: String| async move {
                    let _slot = slots.acquire().await.expect("never closed");
                    read_one(target, &tag, &format!("{base}:{tag}"), base).await
                })
                .buffer_unordered(concurrency)
                .collect()
                .await;
            let validations = {
                let _slot = slots.acquire().await.expect("never closed");
                validations_by_tags(target, &tags).await
            };
            mark_reproduced(&mut found, &validations);
            if let Some(listing) = target.listing(&tags) {
                book_ref.lock().expect("no panics").record(&repo, listing);
            }
            found
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let mut book = book.into_inner().expect("no panics");
    if whole_catalogue && namespace.is_none() {
        // Gone from the catalogue: gone from the book.
        let listed: std::collections::BTreeSet<&str> = repos.iter().map(String::as_str).collect();
        book.retain(|r| listed.contains(r));
    }
    book.save();
    let mut index = assemble(&source, per_repo.into_iter().flatten().collect());
    let kept = from_the_book.into_inner();
    if kept > 0 {
        index.run_notes.push(format!(
            "the tags of {kept} of {} repositories are as listed within the last {} (--refresh lists them again)",
            repos.len(),
            humantime::format_duration(walk.tags_max_age)
        ));
    }
    Ok(index)
}

/// An index of one: the suite `view` describes, listed as the catalogue of `repository` would
/// list it under `tags` (at least one).
pub fn of_one(view: &SuiteView, tags: &[String], repository: &str, source: &str) -> Index {
    let found =
        tags.iter().map(|tag| Found::Suite(Box::new(entry(view, tag, &format!("{repository}:{tag}"), repository))));
    assemble(source, found.collect())
}

/// The tags of `source` that point at the manifest `digest`, sorted; tags that do not resolve
/// (deleted meanwhile) are not among them.
pub async fn tags_pointing_at(source: &dyn Source, digest: &str) -> Result<Vec<String>> {
    let tags = source.tags().await?;
    let pointing: Vec<Option<String>> = stream::iter(tags)
        .map(|tag| async move {
            let resolved = source.resolve(&Reference::Tag(tag.clone())).await.ok()?;
            (resolved.digest == digest).then_some(tag)
        })
        .buffered(4)
        .collect()
        .await;
    Ok(pointing.into_iter().flatten().collect())
}

enum Found {
    Suite(Box<SuiteEntry>),
    Skipped(Skipped),
}

async fn read_one(target: &dyn Source, tag: &str, location: &str, repository: &str) -> Found {
    let read = async {
        let descriptor = target.resolve(&Reference::Tag(tag.to_string())).await?;
        let bytes = target.fetch_manifest(&descriptor).await?;
        let Some(children) = crate::artifact::manifest::index_children(&descriptor, &bytes)? else {
            return Ok(entry(&crate::store::suite_view(target, &descriptor, &bytes).await?, tag, location, repository));
        };
        // An image index of model variants is one suite: the first child's metadata, a variant
        // per child, named as `pull --variant` picks it.
        let mut suite: Option<SuiteEntry> = None;
        let mut variants = Vec::new();
        for child in &children {
            let bytes = target.fetch_manifest(&child.descriptor).await?;
            let view = crate::store::suite_view(target, &child.descriptor, &bytes).await?;
            let first = view.variants.first().cloned();
            let size =
                view.layers.iter().filter(|l| l.class == crate::suite::Class::Model).map(|l| l.descriptor.size).sum();
            variants.push(Variant {
                name: child.name.clone(),
                size,
                facts: None,
                ..first.unwrap_or_else(|| Variant::merge(child.name.clone(), None, None, None, size))
            });
            suite.get_or_insert_with(|| entry(&view, tag, location, repository));
        }
        let mut suite = suite
            .ok_or_else(|| crate::Error::malformed(format!("the index {} holds no manifest", descriptor.digest)))?;
        suite.digest = descriptor.digest.clone();
        suite.size = variants.iter().map(|v| v.size).sum();
        suite.variants = variants;
        Ok::<_, crate::Error>(suite)
    };
    match read.await {
        Ok(suite) => Found::Suite(Box::new(suite)),
        Err(e) => Found::Skipped(Skipped { location: location.to_string(), reason: e.to_string() }),
    }
}

fn entry(view: &SuiteView, tag: &str, location: &str, repository: &str) -> SuiteEntry {
    let d = view.spec.as_ref();
    let ann = |k: &str| view.annotation(k).map(String::from);
    let task = ann(media::ANN_TASK).or_else(|| d.and_then(|d| d.task.clone()));
    let modality = ann(media::ANN_MODALITY)
        .or_else(|| task.as_deref().and_then(taxonomy::canonical).map(|c| c.modality))
        .unwrap_or_else(|| "other".into());
    // The catalogue keeps the merged values, not every fact of every file.
    let variants: Vec<Variant> = view.variants.iter().map(|v| Variant { facts: None, ..v.clone() }).collect();
    let mut frameworks: Vec<String> = match ann(media::ANN_FRAMEWORKS) {
        Some(f) => f.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
        None => variants.iter().filter_map(|v| v.framework.clone()).collect(),
    };
    frameworks.sort();
    frameworks.dedup();
    let metrics = d
        .map(|d| {
            d.results
                .iter()
                .flat_map(|r| {
                    r.metrics.iter().map(|m| MetricEntry {
                        dataset: r.dataset.name.clone(),
                        split: r.dataset.split.clone(),
                        kind: m.kind.clone(),
                        value: m.value,
                        reproduced: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let name = view.name().unwrap_or("unnamed").to_string();
    // Another tool's artifact: what its ModelPack config says.
    let config = view.model_config.as_ref().map(|c| &c.descriptor);
    let joined = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(" AND "));
    let files = view
        .layers
        .iter()
        .flat_map(|l| l.listed_files().into_iter().map(|file| SuiteFile { class: l.class.to_string(), file }))
        .collect();
    let datasets = d
        .map(|d| {
            d.datasets
                .iter()
                .map(|ds| {
                    let layer = view.layers.iter().find(|l| {
                        l.class == crate::suite::Class::Dataset && l.name.as_deref() == Some(ds.name.as_str())
                    });
                    DatasetEntry {
                        name: ds.name.clone(),
                        role: ds.role.clone(),
                        path: ds.path.clone(),
                        digest: layer.map(|l| l.descriptor.digest.clone()),
                        url: ds.url.clone(),
                        sha256: ds.sha256.clone(),
                        size: ds.size,
                        license: ds.license.clone(),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    SuiteEntry {
        files,
        datasets,
        version: view.version().map(String::from).unwrap_or_else(|| tag.to_string()),
        summary: d
            .and_then(|d| d.summary.clone())
            .or_else(|| ann(media::ANN_DESCRIPTION))
            .or_else(|| config.and_then(|c| c.description.clone())),
        task,
        modality,
        license: d
            .and_then(|d| d.license.clone())
            .or_else(|| ann(media::ANN_LICENSES))
            .or_else(|| config.and_then(|c| joined(&c.licenses))),
        frameworks,
        keywords: d.map(|d| d.tags.clone()).unwrap_or_default(),
        authors: d.map(|d| d.authors.clone()).or_else(|| config.map(|c| c.authors.clone())).unwrap_or_default(),
        repository: repository.to_string(),
        tags: vec![tag.to_string()],
        location: location.to_string(),
        digest: view.manifest_descriptor.digest.clone(),
        size: view.layers.iter().map(|l| l.descriptor.size).sum(),
        variants,
        metrics,
        source_url: d.and_then(|d| d.source.clone()).or_else(|| ann(media::ANN_SOURCE)),
        readme: ann(media::ANN_README),
        pull: format!("zoo-oci pull {location} -o {}", crate::suite::safe_folder_name(&name)),
        name,
    }
}

fn assemble(source: &str, found: Vec<Found>) -> Index {
    let mut by_digest: BTreeMap<(String, String), SuiteEntry> = BTreeMap::new();
    let mut skipped = Vec::new();
    for f in found {
        match f {
            Found::Suite(e) => {
                let key = (e.repository.clone(), e.digest.clone());
                match by_digest.get_mut(&key) {
                    Some(existing) => {
                        existing.tags.extend(e.tags);
                        existing.tags.sort();
                        existing.tags.dedup();
                        // Pull by the version's tag when there is one, else the first tag.
                        let best =
                            existing.tags.iter().find(|t| **t == existing.version).unwrap_or(&existing.tags[0]).clone();
                        existing.location = format!("{}:{best}", location_base(&existing.location));
                        existing.pull = format!(
                            "zoo-oci pull {} -o {}",
                            existing.location,
                            crate::suite::safe_folder_name(&existing.name)
                        );
                    }
                    None => {
                        by_digest.insert(key, *e);
                    }
                }
            }
            Found::Skipped(s) => skipped.push(s),
        }
    }
    let mut suites: Vec<SuiteEntry> = by_digest.into_values().collect();
    suites.sort_by(|a, b| {
        (&a.modality, &a.task, &a.name, &a.version, &a.repository).cmp(&(
            &b.modality,
            &b.task,
            &b.name,
            &b.version,
            &b.repository,
        ))
    });
    skipped.sort_by(|a, b| a.location.cmp(&b.location));
    let mut index = Index {
        zoo_oci_index: FORMAT_VERSION,
        source: source.to_string(),
        counts: BTreeMap::new(),
        suites,
        skipped,
        notes: Vec::new(),
        run_notes: Vec::new(),
    };
    recount(&mut index);
    index
}

fn location_base(location: &str) -> &str {
    let last_slash = location.rfind('/').map_or(0, |i| i + 1);
    match location[last_slash..].rfind(':') {
        Some(i) => &location[..last_slash + i],
        None => location,
    }
}

fn recount(index: &mut Index) {
    index.counts.clear();
    for s in &index.suites {
        *index.counts.entry(s.modality.clone()).or_default() += 1;
    }
}

/// Keeps the suites every given filter accepts. An unknown task is an error that suggests one.
pub fn filter(mut index: Index, filters: &Filters) -> Result<Index> {
    let task =
        match &filters.task {
            Some(t) => Some(taxonomy::canonical(t).map(|c| c.task).ok_or_else(|| {
                Error::usage(format!("unknown task {t:?}")).with_hint(taxonomy::unknown_task_hint(t))
            })?),
            None => None,
        };
    let lower = |s: &Option<String>| s.as_ref().map(|s| s.to_lowercase());
    let (framework, license, query) = (lower(&filters.framework), lower(&filters.license), lower(&filters.query));
    index.suites.retain(|s| {
        task.as_ref().is_none_or(|t| s.task.as_ref() == Some(t))
            && framework.as_ref().is_none_or(|f| s.frameworks.iter().any(|x| x.to_lowercase() == *f))
            && license.as_ref().is_none_or(|l| {
                s.license.as_ref().is_some_and(|x| {
                    let x = x.to_lowercase();
                    x == *l || x.split(|c: char| c.is_whitespace() || c == '(' || c == ')').any(|part| part == l)
                })
            })
            && query.as_ref().is_none_or(|q| searchable_text(s).contains(q.as_str()))
    });
    recount(&mut index);
    Ok(index)
}

/// What the free-text query searches, lower-cased.
pub fn searchable_text(s: &SuiteEntry) -> String {
    let mut parts = vec![s.name.clone(), s.version.clone(), s.repository.clone()];
    parts.extend(s.summary.clone());
    parts.extend(s.task.clone());
    parts.extend(s.keywords.clone());
    parts.extend(s.frameworks.clone());
    parts.extend(s.authors.clone());
    parts.extend(s.readme.clone());
    parts.join("\n").to_lowercase()
}
