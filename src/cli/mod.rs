//! Command-line definitions and the dispatch to one short handler per command. No OCI logic
//! lives here: each handler parses its arguments into the options of one library operation
//! (`crate::ops`), calls it, and renders its report.
// The doc comments here are clap's help texts (`HOST[:PORT]`), not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

mod cache;
mod check;
mod copy;
mod diff;
mod index;
mod init;
mod inspect;
mod login;
mod pull;
mod push;
mod sign;
mod tag;
mod tags;
mod validate;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::copy::describe;
use crate::credentials::{CredentialSource, Lookup};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::ops::Context;
use crate::reference::Location;
use crate::store::Transport;

/// zoo-oci: push, pull and browse model suites in OCI image layouts and registries.
#[derive(Debug, Parser)]
#[command(name = "zoo-oci", version, about, propagate_version = true, after_help = with_locations(TOUR))]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, before or after its name.
#[derive(Debug, Args)]
pub struct GlobalFlags {
    /// Print nothing but errors and the result.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    /// Print more about what is happening.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub verbose: bool,
    /// How progress and errors are written to stderr: text lines, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, help_heading = "Global options")]
    pub log_format: LogFormat,
}

/// Flags of the commands that may talk to a registry (and move blobs): listed apart in their
/// help, and absent from the commands that never do.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Registry options")]
pub struct RegistryFlags {
    /// Blobs copied at once.
    #[arg(long, default_value_t = crate::copy::DEFAULT_CONCURRENCY, value_name = "N", value_parser = parse_concurrency)]
    pub concurrency: usize,
    /// Talk plain HTTP to the registries of this command (otherwise always TLS).
    #[arg(long)]
    pub plain_http: bool,
    /// Trust this CA or self-signed certificate (PEM) besides the system's roots; repeatable.
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Present this client certificate (PEM) to registries that ask for one (mutual TLS);
    /// goes with --key-file.
    #[arg(long = "cert-file", value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The private key (PEM) of --cert-file.
    #[arg(long = "key-file", value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Read registries' CAs and client certificates from this certs.d folder
    /// (HOST[:PORT]/*.crt, NAME.cert + NAME.key) instead of /etc/docker/certs.d and
    /// /etc/containers/certs.d; repeatable.
    #[arg(long = "certs-dir", value_name = "DIR")]
    pub certs_dirs: Vec<PathBuf>,
    /// Verify no TLS certificate (a throwaway test registry only; warns on every run).
    #[arg(long)]
    pub insecure: bool,
    /// Read through this mirror first (HOST[:PORT]; http://HOST[:PORT] for plain HTTP), before
    /// those registries.conf and hosts.toml configure and the registry itself; repeatable.
    /// Writes never go to a mirror.
    #[arg(long = "mirror", value_name = "HOST[:PORT]")]
    pub mirrors: Vec<String>,
    /// Read credentials from this Docker config file only (config.json, or the
    /// .dockerconfigjson of a Kubernetes Secret).
    #[arg(long, value_name = "FILE")]
    pub docker_config: Option<PathBuf>,
    /// Keep trying a transfer that failed for this long [default: 60s]; when given, also wait
    /// this long for a registry that refuses connections because it is not up yet (e.g. 2m, 0).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_timeout: Option<Duration>,
    /// Give up on a connection that takes this long to open, or a transfer that moves no byte
    /// for this long (then try again within --retry-timeout).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,
}

