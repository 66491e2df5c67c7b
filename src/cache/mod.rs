//! The user cache folder, `$ZOO_OCI_CACHE`, else `$XDG_CACHE_HOME/zoo-oci`, else
//! `~/.cache/zoo-oci`, shared by the command line and the Python package. Besides partial
//! downloads (`partial/`, [`crate::resume`]) and the push's layer digests (`digests/`), it keeps
//! pulled suites, content-addressed like the Hugging Face cache:
//!
//! ```text
//! files/sha256/ab/<hex>[.x]    every file pulled, once, by its sha256 (`.x`: executable), read-only
//! layers/sha256/<hex>.json     what a layer holds (paths, sizes, sha256s): a cached layer is never
//!                              downloaded again, by any suite that has it
//! blobs/sha256/<hex>           manifests and configs, for offline use and for `index`
//! refs/<registry>/<repo>/@<tag>, refs/oci/<id>/@<tag>
//!                              the manifest a tag last resolved to (`ZOO_OCI_OFFLINE=1` reads these)
//! catalogues/<registry>.json   `index`'s tag book of a registry: each repository's tags as last
//!                              listed, and when ([`crate::index::remembered`])
//! snapshots/<hex>/             a suite as pulled: its files, hard links into files/, and .zoo-oci.json
//! locks/                       flock(2) files: pulls hold cache.lock shared, rm and prune exclusive;
//!                              one pull fills a snapshot at a time
//! tmp/                         layers being extracted
//! ```
//!
//! Hard links make a file cost its bytes once whatever the number of suites and versions holding
//! it, and tell `prune` what nothing uses any more: a file in `files/` with a link count of 1.

mod manage;
mod snapshot;

pub use manage::{CacheListing, CachedSuite, RemoveReport, list, prune, remove};
pub use snapshot::{OfflineSource, SnapshotOptions, into_snapshot};

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::artifact::archive::FileRecord;
use crate::digest;
use crate::error::{Error, Result};
use crate::reference::{Location, Reference};

/// The cache folder, if the environment names one.
pub fn root() -> Option<PathBuf> {
    std::env::var_os("ZOO_OCI_CACHE").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("zoo-oci"))
    })
}

/// Whether `ZOO_OCI_OFFLINE` asks for no network: tags resolve from the cache alone.
pub fn offline() -> bool {
    std::env::var("ZOO_OCI_OFFLINE")
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
}

/// How long a registry is waited for (`retry_timeout`) when the cache holds what was asked
/// for: after that, the cached copy is used, with a warning, as the Hugging Face cache does.
pub const PATIENCE_WITH_A_COPY: Duration = Duration::from_secs(5);

/// Whether `cache` can answer for `location` without its registry: the tag was pulled here
/// before, or the digest is kept. Layouts are always at hand.
pub fn can_answer(cache: &Cache, location: &Location) -> bool {
    if matches!(location, Location::Layout { .. }) {
        return false;
    }
    let digest = match location.reference() {
        Some(Reference::Digest(d)) => Some(d.clone()),
        Some(Reference::Tag(t)) => cache.read_ref(location, t).map(|r| r.digest),
        None => cache.read_ref(location, "latest").map(|r| r.digest),
    };
    digest.is_some_and(|d| cache.read_blob(&d).is_some())
}

/// Whether `error` says the registry could not be reached at all, so that a cached copy may
/// stand in: a refused connection, a name that does not resolve, a connection that did not open
/// in time. Not a registry that answered and then stalled or broke off (its tag may have moved
/// since the copy was made, and the copy would hide that), not an unclassified failure, not a
/// refusal of us or a wrong way of talking to it (a certificate, TLS against plain HTTP): a
/// cached copy must not hide what the user has to fix.
pub fn unreachable(error: &Error) -> bool {
    use crate::error::{ErrorKind, TransportFailure};
    matches!(
        error.kind(),
        ErrorKind::Transport(
            TransportFailure::Refused | TransportFailure::NameResolution | TransportFailure::ConnectTimeout
        )
    )
}

/// The warning a report carries when the cache stood in for an unreachable registry.
pub fn stood_in(location: &Location, error: &Error) -> String {
    format!(
        "{} could not be reached ({}): this is the copy the shared cache holds, as the tag was when last pulled; \
         set ZOO_OCI_OFFLINE=1 not to try the registry",
        location,
        crate::error::one_line(error)
    )
}

/// The shared cache of pulled suites.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

/// What a cached layer holds: every file, with its sha256.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedLayer {
    /// Format version.
    pub zoo_oci: u32,
    /// The layer's digest.
    pub digest: String,
    /// Its files, each with `sha256` set.
    pub files: Vec<FileRecord>,
}

