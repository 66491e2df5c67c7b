//! Packing: a checked [`Suite`] becomes a ModelPack config, one layer per file class, and a
//! manifest whose bytes are the same for the same suite on every machine (DESIGN §2).
//!
//! Packing does not copy the suite anywhere: it streams each layer once to learn its digest,
//! and [`PackedSuite::write_layer`] streams it again, byte for byte the same, when a target asks
//! for it. Disk use stays nil and memory flat whatever the model size.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};

use serde::Serialize;

use super::archive::{self, Compression, FileRecord};
use super::known::Known;
use super::manifest::{Descriptor, Manifest};
use super::media;
use super::record::{LayerRecord, SuiteRecord};
use super::variant::Variant;
use crate::digest::HashingWriter;
use crate::error::{Error, Result};
use crate::stream::{Spool, Spooler};
use crate::suite::{Class, EntryKind, LayerContent, LayerPlan, Suite, safe_folder_name};

/// Options for packing.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// Plain tar everywhere (the default: every ModelPack reader extracts it), or zstd for code,
    /// datasets and docs.
    pub compression: Compression,
    /// `org.opencontainers.image.created`, RFC 3339; only when the user asks for it.
    pub created: Option<String>,
    /// Counts the layer bytes hashed so far, for progress while packing reads every file.
    pub hashed: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// Counts the file bytes of layers the digest cache knows, which are not read: with
    /// `hashed`, how far packing is.
    pub unread: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    /// Where layers packed before are remembered by their files' stats, so that an unchanged
    /// layer is not read again (`--no-cache`: none).
    pub cache: Option<super::known::DigestCache>,
    /// Where each layer read is also written while it is hashed (the push's destination), so
    /// that a push reads every file once; committed only once the whole manifest is built.
    pub spooler: Option<std::sync::Arc<dyn Spooler>>,
    /// Layers written into the spooler at once (a push's `--concurrency`, which bounds every
    /// transfer): a packing thread waits for one of them to finish before it opens another
    /// spool. Layers not spooled (known to the digest cache, or held there) are not counted.
    pub spools_at_once: usize,
    /// Hash every file, also in layers of more than [`media::FILE_LIST_LIMIT`] files whose
    /// manifest record lists none: a signature of the push lists them all.
    pub every_file_digest: bool,
    /// Set when the push is abandoned (Ctrl-C, SIGTERM): packing stops at its next write and
    /// drops its spools, which removes what they wrote.
    pub stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// ModelPack's names, or model-spec 0.0.5's for released Harbor (which then also gets the
    /// README and licence as one-file doc tars, the only doc layers Harbor 2.13 reads).
    pub names: media::Names,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            compression: Compression::None,
            created: None,
            hashed: None,
            unread: None,
            cache: None,
            spooler: None,
            spools_at_once: 3,
            every_file_digest: false,
            stop: Default::default(),
            names: media::Names::ModelPack,
        }
    }
}

/// One packed layer: its descriptor and how to produce its bytes again.
#[derive(Debug, Clone)]
pub struct PackedLayer {
    /// The manifest's descriptor of the layer.
    pub descriptor: Descriptor,
    /// Digest of the uncompressed content.
    pub diff_id: String,
    /// The plan it was packed from.
    pub plan: LayerPlan,
    /// How it is compressed.
    pub compression: Compression,
    /// Per-file sizes and digests.
    pub files: Vec<FileRecord>,
}

/// A suite packed into an artifact, ready to copy to any target.
#[derive(Debug, Clone)]
pub struct PackedSuite {
    /// The suite.
    pub suite: Suite,
    /// The manifest's descriptor.
    pub manifest: Descriptor,
    /// The manifest's exact bytes.
    pub manifest_bytes: Vec<u8>,
    /// The config's descriptor.
    pub config: Descriptor,
    /// The config's exact bytes.
    pub config_bytes: Vec<u8>,
    /// The layers, in manifest order.
    pub layers: Vec<PackedLayer>,
    /// The layers' digests that packing already wrote to [`PackOptions::spooler`]'s store.
    pub spooled: Vec<String>,
    /// The layers whose spooling failed, with why: they are to be copied the usual way.
    pub unspooled: Vec<(Descriptor, String)>,
}

