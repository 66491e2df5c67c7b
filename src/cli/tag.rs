//! `zoo-oci tag SOURCE TAG...`.

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::reference::validate_tag;

use zoo_oci::reference::Location;

use super::{Global, location, open_destination, open_source, say, source_reference};

/// Arguments of `tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The artifact to tag: oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// New tags, in the same store.
    #[arg(required = true)]
    pub tags: Vec<String>,
}

pub async fn run(args: TagArgs, global: &Global) -> Result<u8> {
    for t in &args.tags {
        validate_tag(t)?;
    }
    let loc = location(&args.source)?;
    // Tagging writes: a registry needs push rights; a layout must already exist.
    let target = match loc {
        Location::Layout { .. } => open_source(&loc, global, global.plain_http).await?,
        Location::Registry { .. } => open_destination(&loc, global, global.plain_http).await?,
    };
    let reference = source_reference(&loc, target.as_ref()).await?;
    let descriptor = target.resolve(&reference).await?;
    for t in &args.tags {
        target.tag(&descriptor, t).await?;
        let event = serde_json::json!({"event": "tagged", "digest": descriptor.digest, "tag": t});
        say(global, || format!("tagged {} as {t}", descriptor.digest), event);
    }
    Ok(0)
}
