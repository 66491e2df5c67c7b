//! Layer archives: writing reproducible tars of suite files, and extracting layers safely.
//!
//! Writing sets every header field by hand (tar's `HeaderMode::Deterministic` still leaks
//! mtimes and `read_dir` order). Extraction is ours too, not `unpack_in`: each file must be
//! checked against the size and sha256 the manifest records while it is written, and anything
//! but regular files and folders is refused.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::manifest::Descriptor;
use crate::digest::{self, ChunkHashingReader, ChunkHashingWriter, HashingWriter};
use crate::error::{Error, IntegrityFailure, Result};
use crate::suite::{Entry, EntryKind};

/// zstd level: 3 is zstd's default, ~0.3-0.5 GB/s a core, and what registries' other tools use.
pub const ZSTD_LEVEL: i32 = 3;
/// Fixed worker count: zstd's output depends on it, and the same suite must give the same bytes
/// on every machine.
pub const ZSTD_WORKERS: u32 = 2;

/// Buffer size for streaming file contents: large enough that syscalls and runtime round trips
/// cost nothing next to hashing.
pub const COPY_BUFFER: usize = 1 << 20;

/// How a tar layer is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// zstd-compressed tar.
    Zstd,
    /// gzip-compressed tar: read only, as other tools write it (ModelPack's `tar+gzip`, KitOps).
    Gzip,
}

/// The size and digest of one file as packed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileRecord {
    /// Suite-relative path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// `sha256:<hex>`; empty for a file extracted from a layer whose files the manifest does
    /// not list (the layer's digest covers it).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sha256: String,
    /// Packed with mode 0755 (else 0644).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub executable: bool,
}

/// What writing a layer produced.
#[derive(Debug, Clone)]
pub struct Written {
    /// Digest of the uncompressed tar (the ModelPack `diffIds` entry).
    pub diff_id: String,
    /// Per-file records, when asked for.
    pub files: Vec<FileRecord>,
}

/// File mode for a packed entry.
pub fn mode_of(kind: EntryKind) -> u32 {
    match kind {
        EntryKind::Dir | EntryKind::File { executable: true, .. } => 0o755,
        EntryKind::File { executable: false, .. } => 0o644,
    }
}

/// Writes the reproducible tar of `entries` (read from under `root`) to `out`.
/// With `record_files`, also hashes each file, for the manifest's file list.
pub fn write_tar<W: Write>(
    root: &Path,
    entries: &[Entry],
    compression: Compression,
    out: W,
    record_files: bool,
) -> Result<(W, Written)> {
    match compression {
        Compression::None => {
            let (out, written) = write_plain(root, entries, HashingWriter::new(out), record_files)?;
            let (out, diff_id, _) = out.finish();
            Ok((out, Written { diff_id, ..written }))
        }
        Compression::Zstd => {
            let mut encoder = zstd::Encoder::new(out, ZSTD_LEVEL).map_err(zstd_error)?;
            encoder.multithread(ZSTD_WORKERS).map_err(zstd_error)?;
            encoder.include_checksum(false).map_err(zstd_error)?;
            let (tar_out, written) = write_plain(root, entries, HashingWriter::new(encoder), record_files)?;
            let (encoder, diff_id, _) = tar_out.finish();
            let out = encoder.finish().map_err(zstd_error)?;
            Ok((out, Written { diff_id, ..written }))
        }
        Compression::Gzip => {
            // No name, mtime 0 (flate2's header defaults): the same bytes on every machine.
            let encoder = flate2::GzBuilder::new().write(out, flate2::Compression::default());
            let (tar_out, written) = write_plain(root, entries, HashingWriter::new(encoder), record_files)?;
            let (encoder, diff_id, _) = tar_out.finish();
            let out = encoder.finish().map_err(|e| Error::failed("gzip compression failed").with_cause(e))?;
            Ok((out, Written { diff_id, ..written }))
        }
    }
}

fn zstd_error(e: io::Error) -> Error {
    Error::failed("zstd compression failed").with_cause(e)
}

