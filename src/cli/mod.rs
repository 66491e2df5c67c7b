//! Command-line definitions and the dispatch to one short handler per command. No OCI logic
//! lives here: each handler parses its arguments into the options of one library operation
//! (`zoo_oci::ops`), calls it, and renders its report.

mod check;
mod copy;
mod diff;
mod index;
mod init;
mod inspect;
mod login;
mod pull;
mod push;
mod tag;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use zoo_oci::copy::describe;
use zoo_oci::credentials::{Lookup, Source};
use zoo_oci::error::{Error, Result};
use zoo_oci::event::Event;
use zoo_oci::ops::Context;
use zoo_oci::reference::Location;
use zoo_oci::store::Transport;

/// zoo-oci: push, pull and browse model suites in OCI image layouts and registries.
#[derive(Debug, Parser)]
#[command(name = "zoo-oci", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, before or after its name.
#[derive(Debug, Args)]
pub struct Global {
    /// Print nothing but errors and the result.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more about what is happening.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Blobs copied at once.
    #[arg(long, global = true, default_value_t = zoo_oci::copy::DEFAULT_CONCURRENCY, value_name = "N")]
    pub concurrency: usize,
    /// Talk plain HTTP to the registries of this command (otherwise always TLS).
    #[arg(long, global = true)]
    pub plain_http: bool,
    /// Trust this CA (PEM) besides the system's roots; repeatable.
    #[arg(long = "ca-file", global = true, value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
    /// Present this client certificate (PEM) to registries that ask for one (mutual TLS);
    /// goes with --key-file.
    #[arg(long = "cert-file", global = true, value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The private key (PEM) of --cert-file.
    #[arg(long = "key-file", global = true, value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// Read registries' CAs and client certificates from this certs.d folder
    /// (HOST[:PORT]/*.crt, NAME.cert + NAME.key) instead of /etc/docker/certs.d and
    /// /etc/containers/certs.d; repeatable.
    #[arg(long = "certs-dir", global = true, value_name = "DIR")]
    pub certs_dirs: Vec<PathBuf>,
    /// Verify no TLS certificate (a throwaway test registry only; warns on every run).
    #[arg(long, global = true)]
    pub insecure: bool,
    /// Read credentials from this Docker config file only (config.json, or the
    /// .dockerconfigjson of a Kubernetes Secret).
    #[arg(long, global = true, value_name = "FILE")]
    pub docker_config: Option<PathBuf>,
    /// Keep trying to reach a registry that is not up yet, or to finish a transfer that failed,
    /// for this long (e.g. 60s, 5m, 0).
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub retry_timeout: Duration,
    /// Give up on a connection that takes this long to open, or a transfer that moves no byte
    /// for this long (then try again within --retry-timeout).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// How progress and errors are written to stderr: text lines, or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Formats of progress and error output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event, for people and plain logs.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(text).map_err(|e| format!("{e} (write e.g. 30s, 2m, 0)"))
}

fn parse_timeout(text: &str) -> std::result::Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err("a timeout of 0 would fail every request: give a positive duration".into()),
        d => Ok(d),
    }
}

