//! `tag`: point more tags at an artifact, in the store that holds it.

use serde::Serialize;

use super::Context;
use crate::error::Result;
use crate::reference::{Location, validate_tag};
use crate::store::{self, Access};

/// What to tag.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TagOptions {
    /// The artifact: a location with a tag or digest, or none (the only tag).
    pub source: Location,
    /// The new tags.
    pub tags: Vec<String>,
}

impl TagOptions {
    /// Gives `source` the tags `tags`.
    pub fn new(source: Location, tags: Vec<String>) -> Self {
        TagOptions { source, tags }
    }
}

/// What was tagged.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TagReport {
    /// The manifest's digest.
    pub digest: String,
    /// The tags now pointing at it.
    pub tags: Vec<String>,
}

/// Adds tags to an artifact. Every tag is checked before any is written.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, TagOptions};
/// use zoo_oci::reference::Location;
/// let options = TagOptions::new(Location::parse("oci:./zoo:1.0")?, vec!["stable".into()]);
/// ops::tag(&options, &Context::default()).await?;
/// # Ok(()) }
/// ```
pub async fn tag(options: &TagOptions, context: &Context) -> Result<TagReport> {
    for t in &options.tags {
        validate_tag(t)?;
    }
    let target = context.target(&options.source, Access::Update).await?;
    let reference = store::reference_or_only_tag(&options.source, target.as_ref()).await?;
    let descriptor = target.resolve(&reference).await?;
    for t in &options.tags {
        target.tag(&descriptor, t).await?;
    }
    Ok(TagReport { digest: descriptor.digest, tags: options.tags.clone() })
}
