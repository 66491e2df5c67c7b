//! `zoo-oci login REGISTRY` and `zoo-oci logout REGISTRY`.

use std::io::{IsTerminal, Read};

use clap::Args;
use zoo_oci::credentials::{self, Credential};
use zoo_oci::error::{Error, Result};
use zoo_oci::store::registry::RegistryTarget;

use super::Global;

/// Arguments of `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry, HOST[:PORT].
    pub registry: String,
    /// User name.
    #[arg(short, long)]
    pub username: String,
    /// Read the password (or token) from standard input, so it stays out of shell history.
    #[arg(long)]
    pub password_stdin: bool,
}

/// Arguments of `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry, HOST[:PORT].
    pub registry: String,
}

fn registry_host(text: &str) -> Result<String> {
    let host = text.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(
            Error::usage(format!("{text:?} is not a registry host")).with_hint("name it as HOST[:PORT], e.g. ghcr.io")
        );
    }
    Ok(host.to_string())
}

pub async fn login(args: LoginArgs, global: &Global) -> Result<u8> {
    let registry = registry_host(&args.registry)?;
    if !args.password_stdin {
        return Err(Error::usage("give the password on standard input with --password-stdin").with_hint(format!(
            "e.g. printf '%s' \"$TOKEN\" | zoo-oci login {registry} -u {} --password-stdin",
            args.username
        )));
    }
    if std::io::stdin().is_terminal() {
        eprintln!("password for {} at {registry} (then Ctrl-D):", args.username);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| Error::failed("could not read standard input").with_cause(e))?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(Error::usage("the password on standard input is empty"));
    }
    let credential = Credential::Basic { username: args.username.clone(), password: password.clone() };
    let transport = global.transport(global.plain_http);
    let target = RegistryTarget::connect_with(&registry, "zoo-oci/login-check", &transport, credential, false).await?;
    target.verify_credentials().await?;
    let path = credentials::store(&registry, &args.username, &password)?;
    if !global.quiet {
        eprintln!("logged in to {registry} as {}; credentials saved in {}", args.username, path.display());
    }
    Ok(0)
}

pub fn logout(args: LogoutArgs, global: &Global) -> Result<u8> {
    let registry = registry_host(&args.registry)?;
    let removed = credentials::remove(&registry)?;
    if !global.quiet {
        if removed {
            eprintln!("removed the credentials of {registry}");
        } else {
            eprintln!("no credentials were stored for {registry}");
        }
    }
    Ok(0)
}