fn write_plain<W: Write>(root: &Path, entries: &[Entry], out: W, record_files: bool) -> Result<(W, Written)> {
    let mut builder = tar::Builder::new(out);
    let mut files = Vec::new();
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mode(mode_of(entry.kind));
        let write_err =
            |e: io::Error| Error::failed(format!("could not write the tar entry {}", entry.path)).with_cause(e);
        match entry.kind {
            EntryKind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                builder.append_data(&mut header, &entry.path, io::empty()).map_err(write_err)?;
            }
            EntryKind::File { size, executable } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(size);
                let full = root.join(&entry.path);
                let file = File::open(&full).map_err(|e| Error::io("read", &full, e))?;
                if record_files {
                    let mut reader = ChunkHashingReader::new(file.take(size), size);
                    builder.append_data(&mut header, &entry.path, &mut reader).map_err(write_err)?;
                    let (sha256, read) = reader.finish();
                    if read != size {
                        return Err(changed_while_packing(&entry.path));
                    }
                    files.push(FileRecord { path: entry.path.clone(), size, sha256, executable });
                } else {
                    let mut reader = BufReader::with_capacity(COPY_BUFFER, file).take(size);
                    builder.append_data(&mut header, &entry.path, &mut reader).map_err(write_err)?;
                    if reader.limit() != 0 {
                        return Err(changed_while_packing(&entry.path));
                    }
                }
            }
        }
    }
    let out = builder.into_inner().map_err(|e| Error::failed("could not finish the tar").with_cause(e))?;
    Ok((out, Written { diff_id: String::new(), files }))
}

/// The error for a file whose size changed between reading the suite and packing it.
pub fn changed_while_packing(path: &str) -> Error {
    Error::failed(format!("{path} changed while it was being packed"))
        .with_hint("wait until nothing writes to the suite, then push again")
}

/// What a layer is expected to hold, to check while extracting.
#[derive(Debug, Clone)]
pub enum Expected {
    /// Exactly these files, with these sizes and digests (a zoo-oci layer with a file list).
    Files(BTreeMap<String, FileRecord>),
    /// Files totalling at most this many bytes (a large zoo-oci layer, or another tool's).
    Bound(u64),
}

/// What extraction wrote.
#[derive(Debug, Default)]
pub struct Extracted {
    /// Files written and verified, with their sizes and digests.
    pub files: Vec<FileRecord>,
    /// Every file created, finished or not: what to remove before trying a layer again.
    pub created: Vec<PathBuf>,
    /// Folders made (or found) so far: a file's folder is created once, not stat'ed again for
    /// each of the thousands of files a dataset folder holds.
    pub folders: std::collections::HashSet<PathBuf>,
    /// The folder the last file went into, open: its next files are created relative to it
    /// (`openat`), so the kernel resolves one name, not the whole path, for each.
    open_folder: Option<(PathBuf, std::os::fd::OwnedFd)>,
}

/// Extracts a tar layer read from `raw` (the blob bytes, possibly compressed) into `dest`,
/// keeping only files `include` accepts. Verifies the blob's digest over every byte of `raw`
/// and each file against `expected`. On error, what was written stays in `dest`: callers
/// extract into a scratch folder they delete on failure.
pub fn extract_tar<R: Read>(
    raw: R,
    blob: &Descriptor,
    compression: Compression,
    dest: &Path,
    expected: &Expected,
    include: &dyn Fn(&str) -> bool,
    extracted: &mut Extracted,
) -> Result<()> {
    let bound = match expected {
        Expected::Files(files) => files.values().map(|f| f.size + 1024).sum::<u64>() + 64 * 1024,
        Expected::Bound(b) => *b,
    };
    let blob_digest = blob.digest.as_str();
    each_entry(raw, blob, compression, bound, |entry| {
        extract_entry(entry, blob_digest, dest, expected, include, extracted)
    })?;
    if let Expected::Files(files) = expected {
        let got: std::collections::BTreeSet<&str> = extracted.files.iter().map(|f| f.path.as_str()).collect();
        if let Some(missing) = files.keys().find(|p| include(p) && !got.contains(p.as_str())) {
            return Err(Error::malformed(format!("layer {blob_digest} lacks {missing}, which the manifest lists")));
        }
    }
    Ok(())
}

