//! The pull sink: a folder that layers are extracted into as they stream in, every file checked
//! against what the manifest records. It only takes blobs; `crate::pull` decides which.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio_util::io::SyncIoBridge;

use super::{BlobOpener, FileTaker, Sink, Store};
use crate::artifact::archive::{self, COPY_BUFFER, Expected, Extracted, FileRecord};
use crate::artifact::decode::Storage;
use crate::artifact::manifest::Descriptor;
use crate::error::{Error, Result};

/// How to unpack one layer.
#[derive(Debug, Clone)]
pub struct Unpack {
    /// Tar or raw.
    pub storage: Storage,
    /// What a tar must hold.
    pub expected: Expected,
    /// A raw layer's file path and executable bit.
    pub raw_file: Option<(String, bool)>,
}

/// Which files of a tar to write.
pub type Filter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// A folder being pulled into.
pub struct FolderSink {
    root: PathBuf,
    /// The destination folder, for messages (`root` is its scratch folder).
    name: String,
    layers: BTreeMap<String, Unpack>,
    filter: Filter,
    written: Mutex<Vec<FileRecord>>,
    /// Each layer into a folder of its own, `root/<hex of its digest>` (the shared cache keeps
    /// what each layer holds), its files recorded by layer.
    split: bool,
    by_layer: Mutex<BTreeMap<String, Vec<FileRecord>>>,
    /// Set when the pull failed: extractions still running stop at their next read.
    cancelled: Arc<AtomicBool>,
    /// Extractions running on blocking threads, which outlive a dropped `push_blob` future.
    running: Arc<AtomicUsize>,
    /// One lock per layer, held by the thread of its current attempt.
    attempts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A sink dropped while extractions run (the pull was interrupted or failed) stops them and
/// waits for them, briefly, so that nothing writes into the scratch folder once it is deleted
/// (the folder is dropped after the sink).
impl Drop for FolderSink {
    fn drop(&mut self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if self.running.load(Ordering::SeqCst) == 0 {
            return;
        }
        let running = self.running.clone();
        let wait = move || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while running.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        };
        // A drop cannot await. On a multi-threaded runtime the wait gives this worker's other
        // tasks to another thread first (transfers of other pulls keep moving); a one-thread
        // runtime has no other thread to give them to, and waits in place.
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(wait),
            _ => wait(),
        }
    }
}

/// Marks an attempt abandoned when its future is dropped before it ends.
struct AbandonOnDrop(Arc<AtomicBool>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        // Also set on a normal end, when the thread has already looked: harmless then.
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Counts a running extraction for as long as it lives.
struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A reader that fails once the pull is cancelled.
struct Cancellable<R> {
    inner: R,
    cancelled: Arc<AtomicBool>,
}

impl<R: Read> Read for Cancellable<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(std::io::Error::other("the pull was cancelled"));
        }
        self.inner.read(buf)
    }
}

