//! The registry target: a repository in an OCI registry, spoken to over the distribution API
//! ([`api`], our own HTTP client with our own TLS, [`tls`]).
//!
//! Blobs stream from disk in one monolithic upload (`POST`, then one `PUT ?digest=` with the
//! body); a registry that refuses it, and every blob from 128 MiB, gets a resumable chunked
//! session (`upload`). Manifests go up as the exact bytes we hold. Errors are mapped to the
//! library's kinds (authentication → exit 3, not found → 4) with hints, and transient ones are
//! marked retryable for `copy` to try again.

pub mod api;
pub mod sessions;
mod spool;
pub mod tls;
mod upload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, RANGE};
use tokio_util::io::{ReaderStream, StreamReader};

use self::api::{Api, Refusal, TokenScope, next_page, read_limited};
use super::{BlobOpener, BlobReader, MountOrigin, Mounter, RangedFetch, Referrers, Sink, Source, Store, Tagger};
use crate::artifact::manifest::{self, Descriptor, ImageIndex, is_manifest_type};
use crate::artifact::media;
use crate::credentials::{self, Credential, Lookup};
use crate::digest;
use crate::error::{Error, ErrorKind, IntegrityFailure, Result, TransportFailure};
use crate::reference::Reference;

const ACCEPTED_MANIFESTS: [&str; 4] =
    [media::OCI_MANIFEST, media::OCI_INDEX, media::DOCKER_MANIFEST, media::DOCKER_MANIFEST_LIST];

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct Transport {
    /// Speak plain HTTP (the user named the registry as one).
    pub plain_http: bool,
    /// PEM files of extra CAs to trust, besides the system's (`--ca-file`).
    pub ca_files: Vec<PathBuf>,
    /// A client certificate (PEM) to present to registries that ask for one (`--cert-file`).
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM, `--key-file`).
    pub client_key: Option<PathBuf>,
    /// Where to find credentials.
    pub credentials: Lookup,
    /// How long to keep trying to reach a registry that is not up yet, and to retry a transfer
    /// after its first failure.
    pub retry_timeout: Duration,
    /// How long to keep trying a registry that refuses connections, as one that is not up yet
    /// does. Zero unless asked for (`--retry-timeout` given): like docker and oras, a refused
    /// connection fails at once by default, since it is far more often a wrong port than a
    /// registry starting.
    pub wait_for_registry: Duration,
    /// How long a connection may take to open, and stay silent once open (`--timeout`).
    pub idle_timeout: Duration,
    /// Folders laid out as docker's and podman's `certs.d` (`HOST[:PORT]/ca.crt`, `*.crt`,
    /// `client.cert` + `client.key`): what is there is used for that registry.
    pub certs_dirs: Vec<PathBuf>,
    /// Verify no certificate at all (`--insecure`): for a throwaway test registry only.
    pub insecure: bool,
    /// The mirrors reads go through first ([`crate::store::mirrors`]).
    pub mirrors: crate::store::mirrors::Mirrors,
}

/// The page size asked of paged lists (catalogue, tags): Distribution's largest by default
/// (its `catalog.maxentries`), so that 3,000 repositories are three requests.
const LIST_PAGE: usize = 1000;

/// Where docker and podman look for a registry's CAs.
pub const SYSTEM_CERTS_DIRS: [&str; 2] = ["/etc/docker/certs.d", "/etc/containers/certs.d"];

impl Default for Transport {
    fn default() -> Self {
        Transport {
            plain_http: false,
            ca_files: Vec::new(),
            client_cert: None,
            client_key: None,
            credentials: Lookup::default(),
            retry_timeout: Duration::from_secs(60),
            wait_for_registry: Duration::ZERO,
            idle_timeout: crate::retry::DEFAULT_IDLE_TIMEOUT,
            certs_dirs: SYSTEM_CERTS_DIRS.iter().map(PathBuf::from).collect(),
            insecure: false,
            mirrors: Default::default(),
        }
    }
}

/// A repository in a registry.
pub struct RegistryStore {
    api: std::sync::Arc<Api>,
    repository: String,
    credential_source: credentials::CredentialSource,
    /// Manifests read while resolving, so copy does not fetch them twice.
    manifests: Mutex<HashMap<String, Vec<u8>>>,
    /// Whether the registry lists referrers itself (it answered a manifest PUT with
    /// `OCI-Subject`), so the referrers tag schema is not needed.
    lists_referrers: std::sync::atomic::AtomicBool,
    /// Upload sessions of one-pass uploads that broke off, by the blob's digest: the upload
    /// after packing continues them from the registry's offset instead of starting over.
    broken_sessions: spool::BrokenSessions,
}

