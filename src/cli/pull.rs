//! `zoo-oci pull SOURCE [-o DIR]`.

use std::path::PathBuf;

use crate::error::Result;
use crate::ops::{self, PullOptions};
use crate::pull::{DEFAULT_MAX_EXPANSION, Selection};
use crate::suite::Class;
use clap::Args;

use crate::format::count;

use super::{Format, Global, human_bytes, location, println_out, say};

/// Arguments of `pull`.
/// What `zoo-oci pull --help` ends with.
const EXAMPLES: &str = "Examples:
  zoo-oci pull oci:./zoo:1.1.0 -o squeezenet
  zoo-oci pull --cache ghcr.io/team/squeezenet:1.1.0 --only model
  zoo-oci pull ghcr.io/team/squeezenet:1.1.0 --only model --variant onnx-opset13 -o /models
  zoo-oci pull localhost:5000/zoo/squeezenet --plain-http --include '*.onnx' --exclude 'test/*'";

#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct PullArgs {
    /// What to pull: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// The folder to write (default: ./NAME). Created with its parents; replaced atomically.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Pull into the shared cache ($ZOO_OCI_CACHE, else ~/.cache/zoo-oci) that the Python
    /// package uses, and print the suite's snapshot folder there: files are stored once for
    /// every suite and version, and layers the cache holds are not downloaded again.
    /// ZOO_OCI_OFFLINE=1 resolves tags from the cache alone.
    #[arg(long, conflicts_with_all = ["output", "force"])]
    pub cache: bool,
    /// Keep only these classes: model, scripts, notebooks, dataset, readme, license, docs (code:
    /// scripts and notebooks).
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
    /// Leave out files matching this glob (repeatable); applied after --include.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Replace a non-empty destination that zoo-oci did not create.
    #[arg(long)]
    pub force: bool,
    /// For layers that record no file list (other tools'), how many times its compressed
    /// size a layer may expand to.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_EXPANSION)]
    pub max_expansion: u64,
    /// Pull only a suite signed by this public key (PEM), checked before any layer is
    /// downloaded; the verified signature is written as DIR/model.sig, which PyPI's
    /// model_signing verifies too. Root certificates (PEM) instead of a key: the suite's
    /// signing certificate must chain to one of them (certificate mode).
    #[arg(long, value_name = "PUB.pem")]
    pub verify_key: Option<std::path::PathBuf>,
    /// The signature policy: which keys must have signed the suites of which registries and
    /// repositories, enforced, warned about or off (default: $ZOO_OCI_POLICY, else
    /// ~/.config/zoo-oci/policy.json, else /etc/zoo-oci/policy.json, if there is one).
    /// --verify-key overrides it.
    #[arg(long, value_name = "FILE", conflicts_with = "verify_key")]
    pub policy: Option<std::path::PathBuf>,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn run(global: &Global, args: PullArgs) -> Result<u8> {
    let options = PullOptions {
        source: location(&args.source)?,
        destination: args.output,
        into_cache: args.cache,
        selection: Selection {
            only: Class::parse_groups(&args.only)?,
            variants: args.variant,
            frameworks: args.framework,
            include: args.include,
            exclude: args.exclude,
        },
        force: args.force,
        max_expansion: args.max_expansion,
        resolved_from: None,
        verify_key: args.verify_key,
        policy: args.policy,
    };
    let report = ops::pull(&options, &global.context()).await?;
    // Warnings go to stderr even with -q: a layer left behind is something to know.
    for w in &report.warnings {
        eprintln!("warning: {}", super::printable(w));
    }
    match args.format {
        Format::Json => super::print_json_line(&report)?,
        Format::Text => {
            let text = || {
                if report.up_to_date {
                    format!("{} already holds {}: nothing to do", report.destination.display(), report.manifest)
                } else {
                    let cached = match report.from_cache {
                        0 => String::new(),
                        n => format!(", took {} from the cache;", count(n, "layer", "layers")),
                    };
                    format!(
                        "pulled {} ({}){cached}, {} into {}",
                        count(report.layers, "layer", "layers"),
                        human_bytes(report.bytes),
                        count(report.files, "file", "files"),
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
