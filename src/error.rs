//! The library's one error type: a matchable [`ErrorKind`] (with the precise integrity or
//! transport failure as data), the side of a copy it happened on, a message that names the thing
//! that failed, an optional hint that says what to do next, and the underlying cause.
//!
//! Errors are rendered once, at the edge (`main.rs`), as `error:` / `caused by:` / `hint:` lines.
//! Nothing in the library decides what an error is by reading its text.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

/// What kind of failure an [`Error`] is; it decides the process exit code (DESIGN §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The command line or an argument is wrong (exit 2).
    Usage,
    /// Anything else that failed: bad input, I/O, a refused operation (exit 1).
    Failed,
    /// Credentials are missing or refused, or the user may not do this (exit 3).
    Auth,
    /// A location, tag, blob or selection does not exist (exit 4).
    NotFound,
    /// Content does not match its digest, or an archive is hostile (exit 5).
    Integrity(IntegrityFailure),
    /// The registry could not be talked to (exit 1).
    Transport(TransportFailure),
}

/// How content failed its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IntegrityFailure {
    /// Bytes whose size or sha256 is not the one recorded for them.
    DigestMismatch,
    /// A layer that expands past the bound set for it (a decompression bomb, or a bound too low).
    ExpansionBound,
    /// An archive entry that may not be written: a path leaving the folder, a link, a device, a
    /// file twice, a file not listed, a file past its recorded size.
    HostileEntry,
    /// Bytes that are not what they claim to be: invalid JSON, not a tar, not zstd, a bad digest.
    Malformed,
    /// A signature that does not verify with the key given, or that covers other content.
    Signature,
}

/// How talking to a registry failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportFailure {
    /// We spoke TLS; the server answered something else (plain HTTP, most likely).
    NotTls,
    /// We spoke plain HTTP; the server did not answer it (it speaks TLS, most likely).
    NotPlainHttp,
    /// The server's certificate is not trusted.
    UntrustedCertificate,
    /// The server wants a client certificate (mutual TLS) and got none it trusts.
    ClientCertificate,
    /// Nothing listens at the address.
    Refused,
    /// No answer in time.
    Timeout,
    /// The host name does not resolve.
    NameResolution,
    /// The connection broke off mid-way.
    Reset,
    /// Any other connection failure.
    Other,
    /// No connection opened in time (`--timeout`): unlike [`Timeout`](Self::Timeout), nothing
    /// was ever said, so the registry could not be reached.
    ConnectTimeout,
}

/// An error and its causes, outermost first, looking inside an `io::Error` too: libraries
/// that report through `io::Error` (rustls, a stream carrying our error) keep the real error
/// there, out of `source()`'s reach.
pub fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
        Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
        None => e.source(),
    })
}

/// The texts of an error's causes (not of the error itself), outermost first, each once: an
/// `io::Error` wrapping another says what the other says, and is not repeated.
pub fn cause_texts(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut texts: Vec<String> = Vec::new();
    let mut previous = e.to_string();
    for cause in causes(e).skip(1) {
        let text = cause.to_string();
        if text != previous {
            texts.push(text.clone());
        }
        previous = text;
    }
    texts
}

/// An error and its causes on one line, `outer: inner: innermost`, for an event or a log.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    std::iter::once(e.to_string()).chain(cause_texts(e)).collect::<Vec<_>>().join(": ")
}

/// Which end of a copy an error happened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// Where content is read from.
    Source,
    /// Where content is written to.
    Destination,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Destination => "destination",
        })
    }
}

impl ErrorKind {
    /// The process exit code for this kind (DESIGN §3).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failed | ErrorKind::Transport(_) => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Auth => 3,
            ErrorKind::NotFound => 4,
            ErrorKind::Integrity(_) => 5,
        }
    }

    /// Whether this is an integrity failure of any sort.
    pub fn is_integrity(self) -> bool {
        matches!(self, ErrorKind::Integrity(_))
    }
}

