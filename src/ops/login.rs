//! `login` and `logout`: credentials for a registry, checked, then kept in the Docker config
//! as `docker login` keeps them.

use std::path::PathBuf;

use serde::Serialize;

use super::Context;
use crate::credentials;
use crate::error::{Error, Result};
use crate::store::registry;

/// Whose credentials, for which registry.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginOptions {
    /// The registry, `HOST[:PORT]` (a URL's scheme and a trailing `/` are dropped).
    pub registry: String,
    /// The user name.
    pub username: String,
    /// The password or token.
    pub password: String,
}

impl LoginOptions {
    /// Logs in to `registry` as `username`.
    pub fn new(registry: impl Into<String>, username: impl Into<String>, password: impl Into<String>) -> Self {
        LoginOptions { registry: registry.into(), username: username.into(), password: password.into() }
    }
}

/// Where the credentials went.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LoginReport {
    /// The registry.
    pub registry: String,
    /// The user.
    pub username: String,
    /// The Docker config file written.
    pub config: PathBuf,
}

/// Which registry to forget.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LogoutOptions {
    /// The registry, `HOST[:PORT]`.
    pub registry: String,
    /// The Docker config to remove them from (`--docker-config`); `None`: `$DOCKER_CONFIG`'s,
    /// else `~/.docker/config.json`.
    pub docker_config: Option<std::path::PathBuf>,
}

impl LogoutOptions {
    /// Logs out of `registry`.
    pub fn new(registry: impl Into<String>) -> Self {
        LogoutOptions { registry: registry.into(), docker_config: None }
    }
}

/// What logout removed.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LogoutReport {
    /// The registry.
    pub registry: String,
    /// Whether credentials had been stored for it.
    pub removed: bool,
}

/// Checks the credentials against the registry (`/v2/`, and its token service where it has
/// one), then stores them in the Docker config: the file the context's transport names
/// (`--docker-config`), else the usual one. Nothing is stored when the registry refuses them.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, LoginOptions};
/// let options = LoginOptions::new("ghcr.io", "me", "token");
/// let report = ops::login(&options, &Context::default()).await?;
/// println!("saved in {}", report.config.display());
/// # Ok(()) }
/// ```
pub async fn login(options: &LoginOptions, context: &Context) -> Result<LoginReport> {
    let registry = registry_host(&options.registry)?;
    if options.password.is_empty() {
        return Err(Error::usage("the password is empty"));
    }
    context.reach(&registry, &format!("logging in to {registry}"))?;
    registry::check_login(&registry, &context.transport, &options.username, &options.password).await?;
    let config = credentials::store(&registry, &options.username, &options.password, &context.transport.credentials)?;
    Ok(LoginReport { registry, username: options.username.clone(), config })
}

/// Removes a registry's credentials from the Docker config (the one `docker_config` names, else
/// the usual one).
///
/// ```no_run
/// let report = zoo_oci::ops::logout(&zoo_oci::ops::LogoutOptions::new("ghcr.io"))?;
/// assert_eq!(report.registry, "ghcr.io");
/// # Ok::<(), zoo_oci::Error>(())
/// ```
pub fn logout(options: &LogoutOptions) -> Result<LogoutReport> {
    let registry = registry_host(&options.registry)?;
    let lookup = credentials::Lookup { docker_config: options.docker_config.clone() };
    let removed = credentials::remove(&registry, &lookup)?;
    Ok(LogoutReport { registry, removed })
}

/// `HOST[:PORT]` from what a user typed: `https://ghcr.io/` is `ghcr.io`.
pub fn registry_host(text: &str) -> Result<String> {
    let host = text.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(
            Error::usage(format!("{text:?} is not a registry host")).with_hint("name it as HOST[:PORT], e.g. ghcr.io")
        );
    }
    Ok(host.to_string())
}
