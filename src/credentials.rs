//! Registry credentials the way Docker and Podman users expect: `ZOO_OCI_USERNAME` /
//! `ZOO_OCI_PASSWORD`, the Docker config (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`,
//! with its `auths`, `credHelpers` and `credsStore`), then Podman's `auth.json`. `login` writes the
//! Docker config as `docker login` does. Secrets never reach a message: [`Credential`]'s `Debug`
//! hides them.

use std::fmt;
use std::fs;
use std::io::Write;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Environment variables that name a user and password for every registry.
pub const USERNAME_ENV: &str = "ZOO_OCI_USERNAME";
/// See [`USERNAME_ENV`].
pub const PASSWORD_ENV: &str = "ZOO_OCI_PASSWORD";

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// No credentials: anonymous access.
    Anonymous,
    /// A user name and password (or access token used as a password).
    Basic {
        /// User name.
        username: String,
        /// Password; never printed.
        password: String,
    },
    /// An identity token from a Docker config.
    Token(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => write!(f, "Basic({username}, ***)"),
            Credential::Token(_) => f.write_str("Token(***)"),
        }
    }
}

/// Where credentials were found, for `-v` output (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD`.
    Environment,
    /// A Docker config file (or one of its helpers).
    DockerConfig(PathBuf),
    /// Podman's `auth.json`.
    Podman(PathBuf),
    /// Nothing found.
    None,
}

/// Where to look.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    /// A Docker config file given by hand (`--docker-config`), instead of the usual places.
    pub docker_config: Option<PathBuf>,
}

/// The Docker config file in use: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn docker_config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => Some(PathBuf::from(dir).join("config.json")),
        None => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json")),
    }
}

/// The Docker config files to read, in order. A Kubernetes `kubernetes.io/dockerconfigjson`
/// Secret mounted as a folder holds `.dockerconfigjson`, not `config.json`: pointing
/// `DOCKER_CONFIG` at the mount works too.
fn docker_config_candidates() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = docker_config_path().into_iter().collect();
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        paths.push(PathBuf::from(dir).join(".dockerconfigjson"));
    }
    paths
}

/// The key Docker uses for a registry in its config: Docker Hub has a historical one.
pub fn config_key(registry: &str) -> String {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => "https://index.docker.io/v1/".into(),
        other => other.to_string(),
    }
}

/// Finds the credentials for `registry` (`HOST[:PORT]`).
pub fn find(registry: &str, lookup: &Lookup) -> Result<(Credential, CredentialSource)> {
    let user = std::env::var(USERNAME_ENV).ok().filter(|u| !u.is_empty());
    let password = std::env::var(PASSWORD_ENV).ok();
    match (user, password) {
        (Some(username), Some(password)) => {
            return Ok((Credential::Basic { username, password }, CredentialSource::Environment));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::usage(format!("set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither")));
        }
        (None, None) => {}
    }
    let key = config_key(registry);
    let mut docker_files: Vec<PathBuf> = Vec::new();
    match &lookup.docker_config {
        Some(path) => {
            if !path.is_file() {
                return Err(Error::not_found(format!("the Docker config {} does not exist", path.display()))
                    .with_hint(
                        "--docker-config names a file: config.json, or the .dockerconfigjson of a Kubernetes Secret",
                    ));
            }
            docker_files.push(path.clone());
        }
        None => docker_files.extend(docker_config_candidates()),
    }
    for path in &docker_files {
        if let Some(found) = from_file(path, &key)? {
            return Ok((found, CredentialSource::DockerConfig(path.clone())));
        }
    }
    if lookup.docker_config.is_none() {
        for path in podman_paths() {
            if let Some(found) = from_file(&path, &key)? {
                return Ok((found, CredentialSource::Podman(path)));
            }
        }
    }
    Ok((Credential::Anonymous, CredentialSource::None))
}

fn podman_paths() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
        paths.push(PathBuf::from(p));
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        paths.push(PathBuf::from(dir).join("containers/auth.json"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        paths.push(PathBuf::from(home).join(".config/containers/auth.json"));
    }
    paths
}

