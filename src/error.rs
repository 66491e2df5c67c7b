//! The library's one error type: a matchable [`ErrorKind`], a message that names the thing that
//! failed, an optional hint that says what to do next, and the underlying cause.
//!
//! Errors are rendered once, at the edge (`main.rs`), as `error:` / `caused by:` / `hint:` lines.

use std::fmt;
use std::path::Path;

/// What kind of failure an [`Error`] is; it decides the process exit code (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The command line is wrong (exit 2).
    Usage,
    /// Anything else that failed: bad input, I/O, a refused operation (exit 1).
    Failed,
    /// Credentials are missing or refused (exit 3).
    Auth,
    /// A location, tag, blob or selection does not exist (exit 4).
    NotFound,
    /// Content does not match its digest, or an archive is hostile (exit 5).
    Integrity,
}

impl ErrorKind {
    /// The process exit code for this kind (DESIGN §3).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failed => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Auth => 3,
            ErrorKind::NotFound => 4,
            ErrorKind::Integrity => 5,
        }
    }
}

type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A zoo-oci failure: what happened, to what, and (when we know) how to fix it.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    cause: Option<Cause>,
    retryable: bool,
}

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), hint: None, cause: None, retryable: false }
    }
    /// A generic failure (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    /// Something that does not exist (exit 4).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// A digest mismatch or hostile content (exit 5).
    pub fn integrity(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Integrity, message)
    }
    /// An I/O failure on `path`, phrased as "could not {action} {path}".
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            _ => ErrorKind::Failed,
        };
        let hint = match err.kind() {
            std::io::ErrorKind::StorageFull => Some("free some disk space and try again".to_string()),
            std::io::ErrorKind::PermissionDenied => Some(format!("check the permissions of {}", path.display())),
            _ => None,
        };
        Error {
            kind,
            message: format!("could not {action} {}", path.display()),
            hint,
            cause: Some(Box::new(err)),
            retryable: false,
        }
    }
    /// Adds a hint line that tells the user what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Records the underlying cause.
    pub fn with_cause(mut self, cause: impl Into<Cause>) -> Self {
        self.cause = Some(cause.into());
        self
    }
    /// Prefixes the message with context (e.g. which layer was being copied).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
    /// Marks the failure as transient (a reset connection, 429, 5xx): worth trying again.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
    /// The kind, for matching and for the exit code.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The main message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}
