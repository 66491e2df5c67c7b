//! A resumable upload session (distribution spec, "Pushing a blob in chunks"), for big blobs
//! and for registries that refuse a monolithic upload: `POST` opens the session, each chunk goes
//! up as a `PATCH` with its `Content-Range`, and a `PUT ?digest=` closes it. When a chunk fails
//! (a reset connection, a 5xx, a stall), the session's status (`GET`, its `Range` header) says
//! how much the registry kept, and the upload continues from there instead of from byte 0. None
//! of zoo-oci's peers does this (KitOps #311 asks for it).

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, RANGE};
use tokio::io::AsyncReadExt;

use super::api::Refusal;
use super::{RegistryStore, location};
use crate::artifact::manifest::Descriptor;
use crate::error::{Error, Result};
use crate::retry::backoff;
use crate::store::BlobOpener;

/// Blobs at least this big go up in a resumable session; smaller ones in one monolithic `PUT`.
pub const RESUMABLE_FROM: u64 = 128 << 20;
/// Bytes per `PATCH`: what a failure can cost at most, and what the upload holds in memory.
pub const CHUNK: usize = 16 << 20;
/// Failed chunks tolerated in one upload.
const MAX_FAILURES: u32 = 6;

/// An upload into one repository.
pub struct Session<'a> {
    /// Where to.
    pub store: &'a RegistryStore,
}

impl Session<'_> {
    /// Uploads the blob `open` streams, resuming from the registry's offset after a failed chunk.
    pub async fn push(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        let location = self.store.start_upload("opening an upload session").await?;
        self.send_from(descriptor, open, location, 0).await
    }

    /// Continues the session at `location`, which may hold a first part of the blob (a
    /// one-pass upload that broke off), from the offset the registry reports. A session that
    /// holds nothing, that the registry no longer knows, or that refuses to be continued
    /// (Distribution 2.8 checks the offset its `_state` token recorded when the URL was handed
    /// out, and answers a body it did not see end with "upload resumed at wrong offset") is
    /// cancelled as far as the registry lets us, and the blob goes up whole in a new one.
    pub async fn resume(&self, descriptor: &Descriptor, open: BlobOpener<'_>, location: String) -> Result<()> {
        let stale = match self.status(&location).await {
            Ok((next, kept)) if kept > 0 && kept <= descriptor.size => {
                match self.send_from(descriptor, open, next.clone(), kept).await {
                    // A transient failure is the copy's to try again (in a new session then).
                    Err(e) if !e.is_retryable() => next,
                    done => return done,
                }
            }
            Ok((next, _)) => next,
            Err(_) => location,
        };
        self.store.cancel_upload(&stale).await;
        self.push(descriptor, open).await
    }

    /// How much of the session at `location` the registry holds, and the session's next URL.
    async fn status(&self, location: &str) -> Result<(String, u64)> {
        let (store, api) = (self.store, &self.store.api);
        let doing = "asking how much of the upload arrived";
        let status = api.send(&store.push_scope(), doing, |http| http.get(location)).await?;
        if status.status() != StatusCode::NO_CONTENT {
            return Err(api.refusal(Refusal::read(status).await, doing));
        }
        Ok((next_location(store, &status, location), received(&status)))
    }

    /// Sends the blob from byte `from` (which the session already holds) on, in chunks.
    async fn send_from(
        &self,
        descriptor: &Descriptor,
        open: BlobOpener<'_>,
        mut location: String,
        from: u64,
    ) -> Result<()> {
        let (store, api) = (self.store, &self.store.api);
        let scope = store.push_scope();
        let mut data = open().await?;
        if from > 0 {
            tokio::io::copy(&mut (&mut data).take(from), &mut tokio::io::sink()).await.map_err(read_error)?;
        }
        // The bytes from `sent` on: a failed chunk is sent again from memory, not read again.
        let mut chunk = bytes::Bytes::new();
        let (mut sent, mut offset, mut failures) = (from, from, 0u32);
        while offset < descriptor.size {
            // `chunk` holds the bytes from `sent` on; read more when the offset has passed them.
            if offset >= sent + chunk.len() as u64 {
                sent += chunk.len() as u64;
                let want = CHUNK.min((descriptor.size - sent) as usize);
                let mut next = Vec::with_capacity(want);
                (&mut data).take(want as u64).read_to_end(&mut next).await.map_err(read_error)?;
                if next.len() < want {
                    return Err(Error::failed(format!(
                        "the blob {} ended before its {} bytes",
                        descriptor.digest, descriptor.size
                    )));
                }
                chunk = next.into();
            }
            let body = chunk.slice((offset - sent) as usize..);
            let end = offset + body.len() as u64 - 1;
            let patch = api
                .send(&scope, "uploading a chunk", |http| {
                    http.patch(&location)
                        .header(CONTENT_TYPE, "application/octet-stream")
                        .header(CONTENT_RANGE, format!("{offset}-{end}"))
                        .header(CONTENT_LENGTH, body.len())
                        .body(body.clone())
                })
                .await;
            let why = match patch {
                Ok(r) if r.status() == StatusCode::ACCEPTED => {
                    location = next_location(store, &r, &location);
                    super::sessions::moved(&location);
                    offset = end + 1;
                    continue;
                }
                Ok(r) if r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS => {
                    format!("the registry answered HTTP {}", r.status())
                }
                Ok(r) => return Err(api.refusal(Refusal::read(r).await, "uploading a chunk")),
                Err(e) if e.is_retryable() => format!("the connection broke off: {e}"),
                Err(e) => return Err(e),
            };
            // A transient failure: said in the error if it is the last one tolerated.
            failures += 1;
            if failures > MAX_FAILURES {
                let what = format!("uploading bytes {offset}-{end} of {}: {why}", descriptor.digest);
                return Err(Error::failed(format!("{what}; {failures} chunks failed")).retryable());
            }
            tokio::time::sleep(backoff(failures)).await;
            // Where the registry stands: continue from there.
            let kept;
            (location, kept) = self.status(&location).await?;
            if kept < sent || kept > sent + chunk.len() as u64 {
                // Outside the bytes held in memory: read the blob again up to there.
                data = open().await?;
                tokio::io::copy(&mut (&mut data).take(kept), &mut tokio::io::sink()).await.map_err(read_error)?;
                (sent, offset) = (kept, kept);
                chunk = bytes::Bytes::new();
            } else {
                offset = kept;
            }
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let close = format!("{location}{separator}digest={}", descriptor.digest);
        let doing = "closing the upload session";
        let response = api.send(&scope, doing, |http| http.put(&close).header(CONTENT_LENGTH, 0)).await?;
        if response.status() != StatusCode::CREATED {
            return Err(api.refusal(Refusal::read(response).await, doing));
        }
        super::sessions::closed(&location);
        Ok(())
    }
}

