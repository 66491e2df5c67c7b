//! Targets: places blobs and manifests are read from and written to (the idea of oras-go's
//! `Target`). A layout, a registry, a suite being packed and a folder being pulled into all
//! implement [`Target`], so push, pull and copy are one algorithm (`crate::copy`).

pub mod dir;
pub mod layout;
pub mod packed;
pub mod registry;

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

use crate::artifact::manifest::Descriptor;
use crate::error::Result;

/// A stream of blob bytes.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// Opens the stream of a blob being copied, again if needed: a destination may need a second
/// attempt (a registry refusing a monolithic upload) and a stream can be read only once.
pub type BlobOpener<'a> = &'a (dyn Fn() -> Pin<Box<dyn Future<Output = Result<BlobReader>> + Send + 'a>> + Send + Sync);

/// A store of content-addressed blobs and tagged manifests.
#[async_trait]
pub trait Target: Send + Sync {
    /// How to name this target in messages, e.g. `oci:./zoo`.
    fn name(&self) -> String;

    /// The manifest a tag or digest points at.
    async fn resolve(&self, reference: &crate::reference::Reference) -> Result<Descriptor>;

    /// The bytes of a manifest or index, verified against its descriptor.
    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>>;

    /// Whether the target already holds this blob or manifest.
    async fn exists(&self, descriptor: &Descriptor) -> Result<bool>;

    /// A stream of a blob's bytes. Callers verify what they read.
    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader>;

    /// Stores a blob read from the stream `open` gives; must verify size and digest before it
    /// becomes visible.
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()>;

    /// For a registry repository, its `(registry, repository)`: what a destination on the same
    /// registry needs to mount blobs instead of uploading them.
    fn registry_repository(&self) -> Option<(&str, &str)> {
        None
    }

    /// Makes a blob of `from` appear here without copying its bytes, when this target can
    /// (a cross-repository mount); `false` means "copy it".
    async fn mount(&self, _descriptor: &Descriptor, _from: &dyn Target) -> Result<bool> {
        Ok(false)
    }

    /// Stores a manifest as these exact bytes, and tags it when `tag` is given.
    async fn push_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()>;

    /// Points `tag` at a manifest the target holds.
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<()>;

    /// The tags, sorted.
    async fn tags(&self) -> Result<Vec<String>>;
}