impl RegistryStore {
    /// Connects to `registry/repository` with the configured credentials, authenticating for
    /// `push` or pull first so that bad credentials fail before any transfer. A transient failure
    /// (a timeout, a reset, a 5xx) is tried again for `transport.retry_timeout`, with backoff; a
    /// refused connection only for `transport.wait_for_registry` (a registry not up yet), else
    /// it fails at once. `on_wait` hears about each failed attempt and the time before the next.
    pub async fn connect_waiting(
        registry: &str,
        repository: &str,
        transport: &Transport,
        push: bool,
        on_wait: &(dyn Fn(&Error, Duration) + Sync),
    ) -> Result<Self> {
        let (credential, source) = credentials::find(registry, &transport.credentials)?;
        let started = tokio::time::Instant::now();
        let policy = crate::retry::Policy::Until(started + transport.retry_timeout.max(transport.wait_for_registry));
        let connect = |_| async {
            let refused_for_good = || started.elapsed() >= transport.wait_for_registry;
            Self::connect_with(registry, repository, transport, credential.clone(), push).await.map_err(|e| {
                let refused = e.kind() == ErrorKind::Transport(TransportFailure::Refused);
                if !refused || !refused_for_good() {
                    e
                } else if transport.wait_for_registry.is_zero() {
                    e.permanent().with_hint(
                        "is the registry running and listening on that address? To wait for one that is starting, \
                         pass --retry-timeout (e.g. 2m)",
                    )
                } else {
                    e.permanent()
                }
            })
        };
        let mut store = crate::retry::run(policy, on_wait, connect).await?;
        store.credential_source = source;
        Ok(store)
    }

    /// Where the credentials in use came from (never the secret itself).
    pub fn credential_source(&self) -> &credentials::CredentialSource {
        &self.credential_source
    }

    /// Connects with these credentials rather than the configured ones, once.
    pub async fn connect_with(
        registry: &str,
        repository: &str,
        transport: &Transport,
        credential: Credential,
        push: bool,
    ) -> Result<Self> {
        let anonymous = matches!(credential, Credential::Anonymous);
        let store = RegistryStore::over(std::sync::Arc::new(Api::new(registry, transport, credential)?), repository);
        if !repository.is_empty() {
            let scope = if push { TokenScope::push(repository) } else { TokenScope::pull(repository) };
            store.api.verify(Some(&scope), &store.connecting(anonymous)).await?;
        }
        Ok(store)
    }

    /// What connecting is called in messages: "authenticating" only when credentials are sent.
    fn connecting(&self, anonymous: bool) -> String {
        if anonymous { format!("connecting to {}", self.name()) } else { format!("authenticating for {}", self.name()) }
    }

    fn over(api: std::sync::Arc<Api>, repository: &str) -> RegistryStore {
        RegistryStore {
            api,
            repository: repository.to_string(),
            credential_source: credentials::CredentialSource::None,
            manifests: Mutex::new(HashMap::new()),
            lists_referrers: std::sync::atomic::AtomicBool::new(false),
            broken_sessions: Default::default(),
        }
    }

    /// A registry as a whole, for its catalogue: the configured credentials, no repository
    /// asked for yet ([`repository`](Self::repository) opens one).
    pub async fn connect_registry(registry: &str, transport: &Transport) -> Result<Self> {
        let (credential, source) = credentials::find(registry, &transport.credentials)?;
        let mut store = Self::connect_with(registry, "", transport, credential, false).await?;
        store.credential_source = source;
        Ok(store)
    }

    /// `HOST[:PORT]`.
    pub fn registry(&self) -> &str {
        self.api.registry()
    }

    /// The same registry and credentials, another repository, authenticated for pulling: no
    /// new connection.
    pub async fn repository(&self, repository: &str) -> Result<RegistryStore> {
        let mut store = RegistryStore::over(self.api.clone(), repository);
        store.credential_source = self.credential_source.clone();
        let anonymous = matches!(store.credential_source, credentials::CredentialSource::None);
        store.api.verify(Some(&TokenScope::pull(repository)), &store.connecting(anonymous)).await?;
        Ok(store)
    }

    /// Whether the registry is a pull-through cache, whose catalogue lists only what it has
    /// been asked for. Told without writing anything: it is sent a manifest whose config no
    /// registry holds (the all-zero digest), which a registry of its own refuses as
    /// `MANIFEST_BLOB_UNKNOWN` before storing a byte, and Distribution in proxy mode refuses as
    /// `UNSUPPORTED` (405). Anything else (a refusal of our credentials included) says no.
    pub async fn is_pull_through_cache(&self, repository: &str) -> bool {
        const PROBE: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#;
        let url = self.api.url(&format!("/v2/{repository}/manifests/{}", digest::of_bytes(PROBE.as_bytes())));
        let doing = format!("asking {} whether it is a pull-through cache", self.registry());
        let scope = TokenScope::push(repository);
        let send =
            self.api.send(&scope, &doing, |http| http.put(&url).header(CONTENT_TYPE, media::OCI_MANIFEST).body(PROBE));
        match send.await {
            Ok(response) if response.status() == StatusCode::METHOD_NOT_ALLOWED => {
                Refusal::read(response).await.codes.iter().any(|c| c == "UNSUPPORTED")
            }
            _ => false,
        }
    }

