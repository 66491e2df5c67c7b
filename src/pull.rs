//! Pull: select layers of a suite, copy them into a scratch folder beside the destination
//! (every byte verified), record what was pulled, and rename the folder into place. A failed
//! pull leaves the destination as it was; an identical pull is a no-op (DESIGN §3).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::artifact::archive::{Compression, Expected, FileRecord};
use crate::artifact::decode::{LayerView, Storage, SuiteView};
use crate::artifact::manifest::Descriptor;
use crate::artifact::media;
use crate::copy::{self, GraphOptions};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::reference::Reference;
use crate::store::Source;
use crate::store::dir::{FolderSink, Unpack};
use crate::suite::Class;

mod ownership;

/// The file written into every pulled folder.
pub const RECORD_FILE: &str = ".zoo-oci.json";

/// Default bound on how far a layer of another tool may expand, as a multiple of its size.
pub const DEFAULT_MAX_EXPANSION: u64 = 50;

/// What to pull.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// Classes to keep (empty: all).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub only: BTreeSet<Class>,
    /// Model variants to keep (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<String>,
    /// Model frameworks to keep (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frameworks: Vec<String>,
    /// File globs to keep (empty: all). A glob without `/` matches file names in any folder.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// File globs to leave out (the mirror of `include`; an excluded file is never written).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// The command that pulls `location` into a folder named after the suite (else after the
