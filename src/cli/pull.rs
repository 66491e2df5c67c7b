//! `zoo-oci pull SOURCE [-o DIR]`.

use std::path::PathBuf;

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::ops::{self, PullOptions};
use zoo_oci::pull::{DEFAULT_MAX_EXPANSION, Selection};
use zoo_oci::suite::Class;

use super::{Format, Global, human_bytes, location, println_out, say};

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
    let options = PullOptions {
        source: location(&args.source)?,
        destination: args.output,
        selection: Selection {
            only: args.only.iter().map(|c| Class::parse(c)).collect::<Result<_>>()?,
            variants: args.variant,
            frameworks: args.framework,
            include: args.include,
        },
        force: args.force,
        max_expansion: args.max_expansion,
    };
    let report = ops::pull(&options, &global.context()).await?;
    match args.format {
        Format::Json => println_out(serde_json::to_string(&report).expect("reports serialise"))?,
        Format::Text => {
            let text = || {
                if report.up_to_date {
                    format!("{} already holds {}: nothing to do", report.destination.display(), report.manifest)
                } else {
                    format!(
                        "pulled {} layers ({}), {} files into {}",
                        report.layers,
                        human_bytes(report.bytes),
                        report.files,
                        report.destination.display()
                    )
                }
            };
            let mut event = serde_json::to_value(&report).expect("reports serialise");
            event["event"] = if report.up_to_date { "up-to-date" } else { "pulled" }.into();
            say(global, text, event);
            println_out(report.destination.display())?;
        }
    }
    Ok(0)
}