    /// The registry's repositories (`/v2/_catalog`, page by page), those under `prefix` if given.
    pub async fn catalog(&self, prefix: Option<&str>) -> Result<Vec<String>> {
        let doing = format!("listing the repositories of {} (/v2/_catalog)", self.registry());
        let mut all = self.list_pages("/v2/_catalog", "repositories", &TokenScope::catalog(), &doing).await.map_err(
            |e| match e.kind() {
                ErrorKind::Transport(_) => e,
                _ => e.with_hint(
                    "this registry may not offer its catalogue (GHCR, Docker Hub don't): name repositories with --repo",
                ),
            },
        )?;
        if let Some(prefix) = prefix {
            let prefix = prefix.trim_end_matches('/');
            all.retain(|r| r == prefix || r.starts_with(&format!("{prefix}/")));
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    /// Walks a paged list (`/v2/_catalog`, `/v2/NAME/tags/list`): the names under `field` of
    /// every page. Pages of [`LIST_PAGE`] are asked for; a registry that refuses that size
    /// (Distribution's `catalog.maxentries` below it: `PAGINATION_NUMBER_INVALID`) is asked
    /// again without `n`, for pages of its own size. The next page is the one the `Link` header
    /// names; without one, a full page goes on from its last name (`last`), as the distribution
    /// spec says; a registry that ignores `n` answers everything at once. A page that adds
    /// nothing, or a `Link` back to a page already read, ends the walk.
    async fn list_pages(&self, base: &str, field: &str, scope: &TokenScope, doing: &str) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::new();
        let mut asked = Some(LIST_PAGE);
        let mut path = format!("{base}?n={LIST_PAGE}");
        let mut seen = std::collections::HashSet::new();
        loop {
            seen.insert(path.clone());
            let url = self.api.url(&path);
            let response = self.api.send(scope, doing, |http| http.get(&url)).await?;
            if response.status() != StatusCode::OK {
                let refusal = Refusal::read(response).await;
                if asked.is_some() && names.is_empty() && refusal.codes.iter().any(|c| c == "PAGINATION_NUMBER_INVALID")
                {
                    asked = None;
                    path = base.to_string();
                    continue;
                }
                return Err(self.api.refusal(refusal, doing));
            }
            let link = next_page(response.headers());
            let body = read_limited(response, media::MANIFEST_LIMIT).await.map_err(|e| self.read_error(e, doing))?;
            let page: serde_json::Value = serde_json::from_slice(&body)
                .map_err(|e| Error::malformed(format!("{doing}: the answer is not a list of {field}")).with_cause(e))?;
            let page: Vec<String> = match page.get(field) {
                Some(serde_json::Value::Null) | None => Vec::new(),
                Some(list) => serde_json::from_value(list.clone()).map_err(|e| {
                    Error::malformed(format!("{doing}: `{field}` is not a list of names")).with_cause(e)
                })?,
            };
            let full = asked.is_some_and(|n| page.len() >= n);
            let last = page.last().cloned();
            names.extend(page);
            let next = match (link, last) {
                (Some(next), Some(_)) => next,
                (None, Some(last)) if full => {
                    // Names are [a-z0-9._/-] (tags add A-Z); `/` is what a query may not hold raw.
                    let last = last.replace('%', "%25").replace('/', "%2F").replace('&', "%26").replace('+', "%2B");
                    format!("{base}?n={}&last={last}", asked.unwrap_or(LIST_PAGE))
                }
                _ => break,
            };
            if seen.contains(&next) {
                break;
            }
            path = next;
        }
        Ok(names)
    }

    fn pull_scope(&self) -> TokenScope {
        TokenScope::pull(&self.repository)
    }

    fn push_scope(&self) -> TokenScope {
        TokenScope::push(&self.repository)
    }

    /// `/v2/REPOSITORY/KIND/REFERENCE`.
    fn path(&self, kind: &str, reference: &str) -> String {
        self.api.url(&format!("/v2/{}/{kind}/{reference}", self.repository))
    }

    /// `doing what in REGISTRY/REPOSITORY`, for messages.
    fn doing(&self, what: &str) -> String {
        format!("{what} in {}", self.name())
    }

    fn read_error(&self, e: api::ReadError, doing: &str) -> Error {
        match e {
            api::ReadError::Http(e) => self.api.connection_error(e, doing),
            api::ReadError::TooBig => Error::malformed(format!("{doing}: the answer is over 4 MiB")),
        }
    }

    fn cached_manifest(&self, digest: &str) -> Option<Vec<u8>> {
        self.manifests.lock().expect("no panics").get(digest).cloned()
    }

    /// Reads the manifest `reference` names, accepting `accepted` types: its bytes and the
    /// type the registry gave.
    async fn get_manifest(&self, reference: &str, accepted: &[&str], doing: &str) -> Result<(Vec<u8>, Option<String>)> {
        let url = self.path("manifests", reference);
        let accept = accepted.join(", ");
        let response = self.api.send(&self.pull_scope(), doing, |http| http.get(&url).header(ACCEPT, &accept)).await?;
        if response.status() != StatusCode::OK {
            return Err(self.api.refusal(Refusal::read(response).await, doing));
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let claimed = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .filter(|d| d.starts_with("sha256:"))
            .map(str::to_string);
        let bytes = read_limited(response, media::MANIFEST_LIMIT).await.map_err(|e| match e {
            api::ReadError::TooBig => Error::malformed(format!("{doing}: the manifest is over 4 MiB")),
            e => self.read_error(e, doing),
        })?;
        // The registry names the manifest's digest; bytes that do not hash to it were changed
        // in its storage (or on the way). By tag, nothing else would notice: the changed bytes
        // would pass for another manifest.
        if let Some(claimed) = claimed {
            let actual = digest::of_bytes(&bytes);
            if claimed != actual {
                return Err(Error::integrity(
                    IntegrityFailure::DigestMismatch,
                    format!(
                        "{doing}: the registry says the manifest is {claimed}, but sent bytes whose digest is {actual}"
                    ),
                )
                .with_hint("the manifest in the registry's storage is corrupt or was changed; push it again"));
            }
        }
        Ok((bytes, content_type))
    }

    /// `HEAD` on `kind/reference`: whether it exists.
    async fn head(&self, kind: &str, reference: &str, doing: &str) -> Result<bool> {
        let url = self.path(kind, reference);
        let accept = ACCEPTED_MANIFESTS.join(", ");
        let response = self.api.send(&self.pull_scope(), doing, |http| http.head(&url).header(ACCEPT, &accept)).await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(self.api.refusal(Refusal::read(response).await, doing)),
        }
    }

    /// Opens an upload session: its URL.
    async fn start_upload(&self, doing: &str) -> Result<String> {
        let url = self.api.url(&format!("/v2/{}/blobs/uploads/", self.repository));
        let response =
            self.api.send(&self.push_scope(), doing, |http| http.post(&url).header(CONTENT_LENGTH, 0)).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(self.api.refusal(Refusal::read(response).await, doing));
        }
        let url = location(&response)
            .map(|l| self.api.url(&l))
            .ok_or_else(|| Error::failed(format!("{doing}: the registry's upload answer has no Location")))?;
        sessions::opened(&self.api, &self.push_scope(), &url);
        Ok(url)
    }

