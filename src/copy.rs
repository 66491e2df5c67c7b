//! Copy a graph of content-addressed blobs from a [`Source`] to a [`Sink`] (the idea of oras-go's
//! `CopyGraph`): push, pull and mirror are all this.
//!
//! - Children go before parents, so a manifest never reaches a store before what it points at.
//! - Each digest has one state for the whole graph: the first branch to reach it copies it, any
//!   other branch waits for that copy to end and shares its outcome. A parent whose blob another
//!   branch is still uploading waits for it instead of pushing early.
//! - One limiter for the whole graph: at most `concurrency` transfers at once, whatever the
//!   depth. A manifest waiting for its children holds no slot, so the graph cannot starve itself.
//! - A failed child fails its parents: no parent of a failed node is pushed.
//! - Content the sink has is skipped; a blob the sink can mount is mounted (a capability, probed
//!   for, never a question about the backend).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::try_join_all;
use tokio::sync::{OnceCell, Semaphore};

use crate::artifact::manifest::{self, Descriptor};
use crate::error::{Error, Result, Side};
use crate::event::Event;
use crate::format::short_digest;
use crate::reference::Reference;
use crate::resume::Partial;
use crate::retry::{self, Policy};
use crate::store::{BlobReader, Sink, Source};
use crate::stream::{Counting, Flow};

/// Default number of blobs copied at once (containerd's and oras's default).
pub const DEFAULT_CONCURRENCY: usize = 3;

/// Which children of a node to copy, given the node and all its children. Pull keeps the layers
/// the user selected; a plain copy keeps everything.
pub type Successors<'a> = dyn Fn(&Descriptor, Vec<Descriptor>) -> Vec<Descriptor> + Send + Sync + 'a;

/// How to copy.
pub struct GraphOptions<'a> {
    /// Transfers in flight at once, across the whole graph.
    pub concurrency: usize,
    /// Told about each node as it is done.
    pub on_event: &'a (dyn Fn(&Event) + Sync),
    /// How many times a transfer is tried again after a transient failure.
    pub retries: u32,
    /// Which children to follow; `None` follows all.
    pub successors: Option<&'a Successors<'a>>,
    /// Also copy the manifests that refer to each manifest copied (signatures, SBOMs), where
    /// the source can list them.
    pub referrers: bool,
    /// A blob transfer that moves no byte for this long is aborted (and tried again): a
    /// registry that stopped answering with its connection open must not hang the copy.
    pub idle_timeout: Duration,
    /// How long after its first failure a blob transfer is tried again; `None`: `retries` times.
    pub retry_for: Option<Duration>,
    /// Where downloads from a source that can send ranges keep what they received, so that a
    /// cut download continues where it stopped ([`crate::resume`]); `None`: from byte 0.
    pub resume_dir: Option<std::path::PathBuf>,
}

pub use crate::retry::DEFAULT_IDLE_TIMEOUT;

impl Default for GraphOptions<'_> {
    fn default() -> Self {
        GraphOptions {
            concurrency: DEFAULT_CONCURRENCY,
            on_event: &|_| {},
            retries: retry::DEFAULT_RETRIES,
            successors: None,
            referrers: false,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            retry_for: None,
            resume_dir: None,
        }
    }
}

/// What a copy did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CopyReport {
    /// Blobs copied.
    pub copied: u64,
    /// Bytes copied.
    pub copied_bytes: u64,
    /// Blobs and manifests the destination already had.
    pub skipped: u64,
    /// Blobs mounted from another repository of the same registry.
    pub mounted: u64,
}

/// The manifest a reference names in a source, with its bytes: read once, in one place, for
/// copy, pull and inspect.
#[derive(Debug, Clone)]
pub struct Root {
    /// Its descriptor.
    pub descriptor: Descriptor,
    /// Its exact bytes, verified against the descriptor.
    pub bytes: Vec<u8>,
}

/// Resolves `reference` in `src` and reads its manifest, retrying transient failures.
pub async fn resolve(src: &dyn Source, reference: &Reference, retries: u32) -> Result<Root> {
    let at_source = |e: Error| e.on(Side::Source, src.name());
    let policy = Policy::Retries(retries);
    let descriptor = retry::run(policy, |_, _| {}, |_| src.resolve(reference)).await.map_err(at_source)?;
    let bytes = retry::run(policy, |_, _| {}, |_| src.fetch_manifest(&descriptor)).await.map_err(at_source)?;
    Ok(Root { descriptor, bytes })
}

