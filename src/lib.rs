//! zoo-oci: model suites as ModelPack OCI artifacts, in OCI image layouts and registries.
//!
//! Start at [`ops`], the operation API: [`ops::check`], [`ops::init`], [`ops::push`],
//! [`ops::pull`], [`ops::copy`], [`ops::inspect`], [`ops::index`], [`ops::tag`],
//! [`ops::login`] and [`ops::logout`], each taking a typed options struct and returning a
//! serde report, and the shared cache's [`ops::cache_ls`], [`ops::cache_rm`] and
//! [`ops::cache_prune`]. The `zoo-oci` command line (`cli::main`) and the Python package
//! (`python/`) are thin layers over them.
//!
//! Underneath: a suite folder (`zoo.yaml` and the files it declares) is [checked](suite::check),
//! [packed](artifact::pack) into one layer per file class, and copied by the [graph copy](copy)
//! between [stores](store). Pulling is the same graph copy into a folder, keeping the
//! [selection](pull). `ARCHITECTURE.md` at the repository's root maps the modules.
#![deny(missing_docs)]

pub mod artifact;
pub mod atomic;
pub mod cache;
#[doc(hidden)]
#[allow(missing_docs)]
pub mod cli;
pub mod copy;
pub mod credentials;
pub mod digest;
pub mod download;
pub mod error;
pub mod event;
pub mod format;
pub mod index;
pub mod ops;
pub mod pull;
pub mod reference;
pub mod resume;
pub mod retry;
pub mod sandbox;
pub mod signing;
pub mod store;
pub mod stream;
pub mod suite;
pub mod taxonomy;

pub use error::{Error, ErrorKind, Result};
