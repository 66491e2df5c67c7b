//! The distribution API over HTTP: one reqwest client per registry with our own TLS
//! ([`super::tls`]), the registry's authentication (anonymous, Basic, or Bearer tokens from the
//! token service its challenge names, one per scope, renewed when the registry says 401), and
//! its answers mapped to the library's errors.
//!
//! Written here rather than taken from oci-client, which zoo-oci used until 0.x: oci-client 0.18
//! builds its reqwest client from a config with no TLS hook, so it can neither accept the
//! self-signed certificate Distribution's docs make nor present a client certificate for mutual
//! TLS; and it hides the answers that resuming and the referrers API need (an upload's
//! `Location` and `Range`, a manifest PUT's `OCI-Subject`). The protocol part is small: a few
//! GET/HEAD/PUT/POST/PATCH on `/v2/` and the token dance.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{AUTHORIZATION, HeaderMap, LINK, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::{Transport, connection_error, host_port, scrub};
use crate::credentials::Credential;
use crate::error::{Error, Result, TransportFailure};

const USER_AGENT: &str = concat!("zoo-oci/", env!("CARGO_PKG_VERSION"));
/// The most of an error answer's body read, to quote it.
const ERROR_BODY_LIMIT: usize = 64 << 10;

/// What a request may do, as the token service's `scope` parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenScope(Vec<String>);

impl TokenScope {
    /// Read `repository`.
    pub fn pull(repository: &str) -> TokenScope {
        TokenScope(vec![format!("repository:{repository}:pull")])
    }

    /// Read and write `repository`.
    pub fn push(repository: &str) -> TokenScope {
        TokenScope(vec![format!("repository:{repository}:pull,push")])
    }

    /// List the registry's repositories.
    pub fn catalog() -> TokenScope {
        TokenScope(vec!["registry:catalog:*".into()])
    }

    /// Both scopes at once (a cross-repository mount reads one repository and writes another).
    pub fn and(mut self, other: TokenScope) -> TokenScope {
        self.0.extend(other.0);
        self
    }

    fn key(&self) -> String {
        self.0.join(" ")
    }
}

/// How the registry wants to be authenticated, from its `WWW-Authenticate` header.
#[derive(Debug, Clone)]
enum Challenge {
    /// It asked for nothing.
    None,
    /// HTTP Basic with the user's credentials on every request.
    Basic,
    /// A token from `realm`, for `service`.
    Bearer { realm: String, service: Option<String> },
}

impl Challenge {
    fn of(headers: &HeaderMap) -> Challenge {
        let value = headers.get(WWW_AUTHENTICATE).and_then(|h| h.to_str().ok()).unwrap_or_default().trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            let params = challenge_params(rest);
            if let Some(realm) = params.get("realm") {
                return Challenge::Bearer { realm: realm.clone(), service: params.get("service").cloned() };
            }
        }
        // A 401 says authentication is needed even when its header is missing or odd: Basic is
        // what is left to offer.
        Challenge::Basic
    }
}

/// A registry's answer that was not the one asked for, read once.
#[derive(Debug)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// The error codes of the distribution spec's envelope (`NAME_UNKNOWN`, `DENIED`, ...).
    pub codes: Vec<String>,
    /// What the registry said, for the message: the envelope's messages or the body's start.
    pub text: String,
}

impl Refusal {
    /// Reads what `response` says.
    pub async fn read(response: Response) -> Refusal {
        let status = response.status();
        let body = read_limited(response, ERROR_BODY_LIMIT).await.unwrap_or_default();
        #[derive(serde::Deserialize)]
        struct Envelope {
            errors: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            code: String,
            #[serde(default)]
            message: String,
        }
        match serde_json::from_slice::<Envelope>(&body) {
            Ok(envelope) if !envelope.errors.is_empty() => Refusal {
                status,
                text: envelope
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.code, e.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                codes: envelope.errors.into_iter().map(|e| e.code).collect(),
            },
            _ => {
                let text = String::from_utf8_lossy(&body).trim().chars().take(300).collect::<String>();
                Refusal { status, codes: Vec::new(), text }
            }
        }
    }

