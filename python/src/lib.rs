//! `zoo_oci._native`: the operation API of zoo-oci for Python. Each function parses its
//! arguments into the options of one library operation, runs it with the GIL released, and
//! returns its report as the JSON the command line prints with `--format json`; the typed
//! Python API (`python/zoo_oci/`) builds its objects from that. Errors become one hierarchy of
//! exceptions carrying the CLI's hint.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use zoo_oci::error::{ErrorKind, IntegrityFailure, TransportFailure};
use zoo_oci::event::Event;
use zoo_oci::ops::{self, Context};
use zoo_oci::reference::{Location, Scope};
use zoo_oci::store::Transport;

/// The module defining the exceptions raised here. They are Python classes (`zoo_oci.ZooError`
/// and its subclasses), not classes made here, so that they pickle: `multiprocessing` and a
/// DataLoader's workers send an exception to the parent by pickling it, and the parent finds its
/// class by module and name, which `zoo_oci._native.NotFoundError` did not give.
const ERRORS: &str = "zoo_oci._errors";

/// A `zoo_oci.UsageError` for a wrong argument, made when raised, as `create_exception!`'s
/// `new_err` was.
struct UsageError;

impl UsageError {
    fn new_err(message: impl Into<String>) -> PyErr {
        let message = message.into();
        Python::attach(|py| exception(py, "UsageError", &message, &[], None, 2, "usage"))
    }
}

/// An instance of `zoo_oci._errors.CLASS` with its parts; what went wrong making it, if anything.
fn exception(
    py: Python<'_>,
    class: &str,
    message: &str,
    causes: &[String],
    hint: Option<&str>,
    exit_code: i32,
    kind: &str,
) -> PyErr {
    let made = || -> PyResult<PyErr> {
        let class = py.import(ERRORS)?.getattr(class)?;
        let parts = PyDict::new(py);
        parts.set_item("causes", causes)?;
        parts.set_item("hint", hint)?;
        parts.set_item("exit_code", exit_code)?;
        parts.set_item("kind", kind)?;
        Ok(PyErr::from_value(class.call((message,), Some(&parts))?))
    };
    made().unwrap_or_else(|e| e)
}

/// How often a running operation looks for Ctrl-C and hands progress to Python.
const TICK: Duration = Duration::from_millis(100);

/// The runtime operations run on, one per process. A process forked after one was started
/// (`multiprocessing` with the fork start method, a DataLoader's workers) inherits it without
/// its threads, and would wait on them for ever: the child starts its own, and the inherited one
/// is leaked, as dropping it would wait on those threads too.
fn runtime() -> PyResult<Arc<tokio::runtime::Runtime>> {
    static RUNTIME: Mutex<Option<(u32, Arc<tokio::runtime::Runtime>)>> = Mutex::new(None);
    let mut slot = RUNTIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let pid = std::process::id();
    match slot.as_ref() {
        Some((owner, runtime)) if *owner == pid => return Ok(runtime.clone()),
        Some(_) => std::mem::forget(slot.take()),
        None => {}
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("could not start zoo-oci's async runtime: {e}")))?;
    let runtime = Arc::new(runtime);
    *slot = Some((pid, runtime.clone()));
    Ok(runtime)
}

/// The exception for a library error: its class by kind; `str()` the message, its causes and
/// the hint, as the CLI prints them; the parts as attributes.
fn to_py(py: Python<'_>, err: zoo_oci::Error) -> PyErr {
    let kind = err.kind();
    let causes: Vec<String> = zoo_oci::error::causes(&err).skip(1).map(|c| c.to_string()).collect();
    let class = match kind {
        ErrorKind::Usage => "UsageError",
        ErrorKind::Auth => "AuthError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::Integrity(_) => "IntegrityError",
        ErrorKind::Transport(_) => "TransportError",
        _ => "ZooError",
    };
    exception(py, class, &err.to_string(), &causes, err.hint(), kind.exit_code(), &kind_name(kind))
}

