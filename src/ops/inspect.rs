//! `inspect`: a suite's metadata, variants, layers and README, from its manifest alone.

use std::collections::BTreeMap;

use serde::Serialize;

use super::Context;
use crate::artifact::decode::{self, SuiteView};
use crate::artifact::media;
use crate::artifact::variant::Variant;
use crate::copy;
use crate::error::{Error, Result, Side};
use crate::reference::Location;
use crate::retry::DEFAULT_RETRIES;
use crate::store;
use crate::suite::{Class, SuiteSpec};

/// What to inspect.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InspectOptions {
    /// The suite: a location with a tag or digest, or none (the only tag).
    pub source: Location,
}

impl InspectOptions {
    /// Inspects `source`.
    pub fn new(source: Location) -> Self {
        InspectOptions { source }
    }
}

/// A suite as its manifest describes it (what `inspect --format json` prints).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InspectReport {
    /// The location read, with its reference.
    pub location: String,
    /// The command that pulls it, ready to paste: shell-quoted, with the flags the location
    /// needs (`--plain-http`).
    pub pull: String,
    /// The manifest's digest.
    pub digest: String,
    /// The manifest's `artifactType`.
    pub artifact_type: Option<String>,
    /// The suite's name.
    pub name: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Its task (a Hugging Face pipeline tag).
    pub task: Option<String>,
    /// The task's modality.
    pub modality: Option<String>,
    /// The descriptor zoo-oci recorded (none for other tools' artifacts).
    pub descriptor: Option<SuiteSpec>,
    /// The model variants: declared ⊕ read from their files.
    pub variants: Vec<Variant>,
    /// The layers, in manifest order.
    pub layers: Vec<LayerSummary>,
    /// Total bytes of the layers.
    pub size: u64,
    /// The README (cut at 256 KiB).
    pub readme: Option<String>,
    /// Whether the README was cut.
    pub readme_truncated: bool,
    /// The manifest's other annotations.
    pub annotations: BTreeMap<String, String>,
    /// The ModelPack config of an artifact another tool wrote (modctl, KitOps): the model's
    /// name, version, family, format, precision, quantisation, size, licences, authors.
    pub model_config: Option<decode::ModelPackConfig>,
    /// The Modelfile modctl built it from (its manifest annotation), when there is one.
    pub modelfile: Option<String>,
    /// Layers of media types zoo-oci does not read: listed, not pulled.
    pub unknown_layers: Vec<UnknownLayer>,
    /// What reading the manifest and config found odd.
    pub warnings: Vec<String>,
    /// The Kitfile of a KitOps ModelKit, as JSON.
    pub kitfile: Option<serde_json::Value>,
    /// For an image index: the manifests it holds, named as `pull --variant` picks them.
    pub children: Vec<crate::artifact::manifest::IndexChild>,
    /// The manifest digests of the Sigstore bundles that refer to it (`zoo-oci sign`, cosign,
    /// any OCI client): listed, not checked (`zoo-oci verify` checks them against a key).
    pub signatures: Vec<String>,
    /// The validations published of it (`zoo-oci validate --attach`): what each measured, read
    /// from its attestation; the attestations' signatures are not checked here.
    pub validations: Vec<crate::artifact::attestation::Validation>,
}

/// A layer zoo-oci does not read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnknownLayer {
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size.
    pub size: u64,
    /// Its title or file path annotation.
    pub path: Option<String>,
}

/// One layer of an inspected suite.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerSummary {
    /// Its class.
    pub class: Class,
    /// Variant or dataset name.
    pub name: Option<String>,
    /// Framework of a model layer.
    pub framework: Option<String>,
    /// `org.cncf.model.filepath`.
    pub path: Option<String>,
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size.
    pub size: u64,
    /// Its file count, when recorded.
    pub files: Option<u64>,
    /// The bytes of its files, when recorded.
    pub unpacked_size: Option<u64>,
}