/// repository): shell-quoted and carrying the flags the location needs, so that what `inspect`
/// and the index print can be pasted as it is.
///
/// ```
/// use zoo_oci::pull::command_line;
/// assert_eq!(command_line("localhost:5000/zoo/tiny:1", Some("tiny"), true),
///     "zoo-oci pull --plain-http localhost:5000/zoo/tiny:1 -o tiny");
/// assert_eq!(command_line("oci:./my zoo:1", None, false), "zoo-oci pull 'oci:./my zoo:1' -o 'my zoo'");
/// ```
pub fn command_line(location: &str, name: Option<&str>, plain_http: bool) -> String {
    let base = location.rsplit_once('@').map_or(location, |(b, _)| b);
    let base = match base.rfind(':') {
        Some(i) if !base[i..].contains('/') => &base[..i],
        _ => base,
    };
    let fallback = base.rsplit(['/', ':']).next().unwrap_or("");
    let folder = crate::suite::safe_folder_name(name.filter(|n| !n.trim().is_empty()).unwrap_or(fallback));
    let mut words = vec!["zoo-oci", "pull"];
    if plain_http {
        words.push("--plain-http");
    }
    words.extend([location, "-o", &folder]);
    // No word here holds a NUL (locations and folder names are checked), so quoting succeeds.
    words
        .iter()
        .map(|w| shlex::try_quote(w).map_or_else(|_| w.to_string(), |q| q.into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Which files of the selected layers are written: those the include globs match (all, when
/// there are none) that no exclude glob matches.
#[derive(Debug, Clone, Default)]
pub struct FileFilter {
    include: Option<GlobSet>,
    exclude: Option<GlobSet>,
}

impl FileFilter {
    /// Compiles the selection's globs.
    pub fn of(selection: &Selection) -> Result<FileFilter> {
        Ok(FileFilter {
            include: compile_globs(&selection.include, "--include")?,
            exclude: compile_globs(&selection.exclude, "--exclude")?,
        })
    }

    /// Whether a file at `path` (relative to the suite) is written.
    pub fn keeps(&self, path: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(path))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(path))
    }

    fn is_everything(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }
}

/// How to pull into a folder.
#[derive(Debug, Clone)]
pub struct FolderOptions {
    /// What to keep.
    pub selection: Selection,
    /// Where to write; default `./NAME`.
    pub destination: Option<PathBuf>,
    /// Replace a non-empty folder that zoo-oci did not create.
    pub force: bool,
    /// Bound for layers without a file list, as a multiple of their compressed size.
    pub max_expansion: u64,
    /// How the layers come down.
    pub transfer: Transfer,
    /// How the source was named, for the record.
    pub source_name: String,
    /// Where layers are copied from rather than downloaded: the shared cache.
    pub cache: Option<Arc<dyn LayerSupply>>,
    /// Files written beside the suite's and recorded as the pull's (a re-pull replaces them):
    /// the verified signature, `model.sig`, of a `pull --verify-key`.
    pub extra_files: Vec<(String, Vec<u8>)>,
}

/// Where a folder pull may take layers from instead of downloading them. The shared cache
/// ([`crate::cache::Cache`]) is one; it is handed in by the caller, so that pulling does not
/// depend on the cache, which is built on pulling.
pub trait LayerSupply: Send + Sync + std::fmt::Debug {
    /// Whether it holds the layer `digest` whole.
    fn holds(&self, digest: &str) -> bool;
    /// Copies the files that `files` keeps of the layers `digests` into `into` (a pull's scratch
    /// folder), each checked against its sha256 as it lands; gives their records.
    fn copy_out(&self, digests: &[String], files: &FileFilter, into: &Path) -> Result<Vec<FileRecord>>;
}

/// How a pull's layers come down, into a folder or into the shared cache.
#[derive(Debug, Clone)]
pub struct Transfer {
    /// Blobs in flight.
    pub concurrency: usize,
    /// A layer download that moves no byte for this long is given up and tried again.
    pub idle_timeout: std::time::Duration,
    /// How long after its first failure a layer download is tried again.
    pub retry_for: Option<std::time::Duration>,
    /// Where partial downloads are kept for resuming ([`crate::resume`]).
    pub resume_dir: Option<PathBuf>,
}

/// Copies the layers of `root` that `wanted` keeps (by digest) into `sink`; the config and the
/// other layers stay behind. When the copy fails, the sink's extractions are stopped before
/// this returns, so that nothing writes into the folder the caller then deletes.
pub(crate) async fn copy_layers(
    source: &dyn Source,
    root: &copy::Root,
    sink: &FolderSink,
    wanted: &(dyn Fn(&str) -> bool + Sync),
    transfer: &Transfer,
    events: &(dyn Fn(&Event) + Sync),
) -> Result<copy::CopyReport> {
    let keep = |node: &Descriptor, children: Vec<Descriptor>| -> Vec<Descriptor> {
        if node.digest != root.descriptor.digest {
            return children;
        }
        children.into_iter().filter(|c| wanted(&c.digest)).collect()
    };
    let copy_options = GraphOptions {
        concurrency: transfer.concurrency,
        on_event: events,
        successors: Some(&keep),
        idle_timeout: transfer.idle_timeout,
        retry_for: transfer.retry_for,
        resume_dir: transfer.resume_dir.clone(),
        ..GraphOptions::default()
    };
    match copy::copy_graph(source, root, sink, None, &copy_options).await {
        Ok(report) => Ok(report),
        Err(e) => {
            sink.stop().await;
            Err(e)
        }
    }
}

/// What `.zoo-oci.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PullRecord {
    /// Format version.
    pub zoo_oci: u32,
    /// Where it came from, as typed.
    pub source: String,
    /// The mirror that served it (`HOST[:PORT]`), when one did: `source` stays the reference
    /// as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<String>,
    /// The manifest digest pulled.
    pub manifest: String,
    /// Suite name.
    #[serde(default)]
    pub name: Option<String>,
    /// Suite version.
    #[serde(default)]
    pub version: Option<String>,
    /// The selection.
    pub selection: Selection,
    /// Every file written.
    pub files: Vec<FileRecord>,
}

/// What a pull did.
#[derive(Debug, Clone, Serialize)]
pub struct PullOutcome {
    /// The folder.
    pub destination: PathBuf,
    /// The manifest pulled.
    #[serde(rename = "digest")]
    pub manifest: String,
    /// Nothing to do: the folder already held this.
    pub up_to_date: bool,
    /// Layers downloaded.
    pub layers: usize,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Files written.
    pub files: usize,
    /// Layers taken from the shared cache instead of downloaded.
    pub from_cache: usize,
    /// What reading the artifact found odd: layers of media types zoo-oci does not read (not
    /// pulled), a config that is not a ModelPack config.
    pub warnings: Vec<String>,
}

/// Pulls `reference` from `source` into a folder as `options` say: the graph copy of the
/// selected layers into a [`FolderSink`] over a scratch folder, then the swap into place.
pub async fn into_folder(
    source: &dyn Source,
    reference: &Reference,
    options: &FolderOptions,
    events: &(dyn Fn(&Event) + Sync),
) -> Result<PullOutcome> {
    let root = copy::resolve(source, reference, crate::retry::DEFAULT_RETRIES).await?;
    let (root, selection) = pick_from_index(source, root, &options.selection).await?;
    let view = crate::store::suite_view(source, &root.descriptor, &root.bytes).await?;
    let files = FileFilter::of(&selection)?;
    let chosen = select(&view, &selection, &files)?;

    let name = view.name().unwrap_or("suite").to_string();
    let destination = match &options.destination {
        Some(d) => d.clone(),
        None => PathBuf::from(crate::suite::safe_folder_name(&name)),
    };
    let state = destination_state(&destination)?;
    // Hashing the files changed since the last pull reads them: off the async runtime.
    let (state, survey) = blocking({
        let destination = destination.clone();
        move || {
            let survey = match &state {
                DestinationState::Pulled(record) => ownership::survey(&destination, record)?,
                _ => ownership::Survey::default(),
            };
            Ok((state, survey))
        }
    })
    .await?;
    if let DestinationState::Pulled(record) = &state
        && record.manifest == root.descriptor.digest
        && record.selection == options.selection
        && survey.changed.is_empty()
        && survey.missing == 0
    {
        return Ok(PullOutcome {
            destination,
            manifest: root.descriptor.digest.clone(),
            up_to_date: true,
            layers: 0,
            bytes: 0,
            files: record.files.len(),
            from_cache: 0,
            warnings: view.warnings.clone(),
        });
    }
    if !survey.changed.is_empty() && !options.force {
        return Err(ownership::changed_error(&destination, &survey.changed));
    }
    if let DestinationState::Foreign = state
        && !options.force
    {
        return Err(Error::failed(format!("{} is not empty and was not written by zoo-oci", destination.display()))
            .with_hint(
                "choose another folder with -o, or pass --force to write the suite's files into it \
                 (the files there are kept, except those at a path of the suite, which are replaced)",
            ));
    }

    let parent = parent_of(&destination);
    let created = create_parents(&parent)?;
    let staging = Staging::for_destination(&destination, &state);
    // Both places a killed pull may have staged in: beside the destination, and inside it.
    // Removing a killed pull's scratch folder may take a while: off the async runtime.
    blocking({
        let destination = destination.clone();
        move || {
            for place in [Staging::Beside, Staging::Inside] {
                sweep_leftovers(&place.scratch_parent(&destination), &place.prefixes(&destination));
            }
            Ok(())
        }
    })
    .await?;
    let result = pull_into_scratch(source, &root, &view, &chosen, files, options, &destination, &staging, events).await;
    let result = match result {
        Err(e) => Err(e),
        // syncfs and the swap (moving the user's files too) block: off the async runtime.
        Ok((scratch, alive, record)) => {
            let (destination, force) = (destination.clone(), options.force);
            blocking(move || {
                let _alive = alive;
                settle(scratch.path())?;
                match staging {
                    Staging::Beside => swap_into_place(scratch, &destination, &state, &survey, force).map(|()| record),
                    Staging::Inside => swap_inside(scratch, &destination, &survey, force).map(|()| record),
                }
            })
            .await
        }
    };
    match result {
        Ok((record, layers, bytes, from_cache)) => Ok(PullOutcome {
            destination,
            manifest: root.descriptor.digest.clone(),
            up_to_date: false,
            layers,
            bytes,
            files: record.files.len(),
            from_cache,
            warnings: view.warnings.clone(),
        }),
        Err(e) => {
            remove_created(&created);
            Err(e)
        }
    }
}

/// Runs file-system work that may block (a `syncfs`, hashing, removing a tree) on tokio's
/// blocking threads, so that the runtime's threads keep moving the transfers.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| Error::failed("a file-system task failed").with_cause(e))?
}