impl FolderSink {
    /// A sink writing into `root` (an empty scratch folder that becomes the folder `name`),
    /// unpacking the layers in `layers` (by digest) and keeping the files `filter` accepts.
    pub fn new(root: PathBuf, name: String, layers: BTreeMap<String, Unpack>, filter: Filter) -> Self {
        FolderSink {
            root,
            name,
            layers,
            filter,
            written: Mutex::new(Vec::new()),
            split: false,
            by_layer: Mutex::new(BTreeMap::new()),
            cancelled: Arc::new(AtomicBool::new(false)),
            running: Arc::new(AtomicUsize::new(0)),
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// The same sink writing each layer into a folder of its own, `root/<hex of its digest>`.
    pub fn split_by_layer(mut self) -> Self {
        self.split = true;
        self
    }

    /// What each layer wrote, by layer digest (a sink made with [`FolderSink::split_by_layer`]).
    pub fn written_by_layer(&self) -> BTreeMap<String, Vec<FileRecord>> {
        std::mem::take(&mut *self.by_layer.lock().expect("no panics"))
    }

    /// Stops extractions still running (after another layer failed) and waits for them, so
    /// that nothing writes into the folder once the caller deletes it.
    pub async fn stop(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        while self.running.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// The folder a layer's files go in: the scratch folder, or one of the layer's own.
    fn layer_root(&self, descriptor: &Descriptor) -> Result<PathBuf> {
        if !self.split {
            return Ok(self.root.clone());
        }
        let root = self.root.join(crate::digest::hex_part(&descriptor.digest)?);
        std::fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;
        Ok(root)
    }

    /// Keeps what a layer wrote.
    fn record(&self, descriptor: &Descriptor, files: Vec<FileRecord>) {
        if self.split {
            self.by_layer.lock().expect("no panics").insert(descriptor.digest.clone(), files);
        } else {
            self.written.lock().expect("no panics").extend(files);
        }
    }

    /// Every file written so far, sorted by path.
    pub fn written(&self) -> Vec<FileRecord> {
        let mut files = self.written.lock().expect("no panics").clone();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

#[async_trait]
impl Store for FolderSink {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn exists(&self, _descriptor: &Descriptor) -> Result<bool> {
        Ok(false) // a fresh scratch folder holds nothing yet
    }
}

#[async_trait]
impl Sink for FolderSink {
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        let unpack = self
            .layers
            .get(&descriptor.digest)
            .cloned()
            .ok_or_else(|| Error::failed(format!("layer {} was not selected", descriptor.digest)))?;
        let root = self.layer_root(descriptor)?;
        let filter = self.filter.clone();
        let blob = descriptor.clone();
        let digest = descriptor.digest.clone();
        let cancelled = self.cancelled.clone();
        // One attempt at a layer at a time: a copy that gave up on a stalled attempt (dropping
        // this future) starts the next only once the extraction thread of the last has ended
        // and removed what it wrote.
        let gate = self.attempts.lock().expect("no panics").entry(digest.clone()).or_default().clone();
        let turn = gate.lock_owned().await;
        let abandoned = Arc::new(AtomicBool::new(false));
        let _abandon_on_drop = AbandonOnDrop(abandoned.clone());
        self.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.running.clone());
        let data = open().await?;
        // tar and zstd are blocking readers: run them on a blocking thread over the stream.
        let (result, files) = tokio::task::spawn_blocking(move || {
            let _running = running;
            let _turn = turn;
            // Large reads: tar and io::copy ask for 8 KiB at a time, and each read of the bridge
            // is a round trip to the runtime.
            let bridge = Cancellable { inner: SyncIoBridge::new(data), cancelled };
            let reader = std::io::BufReader::with_capacity(COPY_BUFFER, bridge);
            let mut extracted = Extracted::default();
            let result = match (unpack.storage, unpack.raw_file) {
                (Storage::Raw, Some((path, executable))) => {
                    archive::extract_raw(reader, &blob, &root, &path, executable, &mut extracted)
                }
                (Storage::Raw, None) => Err(Error::malformed(format!("raw layer {digest} names no file path"))
                    .with_hint("the layer lacks the org.cncf.model.filepath annotation")),
                (Storage::Tar(compression), _) => {
                    archive::extract_tar(reader, &blob, compression, &root, &unpack.expected, &*filter, &mut extracted)
                }
            };
            // Whatever a failed or abandoned attempt wrote goes, so that the next one starts from
            // a clean slate; done here, as the thread may outlive the future that started it.
            if result.is_err() || abandoned.load(Ordering::SeqCst) {
                for path in &extracted.created {
                    let _ = std::fs::remove_file(path);
                }
            }
            (result, extracted.files)
        })
        .await
        .map_err(|e| Error::failed("extraction thread failed").with_cause(e))?;
        result?;
        self.record(descriptor, files);
        Ok(())
    }

    /// A folder keeps files, not manifests: the manifest arrives once every selected layer is
    /// extracted, and the pull records it in the folder's record.
    async fn push_manifest(&self, _descriptor: &Descriptor, _bytes: &[u8], _tag: Option<&str>) -> Result<()> {
        Ok(())
    }

    fn file_taker(&self) -> Option<&dyn FileTaker> {
        Some(self)
    }
}

/// A raw layer is one file: downloaded into a file of its own, it is moved into the folder.
#[async_trait]
impl FileTaker for FolderSink {
    fn takes_as_file(&self, descriptor: &Descriptor) -> bool {
        self.layers.get(&descriptor.digest).is_some_and(|u| u.storage == Storage::Raw && u.raw_file.is_some())
    }

    async fn take_file(&self, descriptor: &Descriptor, path: &std::path::Path) -> Result<()> {
        let Some((rel, executable)) = self.layers.get(&descriptor.digest).and_then(|u| u.raw_file.clone()) else {
            return Err(Error::failed(format!("layer {} is not a raw layer of this pull", descriptor.digest)));
        };
        let root = self.layer_root(descriptor)?;
        let (from, blob, cancelled) = (path.to_path_buf(), descriptor.clone(), self.cancelled.clone());
        self.running.fetch_add(1, Ordering::SeqCst);
        let running = Running(self.running.clone());
        let files = tokio::task::spawn_blocking(move || {
            let _running = running;
            if cancelled.load(Ordering::SeqCst) {
                return Err(Error::failed("the pull was cancelled"));
            }
            let mut extracted = Extracted::default();
            archive::adopt_raw(&from, &blob, &root, &rel, executable, &mut extracted).inspect_err(|_| {
                for path in &extracted.created {
                    let _ = std::fs::remove_file(path);
                }
            })?;
            Ok(extracted.files)
        })
        .await
        .map_err(|e| Error::failed("moving a file into place failed").with_cause(e))??;
        self.record(descriptor, files);
        Ok(())
    }
}
