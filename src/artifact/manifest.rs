//! OCI descriptors, image manifests and indexes, as zoo-oci reads and writes them.
//!
//! Why not `oci-spec`'s types: they keep annotations in a `HashMap`, so serialising them gives a
//! different byte order on every run, and a manifest's digest is the hash of its bytes. These
//! types keep annotations in a `BTreeMap` (sorted), serialise fields in a fixed order, and keep
//! fields they don't know (`platform`, `urls`, …) so that nothing is lost when read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::media;
use crate::error::{Error, Result};

/// An OCI content descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the content.
    pub media_type: String,
    /// `sha256:<hex>` of the content.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Artifact type (manifests in an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Annotations, sorted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Fields this version does not model, kept as read.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

impl Descriptor {
    /// A descriptor for `bytes` of `media_type`.
    pub fn for_bytes(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor::new(media_type, crate::digest::of_bytes(bytes), bytes.len() as u64)
    }
    /// A descriptor with no annotations.
    pub fn new(media_type: &str, digest: String, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest,
            size,
            artifact_type: None,
            annotations: BTreeMap::new(),
            other: BTreeMap::new(),
        }
    }
    /// One annotation.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
    /// Whether this descriptor points at a manifest or index (rather than a plain blob).
    pub fn is_manifest(&self) -> bool {
        is_manifest_type(&self.media_type)
    }
}

/// Whether a media type is a manifest or index type that `copy` walks into.
pub fn is_manifest_type(media_type: &str) -> bool {
    matches!(media_type, media::OCI_MANIFEST | media::OCI_INDEX | media::DOCKER_MANIFEST | media::DOCKER_MANIFEST_LIST)
}

/// An OCI image manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// What kind of artifact this is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers, in order.
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations, sorted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image index (also the shape of a layout's `index.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.index.v1+json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The manifests.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// Annotations, sorted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Parses manifest bytes read from a store; `what` names them in the error.
pub fn parse_manifest(bytes: &[u8], what: &str) -> Result<Manifest> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::malformed(format!("{what} is not a valid OCI image manifest")).with_cause(e))
}

/// One manifest an image index holds, named as a model variant: by its `io.zoo-oci.variant`,
/// KitOps's `ml.kitops.modelkit.original-tag`, `org.opencontainers.image.title` or
/// `org.opencontainers.image.ref.name` annotation, else its platform (`linux/amd64`), else its
/// short digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexChild {
    /// The name `pull --variant` picks it by.
    pub name: String,
    /// Its platform, `os/architecture[/variant]`, when the index says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Its descriptor.
    pub descriptor: Descriptor,
}

/// The children of an image index, named (see [`IndexChild`]); `None` when `descriptor` is not an
/// index.
pub fn index_children(descriptor: &Descriptor, bytes: &[u8]) -> Result<Option<Vec<IndexChild>>> {
    if !matches!(descriptor.media_type.as_str(), media::OCI_INDEX | media::DOCKER_MANIFEST_LIST) {
        return Ok(None);
    }
    let index = parse_index(bytes, &format!("index {}", descriptor.digest))?;
    let children = index
        .manifests
        .into_iter()
        .map(|child| {
            let platform = child.other.get("platform").and_then(|p| {
                let os = p.get("os")?.as_str()?;
                let arch = p.get("architecture")?.as_str()?;
                Some(match p.get("variant").and_then(|v| v.as_str()) {
                    Some(v) => format!("{os}/{arch}/{v}"),
                    None => format!("{os}/{arch}"),
                })
            });
            let named = [media::ANN_VARIANT, "ml.kitops.modelkit.original-tag", media::ANN_TITLE, media::ANN_REF_NAME]
                .iter()
                .find_map(|k| child.annotation(k).filter(|v| !v.is_empty()).map(String::from));
            let short =
                crate::digest::hex_part(&child.digest).map(|h| h[..12.min(h.len())].to_string()).unwrap_or_default();
            let name = named.or_else(|| platform.clone()).unwrap_or(short);
            IndexChild { name, platform, descriptor: child }
        })
        .collect();
    Ok(Some(children))
}

/// Parses index bytes read from a store.
pub fn parse_index(bytes: &[u8], what: &str) -> Result<ImageIndex> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::malformed(format!("{what} is not a valid OCI image index")).with_cause(e))
}

/// The descriptors a manifest or index points at, children before nothing: config and layers
/// of a manifest, manifests of an index.
pub fn children(descriptor: &Descriptor, bytes: &[u8]) -> Result<Vec<Descriptor>> {
    let what = format!("manifest {}", descriptor.digest);
    match descriptor.media_type.as_str() {
        media::OCI_INDEX | media::DOCKER_MANIFEST_LIST => Ok(parse_index(bytes, &what)?.manifests),
        _ => {
            let m = parse_manifest(bytes, &what)?;
            let mut out = vec![m.config];
            out.extend(m.layers);
            Ok(out)
        }
    }
}

/// When `bytes` is a manifest with a `subject`, the subject's digest and the descriptor a
/// referrers list gives for it: media type, digest, size, `artifactType` (else the config's media
/// type) and the manifest's annotations (distribution spec, "Listing Referrers").
pub fn as_referrer(descriptor: &Descriptor, bytes: &[u8]) -> Option<(String, Descriptor)> {
    if descriptor.media_type != media::OCI_MANIFEST && descriptor.media_type != media::OCI_INDEX {
        return None;
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Referring {
        subject: Option<Descriptor>,
        artifact_type: Option<String>,
        config: Option<Descriptor>,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let m: Referring = serde_json::from_slice(bytes).ok()?;
    let subject = m.subject?;
    let mut entry = Descriptor::new(&descriptor.media_type, descriptor.digest.clone(), descriptor.size);
    entry.artifact_type = m.artifact_type.or(m.config.map(|c| c.media_type));
    entry.annotations = m.annotations;
    Some((subject.digest, entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_children_are_named_by_annotation_else_platform_else_short_digest() {
        let digest = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_INDEX,
            "manifests": [
                {"mediaType": media::OCI_MANIFEST, "digest": digest('a'), "size": 1,
                 "annotations": {"ml.kitops.modelkit.original-tag": "q4"}},
                {"mediaType": media::OCI_MANIFEST, "digest": digest('b'), "size": 1,
                 "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
                {"mediaType": media::OCI_MANIFEST, "digest": digest('c'), "size": 1},
            ],
        });
        let bytes = serde_json::to_vec(&index).unwrap();
        let children = index_children(&Descriptor::for_bytes(media::OCI_INDEX, &bytes), &bytes).unwrap().unwrap();
        let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["q4", "linux/arm64/v8", "cccccccccccc"]);
        assert_eq!(children[1].platform.as_deref(), Some("linux/arm64/v8"));
        let manifest = Descriptor::for_bytes(media::OCI_MANIFEST, b"{}");
        assert!(index_children(&manifest, b"{}").unwrap().is_none(), "a manifest has no children");
    }
}
