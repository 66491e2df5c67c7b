//! Stores: places blobs and manifests are read from and written to, described by what they can
//! do (the idea of oras-go's small interfaces). A [`Source`] resolves references and gives
//! content; a [`Sink`] takes it; a [`Target`] (a layout, a registry repository) is both and can
//! tag. A suite being packed is only a source, a folder being pulled into only a sink.
//!
//! Speed-ups and extras are optional capabilities that [`crate::copy`] asks for and falls back
//! from ([`Sink::mounter`] with [`Source::mount_origin`]; [`Source::referrers`]); copy never asks
//! which backend it has.

pub mod dir;
pub mod layout;
#[cfg(test)]
pub(crate) mod memory;
pub mod mirrors;
pub mod packed;
pub mod registry;

use std::future::Future;
use std::pin::Pin;

use async_trait::async_trait;
use tokio::io::AsyncRead;

use crate::artifact::decode;
use crate::artifact::manifest::Descriptor;
use crate::error::{Error, Result};
use crate::event::{Event, Events};
use crate::reference::{Location, Reference};

pub use crate::stream::{Spool, Spooler};
pub use registry::Transport;

/// A stream of blob bytes.
pub type BlobReader = Pin<Box<dyn AsyncRead + Send>>;

/// Opens the stream of a blob being copied, again if needed: a destination may need a second
/// attempt (a registry refusing a monolithic upload) and a stream can be read only once.
pub type BlobOpener<'a> = &'a (dyn Fn() -> Pin<Box<dyn Future<Output = Result<BlobReader>> + Send + 'a>> + Send + Sync);

/// What every store answers: how to name it, and whether it holds some content.
#[async_trait]
pub trait Store: Send + Sync {
    /// How to name this store in messages, e.g. `oci:./zoo`.
    fn name(&self) -> String;

    /// Whether the store already holds this blob or manifest.
    async fn exists(&self, descriptor: &Descriptor) -> Result<bool>;
}

/// A store content is read from.
#[async_trait]
pub trait Source: Store {
    /// The manifest a tag or digest points at.
    async fn resolve(&self, reference: &Reference) -> Result<Descriptor>;

    /// The bytes of a manifest or index, verified against its descriptor.
    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>>;

    /// A stream of a blob's bytes. Callers verify what they read.
    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader>;

    /// The tags, sorted.
    async fn tags(&self) -> Result<Vec<String>>;

    /// Capability: the registry repository this source is, whose blobs a sink on the same
    /// registry may mount instead of uploading.
    fn mount_origin(&self) -> Option<MountOrigin<'_>> {
        None
    }

    /// Capability: listing the manifests that refer to a manifest (signatures, SBOMs,
    /// attestations), for a copy that brings them along.
    fn referrers(&self) -> Option<&dyn Referrers> {
        None
    }

    /// Capability: a blob's bytes from an offset on, for resuming a download.
    fn ranged(&self) -> Option<&dyn RangedFetch> {
        None
    }

    /// The mirror this source read through, once it resolved a reference through one.
    fn served_by(&self) -> Option<String> {
        None
    }
}

/// The ranged-read capability of a source (HTTP `Range`).
#[async_trait]
pub trait RangedFetch: Send + Sync {
    /// The blob's bytes from `start` up to `end` (exclusive); `None` when the source sends
    /// only whole blobs.
    async fn fetch_blob_range(&self, descriptor: &Descriptor, start: u64, end: u64) -> Result<Option<BlobReader>>;

    /// The blob's bytes from `offset` to its end; `None` when the source sends only whole blobs.
    async fn fetch_blob_from(&self, descriptor: &Descriptor, offset: u64) -> Result<Option<BlobReader>> {
        self.fetch_blob_range(descriptor, offset, descriptor.size).await
    }
}

/// The capability of a sink to take a blob as a finished file, moved into place rather than
/// streamed: a raw layer's file is the blob, so a download into a file of its own
/// ([`crate::download`]) writes each byte once and that file is the download's resume state.
#[async_trait]
pub trait FileTaker: Send + Sync {
    /// Whether it takes this blob as a file.
    fn takes_as_file(&self, descriptor: &Descriptor) -> bool;

    /// Moves the whole, verified blob at `path` into place (renamed; copied when `path` is on
    /// another file system). `path` is gone, or left for the caller to remove, afterwards.
    async fn take_file(&self, descriptor: &Descriptor, path: &std::path::Path) -> Result<()>;
}

/// The referrers capability of a source (distribution spec, "Listing Referrers").
#[async_trait]
pub trait Referrers: Send + Sync {
    /// The manifests whose `subject` is `subject`, as descriptors (with their `artifactType`).
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>>;
}

/// A store content is written to.
#[async_trait]
pub trait Sink: Store {
    /// Stores a blob read from the stream `open` gives; must verify size and digest before it
    /// becomes visible.
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()>;

    /// Stores a manifest as these exact bytes, and tags it when `tag` is given. Called only
    /// once everything the manifest points at is stored.
    async fn push_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()>;