type Cause = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// A zoo-oci failure: what happened, to what, and (when we know) how to fix it.
///
/// Cloning is cheap (the cause is shared): a copy that waits for a blob another branch of the
/// graph is copying gets that branch's error.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    cause: Option<Cause>,
    retryable: bool,
    side: Option<(Side, String)>,
}

/// Shorthand for results of this library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), hint: None, cause: None, retryable: false, side: None }
    }
    /// A generic failure (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failed, message)
    }
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    /// Missing or refused credentials (exit 3).
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }
    /// Something that does not exist (exit 4).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    /// Content that failed its checks (exit 5).
    pub fn integrity(failure: IntegrityFailure, message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Integrity(failure), message)
    }
    /// Bytes that are not what they claim to be (exit 5).
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::integrity(IntegrityFailure::Malformed, message)
    }
    /// A registry that could not be talked to (exit 1). Refusals, time-outs and resets are
    /// worth another try; the rest are not.
    pub fn transport(failure: TransportFailure, message: impl Into<String>) -> Self {
        let retryable = matches!(
            failure,
            TransportFailure::Refused
                | TransportFailure::Timeout
                | TransportFailure::ConnectTimeout
                | TransportFailure::Reset
                | TransportFailure::Other
        );
        Error { retryable, ..Self::new(ErrorKind::Transport(failure), message) }
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
        Error { hint, cause: Some(Arc::new(err)), ..Self::new(kind, format!("could not {action} {}", path.display())) }
    }
    /// Adds a hint line that tells the user what to do.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    /// Records the underlying cause.
    pub fn with_cause(mut self, cause: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        self.cause = Some(Arc::from(cause.into()));
        self
    }
    /// Prefixes the message with context (e.g. which layer was being copied).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
    /// Records the side of a copy the error happened on, and the store's name there. The first
    /// side recorded stays: it is where the error began.
    pub fn on(mut self, side: Side, store: impl Into<String>) -> Self {
        if self.side.is_none() {
            self.side = Some((side, store.into()));
        }
        self
    }
    /// Marks the failure as transient (a reset connection, 429, 5xx): worth trying again.
    pub fn retryable(mut self) -> Self {
        self.retryable = true;
        self
    }
    /// Marks the failure as transient when `transient` holds.
    pub fn retryable_if(mut self, transient: bool) -> Self {
        self.retryable |= transient;
        self
    }
    /// The same error, not to be tried again whatever its kind.
    pub fn permanent(mut self) -> Self {
        self.retryable = false;
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
    /// The side of a copy it happened on, if it happened in one.
    pub fn side(&self) -> Option<Side> {
        self.side.as_ref().map(|(side, _)| *side)
    }
    /// The main message, without the side.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The hint, if any.
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    /// Whether the failure was a write to a reader that went away (`zoo-oci … | head`): not a
    /// failure for a command-line program.
    pub fn is_broken_pipe(&self) -> bool {
        self.cause
            .as_deref()
            .and_then(|c| c.downcast_ref::<std::io::Error>())
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((side, store)) = &self.side {
            write!(f, "{side} {store}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_side_recorded_stays_and_is_shown_once() {
        let e = Error::not_found("tag 1.0 not found").on(Side::Source, "oci:./zoo").on(Side::Destination, "x");
        assert_eq!(e.side(), Some(Side::Source));
        assert_eq!(e.to_string(), "source oci:./zoo: tag 1.0 not found");
        assert_eq!(e.message(), "tag 1.0 not found");
    }

    #[test]
    fn exit_codes_follow_the_kind() {
        assert_eq!(Error::malformed("x").kind().exit_code(), 5);
        assert_eq!(Error::transport(TransportFailure::Refused, "x").kind().exit_code(), 1);
        assert!(Error::transport(TransportFailure::Refused, "x").is_retryable());
        assert!(!Error::transport(TransportFailure::NameResolution, "x").is_retryable());
        assert!(!Error::transport(TransportFailure::UntrustedCertificate, "x").is_retryable());
    }

    #[test]
    fn a_broken_pipe_is_recognised_by_its_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "closed");
        assert!(Error::failed("write").with_cause(io).is_broken_pipe());
        assert!(!Error::failed("write").is_broken_pipe());
    }
}
