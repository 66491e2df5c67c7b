//! Downloading a blob into a file of its own: a raw layer's file is the blob, so the file being
//! written is the download's resume state ([`Partial`]) and, once whole and verified, is moved
//! into place ([`crate::store::FileTaker`]) rather than copied: each byte is written once.
//!
//! A blob of [`PARALLEL_FROM`] bytes or more, from a source that answers byte ranges, comes down
//! in parts of [`PART_SIZE`], [`RANGES`] at a time, each written in place at its offset. Behind a
//! limit per connection (a CDN, an object store, nginx's `limit_rate`) that is several times the
//! rate of one connection, as containerd 2.1 does for one blob. The parts are hashed in order, on
//! a thread of their own, as soon as they join what was hashed before, reading back what was just
//! written (from the page cache): memory stays at one buffer per range in flight, whatever the
//! blob's size. Each finished part, and every MiB of each part in flight, is noted in a small
//! state file beside the partial file, so a run that was cut (killed, its registry gone)
//! continues each part where it stopped; a part cut mid-way is asked for again from there. A source that answers a range with the whole blob gets one stream instead.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use tokio::io::AsyncReadExt;
use tokio_util::io::SyncIoBridge;

use crate::artifact::manifest::Descriptor;
use crate::digest::{self, ChunkHasher};
use crate::error::{Error, Result};
use crate::resume::Partial;
use crate::store::{RangedFetch, Source};
use crate::stream::{Counting, Flow};

/// Blobs from this size on come down in parallel ranges where the source answers them.
pub const PARALLEL_FROM: u64 = 32 << 20;
/// The size of one ranged request.
pub const PART_SIZE: u64 = 8 << 20;
/// Ranged requests in flight at once for one blob.
pub const RANGES: usize = 4;
/// Times a part cut mid-way is asked for again, from where it stopped, within one attempt.
const PART_RETRIES: u32 = 3;

/// Downloads `node` from `src` into `partial` until the file holds the whole blob, verified
/// against its digest; `flow` counts the bytes as they arrive (progress, stall detection).
/// Bytes already in the partial file are kept: a whole one is only verified.
pub async fn into_file(src: &dyn Source, node: &Descriptor, partial: &Partial, flow: &Arc<Flow>) -> Result<()> {
    if node.size >= PARALLEL_FROM
        && let Some(ranged) = src.ranged()
    {
        match in_parts(ranged, node, partial, flow).await? {
            Parts::Done => return Ok(()),
            Parts::Refused => partial.discard(), // one stream, from byte 0
        }
    }
    in_one_stream(src, node, partial, flow).await
}

/// How a parallel download went.
enum Parts {
    /// The file holds the blob, verified.
    Done,
    /// The source answered a range with the whole blob: it sends no ranges.
    Refused,
}

/// One stream: what the partial file holds, then the rest from the source, appended.
async fn in_one_stream(src: &dyn Source, node: &Descriptor, partial: &Partial, flow: &Arc<Flow>) -> Result<()> {
    let mut have = partial.len();
    let rest = if have == node.size {
        None // whole already: a previous run ended before moving it into place
    } else {
        flow.awaiting_source.store(true, Ordering::Relaxed);
        let ranged = match (have > 0, src.ranged()) {
            (true, Some(r)) => r.fetch_blob_from(node, have).await?,
            _ => None,
        };
        let reader = match ranged {
            Some(reader) => reader,
            None => {
                partial.discard();
                have = 0;
                src.fetch_blob(node).await?
            }
        };
        flow.read.store(0, Ordering::Relaxed);
        flow.awaiting_source.store(false, Ordering::Relaxed);
        Some(Box::pin(Counting::new(reader, flow.clone())) as crate::store::BlobReader)
    };
    let path = partial.path().to_path_buf();
    let blob = node.clone();
    // An attempt given up (a stall, Ctrl-C) drops this future; its thread must then append no
    // more, or its late bytes would land after the next attempt's.
    let abandoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let _abandon_on_drop = AbandonOnDrop(abandoned.clone());
    tokio::task::spawn_blocking(move || {
        let mut hasher = ChunkHasher::for_size(blob.size);
        hash_range(&path, 0, have, &mut hasher)?;
        if let Some(rest) = rest {
            let mut out = OpenOptions::new().append(true).open(&path).map_err(|e| Error::io("open", &path, e))?;
            let mut input = SyncIoBridge::new(rest).take(blob.size - have + 1);
            loop {
                if abandoned.load(Ordering::SeqCst) {
                    return Err(Error::failed("the download was given up"));
                }
                let mut chunk = hasher.spare().unwrap_or_default();
                chunk.resize(1 << 20, 0);
                let n = read_full(&mut input, &mut chunk).map_err(|e| read_error(&blob, e))?;
                if n == 0 {
                    break;
                }
                chunk.truncate(n);
                out.write_all(&chunk).map_err(|e| Error::io("write", &path, e))?;
                hasher.update(chunk);
            }
        }
        let (sha256, size) = hasher.finish();
        digest::verify(&format!("blob {}", blob.digest), &blob.digest, blob.size, &sha256, size)
    })
    .await
    .map_err(|e| Error::failed("the download thread failed").with_cause(e))?
}