/// Reads a tar layer from `raw` (the blob bytes, possibly compressed), giving each entry to
/// `on_entry`, its expansion bounded by `bound` bytes. Verifies the blob's size and digest over
/// every byte of `raw`: a corrupt blob is reported as such, not as the broken tar it may look like.
fn each_entry<R: Read>(
    raw: R,
    blob: &Descriptor,
    compression: Compression,
    bound: u64,
    mut on_entry: impl for<'a, 'b> FnMut(tar::Entry<'a, LimitedReader<Box<dyn Read + 'b>>>) -> Result<()>,
) -> Result<()> {
    let (blob_digest, blob_size) = (blob.digest.as_str(), blob.size);
    // A blob may not be longer than its descriptor says: read one byte more to notice. The
    // layer's digest is taken on a second thread for a big layer (ChunkHashingReader), while
    // this one unpacks and hashes each file: the two hashes of every byte run side by side.
    let mut hashed = ChunkHashingReader::new(raw.take(blob_size + 1), blob_size);
    let unpacked = (|| -> Result<()> {
        let plain: Box<dyn Read + '_> = match compression {
            Compression::None => Box::new(&mut hashed),
            Compression::Zstd => Box::new(
                zstd::Decoder::with_buffer(BufReader::new(&mut hashed))
                    .map_err(|e| Error::malformed(format!("layer {blob_digest} is not zstd")).with_cause(e))?,
            ),
            // A multi-member reader, as gzip(1) writes concatenated members.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(BufReader::new(&mut hashed))),
        };
        let limited = LimitedReader { inner: plain, left: bound, bound };
        let mut archive = tar::Archive::new(limited);
        let entries = archive.entries().map_err(|e| tar_error(blob_digest, e))?;
        for entry in entries {
            on_entry(entry.map_err(|e| tar_error(blob_digest, e))?)?;
        }
        Ok(())
    })();
    // Whatever follows the tar's end marker is still part of the blob and of its digest. And when
    // unpacking failed, the digest tells whether the blob was corrupt (the root cause to report)
    // or is genuine and hostile.
    let drained = io::copy(&mut hashed.by_ref(), &mut io::sink()).map_err(|e| read_error(blob_digest, e));
    let (actual, size) = hashed.finish();
    let verified =
        drained.and_then(|_| digest::verify(&format!("layer {blob_digest}"), blob_digest, blob_size, &actual, size));
    match (unpacked, verified) {
        (_, Err(corrupt)) => Err(corrupt),
        (Err(e), Ok(())) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// An entry's path, checked to stay inside, and whether it is a folder (else a regular file):
/// links, devices and the rest are refused as extraction refuses them.
fn checked_entry<R: Read>(entry: &tar::Entry<'_, R>, layer: &str) -> Result<(String, bool)> {
    let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let Some(path) = safe_relative_path(&raw_path) else {
        return Err(hostile(layer, format!("entry {raw_path:?} leaves the destination (absolute or ..)")));
    };
    let kind = entry.header().entry_type();
    if !kind.is_dir() && !kind.is_file() {
        return Err(hostile(layer, format!("entry {path:?} is a {kind:?}; only files and folders are allowed")));
    }
    Ok((path.to_string(), kind.is_dir()))
}

/// The files of a tar layer with their sizes and digests, read from `raw` without writing
/// anything: what signing needs of a layer whose manifest lists no file digests. The same
/// checks as extraction: paths stay inside, only files and folders, a path at most once.
pub fn file_digests<R: Read>(
    raw: R,
    blob: &Descriptor,
    compression: Compression,
    bound: u64,
) -> Result<Vec<FileRecord>> {
    let layer = blob.digest.as_str();
    let mut files: Vec<FileRecord> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    each_entry(raw, blob, compression, bound, |mut entry| {
        let (path, folder) = checked_entry(&entry, layer)?;
        if folder {
            return Ok(());
        }
        if !seen.insert(path.clone()) {
            return Err(hostile(layer, format!("entry {path:?} appears twice")));
        }
        let executable = entry.header().mode().map_err(|e| tar_error(layer, e))? & 0o111 != 0;
        let claimed = entry.header().size().map_err(|e| tar_error(layer, e))?;
        let mut out = HashingWriter::new(io::sink());
        let size = copy_large(&mut (&mut entry).take(claimed), &mut out, claimed).map_err(|e| tar_error(layer, e))?;
        if size != claimed {
            return Err(hostile(layer, format!("entry {path:?} is truncated")));
        }
        let (_, sha256, _) = out.finish();
        files.push(FileRecord { path, size, sha256, executable });
        Ok(())
    })?;
    Ok(files)
}

fn tar_error(layer: &str, e: io::Error) -> Error {
    if let Some(bound) = past_bound(&e) {
        return Error::integrity(
            IntegrityFailure::ExpansionBound,
            format!("layer {layer} expands past its bound of {bound} bytes"),
        )
        .with_hint("if the layer is genuine, raise the bound with --max-expansion");
    }
    Error::malformed(format!("layer {layer} is not a valid tar archive")).with_cause(e)
}

/// The error [`LimitedReader`] fails with, carried through `io::Error` by the tar and zstd
/// readers above it.
#[derive(Debug)]
struct PastBound(u64);

impl std::fmt::Display for PastBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the layer expands past its bound of {} bytes", self.0)
    }
}
impl std::error::Error for PastBound {}