impl InspectReport {
    /// A manifest annotation (the README and the suite record are fields of their own).
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

/// Reads a suite's manifest and describes it; downloads no layer.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, InspectOptions};
/// use zoo_oci::reference::Location;
/// let report = ops::inspect(&InspectOptions::new(Location::parse("oci:./zoo:1.0")?), &Context::default()).await?;
/// for v in &report.variants {
///     println!("{}: {:?} {:?}", v.name, v.format, v.params);
/// }
/// # Ok(()) }
/// ```
pub async fn inspect(options: &InspectOptions, context: &Context) -> Result<InspectReport> {
    // A suite the shared cache holds is answered from it when its registry cannot be reached.
    let read = |source: std::sync::Arc<dyn store::Source>, context: Context, _offline: bool| async move {
        inspect_in(options, &context, source.as_ref()).await
    };
    super::with_cache_standing_in(&options.source, context, read, |r: &mut InspectReport, w| r.warnings.push(w)).await
}

async fn inspect_in(options: &InspectOptions, context: &Context, source: &dyn store::Source) -> Result<InspectReport> {
    let reference = store::reference_or_only_tag(&options.source, source).await?;
    let root = copy::resolve(source, &reference, DEFAULT_RETRIES).await?;
    let location = options.source.with_reference(Some(reference.clone()));
    let plain_http = matches!(location, Location::Registry { .. }) && context.transport.plain_http;
    if let Some(children) = crate::artifact::manifest::index_children(&root.descriptor, &root.bytes)? {
        return Ok(index_report(&root, children, &location.to_string(), plain_http));
    }
    let view = store::suite_view(source, &root.descriptor, &root.bytes)
        .await
        .map_err(|e: Error| e.on(Side::Source, source.name()))?;
    let mut report = report(view, &location.to_string(), plain_http);
    if let Some(referrers) = source.referrers() {
        match referrers.referrers(&root.descriptor).await {
            Ok(found) => {
                report.signatures = found
                    .iter()
                    .filter(|r| {
                        r.artifact_type.as_deref().is_some_and(|t| t.starts_with("application/vnd.dev.sigstore.bundle"))
                    })
                    .map(|r| r.digest.clone())
                    .collect();
                let attestations = found
                    .iter()
                    .filter(|r| r.artifact_type.as_deref() == Some(crate::artifact::attestation::ENVELOPE_MEDIA_TYPE));
                for referrer in attestations {
                    match store::validation_of(source, referrer).await {
                        Ok(Some(v)) => report.validations.push(v),
                        Ok(None) => {}
                        Err(e) => {
                            report.warnings.push(format!("attestation {} could not be read: {e}", referrer.digest))
                        }
                    }
                }
            }
            Err(e) => report.warnings.push(format!("its referrers (signatures) could not be listed: {e}")),
        }
    }
    Ok(report)
}

/// An image index: its children, and how to pull one.
fn index_report(
    root: &copy::Root,
    children: Vec<crate::artifact::manifest::IndexChild>,
    location: &str,
    plain_http: bool,
) -> InspectReport {
    let index = crate::artifact::manifest::parse_index(&root.bytes, "the index").ok();
    let annotations = index.map(|i| i.annotations).unwrap_or_default();
    let name = annotations.get(media::ANN_TITLE).cloned();
    let first = children.first().map(|c| c.name.clone()).unwrap_or_default();
    let pull = format!(
        "{} --variant {}",
        crate::pull::command_line(location, name.as_deref(), plain_http),
        shlex::try_quote(&first).map(|q| q.into_owned()).unwrap_or(first)
    );
    InspectReport {
        location: location.to_string(),
        pull,
        digest: root.descriptor.digest.clone(),
        artifact_type: None,
        name,
        version: annotations.get(media::ANN_VERSION).cloned(),
        task: None,
        modality: None,
        descriptor: None,
        variants: Vec::new(),
        layers: Vec::new(),
        size: children.iter().map(|c| c.descriptor.size).sum(),
        readme: None,
        readme_truncated: false,
        annotations,
        model_config: None,
        modelfile: None,
        unknown_layers: Vec::new(),
        warnings: Vec::new(),
        kitfile: None,
        children,
        signatures: Vec::new(),
        validations: Vec::new(),
    }
}

fn report(view: SuiteView, location: &str, plain_http: bool) -> InspectReport {
    let annotation = |key: &str| view.annotation(key).map(String::from);
    let layers = view
        .layers
        .iter()
        .map(|l| LayerSummary {
            class: l.class,
            name: l.name.clone(),
            framework: l.framework.clone(),
            path: l.filepath.clone(),
            media_type: l.descriptor.media_type.clone(),
            digest: l.descriptor.digest.clone(),
            size: l.descriptor.size,
            files: l.file_count,
            unpacked_size: l.unpacked_size,
        })
        .collect();
    InspectReport {
        pull: crate::pull::command_line(location, view.name(), plain_http),
        location: location.to_string(),
        digest: view.manifest_descriptor.digest.clone(),
        artifact_type: view.manifest.artifact_type.clone(),
        name: view.name().map(String::from),
        version: view.version().map(String::from),
        task: annotation(media::ANN_TASK),
        modality: annotation(media::ANN_MODALITY),
        size: view.layers.iter().map(|l| l.descriptor.size).sum(),
        readme: annotation(media::ANN_README),
        readme_truncated: view.annotation(media::ANN_README_TRUNCATED) == Some("true"),
        annotations: view
            .manifest
            .annotations
            .iter()
            .filter(|(k, _)| {
                ![media::ANN_SUITE, media::ANN_README, media::ANN_MODELFILE, media::LEGACY_ANN_MODELFILE]
                    .contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        layers,
        modelfile: annotation(media::ANN_MODELFILE).or_else(|| annotation(media::LEGACY_ANN_MODELFILE)),
        unknown_layers: view
            .unknown_layers
            .iter()
            .map(|d| UnknownLayer {
                media_type: d.media_type.clone(),
                digest: d.digest.clone(),
                size: d.size,
                path: d.annotation(media::ANN_FILEPATH).or_else(|| d.annotation(media::ANN_TITLE)).map(String::from),
            })
            .collect(),
        warnings: view.warnings,
        kitfile: view.kitfile,
        children: Vec::new(),
        signatures: Vec::new(),
        validations: Vec::new(),
        model_config: view.model_config,
        variants: view.variants,
        descriptor: view.spec,
    }
}
