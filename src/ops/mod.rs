//! The operation API: one function per operation, each taking a typed options struct and
//! returning a typed, serde-serialisable report (the one `--format json` prints). The command
//! line and the Python binding call only these; they parse arguments and render reports.
//!
//! Every registry operation takes a [`Context`]: how to reach registries, how many transfers at
//! once, and where progress [`Event`](crate::event::Event)s go.
//!
//! ```no_run
//! # async fn demo() -> zoo_oci::Result<()> {
//! use zoo_oci::ops::{self, Context, PullOptions};
//! use zoo_oci::reference::Location;
//!
//! let context = Context::default();
//! let report = ops::pull(&PullOptions::new(Location::parse("oci:./zoo:1.0")?), &context).await?;
//! println!("{} files in {}", report.files, report.destination.display());
//! # Ok(()) }
//! ```

mod check;
mod copy;
mod diff;
mod gc;
mod index;
mod init;
mod inspect;
mod login;
mod pull;
mod push;
mod rm;
mod sign;
mod tag;
mod tags;
mod validate;

pub use crate::artifact::attestation::{MetricCheck, Validation};
pub use crate::cache::{
    CacheListing, CachedSuite, RemoveReport, list as cache_ls, prune as cache_prune, remove as cache_rm,
};
pub use crate::store::registry::sessions::cancel_all as cancel_open_uploads;
pub use check::{CheckOptions, CheckReport, SuiteSummary, check};
pub use copy::{AsImage, CopyOptions, CopyReport, copy};
pub use diff::{
    ClassDiff, DiffOptions, DiffReport, FieldChange, FileChange, FileEntry, FileState, MediaTypeChange, SuiteSide,
    VariantDiff, diff,
};
pub use gc::{GcOptions, GcReport, gc};
pub use index::{IndexOptions, index};
pub use init::{InitOptions, InitReport, init};
pub use inspect::{InspectOptions, InspectReport, LayerSummary, inspect};
pub use login::{LoginOptions, LoginReport, LogoutOptions, LogoutReport, login, logout};
pub use pull::{PullOptions, PullReport, pull};
pub use push::{Created, PushOptions, PushReport, push};
pub use rm::{RmOptions, RmReport, rm};
pub use sign::{SignOptions, SignReport, VerifyOptions, VerifyReport, sign, verify};
pub use tag::{TagOptions, TagReport, tag};
pub use tags::{TagEntry, TagsOptions, TagsReport, tags};
pub use validate::{Harness, ValidateOptions, ValidateReport, ValidateSource, Verdict, default_tolerance, validate};

use std::path::PathBuf;
use std::sync::Arc;

use crate::cache::Cache;
use crate::error::{Error, Result};
use crate::event::{self, Events};
use crate::reference::Location;
use crate::store::{Access, Source, Target, Transport};

/// What registry operations share: transport, concurrency, the listener for progress, and the
/// shared cache (where it is, and whether to stay off the network).
#[derive(Clone)]
pub struct Context {
    /// How to reach registries (TLS, CAs, credentials, how long to wait for one).
    pub transport: Transport,
    /// Blob transfers at once.
    pub concurrency: usize,
    /// Where progress events go.
    pub events: Events,
    /// The shared cache's folder: by default `$ZOO_OCI_CACHE`, else `$XDG_CACHE_HOME/zoo-oci`,
    /// else `~/.cache/zoo-oci` ([`crate::cache::root`]); none when none of them is set.
    pub cache_root: Option<PathBuf>,
    /// No network: tags resolve from the cache alone. By default `ZOO_OCI_OFFLINE`
    /// ([`crate::cache::offline`]).
    pub offline: bool,
}

impl Default for Context {
    fn default() -> Self {
        let mut transport = Transport::default();
        // The system's mirrors (registries.conf, hosts.toml), as the command line reads them; a
        // file that cannot be read leaves none (the command line says so; a default cannot).
        let mut hosts_dirs = transport.certs_dirs.clone();
        hosts_dirs.push(std::path::PathBuf::from(crate::store::mirrors::CONTAINERD_CERTS_DIR));
        transport.mirrors = crate::store::mirrors::Mirrors::load(&hosts_dirs).unwrap_or_default();
        Context {
            transport,
            concurrency: crate::copy::DEFAULT_CONCURRENCY,
            events: event::ignore(),
            cache_root: crate::cache::root(),
            offline: crate::cache::offline(),
        }
    }
}