    /// Whether the registry says the thing asked for does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status == StatusCode::NOT_FOUND
            || self.codes.iter().any(|c| matches!(c.as_str(), "NAME_UNKNOWN" | "MANIFEST_UNKNOWN" | "BLOB_UNKNOWN"))
    }

    fn has(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }
}

/// One registry, spoken to over HTTP.
pub struct Api {
    http: reqwest::Client,
    /// `https://HOST[:PORT]` or `http://HOST[:PORT]`.
    base: String,
    /// The same, parsed: the one origin the credentials go to.
    origin: reqwest::Url,
    registry: String,
    plain_http: bool,
    credential: Credential,
    /// Whether a client certificate is offered (mutual TLS).
    offers_identity: bool,
    /// The registry's answer to an unauthenticated `GET /v2/`, once asked.
    challenge: tokio::sync::OnceCell<Challenge>,
    /// The `Authorization` value for each scope, once known (`None`: the registry wants none).
    authorizations: Mutex<HashMap<String, Option<String>>>,
    /// How long a connection may stay silent (`--timeout`).
    idle_timeout: std::time::Duration,
}

impl Api {
    /// A client for `registry` (`HOST[:PORT]`) set up by `transport`, that authenticates with
    /// `credential`. Nothing is sent yet.
    pub fn new(registry: &str, transport: &Transport, credential: Credential) -> Result<Api> {
        let mut offers_identity = false;
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(transport.idle_timeout)
            .read_timeout(transport.idle_timeout);
        if !transport.plain_http {
            let config = super::tls::client_config(transport, registry)?;
            offers_identity = config.client_auth_cert_resolver.has_certs();
            builder = builder.tls_backend_preconfigured(config);
        }
        let http = builder
            .redirect(reqwest::redirect::Policy::custom(redirect))
            .build()
            .map_err(|e| Error::failed("could not set up the HTTP client").with_cause(e))?;
        let scheme = if transport.plain_http { "http" } else { "https" };
        let base = format!("{scheme}://{}", api_host(registry));
        let origin = reqwest::Url::parse(&base)
            .map_err(|e| Error::usage(format!("{registry:?} is not a registry host")).with_cause(e))?;
        Ok(Api {
            http,
            base,
            origin,
            registry: registry.to_string(),
            plain_http: transport.plain_http,
            credential,
            offers_identity,
            challenge: tokio::sync::OnceCell::new(),
            authorizations: Mutex::new(HashMap::new()),
            idle_timeout: transport.idle_timeout,
        })
    }

    /// How long a connection may stay silent before it counts as stalled (`--timeout`).
    pub fn idle_timeout(&self) -> std::time::Duration {
        self.idle_timeout
    }

    /// The URL of `path` (`/v2/...`) on this registry; absolute URLs (an upload's `Location`)
    /// are kept.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// `HOST[:PORT]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Sends the request `build` makes with the authorization `scope` needs. On a 401 (an
    /// expired token, or a registry that only now asks) it learns the new challenge and sends
    /// once more. The answer is returned whatever its status.
    ///
    /// Credentials go to this registry's origin only: a URL it hands out elsewhere (an upload
    /// `Location` on S3 or a CDN) is followed without them, as containerd and oras-go do, and
    /// a plain-HTTP one from a TLS registry is refused ([`Api::credentials_go_to`]).
    pub async fn send(
        &self,
        scope: &TokenScope,
        doing: &str,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let mut authorization: Option<Option<String>> = None;
        let mut renewed = false;
        loop {
            let mut request = self.request(build(&self.http), doing)?;
            let ours = self.credentials_go_to(request.url(), doing)?;
            if ours {
                let value = match &authorization {
                    Some(known) => known.clone(),
                    None => authorization.insert(self.authorization(scope, doing).await?).clone(),
                };
                authorize_request(&mut request, value.as_deref())?;
            }
            let response = self.http.execute(request).await.map_err(|e| self.connection_error(e, doing))?;
            // Another origin's 401 is its answer: our tokens are not for it.
            if !ours || response.status() != StatusCode::UNAUTHORIZED || renewed {
                return Ok(response);
            }
            renewed = true;
            let challenge = Challenge::of(response.headers());
            let value = self.authorize(&challenge, Some(scope), doing).await?;
            self.authorizations.lock().expect("no panics").insert(scope.key(), value.clone());
            authorization = Some(value);
        }
    }

