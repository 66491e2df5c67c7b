//! `zoo-oci pull SOURCE [-o DIR]`.

use std::path::PathBuf;

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::pull::{self, DEFAULT_MAX_EXPANSION, PullOptions, Selection};
use zoo_oci::suite::Class;

use super::{Format, Global, human_bytes, location, open_source, progress, say, source_reference};

/// Arguments of `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// What to pull: oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// The folder to write (default: ./NAME). Created with its parents; replaced atomically.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Keep only these classes: model, scripts, notebooks, dataset, readme, license, docs.
    #[arg(long, value_delimiter = ',', value_name = "CLASS")]
    pub only: Vec<String>,
    /// Keep only these model variants (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    pub variant: Vec<String>,
    /// Keep only model variants of these frameworks.
    #[arg(long, value_delimiter = ',', value_name = "FW")]
    pub framework: Vec<String>,
    /// Keep only files matching this glob (repeatable); a glob without / matches file names.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Replace a non-empty destination that zoo-oci did not create.
    #[arg(long)]
    pub force: bool,
    /// For layers that record no file list (other tools'), how many times its compressed
    /// size a layer may expand to.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_EXPANSION)]
    pub max_expansion: u64,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub async fn run(args: PullArgs, global: &Global) -> Result<u8> {
    let loc = location(&args.source)?;
    let only = args.only.iter().map(|c| Class::parse(c)).collect::<Result<_>>()?;
    let src = open_source(&loc, global, global.plain_http).await?;
    let reference = source_reference(&loc, src.as_ref()).await?;
    let options = PullOptions {
        selection: Selection { only, variants: args.variant, frameworks: args.framework, include: args.include },
        destination: args.output,
        force: args.force,
        max_expansion: args.max_expansion,
        concurrency: global.concurrency,
        source_name: loc.with_reference(Some(reference.clone())).to_string(),
    };
    let on_event = progress(global);
    let outcome = pull::pull(src.as_ref(), &reference, &options, &on_event).await?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "destination": outcome.destination,
                "digest": outcome.manifest,
                "up_to_date": outcome.up_to_date,
                "layers": outcome.layers,
                "bytes": outcome.bytes,
                "files": outcome.files,
            })
        ),
        Format::Text => {
            let text = || {
                if outcome.up_to_date {
                    format!("{} already holds {}: nothing to do", outcome.destination.display(), outcome.manifest)
                } else {
                    format!(
                        "pulled {} layers ({}), {} files into {}",
                        outcome.layers,
                        human_bytes(outcome.bytes),
                        outcome.files,
                        outcome.destination.display()
                    )
                }
            };
            let event = serde_json::json!({
                "event": if outcome.up_to_date { "up-to-date" } else { "pulled" },
                "destination": outcome.destination,
                "digest": outcome.manifest,
                "layers": outcome.layers,
                "bytes": outcome.bytes,
                "files": outcome.files,
            });
            say(global, text, event);
            println!("{}", outcome.destination.display());
        }
    }
    Ok(0)
}