/// Copies what `reference` names in `src` to `dst`, tagging it `tag` there.
pub async fn copy(
    src: &dyn Source,
    reference: &Reference,
    dst: &dyn Sink,
    tag: Option<&str>,
    options: &GraphOptions<'_>,
) -> Result<(Root, CopyReport)> {
    let root = resolve(src, reference, options.retries).await?;
    let report = copy_graph(src, &root, dst, tag, options).await?;
    Ok((root, report))
}

/// Copies the graph below `root` (already resolved) from `src` to `dst`, then `root` itself,
/// tagged `tag`.
pub async fn copy_graph(
    src: &dyn Source,
    root: &Root,
    dst: &dyn Sink,
    tag: Option<&str>,
    options: &GraphOptions<'_>,
) -> Result<CopyReport> {
    let graph = Graph {
        src,
        dst,
        options,
        root,
        // Tokio's semaphore panics past MAX_PERMITS; a caller's usize::MAX means "no bound".
        limiter: Semaphore::new(options.concurrency.clamp(1, Semaphore::MAX_PERMITS)),
        nodes: Mutex::new(HashMap::new()),
        report: Mutex::new(CopyReport::default()),
    };
    graph.copy_manifest(&root.descriptor, tag, true).await?;
    Ok(graph.report.into_inner().expect("no panics while copying"))
}

struct Graph<'a> {
    src: &'a dyn Source,
    dst: &'a dyn Sink,
    options: &'a GraphOptions<'a>,
    root: &'a Root,
    limiter: Semaphore,
    /// The state of every digest reached: being copied (the cell is initialising) or done.
    nodes: Mutex<HashMap<String, Arc<OnceCell<Result<()>>>>>,
    report: Mutex<CopyReport>,
}