    /// Capability: makes blobs of another repository appear here without copying them.
    fn mounter(&self) -> Option<&dyn Mounter> {
        None
    }

    /// Capability: takes blobs whose digest is known only after their last byte, so that a
    /// push hashes each layer while it streams here (one pass over the files, not two).
    fn spooler(&self) -> Result<Option<std::sync::Arc<dyn Spooler>>> {
        Ok(None)
    }

    /// Capability: takes some blobs as finished files (a folder being pulled into takes a raw
    /// layer so).
    fn file_taker(&self) -> Option<&dyn FileTaker> {
        None
    }

    /// Capability: the registry UI this sink is, when it tells which names it shows models
    /// under (Harbor answers its version), so that a push can choose them.
    async fn model_ui(&self) -> Option<ModelUi> {
        None
    }
}

/// A registry UI that shows models, as a push's destination describes itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelUi {
    /// What it is, for messages: `Harbor v2.14.1-2bfa9f71`, or `Harbor (version not told)`.
    pub name: String,
    /// Whether it shows models only under model-spec 0.0.5's names (`vnd.cnai.model`).
    pub legacy_names_only: bool,
}

/// The first Harbor release whose model view reads ModelPack's `vnd.cncf.model` names: 2.13 to
/// 2.15 read only `vnd.cnai.model` (Harbor's `src/controller/artifact/processor/cnai/`); the
/// change is on Harbor's main branch, unreleased as of 2.15.2, so the next minor release.
pub const HARBOR_READING_MODELPACK_NAMES: (u64, u64) = (2, 16);

impl ModelUi {
    /// A Harbor that told its version (`v2.14.1-2bfa9f71`, `2.16.0`), or not (`None`: an
    /// anonymous caller is not told). A Harbor whose version cannot be read is taken as a
    /// released one: every released Harbor shows models only under the legacy names.
    pub fn harbor(version: Option<&str>) -> ModelUi {
        let parsed = version.and_then(|v| {
            let mut parts = v.trim_start_matches('v').split(['.', '-']);
            Some((parts.next()?.parse::<u64>().ok()?, parts.next()?.parse::<u64>().ok()?))
        });
        ModelUi {
            name: match version {
                Some(v) => format!("Harbor {v}"),
                None => "Harbor (which tells its version only to a signed-in user)".into(),
            },
            legacy_names_only: parsed.is_none_or(|minor| minor < HARBOR_READING_MODELPACK_NAMES),
        }
    }
}

/// Where a blob can be mounted from: a repository of a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountOrigin<'a> {
    /// `HOST[:PORT]`.
    pub registry: &'a str,
    /// The repository.
    pub repository: &'a str,
}

/// The cross-repository mount capability of a sink.
#[async_trait]
pub trait Mounter: Send + Sync {
    /// Makes the blob of `from` appear here; `false` means "copy it instead".
    async fn mount(&self, descriptor: &Descriptor, from: MountOrigin<'_>) -> Result<bool>;
}

/// Points tags at manifests a store holds, and takes them away.
#[async_trait]
pub trait Tagger: Send + Sync {
    /// Points `tag` at a manifest the store holds.
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<()>;

    /// Takes away what `reference` names, `descriptor` being what it resolves to: the tag, or
    /// (a digest, or a store that deletes only manifests) the manifest and its tags.
    async fn remove(&self, descriptor: &Descriptor, reference: &Reference) -> Result<Removal>;
}

/// What [`Tagger::remove`] took away.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    /// The tags that no longer exist, when the store knows them.
    pub tags: Vec<String>,
    /// Whether the manifest itself was deleted.
    pub manifest_deleted: bool,
}

/// A store that is read, written and tagged: an OCI layout, a registry repository.
pub trait Target: Source + Sink + Tagger {}

impl<T: Source + Sink + Tagger> Target for T {}

/// What a caller means to do with a location it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read: a layout must exist; a registry is asked for pull rights.
    Read,
    /// Write into what exists (tagging): a layout must exist; a registry is asked for push
    /// rights.
    Update,
    /// Write, creating it if needed (push, copy): a missing layout is created; a registry is
    /// asked for push rights.
    Create,
}

/// Opens a location to read from.
pub async fn open_source(location: &Location, transport: &Transport, events: &Events) -> Result<Box<dyn Target>> {
    open(location, transport, events, Access::Read).await
}

/// Opens a location to write to, creating a layout if needed.
pub async fn open_target(location: &Location, transport: &Transport, events: &Events) -> Result<Box<dyn Target>> {
    open(location, transport, events, Access::Create).await
}