impl Global {
    /// The transport for registries, with `plain_http` decided by the caller (copy has two).
    pub fn transport(&self, plain_http: bool) -> Transport {
        Transport {
            plain_http,
            ca_files: self.ca_files.clone(),
            client_cert: self.client_cert.clone(),
            client_key: self.client_key.clone(),
            credentials: Lookup { docker_config: self.docker_config.clone() },
            retry_timeout: self.retry_timeout,
            idle_timeout: self.timeout,
            certs_dirs: if self.certs_dirs.is_empty() {
                zoo_oci::store::registry::SYSTEM_CERTS_DIRS.iter().map(PathBuf::from).collect()
            } else {
                self.certs_dirs.clone()
            },
            insecure: self.insecure,
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
    /// Check credentials against a registry and store them in the Docker config.
    Login(login::LoginArgs),
    /// Remove a registry's credentials from the Docker config.
    Logout(login::LogoutArgs),
}

/// Runs the parsed command; returns the exit code on success (`check` may return 1).
pub async fn run(cli: Cli) -> Result<u8> {
    let g = &cli.global;
    match cli.command {
        Command::Init(a) => init::run(a, g),
        Command::Check(a) => check::run(a, g),
        Command::Push(a) => push::run(a, g).await,
        Command::Pull(a) => pull::run(a, g).await,
        Command::Copy(a) => copy::run(a, g).await,
        Command::Inspect(a) => inspect::run(a, g).await,
        Command::Diff(a) => diff::run(a, g).await,
        Command::Index(a) => index::run(a, g).await,
        Command::Tag(a) => tag::run(a, g).await,
        Command::Login(a) => login::login(a, g).await,
        Command::Logout(a) => login::logout(a, g),
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

/// Writes a command's result to standard output. A reader that went away (`| head`) surfaces
/// as a broken-pipe error, which `main` turns into a quiet success.
pub fn print_out(text: &str) -> Result<()> {
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
    println_out(serde_json::to_string_pretty(report).expect("reports serialise"))
}

impl Global {
    /// What the library's operations need from the global flags: the transport, the concurrency,
    /// and a renderer for their events.
    pub fn context(&self) -> Context {
        Context {
            transport: self.transport(self.plain_http),
            concurrency: self.concurrency,
            events: Arc::new(progress(self)),
        }
    }
}

/// A progress printer. On a terminal: a bar per blob in flight, and a line per blob when done.
/// Otherwise one line per blob (text or JSON), never a terminal control character, so container
/// logs stay readable. Nothing under `-q`.
pub fn progress(global: &Global) -> impl Fn(&Event) + Send + Sync + use<> {
    let quiet = global.quiet;
    let verbose = global.verbose;
    let json = global.log_format == LogFormat::Json;
    let bars = (!quiet && !json && std::io::stderr().is_terminal())
        .then(|| (indicatif::MultiProgress::new(), std::sync::Mutex::new(std::collections::HashMap::new())));
    move |event: &Event| {
        match event {
            Event::Waiting { registry, reason, retry_in } => {
                if json {
                    let line = serde_json::json!({"event": "waiting", "registry": registry, "reason": reason, "retry_in_seconds": retry_in.as_secs_f64()});
                    eprintln!("{line}");
                } else if !quiet {
                    eprintln!("  waiting for {registry}: {reason}; trying again in {:.1}s", retry_in.as_secs_f64());
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
                    eprint!("{problems}");
                }
                return;
            }
            _ => {}
        }
        if json {
            let (name, d, seconds, reason) = match event {
                Event::Copied(d, took) => ("copied", d, Some(took.as_secs_f64()), None),
                Event::Skipped(d) => ("exists", d, None, None),
                Event::Mounted(d) => ("mounted", d, None, None),
                Event::Retrying(d, why) => ("retrying", d, None, Some(why.as_str())),
                _ => return,
            };
            let line = serde_json::json!({
                "event": name,
                "path": d.annotation(zoo_oci::artifact::media::ANN_FILEPATH),
                "mediaType": d.media_type,
                "digest": d.digest,
                "size": d.size,
                "seconds": seconds,
                "reason": reason,
            });
            eprintln!("{line}");
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
                            "  {msg:40!} {bar:30} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12}",
                        )
                        .expect("valid template");
                        multi.add(indicatif::ProgressBar::new(d.size).with_style(style).with_message(describe(d)))
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
            Event::Mounted(d) => format!("  mounted {}  {}", describe(d), human_bytes(d.size)),
            Event::Retrying(d, why) => format!("  retry   {}: {why}", describe(d)),
            _ => return,
        };
        match &bars {
            Some((multi, _)) => {
                let _ = multi.println(line);
            }
            None => eprintln!("{line}"),
        }
    }
}

fn credential_source(source: &Source) -> String {
    match source {
        Source::Environment => "ZOO_OCI_USERNAME/ZOO_OCI_PASSWORD".to_string(),
        Source::DockerConfig(p) => format!("the Docker config {}", p.display()),
        Source::Podman(p) => format!("Podman's {}", p.display()),
        Source::None => "nowhere: anonymous".to_string(),
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
        LogFormat::Text => eprintln!("{}", text()),
    }
}

pub use zoo_oci::index::render::human_bytes;

/// Renders an error once, as text or as one JSON line.
pub fn render_error_as(err: &Error, format: LogFormat) -> String {
    if format == LogFormat::Text {
        return render_error(err);
    }
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
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
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        out.push_str(&format!("  caused by: {cause}\n"));
        source = cause.source();
    }
    if let Some(hint) = err.hint() {
        out.push_str(&format!("  hint: {hint}\n"));
    }
    out
}
