//! `zoo-oci push DIR TARGET`.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Args;
use zoo_oci::artifact::archive::Compression;
use zoo_oci::artifact::pack::{self, PackOptions};
use zoo_oci::copy::{self, CopyOptions};
use zoo_oci::error::{Error, Result};
use zoo_oci::reference::{Reference, validate_tag};
use zoo_oci::store::packed::PackedTarget;
use zoo_oci::suite;

use super::{Format, Global, human_bytes, location, open_destination, progress, say};

/// Arguments of `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The suite folder (holding zoo.yaml).
    pub dir: PathBuf,
    /// Where to push: oci:PATH[:TAG]. Without a tag, the suite's version is the tag.
    pub target: String,
    /// Refuse to push when the check finds warnings (such as undeclared files).
    #[arg(long)]
    pub strict: bool,
    /// zstd (default) or none: plain tar for tools that read no zstd.
    #[arg(long, value_enum, default_value_t = CompressionArg::Zstd)]
    pub compression: CompressionArg,
    /// Record a creation time: RFC 3339, or `now`. Default: none, or SOURCE_DATE_EPOCH when set,
    /// so the same suite always gives the same digest.
    #[arg(long, value_name = "TIME", num_args = 0..=1, default_missing_value = "now")]
    pub created: Option<String>,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressionArg {
    /// zstd for code, datasets and docs.
    Zstd,
    /// Plain tar everywhere.
    None,
}

pub async fn run(args: PushArgs, global: &Global) -> Result<u8> {
    let destination = location(&args.target)?;
    let checked = suite::check(&args.dir)?;
    if !global.quiet || checked.problems.blocks(args.strict) {
        eprint!("{}", checked.problems);
    }
    let suite = match checked.suite {
        Some(s) if !checked.problems.blocks(args.strict) => s,
        _ => {
            return Err(Error::failed(format!(
                "{} has {} errors and {} warnings; nothing was pushed",
                args.dir.display(),
                checked.problems.error_count(),
                checked.problems.warning_count()
            ))
            .with_hint("fix the problems listed above (zoo-oci check shows them again)"));
        }
    };
    let tag = match destination.reference() {
        Some(Reference::Tag(t)) => t.clone(),
        Some(Reference::Digest(_)) => {
            return Err(Error::usage("push needs a tag, not a digest: the digest is computed from the suite")
                .with_hint("write TARGET as oci:PATH:TAG, or leave the tag out to use the suite's version"));
        }
        None => suite.spec.version.replace('+', "_"),
    };
    validate_tag(&tag)?;
    let options = PackOptions {
        compression: match args.compression {
            CompressionArg::Zstd => Compression::Zstd,
            CompressionArg::None => Compression::None,
        },
        created: created_time(args.created.as_deref())?,
    };
    let name = format!("{} {}", suite.spec.name, suite.spec.version);
    let packed = tokio::task::spawn_blocking(move || pack::pack(suite, &options))
        .await
        .map_err(|e| Error::failed("packing failed").with_cause(e))??;
    let dst = open_destination(&destination, global, global.plain_http).await?;
    let source = PackedTarget::new(packed);
    let on_event = progress(global);
    let options =
        CopyOptions { concurrency: global.concurrency, on_event: &on_event, retries: zoo_oci::copy::DEFAULT_RETRIES };
    let report = copy::copy(&source, &Reference::Tag(tag.clone()), dst.as_ref(), Some(&tag), &options).await?;
    let manifest = &source.packed().manifest;
    let pushed_to = destination.with_reference(Some(Reference::Tag(tag)));
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "location": pushed_to.to_string(),
                "digest": manifest.digest,
                "layers": source.packed().layers.len(),
                "uploaded": report.copied,
                "uploaded_bytes": report.copied_bytes,
                "skipped": report.skipped,
            })
        ),
        Format::Text => {
            let text = || {
                format!(
                    "pushed {name} to {pushed_to}: {} blobs uploaded ({}), {} mounted, {} already there",
                    report.copied,
                    human_bytes(report.copied_bytes),
                    report.mounted,
                    report.skipped
                )
            };
            let event = serde_json::json!({
                "event": "pushed", "location": pushed_to.to_string(), "digest": manifest.digest,
                "uploaded": report.copied, "uploaded_bytes": report.copied_bytes,
                "mounted": report.mounted, "skipped": report.skipped,
            });
            say(global, text, event);
            println!("{}", manifest.digest);
        }
    }
    Ok(0)
}

fn created_time(flag: Option<&str>) -> Result<Option<String>> {
    let when = match flag {
        Some("now") => SystemTime::now(),
        Some(text) => humantime::parse_rfc3339_weak(text)
            .map_err(|e| Error::usage(format!("--created {text:?} is not an RFC 3339 time: {e}")))?,
        None => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(secs) => {
                let secs: u64 = secs
                    .trim()
                    .parse()
                    .map_err(|_| Error::usage(format!("SOURCE_DATE_EPOCH={secs:?} is not a number of seconds")))?;
                UNIX_EPOCH + Duration::from_secs(secs)
            }
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(humantime::format_rfc3339_seconds(when).to_string()))
}
