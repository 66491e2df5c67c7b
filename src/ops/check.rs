//! `check`: validate a suite folder without packing it.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::suite::problems::Problems;
use crate::suite::{self, EntryKind, Links, Suite};

/// What to check.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckOptions {
    /// The suite folder.
    pub dir: PathBuf,
    /// Warnings (such as undeclared files) count as errors.
    pub strict: bool,
    /// Symbolic links: refused, or read through (`--dereference`).
    pub links: Links,
}

impl CheckOptions {
    /// Checks `dir` with the defaults: warnings allowed, links refused.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CheckOptions { dir: dir.into(), strict: false, links: Links::default() }
    }
}

/// What a check found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// Nothing blocks a push.
    pub ok: bool,
    /// Errors found.
    pub errors: usize,
    /// Warnings found.
    pub warnings: usize,
    /// Every problem, in the order found.
    pub problems: Problems,
    /// What would be pushed, when the suite could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteSummary>,
}

/// The size of a readable suite.
#[derive(Debug, Clone, Serialize)]
pub struct SuiteSummary {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Layers it packs into.
    pub layers: usize,
    /// Files it ships.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl SuiteSummary {
    fn of(suite: &Suite) -> Self {
        let (files, bytes) =
            suite.layers.iter().flat_map(|l| l.content.files()).fold((0u64, 0u64), |(n, b), e| match e.kind {
                EntryKind::File { size, .. } => (n + 1, b + size),
                EntryKind::Dir => (n, b),
            });
        SuiteSummary {
            name: suite.spec.name.clone(),
            version: suite.spec.version.clone(),
            layers: suite.layers.len(),
            files,
            bytes,
        }
    }
}

/// Checks a suite folder: the descriptor against its schema, every declared path, undeclared
/// files, what model files contradict.
///
/// ```no_run
/// use zoo_oci::ops::{self, CheckOptions};
/// let options = CheckOptions::new("examples/iris-logreg");
/// let report = ops::check(&options)?;
/// assert!(report.ok, "{:?}", report.problems);
/// # Ok::<(), zoo_oci::Error>(())
/// ```
pub fn check(options: &CheckOptions) -> Result<CheckReport> {
    let checked = suite::check(&options.dir, options.links)?;
    let ok = !checked.problems.blocks(options.strict);
    Ok(CheckReport {
        ok,
        errors: checked.problems.error_count(),
        warnings: checked.problems.warning_count(),
        suite: checked.suite.as_ref().map(SuiteSummary::of),
        problems: checked.problems,
    })
}
