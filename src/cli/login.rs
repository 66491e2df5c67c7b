//! `zoo-oci login REGISTRY` and `zoo-oci logout REGISTRY`.

use std::io::{IsTerminal, Read};

use clap::Args;
use zoo_oci::error::{Error, Result};
use zoo_oci::ops::{self, LoginOptions, LogoutOptions};

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

pub async fn login(args: LoginArgs, global: &Global) -> Result<u8> {
    if !args.password_stdin {
        return Err(Error::usage("give the password on standard input with --password-stdin").with_hint(format!(
            "e.g. printf '%s' \"$TOKEN\" | zoo-oci login {} -u {} --password-stdin",
            args.registry, args.username
        )));
    }
    if std::io::stdin().is_terminal() {
        eprintln!("password for {} at {} (then Ctrl-D):", args.username, args.registry);
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| Error::failed("could not read standard input").with_cause(e))?;
    let password = password.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err(Error::usage("the password on standard input is empty"));
    }
    let options = LoginOptions { registry: args.registry, username: args.username, password };
    let report = ops::login(&options, &global.context()).await?;
    if !global.quiet {
        eprintln!(
            "logged in to {} as {}; credentials saved in {}",
            report.registry,
            report.username,
            report.config.display()
        );
    }
    Ok(0)
}

pub fn logout(args: LogoutArgs, global: &Global) -> Result<u8> {
    let report = ops::logout(&LogoutOptions { registry: args.registry })?;
    if !global.quiet {
        if report.removed {
            eprintln!("removed the credentials of {}", report.registry);
        } else {
            eprintln!("no credentials were stored for {}", report.registry);
        }
    }
    Ok(0)
}