fn past_bound(e: &io::Error) -> Option<u64> {
    e.get_ref().and_then(|inner| inner.downcast_ref::<PastBound>()).map(|b| b.0)
}

/// A failure to read the blob's stream: the source's fault (a reset connection), worth another try.
fn read_error(layer: &str, e: io::Error) -> Error {
    crate::stream::into_error(e, |e| Error::failed(format!("could not read layer {layer}")).with_cause(e).retryable())
}

/// A reader that fails once more than `left` bytes came through: the guard against
/// decompression bombs.
struct LimitedReader<R> {
    inner: R,
    left: u64,
    bound: u64,
}

impl<R: Read> Read for LimitedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::other(PastBound(self.bound)));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Checks an archive path: relative, no `..`, no empty or `.` parts inside. Returns it without
/// a leading `./` and trailing `/`.
pub fn safe_relative_path(raw: &str) -> Option<&str> {
    let path = raw.strip_prefix("./").unwrap_or(raw).trim_end_matches('/');
    if path.is_empty() || path.starts_with('/') || path.contains('\0') {
        return None;
    }
    path.split('/').all(|c| !c.is_empty() && c != "." && c != "..").then_some(path)
}

fn hostile(layer: &str, what: String) -> Error {
    Error::integrity(IntegrityFailure::HostileEntry, format!("layer {layer} is refused: {what}"))
        .with_hint("the artifact is corrupt or hostile; the pull was stopped and nothing of it was kept")
}

fn extract_entry<R: Read>(
    mut entry: tar::Entry<'_, R>,
    layer: &str,
    dest: &Path,
    expected: &Expected,
    include: &dyn Fn(&str) -> bool,
    extracted: &mut Extracted,
) -> Result<()> {
    let (path, folder) = checked_entry(&entry, layer)?;
    if folder {
        let full = dest.join(&path);
        if !extracted.folders.contains(&full) {
            fs::create_dir_all(&full).map_err(|e| Error::io("create", &full, e))?;
            extracted.folders.insert(full);
        }
        return Ok(());
    }
    let claimed = entry.header().size().map_err(|e| tar_error(layer, e))?;
    let record = match expected {
        Expected::Files(files) => {
            let Some(record) = files.get(&path) else {
                return Err(hostile(layer, format!("entry {path:?} is not in the manifest's file list")));
            };
            if claimed != record.size {
                return Err(hostile(
                    layer,
                    format!("entry {path:?} is {claimed} bytes; the manifest says {}", record.size),
                ));
            }
            Some(record)
        }
        Expected::Bound(_) => None,
    };
    if !include(&path) {
        return Ok(());
    }
    let executable = entry.header().mode().map(|m| m & 0o111 != 0).unwrap_or(false);
    let mode = if executable { 0o755 } else { 0o644 };
    let twice = || hostile(layer, format!("entry {path:?} appears twice"));
    let (file, full) = create_new_file(dest, &path, mode, extracted, twice)?;
    extracted.created.push(full.clone());
    let copy_error = |e: io::Error| {
        if past_bound(&e).is_some() {
            tar_error(layer, e)
        } else {
            Error::failed(format!("could not extract {path}")).with_cause(e)
        }
    };
    // A file the manifest lists is checked against its digest. One it does not list (a layer of
    // more than FILE_LIST_LIMIT files) is covered by the layer's digest alone: hashing each of
    // 100,000 small files as well would cost a fifth of the pull for a digest nobody checks.
    // Space is reserved for what the record lists, never for what a tar header claims: a
    // hostile header of 2 GiB, in a layer the record does not list, would fill the disk before
    // the expansion bound stopped it.
    let listed = record.map_or(0, |r| r.size);
    preallocate(&file, listed).map_err(|e| Error::io("make room for", &full, e))?;
    let (size, sha256) = if let Some(record) = record {
        let mut out = ChunkHashingWriter::new(file, claimed);
        copy_large(&mut (&mut entry).take(claimed), &mut out, claimed).map_err(copy_error)?;
        let (_, sha256, size) = out.finish().map_err(|e| Error::io("write", &full, e))?;
        if size == claimed && record.sha256 != sha256 {
            return Err(Error::integrity(
                IntegrityFailure::DigestMismatch,
                format!("{path}: digest mismatch: the manifest says {}, the layer holds {sha256}", record.sha256),
            ));
        }
        (size, sha256)
    } else {
        let mut out = file;
        let size = copy_large(&mut (&mut entry).take(claimed), &mut out, claimed).map_err(copy_error)?;
        (size, String::new())
    };
    if size != claimed {
        return Err(hostile(layer, format!("entry {path:?} is truncated")));
    }
    extracted.files.push(FileRecord { path, size, sha256, executable });
    Ok(())
}

