//! What `index` keeps between runs in the shared cache, so that indexing a registry again costs
//! its catalogue and what changed, not every manifest again:
//!
//! - manifests, configs and attestations, by digest, in the cache's `blobs/` (content-addressed:
//!   they never go stale, and a pull's copies serve the index too);
//! - each repository's tags, in a registry's *tag book* (`catalogues/<registry>.json`): what
//!   each tag pointed at when the repository's tags were listed, and when that was.
//!
//! The catalogue is read every time, so a repository pushed since shows. A known repository's
//! tags are used as listed for a while (`max_age`, the user's to set), because nothing short of
//! listing them tells whether a tag moved, and listing every repository's tags is most of what a
//! first index costs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::sync::OnceCell;

use crate::artifact::manifest::Descriptor;
use crate::artifact::media;
use crate::cache::Cache;
use crate::error::Result;
use crate::reference::Reference;
use crate::store::registry::RegistryStore;
use crate::store::{BlobReader, Source, Store};

/// Blobs up to this size (configs, attestation envelopes) are kept; layers are never read here.
const KEPT_BLOB_LIMIT: u64 = media::MANIFEST_LIMIT as u64;

/// A registry's tag book: per repository, its tags when they were last listed.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct TagBook {
    /// `HOST[:PORT]`.
    registry: String,
    repositories: BTreeMap<String, Listing>,
    #[serde(skip)]
    path: Option<PathBuf>,
}

/// One repository's tags, as listed at `listed_at`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Listing {
    /// Seconds since the Unix epoch.
    listed_at: u64,
    tags: BTreeMap<String, Pointer>,
}

/// What a tag pointed at.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pointer {
    digest: String,
    #[serde(rename = "mediaType")]
    media_type: String,
    size: u64,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl TagBook {
    /// The book of `registry` in `cache`; an empty one when there is none yet, or when what is
    /// there does not read (a book is a cache: losing it costs one slower index).
    pub fn open(cache: Option<&Cache>, registry: &str) -> TagBook {
        let path = cache.map(|c| c.root().join("catalogues").join(format!("{registry}.json")));
        let read = path.as_ref().and_then(|p| std::fs::read(p).ok());
        let mut book: TagBook = read
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(|b: &TagBook| b.registry == registry)
            .unwrap_or_else(|| TagBook { registry: registry.to_string(), ..TagBook::default() });
        book.path = path;
        book
    }

    /// `repository`'s tags as listed less than `max_age` ago.
    pub fn fresh(&self, repository: &str, max_age: Duration) -> Option<Listing> {
        let listing = self.repositories.get(repository)?;
        let age = now().saturating_sub(listing.listed_at);
        (age < max_age.as_secs()).then(|| listing.clone())
    }

    /// Records `repository`'s tags, listed just now (or kept, as `listing` says).
    pub fn record(&mut self, repository: &str, listing: Listing) {
        self.repositories.insert(repository.to_string(), listing);
    }

    /// Forgets the repositories `keep` refuses (gone from the catalogue).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.repositories.retain(|name, _| keep(name));
    }

    /// Writes the book back; a failure only costs the next index its speed, so it is not one.
    pub fn save(&self) {
        if let Some(path) = &self.path
            && let Ok(bytes) = serde_json::to_vec(self)
        {
            let _ = crate::cache::write_atomically(path, &bytes);
        }
    }
}

/// A repository of a registry read through the cache: tags from a fresh listing, manifests and
/// small blobs by digest from `blobs/`, the registry asked (and connected to, once) only for
/// what neither holds, and what it answers kept.
pub struct Remembering<'a> {
    registry: &'a RegistryStore,
    repository: String,
    store: OnceCell<RegistryStore>,
    cache: Option<&'a Cache>,
    known: Option<Listing>,
    resolved: Mutex<BTreeMap<String, Pointer>>,
}

impl<'a> Remembering<'a> {
    /// `repository` of `registry`; `known` is its fresh listing, if the book has one.
    pub fn new(
        registry: &'a RegistryStore,
        repository: &str,
        cache: Option<&'a Cache>,
        known: Option<Listing>,
    ) -> Self {
        Remembering {
            registry,
            repository: repository.to_string(),
            store: OnceCell::new(),
            cache,
            known,
            resolved: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether its tags come from the book rather than the registry.
    pub fn from_the_book(&self) -> bool {
        self.known.is_some()
    }

    async fn store(&self) -> Result<&RegistryStore> {
        self.store.get_or_try_init(|| self.registry.repository(&self.repository)).await
    }

    /// The listing to keep: the book's, or, when the tags were listed now, each tag's manifest
    /// as resolved in this run. `None` when some tag of `tags` did not resolve (a listing with a
    /// hole would hide that tag until it went stale).
    pub fn listing(&self, tags: &[String]) -> Option<Listing> {
        if let Some(known) = &self.known {
            return Some(known.clone());
        }
        let resolved = self.resolved.lock().expect("no panics");
        tags.iter().all(|t| resolved.contains_key(t)).then(|| Listing { listed_at: now(), tags: resolved.clone() })
    }
}

#[async_trait]
impl Store for Remembering<'_> {
    fn name(&self) -> String {
        format!("{}/{}", self.registry.registry(), self.repository)
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        self.store().await?.exists(descriptor).await
    }
}

#[async_trait]
impl Source for Remembering<'_> {
    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let Reference::Tag(tag) = reference else {
            return self.store().await?.resolve(reference).await;
        };
        if let Some(p) = self.known.as_ref().and_then(|k| k.tags.get(tag)) {
            return Ok(Descriptor::new(&p.media_type, p.digest.clone(), p.size));
        }
        let descriptor = self.store().await?.resolve(reference).await?;
        let pointer = Pointer {
            digest: descriptor.digest.clone(),
            media_type: descriptor.media_type.clone(),
            size: descriptor.size,
        };
        self.resolved.lock().expect("no panics").insert(tag.clone(), pointer);
        Ok(descriptor)
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        // `read_blob` checks the bytes against the digest: a damaged copy is fetched again.
        if let Some(bytes) = self.cache.and_then(|c| c.read_blob(&descriptor.digest)) {
            return Ok(bytes);
        }
        let bytes = self.store().await?.fetch_manifest(descriptor).await?;
        if let Some(cache) = self.cache {
            let _ = cache.keep_blob(&descriptor.digest, &bytes);
        }
        Ok(bytes)
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        if descriptor.size > KEPT_BLOB_LIMIT || self.cache.is_none() {
            return self.store().await?.fetch_blob(descriptor).await;
        }
        if let Some(bytes) = self.cache.and_then(|c| c.read_blob(&descriptor.digest)) {
            return Ok(Box::pin(std::io::Cursor::new(bytes)));
        }
        let mut bytes = Vec::new();
        let mut reader = self.store().await?.fetch_blob(descriptor).await?.take(KEPT_BLOB_LIMIT + 1);
        reader.read_to_end(&mut bytes).await.map_err(|e| {
            crate::stream::into_error(e, |e| {
                crate::Error::failed(format!("could not read blob {}", descriptor.digest)).with_cause(e).retryable()
            })
        })?;
        // Kept only when it is what it claims to be; the caller verifies what it reads anyway.
        if crate::digest::of_bytes(&bytes) == descriptor.digest
            && let Some(cache) = self.cache
        {
            let _ = cache.keep_blob(&descriptor.digest, &bytes);
        }
        Ok(Box::pin(std::io::Cursor::new(bytes)))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        match &self.known {
            Some(known) => Ok(known.tags.keys().cloned().collect()),
            None => self.store().await?.tags().await,
        }
    }
}
