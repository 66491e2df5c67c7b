//! Pulling into the shared cache: the layers it lacks are extracted once into its file store,
//! then the suite's snapshot folder is made of hard links to them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use super::{Cache, CachedLayer, RefRecord, tag_of};
use crate::artifact::archive::FileRecord;
use crate::artifact::decode::LayerView;
use crate::artifact::manifest::Descriptor;
use crate::copy;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::pull::{self, FileFilter, PullOutcome, PullRecord, Selection};
use crate::reference::{Location, Reference};
use crate::store::dir::FolderSink;
use crate::store::{BlobReader, Source, Store};

/// How to pull into the cache.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// What to link into the snapshot (whole layers are cached whatever the file globs say).
    pub selection: Selection,
    /// Bound for layers without a file list, as a multiple of their compressed size.
    pub max_expansion: u64,
    /// How the layers come down.
    pub transfer: pull::Transfer,
    /// Whether the source is the cache itself (`ZOO_OCI_OFFLINE`): a missing layer is then an
    /// error that says so, not a download.
    pub offline: bool,
    /// For a pull by digest, the tag the caller resolved it from (Python's `hub.load` inspects
    /// by tag, then pulls that digest): kept as a pull by the tag keeps it, so the tag still
    /// resolves offline.
    pub resolved_from: Option<String>,
}

/// Pulls `reference` of `location` (read through `source`) into the cache: returns the
/// snapshot folder as the outcome's destination. Only layers the cache lacks are downloaded;
/// a pull of what the snapshot already holds writes nothing.
pub async fn into_snapshot(
    cache: &Cache,
    location: &Location,
    source: &dyn Source,
    reference: &Reference,
    options: &SnapshotOptions,
    events: &(dyn Fn(&Event) + Sync),
) -> Result<PullOutcome> {
    let root = copy::resolve(source, reference, crate::retry::DEFAULT_RETRIES).await?;
    let source_name = location.with_reference(Some(reference.clone())).to_string();
    // What the tag resolved to is kept once the snapshot is whole (below): a pull that fails
    // leaves the tag pointing at what the cache can still give offline.
    let tag = tag_of(reference).or(options.resolved_from.as_deref());
    let resolved = match (options.offline, tag) {
        (false, Some(tag)) => {
            cache.put_blob(&root.descriptor.digest, &root.bytes)?;
            Some((
                tag.to_string(),
                RefRecord {
                    location: location.with_reference(Some(Reference::Tag(tag.to_string()))).to_string(),
                    digest: root.descriptor.digest.clone(),
                    media_type: root.descriptor.media_type.clone(),
                    size: root.descriptor.size,
                },
            ))
        }
        (false, None) => {
            cache.put_blob(&root.descriptor.digest, &root.bytes)?;
            None
        }
        (true, _) => None,
    };
    let (root, selection) = pull::pick_from_index(source, root, &options.selection).await?;
    let (view, config) = crate::store::suite_view_and_config(source, &root.descriptor, &root.bytes).await?;
    if !options.offline {
        cache.put_blob(&root.descriptor.digest, &root.bytes)?;
        if let Some(config) = config {
            cache.put_blob(&view.manifest.config.digest, &config)?;
        }
    }
    let files = FileFilter::of(&selection)?;
    let chosen = pull::select(&view, &selection, &files)?;
    let digest = view.manifest_descriptor.digest.clone();
    let snapshot = cache.snapshot_path(&digest)?;

    // rm and prune wait while this runs; a second pull of this suite waits for this one, then
    // finds everything here.
    let _guard = cache.guard(true).await?;
    let _filling = cache.lock(&format!("{}.lock", crate::digest::hex_part(&digest)?), false).await?;

    let missing: Vec<&LayerView> =
        chosen.iter().copied().filter(|l| cache.layer(&l.descriptor.digest).is_none()).collect();
    let (layers, bytes) = match missing.as_slice() {
        [] => (0, 0),
        _ if options.offline => {
            return Err(Error::not_found(format!(
                "{source_name} is not all in the cache: {} not pulled yet, and ZOO_OCI_OFFLINE is set",
                crate::format::count(missing.len(), "layer is", "layers are")
            ))
            .with_hint("unset ZOO_OCI_OFFLINE to download it, or pull less (only, variant)"));
        }
        _ => download(cache, source, &root, &missing, options, events).await?,
    };

    let mut wanted = Vec::new();
    for layer in &chosen {
        let record = cache.layer(&layer.descriptor.digest).ok_or_else(|| {
            Error::failed(format!("the cache lost layer {} while it was being pulled", layer.descriptor.digest))
                .with_hint("run the pull again")
        })?;
        wanted.extend(record.files.into_iter().filter(|f| files.keeps(&f.path)));
    }
    let linking = cache.clone();
    let selection = options.selection.clone();
    let view_name = view.name().map(String::from);
    let view_version = view.version().map(String::from);
    let (linked, total) = tokio::task::spawn_blocking(move || {
        link_snapshot(&linking, &snapshot, &wanted, |files| PullRecord {
            zoo_oci: 1,
            source: source_name,
            mirror: None,
            manifest: digest,
            name: view_name,
            version: view_version,
            selection,
            files,
        })
    })
    .await
    .map_err(|e| Error::failed("the cache's linking thread failed").with_cause(e))??;
    if let Some((tag, record)) = resolved {
        cache.write_ref(location, &tag, &record)?;
    }
    Ok(PullOutcome {
        destination: linked,
        manifest: view.manifest_descriptor.digest.clone(),
        up_to_date: layers == 0 && total.added == 0,
        layers,
        bytes,
        files: total.wanted,
        from_cache: chosen.len() - missing.len(),
        warnings: view.warnings.clone(),
    })
}

