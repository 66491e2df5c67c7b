//! `zoo-oci copy SOURCE TARGET`.

use crate::error::{Error, Result};
use crate::ops::{self, CopyOptions};
use clap::Args;

use crate::format::count;

use super::{Global, location, println_out, say};

/// Arguments of `copy`.
/// What `zoo-oci copy --help` ends with.
const EXAMPLES: &str = "Examples:
  zoo-oci copy oci:./zoo:1.1.0 ghcr.io/team/squeezenet:1.1.0
  zoo-oci copy ghcr.io/team/squeezenet:1.1.0 oci:./mirror -r          # with signatures and SBOMs
  zoo-oci copy localhost:5000/zoo/squeezenet:1 registry.internal/zoo/squeezenet --from-plain-http
  zoo-oci copy ghcr.io/team/squeezenet:1.1.0 ghcr.io/team/squeezenet-image:1.1.0 --as-image --only model";

#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct CopyArgs {
    /// What to copy: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
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
    /// Write a standard OCI image of the suite's files (layers of the files under --prefix), which
    /// Kubernetes mounts as an image volume, instead of copying the artifact as it is.
    #[arg(long)]
    pub as_image: bool,
    /// With --as-image: the folder the files go under in the image.
    #[arg(long, default_value = "/models", requires = "as_image")]
    pub prefix: String,
    /// With --as-image: keep only these classes (model, scripts, notebooks, dataset, readme,
    /// license, docs; code: scripts and notebooks).
    #[arg(long, value_name = "CLASS", value_delimiter = ',', requires = "as_image")]
    pub only: Vec<String>,
    /// With --as-image: keep only these model variants.
    #[arg(long, value_name = "NAME", value_delimiter = ',', requires = "as_image")]
    pub variant: Vec<String>,
    /// With --as-image: put the files on top of this image (its layers, Env, Cmd kept), e.g. one
    /// with a shell for KServe's modelcar. Read with the target's registry flags.
    #[arg(long, value_name = "REF", requires = "as_image")]
    pub base: Option<String>,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn run(global: &Global, args: CopyArgs) -> Result<u8> {
    // `copy ./suite oci:./zoo`: a suite folder is pushed, not copied.
    if crate::reference::is_suite_folder(std::path::Path::new(&args.source)) {
        return Err(Error::usage(format!("{} is a suite folder: copy copies a pushed suite", args.source))
            .with_hint(super::command_line(&["zoo-oci", "push", &args.source, &args.target])));
    }
    let options = CopyOptions {
        source: location(&args.source)?,
        destination: location(&args.target)?,
        source_plain_http: args.from_plain_http,
        destination_plain_http: args.to_plain_http,
        referrers: args.referrers,
        as_image: args
            .as_image
            .then(|| {
                Ok::<_, crate::Error>(ops::AsImage {
                    prefix: args.prefix.clone(),
                    selection: crate::pull::Selection {
                        only: crate::suite::Class::parse_groups(&args.only)?,
                        variants: args.variant.clone(),
                        ..Default::default()
                    },
                    base: args.base.as_deref().map(location).transpose()?,
                })
            })
            .transpose()?,
    };
    let report = ops::copy(&options, &global.context()).await?;
    let t = &report.transferred;
    let text = || {
        format!(
            "copied {} to {}: {} copied, {} mounted, {} already there",
            report.from,
            report.to,
            count(t.copied as usize, "blob", "blobs"),
            t.mounted,
            t.skipped
        )
    };
    let mut event = serde_json::to_value(&report).expect("reports serialise");
    event["event"] = "copied".into();
    say(global, text, event);
    println_out(&report.digest)?;
    Ok(0)
}