    /// Cancels an upload session, as far as the registry lets us: sessions it keeps expire anyway.
    pub(super) async fn cancel_upload(&self, session: &str) {
        let _ = self.api.send_once(&self.push_scope(), "cancelling an upload", |http| http.delete(session)).await;
        sessions::closed(session);
    }

    /// One `POST` and one `PUT ?digest=` with the whole body: what most registries take
    /// fastest. `Ok(Err(refusal))` when the registry refuses that way of uploading.
    async fn upload_monolithic(
        &self,
        descriptor: &Descriptor,
        data: BlobReader,
    ) -> Result<std::result::Result<(), Refusal>> {
        let doing = self.doing(&format!("uploading blob {}", descriptor.digest));
        let session = self.start_upload(&doing).await?;
        let separator = if session.contains('?') { '&' } else { '?' };
        let url = format!("{session}{separator}digest={}", descriptor.digest);
        let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(data, crate::artifact::archive::COPY_BUFFER));
        let response = self
            .api
            .send_once(&self.push_scope(), &doing, |http| {
                http.put(&url)
                    .header(CONTENT_TYPE, "application/octet-stream")
                    .header(CONTENT_LENGTH, descriptor.size)
                    .body(body)
            })
            // A failure of the stream itself (a read, the idle watchdog) comes back as that error.
            .await?;
        if response.status() == StatusCode::CREATED {
            sessions::closed(&session);
            return Ok(Ok(()));
        }
        let refusal = Refusal::read(response).await;
        self.cancel_upload(&session).await;
        if refuses_monolithic(&refusal) { Ok(Err(refusal)) } else { Err(self.api.refusal(refusal, &doing)) }
    }
}

/// Whether a refused monolithic upload should be tried again in chunks: the registry refused
/// the method or the size, not the content or our rights.
fn refuses_monolithic(refusal: &Refusal) -> bool {
    if !refusal.codes.is_empty() {
        return refusal.codes.iter().any(|c| c == "UNSUPPORTED" || c == "SIZE_INVALID");
    }
    matches!(refusal.status.as_u16(), 400 | 405 | 411 | 413 | 415 | 416 | 501)
}

/// An answer's `Location` header.
fn location(response: &reqwest::Response) -> Option<String> {
    response.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string)
}
/// A blob stream that fails with `ConnectionReset` if it ends before the expected length.
struct Complete<S> {
    inner: S,
    expected: u64,
    seen: u64,
    ended: bool,
}

impl<S> futures::Stream for Complete<S>
where
    S: futures::Stream<Item = std::io::Result<bytes::Bytes>> + Unpin,
{
    type Item = std::io::Result<bytes::Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.ended {
            return Poll::Ready(None);
        }
        match std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.seen += chunk.len() as u64;
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) if self.seen < self.expected => {
                self.ended = true;
                let message = format!("the connection closed after {} of {} bytes", self.seen, self.expected);
                Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, message))))
            }
            other => other,
        }
    }
}

/// Registry messages may echo request headers; never let an Authorization value through.
fn scrub(text: &str) -> String {
    let mut out = String::new();
    for word in text.split_inclusive(' ') {
        let lower = word.to_lowercase();
        if out.to_lowercase().ends_with("basic ") || out.to_lowercase().ends_with("bearer ") {
            out.push_str("*** ");
        } else if lower.starts_with("authorization") {
            out.push_str("authorization: ");
        } else {
            out.push_str(word);
        }
    }
    out
}

#[derive(Debug)]
struct Scrubbed(String);

impl std::fmt::Display for Scrubbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&scrub(&self.0))
    }
}
impl std::error::Error for Scrubbed {}

