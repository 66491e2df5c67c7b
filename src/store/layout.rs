//! The OCI image layout target (image-spec `image-layout.md`): `oci-layout`, `index.json` with
//! tags as `org.opencontainers.image.ref.name`, and `blobs/sha256/<hex>`.
//!
//! Safe under concurrent writers: blobs are streamed into a temp file, verified, then renamed
//! into place (same bytes under the same name, so racing writers agree); `index.json` is
//! read-modify-written under an exclusive lock on the `oci-layout` file (never replaced, so
//! the lock is stable) and replaced by rename.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{BlobOpener, BlobReader, Referrers, Sink, Source, Spool, Spooler, Store, Tagger};
use crate::artifact::manifest::{self, Descriptor, ImageIndex};
use crate::artifact::media;
use crate::digest;
use crate::error::{Error, Result};
use crate::reference::Reference;

const LAYOUT_FILE: &str = "oci-layout";
const LAYOUT_CONTENT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
/// Scratch space for blobs being written; on the same file system as `blobs/`, so renames work.
const INGEST_DIR: &str = ".zoo-oci-ingest";

/// An OCI image layout directory.
pub struct LayoutStore {
    root: PathBuf,
    /// A shared lock on the ingest folder, taken before this store writes there and held while
    /// it lives: the sweep of killed writers' temp files runs only when nobody holds one.
    ingest_lock: std::sync::OnceLock<File>,
}

impl LayoutStore {
    /// Opens an existing layout for reading.
    pub fn open(root: &Path) -> Result<Self> {
        let marker = root.join(LAYOUT_FILE);
        if !marker.is_file() {
            let what = if root.exists() { "is not an OCI image layout (no oci-layout file)" } else { "does not exist" };
            return Err(Error::not_found(format!("{} {what}", root.display()))
                .with_hint("push a suite there first: zoo-oci push SUITE_DIR oci:PATH:TAG"));
        }
        Ok(LayoutStore { root: root.to_path_buf(), ingest_lock: std::sync::OnceLock::new() })
    }

    /// Opens a layout for writing, creating it (and missing parent folders) if needed.
    pub fn create(root: &Path) -> Result<Self> {
        let marker = root.join(LAYOUT_FILE);
        if !marker.exists() {
            // Another process may be creating this very layout: its entries are not foreign.
            let ours = [LAYOUT_FILE, "index.json", "blobs", INGEST_DIR];
            let foreign = fs::read_dir(root)
                .map(|d| d.filter_map(|e| e.ok()).any(|e| !ours.contains(&e.file_name().to_string_lossy().as_ref())))
                .unwrap_or(false);
            if foreign {
                return Err(Error::failed(format!(
                    "{} is a non-empty folder that is not an OCI image layout",
                    root.display()
                ))
                .with_hint("name an empty or new folder, or an existing layout"));
            }
        }
        for dir in [root.to_path_buf(), root.join("blobs").join("sha256")] {
            fs::create_dir_all(&dir).map_err(|e| Error::io("create the layout folder", &dir, e))?;
        }
        // Created in place, never replaced: `oci-layout` is the file writers lock, and a rename
        // would give racing writers two different files to lock.
        match fs::OpenOptions::new().write(true).create_new(true).open(&marker) {
            Ok(mut file) => file.write_all(LAYOUT_CONTENT).map_err(|e| Error::io("write", &marker, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io("create", &marker, e)),
        }
        let target = LayoutStore { root: root.to_path_buf(), ingest_lock: std::sync::OnceLock::new() };
        if !root.join("index.json").exists() {
            target.with_index_blocking(|_| Ok(()))?;
        }
        sweep_ingest(&root.join(INGEST_DIR));
        Ok(target)
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.root.join("blobs").join("sha256").join(digest::hex_part(digest)?))
    }

    /// Reads `index.json`.
    pub fn read_index(&self) -> Result<ImageIndex> {
        let path = self.root.join("index.json");
        let bytes = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        manifest::parse_index(&bytes, &path.display().to_string())
    }

    /// Changes `index.json` under the layout's lock, then replaces it atomically. The lock is
    /// waited for on a blocking thread: another writer holds it for as long as its write takes.
    async fn with_index(&self, change: impl FnOnce(&mut ImageIndex) -> Result<()>) -> Result<()> {
        let marker = self.root.join(LAYOUT_FILE);
        let file = File::open(&marker).map_err(|e| Error::io("open", &marker, e))?;
        let lock = lock_off_runtime(file, marker, false).await?;
        self.change_index(&lock, change)
        // the lock is released when `lock` drops
    }