/// An image index of model variants (KitOps groups quantisations so; a multi-platform model):
/// `--variant NAME` (or a platform, `linux/amd64`) picks the child to pull, which is then pulled
/// as the suite it is, every variant of it; without one, the error says which children exist.
/// A manifest is passed through with the selection as given.
pub(crate) async fn pick_from_index(
    source: &dyn Source,
    root: copy::Root,
    selection: &Selection,
) -> Result<(copy::Root, Selection)> {
    let Some(children) = crate::artifact::manifest::index_children(&root.descriptor, &root.bytes)? else {
        return Ok((root, selection.clone()));
    };
    let names: Vec<&str> = children.iter().map(|c| c.name.as_str()).collect();
    let wanted = selection.variants.iter().find_map(|v| {
        children.iter().find(|c| &c.name == v || c.platform.as_deref() == Some(v.as_str())).map(|c| (v, c))
    });
    let Some((asked, child)) = wanted else {
        let what = match selection.variants.as_slice() {
            [] => "pick one with --variant NAME".to_string(),
            asked => format!("none is named {}", asked.join(" or ")),
        };
        return Err(Error::usage(format!(
            "{} is an image index of {}: {}; {what}",
            root.descriptor.digest,
            crate::format::count(children.len(), "model variant", "model variants"),
            names.join(", ")
        ))
        .with_hint(format!("e.g. zoo-oci pull … --variant {}", names.first().copied().unwrap_or("NAME"))));
    };
    let bytes = crate::retry::run(
        crate::retry::Policy::Retries(crate::retry::DEFAULT_RETRIES),
        |_, _| {},
        |_| source.fetch_manifest(&child.descriptor),
    )
    .await?;
    let mut rest = selection.clone();
    rest.variants.retain(|v| v != asked);
    Ok((copy::Root { descriptor: child.descriptor.clone(), bytes }, rest))
}