fn kind_name(kind: ErrorKind) -> String {
    match kind {
        ErrorKind::Usage => "usage".into(),
        ErrorKind::Auth => "auth".into(),
        ErrorKind::NotFound => "not-found".into(),
        ErrorKind::Integrity(f) => format!(
            "integrity:{}",
            match f {
                IntegrityFailure::DigestMismatch => "digest-mismatch",
                IntegrityFailure::ExpansionBound => "expansion-bound",
                IntegrityFailure::HostileEntry => "hostile-entry",
                IntegrityFailure::Signature => "signature",
                _ => "malformed",
            }
        ),
        ErrorKind::Transport(f) => format!(
            "transport:{}",
            match f {
                TransportFailure::NotTls => "not-tls",
                TransportFailure::NotPlainHttp => "not-plain-http",
                TransportFailure::UntrustedCertificate => "untrusted-certificate",
                TransportFailure::ClientCertificate => "client-certificate",
                TransportFailure::Refused => "refused",
                TransportFailure::Timeout => "timeout",
                TransportFailure::NameResolution => "name-resolution",
                TransportFailure::Reset => "reset",
                _ => "other",
            }
        ),
        _ => "failed".into(),
    }
}

/// The registry options every registry function takes: the command line's registry flags, by
/// the same names, and where the shared cache is and whether to stay off the network. What is
/// not given is read as the command line reads it: the Docker config and its helpers,
/// `ZOO_OCI_USERNAME`/`ZOO_OCI_PASSWORD`, certs.d, the system's CAs ([`Transport::default`]);
/// `ZOO_OCI_CACHE` and `ZOO_OCI_OFFLINE` ([`Context::default`]). A `zoo_oci.Client` gives
/// these per client, so two clients in one process never share them through the environment.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
struct Net {
    plain_http: bool,
    ca_file: Vec<PathBuf>,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    insecure: bool,
    /// Seconds (`--timeout`).
    timeout: Option<f64>,
    /// Seconds (`--retry-timeout`).
    retry_timeout: Option<f64>,
    /// A Docker config file to read credentials from (`--docker-config`).
    docker_config: Option<PathBuf>,
    /// Blob transfers at once (`--concurrency`).
    concurrency: Option<usize>,
    /// The shared cache's folder, instead of `ZOO_OCI_CACHE`'s.
    cache_dir: Option<PathBuf>,
    /// No network (true), or the network whatever `ZOO_OCI_OFFLINE` says (false).
    offline: Option<bool>,
}

/// A duration given in seconds, as the command line's duration flags take it: finite, not
/// negative (nor zero unless `zero_allowed`), and at most `cli::MAX_DURATION` (10 years), since
/// `Duration::from_secs_f64` panics past `u64::MAX` seconds and a deadline of now plus a century
/// overflows `Instant`.
fn seconds(value: Option<f64>, name: &str, zero_allowed: bool) -> PyResult<Option<Duration>> {
    let max = zoo_oci::cli::MAX_DURATION.as_secs_f64();
    match value {
        None => Ok(None),
        Some(s) if s.is_finite() && s > max => {
            Err(UsageError::new_err(format!("{name}={s} is more than 10 years: give at most {max} seconds")))
        }
        Some(s) if s.is_finite() && (s > 0.0 || (zero_allowed && s == 0.0)) => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(UsageError::new_err(format!(
            "{name}={s} is not a {} number of seconds",
            if zero_allowed { "non-negative" } else { "positive" }
        ))),
    }
}