impl PackedSuite {
    /// The layer with this digest.
    pub fn layer(&self, digest: &str) -> Option<&PackedLayer> {
        self.layers.iter().find(|l| l.descriptor.digest == digest)
    }

    /// Streams a layer's bytes to `out`, exactly as when it was packed.
    pub fn write_layer<W: Write>(&self, layer: &PackedLayer, out: W) -> Result<W> {
        let (out, _) = produce(&self.suite, &layer.plan, layer.compression, out, false)?;
        Ok(out)
    }
}

/// How a layer is compressed: `None` for one stored as the file it is.
fn compression_of(plan: &LayerPlan, chosen: Compression) -> Option<Compression> {
    if matches!(plan.content, LayerContent::Raw(_)) {
        return None;
    }
    match plan.class {
        Class::Model => Some(Compression::None), // weights don't compress
        // Raw, so registry UIs render them; a tar only for Harbor 2.13 (`Names::Legacy`).
        Class::Readme | Class::License => Some(Compression::None),
        Class::Scripts | Class::Notebooks | Class::Dataset | Class::Docs => Some(chosen),
    }
}

fn media_type_of(plan: &LayerPlan, compression: Option<Compression>) -> &'static str {
    let zstd = compression == Some(Compression::Zstd);
    let raw = matches!(plan.content, LayerContent::Raw(_));
    match plan.class {
        // One weights file is its own layer: the digest is the file's sha256, and CRI-O image
        // volumes, modctl and Harbor read the layer as the file it is.
        Class::Model if raw => media::WEIGHT_RAW,
        Class::Model if plan.weight_config => media::WEIGHT_CONFIG_TAR,
        Class::Model => media::WEIGHT_TAR,
        Class::Scripts | Class::Notebooks if zstd => media::CODE_TAR_ZSTD,
        Class::Scripts | Class::Notebooks => media::CODE_TAR,
        Class::Dataset if zstd => media::DATASET_TAR_ZSTD,
        Class::Dataset => media::DATASET_TAR,
        Class::Docs if zstd => media::DOC_TAR_ZSTD,
        Class::Docs => media::DOC_TAR,
        Class::Readme | Class::License if raw => media::DOC_RAW,
        Class::Readme | Class::License => media::DOC_TAR,
    }
}

/// Writes a layer's bytes; returns the diff_id and, with `record`, the file records.
fn produce<W: Write>(
    suite: &Suite,
    plan: &LayerPlan,
    compression: Compression,
    out: W,
    record: bool,
) -> Result<(W, archive::Written)> {
    match &plan.content {
        LayerContent::Tar(entries) => archive::write_tar(&suite.root, entries, compression, out, record),
        LayerContent::Raw(entry) => {
            let EntryKind::File { size, executable } = entry.kind else {
                unreachable!("raw layers hold one file, checked when planned")
            };
            let full = suite.root.join(&entry.path);
            let file = File::open(&full).map_err(|e| Error::io("read", &full, e))?;
            let mut hashing = HashingWriter::new(out);
            let copied = io::copy(&mut file.take(size), &mut hashing).map_err(|e| Error::io("read", &full, e))?;
            if copied != size {
                return Err(archive::changed_while_packing(&entry.path));
            }
            let (out, sha256, _) = hashing.finish();
            let files = if record {
                vec![FileRecord { path: entry.path.clone(), size, sha256: sha256.clone(), executable }]
            } else {
                vec![]
            };
            Ok((out, archive::Written { diff_id: sha256, files }))
        }
    }
}

/// Where the hashing pass writes: it counts the bytes, and gives them to the destination's
/// spool when there is one. After a spool's write fails it gets no more bytes and hashing goes
/// on; its commit then fails with the reason, publishing nothing, and the copy after packing
/// finds the blob missing and uploads it the usual way (with its retries and resumption).
struct Counted<'a> {
    counter: Option<&'a std::sync::atomic::AtomicU64>,
    /// Bytes of this layer so far.
    written: u64,
    spool: Option<Box<dyn Spool>>,
    spool_failed: bool,
    stop: &'a std::sync::atomic::AtomicBool,
}

