//! `zoo-oci cache ls|rm|prune`: what the cache holds, and taking it back.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::{Cache, RefRecord};
use crate::error::{Error, Result};
use crate::pull::{self, PullRecord};
use crate::reference::{Location, Reference};

/// A suite in the cache.
#[derive(Debug, Clone, Serialize)]
pub struct CachedSuite {
    /// Its manifest digest.
    pub digest: String,
    /// The suite's name.
    pub name: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// Where it was pulled from, as typed.
    pub sources: Vec<String>,
    /// The tags that resolve to it here (what `ZOO_OCI_OFFLINE=1` can pull).
    pub refs: Vec<String>,
    /// The snapshot folder.
    pub path: PathBuf,
    /// Files in it.
    pub files: usize,
    /// Their bytes (shared with other snapshots where they hold the same files).
    pub size: u64,
    /// When a pull last returned it (RFC 3339).
    pub last_used: String,
}

/// What the cache holds.
#[derive(Debug, Clone, Serialize)]
pub struct CacheListing {
    /// The cache folder.
    pub root: PathBuf,
    /// Its suites, most recently used first.
    pub snapshots: Vec<CachedSuite>,
    /// Files stored (each once, whatever the number of suites holding it).
    pub files: usize,
    /// Their bytes: the cache's real size.
    pub size: u64,
    /// Bytes of stored files no snapshot holds any more (`prune` frees them).
    pub unused: u64,
}

/// What `rm` or `prune` took away.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RemoveReport {
    /// The snapshots removed, by manifest digest.
    pub removed: Vec<String>,
    /// Bytes freed.
    pub freed: u64,
}

struct Snapshot {
    path: PathBuf,
    record: PullRecord,
    used: SystemTime,
}

impl Cache {
    fn snapshots(&self) -> Vec<Snapshot> {
        let Ok(entries) = fs::read_dir(self.dir("snapshots")) else { return Vec::new() };
        let mut found: Vec<Snapshot> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter_map(|e| {
                let path = e.path();
                // A record whose digest is not one (edited, or written by something else) is no
                // snapshot of ours: listing, matching and removing it would slice a digest.
                let record = pull::read_record(&path).filter(|r| crate::digest::hex_part(&r.manifest).is_ok())?;
                let used = fs::metadata(path.join(pull::RECORD_FILE)).and_then(|m| m.modified()).ok()?;
                Some(Snapshot { path, record, used })
            })
            .collect();
        found.sort_by_key(|s| std::cmp::Reverse(s.used));
        found
    }

    /// Every tag file, with what it says.
    fn refs(&self) -> Vec<(PathBuf, RefRecord)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, RefRecord)>) {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    walk(&path, out);
                } else if entry.file_name().to_string_lossy().starts_with('@')
                    && let Some(record) = fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok())
                {
                    out.push((path, record));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir("refs"), &mut out);
        out
    }

    /// Stored files: path, size, and whether a snapshot still links it.
    fn stored_files(&self) -> Vec<(PathBuf, u64, bool)> {
        let mut out = Vec::new();
        for shard in fs::read_dir(self.dir("files/sha256")).into_iter().flatten().flatten() {
            for file in fs::read_dir(shard.path()).into_iter().flatten().flatten() {
                if let Ok(meta) = file.metadata() {
                    out.push((file.path(), meta.len(), meta.nlink() > 1));
                }
            }
        }
        out
    }

    /// Blocks until no pull runs, then holds them off.
    fn exclusive(&self) -> Result<File> {
        let file = self.lock_file("cache.lock")?;
        file.lock().map_err(|e| Error::io("lock", &self.dir("locks/cache.lock"), e))?;
        Ok(file)
    }
}

/// Lists the cache.
pub fn list(cache: &Cache) -> Result<CacheListing> {
    let mut refs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, record) in cache.refs() {
        refs.entry(record.digest).or_default().push(record.location);
    }
    let snapshots = cache
        .snapshots()
        .into_iter()
        .map(|s| CachedSuite {
            refs: refs.get(&s.record.manifest).cloned().unwrap_or_default(),
            digest: s.record.manifest,
            name: s.record.name,
            version: s.record.version,
            sources: vec![s.record.source],
            files: s.record.files.len(),
            size: s.record.files.iter().map(|f| f.size).sum(),
            last_used: humantime::format_rfc3339_seconds(s.used).to_string(),
            path: s.path,
        })
        .collect();
    let stored = cache.stored_files();
    Ok(CacheListing {
        root: cache.root().to_path_buf(),
        snapshots,
        files: stored.len(),
        size: stored.iter().map(|f| f.1).sum(),
        unused: stored.iter().filter(|f| !f.2).map(|f| f.1).sum(),
    })
}

/// Removes the snapshots `targets` name (a manifest digest or a prefix of its hex, a suite
/// name, or a location with its tag as pulled), the tags that point at them, and the stored
/// files nothing else holds.
pub fn remove(cache: &Cache, targets: &[String]) -> Result<RemoveReport> {
    let _lock = cache.exclusive()?;
    let snapshots = cache.snapshots();
    let refs = cache.refs();
    let mut doomed: Vec<String> = Vec::new();
    for target in targets {
        let matched = matching(cache, &snapshots, target)?;
        doomed.extend(matched.into_iter().filter(|d| !doomed.contains(d)).collect::<Vec<_>>());
    }
    let mut report = RemoveReport::default();
    for digest in doomed {
        let path = cache.snapshot_path(&digest)?;
        fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
        for (ref_path, record) in &refs {
            if record.digest == digest {
                let _ = fs::remove_file(ref_path);
            }
        }
        if let Ok(blob) = cache.blob_path(&digest) {
            let _ = fs::remove_file(blob);
        }
        report.removed.push(digest);
    }
    report.freed = free_unused(cache);
    Ok(report)
}

