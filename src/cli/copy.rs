//! `zoo-oci copy SOURCE TARGET`.

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::ops::{self, CopyOptions};

use super::{Global, location, println_out, say};

/// Arguments of `copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// What to copy: oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// Where to: oci:PATH[:TAG] or HOST/REPO[:TAG]. Without a tag, the source's tag is kept.
    pub target: String,
    /// Talk plain HTTP to the source registry only.
    #[arg(long)]
    pub from_plain_http: bool,
    /// Talk plain HTTP to the target registry only.
    #[arg(long)]
    pub to_plain_http: bool,
    /// Also copy the artifacts that refer to it: signatures, SBOMs, attestations (like oras cp -r).
    #[arg(short = 'r', long)]
    pub referrers: bool,
}

pub async fn run(args: CopyArgs, global: &Global) -> Result<u8> {
    let options = CopyOptions {
        source: location(&args.source)?,
        destination: location(&args.target)?,
        source_plain_http: args.from_plain_http,
        destination_plain_http: args.to_plain_http,
        referrers: args.referrers,
    };
    let report = ops::copy(&options, &global.context()).await?;
    let t = &report.transferred;
    let text = || {
        format!(
            "copied {} to {}: {} blobs copied, {} mounted, {} already there",
            report.from, report.to, t.copied, t.mounted, t.skipped
        )
    };
    let mut event = serde_json::to_value(&report).expect("reports serialise");
    event["event"] = "copied".into();
    say(global, text, event);
    println_out(&report.digest)?;
    Ok(0)
}