impl Write for Counted<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            // Not `Interrupted`: `write_all` would take that as "try again", forever.
            return Err(io::Error::other("the push was stopped"));
        }
        if let Some(c) = self.counter {
            c.fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        }
        self.written += buf.len() as u64;
        if let Some(spool) = self.spool.as_mut().filter(|_| !self.spool_failed) {
            self.spool_failed = spool.write_all(buf).is_err();
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Packs a checked suite. Reads every file once (on as many threads as there are cores) to learn
/// the digests; writes nothing.
pub fn pack(suite: Suite, options: &PackOptions) -> Result<PackedSuite> {
    let suite = for_names(suite, options.names);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(suite.layers.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots = Slots::new(options.spools_at_once);
    type Packed = (usize, PackedLayer, Option<Box<dyn Spool>>);
    let results: Vec<Result<Packed>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(plan) = suite.layers.get(i) else { break };
                        done.push(pack_layer(&suite, plan, options, &slots).map(|(l, spool)| (i, l, spool)));
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("packing thread panicked")).collect()
    });
    let mut layers: Vec<Option<PackedLayer>> = vec![None; suite.layers.len()];
    let mut spools = Vec::new();
    for r in results {
        // An error drops every spool, which cancels them: nothing packed so far becomes visible.
        let (i, layer, spool) = r?;
        spools.extend(spool.map(|s| (layer.descriptor.clone(), s)));
        layers[i] = Some(layer);
    }
    let layers: Vec<PackedLayer> = layers.into_iter().map(|l| l.expect("every layer packed")).collect();
    let (config, config_bytes, manifest, manifest_bytes) = assemble(&suite, &layers, options)?;
    let mut packed = PackedSuite {
        suite,
        manifest,
        manifest_bytes,
        config,
        config_bytes,
        layers,
        spooled: Vec::new(),
        unspooled: Vec::new(),
    };
    // Only a manifest that can be pushed makes its spooled layers visible. Once a commit finds
    // the registry unreachable or silent (each waits up to the idle timeout), the others are not
    // tried: dropped, they publish nothing, and the copy after packing uploads them with its
    // retries and its one deadline, instead of every commit waiting out its own timeout in turn.
    let mut unreachable: Option<String> = None;
    for (descriptor, spool) in spools {
        if let Some(why) = &unreachable {
            packed.unspooled.push((descriptor, why.clone()));
            continue;
        }
        match spool.commit(&descriptor.digest, descriptor.size) {
            Ok(()) => packed.spooled.push(descriptor.digest),
            Err(e) => {
                let why = crate::error::one_line(&e);
                if matches!(e.kind(), crate::error::ErrorKind::Transport(_)) {
                    unreachable = Some("not committed: the registry did not answer another layer's commit".to_string());
                }
                packed.unspooled.push((descriptor, why));
            }
        }
    }
    Ok(packed)
}

/// The suite's layers as the names ask: under model-spec 0.0.5's names, the README and the
/// licence are one-file doc tars, which every released Harbor reads (2.13 reads no raw doc).
fn for_names(mut suite: Suite, names: media::Names) -> Suite {
    if names == media::Names::Legacy {
        for plan in suite.layers.iter_mut().filter(|p| matches!(p.class, Class::Readme | Class::License)) {
            plan.content = match std::mem::replace(&mut plan.content, LayerContent::Tar(Vec::new())) {
                LayerContent::Raw(entry) => LayerContent::Tar(crate::suite::with_parents(vec![entry])),
                tar => tar,
            };
        }
    }
    suite
}

/// Whether the manifest of this suite is surely small enough for registries, decided before any
/// layer is hashed: it is built with every digest zero and every layer size the largest number
/// (digests have a fixed length, and the files' sizes are known from the scan). `false` means
/// "maybe not": only the manifest of the real digests can tell, so nothing should be written
/// before it is built.
pub fn fits_before_hashing(suite: &Suite, options: &PackOptions) -> bool {
    let suite = &for_names(suite.clone(), options.names);
    let zero = format!("sha256:{}", "0".repeat(64));
    let layers: Vec<PackedLayer> = suite
        .layers
        .iter()
        .map(|plan| {
            let compression = compression_of(plan, options.compression);
            let listed = plan.content.files().count() <= media::FILE_LIST_LIMIT;
            let files = plan
                .content
                .files()
                .filter(|_| listed)
                .filter_map(|entry| match entry.kind {
                    EntryKind::File { size, executable } => {
                        Some(FileRecord { path: entry.path.clone(), size, sha256: zero.clone(), executable })
                    }
                    EntryKind::Dir => None,
                })
                .collect();
            let known = Known { digest: zero.clone(), size: u64::MAX, diff_id: zero.clone(), files };
            describe(plan, known, compression, options.names)
        })
        .collect();
    assemble(suite, &layers, options).is_ok()
}