/// Writes a raw layer's bytes to `dest/path`, checking the blob's size and digest.
pub fn extract_raw<R: Read>(
    raw: R,
    blob: &Descriptor,
    dest: &Path,
    path: &str,
    executable: bool,
    extracted: &mut Extracted,
) -> Result<()> {
    let (blob_digest, blob_size) = (blob.digest.as_str(), blob.size);
    let Some(rel) = safe_relative_path(path) else {
        return Err(hostile(blob_digest, format!("file path {path:?} leaves the destination")));
    };
    let mode = if executable { 0o755 } else { 0o644 };
    let (file, full) = create_new_file(dest, rel, mode, extracted, || {
        hostile(blob_digest, format!("file path {rel:?} is also written by another layer"))
    })?;
    extracted.created.push(full.clone());
    preallocate(&file, blob_size).map_err(|e| Error::io("make room for", &full, e))?;
    // A big file is hashed on a second thread while this one writes it (ChunkHashingWriter).
    let mut out = ChunkHashingWriter::new(file, blob_size);
    copy_large(&mut raw.take(blob_size + 1), &mut out, blob_size).map_err(|e| read_error(blob_digest, e))?;
    let (_, sha256, size) = out.finish().map_err(|e| Error::io("write", &full, e))?;
    digest::verify(&format!("layer {blob_digest}"), blob_digest, blob_size, &sha256, size)?;
    extracted.files.push(FileRecord { path: rel.to_string(), size, sha256, executable });
    Ok(())
}

/// Moves a raw layer's finished file, whose bytes were verified against the blob's digest, from
/// `from` to `dest/path`, where [`extract_raw`] would have written it: renamed when both are on
/// one file system (no byte written again), copied when not. Never replaces a file.
pub fn adopt_raw(
    from: &Path,
    blob: &Descriptor,
    dest: &Path,
    path: &str,
    executable: bool,
    extracted: &mut Extracted,
) -> Result<()> {
    use rustix::fs::{AtFlags, CWD, Mode, RenameFlags};
    let blob_digest = blob.digest.as_str();
    let Some(rel) = safe_relative_path(path) else {
        return Err(hostile(blob_digest, format!("file path {path:?} leaves the destination")));
    };
    let twice = || hostile(blob_digest, format!("file path {rel:?} is also written by another layer"));
    let mode = if executable { 0o755 } else { 0o644 };
    let (full, name) = open_parent(dest, rel, extracted)?;
    let (_, folder) = extracted.open_folder.as_ref().expect("opened by open_parent");
    match rustix::fs::renameat_with(CWD, from, folder, name.as_os_str(), RenameFlags::NOREPLACE) {
        Ok(()) => {
            extracted.created.push(full.clone());
            rustix::fs::chmodat(folder, name.as_os_str(), Mode::from_raw_mode(mode), AtFlags::empty())
                .map_err(|e| Error::io("set the mode of", &full, e.into()))?;
        }
        Err(e) if e == rustix::io::Errno::EXIST => return Err(twice()),
        // Another file system: the bytes are copied once more.
        Err(e) if e == rustix::io::Errno::XDEV => {
            let (mut file, full) = create_new_file(dest, rel, mode, extracted, twice)?;
            extracted.created.push(full.clone());
            let mut input = File::open(from).map_err(|e| Error::io("read", from, e))?;
            let copied = io::copy(&mut input, &mut file).map_err(|e| Error::io("write", &full, e))?;
            if copied != blob.size {
                return Err(Error::failed(format!("{} changed while it was moved into place", from.display())));
            }
        }
        Err(e) => return Err(Error::io("move into place", &full, e.into())),
    }
    extracted.files.push(FileRecord {
        path: rel.to_string(),
        size: blob.size,
        sha256: blob.digest.clone(),
        executable,
    });
    Ok(())
}