fn matching(cache: &Cache, snapshots: &[Snapshot], target: &str) -> Result<Vec<String>> {
    let hex = target.strip_prefix("sha256:").unwrap_or(target);
    if hex.len() >= 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        let found: Vec<String> = snapshots
            .iter()
            .map(|s| s.record.manifest.clone())
            .filter(|d| d.strip_prefix("sha256:").is_some_and(|h| h.starts_with(hex)))
            .collect();
        return match found.len() {
            0 => Err(Error::not_found(format!("no suite in the cache has a digest starting {hex}"))
                .with_hint("zoo-oci cache ls lists what it holds")),
            1 => Ok(found),
            _ => Err(Error::usage(format!("{hex} is the start of {} digests: {}", found.len(), found.join(", ")))
                .with_hint("give more of the digest")),
        };
    }
    let named: Vec<String> = snapshots
        .iter()
        .filter(|s| s.record.name.as_deref() == Some(target))
        .map(|s| s.record.manifest.clone())
        .collect();
    if !named.is_empty() {
        return Ok(named);
    }
    let location = Location::parse(target).map_err(|_| {
        Error::not_found(format!("no suite in the cache is named {target}"))
            .with_hint("zoo-oci cache ls lists what it holds")
    })?;
    let digest = match location.reference() {
        Some(Reference::Digest(d)) => Some(d.clone()),
        Some(Reference::Tag(t)) => cache.read_ref(&location, t).map(|r| r.digest),
        None => cache.read_ref(&location, "latest").map(|r| r.digest),
    };
    match digest {
        Some(d) if snapshots.iter().any(|s| s.record.manifest == d) => Ok(vec![d]),
        _ => {
            Err(Error::not_found(format!("{target} is not in the cache"))
                .with_hint("zoo-oci cache ls lists what it holds"))
        }
    }
}

/// Removes stored files no snapshot links, the layer records they leave incomplete, the
/// leftovers of pulls that were killed, and partial downloads untouched for a day; gives the
/// bytes freed. Call with the exclusive lock.
fn free_unused(cache: &Cache) -> u64 {
    let mut freed = 0;
    for (path, size, linked) in cache.stored_files() {
        if !linked && fs::remove_file(&path).is_ok() {
            freed += size;
        }
    }
    for entry in fs::read_dir(cache.dir("layers/sha256")).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(hex) = name.strip_suffix(".json")
            && cache.layer(&format!("sha256:{hex}")).is_none()
        {
            let _ = fs::remove_file(entry.path());
        }
    }
    for entry in fs::read_dir(cache.dir("tmp")).into_iter().flatten().flatten() {
        freed += tree_size(&entry.path());
        let _ = fs::remove_dir_all(entry.path());
    }
    // Partial downloads (`crate::resume`) of pulls that stopped a day ago or more; one being
    // appended to is locked by its pull, and stays.
    let stale = SystemTime::now().checked_sub(Duration::from_secs(24 * 3600)).unwrap_or(SystemTime::UNIX_EPOCH);
    for entry in fs::read_dir(cache.dir("partial")).into_iter().flatten().flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let Ok(file) = fs::OpenOptions::new().append(true).open(entry.path()) else { continue };
        if meta.modified().is_ok_and(|m| m < stale) && file.try_lock().is_ok() && fs::remove_file(entry.path()).is_ok()
        {
            freed += meta.len();
        }
    }
    for entry in fs::read_dir(cache.dir("snapshots")).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(".building-") || pull::read_record(&path).is_none() {
            let _ = fs::remove_dir_all(&path);
        }
    }
    freed
}

fn tree_size(path: &Path) -> u64 {
    match fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => fs::read_dir(path).into_iter().flatten().flatten().map(|e| tree_size(&e.path())).sum(),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

/// Frees what nothing uses: stored files no snapshot holds, leftovers of killed pulls, and,
/// given `older_than`, the snapshots no pull has returned for that long.
pub fn prune(cache: &Cache, older_than: Option<Duration>) -> Result<RemoveReport> {
    let _lock = cache.exclusive()?;
    let mut report = RemoveReport::default();
    if let Some(age) = older_than {
        let cutoff = SystemTime::now().checked_sub(age).unwrap_or(SystemTime::UNIX_EPOCH);
        let refs = cache.refs();
        for snapshot in cache.snapshots().into_iter().filter(|s| s.used < cutoff) {
            fs::remove_dir_all(&snapshot.path).map_err(|e| Error::io("remove", &snapshot.path, e))?;
            for (ref_path, record) in &refs {
                if record.digest == snapshot.record.manifest {
                    let _ = fs::remove_file(ref_path);
                }
            }
            report.removed.push(snapshot.record.manifest);
        }
    }
    report.freed = free_unused(cache);
    Ok(report)
}