/// The config and the manifest of packed layers: `(config, its bytes, manifest, its bytes)`.
fn assemble(
    suite: &Suite,
    layers: &[PackedLayer],
    options: &PackOptions,
) -> Result<(Descriptor, Vec<u8>, Descriptor, Vec<u8>)> {
    let config_bytes = config_json(suite, layers, options)?;
    let names = options.names;
    let config = Descriptor::for_bytes(&names.media_type(media::MODEL_CONFIG), &config_bytes);
    let annotations = manifest_annotations(suite, layers, options)?;
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: Some(names.media_type(media::MODEL_ARTIFACT)),
        config: config.clone(),
        layers: layers.iter().map(|l| l.descriptor.clone()).collect(),
        subject: None,
        annotations,
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifests serialise");
    check_manifest_size(&manifest, manifest_bytes.len())?;
    let manifest_desc = Descriptor {
        artifact_type: Some(names.media_type(media::MODEL_ARTIFACT)),
        ..Descriptor::for_bytes(media::OCI_MANIFEST, &manifest_bytes)
    };
    Ok((config, config_bytes, manifest_desc, manifest_bytes))
}

/// The spools being written at once, at most [`PackOptions::spools_at_once`]: a counter and a
/// condition variable, as the packing threads are plain threads.
struct Slots {
    free: std::sync::Mutex<usize>,
    freed: std::sync::Condvar,
}

/// A slot taken; given back when dropped.
struct Slot<'a>(&'a Slots);

impl Slots {
    fn new(count: usize) -> Slots {
        Slots { free: std::sync::Mutex::new(count.max(1)), freed: std::sync::Condvar::new() }
    }

    /// Waits for a free slot; `None` once the push is stopped.
    fn take<'a>(&'a self, stop: &std::sync::atomic::AtomicBool) -> Option<Slot<'a>> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return None;
            }
            if *free > 0 {
                *free -= 1;
                return Some(Slot(self));
            }
            // Woken by a slot given back, or now and then to look at `stop`.
            let wait = self.freed.wait_timeout(free, std::time::Duration::from_millis(100));
            free = wait.unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// Packs one layer: its digest from the cache, else from reading it (into the spool, when
