//! The registry target: a repository in an OCI registry, over `oci-client` (rustls).
//!
//! Blobs stream from disk in one monolithic PUT (2-3x faster than oci-client's chunked push);
//! a registry that refuses it gets the chunked upload, from a re-opened stream. Manifests go up as
//! the exact bytes we hold (`push_manifest_raw`). Errors are mapped to the library's kinds
//! (authentication → exit 3, not found → 4) with hints, and transient ones are marked retryable
//! for `copy` to try again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures::TryStreamExt;
use oci_client::client::{BlobResponse, Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, RegistryOperation};
use tokio_util::io::{ReaderStream, StreamReader};

use super::{BlobOpener, BlobReader, MountOrigin, Mounter, RangedFetch, Referrers, Sink, Source, Store, Tagger};
use crate::artifact::manifest::{self, Descriptor, Index, is_manifest_type};
use crate::artifact::media;
use crate::credentials::{self, Credential, Lookup};
use crate::digest;
use crate::error::{Error, ErrorKind, IntegrityFailure, Result, TransportFailure};
use crate::reference::Reference;
use crate::stream as pipe;

const USER_AGENT: &str = concat!("zoo-oci/", env!("CARGO_PKG_VERSION"));
const ACCEPTED_MANIFESTS: [&str; 4] =
    [media::OCI_MANIFEST, media::OCI_INDEX, media::DOCKER_MANIFEST, media::DOCKER_MANIFEST_LIST];

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct Transport {
    /// Speak plain HTTP (the user named the registry as one).
    pub plain_http: bool,
    /// PEM files of extra CAs to trust, besides the system's.
    pub ca_files: Vec<PathBuf>,
    /// Where to find credentials.
    pub credentials: Lookup,
    /// How long to keep trying to reach a registry that is not up yet, and to retry a transfer
    /// after its first failure.
    pub retry_timeout: Duration,
    /// How long a connection may take to open, and stay silent once open (`--timeout`).
    pub idle_timeout: Duration,
    /// Folders laid out as docker's and podman's `certs.d` (`HOST[:PORT]/ca.crt`, `*.crt`): the
    /// CAs there are trusted for that registry.
    pub certs_dirs: Vec<PathBuf>,
    /// Verify no certificate at all (`--insecure`): for a throwaway test registry only.
    pub insecure: bool,
}

/// Where docker and podman look for a registry's CAs.
pub const SYSTEM_CERTS_DIRS: [&str; 2] = ["/etc/docker/certs.d", "/etc/containers/certs.d"];

impl Transport {
    /// The PEM CAs to trust for `registry`, besides the system's: every `--ca-file`, then the
    /// `*.crt` files of `CERTS_DIR/HOST[:PORT]/` in each certs.d folder, as docker reads them.
    pub fn trusted_cas(&self, registry: &str) -> Result<Vec<Vec<u8>>> {
        let mut pems = Vec::new();
        for path in &self.ca_files {
            let data = std::fs::read(path).map_err(|e| Error::io("read the CA file", path, e))?;
            if !String::from_utf8_lossy(&data).contains("-----BEGIN CERTIFICATE-----") {
                return Err(Error::usage(format!("{} holds no PEM certificate", path.display()))
                    .with_hint("--ca-file takes a PEM file with one or more CERTIFICATE blocks"));
            }
            pems.push(data);
        }
        for root in &self.certs_dirs {
            let dir = root.join(registry);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for path in files {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("crt") => {
                        pems.push(std::fs::read(&path).map_err(|e| Error::io("read the CA file", &path, e))?)
                    }
                    Some("cert") | Some("key") => {
                        // oci-client 0.18 takes no client identity: mutual TLS cannot be offered.
                        return Err(Error::failed(format!(
                            "{} holds a client certificate for mutual TLS, which zoo-oci cannot present yet",
                            dir.display()
                        ))
                        .with_hint("the HTTP client library zoo-oci uses (oci-client) takes no client certificate"));
                    }
                    _ => {}
                }
            }
        }
        Ok(pems)
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport {
            plain_http: false,
            ca_files: Vec::new(),
            credentials: Lookup::default(),
            retry_timeout: Duration::from_secs(60),
            idle_timeout: crate::retry::DEFAULT_IDLE_TIMEOUT,
            certs_dirs: SYSTEM_CERTS_DIRS.iter().map(PathBuf::from).collect(),
            insecure: false,
        }
    }
}

