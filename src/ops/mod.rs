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
mod tag;
mod tags;

pub use crate::cache::{
    CacheListing, CachedSuite, RemoveReport, list as cache_ls, prune as cache_prune, remove as cache_rm,
};
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
pub use tag::{TagOptions, TagReport, tag};
pub use tags::{TagEntry, TagsOptions, TagsReport, tags};

use crate::event::{self, Events};
use crate::store::Transport;

/// What registry operations share: transport, concurrency, and the listener for progress.
#[derive(Clone)]
pub struct Context {
    /// How to reach registries (TLS, CAs, credentials, how long to wait for one).
    pub transport: Transport,
    /// Blob transfers at once.
    pub concurrency: usize,
    /// Where progress events go.
    pub events: Events,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            transport: Transport::default(),
            concurrency: crate::copy::DEFAULT_CONCURRENCY,
            events: event::ignore(),
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

    fn copy_options<'a>(&self, on_event: &'a (dyn Fn(&event::Event) + Sync)) -> crate::copy::CopyOptions<'a> {
        crate::copy::CopyOptions {
            concurrency: self.concurrency,
            on_event,
            idle_timeout: self.transport.idle_timeout,
            retry_for: Some(self.transport.retry_timeout),
            // Copies between stores keep no partial copy: a mirror of a registry would write
            // every blob twice. Pulls do (`ops::pull`).
            resume_dir: None,
            ..crate::copy::CopyOptions::default()
        }
    }
}