/// Sets its flag when dropped.
struct AbandonOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Fills `buf` as far as the reader goes; the count read (less only at the end).
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn read_error(blob: &Descriptor, e: std::io::Error) -> Error {
    Error::transport(crate::error::TransportFailure::Reset, format!("downloading blob {}: {e}", blob.digest))
}

/// Hashes bytes `start..end` of the file at `path` (what is already there, from the page cache).
fn hash_range(path: &Path, start: u64, end: u64, hasher: &mut ChunkHasher) -> Result<()> {
    if end <= start {
        return Ok(());
    }
    let file = File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut at = start;
    while at < end {
        let mut chunk = hasher.spare().unwrap_or_default();
        chunk.resize((end - at).min(1 << 20) as usize, 0);
        file.read_exact_at(&mut chunk, at).map_err(|e| Error::io("read", path, e))?;
        at += chunk.len() as u64;
        hasher.update(chunk);
    }
    Ok(())
}

/// The parts of a blob and which are done, kept in `PARTIAL.parts` beside the partial file.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
struct PartsState {
    size: u64,
    part_size: u64,
    done: BTreeSet<u64>,
    /// Of the parts begun and not done, how many of their first bytes are written: a run cut
    /// with four parts in flight keeps up to 32 MiB it would otherwise ask for again.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    begun: std::collections::BTreeMap<u64, u64>,
}

impl PartsState {
    fn path(partial: &Path) -> PathBuf {
        crate::resume::parts_state(partial)
    }

    /// The state of a download of `node` into `partial`: the one recorded, else the parts a
    /// one-stream prefix already holds whole.
    fn load(partial: &Partial, node: &Descriptor) -> PartsState {
        let fresh = |held: u64| PartsState {
            size: node.size,
            part_size: PART_SIZE,
            done: (0..node.size.div_ceil(PART_SIZE)).filter(|i| (i + 1) * PART_SIZE <= held).collect(),
            begun: Default::default(),
        };
        match std::fs::read(Self::path(partial.path())) {
            Ok(bytes) => match serde_json::from_slice::<PartsState>(&bytes) {
                Ok(state) if state.size == node.size && state.part_size == PART_SIZE => state,
                _ => fresh(0), // not ours to trust: every part again
            },
            // No state: the file is a prefix written in one stream (or nothing).
            Err(_) => fresh(partial.len()),
        }
    }

    fn save(&self, partial: &Path) {
        // A state that cannot be saved only costs the parts done so far if this run is cut.
        let _ = std::fs::write(Self::path(partial), serde_json::to_vec(self).expect("state serialises"));
    }

    fn range(&self, part: u64) -> (u64, u64) {
        (part * self.part_size, ((part + 1) * self.part_size).min(self.size))
    }
}