/// A repository in a registry.
pub struct RegistryStore {
    registry: String,
    repository: String,
    /// Monolithic blob uploads.
    client: Client,
    /// Chunked uploads, for registries that refuse monolithic ones.
    chunked: Client,
    /// Resumable upload sessions of big blobs (`super::upload`).
    http: reqwest::Client,
    auth: RegistryAuth,
    plain_http: bool,
    credential_source: credentials::Source,
    /// Manifests read while resolving, so copy does not fetch them twice.
    manifests: Mutex<HashMap<String, Vec<u8>>>,
}

impl RegistryStore {
    /// Connects to `registry/repository` with the configured credentials, authenticating for
    /// `push` or pull first so that bad credentials fail before any transfer. Keeps trying for
    /// `transport.retry_timeout` while the registry cannot be reached (not up yet, restarting), with backoff; `on_wait` hears about
    /// each failed attempt and the time before the next.
    pub async fn connect_waiting(
        registry: &str,
        repository: &str,
        transport: &Transport,
        push: bool,
        on_wait: &(dyn Fn(&Error, Duration) + Sync),
    ) -> Result<Self> {
        let (credential, source) = credentials::find(registry, &transport.credentials)?;
        let policy = crate::retry::Policy::Until(tokio::time::Instant::now() + transport.retry_timeout);
        let connect = |_| Self::connect_with(registry, repository, transport, credential.clone(), push);
        let mut store = crate::retry::run(policy, on_wait, connect).await?;
        store.credential_source = source;
        Ok(store)
    }

    /// Where the credentials in use came from (never the secret itself).
    pub fn credential_source(&self) -> &credentials::Source {
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
        let auth = match credential {
            Credential::Anonymous => RegistryAuth::Anonymous,
            Credential::Basic { username, password } => RegistryAuth::Basic(username, password),
            Credential::Token(token) => RegistryAuth::Bearer(token),
        };
        let roots = transport
            .trusted_cas(registry)?
            .into_iter()
            .map(|data| Certificate { encoding: CertificateEncoding::Pem, data })
            .collect::<Vec<_>>();
        let config = |monolithic: bool| ClientConfig {
            protocol: if transport.plain_http { ClientProtocol::Http } else { ClientProtocol::Https },
            extra_root_certificates: roots.clone(),
            use_monolithic_push: monolithic,
            platform_resolver: None,
            connect_timeout: Some(transport.idle_timeout),
            read_timeout: Some(transport.idle_timeout),
            user_agent: USER_AGENT,
            accept_invalid_certificates: transport.insecure,
            ..ClientConfig::default()
        };
        // try_from, not new: `Client::new` silently drops an invalid configuration.
        let build = |monolithic| {
            Client::try_from(config(monolithic))
                .map_err(|e| Error::failed("could not set up the HTTP client").with_cause(e))
        };
        let store = RegistryStore {
            registry: registry.to_string(),
            repository: repository.to_string(),
            client: build(true)?,
            chunked: build(false)?,
            http: http_client(registry, transport)?,
            auth,
            plain_http: transport.plain_http,
            credential_source: credentials::Source::None,
            manifests: Mutex::new(HashMap::new()),
        };
        if !repository.is_empty() {
            store.authenticate(push).await?;
        }
        Ok(store)
    }

    /// A registry as a whole, for its catalogue: the configured credentials, no repository
    /// asked for yet ([`repository`](Self::repository) opens one).
    pub async fn connect_registry(registry: &str, transport: &Transport) -> Result<Self> {
        let (credential, source) = credentials::find(registry, &transport.credentials)?;
        let mut store = Self::connect_with(registry, "", transport, credential, false).await?;
        store.credential_source = source;
        Ok(store)
    }

