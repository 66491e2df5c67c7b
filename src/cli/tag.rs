//! `zoo-oci tag SOURCE TAG...`.

use crate::error::Result;
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
    let options = TagOptions { source: location(&args.source)?, tags: args.tags };
    let report = ops::tag(&options, &global.context()).await?;
    for t in &report.tags {
        let event = serde_json::json!({"event": "tagged", "digest": report.digest, "tag": t});
        say(global, || format!("tagged {} as {t}", report.digest), event);
    }
    Ok(0)
}
