//! `zoo-oci login REGISTRY` and `zoo-oci logout REGISTRY`.

use std::io::{IsTerminal, Read};

use crate::error::{Error, Result};
use crate::ops::{self, LoginOptions, LogoutOptions};
use clap::Args;

use super::Global;

/// Arguments of `login`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  zoo-oci login ghcr.io -u me                      # asks for the password, without echo
  printf '%s' \"$TOKEN\" | zoo-oci login ghcr.io -u me --password-stdin
  zoo-oci login localhost:5000 --plain-http -u me --password-stdin < password.txt
  zoo-oci login ghcr.io -u me --docker-config ./ci/config.json   # writes ./ci/config.json, which
                                                  # --docker-config ./ci/config.json then reads")]
pub struct LoginArgs {
    /// The registry, HOST[:PORT].
    pub registry: String,
    /// User name (asked for on a terminal when not given).
    #[arg(short, long)]
    pub username: Option<String>,
    /// The password or token on the command line: visible to other users and kept in shell
    /// history, so zoo-oci warns; prefer the prompt or --password-stdin.
    #[arg(short, long, conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password (or token) from standard input, so it stays out of shell history.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

/// Arguments of `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry, HOST[:PORT].
    pub registry: String,
    /// Remove them from this Docker config file (the one `login --docker-config FILE` wrote)
    /// instead of $DOCKER_CONFIG/config.json or ~/.docker/config.json.
    #[arg(long, value_name = "FILE")]
    pub docker_config: Option<std::path::PathBuf>,
}

pub async fn login(global: &Global, args: LoginArgs) -> Result<u8> {
    let terminal = std::io::stdin().is_terminal();
    let username = match args.username {
        Some(u) => u,
        None if terminal && !args.password_stdin => prompt("Username: ")?,
        None => return Err(Error::usage("name the user with -u USER").with_hint(example(&args.registry))),
    };
    let password = if let Some(password) = args.password {
        eprintln!(
            "warning: a password given with -p shows in the process list and shell history; prefer --password-stdin"
        );
        password
    } else if args.password_stdin {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .map_err(|e| Error::failed("could not read standard input").with_cause(e))?;
        password.trim_end_matches(['\n', '\r']).to_string()
    } else if terminal {
        // Read from the terminal itself, without echo, as docker login does.
        rpassword::prompt_password("Password: ")
            .map_err(|e| Error::failed("could not read the password from the terminal").with_cause(e))?
    } else {
        return Err(Error::usage("standard input is not a terminal: give the password with --password-stdin")
            .with_hint(example(&args.registry)));
    };
    if password.is_empty() {
        return Err(Error::usage("the password is empty"));
    }
    let options = LoginOptions::new(args.registry, username, password);
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

fn example(registry: &str) -> String {
    format!("e.g. printf '%s' \"$TOKEN\" | zoo-oci login {registry} -u USER --password-stdin")
}

/// Asks for a line on the terminal.
fn prompt(question: &str) -> Result<String> {
    use std::io::Write as _;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Error::failed("could not read the terminal").with_cause(e))?;
    Ok(line.trim().to_string())
}

pub fn logout(args: LogoutArgs, global: &Global) -> Result<u8> {
    let mut options = LogoutOptions::new(args.registry);
    options.docker_config = args.docker_config;
    let report = ops::logout(&options)?;
    if !global.quiet {
        if report.removed {
            eprintln!("removed the credentials of {}", report.registry);
        } else {
            eprintln!("no credentials were stored for {}", report.registry);
        }
    }
    Ok(0)
}