/// The filled scratch folder, the lock that keeps it from a sweep until it is swapped in, and
/// what was pulled.
type Scratch = (tempfile::TempDir, fs::File, (PullRecord, usize, u64, usize));

#[allow(clippy::too_many_arguments)]
async fn pull_into_scratch(
    source: &dyn Source,
    root: &copy::Root,
    view: &SuiteView,
    chosen: &[&LayerView],
    files: FileFilter,
    options: &FolderOptions,
    destination: &Path,
    staging: &Staging,
    events: &(dyn Fn(&Event) + Sync),
) -> Result<Scratch> {
    let parent = staging.scratch_parent(destination);
    // The scratch folder becomes the destination (or its entries do): 0755 less the umask, not
    // tempfile's 0700. Making it is the check that the destination is writable.
    let scratch = tempfile::Builder::new()
        .prefix(&staging.prefixes(destination)[0])
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .tempdir_in(&parent)
        .map_err(|e| {
            Error::io("create a scratch folder in", &parent, e)
                .context(format!("cannot write the pull into {}", destination.display()))
        })?;
    // Held while this pull runs: a later run sweeps only scratch folders nobody holds.
    let alive = hold(scratch.path())?;
    check_free_space(scratch.path(), destination, chosen)?;
    // Layers the shared cache holds are copied from it, not downloaded.
    let supply = options.cache.clone();
    let cached: BTreeSet<String> = match &supply {
        Some(supply) => chosen.iter().map(|l| l.descriptor.digest.clone()).filter(|d| supply.holds(d)).collect(),
        None => BTreeSet::new(),
    };
    let mut unpacks = BTreeMap::new();
    for layer in chosen.iter().filter(|l| !cached.contains(&l.descriptor.digest)) {
        unpacks.insert(layer.descriptor.digest.clone(), unpack_of(layer, options.max_expansion));
    }
    let from_cache = match (&supply, cached.is_empty()) {
        (Some(supply), false) => {
            let (supply, digests, files, into) = (
                supply.clone(),
                cached.iter().cloned().collect::<Vec<_>>(),
                files.clone(),
                scratch.path().to_path_buf(),
            );
            tokio::task::spawn_blocking(move || supply.copy_out(&digests, &files, &into))
                .await
                .map_err(|e| Error::failed("the cache's copying thread failed").with_cause(e))??
        }
        _ => Vec::new(),
    };
    let filter: crate::store::dir::Filter = Arc::new(move |path: &str| files.keeps(path));
    let sink = FolderSink::new(scratch.path().to_path_buf(), destination.display().to_string(), unpacks, filter);
    let wanted = |digest: &str| chosen.iter().any(|l| l.descriptor.digest == digest) && !cached.contains(digest);
    let report = copy_layers(source, root, &sink, &wanted, &options.transfer, events).await?;
    let record = PullRecord {
        zoo_oci: 1,
        source: options.source_name.clone(),
        mirror: source.served_by(),
        manifest: view.manifest_descriptor.digest.clone(),
        name: view.name().map(String::from),
        version: view.version().map(String::from),
        selection: options.selection.clone(),
        files: {
            let mut files = sink.written();
            files.extend(from_cache);
            for (path, bytes) in &options.extra_files {
                let at = scratch.path().join(path);
                fs::write(&at, bytes).map_err(|e| Error::io("write", &at, e))?;
                let sha256 = crate::digest::of_bytes(bytes);
                files.push(FileRecord { path: path.clone(), size: bytes.len() as u64, sha256, executable: false });
            }
            files.sort_by(|a, b| a.path.cmp(&b.path));
            files
        },
    };
    let path = scratch.path().join(RECORD_FILE);
    // Compact: the record of a 100,000-file dataset is 7 MB pretty-printed, 4.6 MB not.
    let json = serde_json::to_vec(&record).expect("records serialise");
    fs::write(&path, json).map_err(|e| Error::io("write", &path, e))?;
    Ok((scratch, alive, (record, report.copied as usize, report.copied_bytes, cached.len())))
}