/// Reads what went wrong on a connection from the types in the error's chain (rustls, hyper,
/// the resolver, the OS), never from its text.
fn transport_failure(re: &reqwest::Error, plain_http: bool) -> TransportFailure {
    if re.is_timeout() {
        // Opening the connection (TCP and TLS) timed out, or a connection fell silent.
        return if re.is_connect() { TransportFailure::ConnectTimeout } else { TransportFailure::Timeout };
    }
    for e in crate::error::causes(re) {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            use rustls::AlertDescription as Alert;
            return match tls {
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                    TransportFailure::UntrustedCertificate
                }
                // What Go's TLS servers (Distribution's) answer a client without a certificate
                // they trust: `certificate_required` in TLS 1.3, `bad_certificate` before.
                rustls::Error::AlertReceived(
                    Alert::CertificateRequired | Alert::BadCertificate | Alert::UnknownCA | Alert::CertificateUnknown,
                ) => TransportFailure::ClientCertificate,
                // Bytes that are no TLS record: the server speaks plain HTTP.
                rustls::Error::InvalidMessage(_) | rustls::Error::PeerSentOversizedRecord => TransportFailure::NotTls,
                _ => TransportFailure::Other,
            };
        }
        if e.downcast_ref::<hickory_net::NetError>().is_some() {
            return TransportFailure::NameResolution;
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_parse() && plain_http {
                return TransportFailure::NotPlainHttp;
            }
            if h.is_incomplete_message() && plain_http {
                // A TLS server closes on bytes that are no TLS handshake.
                return TransportFailure::NotPlainHttp;
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return TransportFailure::Refused,
                std::io::ErrorKind::TimedOut => return TransportFailure::Timeout,
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof => return TransportFailure::Reset,
                _ => {}
            }
        }
    }
    TransportFailure::Other
}

/// The certificate problem in a connection error's chain, if that is what it is.
fn certificate_error(re: &reqwest::Error) -> Option<rustls::CertificateError> {
    crate::error::causes(re).find_map(|e| match e.downcast_ref::<rustls::Error>() {
        Some(rustls::Error::InvalidCertificate(why)) => Some(why.clone()),
        _ => None,
    })
}

/// A failure to talk to `registry` at all, said precisely.
/// `offers_identity`: a client certificate was offered (mutual TLS), to tell "none offered" from
/// "the one offered was refused".
fn connection_error(re: reqwest::Error, doing: &str, registry: &str, plain_http: bool, offers_identity: bool) -> Error {
    let addr = host_port(registry, plain_http);
    let scheme = if plain_http { "http" } else { "https" };
    let failure = transport_failure(&re, plain_http);
    let chain = Scrubbed(crate::error::one_line(&re));
    match failure {
        TransportFailure::UntrustedCertificate => {
            use rustls::CertificateError as Why;
            let host = registry.rsplit_once(':').map_or(registry, |(host, _)| host);
            let (what, hint) = match certificate_error(&re) {
                Some(Why::Expired | Why::ExpiredContext { .. }) => {
                    ("has expired".to_string(), "the registry needs a new certificate".to_string())
                }
                Some(Why::NotValidYet | Why::NotValidYetContext { .. }) => {
                    ("is not valid yet".to_string(), "check this machine's clock and the certificate's dates".to_string())
                }
                Some(Why::NotValidForName | Why::NotValidForNameContext { .. }) => (
                    format!("is not valid for {host}"),
                    "reach the registry by a name its certificate lists".to_string(),
                ),
                _ => (
                    "is not trusted".to_string(),
                    "if the registry uses a private CA or a self-signed certificate, pass it with --ca-file PEM \
                     or put it in /etc/docker/certs.d/HOST:PORT/ca.crt"
                        .to_string(),
                ),
            };
            Error::transport(failure, format!("{doing}: the TLS certificate of {addr} {what}"))
                .with_cause(chain)
                .with_hint(hint)
        }
        TransportFailure::ClientCertificate if offers_identity => {
            Error::transport(failure, format!("{doing}: {registry} refused the client certificate offered"))
                .with_hint("is it signed by a CA the registry trusts (Distribution: http.tls.clientcas), and not expired?")
        }
        TransportFailure::ClientCertificate => {
            Error::transport(failure, format!("{doing}: {registry} asks for a client certificate (mutual TLS)")).with_hint(
                format!(
                    "put client.cert and client.key in /etc/docker/certs.d/{registry}/ (or --certs-dir), or pass --cert-file and --key-file"
                ),
            )
        }
        TransportFailure::Refused => {
            Error::transport(failure, format!("{doing}: connection refused by {addr} ({scheme})"))
                .with_hint("is the registry running and listening on that address?")
        }
        TransportFailure::Timeout => Error::transport(failure, format!("{doing}: timed out talking to {addr}")),
        TransportFailure::ConnectTimeout => {
            Error::transport(failure, format!("{doing}: timed out connecting to {addr} ({scheme})"))
        }
        TransportFailure::NotTls => Error::transport(failure, format!("{doing}: {addr} did not answer TLS")).with_hint(
            format!("the port seems to speak plain HTTP: if that is intended, add --plain-http ({})", registry),
        ),
        TransportFailure::NotPlainHttp => {
            Error::transport(failure, format!("{doing}: {addr} did not answer plain HTTP"))
                .with_hint("the registry may speak TLS: drop --plain-http")
        }
        TransportFailure::NameResolution => {
            // The resolver's own words repeat the query twice over: the message says it all.
            Error::transport(failure, format!("{doing}: the host name of {addr} does not resolve"))
                .with_hint("check the registry's name for typos")
        }
        _ => Error::transport(failure, format!("{doing}: could not talk to {addr}")).with_cause(chain),
    }
}