    /// [`with_index`](Self::with_index) for a layout being created, from synchronous code: only
    /// its creators race for the lock, each for the moment it takes to write an empty index.
    fn with_index_blocking(&self, change: impl FnOnce(&mut ImageIndex) -> Result<()>) -> Result<()> {
        let marker = self.root.join(LAYOUT_FILE);
        let lock = File::open(&marker).map_err(|e| Error::io("open", &marker, e))?;
        lock.lock().map_err(|e| Error::io("lock", &marker, e))?;
        self.change_index(&lock, change)
    }

    /// The change itself, `_lock` held.
    fn change_index(&self, _lock: &File, change: impl FnOnce(&mut ImageIndex) -> Result<()>) -> Result<()> {
        let path = self.root.join("index.json");
        let mut index = if path.exists() {
            self.read_index()?
        } else {
            ImageIndex {
                schema_version: 2,
                media_type: Some(media::OCI_INDEX.into()),
                manifests: Vec::new(),
                annotations: BTreeMap::new(),
                other: BTreeMap::new(),
            }
        };
        change(&mut index)?;
        let bytes = serde_json::to_vec(&index).expect("indexes serialise");
        write_atomically(&self.ingest_dir()?, &path, &bytes)
    }

    /// [`ingest_dir`](Self::ingest_dir) from async code: the shared lock is waited for (while a
    /// `gc` holds it alone) on a blocking thread.
    async fn ingest_dir_off_runtime(&self) -> Result<PathBuf> {
        let dir = self.root.join(INGEST_DIR);
        if self.ingest_lock.get().is_none() {
            fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
            let lock = lock_off_runtime(ingest_lock_file(&dir)?, dir.join(INGEST_LOCK), true).await?;
            let _ = self.ingest_lock.set(lock);
        }
        Ok(dir)
    }

    fn ingest_dir(&self) -> Result<PathBuf> {
        let dir = self.root.join(INGEST_DIR);
        fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        if self.ingest_lock.get().is_none() {
            let lock = ingest_lock_file(&dir)?;
            lock.lock_shared().map_err(|e| Error::io("lock", &dir.join(INGEST_LOCK), e))?;
            let _ = self.ingest_lock.set(lock);
        }
        Ok(dir)
    }

    fn store_bytes(&self, descriptor: &Descriptor, bytes: &[u8]) -> Result<()> {
        digest::verify_bytes(&descriptor.digest, &descriptor.digest, descriptor.size, bytes)?;
        let path = self.blob_path(&descriptor.digest)?;
        if path.exists() {
            return Ok(());
        }
        write_atomically(&self.ingest_dir()?, &path, bytes)
    }
}

/// A temp file that becomes part of the layout: 0644 less the umask, like any file a user
/// writes, so that a layout one user pushed is readable by another (tempfile's own 0600 is for
/// secrets).
fn shared_temp_file(dir: &Path) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temp file in", dir, e))
}

/// Takes `file`'s lock (shared, or alone) on one of tokio's blocking threads and gives the file
/// holding it: another process may hold it for as long as its write (or a `gc`) takes, and a
/// thread of the async runtime must not wait that long.
async fn lock_off_runtime(file: File, path: PathBuf, shared: bool) -> Result<File> {
    tokio::task::spawn_blocking(move || {
        let locked = if shared { file.lock_shared() } else { file.lock() };
        locked.map(|()| file).map_err(|e| Error::io("lock", &path, e))
    })
    .await
    .map_err(|e| Error::failed(format!("waiting for the layout's lock stopped: {e}")))?
}

/// The ingest folder's lock file: every writer holds it shared; the sweep needs it alone.
const INGEST_LOCK: &str = ".lock";

fn ingest_lock_file(dir: &Path) -> Result<File> {
    let path = dir.join(INGEST_LOCK);
    fs::OpenOptions::new().create(true).append(true).open(&path).map_err(|e| Error::io("open", &path, e))
}

