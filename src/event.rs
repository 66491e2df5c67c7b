//! What operations tell their caller while they run: blobs copied, skipped, retried; registries
//! waited for; where credentials came from; what a check found. Front ends render these (progress
//! bars, log lines, JSON); the library never prints.

use std::sync::Arc;
use std::time::Duration;

use crate::artifact::manifest::Descriptor;
use crate::credentials::CredentialSource;
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
    /// Packing is this far (a few times a second while it reads the suite's files to learn the
    /// layers' digests, and, for a push that uploads while it hashes, sends them).
    Hashing {
        /// Bytes of the suite's files done: read, or known from the digest cache.
        bytes: u64,
        /// Bytes of the suite's files in all.
        total: u64,
        /// Where the layers go up while they are hashed (a registry, a layout), if they do.
        uploading_to: Option<String>,
    },
    /// This layer went up while it was hashed (a one-pass upload), taking this long.
    Uploaded(Descriptor, Duration),
    /// Packing is done: every layer's digest is known.
    Hashed {
        /// The layer bytes hashed.
        bytes: u64,
        /// How long it took.
        took: Duration,
    },
    /// Something the user should know about a choice the operation made for them.
    Notice(String),
    /// What checking a suite before pushing it found.
    Checked {
        /// The problems, in the order found.
        problems: Problems,
        /// Whether they stop the push.
        blocks: bool,
    },
    /// A signature by the key given covers the suite (`pull --verify-key`), checked before any
    /// layer was downloaded.
    Verified {
        /// The signature's manifest digest.
        signature: String,
        /// How many files it covers.
        files: usize,
    },
}

/// Where events go.
pub type Events = Arc<dyn Fn(&Event) + Send + Sync>;

/// Events nobody listens to.
pub fn ignore() -> Events {
    Arc::new(|_| {})
}

impl Event {
    /// The event as the JSON object `--log-format json` prints on a line (and the Python
    /// package hands its progress callback); `None` for events with no JSON form (a check's
    /// problems, which have their own report).
    pub fn to_json(&self) -> Option<serde_json::Value> {
        use serde_json::json;
        let path = |d: &Descriptor| d.annotation(crate::artifact::media::ANN_FILEPATH).map(String::from);
        let blob = |name: &str, d: &Descriptor, seconds: Option<f64>, reason: Option<&str>| {
            json!({
                "event": name,
                "path": path(d),
                "mediaType": d.media_type,
                "digest": d.digest,
                "size": d.size,
                "seconds": seconds,
                "reason": reason,
            })
        };
        Some(match self {
            Event::Progress(d, read) => {
                json!({"event": "progress", "path": path(d), "digest": d.digest, "size": d.size, "bytes": read})
            }
            Event::Copied(d, took) => blob("copied", d, Some(took.as_secs_f64()), None),
            Event::Skipped(d) => blob("exists", d, None, None),
            Event::Mounted(d) => blob("mounted", d, None, None),
            Event::Retrying(d, why) => blob("retrying", d, None, Some(why)),
            Event::Waiting { registry, reason, retry_in } => json!({
                "event": "waiting", "registry": registry, "reason": reason, "retry_in_seconds": retry_in.as_secs_f64()
            }),
            Event::Hashing { bytes, total, uploading_to } => {
                json!({"event": "hashing", "bytes": bytes, "total": total, "uploading_to": uploading_to})
            }
            Event::Uploaded(d, took) => blob("uploaded", d, Some(took.as_secs_f64()), None),
            Event::Hashed { bytes, took } => json!({"event": "hashed", "bytes": bytes, "seconds": took.as_secs_f64()}),
            Event::Notice(message) => json!({"event": "notice", "message": message}),
            Event::Verified { signature, files } => {
                json!({"event": "verified", "signature": signature, "files": files})
            }
            Event::Credentials { .. } | Event::Checked { .. } => return None,
        })
    }
}
