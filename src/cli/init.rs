//! `zoo-oci init [DIR]`: write DIR/zoo.yaml from what DIR holds.

use std::path::PathBuf;

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::suite::{self, scan};

use super::Global;

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder holding the model files.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Replace an existing zoo.yaml.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: InitArgs, global: &Global) -> Result<u8> {
    let plan = scan::plan(&args.dir)?;
    let written = scan::write(&args.dir, &plan, args.force)?;
    if !global.quiet {
        for path in &written {
            eprintln!("wrote {}", path.display());
        }
        eprintln!("\nguessed:");
        for g in &plan.guessed {
            eprintln!("  {g}");
        }
        if !plan.warnings.is_empty() {
            eprintln!("\ncould not read:");
            for w in &plan.warnings {
                eprintln!("  {w}");
            }
        }
        eprintln!("\nto fill in:");
        for t in &plan.todo {
            eprintln!("  {t}");
        }
        if plan.readme_skeleton.is_some() {
            eprintln!("  README.md: the skeleton's TODO sections");
        }
    }
    // Show what check thinks of the result straight away.
    let checked = suite::check(&args.dir)?;
    if !checked.problems.is_empty() {
        eprintln!("\nzoo-oci check says:");
        eprint!("{}", checked.problems);
    }
    println!("{}", args.dir.join("zoo.yaml").display());
    Ok(0)
}