/// Downloads `missing` layers into a scratch folder of the cache, a folder per layer, and moves
/// their files into the store; gives the blobs and bytes downloaded.
async fn download(
    cache: &Cache,
    source: &dyn Source,
    root: &copy::Root,
    missing: &[&LayerView],
    options: &SnapshotOptions,
    events: &(dyn Fn(&Event) + Sync),
) -> Result<(usize, u64)> {
    let tmp = cache.dir("tmp");
    fs::create_dir_all(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    let scratch = tempfile::Builder::new()
        .prefix("pull-")
        .tempdir_in(&tmp)
        .map_err(|e| Error::io("create a folder in", &tmp, e))?;
    pull::check_free_space(scratch.path(), cache.root(), missing)?;
    let unpacks =
        missing.iter().map(|l| (l.descriptor.digest.clone(), pull::unpack_of(l, options.max_expansion))).collect();
    let name = format!("the cache {}", cache.root().display());
    let sink = FolderSink::new(scratch.path().to_path_buf(), name, unpacks, Arc::new(|_: &str| true)).split_by_layer();
    let wanted = |digest: &str| missing.iter().any(|l| l.descriptor.digest == digest);
    let report = pull::copy_layers(source, root, &sink, &wanted, &options.transfer, events).await?;
    let written = sink.written_by_layer();
    let cache = cache.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        for (digest, files) in written {
            let dir = scratch.path().join(crate::digest::hex_part(&digest)?);
            let files = files.iter().map(|f| cache.store(&dir.join(&f.path), f)).collect::<Result<Vec<_>>>()?;
            // The record goes last: a layer is cached only once every one of its files is.
            cache.put_layer(&CachedLayer { zoo_oci: 1, digest, files })?;
        }
        drop(scratch);
        Ok(())
    })
    .await
    .map_err(|e| Error::failed("the cache's storing thread failed").with_cause(e))??;
    Ok((report.copied as usize, report.copied_bytes))
}

/// How many files a snapshot should hold, and how many this pull added.
struct Linked {
    wanted: usize,
    added: usize,
}

/// Makes `snapshot` hold `wanted`: a new snapshot is built beside and renamed into place, so
/// it appears whole; an existing one (an earlier pull of another part of the suite) gains the
/// missing links, each made at once. The record lists every file the snapshot holds.
fn link_snapshot(
    cache: &Cache,
    snapshot: &Path,
    wanted: &[FileRecord],
    record: impl FnOnce(Vec<FileRecord>) -> PullRecord,
) -> Result<(PathBuf, Linked)> {
    let previous = pull::read_record(snapshot);
    let fresh = previous.is_none();
    let parent = snapshot.parent().expect("snapshots have a parent");
    fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    let building = match fresh {
        true => {
            let _ = fs::remove_dir_all(snapshot); // a snapshot without its record: unfinished
            Some(
                tempfile::Builder::new()
                    .prefix(".building-")
                    .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
                    .tempdir_in(parent)
                    .map_err(|e| Error::io("create a folder in", parent, e))?,
            )
        }
        false => None,
    };
    let into = building.as_ref().map_or(snapshot, |b| b.path());
    let mut added = 0;
    for file in wanted {
        let target = into.join(safe_relative(&file.path)?);
        if fs::symlink_metadata(&target).is_ok_and(|m| m.is_file() && m.len() == file.size) {
            continue;
        }
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        let _ = fs::remove_file(&target);
        link_or_copy(&cache.file_path(&file.sha256, file.executable)?, &target, file.executable)?;
        added += 1;
    }
    let mut files: BTreeMap<String, FileRecord> =
        previous.map(|r| r.files.into_iter().map(|f| (f.path.clone(), f)).collect()).unwrap_or_default();
    files.extend(wanted.iter().map(|f| (f.path.clone(), f.clone())));
    let record = record(files.into_values().collect());
    // Rewritten on every pull, even one that adds nothing: its time is the snapshot's last use.
    super::write_atomically(&into.join(pull::RECORD_FILE), &serde_json::to_vec(&record).expect("records serialise"))?;
    if let Some(building) = building {
        let path = building.keep();
        fs::rename(&path, snapshot).map_err(|e| Error::io("move into place", snapshot, e))?;
    }
    Ok((snapshot.to_path_buf(), Linked { wanted: wanted.len(), added }))
}