    /// Asks for a token for `push` or pull, so that bad credentials fail before any transfer.
    async fn authenticate(&self, push: bool) -> Result<()> {
        let operation = if push { RegistryOperation::Push } else { RegistryOperation::Pull };
        let probe = self.reference(None);
        for client in [&self.client, &self.chunked] {
            client.auth(&probe, &self.auth, operation).await.map_err(|e| self.error(e, "authenticating"))?;
        }
        Ok(())
    }

    /// `HOST[:PORT]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The same registry and credentials, another repository, authenticated for pulling: no
    /// new connection.
    pub async fn repository(&self, repository: &str) -> Result<RegistryStore> {
        let store = RegistryStore {
            registry: self.registry.clone(),
            repository: repository.to_string(),
            client: self.client.clone(),
            chunked: self.chunked.clone(),
            http: self.http.clone(),
            auth: self.auth.clone(),
            plain_http: self.plain_http,
            credential_source: self.credential_source.clone(),
            manifests: Mutex::new(HashMap::new()),
        };
        store.authenticate(false).await?;
        Ok(store)
    }

    /// The registry's repositories (`/v2/_catalog`, page by page), those under `prefix` if given.
    pub async fn catalog(&self, prefix: Option<&str>) -> Result<Vec<String>> {
        const PAGE: usize = 100;
        let mut all = Vec::new();
        let mut last: Option<String> = None;
        loop {
            let page = self
                .client
                .catalog(&self.reference(None), &self.auth, Some(PAGE), last.as_deref())
                .await
                .map_err(|e| {
                    let e = self.error(e, "listing the repositories (/v2/_catalog)");
                    e.with_hint("this registry may not offer its catalogue (GHCR, Docker Hub don't): name repositories with --repo")
                })?;
            let n = page.repositories.len();
            // A registry that ignores `n` returns everything at once; one that honours it needs
            // another page while pages come back full.
            let next = page.repositories.last().cloned();
            all.extend(page.repositories);
            if n < PAGE || next.is_none() || next == last {
                break;
            }
            last = next;
        }
        if let Some(prefix) = prefix {
            let prefix = prefix.trim_end_matches('/');
            all.retain(|r| r == prefix || r.starts_with(&format!("{prefix}/")));
        }
        all.sort();
        all.dedup();
        Ok(all)
    }

    fn reference(&self, r: Option<&str>) -> oci_client::Reference {
        let (registry, repository) = (self.registry.clone(), self.repository.clone());
        match r {
            Some(d) if d.starts_with("sha256:") => {
                oci_client::Reference::with_digest(registry, repository, d.to_string())
            }
            Some(tag) => oci_client::Reference::with_tag(registry, repository, tag.to_string()),
            None => oci_client::Reference::with_tag(registry, repository, "latest".into()),
        }
    }

    fn host_port(&self) -> String {
        host_port(&self.registry, self.plain_http)
    }

