//! `rm`: take a tag or a manifest out of a store, where the store allows it.

use serde::Serialize;

use super::Context;
use crate::error::{Error, Result};
use crate::reference::{Location, Reference};
use crate::store::Access;

/// What to remove.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RmOptions {
    /// A location with a tag or a digest: no tag is never "the only tag" here.
    pub location: Location,
}

impl RmOptions {
    /// Removes the tag or manifest `location` names.
    pub fn new(location: Location) -> Self {
        RmOptions { location }
    }
}

/// What was removed.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RmReport {
    /// The manifest the reference pointed at.
    pub digest: String,
    /// The tags that no longer point at it (for a registry: the one named; the others that
    /// pointed at the same manifest went with it).
    pub tags: Vec<String>,
    /// Whether the manifest itself is gone (a registry deletes manifests; a layout forgets
    /// tags and keeps blobs until `gc`).
    pub manifest_deleted: bool,
}

/// Removes what a reference names: in a layout the tag (or every tag of a digest) from
/// `index.json`, blobs staying until `gc`; in a registry the manifest, which takes every tag
/// pointing at it (the distribution spec deletes manifests by digest).
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, RmOptions};
/// use zoo_oci::reference::Location;
/// ops::rm(&RmOptions::new(Location::parse("oci:./zoo:0.9")?), &Context::default()).await?;
/// # Ok(()) }
/// ```
pub async fn rm(options: &RmOptions, context: &Context) -> Result<RmReport> {
    let Some(reference) = options.location.reference() else {
        return Err(Error::usage(format!("{} names no tag or digest", options.location))
            .with_hint("name what to remove, e.g. oci:./zoo:0.9 or HOST/REPO@sha256:…"));
    };
    let target = context.target(&options.location, Access::Update).await?;
    let descriptor = target.resolve(reference).await?;
    let removal = target.remove(&descriptor, reference).await?;
    let tags = match reference {
        Reference::Tag(t) if removal.tags.is_empty() => vec![t.clone()],
        _ => removal.tags,
    };
    Ok(RmReport { digest: descriptor.digest, tags, manifest_deleted: removal.manifest_deleted })
}
