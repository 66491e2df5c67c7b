//! `zoo-oci copy SOURCE TARGET`.

use clap::Args;
use zoo_oci::copy::{self, CopyOptions};
use zoo_oci::error::{Error, Result};
use zoo_oci::reference::Reference;

use super::{Global, location, open_destination, open_source, progress, say, source_reference};

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
}

pub async fn run(args: CopyArgs, global: &Global) -> Result<u8> {
    let from = location(&args.source)?;
    let to = location(&args.target)?;
    let src = open_source(&from, global, global.plain_http || args.from_plain_http).await?;
    let reference = source_reference(&from, src.as_ref()).await?;
    let tag = match (to.reference(), &reference) {
        (Some(Reference::Tag(t)), _) => Some(t.clone()),
        (Some(Reference::Digest(_)), _) => {
            return Err(Error::usage("a copy target takes a tag, not a digest")
                .with_hint("the digest stays the same; name a tag or none"));
        }
        (None, Reference::Tag(t)) => Some(t.clone()),
        (None, Reference::Digest(_)) => None,
    };
    let dst = open_destination(&to, global, global.plain_http || args.to_plain_http).await?;
    let on_event = progress(global);
    let options =
        CopyOptions { concurrency: global.concurrency, on_event: &on_event, retries: zoo_oci::copy::DEFAULT_RETRIES };
    let report = copy::copy(src.as_ref(), &reference, dst.as_ref(), tag.as_deref(), &options).await?;
    let root = report.root.expect("copy reports its root");
    let to = to.with_reference(tag.map(Reference::Tag));
    let text = || {
        format!(
            "copied {from} to {to}: {} blobs copied, {} mounted, {} already there",
            report.copied, report.mounted, report.skipped
        )
    };
    let event = serde_json::json!({
        "event": "copied", "from": from.to_string(), "to": to.to_string(), "digest": root.digest,
        "copied": report.copied, "mounted": report.mounted, "skipped": report.skipped,
    });
    say(global, text, event);
    println!("{}", root.digest);
    Ok(0)
}
