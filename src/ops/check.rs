//! `check`: validate a suite folder without packing it.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;
use crate::suite::problems::Problems;
use crate::suite::{self, EntryKind, Suite};

/// What to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The suite folder.
    pub dir: PathBuf,
    /// Warnings (such as undeclared files) count as errors.
    pub strict: bool,
}

/// What a check found.
#[derive(Debug, Clone, Serialize)]
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
/// let report = zoo_oci::ops::check(&zoo_oci::ops::CheckOptions { dir: "examples/iris-logreg".into(), strict: false })?;
/// assert!(report.ok, "{:?}", report.problems);
/// # Ok::<(), zoo_oci::Error>(())
/// ```
pub fn check(options: &CheckOptions) -> Result<CheckReport> {
    let checked = suite::check(&options.dir)?;
    let ok = !checked.problems.blocks(options.strict);
    Ok(CheckReport {
        ok,
        errors: checked.problems.error_count(),
        warnings: checked.problems.warning_count(),
        suite: checked.suite.as_ref().map(SuiteSummary::of),
        problems: checked.problems,
    })
}