/// Opens a location for `access`. Registries that are not up yet are waited for (the
/// transport's `retry_timeout`), each wait told to `events`.
pub async fn open(
    location: &Location,
    transport: &Transport,
    events: &Events,
    access: Access,
) -> Result<Box<dyn Target>> {
    match location {
        Location::Layout { path, .. } if access == Access::Create => Ok(Box::new(layout::LayoutStore::create(path)?)),
        Location::Layout { path, .. } => Ok(Box::new(layout::LayoutStore::open(path)?)),
        Location::Registry { registry, repository, .. } => {
            let on_wait = |e: &Error, pause: std::time::Duration| {
                events(&Event::Waiting { registry: registry.clone(), reason: e.to_string(), retry_in: pause })
            };
            let push = access != Access::Read;
            let store =
                registry::RegistryStore::connect_waiting(registry, repository, transport, push, &on_wait).await?;
            events(&Event::Credentials { registry: registry.clone(), source: store.credential_source().clone() });
            Ok(Box::new(store))
        }
    }
}

/// Decodes a manifest into a suite view ([`decode::decode`]) and, for an artifact zoo-oci did not
/// write (no suite record), reads its ModelPack config for the model's name, version and facts.
/// A config that cannot be read is a warning in the view, not an error: the layers still list.
pub async fn suite_view(source: &dyn Source, descriptor: &Descriptor, bytes: &[u8]) -> Result<decode::SuiteView> {
    Ok(suite_view_and_config(source, descriptor, bytes).await?.0)
}

/// [`suite_view`], with the config's bytes when it read them (the shared cache keeps them for
/// offline use without asking the registry twice).
pub async fn suite_view_and_config(
    source: &dyn Source,
    descriptor: &Descriptor,
    bytes: &[u8],
) -> Result<(decode::SuiteView, Option<Vec<u8>>)> {
    let mut view = decode::decode(descriptor, bytes)?;
    let mut config_bytes = None;
    if view.spec.is_none() {
        let config = view.manifest.config.clone();
        match read_small_blob(source, &config, &format!("config {}", config.digest)).await {
            Ok(bytes) if config.media_type == crate::artifact::media::KIT_CONFIG => {
                decode::attach_kitfile(&mut view, &bytes);
                config_bytes = Some(bytes);
            }
            Ok(bytes) => {
                decode::attach_config(&mut view, &bytes);
                config_bytes = Some(bytes);
            }
            Err(e) => view.warnings.push(format!("the config {} could not be read: {e}", config.digest)),
        }
    }
    Ok((view, config_bytes))
}

/// Reads and verifies a small blob (a config), refusing one larger than a manifest may be: a
/// descriptor's claimed size is never trusted for memory.
pub async fn read_small_blob(source: &dyn Source, descriptor: &Descriptor, what: &str) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let limit = crate::artifact::media::MANIFEST_LIMIT as u64;
    if descriptor.size > limit {
        return Err(Error::malformed(format!("{what} claims {} bytes, more than a config may hold", descriptor.size)));
    }
    let read = |_| async {
        let mut bytes = Vec::new();
        source.fetch_blob(descriptor).await?.take(limit + 1).read_to_end(&mut bytes).await.map_err(|e| {
            crate::stream::into_error(e, |e| Error::failed(format!("could not read {what}")).with_cause(e).retryable())
        })?;
        Ok(bytes)
    };
    let bytes =
        crate::retry::run(crate::retry::Policy::Retries(crate::retry::DEFAULT_RETRIES), |_, _| {}, read).await?;
    crate::digest::verify_bytes(what, &descriptor.digest, descriptor.size, &bytes)?;
    Ok(bytes)
}

/// The reference a read needs, as docker and oras pick it: the one the location names; else
/// `latest` when it exists; else the only tag the store has; else an error listing the tags.
pub async fn reference_or_only_tag(location: &Location, source: &dyn Source) -> Result<Reference> {
    if let Some(r) = location.reference() {
        return Ok(r.clone());
    }
    let latest = Reference::Tag("latest".into());
    match source.resolve(&latest).await {
        Ok(_) => return Ok(latest),
        Err(e) if e.kind() == crate::error::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let tags = source.tags().await?;
    match tags.as_slice() {
        [only] => Ok(Reference::Tag(only.clone())),
        [] => Err(Error::not_found(format!("{location} holds no tagged suite")).with_hint("push one first")),
        many => {
            Err(Error::usage(format!("{location} has no tag latest and several others; name one")).with_hint(format!(
                "e.g. {}, tags: {}",
                location.with_reference(Some(Reference::Tag(many[0].clone()))),
                many.join(", ")
            )))
        }
    }
}

/// The validation an attestation referrer (`validate --attach`) holds; `None` when the referrer
/// is not one.
pub async fn validation_of(
    source: &dyn Source,
    referrer: &Descriptor,
) -> Result<Option<crate::artifact::attestation::Validation>> {
    use crate::artifact::attestation::{ENVELOPE_MEDIA_TYPE, read_validation};
    let bytes = source.fetch_manifest(referrer).await?;
    let manifest = crate::artifact::manifest::parse_manifest(&bytes, &format!("attestation {}", referrer.digest))?;
    let Some(layer) = manifest.layers.iter().find(|l| l.media_type == ENVELOPE_MEDIA_TYPE) else {
        return Ok(None);
    };
    let envelope = read_small_blob(source, layer, &format!("attestation {}", layer.digest)).await?;
    Ok(read_validation(&referrer.digest, &envelope))
}