pub(crate) fn unpack_of(layer: &LayerView, max_expansion: u64) -> Unpack {
    let expected = match (&layer.files, layer.unpacked_size, layer.file_count) {
        (Some(files), _, _) => Expected::Files(files.iter().map(|f| (f.path.clone(), f.clone())).collect()),
        (None, Some(size), Some(count)) => Expected::Bound(size + count * 1536 + (1 << 20)),
        _ => match layer.storage {
            Storage::Tar(Compression::None) | Storage::Raw => Expected::Bound(layer.descriptor.size),
            Storage::Tar(Compression::Zstd | Compression::Gzip) => {
                Expected::Bound(layer.descriptor.size.saturating_mul(max_expansion).max(1 << 20))
            }
        },
    };
    let raw_file = match layer.storage {
        Storage::Raw => layer.filepath.clone().map(|p| (p, raw_executable(&layer.descriptor))),
        Storage::Tar(_) => None,
    };
    Unpack { storage: layer.storage, expected, raw_file }
}

fn raw_executable(descriptor: &Descriptor) -> bool {
    #[derive(Deserialize)]
    struct Mode {
        mode: u32,
    }
    descriptor
        .annotation(media::ANN_FILE_METADATA)
        .or_else(|| descriptor.annotation(media::LEGACY_ANN_FILE_METADATA))
        .and_then(|m| serde_json::from_str::<Mode>(m).ok())
        .is_some_and(|m| m.mode & 0o111 != 0)
}

