//! zoo-oci: model suites as ModelPack OCI artifacts, in OCI image layouts and registries.
//!
//! A suite folder (`zoo.yaml` and the files it declares) is [checked](suite::check),
//! [packed](artifact::pack) into one layer per file class, and [copied](copy) to a
//! [store](store). Pulling is the same copy into a folder, with [selection](pull).
#![deny(missing_docs)]

pub mod artifact;
pub mod copy;
pub mod credentials;
pub mod digest;
pub mod error;
pub mod event;
pub mod index;
pub mod ops;
pub mod pull;
pub mod reference;
pub mod retry;
pub mod store;
pub mod stream;
pub mod suite;
pub mod taxonomy;

pub use error::{Error, ErrorKind, Result};
