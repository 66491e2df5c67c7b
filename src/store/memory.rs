//! An in-memory [`Target`](super::Target), for tests of the graph copy and of the operations:
//! deterministic, no disk, no network. It can delay or fail the push of chosen blobs, and records
//! the order in which content arrived and how many blob pushes ran at once, so a test can check
//! what a real store cannot show (a manifest that arrived before its blob).

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::AsyncReadExt;

use super::{BlobOpener, BlobReader, Referrers, Sink, Source, Store, Tagger};
use crate::artifact::manifest::Descriptor;
use crate::digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

/// A store held in memory.
#[derive(Default)]
pub struct MemoryStore {
    name: String,
    content: Mutex<HashMap<String, Vec<u8>>>,
    media_types: Mutex<HashMap<String, String>>,
    tags: Mutex<BTreeMap<String, String>>,
    arrivals: Mutex<Vec<String>>,
    delays: Mutex<HashMap<String, Duration>>,
    failures: Mutex<HashMap<String, Error>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl MemoryStore {
    /// An empty store named `name` in messages.
    pub fn new(name: &str) -> Self {
        MemoryStore { name: name.to_string(), ..Default::default() }
    }

    /// Adds a blob or manifest as it is, and returns its descriptor.
    pub fn insert(&self, media_type: &str, bytes: &[u8]) -> Descriptor {
        let descriptor = Descriptor::for_bytes(media_type, bytes);
        self.content.lock().expect("no panics").insert(descriptor.digest.clone(), bytes.to_vec());
        self.media_types.lock().expect("no panics").insert(descriptor.digest.clone(), media_type.to_string());
        descriptor
    }

    /// Points `tag` at a digest.
    pub fn set_tag(&self, tag: &str, digest: &str) {
        self.tags.lock().expect("no panics").insert(tag.to_string(), digest.to_string());
    }

    /// Makes pushes of this digest take `delay` before they complete.
    pub fn delay(&self, digest: &str, delay: Duration) {
        self.delays.lock().expect("no panics").insert(digest.to_string(), delay);
    }

    /// Makes pushes of this digest fail with `error`.
    pub fn fail(&self, digest: &str, error: Error) {
        self.failures.lock().expect("no panics").insert(digest.to_string(), error);
    }

    /// Whether the store holds this digest.
    pub fn holds(&self, digest: &str) -> bool {
        self.content.lock().expect("no panics").contains_key(digest)
    }

    /// The digests pushed, in the order they became visible.
    pub fn arrivals(&self) -> Vec<String> {
        self.arrivals.lock().expect("no panics").clone()
    }

    /// The most blob pushes that ran at the same moment.
    pub fn most_in_flight(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    /// The tag's digest, if the tag exists.
    pub fn tag_digest(&self, tag: &str) -> Option<String> {
        self.tags.lock().expect("no panics").get(tag).cloned()
    }

    fn store(&self, descriptor: &Descriptor, bytes: Vec<u8>) {
        self.content.lock().expect("no panics").insert(descriptor.digest.clone(), bytes);
        self.media_types.lock().expect("no panics").insert(descriptor.digest.clone(), descriptor.media_type.clone());
        self.arrivals.lock().expect("no panics").push(descriptor.digest.clone());
    }

    fn bytes(&self, digest: &str) -> Result<Vec<u8>> {
        self.content
            .lock()
            .expect("no panics")
            .get(digest)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("{digest} is not in {}", self.name)))
    }
}

/// Counts a push for as long as it runs.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for MemoryStore {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        Ok(self.holds(&descriptor.digest))
    }
}

#[async_trait]
impl Source for MemoryStore {
    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let digest = match reference {
            Reference::Tag(t) => {
                self.tag_digest(t).ok_or_else(|| Error::not_found(format!("tag {t} is not in {}", self.name)))?
            }
            Reference::Digest(d) => d.clone(),
        };
        let bytes = self.bytes(&digest)?;
        let media_type = self.media_types.lock().expect("no panics").get(&digest).cloned().unwrap_or_default();
        Ok(Descriptor::new(&media_type, digest, bytes.len() as u64))
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        let bytes = self.bytes(&descriptor.digest)?;
        digest::verify_bytes(&descriptor.digest, &descriptor.digest, descriptor.size, &bytes)?;
        Ok(bytes)
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        Ok(Box::pin(std::io::Cursor::new(self.bytes(&descriptor.digest)?)))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(self.tags.lock().expect("no panics").keys().cloned().collect())
    }

    fn referrers(&self) -> Option<&dyn Referrers> {
        Some(self)
    }
}

#[async_trait]
impl Referrers for MemoryStore {
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        let content = self.content.lock().expect("no panics");
        let media_types = self.media_types.lock().expect("no panics");
        let mut found: Vec<Descriptor> = content
            .iter()
            .filter_map(|(digest, bytes)| {
                let media_type = media_types.get(digest)?;
                let descriptor = Descriptor::new(media_type, digest.clone(), bytes.len() as u64);
                crate::artifact::manifest::as_referrer(&descriptor, bytes)
            })
            .filter(|(of, _)| *of == subject.digest)
            .map(|(_, entry)| entry)
            .collect();
        found.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok(found)
    }
}

#[async_trait]
impl Sink for MemoryStore {
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let _counted = InFlight(&self.in_flight);
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        let mut data = open().await?;
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes).await.map_err(|e| Error::failed("could not read the blob").with_cause(e))?;
        let delay = self.delays.lock().expect("no panics").get(&descriptor.digest).copied();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if let Some(e) = self.failures.lock().expect("no panics").get(&descriptor.digest).cloned() {
            return Err(e);
        }
        digest::verify_bytes(&descriptor.digest, &descriptor.digest, descriptor.size, &bytes)?;
        self.store(descriptor, bytes);
        Ok(())
    }

    async fn push_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()> {
        digest::verify_bytes(&descriptor.digest, &descriptor.digest, descriptor.size, bytes)?;
        self.store(descriptor, bytes.to_vec());
        if let Some(tag) = tag {
            self.set_tag(tag, &descriptor.digest);
        }
        Ok(())
    }
}

#[async_trait]
impl Tagger for MemoryStore {
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<()> {
        if !self.holds(&descriptor.digest) {
            return Err(Error::not_found(format!("{} is not in {}", descriptor.digest, self.name)));
        }
        self.set_tag(tag, &descriptor.digest);
        Ok(())
    }

    async fn remove(&self, descriptor: &Descriptor, reference: &Reference) -> Result<super::Removal> {
        let mut tags = self.tags.lock().expect("no panics");
        let gone: Vec<String> = match reference {
            Reference::Tag(t) => vec![t.clone()],
            Reference::Digest(_) => {
                tags.iter().filter(|(_, d)| **d == descriptor.digest).map(|(t, _)| t.clone()).collect()
            }
        };
        for t in &gone {
            tags.remove(t);
        }
        Ok(super::Removal { tags: gone, manifest_deleted: false })
    }
}