    /// Maps an oci-client error to ours, saying what was being done.
    fn error(&self, e: OciDistributionError, doing: &str) -> Error {
        let at = format!("{}/{}", self.registry, self.repository);
        let login = format!("log in with: zoo-oci login {}", self.registry);
        let auth = |msg: String| Error::new(ErrorKind::Auth, msg).with_hint(login.clone());
        match e {
            OciDistributionError::UnauthorizedError { .. } => auth(format!("{doing} in {at}: not authorised")),
            OciDistributionError::AuthenticationFailure(msg) => {
                auth(format!("{doing} in {at}: authentication failed: {}", scrub(&msg)))
            }
            OciDistributionError::RegistryError { envelope, .. } => {
                let codes: Vec<&OciErrorCode> = envelope.errors.iter().map(|e| &e.code).collect();
                let text: Vec<String> =
                    envelope.errors.iter().map(|e| format!("{:?}: {}", e.code, e.message)).collect();
                let msg = format!("{doing} in {at}: the registry says {}", text.join("; "));
                if codes.iter().any(|c| matches!(c, OciErrorCode::Unauthorized | OciErrorCode::Denied)) {
                    auth(msg)
                } else if codes.iter().any(|c| {
                    matches!(
                        c,
                        OciErrorCode::NameUnknown
                            | OciErrorCode::ManifestUnknown
                            | OciErrorCode::BlobUnknown
                            | OciErrorCode::NotFound
                    )
                }) {
                    Error::not_found(format!("{doing} in {at}: not found ({})", text.join("; ")))
                } else if codes.iter().any(|c| matches!(c, OciErrorCode::Toomanyrequests)) {
                    Error::failed(msg).retryable()
                } else {
                    Error::failed(msg)
                }
            }
            OciDistributionError::ServerError { code, message, .. } => {
                let msg = format!("{doing} in {at}: HTTP {code}: {}", scrub(message.trim()));
                // Go's TLS servers (Distribution among them) answer a plain-HTTP request with
                // this 400 body: the server's own words are the only sign of what happened.
                if self.plain_http && code == 400 && message.contains("HTTP request to an HTTPS server") {
                    let failure = TransportFailure::NotPlainHttp;
                    return Error::transport(
                        failure,
                        format!("{doing}: {} speaks TLS, not plain HTTP", self.host_port()),
                    )
                    .with_hint("drop --plain-http");
                }
                match code {
                    401 | 403 => auth(msg),
                    404 => Error::not_found(msg),
                    408 | 429 | 500..=599 => Error::failed(msg).retryable(),
                    _ => Error::failed(msg),
                }
            }
            OciDistributionError::ImageManifestNotFoundError(_) => {
                Error::not_found(format!("{doing} in {at}: not found"))
            }
            OciDistributionError::IoError(io) => pipe::into_error(io, |io| {
                Error::transport(TransportFailure::Reset, format!("{doing} in {at}: the connection broke off"))
                    .with_cause(io)
            }),
            OciDistributionError::RequestError(re) => self.request_error(re, doing),
            other => Error::failed(format!("{doing} in {at}: {}", scrub(&other.to_string()))),
        }
    }

    fn request_error(&self, re: reqwest::Error, doing: &str) -> Error {
        // Some oci-client calls (blob HEAD, for one) report HTTP statuses as reqwest errors.
        if let Some(status) = re.status() {
            let code = status.as_u16();
            let message = status.canonical_reason().unwrap_or("").to_string();
            return self.error(OciDistributionError::ServerError { code, url: String::new(), message }, doing);
        }
        connection_error(re, doing, &self.registry, self.plain_http)
    }

    fn cached_manifest(&self, digest: &str) -> Option<Vec<u8>> {
        self.manifests.lock().expect("no panics").get(digest).cloned()
    }

    async fn upload(
        &self,
        client: &Client,
        descriptor: &Descriptor,
        data: BlobReader,
    ) -> std::result::Result<(), OciDistributionError> {
        let stream = ReaderStream::with_capacity(data, crate::artifact::archive::COPY_BUFFER)
            .map_err(OciDistributionError::IoError);
        let reference = self.reference(None);
        client.push_blob_stream(&reference, stream, &descriptor.digest, Some(descriptor.size)).await.map(|_| ())
    }
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

/// Whether a failed monolithic upload should be tried again in chunks: the registry refused
/// the method or the size, not the request's content or our rights.
fn refuses_monolithic(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => matches!(code, 400 | 405 | 411 | 413 | 415 | 416 | 501),
        OciDistributionError::SpecViolationError(_) => true,
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().any(|e| matches!(e.code, OciErrorCode::Unsupported | OciErrorCode::SizeInvalid))
        }
        _ => false,
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
        return TransportFailure::Timeout;
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(re);
    while let Some(e) = cause {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return match tls {
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                    TransportFailure::UntrustedCertificate
                }
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
            // rustls reports through io::Error; look inside.
            if let Some(inner) = io.get_ref() {
                cause = Some(inner);
                continue;
            }
        }
        cause = e.source();
    }
    TransportFailure::Other
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    chain
}

