//! `zoo-oci validate SOURCE`: reproduce a suite's claimed metrics in a sandbox.

use std::path::PathBuf;

use clap::Args;

use crate::error::Result;
use crate::ops::{self, ValidateOptions, ValidateSource, Verdict};

use super::{Format, Global, location, println_out};

const EXAMPLES: &str = "Examples:
  zoo-oci validate ./iris-logreg
  zoo-oci validate ghcr.io/team/squeezenet:1.1.0 --variant onnx-light --python ~/.venvs/ort/bin/python
  zoo-oci validate oci:./zoo:1.0 --time-limit 30m
  zoo-oci validate ghcr.io/team/squeezenet:1.1.0 --attach --key key.pem
Exit codes: 0 every claim reproduced; 1 a claim was not; 2 the suite declares nothing to check;
6 the script failed; 7 it ran out of time (and was killed, with all it started)";

/// Arguments of `validate`.
#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct ValidateArgs {
    /// The suite: a folder, HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// The model variant to run (default: the first in models).
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// The Python interpreter whose environment has the suite's runtime (default: python3 on
    /// PATH); a virtualenv's bin/python works, wherever it is.
    #[arg(long, value_name = "PYTHON")]
    pub python: Option<PathBuf>,
    /// Kill the script, with every process it started, after this long.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = super::parse_duration)]
    pub time_limit: std::time::Duration,
    /// The script's memory limit (address space), e.g. 8GiB or 512MiB.
    #[arg(long, value_name = "SIZE", default_value = "8GiB", value_parser = parse_size)]
    pub memory_limit: u64,
    /// Run the script without the sandbox, with your own rights: it can then reach the
    /// network, read your files and credentials, and write anywhere you can.
    #[arg(long)]
    pub unsandboxed: bool,
    /// Publish the outcome: an in-toto test-result attestation of the suite's manifest, signed
    /// with --key in a DSSE envelope, stored as a referrer of the suite (inspect shows it).
    #[arg(long, requires = "key")]
    pub attach: bool,
    /// The private key (PEM, ECDSA P-256 or P-384) that signs the attestation.
    #[arg(long, value_name = "KEY.pem", requires = "attach")]
    pub key: Option<PathBuf>,
    /// Output format of the result.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

/// `512MiB`, `8GiB`, `2G`, or bytes.
fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a size (write e.g. 8GiB or 512MiB)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (KiB, MiB, GiB)")),
    };
    number.checked_mul(scale).filter(|n| *n >= 16 << 20).ok_or_else(|| format!("{text:?}: at least 16MiB"))
}

pub async fn run(global: &Global, args: ValidateArgs) -> Result<u8> {
    let folder = PathBuf::from(&args.source);
    let source = match folder.is_dir() {
        true => ValidateSource::Folder(folder),
        false => ValidateSource::Stored(location(&args.source)?),
    };
    let mut options = ValidateOptions::new(source);
    options.variant = args.variant;
    options.python = args.python;
    options.time_limit = args.time_limit;
    options.memory_limit = args.memory_limit;
    options.unsandboxed = args.unsandboxed;
    options.attach_key = args.key;
    if options.unsandboxed {
        eprintln!("warning: --unsandboxed: the suite's script runs with your rights, network and files");
    }
    let report = ops::validate(&options, &global.context()).await?;
    match args.format {
        Format::Json => super::print_json_line(&report)?,
        Format::Text => {
            let mut lines = vec![format!(
                "{} {}: variant {}, test set {}, script {}{}",
                report.name,
                report.version,
                if report.variant.is_empty() { "-" } else { &report.variant },
                if report.dataset.is_empty() { "-" } else { &report.dataset },
                if report.script.is_empty() { "-" } else { &report.script },
                match report.ending {
                    Some(_) => format!(
                        " ({}, {:.1} s{})",
                        report.harness.python_version_line(),
                        report.seconds,
                        if report.sandboxed { ", sandboxed" } else { ", unsandboxed" }
                    ),
                    None => String::new(),
                }
            )];
            for m in &report.metrics {
                let show = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
                let outcome = match m.passed {
                    Some(true) => "reproduced".to_string(),
                    Some(false) => "NOT reproduced".to_string(),
                    None => "not claimed".to_string(),
                };
                let tolerance = m.tolerance.map(|t| format!(" ±{t}")).unwrap_or_default();
                lines.push(format!(
                    "  {:<20} claimed {:>10}{tolerance}  measured {:>10}  {outcome}",
                    m.kind,
                    show(m.claimed),
                    show(m.measured)
                ));
            }
            if let Some(attestation) = &report.attestation {
                lines.push(format!("attached the outcome: attestation {attestation}"));
            }
            for line in lines {
                println_out(line)?;
            }
            if let Some(reason) = &report.reason {
                eprintln!(
                    "{}: {reason}",
                    if report.verdict == Verdict::NothingToCheck { "nothing to check" } else { "error" }
                );
            }
            if matches!(report.verdict, Verdict::ScriptFailed | Verdict::TimedOut) && !report.output.trim().is_empty() {
                eprintln!("the script's last output:\n{}", super::printable(report.output.trim_end()));
            }
        }
    }
    Ok(report.verdict.exit_code())
}