/// Downloads the parts the partial file lacks, [`RANGES`] at a time, each written at its
/// offset, hashed in order on a thread of its own.
async fn in_parts(ranged: &dyn RangedFetch, node: &Descriptor, partial: &Partial, flow: &Arc<Flow>) -> Result<Parts> {
    let path = partial.path().to_path_buf();
    let state = PartsState::load(partial, node);
    // The state first: a file at its full length without one would pass for a whole blob.
    state.save(&path);
    let file = OpenOptions::new().write(true).open(&path).map_err(|e| Error::io("open", &path, e))?;
    file.set_len(node.size).map_err(|e| Error::io("make room for", &path, e))?;
    let parts = node.size.div_ceil(PART_SIZE);

    // The hashing thread: takes part numbers as they finish, hashes every part that joins the
    // run hashed so far.
    let (finished, finished_rx) = std::sync::mpsc::channel::<u64>();
    let hash_path = path.clone();
    let size = node.size;
    let hashing = std::thread::spawn(move || -> Result<Option<(String, u64)>> {
        let mut hasher = ChunkHasher::for_size(size);
        let mut ready = BTreeSet::new();
        let mut next = 0;
        while next < parts {
            let Ok(part) = finished_rx.recv() else { return Ok(None) }; // abandoned
            ready.insert(part);
            while ready.remove(&next) {
                let (start, end) = ((next * PART_SIZE), ((next + 1) * PART_SIZE).min(size));
                hash_range(&hash_path, start, end, &mut hasher)?;
                next += 1;
            }
        }
        Ok(Some(hasher.finish()))
    });
    for part in &state.done {
        let _ = finished.send(*part);
    }
    let todo: Vec<(u64, (u64, u64))> = (0..parts)
        .filter(|p| !state.done.contains(p))
        .map(|p| {
            let (start, end) = state.range(p);
            let begun = state.begun.get(&p).copied().unwrap_or(0);
            (p, (start + begun.min(end - start), end))
        })
        .collect();
    let file = Arc::new(file);
    let shared = std::sync::Mutex::new(state);
    let noted = |part: u64, written_to: u64| {
        let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
        let start = state.range(part).0;
        state.begun.insert(part, written_to - start);
        state.save(&path);
    };
    let mut fetches = futures::stream::iter(todo.into_iter().map(|(part, (start, end))| {
        let (file, path, noted) = (file.clone(), path.clone(), &noted);
        async move {
            let note = |at: u64| noted(part, at);
            fetch_part(ranged, node, (&file, &path), start, end, flow, &note).await.map(|got| (part, got))
        }
    }))
    .buffer_unordered(RANGES);
    flow.awaiting_source.store(false, Ordering::Relaxed);
    let mut outcome = Ok(Parts::Done);
    while let Some(result) = fetches.next().await {
        match result {
            Ok((part, true)) => {
                let mut state = shared.lock().unwrap_or_else(|e| e.into_inner());
                state.begun.remove(&part);
                state.done.insert(part);
                state.save(&path);
                let _ = finished.send(part);
            }
            Ok((_, false)) => {
                outcome = Ok(Parts::Refused);
                break;
            }
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    drop(fetches);
    drop(finished);
    let hashed = tokio::task::spawn_blocking(move || hashing.join())
        .await
        .map_err(|e| Error::failed("the hashing thread failed").with_cause(e))?
        .map_err(|_| Error::failed("the hashing thread panicked"))??;
    if !matches!(outcome, Ok(Parts::Done)) {
        if matches!(outcome, Ok(Parts::Refused)) {
            let _ = std::fs::remove_file(PartsState::path(&path));
        }
        return outcome;
    }
    let (sha256, size) = hashed.expect("every part was hashed");
    if let Err(e) = digest::verify(&format!("blob {}", node.digest), &node.digest, node.size, &sha256, size) {
        let _ = std::fs::remove_file(PartsState::path(&path));
        return Err(e);
    }
    let _ = std::fs::remove_file(PartsState::path(&path));
    Ok(Parts::Done)
}

/// How often a part in flight notes how far it is written, for a run cut before it ends.
const NOTE_EVERY: u64 = 1 << 20;

/// Downloads bytes `start..end` into `file` at their offset; `false` when the source answered
/// with the whole blob instead. A part cut mid-way is asked for again from where it stopped;
/// `note` hears how far the part is written every [`NOTE_EVERY`] bytes.
async fn fetch_part(
    ranged: &dyn RangedFetch,
    node: &Descriptor,
    (file, path): (&File, &Path),
    start: u64,
    end: u64,
    flow: &Flow,
    note: &(dyn Fn(u64) + Sync),
) -> Result<bool> {
    let mut at = start;
    let mut noted = start;
    let mut cuts = 0;
    let mut buf = vec![0u8; 256 << 10];
    while at < end {
        let Some(mut reader) = ranged.fetch_blob_range(node, at, end).await? else { return Ok(false) };
        loop {
            let want = buf.len().min((end - at) as usize);
            match reader.read(&mut buf[..want]).await {
                Ok(0) => break,
                Ok(n) => {
                    // A write into the page cache: brief enough for the runtime's thread.
                    file.write_all_at(&buf[..n], at).map_err(|e| Error::io("write", path, e))?;
                    at += n as u64;
                    flow.read.fetch_add(n as u64, Ordering::Relaxed);
                    if at - noted >= NOTE_EVERY && at < end {
                        note(at);
                        noted = at;
                    }
                    if at == end {
                        break;
                    }
                }
                Err(_) if cuts < PART_RETRIES => {
                    cuts += 1;
                    break; // the connection broke: ask again from `at`
                }
                Err(e) => return Err(read_error(node, e)),
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_stream_prefix_counts_its_whole_parts_as_done() {
        let dir = tempfile::tempdir().unwrap();
        let node = Descriptor::new("application/octet-stream", format!("sha256:{}", "a".repeat(64)), 3 * PART_SIZE + 5);
        let partial = Partial::take(dir.path(), &node).unwrap();
        std::fs::write(partial.path(), vec![0u8; (PART_SIZE + PART_SIZE / 2) as usize]).unwrap();
        let state = PartsState::load(&partial, &node);
        assert_eq!(state.done.into_iter().collect::<Vec<_>>(), [0], "one whole part, half of the next");
        let mut recorded = PartsState::load(&partial, &node);
        recorded.done.insert(2);
        recorded.save(partial.path());
        assert_eq!(PartsState::load(&partial, &node), recorded, "a recorded state is taken as it is");
        assert_eq!(recorded.range(3), (3 * PART_SIZE, 3 * PART_SIZE + 5), "the last part is short");
    }
}