/// Checks a user name and password against a registry the way `docker login` does, touching
/// no repository: `GET /v2/` with the credentials; where the registry answers with a Bearer
/// challenge, a token request to its token service with them. Refused credentials are an
/// authorisation error naming the user.
pub async fn check_login(registry: &str, transport: &Transport, username: &str, password: &str) -> Result<()> {
    let scheme = if transport.plain_http { "http" } else { "https" };
    let client = http_client(registry, transport)?;
    let doing = format!("checking the credentials of {username} at {registry}");
    let connection = |e: reqwest::Error| connection_error(e, &doing, registry, transport.plain_http);
    let refused = || {
        Error::auth(format!("{registry} refused the credentials of user {username}"))
            .with_hint("check the user name and the password or token")
    };
    let response = client
        .get(format!("{scheme}://{registry}/v2/"))
        .basic_auth(username, Some(password))
        .send()
        .await
        .map_err(connection)?;
    if response.status().is_success() {
        return Ok(());
    }
    if response.status() != reqwest::StatusCode::UNAUTHORIZED {
        return Err(Error::failed(format!("{doing}: {scheme}://{registry}/v2/ answered HTTP {}", response.status()))
            .with_hint("is this an OCI registry?"));
    }
    let challenge = response
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let Some(bearer) = challenge.strip_prefix("Bearer ").or_else(|| challenge.strip_prefix("bearer ")) else {
        return Err(refused()); // Basic: the registry itself said no
    };
    let params = challenge_params(bearer);
    let realm = params.get("realm").ok_or_else(|| {
        Error::failed(format!("{doing}: the registry's Bearer challenge names no token service (realm)"))
    })?;
    let mut query = vec![("account", username.to_string())];
    if let Some(service) = params.get("service") {
        query.push(("service", service.clone()));
    }
    let token =
        client.get(realm).query(&query).basic_auth(username, Some(password)).send().await.map_err(connection)?;
    match token.status() {
        s if s.is_success() => Ok(()),
        reqwest::StatusCode::UNAUTHORIZED | reqwest::StatusCode::FORBIDDEN => Err(refused()),
        s => Err(Error::failed(format!("{doing}: the token service {realm} answered HTTP {s}"))),
    }
}

/// An HTTP client for what zoo-oci says to a registry itself (the login check, resumable
/// uploads), set up as oci-client's: the same trusted CAs, timeouts and `--insecure`.
fn http_client(registry: &str, transport: &Transport) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(transport.idle_timeout)
        .read_timeout(transport.idle_timeout);
    for pem in transport.trusted_cas(registry)? {
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| Error::usage("a trusted CA file holds no PEM certificate").with_cause(e))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    if transport.insecure {
        builder = builder.danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| Error::failed("could not set up the HTTP client").with_cause(e))
}

/// `realm="https://auth",service="registry"` as a map.
pub(super) fn challenge_params(text: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let (value, next) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.split_once('"') {
                Some((v, n)) => (v, n),
                None => (quoted, ""),
            },
            None => after.split_once(',').unwrap_or((after, "")),
        };
        params.insert(key, value.to_string());
        rest = next.trim_start_matches(',').trim();
    }
    params
}