    /// Sends `request` once with the authorization `scope` needs: for bodies that cannot be
    /// sent twice (a stream). Send something small with [`send`](Self::send) first, so that a
    /// token is fresh. Credentials go as in [`send`](Self::send): to this registry's origin only.
    pub async fn send_once(
        &self,
        scope: &TokenScope,
        doing: &str,
        build: impl FnOnce(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response> {
        let mut request = self.request(build(&self.http), doing)?;
        if self.credentials_go_to(request.url(), doing)? {
            authorize_request(&mut request, self.authorization(scope, doing).await?.as_deref())?;
        }
        self.http.execute(request).await.map_err(|e| self.connection_error(e, doing))
    }

    fn request(&self, builder: RequestBuilder, doing: &str) -> Result<reqwest::Request> {
        builder.build().map_err(|e| self.connection_error(e, doing))
    }

    /// Whether `url` is this registry's origin (scheme, host and port), where its credentials
    /// may go. A URL elsewhere is followed without them; a plain-HTTP URL handed out by a TLS
    /// registry is refused: what goes there (a layer, a token in its query) would cross the
    /// network in the clear, and a registry that means it is misconfigured.
    pub fn credentials_go_to(&self, url: &reqwest::Url, doing: &str) -> Result<bool> {
        if self.origin.scheme() == "https" && url.scheme() != "https" {
            return Err(Error::failed(format!(
                "{doing}: {} handed out a plain-HTTP address ({}://{}), which zoo-oci does not follow from a TLS registry",
                self.registry,
                url.scheme(),
                url.host_str().unwrap_or_default()
            ))
            .with_hint("the registry (or a proxy in front of it) should give https:// addresses: check its base URL setting"));
        }
        Ok(same_origin(&self.origin, url))
    }

    /// Harbor's `GET /api/v2.0/systeminfo`, with the user's Basic credentials for this registry
    /// (Harbor tells its version only to a signed-in user): `None` when the registry does not
    /// answer it as Harbor does (any other registry), else the version when told. Best effort:
    /// a failure means "not a Harbor", never an error of the push.
    pub async fn harbor(&self) -> Option<Option<String>> {
        use base64::Engine as _;
        // Asked of every registry a push goes to: one that does not answer soon is no Harbor.
        let wait = self.idle_timeout.min(std::time::Duration::from_secs(5));
        let mut request = self.http.get(self.url("/api/v2.0/systeminfo")).timeout(wait);
        if let Credential::Basic { username, password } = &self.credential {
            let pair = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
            request = request.header(AUTHORIZATION, format!("Basic {pair}"));
        }
        let response = request.send().await.ok().filter(|r| r.status().is_success())?;
        let body = read_limited(response, 64 * 1024).await.ok()?;
        let info: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&body).ok()?;
        // Every Harbor answers its auth mode, signed in or not.
        if !info.contains_key("auth_mode") && !info.contains_key("harbor_version") {
            return None;
        }
        // Printed in a notice: nothing a server sends is printed with its control characters.
        let version = info.get("harbor_version").and_then(|v| v.as_str());
        Some(version.map(|v| v.chars().filter(|c| !c.is_control()).take(64).collect()))
    }

    /// Checks the credentials before any transfer, the way `docker login` does: `/v2/` with
    /// them where the registry wants Basic, a token request where it wants Bearer (for `scope`,
    /// or no scope for a login). Refused credentials are an authorisation error naming the user.
    pub async fn verify(&self, scope: Option<&TokenScope>, doing: &str) -> Result<()> {
        let challenge = self.challenge(doing).await?;
        let authorization = self.authorize(&challenge, scope, doing).await?;
        if let Challenge::Basic = challenge {
            let mut request = self.http.get(self.url("/v2/"));
            if let Some(value) = &authorization {
                request = request.header(AUTHORIZATION, value);
            }
            let response = request.send().await.map_err(|e| self.connection_error(e, doing))?;
            match response.status() {
                s if s.is_success() => {}
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => return Err(self.refused()),
                _ => return Err(self.refusal(Refusal::read(response).await, doing)),
            }
        }
        if let Some(scope) = scope {
            self.authorizations.lock().expect("no panics").insert(scope.key(), authorization);
        }
        Ok(())
    }

    async fn authorization(&self, scope: &TokenScope, doing: &str) -> Result<Option<String>> {
        if let Some(known) = self.authorizations.lock().expect("no panics").get(&scope.key()) {
            return Ok(known.clone());
        }
        let challenge = self.challenge(doing).await?;
        let authorization = self.authorize(&challenge, Some(scope), doing).await?;
        self.authorizations.lock().expect("no panics").insert(scope.key(), authorization.clone());
        Ok(authorization)
    }

    /// What the registry answers to `GET /v2/` without credentials.
    async fn challenge(&self, doing: &str) -> Result<Challenge> {
        let challenge = self
            .challenge
            .get_or_try_init(|| async {
                let response =
                    self.http.get(self.url("/v2/")).send().await.map_err(|e| self.connection_error(e, doing))?;
                match response.status() {
                    s if s.is_success() => Ok(Challenge::None),
                    StatusCode::UNAUTHORIZED => Ok(Challenge::of(response.headers())),
                    _ => {
                        let refusal = Refusal::read(response).await;
                        let error = self.refusal(refusal, &format!("{doing}: {}/v2/", self.base));
                        Err(if error.kind() == crate::error::ErrorKind::NotFound {
                            error.with_hint("is this an OCI registry?")
                        } else {
                            error
                        })
                    }
                }
            })
            .await?;
        Ok(challenge.clone())
    }

    /// The `Authorization` value that answers `challenge` for `scope`.
    async fn authorize(
        &self,
        challenge: &Challenge,
        scope: Option<&TokenScope>,
        doing: &str,
    ) -> Result<Option<String>> {
        use base64::Engine as _;
        let basic = match &self.credential {
            // An identity token goes to the registry as it is (what oci-client did, and what
            // registries that hand them out accept).
            Credential::Token(token) => return Ok(Some(format!("Bearer {token}"))),
            Credential::Basic { username, password } => Some((username.as_str(), password.as_str())),
            Credential::Anonymous => None,
        };
        let (realm, service) = match challenge {
            Challenge::None => return Ok(None),
            Challenge::Basic => {
                return match basic {
                    Some((u, p)) => {
                        let pair = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                        Ok(Some(format!("Basic {pair}")))
                    }
                    None => Err(Error::auth(format!("{} asks for credentials", self.registry))
                        .with_hint(format!("log in with: zoo-oci login {}", self.registry))),
                };
            }
            Challenge::Bearer { realm, service } => (realm, service),
        };
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(service) = service {
            query.push(("service", service.clone()));
        }
        for s in scope.map(|s| s.0.as_slice()).unwrap_or_default() {
            query.push(("scope", s.clone()));
        }
        if let Some((username, _)) = basic {
            query.push(("account", username.to_string()));
        }
        // The password goes to the token service the registry names (another origin, often),
        // but never in the clear from a TLS registry.
        if basic.is_some() && self.origin.scheme() == "https" && !realm.starts_with("https://") {
            return Err(Error::auth(format!(
                "{doing}: {} names a plain-HTTP token service, {}; the password is not sent there",
                self.registry,
                realm.split('?').next().unwrap_or_default()
            ))
            .with_hint("the registry's token service should be https://: check its auth realm setting"));
        }
        let mut request = self.http.get(realm).query(&query);
        if let Some((u, p)) = basic {
            request = request.basic_auth(u, Some(p));
        }
        let doing_token = format!("{doing}: asking {realm} for a token");
        let response =
            request.send().await.map_err(|e| connection_error(e, &doing_token, realm, false, self.offers_identity))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if basic.is_some() => return Err(self.refused()),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(Error::auth(format!("{doing}: {} gives no anonymous access", self.registry))
                    .with_hint(format!("log in with: zoo-oci login {}", self.registry)));
            }
            s => return Err(Error::failed(format!("{doing_token}: HTTP {s}")).retryable_if(s.is_server_error())),
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let token: Token = response
            .json()
            .await
            .map_err(|e| Error::auth(format!("{doing_token}: the answer is not a token")).with_cause(e))?;
        let token = token
            .token
            .or(token.access_token)
            .ok_or_else(|| Error::auth(format!("{doing_token}: the answer holds no token")))?;
        Ok(Some(format!("Bearer {token}")))
    }

