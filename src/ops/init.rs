//! `init`: write a folder's `zoo.yaml` from what it holds.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::suite::problems::Problems;
use crate::suite::{self, Links, scan};

/// Where to write a descriptor.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct InitOptions {
    /// The folder holding the model files.
    pub dir: PathBuf,
    /// Replace an existing `zoo.yaml`.
    pub force: bool,
    /// Symbolic links in the folder: refused, or read through (`--dereference`; a Hugging Face
    /// cache snapshot is made of links).
    pub links: Links,
}

impl InitOptions {
    /// Writes a `zoo.yaml` into `dir`, refusing to replace one.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        InitOptions { dir: dir.into(), force: false, links: Links::default() }
    }
}

/// What `init` wrote and what is left for the author.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct InitReport {
    /// The descriptor written.
    pub descriptor: PathBuf,
    /// Every file written (the descriptor, a README skeleton).
    pub written: Vec<PathBuf>,
    /// What was guessed, for the author to confirm.
    pub guessed: Vec<String>,
    /// Files that could not be read.
    pub warnings: Vec<String>,
    /// Fields left for the author to fill in.
    pub todo: Vec<String>,
    /// A README skeleton was written (its TODO sections are to fill in).
    pub readme_skeleton: bool,
    /// What `check` says of the result.
    pub problems: Problems,
}

/// Scans a folder and writes its `zoo.yaml` (and a README skeleton when there is no README).
///
/// ```no_run
/// use zoo_oci::ops::{self, InitOptions};
/// let report = ops::init(&InitOptions::new("my-model"))?;
/// println!("wrote {}; still to do: {:?}", report.descriptor.display(), report.todo);
/// # Ok::<(), zoo_oci::Error>(())
/// ```
pub fn init(options: &InitOptions) -> Result<InitReport> {
    let plan = scan::plan(&options.dir, options.links)?;
    let written = scan::write(&options.dir, &plan, options.force)?;
    let checked = suite::check(&options.dir, options.links)?;
    Ok(InitReport {
        descriptor: options.dir.join("zoo.yaml"),
        written,
        guessed: plan.guessed,
        warnings: plan.warnings,
        todo: plan.todo,
        readme_skeleton: plan.readme_skeleton.is_some(),
        problems: checked.problems,
    })
}