impl Net {
    /// The context an operation runs in, its progress going to `events`.
    fn context(self, events: zoo_oci::event::Events) -> PyResult<Context> {
        let defaults = Context::default();
        let transport = Transport {
            plain_http: self.plain_http,
            ca_files: self.ca_file,
            client_cert: self.cert_file,
            client_key: self.key_file,
            insecure: self.insecure,
            idle_timeout: seconds(self.timeout, "timeout", false)?.unwrap_or(defaults.transport.idle_timeout),
            retry_timeout: seconds(self.retry_timeout, "retry_timeout", true)?
                .unwrap_or(defaults.transport.retry_timeout),
            // As on the command line: a registry refusing connections is waited for only when asked.
            wait_for_registry: seconds(self.retry_timeout, "retry_timeout", true)?.unwrap_or_default(),
            credentials: zoo_oci::credentials::Lookup { docker_config: self.docker_config },
            ..defaults.transport
        };
        let concurrency = match self.concurrency {
            Some(0) => return Err(UsageError::new_err("concurrency=0: at least one transfer must run")),
            Some(n) => n,
            None => defaults.concurrency,
        };
        Ok(Context {
            transport,
            concurrency,
            events,
            cache_root: self.cache_dir.or(defaults.cache_root),
            offline: self.offline.unwrap_or(defaults.offline),
        })
    }
}

type Job<T> = Pin<Box<dyn Future<Output = zoo_oci::Result<T>> + Send>>;

/// Runs an operation to its end with the GIL released. Every [`TICK`] the calling thread takes
/// the GIL back for a moment: to hand the progress events gathered so far to `progress` (so
/// Python code runs on the thread that called, never on the runtime's), and to look for Ctrl-C.
/// A KeyboardInterrupt drops the operation, which removes what it had written (scratch folders
/// and temp files go as their owners drop), then propagates.
fn run<T: Send + 'static>(
    py: Python<'_>,
    net: Net,
    progress: Option<Py<PyAny>>,
    job: impl FnOnce(Context) -> Job<T>,
) -> PyResult<T> {
    let runtime = runtime()?;
    let (send, receive) = mpsc::channel::<serde_json::Value>();
    let events: zoo_oci::event::Events = match progress {
        Some(_) => {
            let send = std::sync::Mutex::new(send);
            Arc::new(move |e: &Event| {
                if let Some(json) = e.to_json() {
                    let _ = send.lock().map(|s| s.send(json));
                }
            })
        }
        None => zoo_oci::event::ignore(),
    };
    let mut job = job(net.context(events)?);
    let _running = Running::start();
    loop {
        let done = py.detach(|| {
            runtime.block_on(async {
                tokio::select! {
                    result = &mut job => Some(result),
                    () = tokio::time::sleep(TICK) => None,
                }
            })
        });
        if let Some(callback) = &progress {
            let batch: Vec<serde_json::Value> = receive.try_iter().collect();
            if !batch.is_empty() {
                let text = serde_json::Value::Array(batch).to_string();
                let list = py.import("json")?.call_method1("loads", (text,))?;
                callback.call1(py, (list,))?;
            }
        }
        if let Some(result) = done {
            return result.map_err(|e| to_py(py, e));
        }
        if let Err(interrupt) = py.check_signals() {
            // Dropping the operation waits (briefly) for its extraction threads to stop. Then the
            // upload sessions it left open on registries are cancelled, as the command line
            // does, unless another thread's operation is running: the sessions are known
            // process-wide, and that one's are still in use.
            py.detach(move || {
                drop(job);
                if Running::alone() {
                    runtime.block_on(zoo_oci::ops::cancel_open_uploads(Duration::from_secs(3)));
                }
            });
            return Err(interrupt);
        }
    }
}

/// Operations running in this process, counted so that an interrupted one cancels upload
/// sessions only when no other one may be using them.
static RUNNING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct Running;