/// Creates the folders of `dest/rel` and opens the one it goes in (kept in `extracted`):
/// `(the full path, the file's name)`.
fn open_parent(dest: &Path, rel: &str, extracted: &mut Extracted) -> Result<(PathBuf, std::ffi::OsString)> {
    use rustix::fs::{Mode, OFlags};
    let full = dest.join(rel);
    let (Some(parent), Some(name)) = (full.parent(), full.file_name()) else {
        return Err(Error::failed(format!("{rel} names no file")));
    };
    if !extracted.folders.contains(parent) {
        fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        extracted.folders.insert(parent.to_path_buf());
    }
    if extracted.open_folder.as_ref().is_none_or(|(open, _)| open != parent) {
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let folder = rustix::fs::open(parent, flags, Mode::empty()).map_err(|e| Error::io("open", parent, e.into()))?;
        extracted.open_folder = Some((parent.to_path_buf(), folder));
    }
    let name = name.to_os_string();
    Ok((full, name))
}

/// Creates `dest/rel` (and its folders) with `mode`. Never overwrites: a second write of one
/// path is hostile (`twice` says how), not something to resolve by replacing.
fn create_new_file(
    dest: &Path,
    rel: &str,
    mode: u32,
    extracted: &mut Extracted,
    twice: impl FnOnce() -> Error,
) -> Result<(File, PathBuf)> {
    use rustix::fs::{Mode, OFlags};
    let (full, name) = open_parent(dest, rel, extracted)?;
    let (_, folder) = extracted.open_folder.as_ref().expect("opened by open_parent");
    // A name, not a path: nothing of it can climb out of the folder, and a link is not followed.
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    match rustix::fs::openat(folder, name.as_os_str(), flags, Mode::from_raw_mode(mode)) {
        Ok(fd) => Ok((File::from(fd), full)),
        Err(e) if e == rustix::io::Errno::EXIST => Err(twice()),
        Err(e) => Err(Error::io("write", &full, e.into())),
    }
}

/// Files at least this big get their space reserved before they are written.
const PREALLOCATE_FROM: u64 = 8 << 20;

/// Reserves a big file's space before it is written, where the file system can (`fallocate`): a
/// disk too small for a 10 GB model fails now, not after 9 GB of download, and the file's blocks
/// are allocated together rather than as it grows. The size stays 0 until written (`KEEP_SIZE`).
/// File systems that cannot reserve just write. `size` comes from the manifest (the suite
/// record's size of a file, a raw layer's descriptor), whose bytes are verified, never from the
/// archive being read.
fn preallocate(file: &File, size: u64) -> io::Result<()> {
    if size < PREALLOCATE_FROM {
        return Ok(());
    }
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::KEEP_SIZE, 0, size) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::NOSPC || e == rustix::io::Errno::FBIG => Err(e.into()),
        Err(_) => Ok(()),
    }
}

/// `io::copy` with a large buffer (its own is 8 KiB): one write and one hash update per MiB. The
/// buffer is no larger than the `expected` bytes need (one more, to see the end): zeroing 1 MiB
/// for each of 100,000 small files cost more than the rest of their extraction.
fn copy_large<R: Read + ?Sized, W: Write>(reader: &mut R, writer: &mut W, expected: u64) -> io::Result<u64> {
    let len = usize::try_from(expected).map_or(COPY_BUFFER, |n| n.saturating_add(1).clamp(512, COPY_BUFFER));
    let mut buf = vec![0u8; len];
    let mut total = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
    }
}

/// sha256 of a file on disk, streamed.
pub fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let mut file = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((digest::format(hasher), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_paths_stay_inside() {
        assert_eq!(safe_relative_path("./a/b.txt"), Some("a/b.txt"));
        assert_eq!(safe_relative_path("models/"), Some("models"));
        for bad in ["/etc/passwd", "../x", "a/../../x", "a//b", "", "./", "a/./b"] {
            assert_eq!(safe_relative_path(bad), None, "{bad}");
        }
    }
}
