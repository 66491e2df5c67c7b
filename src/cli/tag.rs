//! `zoo-oci tag SOURCE TAG...`.

use crate::error::{Error, Result};
use crate::ops::{self, TagOptions};
use clap::Args;

use super::{Global, location, say};

/// Arguments of `tag`.
/// What `zoo-oci tag --help` ends with.
const EXAMPLES: &str = "Examples:
  zoo-oci tag oci:./zoo:1.1.0 stable latest
  zoo-oci tag ghcr.io/team/squeezenet@sha256:… production";

#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct TagArgs {
    /// The artifact to tag: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// New tags, in the same store.
    #[arg(required = true)]
    pub tags: Vec<String>,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn run(global: &Global, args: TagArgs) -> Result<u8> {
    // `tag stable oci:./zoo:1.0`: the new tag first.
    if let [tag] = args.tags.as_slice()
        && location(&args.source).is_err()
        && location(tag).is_ok()
    {
        return Err(Error::usage("the arguments are swapped: tag takes the artifact first, then the new tags")
            .with_hint(super::command_line(&["zoo-oci", "tag", tag, &args.source])));
    }
    let options = TagOptions { source: location(&args.source)?, tags: args.tags };
    let report = ops::tag(&options, &global.context()).await?;
    for t in &report.tags {
        let event = serde_json::json!({"event": "tagged", "digest": report.digest, "tag": t});
        say(global, || format!("tagged {} as {t}", report.digest), event);
    }
    Ok(0)
}