/// A hard link to the stored file; where the file system has none (or the cache spans two), a
/// copy (`copy_file_range`, which shares the blocks on file systems that can).
fn link_or_copy(stored: &Path, target: &Path, executable: bool) -> Result<()> {
    if fs::hard_link(stored, target).is_ok() {
        return Ok(());
    }
    fs::copy(stored, target).map_err(|e| Error::io("copy the cached file into", target, e))?;
    let mode = if executable { 0o555 } else { 0o444 };
    fs::set_permissions(target, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| Error::io("set the mode of", target, e))
}

/// A record's path, refused if it would leave the snapshot (the cache's records are ours, but
/// a folder on disk may have been edited).
pub(super) fn safe_relative(path: &str) -> Result<&Path> {
    let p = Path::new(path);
    if p.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(p)
    } else {
        Err(Error::malformed(format!("the cache records a file path {path:?} outside its folder"))
            .with_hint("run zoo-oci cache prune, or remove the cache folder"))
    }
}

/// The cache as a read-only source for `ZOO_OCI_OFFLINE=1`: tags from `refs/`, manifests and
/// configs from `blobs/`; layers are never read through it (a snapshot links them).
pub struct OfflineSource {
    cache: Cache,
    location: Location,
}

impl OfflineSource {
    /// The cache's view of `location`.
    pub fn new(cache: Cache, location: Location) -> Self {
        OfflineSource { cache, location }
    }

    fn not_cached(&self, what: &str) -> Error {
        Error::not_found(format!(
            "{what} of {} is not in the cache, and ZOO_OCI_OFFLINE is set",
            self.location.with_reference(None)
        ))
        .with_hint("unset ZOO_OCI_OFFLINE to reach the registry, or pull it once while online")
    }
}

#[async_trait]
impl Store for OfflineSource {
    fn name(&self) -> String {
        format!("{} (offline, from the cache)", self.location)
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        Ok(self.cache.read_blob(&descriptor.digest).is_some())
    }
}

#[async_trait]
impl Source for OfflineSource {
    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        match reference {
            Reference::Tag(tag) => self
                .cache
                .read_ref(&self.location, tag)
                .map(|r| Descriptor::new(&r.media_type, r.digest, r.size))
                .ok_or_else(|| self.not_cached(&format!("tag {tag}"))),
            Reference::Digest(digest) => {
                let bytes = self.cache.read_blob(digest).ok_or_else(|| self.not_cached(digest))?;
                let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v["mediaType"].as_str().map(String::from))
                    .unwrap_or_else(|| crate::artifact::media::OCI_MANIFEST.to_string());
                Ok(Descriptor::new(&media_type, digest.clone(), bytes.len() as u64))
            }
        }
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        self.cache.read_blob(&descriptor.digest).ok_or_else(|| self.not_cached(&descriptor.digest))
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        let bytes = self.cache.read_blob(&descriptor.digest).ok_or_else(|| self.not_cached(&descriptor.digest))?;
        Ok(Box::pin(std::io::Cursor::new(bytes)))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        let dir = self.cache.ref_path(&self.location, "x");
        let dir = dir.parent().expect("ref files have a parent");
        let mut tags: Vec<String> = fs::read_dir(dir)
            .map(|entries| {
                entries.flatten().filter_map(|e| e.file_name().to_str()?.strip_prefix('@').map(String::from)).collect()
            })
            .unwrap_or_default();
        tags.sort();
        Ok(tags)
    }
}