/// there is a spooler and a slot for it), and its descriptor.
fn pack_layer(
    suite: &Suite,
    plan: &LayerPlan,
    options: &PackOptions,
    slots: &Slots,
) -> Result<(PackedLayer, Option<Box<dyn Spool>>)> {
    let compression = compression_of(plan, options.compression);
    let media_type = media_type_of(plan, compression);
    let cached = options.cache.as_ref().and_then(|cache| {
        let key = cache.key(&suite.root, plan, media_type, compression.is_some())?;
        Some((cache, key))
    });
    let listed = plan.content.files().count() <= media::FILE_LIST_LIMIT;
    // A signed push needs every file's digest: a large layer the digest cache knows (which
    // records none of its files' digests) is read again rather than taken from it.
    let cached_known = cached.as_ref().filter(|_| listed || !options.every_file_digest);
    if let Some(known) = cached_known.and_then(|(cache, key)| cache.get(key, plan)) {
        if let Some(unread) = &options.unread {
            let bytes = plan.content.files().map(|f| f.size()).sum::<u64>();
            unread.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
        }
        return Ok((describe(plan, known, compression, options.names), None));
    }
    // A layer the destination likely holds already (the same files, only their times or inodes
    // moved: a `touch`, a fresh checkout) is hashed, not sent: if the guess was right the copy
    // skips it, if not it uploads it. A spool that cannot be opened is no spool either.
    let likely = options.cache.as_ref().map(|cache| (cache, cache.likely_key(plan, media_type, compression.is_some())));
    let held = likely
        .as_ref()
        .and_then(|(cache, key)| cache.likely(key))
        .zip(options.spooler.as_ref())
        .is_some_and(|((digest, size), spooler)| spooler.holds(&digest, size));
    let (spool, slot) = match options.spooler.as_ref().filter(|_| !held) {
        Some(spooler) => {
            let slot = slots.take(&options.stop).ok_or_else(|| Error::failed("the push was stopped"))?;
            match spooler.spool() {
                Ok(spool) => (Some(spool), Some(slot)),
                Err(_) => (None, None),
            }
        }
        None => (None, None),
    };
    let counted =
        Counted { counter: options.hashed.as_deref(), written: 0, spool, spool_failed: false, stop: &options.stop };
    // Each file's digest is recorded only where the manifest lists the files (at most
    // FILE_LIST_LIMIT a layer): above that, hashing every small file once more would cost
    // about a third of packing, for a list nobody keeps. The layer's digest covers them. A
    // signature lists them all, so a signed push hashes them all, once, here.
    let record = listed || options.every_file_digest;
    let chosen = compression.unwrap_or(Compression::None);
    let (counted, digest, written) = if chosen == Compression::None {
        // Uncompressed, the layer is its content: its digest is the diff_id, hashed once.
        let (counted, written) = produce(suite, plan, chosen, counted, record)?;
        (counted, written.diff_id.clone(), written)
    } else {
        let (sink, written) = produce(suite, plan, chosen, HashingWriter::new(counted), record)?;
        let (counted, digest, _) = sink.finish();
        (counted, digest, written)
    };
    // The layer's body ends here, its upload answered, before the slot goes to another layer;
    // a spool that failed keeps its error for the commit, which reports it.
    let mut spool = counted.spool;
    if let Some(spool) = spool.as_mut() {
        let _ = spool.finish();
    }
    drop(slot);
    let known = Known { digest, size: counted.written, diff_id: written.diff_id, files: written.files };
    // The cache keeps what the manifest keeps: no file digests for a large layer.
    let remembered = match listed {
        true => std::borrow::Cow::Borrowed(&known),
        false => std::borrow::Cow::Owned(Known { files: Vec::new(), ..known.clone() }),
    };
    if let Some((cache, key)) = &cached {
        cache.put(key, &remembered);
    }
    if let Some((cache, key)) = &likely {
        cache.put(key, &remembered);
    }
    Ok((describe(plan, known, compression, options.names), spool))
}

/// A layer's descriptor, with the annotations readers go by.
fn describe(plan: &LayerPlan, known: Known, compression: Option<Compression>, names: media::Names) -> PackedLayer {
    let media_type = names.media_type(media_type_of(plan, compression));
    let mut descriptor = Descriptor::new(&media_type, known.digest, known.size);
    let a = &mut descriptor.annotations;
    a.insert(names.annotation(media::ANN_FILEPATH), plan.filepath.clone());
    a.insert(media::ANN_TITLE.into(), title_of(plan, compression));
    a.insert(media::ANN_CLASS.into(), plan.class.as_str().into());
    if let Some(model) = &plan.model {
        a.insert(media::ANN_VARIANT.into(), model.name.clone());
        a.insert(media::ANN_FRAMEWORK.into(), model.framework.clone());
        if let Some(v) = &model.framework_version {
            a.insert(media::ANN_FRAMEWORK_VERSION.into(), v.clone());
        }
        if let Some(p) = &model.precision {
            a.insert(media::ANN_PRECISION.into(), p.clone());
        }
    }
    if plan.class == Class::Dataset
        && let Some(name) = &plan.name
    {
        a.insert(media::ANN_DATASET.into(), name.clone());
    }
    if let LayerContent::Raw(entry) = &plan.content {
        a.insert(names.annotation(media::ANN_FILE_METADATA), file_metadata_json(&entry.path, entry.kind));
    }
    PackedLayer {
        descriptor,
        diff_id: known.diff_id,
        plan: plan.clone(),
        compression: compression.unwrap_or(Compression::None),
        files: known.files,
    }
}

