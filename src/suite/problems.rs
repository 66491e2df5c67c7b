//! What `check` finds: every problem at once, each naming where it is and how to fix it.

use std::fmt;

use serde::Serialize;

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops `push`.
    Error,
    /// Reported; an error under `--strict`.
    Warning,
}

/// One finding about a suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Where: `zoo.yaml: models[0].path`, `zoo.yaml` with a line, or a file of the suite.
    pub at: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The findings of one check, in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Problems(Vec<Problem>);

impl Problems {
    /// Records an error.
    pub fn error(&mut self, at: impl Into<String>, message: impl Into<String>, hint: Option<String>) {
        self.0.push(Problem { severity: Severity::Error, at: at.into(), message: message.into(), hint });
    }
    /// Records a warning.
    pub fn warning(&mut self, at: impl Into<String>, message: impl Into<String>, hint: Option<String>) {
        self.0.push(Problem { severity: Severity::Warning, at: at.into(), message: message.into(), hint });
    }
    /// Whether an error was already recorded at `at` (so later checks don't repeat it).
    pub fn has_error_at(&self, at: &str) -> bool {
        self.0.iter().any(|p| p.severity == Severity::Error && p.at == at)
    }
    /// All findings.
    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.0.iter()
    }
    /// How many errors.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|p| p.severity == Severity::Error).count()
    }
    /// How many warnings.
    pub fn warning_count(&self) -> usize {
        self.0.iter().filter(|p| p.severity == Severity::Warning).count()
    }
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Whether these findings stop a push: any error, or any warning when `strict`.
    pub fn blocks(&self, strict: bool) -> bool {
        self.error_count() > 0 || (strict && self.warning_count() > 0)
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            let label = match p.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            writeln!(f, "{label}: {}: {}", p.at, p.message)?;
            if let Some(h) = &p.hint {
                writeln!(f, "  hint: {h}")?;
            }
        }
        Ok(())
    }
}
