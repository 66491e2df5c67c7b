//! Copy a graph of content-addressed blobs from one target to another (oras-go's `Copy`):
//! push, pull and mirror are all this. Children go before parents, so a manifest never
//! reaches a store before its blobs; blobs the destination has are skipped; each digest is
//! copied once; concurrency is bounded.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, ReadBuf};

use futures::stream::{self, TryStreamExt};

use crate::artifact::manifest::{self, Descriptor};
use crate::error::Result;
use crate::reference::Reference;
use crate::store::{BlobReader, Target};

/// Default number of blobs copied at once (containerd's and oras's default).
pub const DEFAULT_CONCURRENCY: usize = 3;

/// What happened to one blob.
#[derive(Debug, Clone)]
pub enum Event {
    /// The destination had it.
    Skipped(Descriptor),
    /// The destination mounted it from the source's repository: no bytes moved.
    Mounted(Descriptor),
    /// A transient failure; it is being tried again.
    Retrying(Descriptor, String),
    /// Bytes of it read so far (a few times a second while it is copied).
    Progress(Descriptor, u64),
    /// It was copied, in this time.
    Copied(Descriptor, Duration),
}

/// How to copy.
pub struct CopyOptions<'a> {
    /// Blobs in flight at once.
    pub concurrency: usize,
    /// Told about each blob as it is done.
    pub on_event: &'a (dyn Fn(&Event) + Sync),
    /// How many times a blob is tried again after a transient failure.
    pub retries: u32,
}

/// Default number of retries of a blob after a transient failure.
pub const DEFAULT_RETRIES: u32 = 4;

impl Default for CopyOptions<'_> {
    fn default() -> Self {
        CopyOptions { concurrency: DEFAULT_CONCURRENCY, on_event: &|_| {}, retries: DEFAULT_RETRIES }
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
    /// Blobs mounted from another repository of the same registry.
    pub mounted: u64,
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
    let retries = options.retries;
    let root = with_retries(retries, || src.resolve(reference))
        .await
        .map_err(|e| e.context(format!("source {}", src.name())))?;
    let bytes = with_retries(retries, || src.fetch_manifest(&root))
        .await
        .map_err(|e| e.context(format!("source {}", src.name())))?;
    let run = Run::new(src, dst, options);
    let children = manifest::children(&root, &bytes)?;
    run.copy_children(&children).await?;
    with_retries(retries, || dst.push_manifest(&root, &bytes, tag))
        .await
        .map_err(|e| e.context(format!("destination {}", dst.name())))?;
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
        let retries = self.options.retries;
        let exists = with_retries(retries, || self.dst.exists(node)).await;
        if exists.map_err(|e| e.context(format!("destination {}", self.dst.name())))? {
            self.report.lock().expect("no panics").skipped += 1;
            (self.options.on_event)(&Event::Skipped(node.clone()));
            return Ok(());
        }
        if node.is_manifest() {
            let bytes = with_retries(retries, || self.src.fetch_manifest(node)).await?;
            let children = manifest::children(node, &bytes)?;
            // Recursion in an async fn needs a box.
            Box::pin(self.copy_children(&children)).await?;
            with_retries(retries, || self.dst.push_manifest(node, &bytes, None)).await?;
            return Ok(());
        }
        if self.dst.mount(node, self.src).await.unwrap_or(false) {
            self.report.lock().expect("no panics").mounted += 1;
            (self.options.on_event)(&Event::Mounted(node.clone()));
            return Ok(());
        }
        let started = Instant::now();
        let src = self.src;
        let read = Arc::new(AtomicU64::new(0));
        let open = || -> Pin<Box<dyn Future<Output = Result<BlobReader>> + Send + '_>> {
            let read = read.clone();
            Box::pin(async move {
                let inner = src.fetch_blob(node).await.map_err(|e| e.context(format!("source {}", src.name())))?;
                read.store(0, Ordering::Relaxed);
                Ok(Box::pin(Counting { inner, read }) as BlobReader)
            })
        };
        let mut attempt = 0;
        loop {
            // Report progress while the destination takes the blob.
            let push = self.dst.push_blob(node, &open);
            tokio::pin!(push);
            let mut ticker = tokio::time::interval(Duration::from_millis(250));
            let pushed = loop {
                tokio::select! {
                    result = &mut push => break result,
                    _ = ticker.tick() => (self.options.on_event)(&Event::Progress(node.clone(), read.load(Ordering::Relaxed))),
                }
            };
            match pushed {
                Ok(()) => break,
                Err(e) if e.is_retryable() && attempt < self.options.retries => {
                    attempt += 1;
                    (self.options.on_event)(&Event::Retrying(node.clone(), e.to_string()));
                    tokio::time::sleep(backoff(attempt)).await;
                    // An upload that finished before the connection broke is not repeated.
                    if self.dst.exists(node).await.unwrap_or(false) {
                        break;
                    }
                }
                Err(e) => return Err(e.context(format!("copying {}", describe(node)))),
            }
        }
        {
            let mut report = self.report.lock().expect("no panics");
            report.copied += 1;
            report.copied_bytes += node.size;
        }
        (self.options.on_event)(&Event::Copied(node.clone(), started.elapsed()));
        Ok(())
    }
}

/// Runs `op` until it succeeds, fails for good, or has been tried `retries` more times after
/// transient failures.
pub async fn with_retries<T, F, Fut>(retries: u32, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        match op().await {
            Err(e) if e.is_retryable() && attempt < retries => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
            }
            result => return result,
        }
    }
}

/// Counts the bytes read from a blob stream, for progress.
struct Counting {
    inner: BlobReader,
    read: Arc<AtomicU64>,
}

impl AsyncRead for Counting {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = self.inner.as_mut().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            self.read.fetch_add((buf.filled().len() - before) as u64, Ordering::Relaxed);
        }
        poll
    }
}

/// Exponential backoff with jitter: 0.5 s, 1 s, 2 s, … capped at 30 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(500).saturating_mul(1 << attempt.saturating_sub(1).min(6));
    let jitter = Duration::from_millis(u64::from(std::process::id() % 7 + attempt) * 37 % 250);
    base.min(Duration::from_secs(30)) + jitter
}

/// A short name for a blob in messages: its file path when it has one, else its digest.
pub fn describe(node: &Descriptor) -> String {
    match node
        .annotation(crate::artifact::media::ANN_FILEPATH)
        .or_else(|| node.annotation(crate::artifact::media::ANN_TITLE))
    {
        Some(path) => format!("{path} ({})", short_digest(&node.digest)),
        None if node.media_type.ends_with("config.v1+json") => format!("config ({})", short_digest(&node.digest)),
        None => node.digest.clone(),
    }
}

/// `sha256:0123456789ab`.
pub fn short_digest(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}
