//! A resumable upload session (distribution spec, "Pushing a blob in chunks"), for big blobs:
//! `POST` opens the session, each chunk goes up as a `PATCH` with its `Content-Range`, and a
//! `PUT ?digest=` closes it. When a chunk fails (a reset connection, a 5xx, a stall), the session's
//! status (`GET`, its `Range` header) says how much the registry kept, and the upload continues
//! from there instead of from byte 0. None of zoo-oci's peers does this (KitOps #311 asks for it).
//!
//! Written here rather than taken from oci-client: its chunked push (0.18) hides the session, so
//! an upload that fails midway can only start over. The session speaks HTTP itself, with the
//! registry's own authentication: Basic, or a Bearer token asked of the token service its
//! challenge names.

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE, WWW_AUTHENTICATE};
use tokio::io::AsyncReadExt;

use super::BlobOpener;
use crate::artifact::manifest::Descriptor;
use crate::error::{Error, Result};
use crate::retry::backoff;

/// Blobs at least this big go up in a resumable session; smaller ones in one monolithic `PUT`.
pub const RESUMABLE_FROM: u64 = 128 << 20;
/// Bytes per `PATCH`: what a failure can cost at most, and what the upload holds in memory.
pub const CHUNK: usize = 16 << 20;
/// Failed chunks tolerated in one upload.
const MAX_FAILURES: u32 = 6;

/// Who is uploading, to where.
pub struct Session<'a> {
    /// An HTTP client set up as the store's (TLS roots, timeouts).
    pub http: &'a reqwest::Client,
    /// `http://HOST:PORT` or `https://HOST`.
    pub base: String,
    /// The repository.
    pub repository: &'a str,
    /// Basic credentials, if any.
    pub basic: Option<(&'a str, &'a str)>,
    /// A Bearer token the user gave, if any.
    pub bearer: Option<&'a str>,
}