impl Default for RegistryFlags {
    /// What the flags default to: for the commands that take none.
    fn default() -> Self {
        RegistryFlags {
            concurrency: crate::copy::DEFAULT_CONCURRENCY,
            plain_http: false,
            ca_files: Vec::new(),
            client_cert: None,
            client_key: None,
            certs_dirs: Vec::new(),
            insecure: false,
            mirrors: Vec::new(),
            docker_config: None,
            retry_timeout: None,
            timeout: crate::retry::DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// What a command's handler gets: the global flags and the registry flags it took (their
/// defaults for commands without them).
#[derive(Debug, Clone)]
pub struct Global {
    /// `-q`.
    pub quiet: bool,
    /// `-v`.
    pub verbose: bool,
    /// `--log-format`.
    pub log_format: LogFormat,
    /// The registry flags.
    pub net: RegistryFlags,
}

/// How long a failed transfer is tried again when `--retry-timeout` is not given.
pub const DEFAULT_RETRY_TIMEOUT: Duration = Duration::from_secs(60);

/// How a location is written, for every command's help.
pub const LOCATIONS: &str = "Locations:
  HOST[:PORT]/REPO[:TAG|@DIGEST]   a repository in a registry, e.g. ghcr.io/team/squeezenet:1.1.0
                                   (NAME:TAG@DIGEST is the digest; no tag means latest)
  oci:PATH[:TAG|@DIGEST]           a local OCI image layout, e.g. oci:./zoo:1.1.0";

/// The top-level help's epilogue.
const TOUR: &str = "Examples:
  zoo-oci init ./squeezenet && zoo-oci push ./squeezenet oci:./zoo
  zoo-oci index oci:./zoo
  zoo-oci pull oci:./zoo:1.1.0 --only model -o /models
  zoo-oci push ./squeezenet ghcr.io/team/squeezenet:1.1.0

Each command's --help has its own examples; `zoo-oci completions SHELL` and `zoo-oci man` install
the rest.";

/// A command's help epilogue: how locations are written, then its examples.
pub fn with_locations(examples: &str) -> String {
    format!("{LOCATIONS}\n\n{examples}")
}

/// Formats of progress and error output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event, for people and plain logs.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The longest duration a flag (or Python's `timeout=`, `retry_timeout=`, `older_than=`) takes:
/// 10 years. A deadline is now plus the duration, and `Instant + u64::MAX seconds` panics; no
/// wait or age of any use comes near this.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

pub(crate) fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let duration = match text.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 30s, 2m, 0)"))?,
    };
    if duration > MAX_DURATION {
        return Err(format!("{text} is more than 10 years (write e.g. 30s, 2m, 1h)"));
    }
    Ok(duration)
}

/// `--concurrency`: at least one transfer, and at most [`MAX_CONCURRENCY`].
fn parse_concurrency(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least one transfer must run: give 1 or more".into()),
        Ok(n) if n > MAX_CONCURRENCY => Err(format!("at most {MAX_CONCURRENCY} transfers at once")),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e} (write a number of transfers, e.g. 8)")),
    }
}

/// The most transfers `--concurrency` runs at once: more only opens more connections than a
/// registry or the file-descriptor limit takes, and tokio's semaphore panics past `usize::MAX >> 3`.
pub const MAX_CONCURRENCY: usize = 1024;

fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err("a timeout of 0 would fail every request: give a positive duration".into()),
        d => Ok(d),
    }
}

impl Global {
    fn new(flags: &GlobalFlags, net: &RegistryFlags) -> Global {
        Global { quiet: flags.quiet, verbose: flags.verbose, log_format: flags.log_format, net: net.clone() }
    }

    /// The transport for registries, with `plain_http` decided by the caller (copy has two).
    pub fn transport(&self, plain_http: bool) -> Transport {
        let net = &self.net;
        let certs_dirs: Vec<PathBuf> = if net.certs_dirs.is_empty() {
            crate::store::registry::SYSTEM_CERTS_DIRS.iter().map(PathBuf::from).collect()
        } else {
            net.certs_dirs.clone()
        };
        // containerd's certs.d holds hosts.toml files too; its CAs are containerd's business.
        let mut hosts_dirs = certs_dirs.clone();
        if net.certs_dirs.is_empty() {
            hosts_dirs.push(PathBuf::from(crate::store::mirrors::CONTAINERD_CERTS_DIR));
        }
        let mut mirrors = crate::store::mirrors::Mirrors::load(&hosts_dirs).unwrap_or_else(|e| {
            eprintln!("warning: {e}; no configured mirror is used");
            crate::store::mirrors::Mirrors::default()
        });
        for mirror in net.mirrors.iter().rev() {
            match mirror.strip_prefix("http://") {
                Some(host) => mirrors.add_everywhere(host, true),
                None => mirrors.add_everywhere(mirror.strip_prefix("https://").unwrap_or(mirror), plain_http),
            }
        }
        Transport {
            mirrors,
            plain_http,
            ca_files: net.ca_files.clone(),
            client_cert: net.client_cert.clone(),
            client_key: net.client_key.clone(),
            credentials: Lookup { docker_config: net.docker_config.clone() },
            retry_timeout: net.retry_timeout.unwrap_or(DEFAULT_RETRY_TIMEOUT),
            wait_for_registry: net.retry_timeout.unwrap_or_default(),
            idle_timeout: net.timeout,
            certs_dirs,
            insecure: net.insecure,
        }
    }
}