impl Graph<'_> {
    /// Copies a node once for the whole graph; a second branch reaching it waits for the first.
    async fn node(&self, node: &Descriptor) -> Result<()> {
        let cell = self.nodes.lock().expect("no panics").entry(node.digest.clone()).or_default().clone();
        let outcome = cell
            .get_or_init(|| async {
                if node.is_manifest() {
                    // Recursion in an async fn needs a box.
                    Box::pin(self.copy_manifest(node, None, false)).await
                } else {
                    self.copy_blob(node).await
                }
            })
            .await;
        outcome.clone()
    }

    fn policy(&self) -> Policy {
        Policy::Retries(self.options.retries)
    }

    fn at_source(&self) -> impl Fn(Error) -> Error + '_ {
        |e| e.on(Side::Source, self.src.name())
    }

    fn at_destination(&self) -> impl Fn(Error) -> Error + '_ {
        |e| e.on(Side::Destination, self.dst.name())
    }

    async fn slot(&self) -> tokio::sync::SemaphorePermit<'_> {
        self.limiter.acquire().await.expect("the limiter is never closed")
    }

    /// Copies a manifest's children, then the manifest, then (when asked) what refers to it.
    /// The root is never pruned: it is pushed (and tagged) even when the destination has it.
    async fn copy_manifest(&self, node: &Descriptor, tag: Option<&str>, is_root: bool) -> Result<()> {
        self.copy_manifest_itself(node, tag, is_root).await?;
        self.copy_referrers(node).await
    }

    /// The manifests that refer to `node`, each copied as a graph of its own once `node` is
    /// there. A source that cannot list referrers has none to give.
    async fn copy_referrers(&self, node: &Descriptor) -> Result<()> {
        let Some(lister) = self.src.referrers().filter(|_| self.options.referrers) else { return Ok(()) };
        let found = retry::run(self.policy(), |_, _| {}, |_| lister.referrers(node)).await;
        let found = found.map_err(self.at_source())?;
        try_join_all(found.iter().filter(|r| r.is_manifest()).map(|r| self.node(r))).await?;
        Ok(())
    }

    async fn copy_manifest_itself(&self, node: &Descriptor, tag: Option<&str>, is_root: bool) -> Result<()> {
        let bytes = if is_root {
            self.root.bytes.clone()
        } else {
            let slot = self.slot().await;
            if self.exists(node, self.policy()).await? {
                drop(slot);
                self.skipped(node);
                return Ok(());
            }
            let fetched = retry::run(self.policy(), |_, _| {}, |_| self.src.fetch_manifest(node)).await;
            fetched.map_err(self.at_source())?
        };
        let children = manifest::children(node, &bytes).map_err(self.at_source())?;
        let children = match self.options.successors {
            Some(keep) => keep(node, children),
            None => children,
        };
        try_join_all(children.iter().map(|child| self.node(child))).await?;
        let _slot = self.slot().await;
        let pushed = retry::run(self.policy(), |_, _| {}, |_| self.dst.push_manifest(node, &bytes, tag)).await;
        pushed.map_err(self.at_destination())
    }

    async fn exists(&self, node: &Descriptor, policy: Policy) -> Result<bool> {
        let found = retry::run(policy, |_, _| {}, |_| self.dst.exists(node)).await;
        found.map_err(self.at_destination())
    }

    fn skipped(&self, node: &Descriptor) {
        self.report.lock().expect("no panics").skipped += 1;
        (self.options.on_event)(&Event::Skipped(node.clone()));
    }

    async fn copy_blob(&self, node: &Descriptor) -> Result<()> {
        let _slot = self.slot().await;
        let policy = self.options.retry_for.map(Policy::For).unwrap_or(self.policy());
        // The check is part of the transfer: a registry that stops answering is given up on by
        // the transfer's policy (`--retry-timeout`), not tried a fixed number of times.
        let found = self.exists(node, policy).await;
        if found.map_err(|e| e.context(format!("copying {}", describe(node))))? {
            self.skipped(node);
            return Ok(());
        }
        if let (Some(mounter), Some(origin)) = (self.dst.mounter(), self.src.mount_origin())
            && mounter.mount(node, origin).await.unwrap_or(false)
        {
            self.report.lock().expect("no panics").mounted += 1;
            (self.options.on_event)(&Event::Mounted(node.clone()));
            return Ok(());
        }
        let started = Instant::now();
        let on_retry = |e: &Error, _: Duration| (self.options.on_event)(&Event::Retrying(node.clone(), e.to_string()));
        // A sink that takes this blob as a file (a raw layer's) gets the partial file itself,
        // whole and verified: each byte is written once.
        let taker = self.dst.file_taker().filter(|t| t.takes_as_file(node));
        // Only a source that can send ranges is worth keeping a partial copy of; and a copy
        // beside the sink's own writing (a tar being extracted) only for a blob big enough that
        // starting it over costs more than writing it twice.
        let worth_keeping = taker.is_some() || node.size >= crate::resume::KEPT_BESIDE_FROM;
        let partial = match (&self.options.resume_dir, self.src.ranged()) {
            (Some(dir), Some(_)) if worth_keeping => Partial::take(dir, node),
            _ => None,
        };
        let copied = retry::run(policy, on_retry, |attempt| {
            let partial = partial.as_ref();
            async move {
                // An upload that finished before the connection broke is not repeated.
                if attempt > 0 && self.dst.exists(node).await.unwrap_or(false) {
                    return Ok(());
                }
                let kept = partial.map_or(0, |p| p.len());
                let moved = self.attempt(node, taker, partial).await;
                match (moved, partial) {
                    // Bytes kept from before (an earlier run's, maybe cut short or written by
                    // another version) that do not make the blob: forgotten, and the blob
                    // downloaded once more from byte 0 before anything is reported. Only a
                    // source that sends wrong bytes from the start fails the copy as corrupt.
                    (Err(e), Some(p)) if kept > 0 && e.kind().is_integrity() => {
                        p.discard();
                        self.attempt(node, taker, partial).await
                    }
                    (moved, _) => moved,
                }
            }
        })
        .await;
        match (&copied, partial) {
            (Ok(()), Some(p)) => p.finish(),
            // The kept bytes were not a prefix of the blob after all.
            (Err(e), Some(p)) if e.kind().is_integrity() => p.discard(),
            _ => {}
        }
        copied.map_err(|e| self.at_destination()(e).context(format!("copying {}", describe(node))))?;
        {
            let mut report = self.report.lock().expect("no panics");
            report.copied += 1;
            report.copied_bytes += node.size;
        }
        (self.options.on_event)(&Event::Copied(node.clone(), started.elapsed()));
        Ok(())
    }

    /// One attempt at a blob: into its partial file for a sink that takes it as a file, else
    /// streamed into the sink.
    async fn attempt(
        &self,
        node: &Descriptor,
        taker: Option<&dyn crate::store::FileTaker>,
        partial: Option<&Partial>,
    ) -> Result<()> {
        match (taker, partial) {
            (Some(taker), Some(partial)) => self.transfer_file(node, partial, taker).await,
            _ => self.transfer(node, partial).await,
        }
    }

    /// One attempt at moving a blob's bytes, reporting progress while the sink takes them, and
    /// given up when no byte moves for the idle timeout (the stream's bytes are what a stalled
    /// peer stops, whichever side it is on).
    async fn transfer(&self, node: &Descriptor, partial: Option<&Partial>) -> Result<()> {
        let src = self.src;
        let flow = Arc::new(Flow::default());
        let open = || -> Pin<Box<dyn Future<Output = Result<BlobReader>> + Send + '_>> {
            let flow = flow.clone();
            Box::pin(async move {
                flow.awaiting_source.store(true, Ordering::Relaxed);
                let inner = match partial {
                    Some(p) => p.reader(src, node).await,
                    None => src.fetch_blob(node).await,
                };
                let inner = inner.map_err(|e| e.on(Side::Source, src.name()))?;
                flow.read.store(0, Ordering::Relaxed);
                flow.awaiting_source.store(false, Ordering::Relaxed);
                Ok(Box::pin(Counting::new(inner, flow)) as BlobReader)
            })
        };
        let push = self.dst.push_blob(node, &open);
        self.watch(node, &flow, push).await
    }

    /// One attempt at downloading a blob into its partial file ([`crate::download`]), which the
    /// sink then takes as the file it is.
    async fn transfer_file(
        &self,
        node: &Descriptor,
        partial: &Partial,
        taker: &dyn crate::store::FileTaker,
    ) -> Result<()> {
        let flow = Arc::new(Flow::default());
        let work = async {
            crate::download::into_file(self.src, node, partial, &flow)
                .await
                .map_err(|e| e.on(Side::Source, self.src.name()))?;
            taker.take_file(node, partial.path()).await
        };
        self.watch(node, &flow, work).await
    }

    /// Runs `work`, reporting the bytes `flow` counts as progress, and gives it up when no byte
    /// moves for the idle timeout (the stream's bytes are what a stalled peer stops, whichever
    /// side it is on).
    async fn watch(&self, node: &Descriptor, flow: &Flow, work: impl Future<Output = Result<()>>) -> Result<()> {
        let push = work;
        tokio::pin!(push);
        let tick = Duration::from_millis(250).min(self.options.idle_timeout / 4).max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval(tick);
        let (mut seen, mut moved_at) = (u64::MAX, Instant::now());
        loop {
            tokio::select! {
                result = &mut push => return result,
                _ = ticker.tick() => {
                    let now = flow.read.load(Ordering::Relaxed);
                    if now != seen {
                        (seen, moved_at) = (now, Instant::now());
                        (self.options.on_event)(&Event::Progress(node.clone(), now));
                    } else if now < node.size && moved_at.elapsed() >= self.options.idle_timeout {
                        // Once every byte is read, the sink is finishing (a sync, a registry's
                        // commit, whose answer the HTTP client's own idle timeout bounds).
                        let idle = self.options.idle_timeout.as_secs_f64();
                        let (side, name) = if flow.awaiting_source.load(Ordering::Relaxed) {
                            (Side::Source, self.src.name())
                        } else {
                            (Side::Destination, self.dst.name())
                        };
                        return Err(Error::transport(
                            crate::error::TransportFailure::Timeout,
                            format!("no byte moved for {idle:.0} s after {now} of {} bytes", node.size),
                        )
                        .on(side, name)
                        .with_hint("the registry stopped answering; raise --timeout if it is only slow"));
                    }
                }
            }
        }
    }
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

#[cfg(test)]
mod tests;