    fn refused(&self) -> Error {
        match &self.credential {
            Credential::Basic { username, .. } => {
                Error::auth(format!("{} refused the credentials of user {username}", self.registry))
                    .with_hint(format!("check the user name and password, then: zoo-oci login {}", self.registry))
            }
            _ => Error::auth(format!("{} refused the credentials", self.registry))
                .with_hint(format!("log in with: zoo-oci login {}", self.registry)),
        }
    }

    /// The error for a registry's refusal of what `doing` asked.
    pub fn refusal(&self, refusal: Refusal, doing: &str) -> Error {
        let says = if refusal.text.is_empty() {
            format!("HTTP {}", refusal.status)
        } else {
            format!("HTTP {}: {}", refusal.status, scrub(&refusal.text))
        };
        let message = format!("{doing}: the registry says {says}");
        // Go's TLS servers (Distribution among them) answer a plain-HTTP request with this 400
        // body: the server's own words are the only sign of what happened.
        if self.plain_http
            && refusal.status == StatusCode::BAD_REQUEST
            && refusal.text.contains("HTTP request to an HTTPS server")
        {
            return Error::transport(
                TransportFailure::NotPlainHttp,
                format!("{doing}: {} speaks TLS, not plain HTTP", host_port(&self.registry, true)),
            )
            .with_hint("drop --plain-http");
        }
        let login = format!("log in with: zoo-oci login {}", self.registry);
        if matches!(refusal.status.as_u16(), 401 | 403) || refusal.has("UNAUTHORIZED") || refusal.has("DENIED") {
            return Error::auth(message).with_hint(login);
        }
        if refusal.is_not_found() {
            let what = if refusal.text.is_empty() { String::new() } else { format!(" ({})", scrub(&refusal.text)) };
            return Error::not_found(format!("{doing}: not found{what}"));
        }
        let transient = matches!(refusal.status.as_u16(), 408 | 429 | 500..=599) || refusal.has("TOOMANYREQUESTS");
        Error::failed(message).retryable_if(transient)
    }