fn compile_globs(globs: &[String], flag: &str) -> Result<Option<GlobSet>> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        // A glob without '/' matches a file name in any folder, as in .gitignore.
        let pattern = if g.contains('/') { g.trim_start_matches("./").to_string() } else { format!("**/{g}") };
        let glob = globset::GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| Error::usage(format!("invalid {flag} glob {g:?}: {e}")))?;
        builder.add(glob);
        if !g.contains('/') {
            builder.add(Glob::new(g).map_err(|e| Error::usage(format!("invalid {flag} glob {g:?}: {e}")))?);
        }
    }
    builder.build().map(Some).map_err(|e| Error::usage(format!("invalid {flag} globs: {e}")))
}

/// The layers a selection keeps, or a not-found error that lists what there is.
pub fn select<'v>(view: &'v SuiteView, selection: &Selection, files: &FileFilter) -> Result<Vec<&'v LayerView>> {
    let models: Vec<&LayerView> = view.layers.iter().filter(|l| l.class == Class::Model).collect();
    for wanted in &selection.variants {
        if !models.iter().any(|l| l.name.as_deref() == Some(wanted)) {
            return Err(nothing_matches(view, &format!("no model variant {wanted:?}")));
        }
    }
    for wanted in &selection.frameworks {
        if !models.iter().any(|l| l.framework.as_deref() == Some(wanted)) {
            return Err(nothing_matches(view, &format!("no model in framework {wanted:?}")));
        }
    }
    let chosen: Vec<&LayerView> = view
        .layers
        .iter()
        .filter(|l| selection.only.is_empty() || selection.only.contains(&l.class))
        .filter(|l| {
            l.class != Class::Model
                || ((selection.variants.is_empty() || l.name.as_ref().is_some_and(|n| selection.variants.contains(n)))
                    && (selection.frameworks.is_empty()
                        || l.framework.as_ref().is_some_and(|f| selection.frameworks.contains(f))))
        })
        .filter(|l| {
            files.is_everything()
                || match (&l.files, l.storage) {
                    (_, Storage::Raw) => l.filepath.as_deref().is_some_and(|p| files.keeps(p)),
                    (Some(listed), _) => listed.iter().any(|f| files.keeps(&f.path)),
                    (None, _) => true, // no file list: the layer must be read to know
                }
        })
        .collect();
    if chosen.is_empty() {
        return Err(nothing_matches(view, "the selection matches nothing"));
    }
    Ok(chosen)
}

fn nothing_matches(view: &SuiteView, what: &str) -> Error {
    let classes: BTreeSet<&str> = view.layers.iter().map(|l| l.class.as_str()).collect();
    // A variant of several layers (each weight file its own) is named once.
    let mut variants: Vec<String> = Vec::new();
    for l in view.layers.iter().filter(|l| l.class == Class::Model) {
        let named =
            format!("{} ({})", l.name.as_deref().unwrap_or("?"), l.framework.as_deref().unwrap_or("unknown framework"));
        if !variants.contains(&named) {
            variants.push(named);
        }
    }
    Error::not_found(what.to_string()).with_hint(format!(
        "this suite has classes {}; model variants {}",
        classes.into_iter().collect::<Vec<_>>().join(", "),
        if variants.is_empty() { "none".into() } else { variants.join(", ") }
    ))
}

enum DestinationState {
    Missing,
    Empty,
    Pulled(Box<PullRecord>),
    Foreign,
}

fn destination_state(destination: &Path) -> Result<DestinationState> {
    let meta = match fs::symlink_metadata(destination) {
        Err(_) => return Ok(DestinationState::Missing),
        Ok(m) => m,
    };
    if !meta.is_dir() {
        return Err(Error::failed(format!("{} exists and is not a folder", destination.display()))
            .with_hint("choose another destination with -o"));
    }
    let entries = fs::read_dir(destination).map_err(|e| Error::io("read", destination, e))?;
    // A killed pull's hidden scratch folders are not content: they are swept.
    let mut content = entries.flatten().filter(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        !(name.starts_with(INSIDE_PARTIAL) || name.starts_with(INSIDE_OLD))
    });
    if content.next().is_none() {
        return Ok(DestinationState::Empty);
    }
    Ok(match read_record(destination) {
        Some(r) => DestinationState::Pulled(Box::new(r)),
        None => DestinationState::Foreign,
    })
}