impl Context {
    /// The same context with plain HTTP switched on (copy's `--from-plain-http` and
    /// `--to-plain-http` set it for one side).
    pub fn with_plain_http(&self, plain_http: bool) -> Context {
        let mut context = self.clone();
        context.transport.plain_http |= plain_http;
        context
    }

    /// The shared cache in [`Context::cache_root`].
    pub fn cache(&self) -> Result<Cache> {
        Cache::open_at(self.cache_root.clone())
    }

    /// What reads `location` for `pull` and `inspect`: the location itself, or
    /// [`Context::offline`], the cache's record of it (tags, manifests and configs pulled before;
    /// layers it holds), a layout's too (a disk that is gone).
    async fn open_source(&self, location: &Location) -> Result<Box<dyn Source>> {
        if self.offline {
            return Ok(Box::new(crate::cache::OfflineSource::new(self.cache()?, location.clone())));
        }
        self.source(location).await
    }

    /// What reads `location` for every other operation: offline, a registry's suites come from
    /// the cache's record of them alone; a layout is read as it is, being no network.
    async fn source(&self, location: &Location) -> Result<Box<dyn Source>> {
        if self.offline && matches!(location, Location::Registry { .. }) {
            return Ok(Box::new(crate::cache::OfflineSource::new(self.cache()?, location.clone())));
        }
        crate::store::mirrors::open_reader(location, &self.transport, &self.events).await
    }

    /// What writes `location` (`access`): offline, a registry is refused at once.
    async fn target(&self, location: &Location, access: Access) -> Result<Box<dyn Target>> {
        if let Location::Registry { registry, .. } = location {
            self.reach(registry, &format!("writing to {location}"))?;
        }
        crate::store::open(location, &self.transport, &self.events, access).await
    }

    /// The one check before a request that the cache cannot answer (a write, a catalogue, a
    /// login): offline, `doing` fails at once, saying so, and `registry` is never asked.
    fn reach(&self, registry: &str, doing: &str) -> Result<()> {
        if !self.offline {
            return Ok(());
        }
        Err(Error::failed(format!("{doing} needs the registry {registry}, and zoo-oci is offline (ZOO_OCI_OFFLINE)"))
            .with_hint("unset ZOO_OCI_OFFLINE (Python: offline=False) to reach the registry"))
    }

    fn copy_options<'a>(&self, on_event: &'a (dyn Fn(&event::Event) + Sync)) -> crate::copy::GraphOptions<'a> {
        crate::copy::GraphOptions {
            concurrency: self.concurrency,
            on_event,
            idle_timeout: self.transport.idle_timeout,
            retry_for: Some(self.transport.retry_timeout),
            // Copies between stores keep no partial copy: a mirror of a registry would write
            // every blob twice. Pulls do (`ops::pull`).
            resume_dir: None,
            ..crate::copy::GraphOptions::default()
        }
    }
}

/// Runs `read` against `location`: its own store, or the cache when [`Context::offline`] (`read`
/// is told which). For a registry suite the shared cache holds, the registry is waited for
/// only briefly ([`crate::cache::PATIENCE_WITH_A_COPY`]); when it cannot be reached, `read`
/// runs again against the cache, and `warn` adds to its report a warning saying so.
async fn with_cache_standing_in<T, F>(
    location: &Location,
    context: &Context,
    read: impl Fn(Arc<dyn Source>, Context, bool) -> F,
    warn: impl FnOnce(&mut T, String),
) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let holding = match context.cache() {
        Ok(cache) if !context.offline && crate::cache::can_answer(&cache, location) => Some(cache),
        _ => None,
    };
    let Some(cache) = holding else {
        let source = context.open_source(location).await?;
        return read(Arc::from(source), context.clone(), context.offline).await;
    };
    let mut patient = context.clone();
    patient.transport.retry_timeout = patient.transport.retry_timeout.min(crate::cache::PATIENCE_WITH_A_COPY);
    let online = async {
        let source = crate::store::mirrors::open_reader(location, &patient.transport, &patient.events).await?;
        read(Arc::from(source), patient.clone(), false).await
    };
    match online.await {
        Err(e) if crate::cache::unreachable(&e) => {
            let source = crate::cache::OfflineSource::new(cache, location.clone());
            let mut report = read(Arc::new(source), context.clone(), true).await.map_err(|_| e.clone())?;
            warn(&mut report, crate::cache::stood_in(location, &e));
            Ok(report)
        }
        result => result,
    }
}
