//! Resumable downloads: the bytes of a blob being received are kept in a partial file named by
//! its digest, so that a download cut by a broken connection, a Ctrl-C or a killed pod continues
//! where it stopped (HTTP `Range`) instead of from byte 0. What the sink reads is the partial
//! file's bytes followed by the rest from the source; the sink verifies the whole digest at the
//! end, as it does for any blob, and a mismatch discards the partial file.
//!
//! A partial file is locked while a process appends to it: two pulls of one digest at once do not
//! interleave their bytes; the second streams from the source without keeping anything.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::artifact::manifest::Descriptor;
use crate::digest;
use crate::error::Result;
use crate::store::{BlobReader, Source};

/// A blob streamed into a sink that writes it elsewhere (a tar extracted into a folder) is also
/// kept in a partial file from this size on: below it, a cut download starts over, which costs
/// less than writing every byte twice (the small files of a test set, configs, scripts). A raw
/// layer's partial file is the file itself ([`crate::download`]), whatever its size.
pub const KEPT_BESIDE_FROM: u64 = 64 << 20;

/// A partial download this process holds: bytes received so far, appended to as more arrive.
pub struct Partial {
    path: PathBuf,
    /// Open for appending and locked while this process owns the download.
    file: File,
    /// The same file, written through tokio (its writes run on blocking threads, not on the
    /// runtime's); one reader at a time appends, and the next waits for its last write.
    appender: Arc<tokio::sync::Mutex<tokio::fs::File>>,
}

impl Partial {
    /// Takes the partial file of `descriptor` in `dir`, creating it if need be; `None` when it
    /// cannot be had (the folder is not writable, another process holds it).
    pub fn take(dir: &Path, descriptor: &Descriptor) -> Option<Partial> {
        let hex = digest::hex_part(&descriptor.digest).ok()?;
        fs::create_dir_all(dir).ok()?;
        let path = dir.join(hex);
        let file = OpenOptions::new().create(true).append(true).open(&path).ok()?;
        file.try_lock().ok()?;
        // More bytes than the blob has: not a prefix of it.
        if file.metadata().ok()?.len() > descriptor.size {
            file.set_len(0).ok()?;
        }
        let appender = Arc::new(tokio::sync::Mutex::new(tokio::fs::File::from_std(file.try_clone().ok()?)));
        Some(Partial { path, file, appender })
    }

    /// Bytes already received.
    pub fn len(&self) -> u64 {
        self.file.metadata().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether nothing was received yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the bytes are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forgets what was received: the digest did not match, or the source ignored the range.
    pub fn discard(&self) {
        let _ = self.file.set_len(0);
        let _ = fs::remove_file(parts_state(&self.path));
    }

    /// The blob is stored: the partial file is not needed any more. A partial file moved into
    /// place (a raw layer's) is gone already; a new one another process made at the same path
    /// since is not this one, and stays.
    pub fn finish(self) {
        use std::os::unix::fs::MetadataExt;
        let ours = self.file.metadata().map(|m| (m.dev(), m.ino())).ok();
        let there = fs::symlink_metadata(&self.path).map(|m| (m.dev(), m.ino())).ok();
        if there.is_some() && there == ours {
            let _ = fs::remove_file(&self.path);
        }
        let _ = fs::remove_file(parts_state(&self.path));
    }

    /// The blob's bytes: the prefix already here, then the rest from `src` (a ranged request
    /// when the source can make one), kept here as it arrives. A partial file that holds the
    /// whole blob (a run that stopped before the sink took it) is read alone, with no request:
    /// asking for the range past its end is answered 416. The sink verifies the digest as
    /// always, and a mismatch discards the file ([`crate::copy`] then starts from byte 0).
    pub async fn reader(&self, src: &dyn Source, descriptor: &Descriptor) -> Result<BlobReader> {
        // A reader dropped mid-way (a cancelled attempt) may have left a write in flight: it
        // lands before the length is read, and before anything else is appended.
        let mut appender = self.appender.clone().lock_owned().await;
        let _ = appender.flush().await;
        let have = self.len();
        if have == descriptor.size && have > 0 {
            let whole = tokio::fs::File::open(&self.path)
                .await
                .map_err(|e| crate::error::Error::io("read", &self.path, e))?
                .take(have);
            return Ok(Box::pin(whole));
        }
        if have > 0
            && let Some(ranged) = src.ranged()
            && let Some(rest) = ranged.fetch_blob_from(descriptor, have).await?
        {
            let prefix = tokio::fs::File::open(&self.path)
                .await
                .map_err(|e| crate::error::Error::io("read", &self.path, e))?
                .take(have);
            return Ok(Box::pin(prefix.chain(self.keeping(rest, appender)?)));
        }
        self.discard();
        self.keeping(src.fetch_blob(descriptor).await?, appender)
    }

    fn keeping(&self, inner: BlobReader, out: tokio::sync::OwnedMutexGuard<tokio::fs::File>) -> Result<BlobReader> {
        let truncate = self.file.try_clone().map_err(|e| crate::error::Error::io("open", &self.path, e))?;
        Ok(Box::pin(Keeping { inner, out, truncate, pending: Vec::new(), written: 0, broken: false }))
    }
}

/// The state file of a download in parts beside the partial file ([`crate::download`]).
pub(crate) fn parts_state(partial: &Path) -> PathBuf {
    let mut name = partial.as_os_str().to_owned();
    name.push(".parts");
    PathBuf::from(name)
}

/// Appends every byte read through it to the partial file: the bytes of one read are handed to
/// the file (written on a blocking thread) before the next read, and all of them are written
/// before the end or an error is passed on, so the file holds a prefix of the blob when the
/// sink verifies it or the next attempt reads its length.
struct Keeping {
    inner: BlobReader,
    out: tokio::sync::OwnedMutexGuard<tokio::fs::File>,
    /// The same file, to empty it when a write fails.
    truncate: File,
    /// Bytes read and not yet handed to `out`, from `written` on.
    pending: Vec<u8>,
    written: usize,
    /// A write failed: the file no longer holds a prefix, so nothing more is kept.
    broken: bool,
}

impl Keeping {
    /// Hands the pending bytes to the file, then waits for them to be written.
    fn poll_write_pending(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while !self.broken && self.written < self.pending.len() {
            match ready!(Pin::new(&mut *self.out).poll_write(cx, &self.pending[self.written..])) {
                Ok(n) if n > 0 => self.written += n,
                _ => self.break_off(),
            }
        }
        if !self.broken && ready!(Pin::new(&mut *self.out).poll_flush(cx)).is_err() {
            self.break_off();
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(())
    }

    /// The file is the resume state, not the data's only copy: a write that fails only loses
    /// the ability to resume.
    fn break_off(&mut self) {
        self.broken = true;
        let _ = self.truncate.set_len(0);
    }
}

impl AsyncRead for Keeping {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        ready!(self.poll_write_pending(cx));
        let before = buf.filled().len();
        let result = ready!(self.inner.as_mut().poll_read(cx, buf));
        let fresh = &buf.filled()[before..];
        if result.is_ok() && !fresh.is_empty() && !self.broken {
            let fresh = fresh.to_vec();
            self.pending = fresh;
            // Handed on now: the next read, or the end, waits for it to be written.
            let _ = self.as_mut().poll_write_pending(cx);
        }
        Poll::Ready(result)
    }
}