/// `org.opencontainers.image.title`, which generic OCI clients (ORAS, CRI-O's artifact volumes)
/// take as the name of the file to write the layer's bytes to. A raw layer is its file, so its
/// title is the file's path. A tar layer is an archive: it is titled as one, by what it holds
/// (`scripts.tar`, `dataset-imagenet-sample.tar`, `model-bert-config.tar` for a variant's configs,
/// `.tar.zst` when compressed), never like a file or folder of the suite, so `oras pull` writes it
/// as a clearly named archive beside the real files of the raw layers. (ORAS's own folder
/// convention, `io.deis.oras.content.unpack`, needs gzip, which ModelPack readers such as modctl
/// do not decode; and ORAS's two SDKs disagree on where a titled folder's entries go.) The names
/// are unique within a manifest: one scripts, notebooks and docs layer, variant and dataset names
/// unique.
fn title_of(plan: &LayerPlan, compression: Option<Compression>) -> String {
    if matches!(plan.content, LayerContent::Raw(_)) {
        return plan.filepath.clone();
    }
    let what = match (&plan.name, plan.class) {
        (Some(name), Class::Model) if plan.weight_config => format!("model-{}-config", safe_folder_name(name)),
        (Some(name), Class::Model | Class::Dataset) => format!("{}-{}", plan.class, safe_folder_name(name)),
        _ => plan.class.as_str().to_string(),
    };
    match compression {
        Some(Compression::Zstd) => format!("{what}.tar.zst"),
        Some(Compression::Gzip) => format!("{what}.tar.gz"),
        _ => format!("{what}.tar"),
    }
}

/// ModelPack's file metadata annotation for a raw layer (model-spec `FileMetadata`).
fn file_metadata_json(path: &str, kind: EntryKind) -> String {
    #[derive(Serialize)]
    struct FileMetadata<'a> {
        name: &'a str,
        mode: u32,
        uid: u32,
        gid: u32,
        size: u64,
        mtime: &'a str,
        typeflag: u8,
    }
    let size = match kind {
        EntryKind::File { size, .. } => size,
        EntryKind::Dir => 0,
    };
    let meta = FileMetadata {
        name: path,
        mode: archive::mode_of(kind),
        uid: 0,
        gid: 0,
        size,
        mtime: "1970-01-01T00:00:00Z",
        typeflag: b'0',
    };
    serde_json::to_string(&meta).expect("metadata serialises")
}

/// The ModelPack config blob (closed schema: nothing else goes in).
fn config_json(suite: &Suite, layers: &[PackedLayer], options: &PackOptions) -> Result<Vec<u8>> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ModelDescriptor<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        created_at: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        authors: Vec<&'a str>,
        name: &'a str,
        #[serde(rename = "sourceURL", skip_serializing_if = "Option::is_none")]
        source_url: Option<&'a str>,
        #[serde(rename = "datasetsURL", skip_serializing_if = "Vec::is_empty")]
        datasets_url: Vec<&'a str>,
        version: &'a str,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        licenses: Vec<&'a str>,
        title: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ModelConfig<'a> {
        #[serde(skip_serializing_if = "Option::is_none")]
        format: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        param_size: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        precision: Option<&'a str>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct ModelFs<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        diff_ids: Vec<&'a str>,
    }
    #[derive(Serialize)]
    struct Config<'a> {
        descriptor: ModelDescriptor<'a>,
        config: ModelConfig<'a>,
        modelfs: ModelFs<'a>,
    }
    let d = &suite.spec;
    // The first model variant, declared ⊕ read from its files, as inspect and index show it.
    let first = suite.layers.iter().find(|l| l.class == Class::Model).map(|l| {
        let facts = l.name.as_deref().and_then(|name| suite.variant_facts(name));
        Variant::merge(String::new(), None, l.model.as_ref(), facts.as_ref(), 0)
    });
    let config = Config {
        descriptor: ModelDescriptor {
            created_at: options.created.as_deref(),
            authors: d.authors.iter().map(String::as_str).collect(),
            name: &d.name,
            source_url: d.source.as_deref(),
            datasets_url: d.datasets.iter().filter_map(|s| s.url.as_deref()).collect(),
            version: &d.version,
            licenses: d.license.iter().map(String::as_str).collect(),
            title: &d.name,
            description: d.summary.as_deref(),
        },
        config: ModelConfig {
            format: first.as_ref().and_then(|v| v.format.as_deref().or(v.framework.as_deref())),
            param_size: first.as_ref().and_then(|v| v.params).map(crate::format::param_size),
            precision: first.as_ref().and_then(|v| v.precision.as_deref()),
        },
        modelfs: ModelFs { kind: "layers", diff_ids: layers.iter().map(|l| l.diff_id.as_str()).collect() },
    };
    Ok(serde_json::to_vec(&config).expect("config serialises"))
}