/// Reads the record of a pulled folder.
pub fn read_record(destination: &Path) -> Option<PullRecord> {
    fs::read(destination.join(RECORD_FILE)).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

fn parent_of(destination: &Path) -> PathBuf {
    match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Creates missing parent folders; returns the ones it created, deepest last.
fn create_parents(parent: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut p = parent.to_path_buf();
    while !p.as_os_str().is_empty() && !p.exists() {
        missing.push(p.clone());
        match p.parent() {
            Some(up) => p = up.to_path_buf(),
            None => break,
        }
    }
    missing.reverse();
    for dir in &missing {
        fs::create_dir(dir).map_err(|e| Error::io("create", dir, e))?;
    }
    Ok(missing)
}

fn remove_created(created: &[PathBuf]) {
    for dir in created.iter().rev() {
        let _ = fs::remove_dir(dir); // only removes it if still empty
    }
}

/// Makes what was extracted durable before the rename that publishes it: one `syncfs` of the
/// file system the scratch folder is on, not an `fsync` per file (100,000 of those would take
/// minutes on a disk). A crash before this leaves a scratch folder the next pull sweeps; after
/// it, the files the rename shows are on disk.
fn settle(scratch: &Path) -> Result<()> {
    let folder = fs::File::open(scratch).map_err(|e| Error::io("open", scratch, e))?;
    rustix::fs::syncfs(&folder).map_err(|e| Error::io("sync", scratch, e.into()))
}

fn swap_into_place(
    scratch: tempfile::TempDir,
    destination: &Path,
    state: &DestinationState,
    survey: &ownership::Survey,
    force: bool,
) -> Result<()> {
    let scratch_path = scratch.path().to_path_buf();
    match state {
        DestinationState::Missing => {}
        DestinationState::Empty => fs::remove_dir(destination).map_err(|e| Error::io("replace", destination, e))?,
        DestinationState::Pulled(_) | DestinationState::Foreign => {
            // The user's entries join the new pull first, so that one rename publishes both.
            let plan = ownership::plan(destination, &scratch_path, survey, force)?;
            let carried = ownership::carry_into(&plan, destination, &scratch_path)?;
            // Move the old content aside first, so that a failure can put it back.
            let old = match tempfile::Builder::new()
                .prefix(&format!("{}.old-", destination.file_name().unwrap_or_default().to_string_lossy()))
                .tempdir_in(parent_of(destination))
            {
                Ok(old) => old,
                Err(e) => {
                    carried.undo();
                    return Err(Error::io("create a scratch folder beside", destination, e));
                }
            };
            let old_path = old.path().join("content");
            if let Err(e) = fs::rename(destination, &old_path) {
                carried.undo();
                return Err(Error::io("move aside", destination, e));
            }
            if let Err(e) = fs::rename(&scratch_path, destination) {
                let _ = fs::rename(&old_path, destination);
                carried.undo();
                return Err(Error::io("move into place", destination, e));
            }
            let _ = scratch.keep();
            drop(old); // deletes what the pull left: its old files, and files --force replaced
            return Ok(());
        }
    }
    fs::rename(&scratch_path, destination).map_err(|e| Error::io("move into place", destination, e))?;
    let _ = scratch.keep();
    Ok(())
}

/// Where a pull stages what it downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Staging {
    /// In `DIR.partial-*` beside the destination, renamed into place at the end: atomic.
    Beside,
    /// In a hidden `DIR/.zoo-oci-partial-*`, its entries moved into place at the end: for a
    /// destination that cannot be renamed or replaced (a mount point such as a Kubernetes
    /// emptyDir or PVC, the current folder, a folder whose parent is not writable).
    Inside,
}

impl Staging {
    fn for_destination(destination: &Path, state: &DestinationState) -> Staging {
        if matches!(state, DestinationState::Missing) || renameable(destination) {
            Staging::Beside
        } else {
            Staging::Inside
        }
    }

    fn scratch_parent(self, destination: &Path) -> PathBuf {
        match self {
            Staging::Beside => parent_of(destination),
            Staging::Inside => destination.to_path_buf(),
        }
    }

    /// The name prefixes of this staging's scratch folders: the first is for new ones; all are
    /// swept when nobody holds them.
    fn prefixes(self, destination: &Path) -> [String; 2] {
        match self {
            Staging::Beside => {
                let base =
                    destination.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "suite".into());
                [format!("{base}.partial-"), format!("{base}.old-")]
            }
            Staging::Inside => [INSIDE_PARTIAL.to_string(), INSIDE_OLD.to_string()],
        }
    }
}