/// One subcommand per operation.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write DIR/zoo.yaml from the model files, scripts and README the folder holds.
    Init(init::InitArgs),
    /// Validate a suite's descriptor and files; list every problem.
    Check(check::CheckArgs),
    /// Pack a suite folder and upload it to a location.
    Push(push::PushArgs),
    /// Download a suite (or part of it) into a folder.
    Pull(pull::PullArgs),
    /// Copy an artifact from one location to another, unchanged.
    Copy(copy::CopyArgs),
    /// Show a suite's metadata, README and layers without downloading layers.
    Inspect(inspect::InspectArgs),
    /// Show what changed between two suites (files per class, variants, metadata) without
    /// downloading layers; exits 0 whether or not they differ.
    Diff(diff::DiffArgs),
    /// List every suite of a registry or layout, grouped by modality and task.
    Index(index::IndexArgs),
    /// Add tags to an artifact.
    Tag(tag::TagArgs),
    /// List the tags of a repository or layout (with suite name and version: --long).
    Tags(tags::TagsArgs),
    /// Sign a suite where it is stored (OpenSSF Model Signing), without downloading it.
    Sign(sign::SignArgs),
    /// Check that a signature by a key covers a suite as it is stored.
    Verify(sign::VerifyArgs),
    /// Reproduce a suite's claimed metrics: run its validate script on its test set, in a sandbox.
    Validate(validate::ValidateArgs),
    /// Remove a tag or manifest (a layout keeps the blobs until gc).
    Rm(tags::RmArgs),
    /// Remove the blobs of a layout that no tag reaches.
    Gc(tags::GcArgs),
    /// Check credentials against a registry and store them in the Docker config.
    Login(login::LoginArgs),
    /// Remove a registry's credentials from the Docker config.
    Logout(login::LogoutArgs),
    /// List or free the shared cache of pulled suites (pull --cache, Python's zoo_oci.pull).
    Cache(cache::CacheArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. zoo-oci man > /usr/local/share/man/man1/zoo-oci.1.
    Man,
}