/// Removes what killed writers left in the ingest folder, when no live writer holds the folder:
/// their temp files are garbage then, and nobody's file is touched while anyone writes.
fn sweep_ingest(dir: &Path) {
    let Ok(lock) = ingest_lock_file(dir) else { return };
    if lock.try_lock().is_err() {
        return; // a live writer: the next run sweeps
    }
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry.file_name() != INGEST_LOCK {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes `bytes` to a temp file in `scratch` (the ingest folder a sweep cleans after a killed
/// writer), syncs it, and renames it to `path`.
fn write_atomically(scratch: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic::write_file(
        path,
        bytes,
        crate::atomic::WriteOptions { private: false, durable: true, temp_in: Some(scratch) },
    )
}

#[async_trait]
impl Store for LayoutStore {
    fn name(&self) -> String {
        format!("oci:{}", self.root.display())
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        let path = self.blob_path(&descriptor.digest)?;
        Ok(tokio::fs::metadata(&path).await.map(|m| m.len() == descriptor.size).unwrap_or(false))
    }
}

#[async_trait]
impl Source for LayoutStore {
    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let index = self.read_index()?;
        match reference {
            Reference::Tag(tag) => index
                .manifests
                .iter()
                .find(|m| m.annotation(media::ANN_REF_NAME) == Some(tag.as_str()))
                .cloned()
                .ok_or_else(|| {
                    let tags = tag_names(&index);
                    let hint = if tags.is_empty() {
                        "the layout holds no tags".to_string()
                    } else {
                        format!("the tags are: {}", tags.join(", "))
                    };
                    Error::not_found(format!("tag {tag:?} not found in {}", self.name())).with_hint(hint)
                }),
            Reference::Digest(digest) => {
                if let Some(found) = index.manifests.iter().find(|m| &m.digest == digest) {
                    return Ok(found.clone());
                }
                // A manifest below an index: read it to learn its media type, no further than
                // a manifest can be (the digest may name a 10 GB layer).
                let path = self.blob_path(digest)?;
                let bytes = read_manifest_blob(&path)
                    .map_err(|_| Error::not_found(format!("manifest {digest} not found in {}", self.name())))?
                    .ok_or_else(|| {
                        Error::malformed(format!(
                            "blob {digest} in {} is not a manifest: it is over the {} bytes a manifest may be",
                            self.name(),
                            media::MANIFEST_LIMIT
                        ))
                    })?;
                #[derive(serde::Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct MediaTypeOnly {
                    media_type: Option<String>,
                }
                let m: MediaTypeOnly = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::malformed(format!("blob {digest} is not a manifest")).with_cause(e))?;
                Ok(Descriptor::new(
                    &m.media_type.unwrap_or_else(|| media::OCI_MANIFEST.into()),
                    digest.clone(),
                    bytes.len() as u64,
                ))
            }
        }
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        if descriptor.size > media::MANIFEST_LIMIT as u64 {
            return Err(Error::malformed(format!(
                "manifest {} claims {} bytes, over the 4 MiB limit",
                descriptor.digest, descriptor.size
            )));
        }
        let path = self.blob_path(&descriptor.digest)?;
        // No more than the descriptor says, and one byte to see a longer file: the check below
        // refuses it.
        let mut bytes = Vec::new();
        let read = async {
            let file = tokio::fs::File::open(&path).await?;
            file.take(descriptor.size + 1).read_to_end(&mut bytes).await
        };
        read.await.map_err(|e| {
            Error::io("read", &path, e).context(format!(
                "manifest {} is missing from {}",
                descriptor.digest,
                self.name()
            ))
        })?;
        let what = format!("manifest {} in {}", descriptor.digest, self.name());
        digest::verify_bytes(&what, &descriptor.digest, descriptor.size, &bytes)?;
        Ok(bytes)
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        let path = self.blob_path(&descriptor.digest)?;
        let file = tokio::fs::File::open(&path).await.map_err(|e| {
            Error::io("read", &path, e).context(format!("blob {} is missing from {}", descriptor.digest, self.name()))
        })?;
        Ok(Box::pin(file))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(tag_names(&self.read_index()?))
    }

    fn referrers(&self) -> Option<&dyn Referrers> {
        Some(self)
    }
}