impl Running {
    fn start() -> Running {
        RUNNING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Running
    }
    fn alone() -> bool {
        RUNNING.load(std::sync::atomic::Ordering::SeqCst) == 1
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Runs a blocking library call with the GIL released.
fn blocking<T: Send>(py: Python<'_>, call: impl FnOnce() -> zoo_oci::Result<T> + Send) -> PyResult<T> {
    py.detach(call).map_err(|e| to_py(py, e))
}

fn location(py: Python<'_>, text: &str) -> PyResult<Location> {
    Location::parse(text).map_err(|e| to_py(py, e))
}

/// `dereference=True`: read through symbolic links, as `--dereference` does.
fn links(dereference: bool) -> zoo_oci::suite::Links {
    if dereference { zoo_oci::suite::Links::Follow } else { zoo_oci::suite::Links::Refuse }
}

fn json(report: &impl serde::Serialize) -> String {
    serde_json::to_string(report).expect("reports serialise")
}

#[pyfunction]
#[pyo3(signature = (r#ref, dest, only, variant, framework, include, exclude, force, net, progress, resolved_from=None, verify_key=None, policy=None))]
#[allow(clippy::too_many_arguments)]
fn pull(
    py: Python<'_>,
    r#ref: &str,
    dest: Option<PathBuf>,
    only: Vec<String>,
    variant: Vec<String>,
    framework: Vec<String>,
    include: Vec<String>,
    exclude: Vec<String>,
    force: bool,
    net: Net,
    progress: Option<Py<PyAny>>,
    resolved_from: Option<String>,
    verify_key: Option<PathBuf>,
    policy: Option<PathBuf>,
) -> PyResult<String> {
    let mut options = ops::PullOptions::new(location(py, r#ref)?);
    options.resolved_from = resolved_from;
    options.verify_key = verify_key;
    options.policy = policy;
    options.into_cache = dest.is_none();
    options.destination = dest;
    options.force = force;
    options.selection.only = zoo_oci::suite::Class::parse_groups(&only).map_err(|e| to_py(py, e))?;
    options.selection.variants = variant;
    options.selection.frameworks = framework;
    options.selection.include = include;
    options.selection.exclude = exclude;
    run(py, net, progress, move |context| {
        Box::pin(async move { ops::pull(&options, &context).await.map(|r| json(&r)) })
    })
}

#[pyfunction]
fn inspect(py: Python<'_>, r#ref: &str, net: Net) -> PyResult<String> {
    let options = ops::InspectOptions::new(location(py, r#ref)?);
    run(py, net, None, move |context| Box::pin(async move { ops::inspect(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (location, task, framework, license, query, net, tags_max_age_seconds=None, refresh=false))]
fn index(
    py: Python<'_>,
    location: &str,
    task: Option<String>,
    framework: Option<String>,
    license: Option<String>,
    query: Option<String>,
    net: Net,
    tags_max_age_seconds: Option<f64>,
    refresh: bool,
) -> PyResult<String> {
    let mut options = ops::IndexOptions::new(Scope::parse(location).map_err(|e| to_py(py, e))?);
    options.filters = zoo_oci::index::Filters { task, framework, license, query };
    if let Some(age) = seconds(tags_max_age_seconds, "tags_max_age", true)? {
        options.tags_max_age = age;
    }
    if refresh {
        options.tags_max_age = std::time::Duration::ZERO;
    }
    run(py, net, None, move |context| Box::pin(async move { ops::index(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn push(
    py: Python<'_>,
    folder: PathBuf,
    target: &str,
    strict: bool,
    dereference: bool,
    names: Option<String>,
    net: Net,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let mut options = ops::PushOptions::new(folder, location(py, target)?);
    options.strict = strict;
    options.links = links(dereference);
    options.names = match names.as_deref() {
        None => None,
        Some("modelpack") => Some(zoo_oci::artifact::media::Names::ModelPack),
        Some("legacy") => Some(zoo_oci::artifact::media::Names::Legacy),
        Some(other) => {
            let e = zoo_oci::Error::usage(format!("names={other:?} is neither \"modelpack\" nor \"legacy\""));
            return Err(to_py(py, e));
        }
    };
    run(py, net, progress, move |context| {
        Box::pin(async move { ops::push(&options, &context).await.map(|r| json(&r)) })
    })
}

#[pyfunction]
fn check(py: Python<'_>, folder: PathBuf, strict: bool, dereference: bool) -> PyResult<String> {
    let mut options = ops::CheckOptions::new(folder);
    options.strict = strict;
    options.links = links(dereference);
    blocking(py, || ops::check(&options).map(|r| json(&r)))
}

#[pyfunction]
fn init(py: Python<'_>, folder: PathBuf, force: bool) -> PyResult<String> {
    let mut options = ops::InitOptions::new(folder);
    options.force = force;
    blocking(py, || ops::init(&options).map(|r| json(&r)))
}

#[pyfunction]
fn copy(py: Python<'_>, src: &str, dst: &str, net: Net, progress: Option<Py<PyAny>>) -> PyResult<String> {
    let options = ops::CopyOptions::new(location(py, src)?, location(py, dst)?);
    run(py, net, progress, move |context| {
        Box::pin(async move { ops::copy(&options, &context).await.map(|r| json(&r)) })
    })
}

#[pyfunction]
fn tag(py: Python<'_>, r#ref: &str, tags: Vec<String>, net: Net) -> PyResult<String> {
    let options = ops::TagOptions::new(location(py, r#ref)?, tags);
    run(py, net, None, move |context| Box::pin(async move { ops::tag(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
#[pyo3(signature = (r#ref, key, net, certificate=None, certificate_chain=None))]
fn sign(
    py: Python<'_>,
    r#ref: &str,
    key: PathBuf,
    net: Net,
    certificate: Option<PathBuf>,
    certificate_chain: Option<PathBuf>,
) -> PyResult<String> {
    let mut options = ops::SignOptions::new(location(py, r#ref)?, key);
    options.certificate = certificate;
    options.certificate_chain = certificate_chain;
    run(py, net, None, move |context| Box::pin(async move { ops::sign(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
fn verify(py: Python<'_>, r#ref: &str, key: PathBuf, net: Net) -> PyResult<String> {
    let options = ops::VerifyOptions::new(location(py, r#ref)?, key);
    run(py, net, None, move |context| Box::pin(async move { ops::verify(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn validate(
    py: Python<'_>,
    source: &str,
    folder: bool,
    variant: Option<String>,
    python: Option<PathBuf>,
    time_limit: f64,
    memory_limit: u64,
    unsandboxed: bool,
    attach_key: Option<PathBuf>,
    net: Net,
) -> PyResult<String> {
    let source = match folder {
        true => ops::ValidateSource::Folder(PathBuf::from(source)),
        false => ops::ValidateSource::Stored(location(py, source)?),
    };
    if !(time_limit.is_finite() && time_limit > 0.0) {
        return Err(to_py(py, zoo_oci::Error::usage("time_limit must be a positive number of seconds")));
    }
    let mut options = ops::ValidateOptions::new(source);
    options.variant = variant;
    options.python = python;
    options.time_limit = Duration::from_secs_f64(time_limit);
    options.memory_limit = memory_limit;
    options.unsandboxed = unsandboxed;
    options.attach_key = attach_key;
    run(py, net, None, move |context| {
        Box::pin(async move { ops::validate(&options, &context).await.map(|r| json(&r)) })
    })
}

#[pyfunction]
fn diff(py: Python<'_>, a: &str, b: &str, net: Net) -> PyResult<String> {
    let options = ops::DiffOptions::new(location(py, a)?, location(py, b)?);
    run(py, net, None, move |context| Box::pin(async move { ops::diff(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
fn tags(py: Python<'_>, location: &str, long: bool, net: Net) -> PyResult<String> {
    let mut options = ops::TagsOptions::new(self::location(py, location)?);
    options.long = long;
    run(py, net, None, move |context| Box::pin(async move { ops::tags(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
fn rm(py: Python<'_>, r#ref: &str, net: Net) -> PyResult<String> {
    let options = ops::RmOptions::new(location(py, r#ref)?);
    run(py, net, None, move |context| Box::pin(async move { ops::rm(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
fn gc(py: Python<'_>, location: &str, dry_run: bool) -> PyResult<String> {
    let mut options = ops::GcOptions::new(self::location(py, location)?);
    options.dry_run = dry_run;
    blocking(py, || ops::gc(&options).map(|r| json(&r)))
}

/// The password goes to the registry and into the Docker config (or its credential helper),
/// never into a message: errors name the registry and the user only.
#[pyfunction]
fn login(py: Python<'_>, registry: String, username: String, password: String, net: Net) -> PyResult<String> {
    let options = ops::LoginOptions::new(registry, username, password);
    run(py, net, None, move |context| Box::pin(async move { ops::login(&options, &context).await.map(|r| json(&r)) }))
}

#[pyfunction]
#[pyo3(signature = (registry, docker_config=None))]
fn logout(py: Python<'_>, registry: String, docker_config: Option<PathBuf>) -> PyResult<String> {
    let mut options = ops::LogoutOptions::new(registry);
    options.docker_config = docker_config;
    blocking(py, || ops::logout(&options).map(|r| json(&r)))
}

fn open_cache(py: Python<'_>) -> PyResult<zoo_oci::cache::Cache> {
    zoo_oci::cache::Cache::open().map_err(|e| to_py(py, e))
}

#[pyfunction]
fn cache_root(py: Python<'_>) -> PyResult<String> {
    Ok(open_cache(py)?.root().display().to_string())
}

#[pyfunction]
fn cache_ls(py: Python<'_>) -> PyResult<String> {
    let cache = open_cache(py)?;
    blocking(py, || ops::cache_ls(&cache).map(|r| json(&r)))
}

#[pyfunction]
fn cache_rm(py: Python<'_>, targets: Vec<String>) -> PyResult<String> {
    let cache = open_cache(py)?;
    blocking(py, || ops::cache_rm(&cache, &targets).map(|r| json(&r)))
}

#[pyfunction]
fn cache_prune(py: Python<'_>, older_than_seconds: Option<f64>) -> PyResult<String> {
    let cache = open_cache(py)?;
    let age = seconds(older_than_seconds, "older_than", true)?;
    blocking(py, || ops::cache_prune(&cache, age).map(|r| json(&r)))
}

/// The `zoo-oci` command, in this process: what the wheel's console script runs.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| zoo_oci::cli::main(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // The exceptions, as the package defines them (`zoo_oci._native.NotFoundError is
    // zoo_oci.NotFoundError`).
    let errors = py.import(ERRORS)?;
    for name in ["ZooError", "UsageError", "AuthError", "NotFoundError", "IntegrityError", "TransportError"] {
        m.add(name, errors.getattr(name)?)?;
    }
    m.add_function(wrap_pyfunction!(pull, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(index, m)?)?;
    m.add_function(wrap_pyfunction!(push, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(init, m)?)?;
    m.add_function(wrap_pyfunction!(copy, m)?)?;
    m.add_function(wrap_pyfunction!(tag, m)?)?;
    m.add_function(wrap_pyfunction!(diff, m)?)?;
    m.add_function(wrap_pyfunction!(tags, m)?)?;
    m.add_function(wrap_pyfunction!(rm, m)?)?;
    m.add_function(wrap_pyfunction!(gc, m)?)?;
    m.add_function(wrap_pyfunction!(login, m)?)?;
    m.add_function(wrap_pyfunction!(logout, m)?)?;
    m.add_function(wrap_pyfunction!(sign, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(cache_root, m)?)?;
    m.add_function(wrap_pyfunction!(cache_ls, m)?)?;
    m.add_function(wrap_pyfunction!(cache_rm, m)?)?;
    m.add_function(wrap_pyfunction!(cache_prune, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