/// A failure to talk to `registry` at all, said precisely.
fn connection_error(re: reqwest::Error, doing: &str, registry: &str, plain_http: bool) -> Error {
    let addr = host_port(registry, plain_http);
    let scheme = if plain_http { "http" } else { "https" };
    let failure = transport_failure(&re, plain_http);
    let chain = Scrubbed(error_chain(&re));
    match failure {
        TransportFailure::UntrustedCertificate => {
            Error::transport(failure, format!("{doing}: the TLS certificate of {addr} is not trusted"))
                .with_cause(chain)
                .with_hint("if the registry uses a private CA, pass its certificate with --ca-file PEM")
        }
        TransportFailure::Refused => {
            Error::transport(failure, format!("{doing}: connection refused by {addr} ({scheme})"))
                .with_hint("is the registry running and listening on that address?")
        }
        TransportFailure::Timeout => Error::transport(failure, format!("{doing}: timed out talking to {addr}")),
        TransportFailure::NotTls => Error::transport(failure, format!("{doing}: {addr} did not answer TLS")).with_hint(
            format!("the port seems to speak plain HTTP: if that is intended, add --plain-http ({})", registry),
        ),
        TransportFailure::NotPlainHttp => {
            Error::transport(failure, format!("{doing}: {addr} did not answer plain HTTP"))
                .with_hint("the registry may speak TLS: drop --plain-http")
        }
        TransportFailure::NameResolution => {
            Error::transport(failure, format!("{doing}: the host name of {addr} does not resolve"))
                .with_cause(chain)
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

fn describe_reference(reference: &Reference) -> String {
    match reference {
        Reference::Tag(t) => format!("tag {t}"),
        Reference::Digest(d) => format!("manifest {d}"),
    }
}

fn media_type_of(bytes: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
    }
    match serde_json::from_slice::<Probe>(bytes) {
        Ok(Probe { media_type: Some(m), .. }) => m,
        Ok(Probe { manifests: Some(_), .. }) => media::OCI_INDEX.into(),
        _ => media::OCI_MANIFEST.into(),
    }
}

#[async_trait]
impl Store for RegistryStore {
    fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        if is_manifest_type(&descriptor.media_type) {
            let r = self.reference(Some(&descriptor.digest));
            return match self.client.fetch_manifest_digest(&r, &self.auth).await {
                Ok(_) => Ok(true),
                Err(e) => match self.error(e, "checking a manifest") {
                    e if e.kind() == ErrorKind::NotFound => Ok(false),
                    e => Err(e),
                },
            };
        }
        self.client
            .blob_exists(&self.reference(None), &descriptor.digest)
            .await
            .map_err(|e| self.error(e, &format!("checking blob {}", descriptor.digest)))
    }
}

#[async_trait]
impl Source for RegistryStore {
    fn mount_origin(&self) -> Option<MountOrigin<'_>> {
        Some(MountOrigin { registry: &self.registry, repository: &self.repository })
    }

    fn referrers(&self) -> Option<&dyn Referrers> {
        Some(self)
    }

    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let r = match reference {
            Reference::Tag(t) => self.reference(Some(t)),
            Reference::Digest(d) => self.reference(Some(d)),
        };
        let pulled = self.client.pull_manifest_raw(&r, &self.auth, &ACCEPTED_MANIFESTS).await;
        let (bytes, _) = match pulled {
            Ok(found) => found,
            Err(e) => {
                let e = self.error(e, &format!("reading {}", describe_reference(reference)));
                if e.kind() != ErrorKind::NotFound || !matches!(reference, Reference::Tag(_)) {
                    return Err(e);
                }
                // Say which tags there are, when the repository lists them.
                return Err(match self.tags().await {
                    Ok(tags) if !tags.is_empty() => e.with_hint(format!("the tags are: {}", tags.join(", "))),
                    Ok(_) => e.with_hint("the repository holds no tags"),
                    Err(_) => e,
                });
            }
        };
        if bytes.len() > media::MANIFEST_LIMIT {
            return Err(Error::malformed(format!("the manifest of {}{reference} is over 4 MiB", self.name())));
        }
        let digest = digest::of_bytes(&bytes);
        if let Reference::Digest(d) = reference
            && *d != digest
        {
            return Err(Error::integrity(
                IntegrityFailure::DigestMismatch,
                format!("{}{reference}: the registry sent a manifest with digest {digest}", self.name()),
            ));
        }
        let descriptor = Descriptor::new(&media_type_of(&bytes), digest.clone(), bytes.len() as u64);
        self.manifests.lock().expect("no panics").insert(digest, bytes.to_vec());
        Ok(descriptor)
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        let bytes = match self.cached_manifest(&descriptor.digest) {
            Some(b) => b,
            None => {
                let r = self.reference(Some(&descriptor.digest));
                let accepted = [descriptor.media_type.as_str()];
                let (bytes, _) = self
                    .client
                    .pull_manifest_raw(&r, &self.auth, &accepted)
                    .await
                    .map_err(|e| self.error(e, &format!("reading manifest {}", descriptor.digest)))?;
                bytes.to_vec()
            }
        };
        let what = format!("manifest {} from {}", descriptor.digest, self.name());
        digest::verify_bytes(&what, &descriptor.digest, descriptor.size, &bytes)?;
        Ok(bytes)
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        // Every destination verifies what it reads (the Target contract), so ask for the whole
        // blob as a range: oci-client then skips its own hash of the stream, a full sha256 pass
        // per blob. A registry that ignores ranges answers 200, and oci-client verifies that.
        let reference = self.reference(None);
        let layer = descriptor.digest.as_str();
        let response = if descriptor.size > 0 {
            self.client.pull_blob_stream_partial(&reference, layer, 0, Some(descriptor.size)).await
        } else {
            self.client.pull_blob_stream(&reference, layer).await.map(BlobResponse::Full)
        };
        let sized = match response.map_err(|e| self.error(e, &format!("downloading blob {}", descriptor.digest)))? {
            BlobResponse::Full(s) | BlobResponse::Partial(s) => s,
        };
        Ok(blob_reader(sized.stream, descriptor.size))
    }

    fn ranged(&self) -> Option<&dyn RangedFetch> {
        Some(self)
    }

    async fn tags(&self) -> Result<Vec<String>> {
        let response = self
            .client
            .list_tags(&self.reference(None), &self.auth, None, None)
            .await
            .map_err(|e| self.error(e, "listing tags"))?;
        let mut tags = response.tags;
        tags.sort();
        Ok(tags)
    }
}

