//! `tags`: the tags of a repository or layout, with the suite each holds when asked.

use serde::Serialize;

use super::Context;
use crate::artifact::{decode, media};
use crate::error::Result;
use crate::reference::{Location, Reference};

/// What to list.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TagsOptions {
    /// A repository (`HOST/REPO`) or a layout (`oci:PATH`); a tag in it is ignored.
    pub location: Location,
    /// Read each tag's manifest for the suite's name and version (one request per tag; no
    /// layer is read).
    pub long: bool,
}

impl TagsOptions {
    /// Lists the tags of `location`, short.
    pub fn new(location: Location) -> Self {
        TagsOptions { location, long: false }
    }
}

/// One tag.
#[derive(Debug, Clone, Serialize)]
pub struct TagEntry {
    /// The tag.
    pub tag: String,
    /// The manifest it points at (with `long`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The suite's name (with `long`, when it is a suite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The suite's version (with `long`, when it is a suite).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// What the tag holds when it is not a suite: its media or artifact type (with `long`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

/// The tags of a location, sorted.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TagsReport {
    /// The location, without a reference.
    pub location: String,
    /// Its tags.
    pub tags: Vec<TagEntry>,
}

/// Lists tags.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, TagsOptions};
/// use zoo_oci::reference::Location;
/// let mut options = TagsOptions::new(Location::parse("oci:./zoo")?);
/// options.long = true;
/// for entry in ops::tags(&options, &Context::default()).await?.tags {
///     println!("{} {}", entry.tag, entry.version.unwrap_or_default());
/// }
/// # Ok(()) }
/// ```
pub async fn tags(options: &TagsOptions, context: &Context) -> Result<TagsReport> {
    let location = options.location.with_reference(None);
    // Offline, a registry's tags are those pulled into the cache.
    let source = context.source(&location).await?;
    let mut entries = Vec::new();
    for tag in source.tags().await? {
        let mut entry = TagEntry { tag: tag.clone(), digest: None, name: None, version: None, other: None };
        if options.long {
            let descriptor = source.resolve(&Reference::Tag(tag)).await?;
            let bytes = source.fetch_manifest(&descriptor).await?;
            entry.digest = Some(descriptor.digest.clone());
            match decode::decode(&descriptor, &bytes) {
                Ok(view) => {
                    entry.name = view.name().map(String::from);
                    entry.version = view
                        .spec
                        .as_ref()
                        .map(|s| s.version.clone())
                        .or_else(|| view.annotation(media::ANN_VERSION).map(String::from));
                }
                Err(_) => entry.other = Some(kind_of(&descriptor.media_type, &bytes)),
            }
        }
        entries.push(entry);
    }
    Ok(TagsReport { location: location.to_string(), tags: entries })
}

/// "an image", "an index", or the artifact type: for tags that hold no suite.
fn kind_of(media_type: &str, bytes: &[u8]) -> String {
    let artifact_type = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("artifactType").and_then(|t| t.as_str()).map(String::from));
    artifact_type.unwrap_or_else(|| media_type.to_string())
}
