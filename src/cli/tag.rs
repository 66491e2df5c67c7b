//! `zoo-oci tag SOURCE TAG...`.

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::ops::{self, TagOptions};

use super::{Global, location, say};

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
    let options = TagOptions { source: location(&args.source)?, tags: args.tags };
    let report = ops::tag(&options, &global.context()).await?;
    for t in &report.tags {
        let event = serde_json::json!({"event": "tagged", "digest": report.digest, "tag": t});
        say(global, || format!("tagged {} as {t}", report.digest), event);
    }
    Ok(0)
}