fn from_file(path: &Path, key: &str) -> Result<Option<Credential>> {
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(_) => return Ok(None),
    };
    match docker_credential::get_credential_from_reader(std::io::BufReader::new(file), key) {
        Ok(DockerCredential::UsernamePassword(username, password)) => {
            Ok(Some(Credential::Basic { username, password }))
        }
        Ok(DockerCredential::IdentityToken(token)) => Ok(Some(Credential::Token(token))),
        Err(CredentialRetrievalError::NoCredentialConfigured) => Ok(None),
        Err(CredentialRetrievalError::ConfigReadError) => {
            Err(Error::failed(format!("{} is not a valid Docker config", path.display()))
                .with_hint("fix or remove the file; it must be JSON with an \"auths\" object"))
        }
        Err(CredentialRetrievalError::HelperFailure { helper, .. }) => Err(Error::new(
            crate::error::ErrorKind::Auth,
            format!("the credential helper docker-credential-{helper} failed for {key}"),
        )
        .with_hint(format!("run docker-credential-{helper} list, or zoo-oci login {key}"))),
        Err(e) => Err(Error::new(
            crate::error::ErrorKind::Auth,
            format!("could not read credentials for {key} from {}: {e:?}", path.display()),
        )),
    }
}

/// Stores credentials for `registry` in the Docker config, as `docker login` does: in the
/// credential helper the config names for it, else base64 in `auths`, in a file of mode 0600.
/// The config is the file `lookup` names (`--docker-config`), the one later commands given the
/// same flag read; else `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
pub fn store(registry: &str, username: &str, password: &str, lookup: &Lookup) -> Result<PathBuf> {
    let path = match &lookup.docker_config {
        Some(path) => path.clone(),
        None => docker_config_path().ok_or_else(|| Error::failed("neither DOCKER_CONFIG nor HOME is set"))?,
    };
    let mut config = read_config(&path)?;
    let key = config_key(registry);
    if let Some(helper) = helper_for(&config, &key) {
        run_helper(
            &helper,
            "store",
            &serde_json::json!({"ServerURL": key, "Username": username, "Secret": password}).to_string(),
        )?;
        // Docker records the registry in auths with no secret when a helper holds it.
        auths(&mut config).insert(key, Value::Object(Map::new()));
    } else {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        auths(&mut config).insert(key, serde_json::json!({ "auth": auth }));
    }
    write_config(&path, &config)?;
    Ok(path)
}

/// Removes credentials for `registry` from the config `lookup` names (`--docker-config`), else
/// the usual one; returns whether there were any.
pub fn remove(registry: &str, lookup: &Lookup) -> Result<bool> {
    let Some(path) = lookup.docker_config.clone().or_else(docker_config_path) else { return Ok(false) };
    if !path.exists() {
        return Ok(false);
    }
    let mut config = read_config(&path)?;
    let key = config_key(registry);
    let mut removed = false;
    if let Some(helper) = helper_for(&config, &key) {
        removed |= run_helper(&helper, "erase", &key).is_ok();
    }
    removed |= auths(&mut config).remove(&key).is_some();
    write_config(&path, &config)?;
    Ok(removed)
}

fn helper_for(config: &Value, key: &str) -> Option<String> {
    config["credHelpers"][key].as_str().or_else(|| config["credsStore"].as_str()).map(String::from)
}

fn run_helper(helper: &str, action: &str, input: &str) -> Result<()> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::failed(format!("could not run {program}")).with_cause(e))?;
    child
        .stdin
        .take()
        .expect("piped")
        .write_all(input.as_bytes())
        .map_err(|e| Error::failed(format!("{program} failed")).with_cause(e))?;
    let out = child.wait_with_output().map_err(|e| Error::failed(format!("{program} failed")).with_cause(e))?;
    if !out.status.success() {
        return Err(Error::failed(format!(
            "{program} {action} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

fn read_config(path: &Path) -> Result<Value> {
    match fs::read(path) {
        Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Value::Object(Map::new())),
        // An object only: `config["auths"] = …` panics on an array or a number.
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(Value::Object(map)),
            Ok(_) => Err(Error::failed(format!("{} is not a JSON object", path.display()))
                .with_hint("fix or move the file, then log in again")),
            Err(e) => Err(Error::failed(format!("{} is not valid JSON", path.display()))
                .with_cause(e)
                .with_hint("fix or move the file, then log in again")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Object(Map::new())),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

fn auths(config: &mut Value) -> &mut Map<String, Value> {
    if !config["auths"].is_object() {
        config["auths"] = Value::Object(Map::new());
    }
    config["auths"].as_object_mut().expect("just made an object")
}

/// Writes the config whole, mode 0600, synced before it replaces the old one.
fn write_config(path: &Path, config: &Value) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(config).expect("json");
    crate::atomic::write_file(path, &bytes, crate::atomic::WriteOptions { private: true, durable: true, temp_in: None })
}