/// The session's next URL: the answer's `Location`, else the one in use.
fn next_location(store: &RegistryStore, response: &reqwest::Response, current: &str) -> String {
    location(response).map_or_else(|| current.to_string(), |l| store.api.url(&l))
}

/// How many bytes an upload status says arrived: its `Range: 0-N` means N + 1.
fn received(response: &reqwest::Response) -> u64 {
    received_of(response.headers().get(RANGE).and_then(|v| v.to_str().ok()))
}

/// The bytes a session's `Range` header says it holds. `0-0` is what Distribution 2.8 answers
/// for an empty session (its `0-(size-1)` floored at 0), so it counts as nothing: taken for one
/// byte it made the upload skip the blob's first byte, and the registry, which does not check a
/// `PATCH`'s `Content-Range`, stored the rest as if it were the whole (`DIGEST_INVALID` at the
/// close). A session that really held one byte is caught by that digest check. Others say
/// `0--1` (the last byte signed) or send no header.
fn received_of(range: Option<&str>) -> u64 {
    range
        .and_then(|r| r.trim().trim_start_matches("bytes=").split_once('-'))
        .and_then(|(_, last)| last.trim().parse::<i64>().ok())
        .map_or(0, |last| if last <= 0 { 0 } else { (last + 1) as u64 })
}

fn read_error(e: std::io::Error) -> Error {
    crate::stream::into_error(e, |e| Error::failed("could not read the blob being uploaded").with_cause(e))
}

#[cfg(test)]
mod tests {
    use super::received_of;

    #[test]
    fn an_empty_session_holds_nothing_however_the_registry_says_it() {
        assert_eq!(received_of(Some("0-0")), 0, "Distribution 2.8's empty session");
        assert_eq!(received_of(Some("0--1")), 0);
        assert_eq!(received_of(None), 0);
        assert_eq!(received_of(Some("0-4")), 5);
        assert_eq!(received_of(Some("bytes=0-16777215")), 16 << 20);
    }
}