impl Session<'_> {
    /// Uploads the blob `open` streams, resuming from the registry's offset after a failed chunk.
    pub async fn push(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        let auth = self.authorization().await?;
        let with_auth = |request: reqwest::RequestBuilder| match &auth {
            Some(value) => request.header(AUTHORIZATION, value),
            None => request,
        };
        let start = format!("{}/v2/{}/blobs/uploads/", self.base, self.repository);
        let response = with_auth(self.http.post(&start).header(CONTENT_LENGTH, 0)).send().await.map_err(http_error)?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(status_error("opening an upload session", response.status()));
        }
        let mut location = self.location(&response)?;
        let mut data = open().await?;
        // The bytes from `sent` on: a failed chunk is sent again from memory, not read again.
        let mut chunk = bytes::Bytes::new();
        let (mut sent, mut offset, mut failures) = (0u64, 0u64, 0u32);
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
            let patch = with_auth(self.http.patch(&location))
                .header(CONTENT_TYPE, "application/octet-stream")
                .header(CONTENT_RANGE, format!("{offset}-{end}"))
                .header(CONTENT_LENGTH, body.len())
                .body(body)
                .send()
                .await;
            match patch {
                Ok(r) if r.status() == StatusCode::ACCEPTED => {
                    location = self.location(&r)?;
                    offset = end + 1;
                    continue;
                }
                Ok(r) if !(r.status().is_server_error() || r.status() == StatusCode::TOO_MANY_REQUESTS) => {
                    return Err(status_error("uploading a chunk", r.status()));
                }
                // A transient failure: said in the error if it is the last one tolerated.
                failed => {
                    failures += 1;
                    if failures > MAX_FAILURES {
                        let why = match failed {
                            Ok(r) => format!("the registry answered HTTP {}", r.status()),
                            Err(e) => format!("the connection broke off: {e}"),
                        };
                        let what = format!("uploading bytes {offset}-{end} of {}: {why}", descriptor.digest);
                        return Err(Error::failed(format!("{what}; {failures} chunks failed")).retryable());
                    }
                }
            }
            tokio::time::sleep(backoff(failures)).await;
            // Where the registry stands: continue from there.
            let status = with_auth(self.http.get(&location)).send().await.map_err(http_error)?;
            if status.status() != StatusCode::NO_CONTENT {
                return Err(status_error("asking how much of the upload arrived", status.status()));
            }
            location = self.location(&status).unwrap_or(location);
            let kept = received(&status);
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
        let response = with_auth(self.http.put(&close).header(CONTENT_LENGTH, 0)).send().await.map_err(http_error)?;
        if response.status() != StatusCode::CREATED {
            return Err(status_error("closing the upload session", response.status()));
        }
        Ok(())
    }

    /// The `Authorization` value the registry wants: Basic credentials, the user's token, or a
    /// token from the service its Bearer challenge names (scope: pull and push this repository).
    async fn authorization(&self) -> Result<Option<String>> {
        use base64::Engine as _;
        if let Some(token) = self.bearer {
            return Ok(Some(format!("Bearer {token}")));
        }
        let basic = self
            .basic
            .map(|(u, p)| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))));
        let probe = self.http.get(format!("{}/v2/", self.base)).send().await.map_err(http_error)?;
        if probe.status() != StatusCode::UNAUTHORIZED {
            return Ok(basic);
        }
        let challenge = probe.headers().get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).unwrap_or_default();
        let Some(params) = challenge.strip_prefix("Bearer ").map(super::registry::challenge_params) else {
            return Ok(basic);
        };
        let realm = params
            .get("realm")
            .ok_or_else(|| Error::failed("the registry's Bearer challenge names no token service (realm)"))?;
        let mut query = vec![("scope", format!("repository:{}:pull,push", self.repository))];
        if let Some(service) = params.get("service") {
            query.push(("service", service.clone()));
        }
        let mut request = self.http.get(realm).query(&query);
        if let Some(value) = &basic {
            request = request.header(AUTHORIZATION, value);
        }
        let response = request.send().await.map_err(http_error)?;
        if !response.status().is_success() {
            return Err(Error::auth(format!("the token service {realm} answered HTTP {}", response.status())));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = response
            .json()
            .await
            .map_err(|e| Error::auth("the token service's answer is not a token").with_cause(e))?;
        let token = token.token.or(token.access_token).ok_or_else(|| Error::auth("the token service gave no token"))?;
        Ok(Some(format!("Bearer {token}")))
    }

    /// The session's next URL, from a `Location` header (absolute, or relative to the registry).
    fn location(&self, response: &reqwest::Response) -> Result<String> {
        let value = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::failed("the registry's upload answer has no Location"))?;
        Ok(if value.starts_with("http://") || value.starts_with("https://") {
            value.to_string()
        } else {
            format!("{}{value}", self.base)
        })
    }
}

/// How many bytes an upload status says arrived: its `Range: 0-N` means N + 1.
fn received(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get(RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.rsplit('-').next())
        .and_then(|n| n.trim().parse::<u64>().ok())
        .map_or(0, |last| last + 1)
}

fn http_error(e: reqwest::Error) -> Error {
    let retry = e.is_timeout() || e.is_connect() || e.is_request() || e.is_body();
    let error = Error::failed("the upload session broke off").with_cause(e);
    if retry { error.retryable() } else { error }
}

fn read_error(e: std::io::Error) -> Error {
    crate::stream::into_error(e, |e| Error::failed("could not read the blob being uploaded").with_cause(e))
}

fn status_error(doing: &str, status: StatusCode) -> Error {
    let error = Error::failed(format!("{doing}: the registry answered HTTP {status}"));
    match status.as_u16() {
        401 | 403 => Error::auth(format!("{doing}: the registry answered HTTP {status}")),
        408 | 429 | 500..=599 => error.retryable(),
        _ => error,
    }
}