#[async_trait]
impl Sink for RegistryStore {
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        if descriptor.size >= super::upload::RESUMABLE_FROM {
            let (basic, bearer) = match &self.auth {
                RegistryAuth::Basic(u, p) => (Some((u.as_str(), p.as_str())), None),
                RegistryAuth::Bearer(t) => (None, Some(t.as_str())),
                _ => (None, None),
            };
            let scheme = if self.plain_http { "http" } else { "https" };
            let session = super::upload::Session {
                http: &self.http,
                base: format!("{scheme}://{}", self.registry),
                repository: &self.repository,
                basic,
                bearer,
            };
            let doing = format!("uploading blob {} in a resumable session", descriptor.digest);
            return session.push(descriptor, open).await.map_err(|e| e.context(doing));
        }
        let data = open().await?;
        match self.upload(&self.client, descriptor, data).await {
            Ok(()) => Ok(()),
            Err(e) if refuses_monolithic(&e) => {
                // The stream was consumed: open it again for the chunked upload.
                let data = open().await?;
                self.upload(&self.chunked, descriptor, data)
                    .await
                    .map_err(|e| self.error(e, &format!("uploading blob {} in chunks", descriptor.digest)))
            }
            Err(e) => Err(self.error(e, &format!("uploading blob {}", descriptor.digest))),
        }
    }

    fn mounter(&self) -> Option<&dyn Mounter> {
        Some(self)
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
    async fn fetch_blob_from(&self, descriptor: &Descriptor, offset: u64) -> Result<Option<BlobReader>> {
        let left = descriptor.size.saturating_sub(offset);
        let response = self
            .client
            .pull_blob_stream_partial(&self.reference(None), descriptor.digest.as_str(), offset, Some(left))
            .await
            .map_err(|e| self.error(e, &format!("downloading blob {} from byte {offset}", descriptor.digest)))?;
        match response {
            BlobResponse::Partial(s) => Ok(Some(blob_reader(s.stream, left))),
            BlobResponse::Full(_) => Ok(None), // the registry ignored the range
        }
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

#[async_trait]
impl Referrers for RegistryStore {
    /// The referrers API, or the tag schema where the registry has no such API (oci-client
    /// falls back on a 404, as the distribution spec says).
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        let image = self.reference(Some(&subject.digest));
        let index = self
            .client
            .pull_referrers(&image, None)
            .await
            .map_err(|e| self.error(e, &format!("listing the referrers of {}", subject.digest)))?;
        Ok(index
            .manifests
            .into_iter()
            .map(|m| {
                let mut d = Descriptor::new(&m.media_type, m.digest, m.size.max(0) as u64);
                d.artifact_type = m.artifact_type;
                d.annotations = m.annotations.unwrap_or_default();
                d
            })
            .collect())
    }
}

impl RegistryStore {
    async fn put_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()> {
        let r = self.reference(Some(tag.unwrap_or(&descriptor.digest)));
        let content_type = descriptor
            .media_type
            .parse()
            .map_err(|_| Error::failed(format!("invalid media type {:?}", descriptor.media_type)))?;
        self.client
            .push_manifest_raw(&r, bytes.to_vec(), content_type)
            .await
            .map_err(|e| self.error(e, &format!("storing manifest {}", descriptor.digest)))?;
        Ok(())
    }

    /// Lists a referrer in the index tagged `sha256-<hex>` of its subject: the distribution
    /// spec's tag schema, which is how clients find referrers on registries without the
    /// referrers API (CNCF Distribution 2.8 among them). Registries that have the API list the
    /// referrer from its `subject` themselves; oci-client cannot tell us which kind this is
    /// (the `OCI-Subject` header of the answer is not exposed), so the tag is always kept.
    async fn list_in_referrers_tag(&self, subject: &str, entry: Descriptor) -> Result<()> {
        let tag = subject.replace(':', "-");
        let mut index = match self.resolve(&Reference::Tag(tag.clone())).await {
            Ok(found) if found.media_type == media::OCI_INDEX => {
                let what = format!("the referrers index {tag}");
                manifest::parse_index(&self.fetch_manifest(&found).await?, &what)?
            }
            Ok(_) => return Ok(()), // something else holds the tag: leave it alone
            Err(e) if e.kind() == ErrorKind::NotFound => Index {
                schema_version: 2,
                media_type: Some(media::OCI_INDEX.into()),
                manifests: Vec::new(),
                annotations: Default::default(),
                other: Default::default(),
            },
            Err(e) => return Err(e),
        };
        if index.manifests.iter().any(|m| m.digest == entry.digest) {
            return Ok(());
        }
        index.manifests.push(entry);
        let bytes = serde_json::to_vec(&index).expect("indexes serialise");
        self.put_manifest(&Descriptor::for_bytes(media::OCI_INDEX, &bytes), &bytes, Some(&tag)).await
    }
}

#[async_trait]
impl Mounter for RegistryStore {
    async fn mount(&self, descriptor: &Descriptor, from: MountOrigin<'_>) -> Result<bool> {
        if from.registry != self.registry || from.repository == self.repository || descriptor.is_manifest() {
            return Ok(false);
        }
        let source =
            oci_client::Reference::with_tag(from.registry.to_string(), from.repository.to_string(), "latest".into());
        // Any failure means "upload it instead" (a 202 starts an upload session we drop).
        Ok(self.client.mount_blob(&self.reference(None), &source, &descriptor.digest).await.is_ok())
    }
}

#[async_trait]
impl Tagger for RegistryStore {
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<()> {
        let bytes = self.fetch_manifest(descriptor).await?;
        self.push_manifest(descriptor, &bytes, Some(tag)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_hides_authorization_values() {
        let s = scrub("bad header Authorization: Basic dXNlcjpwYXNz here");
        assert!(!s.contains("dXNlcjpwYXNz"), "{s}");
        assert_eq!(media_type_of(br#"{"manifests":[]}"#), media::OCI_INDEX);
        assert_eq!(media_type_of(br#"{"mediaType":"x"}"#), "x");
    }
}