fn host_port(registry: &str, plain_http: bool) -> String {
    if registry.contains(':') {
        registry.to_string()
    } else {
        format!("{registry}:{}", if plain_http { 80 } else { 443 })
    }
}

/// A blob stream as a reader that fails with `ConnectionReset` when the connection breaks or
/// closes before `expected` bytes: the copy then tries again instead of reporting a corrupt blob.
fn blob_reader<S, E>(stream: S, expected: u64) -> BlobReader
where
    S: futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send + Unpin + 'static,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = stream.map_err(|e| std::io::Error::new(std::io::ErrorKind::ConnectionReset, e));
    Box::pin(StreamReader::new(Complete { inner: stream, expected, seen: 0, ended: false }))
}

fn describe_reference(reference: &Reference) -> String {
    match reference {
        Reference::Tag(t) => format!("tag {t}"),
        Reference::Digest(d) => format!("manifest {d}"),
    }
}

/// A manifest's media type: its own `mediaType` field, else what the registry said it is,
/// else what its shape says.
fn media_type_of(bytes: &[u8], content_type: Option<&str>) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    let probe = serde_json::from_slice::<Probe>(bytes).ok();
    if let Some(Probe { media_type: Some(m), .. }) = probe {
        return m;
    }
    if let Some(t) = content_type.filter(|t| is_manifest_type(t)) {
        return t.to_string();
    }
    match probe {
        Some(Probe { manifests: Some(_), .. }) => media::OCI_INDEX.into(),
        _ => media::OCI_MANIFEST.into(),
    }
}

#[async_trait]
impl Store for RegistryStore {
    fn name(&self) -> String {
        format!("{}/{}", self.registry(), self.repository)
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        if is_manifest_type(&descriptor.media_type) {
            return self.head("manifests", &descriptor.digest, &self.doing("checking a manifest")).await;
        }
        self.head("blobs", &descriptor.digest, &self.doing(&format!("checking blob {}", descriptor.digest))).await
    }
}

#[async_trait]
impl Source for RegistryStore {
    fn mount_origin(&self) -> Option<MountOrigin<'_>> {
        Some(MountOrigin { registry: self.registry(), repository: &self.repository })
    }

    fn referrers(&self) -> Option<&dyn Referrers> {
        Some(self)
    }

    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let name = match reference {
            Reference::Tag(t) => t,
            Reference::Digest(d) => d,
        };
        let doing = self.doing(&format!("reading {}", describe_reference(reference)));
        let (bytes, content_type) = match self.get_manifest(name, &ACCEPTED_MANIFESTS, &doing).await {
            Ok(found) => found,
            Err(e) if e.kind() == ErrorKind::NotFound && matches!(reference, Reference::Tag(_)) => {
                // Say which tags there are, when the repository lists them.
                return Err(match self.tags().await {
                    Ok(tags) if !tags.is_empty() => e.with_hint(format!("the tags are: {}", tags.join(", "))),
                    Ok(_) => e.with_hint("the repository holds no tags"),
                    Err(_) => e,
                });
            }
            Err(e) => return Err(e),
        };
        let digest = digest::of_bytes(&bytes);
        if let Reference::Digest(d) = reference
            && *d != digest
        {
            return Err(Error::integrity(
                IntegrityFailure::DigestMismatch,
                format!("{}{reference}: the registry sent a manifest with digest {digest}", self.name()),
            ));
        }
        let descriptor =
            Descriptor::new(&media_type_of(&bytes, content_type.as_deref()), digest.clone(), bytes.len() as u64);
        self.manifests.lock().expect("no panics").insert(digest, bytes);
        Ok(descriptor)
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        let bytes = match self.cached_manifest(&descriptor.digest) {
            Some(b) => b,
            None => {
                let doing = self.doing(&format!("reading manifest {}", descriptor.digest));
                let mut accepted = vec![descriptor.media_type.as_str()];
                accepted.extend(ACCEPTED_MANIFESTS.iter().filter(|t| **t != descriptor.media_type));
                self.get_manifest(&descriptor.digest, &accepted, &doing).await?.0
            }
        };
        let what = format!("manifest {} from {}", descriptor.digest, self.name());
        digest::verify_bytes(&what, &descriptor.digest, descriptor.size, &bytes)?;
        Ok(bytes)
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        let doing = self.doing(&format!("downloading blob {}", descriptor.digest));
        let url = self.path("blobs", &descriptor.digest);
        let response = self.api.send(&self.pull_scope(), &doing, |http| http.get(&url)).await?;
        if response.status() != StatusCode::OK {
            return Err(self.api.refusal(Refusal::read(response).await, &doing));
        }
        // Every destination verifies what it reads (the Target contract): no hash here.
        Ok(blob_reader(response.bytes_stream(), descriptor.size))
    }

    fn ranged(&self) -> Option<&dyn RangedFetch> {
        Some(self)
    }

    async fn tags(&self) -> Result<Vec<String>> {
        let doing = self.doing("listing tags");
        let base = format!("/v2/{}/tags/list", self.repository);
        let mut tags = self.list_pages(&base, "tags", &self.pull_scope(), &doing).await?;
        tags.sort();
        tags.dedup();
        Ok(tags)
    }
}