/// A layout has no referrers API: its referrers are the manifests `index.json` lists (tagged or
/// not) whose `subject` is the manifest asked about, as oras and skopeo store them.
#[async_trait]
impl Referrers for LayoutStore {
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        let mut found = Vec::new();
        for entry in self.read_index()?.manifests {
            if entry.size > media::MANIFEST_LIMIT as u64 || entry.digest == subject.digest {
                continue;
            }
            let Ok(Some(bytes)) = read_manifest_blob(&self.blob_path(&entry.digest)?) else { continue };
            if let Some((of, referrer)) = manifest::as_referrer(&entry, &bytes)
                && of == subject.digest
                && !found.iter().any(|f: &Descriptor| f.digest == referrer.digest)
            {
                found.push(referrer);
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Sink for LayoutStore {
    async fn push_blob(&self, descriptor: &Descriptor, open: BlobOpener<'_>) -> Result<()> {
        let mut data = open().await?;
        let path = self.blob_path(&descriptor.digest)?;
        let tmp = shared_temp_file(&self.ingest_dir_off_runtime().await?)?;
        let (std_file, tmp_path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = data.read(&mut buf).await.map_err(|e| {
                crate::stream::into_error(e, |e| {
                    Error::failed(format!("could not read blob {}", descriptor.digest)).with_cause(e)
                })
            })?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > descriptor.size {
                break; // verify() below reports the overflow; don't write past the claim
            }
            hasher.update(&buf[..n]);
            file.write_all(&buf[..n]).await.map_err(|e| Error::io("write", &tmp_path, e))?;
        }
        digest::verify(
            &format!("blob {}", descriptor.digest),
            &descriptor.digest,
            descriptor.size,
            &digest::format(hasher),
            total,
        )?;
        file.sync_all().await.map_err(|e| Error::io("sync", &tmp_path, e))?;
        drop(file);
        tmp_path.persist(&path).map_err(|e| Error::io("store", &path, e.error))?;
        Ok(())
    }

    fn spooler(&self) -> Result<Option<std::sync::Arc<dyn Spooler>>> {
        // Taking the ingest folder here holds its shared lock for as long as this store lives,
        // which outlives the push that spools.
        let ingest = self.ingest_dir()?;
        Ok(Some(std::sync::Arc::new(LayoutSpooler { ingest, blobs: self.root.join("blobs").join("sha256") })))
    }

    async fn push_manifest(&self, descriptor: &Descriptor, bytes: &[u8], tag: Option<&str>) -> Result<()> {
        self.ingest_dir_off_runtime().await?; // held from here on: store_bytes does not wait
        self.store_bytes(descriptor, bytes)?;
        let mut entry = descriptor.clone();
        entry.annotations.clear();
        if let Some(tag) = tag {
            entry.annotations.insert(media::ANN_REF_NAME.into(), tag.to_string());
        }
        self.with_index(|index| {
            match tag {
                // A tag names one manifest: moving it drops the old entry.
                Some(tag) => index.manifests.retain(|m| m.annotation(media::ANN_REF_NAME) != Some(tag)),
                None => index.manifests.retain(|m| !(m.digest == entry.digest && m.annotations.is_empty())),
            }
            index.manifests.push(entry);
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl Tagger for LayoutStore {
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<()> {
        if !self.exists(descriptor).await? {
            return Err(Error::not_found(format!("manifest {} is not in {}", descriptor.digest, self.name())));
        }
        let bytes = self.fetch_manifest(descriptor).await?;
        self.push_manifest(descriptor, &bytes, Some(tag)).await
    }

    /// Forgets the tag (or every tag of the digest) in `index.json`; the blobs stay until
    /// [`collect_garbage`](LayoutStore::collect_garbage).
    async fn remove(&self, descriptor: &Descriptor, reference: &Reference) -> Result<super::Removal> {
        let mut gone = Vec::new();
        self.with_index(|index| {
            index.manifests.retain(|m| {
                let name = m.annotation(media::ANN_REF_NAME);
                let drop = m.digest == descriptor.digest
                    && match reference {
                        Reference::Tag(t) => name == Some(t.as_str()),
                        Reference::Digest(_) => true,
                    };
                if drop && let Some(name) = name {
                    gone.push(name.to_string());
                }
                !drop
            });
            Ok(())
        })
        .await?;
        gone.sort();
        gone.dedup();
        Ok(super::Removal { tags: gone, manifest_deleted: false })
    }
}

/// Spools layers into temp files of the ingest folder, renamed into `blobs/` when committed.
#[derive(Debug)]
struct LayoutSpooler {
    ingest: PathBuf,
    blobs: PathBuf,
}

/// Bytes gathered before a spooled layer's write reaches the file.
const SPOOL_BUFFER: usize = 1 << 20;

impl Spooler for LayoutSpooler {
    fn holds(&self, digest: &str, size: u64) -> bool {
        digest::hex_part(digest).is_ok_and(|hex| fs::metadata(self.blobs.join(hex)).is_ok_and(|m| m.len() == size))
    }

    fn spool(&self) -> Result<Box<dyn Spool>> {
        let (file, path) = shared_temp_file(&self.ingest)?.into_parts();
        Ok(Box::new(LayoutSpool {
            file: std::io::BufWriter::with_capacity(SPOOL_BUFFER, file),
            path,
            blobs: self.blobs.clone(),
            failed: None,
        }))
    }
}

/// A layer being written to a temp file; dropping the [`tempfile::TempPath`] removes it.
struct LayoutSpool {
    file: std::io::BufWriter<File>,
    path: tempfile::TempPath,
    blobs: PathBuf,
    /// The first write that failed: commit reports it and publishes nothing.
    failed: Option<std::io::Error>,
}

impl Write for LayoutSpool {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed.is_some() {
            return Err(std::io::Error::other("an earlier write failed"));
        }
        self.file.write(buf).inspect_err(|e| self.failed = Some(std::io::Error::new(e.kind(), e.to_string())))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Spool for LayoutSpool {
    fn commit(self: Box<Self>, digest: &str, size: u64) -> Result<()> {
        let LayoutSpool { file, path, blobs, failed } = *self;
        if let Some(e) = failed {
            return Err(Error::io("write", &path, e));
        }
        let file = file.into_inner().map_err(|e| Error::io("write", &path, e.into_error()))?;
        let written = file.metadata().map_err(|e| Error::io("read", &path, e))?.len();
        if written != size {
            return Err(Error::failed(format!(
                "spooled {written} bytes of the {size} of blob {digest} into {}",
                path.display()
            )));
        }
        file.sync_all().map_err(|e| Error::io("sync", &path, e))?;
        fs::create_dir_all(&blobs).map_err(|e| Error::io("create", &blobs, e))?;
        let to = blobs.join(digest::hex_part(digest)?);
        path.persist(&to).map_err(|e| Error::io("store", &to, e.error))?;
        Ok(())
    }
}

/// What [`LayoutStore::collect_garbage`] found.
#[derive(Debug, Clone, Default)]
pub struct Garbage {
    /// The unreachable blobs, by digest, sorted.
    pub removed: Vec<String>,
    /// Their bytes.
    pub bytes: u64,
    /// The blobs reachable from `index.json`.
    pub kept: usize,
}

impl LayoutStore {
    /// Removes (or, `dry_run`, only lists) the blobs no entry of `index.json` reaches through
    /// manifests, indexes, configs and layers. Holds the ingest lock alone meanwhile, so it
    /// waits for pushes in progress: a push writes its blobs before its manifest, and those
    /// blobs are reachable only once the manifest is listed.
    pub fn collect_garbage(&self, dry_run: bool) -> Result<Garbage> {
        let dir = self.root.join(INGEST_DIR);
        fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let lock = ingest_lock_file(&dir)?;
        lock.lock().map_err(|e| Error::io("lock", &dir.join(INGEST_LOCK), e))?;
        let index = self.read_index()?;
        let mut reachable = std::collections::HashSet::new();
        let mut pending: Vec<Descriptor> = index.manifests.clone();
        while let Some(d) = pending.pop() {
            if !reachable.insert(d.digest.clone()) || !manifest::is_manifest_type(&d.media_type) {
                continue;
            }
            let path = self.blob_path(&d.digest)?;
            let bytes = read_manifest_blob(&path)
                .map_err(|e| {
                    Error::io("read", &path, e)
                        .with_hint("the layout lists a manifest it does not hold: gc would lose data")
                })?
                .ok_or_else(|| {
                    Error::malformed(format!(
                        "manifest {} in the layout is over the {} bytes a manifest may be",
                        d.digest,
                        media::MANIFEST_LIMIT
                    ))
                    .with_hint("gc stops rather than lose what it points to: remove the entry from index.json first")
                })?;
            pending.extend(manifest::children(&d, &bytes)?);
        }
        let blobs = self.root.join("blobs").join("sha256");
        let mut garbage = Garbage::default();
        let entries = fs::read_dir(&blobs).map_err(|e| Error::io("read", &blobs, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", &blobs, e))?;
            let digest = format!("sha256:{}", entry.file_name().to_string_lossy());
            if reachable.contains(&digest) {
                garbage.kept += 1;
                continue;
            }
            let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
            if !dry_run {
                fs::remove_file(entry.path()).map_err(|e| Error::io("remove", &entry.path(), e))?;
            }
            garbage.bytes += size;
            garbage.removed.push(digest);
        }
        garbage.removed.sort();
        Ok(garbage)
    }
}

/// The bytes of a blob read as a manifest, or `None` when it is longer than a manifest may be
/// ([`media::MANIFEST_LIMIT`]): what is read stays bounded whatever blob a digest names.
fn read_manifest_blob(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::Read as _;
    let limit = media::MANIFEST_LIMIT as u64;
    let mut bytes = Vec::new();
    File::open(path)?.take(limit + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= limit).then_some(bytes))
}

/// The descriptors a manifest or index points down to: config, layers, manifests.
fn tag_names(index: &ImageIndex) -> Vec<String> {
    let mut tags: Vec<String> =
        index.manifests.iter().filter_map(|m| m.annotation(media::ANN_REF_NAME).map(String::from)).collect();
    tags.sort();
    tags.dedup();
    tags
}
