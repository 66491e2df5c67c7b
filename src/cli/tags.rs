//! `zoo-oci tags REPO`, `zoo-oci rm REF` and `zoo-oci gc oci:PATH`: what people reach for after
//! `docker`, `oras repo tags`, `crane delete` and `registry garbage-collect`.

use crate::error::Result;
use crate::ops::{self, GcOptions, RmOptions, TagsOptions};
use clap::Args;

use crate::format::count;

use super::{Format, Global, human_bytes, location, print_json, println_out, say};

const TAGS_EXAMPLES: &str = "Examples:
  zoo-oci tags oci:./zoo
  zoo-oci tags ghcr.io/team/squeezenet --long
  zoo-oci tags localhost:5000/zoo/squeezenet --plain-http --format json";

/// Arguments of `tags`.
#[derive(Debug, Args)]
#[command(after_help = super::with_locations(TAGS_EXAMPLES))]
pub struct TagsArgs {
    /// The repository or layout: HOST[:PORT]/REPO or oci:PATH.
    pub location: String,
    /// Also read each tag's manifest: digest, suite name and version (no layer is read).
    #[arg(short, long)]
    pub long: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn tags(global: &Global, args: TagsArgs) -> Result<u8> {
    let options = TagsOptions { location: location(&args.location)?, long: args.long };
    let report = ops::tags(&options, &global.context()).await?;
    if args.format == Format::Json {
        print_json(&report)?;
        return Ok(0);
    }
    let width = report.tags.iter().map(|t| t.tag.len()).max().unwrap_or(0);
    for entry in &report.tags {
        if !args.long {
            println_out(&entry.tag)?;
            continue;
        }
        let digest = entry.digest.as_deref().map(crate::format::short_digest).unwrap_or("");
        let what = match (&entry.name, &entry.version, &entry.other) {
            (Some(name), Some(version), _) => format!("{name} {version}"),
            (Some(name), None, _) => name.clone(),
            (None, _, Some(other)) => format!("(not a suite: {other})"),
            _ => String::new(),
        };
        println_out(format!("{:width$}  {digest}  {what}", entry.tag))?;
    }
    Ok(0)
}

const RM_EXAMPLES: &str = "In a layout, rm forgets the tag (or every tag of a digest) and keeps the blobs: `zoo-oci gc`
frees them. In a registry, rm deletes the manifest, with every tag on it, where the registry
allows deleting (CNCF Distribution: storage.delete.enabled).

Examples:
  zoo-oci rm oci:./zoo:0.9 && zoo-oci gc oci:./zoo
  zoo-oci rm localhost:5000/zoo/squeezenet:0.9 --plain-http";

/// Arguments of `rm`.
#[derive(Debug, Args)]
#[command(after_help = super::with_locations(RM_EXAMPLES))]
pub struct RmArgs {
    /// What to remove: HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST, oci:PATH:TAG or oci:PATH@DIGEST.
    pub location: String,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn rm(global: &Global, args: RmArgs) -> Result<u8> {
    let options = RmOptions { location: location(&args.location)? };
    let report = ops::rm(&options, &global.context()).await?;
    let event = serde_json::json!({"event": "removed", "digest": report.digest, "tags": report.tags, "manifest_deleted": report.manifest_deleted});
    say(
        global,
        || {
            if report.manifest_deleted {
                format!("deleted manifest {} (every tag on it went with it)", report.digest)
            } else {
                let tags = report.tags.join(", ");
                format!("removed tag {tags} of {}; its blobs stay until zoo-oci gc", report.digest)
            }
        },
        event,
    );
    Ok(0)
}

/// Arguments of `gc`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  zoo-oci gc oci:./zoo --dry-run
  zoo-oci gc oci:./zoo")]
pub struct GcArgs {
    /// The layout: oci:PATH.
    pub location: String,
    /// List what would be removed; remove nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn gc(global: &Global, args: GcArgs) -> Result<u8> {
    let report = ops::gc(&GcOptions { location: location(&args.location)?, dry_run: args.dry_run })?;
    if args.format == Format::Json {
        print_json(&report)?;
        return Ok(0);
    }
    if global.verbose || args.dry_run {
        for digest in &report.removed {
            println_out(digest)?;
        }
    }
    if !global.quiet {
        let verb = if args.dry_run { "would remove" } else { "removed" };
        let blobs = count(report.removed.len(), "blob", "blobs");
        eprintln!("{verb} {blobs} ({}); {} reachable kept", human_bytes(report.bytes), report.kept);
    }
    Ok(0)
}