#[async_trait]
impl Sink for RegistryStore {
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        let broken = self.broken_sessions.lock().expect("no panics").remove(&descriptor.digest);
        if let Some(location) = broken {
            let session = upload::Session { store: self };
            let doing = self.doing(&format!("continuing the upload of blob {}", descriptor.digest));
            return session.resume(descriptor, open, location).await.map_err(|e| e.context(doing));
        }
        if descriptor.size < upload::RESUMABLE_FROM {
            match self.upload_monolithic(descriptor, open().await?).await? {
                Ok(()) => return Ok(()),
                // Refused as a whole: the chunked session below, from a re-opened stream.
                Err(_refusal) => {}
            }
        }
        let session = upload::Session { store: self };
        let doing = self.doing(&format!("uploading blob {} in a resumable session", descriptor.digest));
        session.push(descriptor, open).await.map_err(|e| e.context(doing))
    }

    fn mounter(&self) -> Option<&dyn Mounter> {
        Some(self)
    }

    fn spooler(&self) -> Result<Option<std::sync::Arc<dyn super::Spooler>>> {
        let spooler = spool::RegistrySpooler::new(self.api.clone(), &self.repository, self.broken_sessions.clone())?;
        Ok(Some(std::sync::Arc::new(spooler)))
    }

    async fn model_ui(&self) -> Option<super::ModelUi> {
        let version = self.api.harbor().await?;
        Some(super::ModelUi::harbor(version.as_deref()))
    }

    async fn push_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()> {
        self.put_manifest(descriptor, bytes, tag).await?;
        if let Some((subject, entry)) = manifest::as_referrer(descriptor, bytes) {
            self.list_in_referrers_tag(&subject, entry).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl RangedFetch for RegistryStore {
    async fn fetch_blob_range(&self, descriptor: &Descriptor, start: u64, end: u64) -> Result<Option<BlobReader>> {
        let doing = self.doing(&format!("downloading bytes {start} to {end} of blob {}", descriptor.digest));
        let url = self.path("blobs", &descriptor.digest);
        let range = format!("bytes={start}-{}", end.saturating_sub(1));
        let response = self.api.send(&self.pull_scope(), &doing, |http| http.get(&url).header(RANGE, &range)).await?;
        match response.status() {
            // The reader ends with an error unless exactly the range's bytes arrive.
            StatusCode::PARTIAL_CONTENT => Ok(Some(blob_reader(response.bytes_stream(), end.saturating_sub(start)))),
            StatusCode::OK => Ok(None), // the registry ignored the range
            // A range it will not send (a partial download as long as the blob, a blob replaced
            // under the same digest by a shorter one): the caller starts from byte 0.
            StatusCode::RANGE_NOT_SATISFIABLE => Ok(None),
            _ => Err(self.api.refusal(Refusal::read(response).await, &doing)),
        }
    }
}

#[async_trait]
impl Referrers for RegistryStore {
    /// The referrers API, or the tag schema where the registry has no such API (a 404, as the
    /// distribution spec says).
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        let doing = self.doing(&format!("listing the referrers of {}", subject.digest));
        let url = self.path("referrers", &subject.digest);
        let response =
            self.api.send(&self.pull_scope(), &doing, |http| http.get(&url).header(ACCEPT, media::OCI_INDEX)).await?;
        let index = match response.status() {
            StatusCode::OK => {
                let body =
                    read_limited(response, media::MANIFEST_LIMIT).await.map_err(|e| self.read_error(e, &doing))?;
                manifest::parse_index(&body, &format!("the referrers of {}", subject.digest))?
            }
            StatusCode::NOT_FOUND => match self.referrers_tag(&subject.digest).await? {
                TagSchema::Index(index) => index,
                TagSchema::Other | TagSchema::Absent => return Ok(Vec::new()),
            },
            _ => return Err(self.api.refusal(Refusal::read(response).await, &doing)),
        };
        Ok(index.manifests)
    }
}

impl RegistryStore {
    async fn put_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()> {
        let doing = self.doing(&format!("storing manifest {}", descriptor.digest));
        let url = self.path("manifests", tag.unwrap_or(&descriptor.digest));
        let body = bytes::Bytes::copy_from_slice(bytes);
        let response = self
            .api
            .send(&self.push_scope(), &doing, |http| {
                http.put(&url).header(CONTENT_TYPE, &descriptor.media_type).body(body.clone())
            })
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(self.api.refusal(Refusal::read(response).await, &doing));
        }
        if response.headers().contains_key("oci-subject") {
            self.lists_referrers.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// What the tag `sha256-<hex>` of a subject holds (the referrers tag schema).
    async fn referrers_tag(&self, subject: &str) -> Result<TagSchema> {
        let tag = subject.replace(':', "-");
        match self.resolve(&Reference::Tag(tag.clone())).await {
            Ok(found) if found.media_type == media::OCI_INDEX => {
                let what = format!("the referrers index {tag}");
                Ok(TagSchema::Index(manifest::parse_index(&self.fetch_manifest(&found).await?, &what)?))
            }
            Ok(_) => Ok(TagSchema::Other),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(TagSchema::Absent),
            Err(e) => Err(e),
        }
    }

    /// Lists a referrer in the index tagged `sha256-<hex>` of its subject: the distribution
    /// spec's tag schema, which is how clients find referrers on registries without the
    /// referrers API (CNCF Distribution 2.8 among them). A registry that answered the
    /// referrer's PUT with `OCI-Subject` lists it itself, and gets no tag.
    async fn list_in_referrers_tag(&self, subject: &str, entry: Descriptor) -> Result<()> {
        if self.lists_referrers.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        let mut index = match self.referrers_tag(subject).await? {
            TagSchema::Index(index) => index,
            TagSchema::Other => return Ok(()), // something else holds the tag: leave it alone
            TagSchema::Absent => ImageIndex {
                schema_version: 2,
                media_type: Some(media::OCI_INDEX.into()),
                manifests: Vec::new(),
                annotations: Default::default(),
                other: Default::default(),
            },
        };
        if index.manifests.iter().any(|m| m.digest == entry.digest) {
            return Ok(());
        }
        index.manifests.push(entry);
        let bytes = serde_json::to_vec(&index).expect("indexes serialise");
        let tag = subject.replace(':', "-");
        self.put_manifest(&Descriptor::for_bytes(media::OCI_INDEX, &bytes), &bytes, Some(&tag)).await
    }
}

/// What a subject's referrers tag (`sha256-<hex>`) holds.
enum TagSchema {
    /// The index of its referrers.
    Index(ImageIndex),
    /// Something else, left alone.
    Other,
    /// Nothing: no referrer was listed there.
    Absent,
}

#[async_trait]
impl Mounter for RegistryStore {
    async fn mount(&self, descriptor: &Descriptor, from: MountOrigin<'_>) -> Result<bool> {
        if from.registry != self.registry() || from.repository == self.repository || descriptor.is_manifest() {
            return Ok(false);
        }
        let doing = self.doing(&format!("mounting blob {} from {}", descriptor.digest, from.repository));
        let url = self.api.url(&format!(
            "/v2/{}/blobs/uploads/?mount={}&from={}",
            self.repository, descriptor.digest, from.repository
        ));
        let scope = self.push_scope().and(TokenScope::pull(from.repository));
        // Any failure means "upload it instead".
        let Ok(response) = self.api.send(&scope, &doing, |http| http.post(&url).header(CONTENT_LENGTH, 0)).await else {
            return Ok(false);
        };
        if response.status() == StatusCode::CREATED {
            return Ok(true);
        }
        // A 202 opened an upload session instead: close it rather than leave it to expire.
        if response.status() == StatusCode::ACCEPTED
            && let Some(session) = location(&response)
        {
            let session = self.api.url(&session);
            let _ = self.api.send(&self.push_scope(), &doing, |http| http.delete(&session)).await;
        }
        Ok(false)
    }
}

#[async_trait]
impl Tagger for RegistryStore {
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<()> {
        let bytes = self.fetch_manifest(descriptor).await?;
        self.push_manifest(descriptor, &bytes, Some(tag)).await
    }

    /// Deletes the manifest by digest, as `oras manifest delete` and `crane delete` do: the
    /// distribution spec deletes manifests, and every tag on one goes with it.
    async fn remove(&self, descriptor: &Descriptor, _reference: &Reference) -> Result<super::Removal> {
        let doing = self.doing(&format!("deleting manifest {}", descriptor.digest));
        let url = self.path("manifests", &descriptor.digest);
        let response = self.api.send(&self.push_scope(), &doing, |http| http.delete(&url)).await?;
        match response.status() {
            StatusCode::ACCEPTED | StatusCode::OK | StatusCode::NO_CONTENT => {
                Ok(super::Removal { tags: Vec::new(), manifest_deleted: true })
            }
            status => {
                let refusal = Refusal::read(response).await;
                let refused =
                    status == StatusCode::METHOD_NOT_ALLOWED || refusal.codes.iter().any(|c| c == "UNSUPPORTED");
                let error = self.api.refusal(refusal, &doing);
                Err(if refused {
                    Error::failed(format!("{} does not allow deleting manifests", self.registry())).with_cause(error).with_hint(
                        "CNCF Distribution deletes with storage.delete.enabled: true in its config; Harbor, GHCR and Docker Hub \
                         delete in their web UI or API. Then the registry's garbage collection frees the space",
                    )
                } else {
                    error
                })
            }
        }
    }
}

/// Checks a user name and password against a registry the way `docker login` does, touching
/// no repository: `GET /v2/` with the credentials; where the registry answers with a Bearer
/// challenge, a token request to its token service with them. Refused credentials are an
/// authorisation error naming the user.
pub async fn check_login(registry: &str, transport: &Transport, username: &str, password: &str) -> Result<()> {
    let credential = Credential::Basic { username: username.to_string(), password: password.to_string() };
    let api = Api::new(registry, transport, credential)?;
    api.verify(None, &format!("checking the credentials of {username} at {registry}")).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_authorization_values() {
        let s = scrub("bad header Authorization: Basic dXNlcjpwYXNz here");
        assert!(!s.contains("dXNlcjpwYXNz"), "{s}");
    }

    #[test]
    fn manifest_types_come_from_the_manifest_then_the_registry() {
        assert_eq!(media_type_of(br#"{"manifests":[]}"#, None), media::OCI_INDEX);
        assert_eq!(media_type_of(br#"{"mediaType":"x"}"#, Some(media::OCI_INDEX)), "x");
        assert_eq!(media_type_of(br#"{"layers":[]}"#, Some(media::DOCKER_MANIFEST)), media::DOCKER_MANIFEST);
        assert_eq!(media_type_of(br#"{"layers":[]}"#, Some("text/plain")), media::OCI_MANIFEST);
    }
}