fn manifest_annotations(
    suite: &Suite,
    layers: &[PackedLayer],
    options: &PackOptions,
) -> Result<BTreeMap<String, String>> {
    let d = &suite.spec;
    let mut a = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            a.insert(k.to_string(), v);
        }
    };
    put(media::ANN_TITLE, Some(d.name.clone()));
    put(media::ANN_DESCRIPTION, d.summary.clone());
    put(media::ANN_VERSION, Some(d.version.clone()));
    put(media::ANN_LICENSES, d.license.clone());
    put(media::ANN_AUTHORS, Some(d.authors.join(", ")));
    put(media::ANN_SOURCE, d.source.clone());
    put(media::ANN_URL, d.source.clone());
    put(media::ANN_DOCUMENTATION, d.references.iter().find_map(|r| r.url.clone()));
    put(media::ANN_CREATED, options.created.clone());
    put(media::ANN_TASK, d.task.clone());
    put(media::ANN_MODALITY, suite.modality.clone());
    let mut frameworks: Vec<&str> = d.models.iter().map(|m| m.framework.as_str()).collect();
    frameworks.sort();
    frameworks.dedup();
    put(media::ANN_FRAMEWORKS, Some(frameworks.join(",")));
    let mut tags = d.tags.clone();
    tags.sort();
    put(media::ANN_TAGS, Some(tags.join(",")));

    let record = SuiteRecord {
        zoo_oci: super::record::RECORD_VERSION,
        descriptor: serde_json::to_value(d).expect("descriptors serialise"),
        layers: layers.iter().map(layer_record).collect(),
    };
    put(media::ANN_SUITE, Some(serde_json::to_string(&record).expect("records serialise")));

    if let Some(readme) = layers.iter().find(|l| l.plan.class == Class::Readme) {
        let path = suite.root.join(&readme.plan.filepath);
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        let (cut, truncated) = cut_at_char_boundary(&text, media::README_ANNOTATION_LIMIT);
        put(media::ANN_README, Some(cut.to_string()));
        if truncated {
            put(media::ANN_README_TRUNCATED, Some("true".into()));
        }
    }
    Ok(a)
}

fn layer_record(layer: &PackedLayer) -> LayerRecord {
    let (file_count, size) = layer.plan.content.files().fold((0u64, 0u64), |(n, bytes), e| match e.kind {
        EntryKind::File { size, .. } => (n + 1, bytes + size),
        EntryKind::Dir => (n, bytes),
    });
    let files = (file_count as usize <= media::FILE_LIST_LIMIT).then(|| layer.files.clone());
    // Warnings are for the person packing, not for the manifest.
    let facts = layer
        .plan
        .facts
        .iter()
        .map(|(p, f)| (p.clone(), crate::suite::inspect::Facts { warnings: Vec::new(), ..f.clone() }))
        .collect();
    LayerRecord {
        digest: layer.descriptor.digest.clone(),
        class: layer.plan.class,
        name: layer.plan.name.clone(),
        files,
        file_count,
        size,
        facts,
    }
}

/// The longest prefix of `text` of at most `limit` bytes that ends on a character boundary.
pub fn cut_at_char_boundary(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

fn check_manifest_size(manifest: &Manifest, len: usize) -> Result<()> {
    if len <= media::MANIFEST_LIMIT {
        return Ok(());
    }
    let (key, value) =
        manifest.annotations.iter().max_by_key(|(_, v)| v.len()).expect("an oversized manifest has annotations");
    let fix = match key.as_str() {
        media::ANN_SUITE => "the suite lists too many files: gather small files in dataset folders (over 1,000 files a layer are counted, not listed)".to_string(),
        media::ANN_README => "shorten the README".to_string(),
        _ => format!("shorten {key}"),
    };
    Err(Error::failed(format!(
        "the manifest would be {len} bytes, over the {} bytes registries accept; its largest annotation is {key} ({} bytes)",
        media::MANIFEST_LIMIT,
        value.len()
    ))
    .with_hint(fix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readme_is_cut_on_a_char_boundary() {
        let text = "é".repeat(10); // 2 bytes each
        let (cut, truncated) = cut_at_char_boundary(&text, 5);
        assert!(truncated);
        assert_eq!(cut, "éé");
        assert_eq!(cut_at_char_boundary("abc", 5), ("abc", false));
    }
}