    /// A failure to talk to the registry at all.
    pub fn connection_error(&self, e: reqwest::Error, doing: &str) -> Error {
        if let Some(carried) = crate::stream::carried(&e) {
            return carried;
        }
        connection_error(e, doing, &self.registry, self.plain_http, self.offers_identity)
    }
}

/// Where a registry's API answers: Docker Hub's is not at `docker.io`.
fn api_host(registry: &str) -> &str {
    match registry {
        "docker.io" | "index.docker.io" => "registry-1.docker.io",
        other => other,
    }
}

/// Whether `a` and `b` are one origin: the same scheme, host and port (RFC 6454).
fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// Sets `request`'s `Authorization`, marked sensitive (kept out of reqwest's debug output).
fn authorize_request(request: &mut reqwest::Request, value: Option<&str>) -> Result<()> {
    if let Some(value) = value {
        let mut value = reqwest::header::HeaderValue::from_str(value)
            .map_err(|_| Error::auth("the registry's token cannot be sent: it holds characters a header cannot"))?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
    }
    Ok(())
}

/// How redirects are followed (a blob download sent on to a CDN): at most 10, never from TLS
/// down to plain HTTP. reqwest drops `Authorization` on a redirect to another origin.
fn redirect(attempt: reqwest::redirect::Attempt) -> reqwest::redirect::Action {
    if attempt.previous().len() >= 10 {
        attempt.error("too many redirects")
    } else if attempt.url().scheme() != "https" && attempt.previous().iter().any(|u| u.scheme() == "https") {
        let to = format!("{}://{}", attempt.url().scheme(), attempt.url().host_str().unwrap_or_default());
        attempt.error(format!("a redirect from TLS down to plain HTTP ({to}) is not followed"))
    } else {
        attempt.follow()
    }
}

