//! Copy a graph of content-addressed blobs from one target to another (oras-go's `Copy`):
//! push, pull and mirror are all this. Children go before parents, so a manifest never
//! reaches a store before its blobs; blobs the destination has are skipped; each digest is
//! copied once; concurrency is bounded.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::stream::{self, TryStreamExt};

use crate::artifact::manifest::{self, Descriptor};
use crate::error::{Error, Result};
use crate::reference::Reference;
use crate::target::Target;

/// Default number of blobs copied at once (containerd's and oras's default).
pub const DEFAULT_CONCURRENCY: usize = 3;

/// What happened to one blob.
#[derive(Debug, Clone)]
pub enum Event {
    /// The destination had it.
    Skipped(Descriptor),
    /// It was copied, in this time.
    Copied(Descriptor, Duration),
}

/// How to copy.
pub struct CopyOptions<'a> {
    /// Blobs in flight at once.
    pub concurrency: usize,
    /// Told about each blob as it is done.
    pub on_event: &'a (dyn Fn(&Event) + Sync),
}

impl Default for CopyOptions<'_> {
    fn default() -> Self {
        CopyOptions { concurrency: DEFAULT_CONCURRENCY, on_event: &|_| {} }
    }
}

/// What a copy did.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// The root manifest.
    pub root: Option<Descriptor>,
    /// Blobs copied and their bytes.
    pub copied: u64,
    /// Bytes copied.
    pub copied_bytes: u64,
    /// Blobs the destination already had.
    pub skipped: u64,
}

struct Run<'a> {
    src: &'a dyn Target,
    dst: &'a dyn Target,
    options: &'a CopyOptions<'a>,
    /// Digests already handled in this run: a blob reached twice is copied once.
    seen: Mutex<BTreeSet<String>>,
    report: Mutex<CopyReport>,
}

/// Copies what `reference` names in `src` to `dst`, tagging it `tag` there.
pub async fn copy(
    src: &dyn Target,
    reference: &Reference,
    dst: &dyn Target,
    tag: Option<&str>,
    options: &CopyOptions<'_>,
) -> Result<CopyReport> {
    let root = src.resolve(reference).await.map_err(|e| e.context(format!("source {}", src.name())))?;
    let bytes = src.fetch_manifest(&root).await.map_err(|e| e.context(format!("source {}", src.name())))?;
    let run = Run::new(src, dst, options);
    let children = manifest::children(&root, &bytes)?;
    run.copy_children(&children).await?;
    dst.push_manifest(&root, &bytes, tag).await.map_err(|e| e.context(format!("destination {}", dst.name())))?;
    let mut report = run.report.into_inner().expect("no panics while copying");
    report.root = Some(root);
    Ok(report)
}

/// Copies plain blobs (no manifests) from `src` to `dst`: what pull uses for the layers it
/// selected.
pub async fn copy_blobs(
    src: &dyn Target,
    dst: &dyn Target,
    blobs: &[Descriptor],
    options: &CopyOptions<'_>,
) -> Result<CopyReport> {
    let run = Run::new(src, dst, options);
    run.copy_children(blobs).await?;
    Ok(run.report.into_inner().expect("no panics while copying"))
}

impl<'a> Run<'a> {
    fn new(src: &'a dyn Target, dst: &'a dyn Target, options: &'a CopyOptions<'a>) -> Self {
        Run { src, dst, options, seen: Mutex::new(BTreeSet::new()), report: Mutex::new(CopyReport::default()) }
    }

    async fn copy_children(&self, children: &[Descriptor]) -> Result<()> {
        stream::iter(children.iter().map(Ok))
            .try_for_each_concurrent(self.options.concurrency.max(1), |child| self.copy_node(child))
            .await
    }

    /// Copies one node and, for a manifest, everything below it first.
    async fn copy_node(&self, node: &Descriptor) -> Result<()> {
        if !self.seen.lock().expect("no panics").insert(node.digest.clone()) {
            return Ok(());
        }
        if self.dst.exists(node).await.map_err(|e| e.context(format!("destination {}", self.dst.name())))? {
            self.report.lock().expect("no panics").skipped += 1;
            (self.options.on_event)(&Event::Skipped(node.clone()));
            return Ok(());
        }
        if node.is_manifest() {
            let bytes = self.src.fetch_manifest(node).await?;
            let children = manifest::children(node, &bytes)?;
            // Recursion in an async fn needs a box.
            Box::pin(self.copy_children(&children)).await?;
            self.dst.push_manifest(node, &bytes, None).await?;
            return Ok(());
        }
        let started = Instant::now();
        let data = self.src.fetch_blob(node).await.map_err(|e| e.context(format!("source {}", self.src.name())))?;
        self.dst.push_blob(node, data).await.map_err(|e: Error| e.context(format!("copying {}", describe(node))))?;
        {
            let mut report = self.report.lock().expect("no panics");
            report.copied += 1;
            report.copied_bytes += node.size;
        }
        (self.options.on_event)(&Event::Copied(node.clone(), started.elapsed()));
        Ok(())
    }
}

/// A short name for a blob in messages: its file path when it has one, else its digest.
pub fn describe(node: &Descriptor) -> String {
    match node
        .annotation(crate::artifact::media::ANN_FILEPATH)
        .or_else(|| node.annotation(crate::artifact::media::ANN_TITLE))
    {
        Some(path) => format!("{path} ({})", short_digest(&node.digest)),
        None => node.digest.clone(),
    }
}

/// `sha256:0123456789ab`.
pub fn short_digest(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}