/// Runs the parsed command; returns the exit code on success (`check` may return 1).
pub async fn run(cli: Cli) -> Result<u8> {
    let flags = &cli.global;
    let with = |net: &RegistryFlags| {
        if net.insecure {
            eprintln!(
                "warning: --insecure: TLS certificates are not verified; anyone on the path can read and change what moves"
            );
        }
        Global::new(flags, net)
    };
    let plain = || Global::new(flags, &RegistryFlags::default());
    match cli.command {
        Command::Init(a) => init::run(a, &plain()),
        Command::Check(a) => check::run(a, &plain()),
        Command::Push(a) => push::run(&with(&a.net), a).await,
        Command::Pull(a) => pull::run(&with(&a.net), a).await,
        Command::Copy(a) => copy::run(&with(&a.net), a).await,
        Command::Inspect(a) => inspect::run(&with(&a.net), a).await,
        Command::Diff(a) => diff::run(&with(&a.net), a).await,
        Command::Index(a) => index::run(&with(&a.net), a).await,
        Command::Tag(a) => tag::run(&with(&a.net), a).await,
        Command::Login(a) => login::login(&with(&a.net), a).await,
        Command::Logout(a) => login::logout(a, &plain()),
        Command::Tags(a) => tags::tags(&with(&a.net), a).await,
        Command::Rm(a) => tags::rm(&with(&a.net), a).await,
        Command::Sign(a) => sign::sign(&with(&a.net), a).await,
        Command::Verify(a) => sign::verify(&with(&a.net), a).await,
        Command::Validate(a) => validate::run(&with(&a.net), a).await,
        Command::Gc(a) => tags::gc(&plain(), a),
        Command::Cache(a) => cache::run(&plain(), a),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "zoo-oci", &mut out);
            print_out(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|e| Error::failed("could not render the man page").with_cause(e))?;
            print_out(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

/// Output formats of commands that report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// Parses a location argument.
pub fn location(text: &str) -> Result<Location> {
    Location::parse(text)
}

/// A command for a hint, its words shell-quoted to be pasted as they are.
pub fn command_line(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| shlex::try_quote(w).map_or_else(|_| w.to_string(), |q| q.into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `push oci:./zoo ./suite`: a location where the folder goes and a folder where the location
/// goes. Said so, with the command in its order (`order` says what comes first); never answered
/// by reading the folder as a location, whose hint would have a layout written into the suite.
/// `first` and `second` are the two arguments as typed.
pub fn refuse_swapped(command: &str, order: &str, first: &str, second: &str) -> Result<()> {
    let folder = std::path::Path::new(second);
    if !std::path::Path::new(first).exists() && folder.is_dir() && Location::parse(first).is_ok() {
        return Err(Error::usage(format!("the arguments are swapped: {command} takes {order}"))
            .with_hint(command_line(&["zoo-oci", command, second, first])));
    }
    Ok(())
}

/// Writes a command's text result to standard output, its control characters neutralised
/// ([`printable`]): what it shows came from artifacts and registries. A reader that went away
/// (`| head`) surfaces as a broken-pipe error, which `main` turns into a quiet success.
pub fn print_out(text: &str) -> Result<()> {
    print_raw(&printable(text))
}

/// Writes `text` to standard output exactly: JSON (which must stay exact), or text whose
/// untrusted parts were already made [`printable`] (inspect's README, styled after).
pub fn print_raw(text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::failed("could not write to standard output").with_cause(e))
}

/// [`print_out`] with a newline.
pub fn println_out(text: impl std::fmt::Display) -> Result<()> {
    print_out(&format!("{text}\n"))
}

/// Pretty JSON of a report, on standard output.
pub fn print_json(report: &impl serde::Serialize) -> Result<()> {
    print_raw(&format!("{}\n", serde_json::to_string_pretty(report).expect("reports serialise")))
}

/// One line of compact JSON of a report, on standard output.
pub fn print_json_line(report: &impl serde::Serialize) -> Result<()> {
    print_raw(&format!("{}\n", serde_json::to_string(report).expect("reports serialise")))
}

impl Global {
    /// What the library's operations need from the global flags: the transport, the concurrency,
    /// and a renderer for their events.
    pub fn context(&self) -> Context {
        Context {
            transport: self.transport(self.net.plain_http),
            concurrency: self.net.concurrency,
            events: Arc::new(progress(self)),
            ..Context::default()
        }
    }
}

/// How often a transfer without a bar says how far it is.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// A progress printer. On a terminal: a bar per blob in flight, and a line per blob when done.
/// Otherwise one line per blob (text or JSON), never a terminal control character, so container
/// logs stay readable. Nothing under `-q`.
pub fn progress(global: &Global) -> impl Fn(&Event) + Send + Sync + use<> {
    let quiet = global.quiet;
    let verbose = global.verbose;
    let json = global.log_format == LogFormat::Json;
    let bars = (!quiet && !json && std::io::stderr().is_terminal())
        .then(|| (indicatif::MultiProgress::new(), std::sync::Mutex::new(std::collections::HashMap::new())));
    // Without bars (a pipe, a container log): a line per blob in flight every few seconds, so
    // a long transfer shows that it moves, not only when it ends.
    let last_line: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>> = Default::default();
    let due = move |digest: &str| {
        let mut last = last_line.lock().expect("no panics");
        let now = std::time::Instant::now();
        match last.get(digest) {
            Some(t) if now.duration_since(*t) < PROGRESS_EVERY => false,
            Some(_) => {
                last.insert(digest.to_string(), now);
                true
            }
            None => {
                // The first line waits a period too: short transfers print only their end.
                last.insert(digest.to_string(), now);
                false
            }
        }
    };
    let hashing_bar: std::sync::Mutex<Option<indicatif::ProgressBar>> = Default::default();
    move |event: &Event| {
        match event {
            Event::Hashing { bytes, total, uploading_to } => {
                if quiet {
                    return;
                }
                let doing = match uploading_to {
                    Some(to) => format!("uploading the layers to {to} while hashing them"),
                    None => "hashing the layers".to_string(),
                };
                if let Some((multi, _)) = &bars {
                    let mut bar = hashing_bar.lock().expect("no panics");
                    let bar = bar.get_or_insert_with(|| {
                        let style = indicatif::ProgressStyle::with_template(
                            "  {msg} {bar:30} {decimal_bytes:>10}/{decimal_total_bytes:<10} {decimal_bytes_per_sec:>12} {eta}",
                        )
                        .expect("valid template");
                        multi.add(indicatif::ProgressBar::new(*total).with_style(style).with_message(doing))
                    });
                    bar.set_position(*bytes);
                } else if due("hashing") {
                    if let Some(line) = event.to_json().filter(|_| json) {
                        eprintln!("{line}");
                    } else {
                        let percent = if *total > 0 { *bytes as f64 * 100.0 / *total as f64 } else { 100.0 };
                        eprintln!("  {doing}: {} of {} ({percent:.0}%)", human_bytes(*bytes), human_bytes(*total));
                    }
                }
                return;
            }
            Event::Hashed { bytes, took } => {
                if let Some(bar) = hashing_bar.lock().expect("no panics").take() {
                    bar.finish_and_clear();
                }
                if let Some(line) = event.to_json().filter(|_| json) {
                    eprintln!("{line}");
                } else if !quiet && took.as_secs_f64() >= 1.0 {
                    // Only a pass long enough to notice gets a line of its own.
                    eprintln!("  hashed  the layers  {}  {:.1}s", human_bytes(*bytes), took.as_secs_f64());
                }
                return;
            }
            Event::Waiting { registry, reason, retry_in } => {
                if let Some(line) = event.to_json().filter(|_| json) {
                    eprintln!("{line}");
                } else if !quiet {
                    let line =
                        format!("  waiting for {registry}: {reason}; trying again in {:.1}s", retry_in.as_secs_f64());
                    eprintln!("{}", printable(&line));
                }
                return;
            }
            Event::Notice(message) => {
                if let Some(line) = event.to_json().filter(|_| json) {
                    eprintln!("{line}");
                } else if !quiet {
                    eprintln!("note: {}", printable(message));
                }
                return;
            }
            Event::Verified { signature, files } => {
                if let Some(line) = event.to_json().filter(|_| json) {
                    eprintln!("{line}");
                } else if !quiet {
                    eprintln!("  verified  the signature {signature} covers the suite's {files} files");
                }
                return;
            }
            Event::Credentials { registry, source } => {
                if verbose {
                    eprintln!("credentials for {registry}: from {}", credential_source(source));
                }
                return;
            }
            Event::Checked { problems, blocks } => {
                if !quiet || *blocks {
                    eprint!("{}", printable(&problems.to_string()));
                }
                return;
            }
            _ => {}
        }
        if let Event::Progress(d, read) = event
            && bars.is_none()
            && !quiet
            && due(&d.digest)
        {
            let percent = if d.size > 0 { *read as f64 * 100.0 / d.size as f64 } else { 100.0 };
            if let Some(line) = event.to_json().filter(|_| json) {
                eprintln!("{line}");
            } else {
                let line = format!(
                    "  moving  {}  {} of {} ({percent:.0}%)",
                    describe(d),
                    human_bytes(*read),
                    human_bytes(d.size)
                );
                eprintln!("{}", printable(&line));
            }
            return;
        }
        if json {
            if let Some(line) = event.to_json() {
                eprintln!("{line}");
            }
            return;
        }
        if quiet {
            return;
        }
        let line = match event {
            Event::Progress(d, read) => {
                if let Some((multi, map)) = &bars {
                    let mut map = map.lock().expect("no panics");
                    let bar = map.entry(d.digest.clone()).or_insert_with(|| {
                        let style = indicatif::ProgressStyle::with_template(
                            // Decimal units, as every summary line prints them (human_bytes).
                            "  {msg:40!} {bar:30} {decimal_bytes:>10}/{decimal_total_bytes:<10} {decimal_bytes_per_sec:>12}",
                        )
                        .expect("valid template");
                        multi.add(
                            indicatif::ProgressBar::new(d.size)
                                .with_style(style)
                                .with_message(printable(&describe(d)).into_owned()),
                        )
                    });
                    bar.set_position(*read);
                }
                return;
            }
            Event::Copied(d, took) => {
                if let Some((_, map)) = &bars
                    && let Some(bar) = map.lock().expect("no panics").remove(&d.digest)
                {
                    bar.finish_and_clear();
                }
                let secs = took.as_secs_f64();
                let rate = if secs > 0.0 {
                    format!(", {}/s", human_bytes((d.size as f64 / secs) as u64))
                } else {
                    String::new()
                };
                format!("  copied  {}  {}  {:.1}s{rate}", describe(d), human_bytes(d.size), secs)
            }
            Event::Skipped(d) => format!("  exists  {}  {}", describe(d), human_bytes(d.size)),
            Event::Uploaded(d, _) => format!("  uploaded {}  {}  (while hashing)", describe(d), human_bytes(d.size)),
            Event::Mounted(d) => format!("  mounted {}  {}", describe(d), human_bytes(d.size)),
            Event::Retrying(d, why) => format!("  retry   {}: {why}", describe(d)),
            _ => return,
        };
        // A layer's path annotation and a registry's error text come from the other side.
        let line = printable(&line).into_owned();
        match &bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => eprintln!("{line}"),
        }
    }
}

fn credential_source(source: &CredentialSource) -> String {
    match source {
        CredentialSource::Environment => "ZOO_OCI_USERNAME/ZOO_OCI_PASSWORD".to_string(),
        CredentialSource::DockerConfig(p) => format!("the Docker config {}", p.display()),
        CredentialSource::Podman(p) => format!("Podman's {}", p.display()),
        CredentialSource::None => "nowhere: anonymous".to_string(),
    }
}

/// Reports a step's outcome on stderr: a line of text, or the JSON `event` under
/// `--log-format json`. Nothing under `-q`.
pub fn say(global: &Global, text: impl FnOnce() -> String, event: serde_json::Value) {
    if global.quiet {
        return;
    }
    match global.log_format {
        LogFormat::Json => eprintln!("{event}"),
        LogFormat::Text => eprintln!("{}", printable(&text())),
    }
}

pub use crate::format::{human_bytes, printable};

/// Renders an error once, as text or as one JSON line.
pub fn render_error_as(err: &Error, format: LogFormat) -> String {
    if format == LogFormat::Text {
        // Registry error bodies, paths and annotations end up in messages.
        return printable(&render_error(err)).into_owned();
    }
    let causes = crate::error::cause_texts(err);
    let line = serde_json::json!({
        "event": "error",
        "message": err.to_string(),
        "causes": causes,
        "hint": err.hint(),
        "side": err.side(),
        "exit_code": err.kind().exit_code(),
    });
    format!("{line}\n")
}

/// Renders an error once: `error:`, each `caused by:`, then `hint:`.
pub fn render_error(err: &Error) -> String {
    let mut out = format!("error: {err}\n");
    for cause in crate::error::cause_texts(err) {
        out.push_str(&format!("  caused by: {cause}\n"));
    }
    if let Some(hint) = err.hint() {
        out.push_str(&format!("  hint: {hint}\n"));
    }
    out
}

/// How long an interrupted run waits for registries to cancel its upload sessions.
const CANCEL_UPLOADS_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

/// Waits for SIGINT or SIGTERM; gives its name and the conventional exit code (128 + signal).
async fn interrupted() -> (&'static str, u8) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
        return std::future::pending().await; // no handlers: the default action stays
    };
    tokio::select! {
        _ = int.recv() => ("SIGINT", 130),
        _ = term.recv() => ("SIGTERM", 143),
    }
}

/// Runs the command line `args` (the program name first) to its end: parse, run one command,
/// render an error once; returns the exit code. The `zoo-oci` binary and the Python package's
/// `zoo-oci` command both call this.
pub fn main<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = match Cli::try_parse_from(args) {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let log_format = args.global.log_format;
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return 1;
        }
    };
    // Ctrl-C and SIGTERM (a pod being stopped) end the command by dropping it: scratch folders
    // and temp files are removed as their owners drop, extraction threads are stopped, and the
    // runtime waits a moment for them before the process exits.
    let outcome = runtime.block_on(async {
        tokio::select! {
            result = run(args) => Ok(result),
            signal = interrupted() => Err(signal),
        }
    });
    // Upload sessions left open (the push was dropped, or failed) are cancelled on the
    // registries, waiting at most a few seconds for their answers.
    let cancelled = runtime.block_on(crate::ops::cancel_open_uploads(CANCEL_UPLOADS_WITHIN));
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let result = match outcome {
        Ok(result) => result,
        Err((name, code)) => {
            let sessions = match cancelled {
                0 => String::new(),
                1 => ", and the upload session on the registry cancelled".to_string(),
                n => format!(", and {n} upload sessions on the registry cancelled"),
            };
            eprintln!("zoo-oci: stopped by {name}; temporary files were removed{sessions}");
            return code;
        }
    };
    match result {
        Ok(code) => code,
        // A reader that went away (`zoo-oci inspect … | head -1`) has what it wanted: like
        // ripgrep, end quietly and successfully rather than report a failure nobody can act on.
        Err(err) if err.is_broken_pipe() => 0,
        Err(err) => {
            // Errors are printed even with -q: they are what the user must read.
            eprint!("{}", render_error_as(&err, log_format));
            err.kind().exit_code() as u8
        }
    }
}
