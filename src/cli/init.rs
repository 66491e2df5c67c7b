//! `zoo-oci init [DIR]`: write DIR/zoo.yaml from what DIR holds.

use std::path::PathBuf;

use crate::error::Result;
use crate::ops::{self, InitOptions};
use crate::suite::Links;
use clap::Args;

use super::{Global, println_out};

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder holding the model files.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing zoo.yaml.
    #[arg(long)]
    pub force: bool,
    /// Read through symbolic links: pack the files they point to (a Hugging Face cache snapshot
    /// is made of links into ../../blobs/). Without it, a link is an error.
    #[arg(long)]
    pub dereference: bool,
}

pub fn run(args: InitArgs, global: &Global) -> Result<u8> {
    let links = if args.dereference { Links::Follow } else { Links::Refuse };
    let report = ops::init(&InitOptions { dir: args.dir, force: args.force, links })?;
    if !global.quiet {
        for path in &report.written {
            eprintln!("wrote {}", path.display());
        }
        eprintln!("\nguessed:");
        for g in &report.guessed {
            // What model files' metadata says (a GGUF's name, a card's licence) is theirs.
            eprintln!("  {}", super::printable(g));
        }
        if !report.warnings.is_empty() {
            eprintln!("\ncould not read:");
            for w in &report.warnings {
                eprintln!("  {}", super::printable(w));
            }
        }
        eprintln!("\nto fill in:");
        for t in &report.todo {
            eprintln!("  {t}");
        }
        if report.readme_skeleton {
            eprintln!("  README.md: the skeleton's TODO sections");
        }
    }
    // Show what check thinks of the result straight away.
    if !report.problems.is_empty() {
        eprintln!("\nzoo-oci check says:");
        eprint!("{}", super::printable(&report.problems.to_string()));
    }
    println_out(report.descriptor.display())?;
    Ok(0)
}