/// What a tag resolved to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefRecord {
    /// The location with its tag, as it was pulled.
    pub location: String,
    /// The manifest digest.
    pub digest: String,
    /// The manifest's media type.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// The manifest's size.
    pub size: u64,
}

impl Cache {
    /// The cache the environment names.
    pub fn open() -> Result<Cache> {
        Cache::open_at(root())
    }

    /// The cache in `root`, or the error that no folder is named (an `ops::Context` holds
    /// the folder, [`root`] by default).
    pub fn open_at(root: Option<PathBuf>) -> Result<Cache> {
        root.map(Cache::at).ok_or_else(|| {
            Error::usage("no cache folder: neither ZOO_OCI_CACHE nor HOME is set")
                .with_hint("set ZOO_OCI_CACHE to a folder")
        })
    }

    /// The cache in `root`.
    pub fn at(root: PathBuf) -> Cache {
        Cache { root }
    }

    /// Its folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The folder a suite's snapshot lives in.
    pub fn snapshot_path(&self, manifest_digest: &str) -> Result<PathBuf> {
        Ok(self.dir("snapshots").join(digest::hex_part(manifest_digest)?))
    }

    /// Where the file of `sha256` is stored.
    pub fn file_path(&self, sha256: &str, executable: bool) -> Result<PathBuf> {
        let hex = digest::hex_part(sha256)?;
        let name = if executable { format!("{hex}.x") } else { hex.to_string() };
        Ok(self.dir("files/sha256").join(&hex[..2]).join(name))
    }

    fn layer_record_path(&self, layer_digest: &str) -> Result<PathBuf> {
        Ok(self.dir("layers/sha256").join(format!("{}.json", digest::hex_part(layer_digest)?)))
    }

    /// What a cached layer holds, when every one of its files is still stored.
    pub fn layer(&self, layer_digest: &str) -> Option<CachedLayer> {
        let path = self.layer_record_path(layer_digest).ok()?;
        let record: CachedLayer = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
        let complete = record.files.iter().all(|f| {
            self.file_path(&f.sha256, f.executable)
                .ok()
                .and_then(|p| fs::metadata(p).ok())
                .is_some_and(|m| m.len() == f.size)
        });
        complete.then_some(record)
    }

    fn put_layer(&self, record: &CachedLayer) -> Result<()> {
        let path = self.layer_record_path(&record.digest)?;
        write_atomically(&path, &serde_json::to_vec(record).expect("records serialise"))
    }

    /// Moves `file` (a file just extracted and verified) into the store as `record` says,
    /// hashing it first when its sha256 is not known; gives the record with the sha256 set.
    fn store(&self, file: &Path, record: &FileRecord) -> Result<FileRecord> {
        let mut record = record.clone();
        if record.sha256.is_empty() {
            record.sha256 = hash_file(file)?;
        }
        let target = self.file_path(&record.sha256, record.executable)?;
        if fs::metadata(&target).is_ok_and(|m| m.len() == record.size) {
            let _ = fs::remove_file(file); // stored already: by another layer, suite or process
            return Ok(record);
        }
        let parent = target.parent().expect("store paths have a parent");
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        // Read-only: a snapshot's file is the store's file, and writing through one would
        // change every suite that holds it.
        let mode = if record.executable { 0o555 } else { 0o444 };
        fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(|e| Error::io("set the mode of", file, e))?;
        fs::rename(file, &target).map_err(|e| Error::io("store", &target, e))?;
        Ok(record)
    }

    /// The file where a tag's resolution is kept: `refs/<registry>/<repository>/@<tag>`, or
    /// `refs/oci/<id of the layout's path>/@<tag>`. Repository components never start with
    /// `@`, so a tag file and a nested repository's folder cannot meet.
    fn ref_path(&self, location: &Location, tag: &str) -> PathBuf {
        let refs = self.dir("refs");
        match location {
            Location::Registry { registry, repository, .. } => {
                refs.join(registry).join(repository).join(format!("@{tag}"))
            }
            Location::Layout { path, .. } => {
                let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
                let id = digest::of_bytes(absolute.as_os_str().as_encoded_bytes());
                refs.join("oci").join(&digest::hex_part(&id).expect("a digest")[..16]).join(format!("@{tag}"))
            }
        }
    }

    /// What `tag` of `location` last resolved to here.
    pub fn read_ref(&self, location: &Location, tag: &str) -> Option<RefRecord> {
        serde_json::from_slice(&fs::read(self.ref_path(location, tag)).ok()?).ok()
    }

