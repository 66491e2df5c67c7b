//! `zoo-oci push DIR TARGET`.

use std::path::PathBuf;

use crate::artifact::archive::Compression;
use crate::artifact::media::Names;
use crate::error::Result;
use crate::ops::{self, Created, PushOptions};
use crate::suite::Links;
use clap::Args;

use crate::format::count;

use super::{Format, Global, human_bytes, location, println_out, say};

/// Arguments of `push`.
/// What `zoo-oci push --help` ends with.
const EXAMPLES: &str = "Examples:
  zoo-oci push ./squeezenet oci:./zoo                       # the tag is the suite's version
  zoo-oci push ./squeezenet ghcr.io/team/squeezenet:1.1.0
  zoo-oci push ./squeezenet localhost:5000/zoo/squeezenet --plain-http --strict";

#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct PushArgs {
    /// The suite folder (holding zoo.yaml).
    pub dir: PathBuf,
    /// Where to push: HOST[:PORT]/REPO[:TAG] or oci:PATH[:TAG]. Without a tag, the suite's version
    /// is the tag.
    pub target: String,
    /// Refuse to push when the check finds warnings (such as undeclared files).
    #[arg(long)]
    pub strict: bool,
    /// none (default): plain tar, which every ModelPack reader extracts (modctl and kit read
    /// no zstd); zstd: smaller code, dataset and doc layers, for zoo-oci and other zstd readers.
    #[arg(long, value_enum, default_value_t = CompressionArg::None)]
    pub compression: CompressionArg,
    /// Record a creation time: RFC 3339, or `now`. Default: none, or SOURCE_DATE_EPOCH when set,
    /// so the same suite always gives the same digest.
    #[arg(long, value_name = "TIME", num_args = 0..=1, default_missing_value = "now")]
    pub created: Option<String>,
    /// Move the tag even when it holds another suite.
    #[arg(long)]
    pub force: bool,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Read through symbolic links: pack the files they point to (a Hugging Face cache snapshot
    /// is made of links into ../../blobs/). Without it, a link is an error.
    #[arg(long)]
    pub dereference: bool,
    /// Read every file again instead of trusting the digests remembered from the last push of
    /// unchanged files (the cache in $ZOO_OCI_CACHE or ~/.cache/zoo-oci/digests).
    #[arg(long)]
    pub no_cache: bool,
    /// Sign the suite once pushed, with this private key (PEM, ECDSA P-256 or P-384): an
    /// OpenSSF Model Signing signature stored as a referrer, as `zoo-oci sign` stores it.
    #[arg(long, value_name = "KEY.pem")]
    pub sign_key: Option<std::path::PathBuf>,
    /// Certificate mode of --sign-key: the key's signing certificate (PEM).
    #[arg(long, value_name = "CERT.pem", requires = "sign_key")]
    pub sign_certificate: Option<std::path::PathBuf>,
    /// Certificate mode of --sign-key: the certificates that issued the signing certificate.
    #[arg(long, value_name = "CHAIN.pem", requires = "sign_certificate")]
    pub sign_certificate_chain: Option<std::path::PathBuf>,
    /// The media type and annotation names to write. auto (default): ModelPack's
    /// (application/vnd.cncf.model.*), unless the registry is a released Harbor (2.13-2.15),
    /// which shows models only under model-spec 0.0.5's (application/vnd.cnai.model.*); then
    /// those, and push says so. Every ModelPack reader, zoo-oci included, reads both.
    #[arg(long, value_enum, default_value_t = NamesArg::Auto)]
    pub names: NamesArg,
    /// The same as --names legacy: model-spec 0.0.5's names, which released Harbor shows as models.
    #[arg(long, conflicts_with = "names")]
    pub legacy_names: bool,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

/// Which names a push writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NamesArg {
    /// ModelPack's, or the legacy ones for a released Harbor.
    Auto,
    /// ModelPack's: application/vnd.cncf.model.*, org.cncf.model.*.
    Modelpack,
    /// model-spec 0.0.5's: application/vnd.cnai.model.*, org.cnai.model.*.
    Legacy,
}

/// Layer compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CompressionArg {
    /// Plain tar everywhere.
    None,
    /// zstd for code, datasets and docs.
    Zstd,
}

pub async fn run(global: &Global, args: PushArgs) -> Result<u8> {
    let dir = args.dir.to_string_lossy();
    super::refuse_swapped("push", "the suite folder first, then the target", &dir, &args.target)?;
    let options = PushOptions {
        dir: args.dir,
        destination: location(&args.target)?,
        strict: args.strict,
        compression: match args.compression {
            CompressionArg::Zstd => Compression::Zstd,
            CompressionArg::None => Compression::None,
        },
        created: match args.created {
            None => Created::FromEnvironment,
            Some(t) if t == "now" => Created::Now,
            Some(t) => Created::At(t),
        },
        force: args.force,
        links: if args.dereference { Links::Follow } else { Links::Refuse },
        digest_cache: !args.no_cache,
        names: match (args.legacy_names, args.names) {
            (true, _) | (_, NamesArg::Legacy) => Some(Names::Legacy),
            (_, NamesArg::Modelpack) => Some(Names::ModelPack),
            (_, NamesArg::Auto) => None,
        },
        sign_key: args.sign_key,
        sign_certificate: args.sign_certificate,
        sign_certificate_chain: args.sign_certificate_chain,
    };
    let report = ops::push(&options, &global.context()).await?;
    match args.format {
        Format::Json => super::print_json_line(&report)?,
        Format::Text => {
            let text = || {
                let signed: String = [
                    report.signature.as_ref().map(|s| format!("; signed: {s}")),
                    report.carried_signature.as_ref().map(|s| format!("; model.sig stored as signature {s}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                format!(
                    "pushed {} {} to {}: {} uploaded ({}), {} mounted, {} already there{signed}",
                    report.name,
                    report.version,
                    report.location,
                    count(report.uploaded as usize, "blob", "blobs"),
                    human_bytes(report.uploaded_bytes),
                    report.mounted,
                    report.skipped
                )
            };
            let mut event = serde_json::to_value(&report).expect("reports serialise");
            event["event"] = "pushed".into();
            say(global, text, event);
            println_out(&report.digest)?;
        }
    }
    Ok(0)
}
