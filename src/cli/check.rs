//! `zoo-oci check [DIR]`.

use std::path::PathBuf;

use crate::error::Result;
use crate::ops::{self, CheckOptions};
use crate::suite::Links;
use clap::Args;

use crate::format::count;

use super::{Format, Global, human_bytes, print_json, println_out};

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The suite folder.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Treat warnings (such as undeclared files) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Read through symbolic links: pack the files they point to (a Hugging Face cache snapshot
    /// is made of links into ../../blobs/). Without it, a link is an error.
    #[arg(long)]
    pub dereference: bool,
}

pub fn run(args: CheckArgs, global: &Global) -> Result<u8> {
    let links = if args.dereference { Links::Follow } else { Links::Refuse };
    let report = ops::check(&CheckOptions { dir: args.dir.clone(), strict: args.strict, links })?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => {
            eprint!("{}", super::printable(&report.problems.to_string()));
            match &report.suite {
                Some(s) if report.ok && !global.quiet => println_out(format!(
                    "ok: {} {}: {}, {}, {}",
                    s.name,
                    s.version,
                    count(s.layers, "layer", "layers"),
                    count(s.files as usize, "file", "files"),
                    human_bytes(s.bytes)
                ))?,
                _ if !report.ok => eprintln!(
                    "{}: {}, {}{}",
                    args.dir.display(),
                    count(report.errors as usize, "error", "errors"),
                    count(report.warnings as usize, "warning", "warnings"),
                    if args.strict && report.errors == 0 { " (--strict makes warnings errors)" } else { "" }
                ),
                _ => {}
            }
        }
    }
    Ok(if report.ok { 0 } else { 1 })
}