    fn write_ref(&self, location: &Location, tag: &str, record: &RefRecord) -> Result<()> {
        write_atomically(&self.ref_path(location, tag), &serde_json::to_vec_pretty(record).expect("records serialise"))
    }

    fn blob_path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.dir("blobs/sha256").join(digest::hex_part(digest)?))
    }

    /// A manifest or config kept here, checked against its digest.
    pub fn read_blob(&self, digest: &str) -> Option<Vec<u8>> {
        let bytes = fs::read(self.blob_path(digest).ok()?).ok()?;
        (digest::of_bytes(&bytes) == digest).then_some(bytes)
    }

    /// Keeps a manifest or config (bytes already checked against `digest`) for later reads.
    pub fn keep_blob(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        self.put_blob(digest, bytes)
    }

    fn put_blob(&self, digest: &str, bytes: &[u8]) -> Result<()> {
        let path = self.blob_path(digest)?;
        if path.is_file() {
            return Ok(());
        }
        write_atomically(&path, bytes)
    }

    fn lock_file(&self, name: &str) -> Result<File> {
        let dir = self.dir("locks");
        fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        let path = dir.join(name);
        OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(|e| Error::io("open", &path, e))
    }

    /// Waits (without blocking the runtime) for a lock: shared, or exclusive.
    async fn lock(&self, name: &str, shared: bool) -> Result<File> {
        let file = self.lock_file(name)?;
        loop {
            let attempt = if shared { file.try_lock_shared() } else { file.try_lock() };
            match attempt {
                Ok(()) => return Ok(file),
                Err(fs::TryLockError::WouldBlock) => tokio::time::sleep(Duration::from_millis(50)).await,
                Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", &self.dir("locks").join(name), e)),
            }
        }
    }

    /// Holds off `rm` and `prune` while a pull links files (shared), or pulls while they run.
    async fn guard(&self, shared: bool) -> Result<File> {
        self.lock("cache.lock", shared).await
    }
}

/// Copies the files of cached layers that `files` keeps into `into` (a pull's scratch folder),
/// each checked against its sha256 as it lands, as a download would be; gives their records.
/// A copy, not a link: a folder the user asked for is theirs to change. `fs::copy` uses
/// `copy_file_range`, which shares the blocks on file systems that can (btrfs, XFS).
pub fn copy_out<'a>(
    cache: &Cache,
    layers: impl Iterator<Item = &'a CachedLayer>,
    files: &crate::pull::FileFilter,
    into: &Path,
) -> Result<Vec<FileRecord>> {
    let mut copied = Vec::new();
    for layer in layers {
        for file in layer.files.iter().filter(|f| files.keeps(&f.path)) {
            let target = into.join(snapshot::safe_relative(&file.path)?);
            if let Some(dir) = target.parent() {
                fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            }
            fs::copy(cache.file_path(&file.sha256, file.executable)?, &target)
                .map_err(|e| Error::io("copy the cached file into", &target, e))?;
            let mode = if file.executable { 0o755 } else { 0o644 };
            fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(mode))
                .map_err(|e| Error::io("set the mode of", &target, e))?;
            if hash_file(&target)? != file.sha256 {
                return Err(Error::integrity(
                    crate::error::IntegrityFailure::DigestMismatch,
                    format!("the cached copy of {} (layer {}) does not match its sha256", file.path, layer.digest),
                )
                .with_hint(
                    "remove the suite from the cache (zoo-oci cache rm), or pull with ZOO_OCI_CACHE pointing elsewhere",
                ));
            }
            copied.push(file.clone());
        }
    }
    Ok(copied)
}

/// Writes a cache file whole or not at all (0644 less the umask, like any file written: a cache
/// shared by a group, or read by a container running as another user, reads its records).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::atomic::write_file(path, bytes, crate::atomic::WriteOptions::default())
}

fn hash_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buffer = vec![0; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            return Ok(digest::format(hasher));
        }
        sha2::Digest::update(&mut hasher, &buffer[..n]);
    }
}

/// The tag a reference names, if it names one.
fn tag_of(reference: &Reference) -> Option<&str> {
    match reference {
        Reference::Tag(t) => Some(t),
        Reference::Digest(_) => None,
    }
}

/// A folder pull takes the layers the cache holds from it ([`copy_out`]).
impl crate::pull::LayerSupply for Cache {
    fn holds(&self, digest: &str) -> bool {
        self.layer(digest).is_some()
    }

    fn copy_out(&self, digests: &[String], files: &crate::pull::FileFilter, into: &Path) -> Result<Vec<FileRecord>> {
        let layers: Vec<CachedLayer> = digests.iter().filter_map(|d| self.layer(d)).collect();
        copy_out(self, layers.iter(), files, into)
    }
}