/// Up to `limit` bytes of `response`'s body; more is an error.
pub async fn read_limited(mut response: Response, limit: usize) -> std::result::Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Http)? {
        if body.len() + chunk.len() > limit {
            return Err(ReadError::TooBig);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum ReadError {
    /// The connection failed.
    Http(reqwest::Error),
    /// The body is over the limit.
    TooBig,
}

/// The next page's path from a `Link: </v2/...>; rel="next"` header, if any.
pub fn next_page(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(LINK)?.to_str().ok()?;
    link.split(',').find(|part| part.contains("rel=\"next\"") || part.contains("rel=next")).and_then(|part| {
        let start = part.find('<')? + 1;
        let end = part.find('>')?;
        Some(part[start..end].to_string())
    })
}

/// `realm="https://auth",service="registry"` as a map.
fn challenge_params(text: &str) -> HashMap<String, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_and_links_are_read_as_registries_write_them() {
        let mut headers = HeaderMap::new();
        headers.insert(
            WWW_AUTHENTICATE,
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a:pull""#
                .parse()
                .unwrap(),
        );
        match Challenge::of(&headers) {
            Challenge::Bearer { realm, service } => {
                assert_eq!(realm, "https://auth.example/token");
                assert_eq!(service.as_deref(), Some("registry.example"));
            }
            other => panic!("{other:?}"),
        }
        headers.insert(WWW_AUTHENTICATE, r#"Basic realm="zoo""#.parse().unwrap());
        assert!(matches!(Challenge::of(&headers), Challenge::Basic));
        headers.insert(LINK, r#"</v2/_catalog?last=b&n=2>; rel="next""#.parse().unwrap());
        assert_eq!(next_page(&headers).as_deref(), Some("/v2/_catalog?last=b&n=2"));
        assert_eq!(TokenScope::push("a").and(TokenScope::pull("b")).key(), "repository:a:pull,push repository:b:pull");
    }

    #[test]
    fn credentials_go_to_the_registry_s_own_origin_only_and_tls_is_never_left_for_plain_http() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let tls = Api::new("registry.example:5000", &Transport::default(), Credential::Anonymous).unwrap();
        let ours = tls.credentials_go_to(&url("https://registry.example:5000/v2/a/blobs/uploads/x?y=1"), "x");
        assert!(ours.unwrap());
        for elsewhere in [
            "https://s3.example/bucket/x",
            "https://registry.example/v2/a/blobs/uploads/x",
            "https://registry.example:5001/v2/",
            "https://evil.registry.example:5000/v2/",
        ] {
            assert!(!tls.credentials_go_to(&url(elsewhere), "x").unwrap(), "{elsewhere}");
        }
        let down = tls.credentials_go_to(&url("http://registry.example:5000/v2/a/blobs/uploads/x"), "uploading");
        let message = down.unwrap_err().to_string();
        assert!(message.contains("plain-HTTP address (http://registry.example)"), "{message}");
        let plain = Transport { plain_http: true, ..Transport::default() };
        let plain = Api::new("localhost:5000", &plain, Credential::Anonymous).unwrap();
        assert!(plain.credentials_go_to(&url("http://localhost:5000/v2/"), "x").unwrap());
        assert!(!plain.credentials_go_to(&url("https://localhost:5000/v2/"), "x").unwrap());
        assert!(!plain.credentials_go_to(&url("http://127.0.0.1:5000/v2/"), "x").unwrap());
    }
}
