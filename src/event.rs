//! What operations tell their caller while they run: blobs copied, skipped, retried; registries
//! waited for; where credentials came from; what a check found. Front ends render these (progress
//! bars, log lines, JSON); the library never prints.

use std::sync::Arc;
use std::time::Duration;

use crate::artifact::manifest::Descriptor;
use crate::credentials::Source as CredentialSource;
use crate::suite::problems::Problems;

/// One thing that happened.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Event {
    /// The destination had this blob or manifest.
    Skipped(Descriptor),
    /// The destination mounted it from the source's repository: no bytes moved.
    Mounted(Descriptor),
    /// A transient failure; it is being tried again.
    Retrying(Descriptor, String),
    /// Bytes of it read so far (a few times a second while it is copied).
    Progress(Descriptor, u64),
    /// It was copied, in this time.
    Copied(Descriptor, Duration),
    /// A registry could not be reached yet; the next try is in `retry_in`.
    Waiting {
        /// `HOST[:PORT]`.
        registry: String,
        /// Why it could not be reached.
        reason: String,
        /// Time until the next try.
        retry_in: Duration,
    },
    /// Where the credentials for a registry came from (never the secret).
    Credentials {
        /// `HOST[:PORT]`.
        registry: String,
        /// Their source.
        source: CredentialSource,
    },
    /// Packing has hashed this many layer bytes so far (a few times a second while it reads
    /// the suite's files to learn the layers' digests).
    Hashing(u64),
    /// Packing is done: every layer's digest is known.
    Hashed {
        /// The layer bytes hashed.
        bytes: u64,
        /// How long it took.
        took: Duration,
    },
    /// What checking a suite before pushing it found.
    Checked {
        /// The problems, in the order found.
        problems: Problems,
        /// Whether they stop the push.
        blocks: bool,
    },
}

/// Where events go.
pub type Events = Arc<dyn Fn(&Event) + Send + Sync>;

/// Events nobody listens to.
pub fn ignore() -> Events {
    Arc::new(|_| {})
}