/// Hidden scratch folders of a pull staged inside its destination.
const INSIDE_PARTIAL: &str = ".zoo-oci-partial-";
const INSIDE_OLD: &str = ".zoo-oci-old-";

/// Whether an existing destination can be replaced by a rename: not a mount point, not the
/// current folder or `/`, and in a parent folder this process may write.
fn renameable(destination: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(canonical) = fs::canonicalize(destination) else { return false };
    let Some(parent) = canonical.parent() else { return false }; // `/`
    if std::env::current_dir().ok().and_then(|d| fs::canonicalize(d).ok()).as_deref() == Some(canonical.as_path()) {
        return false;
    }
    let (Ok(own), Ok(up)) = (fs::metadata(&canonical), fs::metadata(parent)) else { return false };
    own.dev() == up.dev() && rustix::fs::access(parent, rustix::fs::Access::WRITE_OK).is_ok()
}

/// Locks a scratch folder for as long as the pull runs (an advisory lock on the folder itself).
fn hold(scratch: &Path) -> Result<fs::File> {
    let dir = fs::File::open(scratch).map_err(|e| Error::io("open", scratch, e))?;
    // A folder just made is nobody else's: never waited for (this runs on the async runtime).
    dir.try_lock().map_err(|e| Error::io("lock", scratch, std::io::Error::from(e)))?;
    Ok(dir)
}

/// Removes scratch folders a killed pull left in `dir`: those with one of `prefixes` that no
/// live process holds. A folder a running pull holds is left alone.
fn sweep_leftovers(dir: &Path, prefixes: &[String]) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !prefixes.iter().any(|p| name.starts_with(p.as_str())) {
            continue;
        }
        let path = entry.path();
        let Ok(handle) = fs::File::open(&path) else { continue };
        if handle.try_lock().is_ok() {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Refuses, before the first byte, a pull whose selected layers cannot fit where they go.
pub(crate) fn check_free_space(scratch: &Path, destination: &Path, chosen: &[&LayerView]) -> Result<()> {
    let needed: u64 = chosen.iter().map(|l| l.unpacked_size.unwrap_or(l.descriptor.size)).sum();
    let stats = rustix::fs::statvfs(scratch).map_err(|e| Error::io("read the free space of", scratch, e.into()))?;
    let free = stats.f_bavail.saturating_mul(stats.f_frsize);
    if free < needed {
        let human = crate::format::human_bytes;
        return Err(Error::failed(format!(
            "{} has {} free, but the selected layers need {}",
            destination.display(),
            human(free),
            human(needed)
        ))
        .with_hint(
            "free some space, pull less (--only, --variant, --include, --exclude), or choose another folder with -o",
        ));
    }
    Ok(())
}

/// Moves the staged entries into a destination that stays where it is (see
/// [`ownership::merge_into`]): what the pull leaves goes to a hidden folder first, so that a
/// failure can put everything back as it was; the user's files stay where they are.
fn swap_inside(scratch: tempfile::TempDir, destination: &Path, survey: &ownership::Survey, force: bool) -> Result<()> {
    let plan = ownership::plan(destination, scratch.path(), survey, force)?;
    let old = tempfile::Builder::new()
        .prefix(INSIDE_OLD)
        .tempdir_in(destination)
        .map_err(|e| Error::io("create a scratch folder in", destination, e))?;
    ownership::merge_into(&plan, scratch.path(), destination, old.path())
}
