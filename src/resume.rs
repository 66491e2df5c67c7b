//! Resumable downloads: the bytes of a blob being received are kept in a partial file named by
//! its digest, so that a download cut by a broken connection, a Ctrl-C or a killed pod continues
//! where it stopped (HTTP `Range`) instead of from byte 0. What the sink reads is the partial
//! file's bytes followed by the rest from the source; the sink verifies the whole digest at the
//! end, as it does for any blob, and a mismatch discards the partial file.
//!
//! A partial file is locked while a process appends to it: two pulls of one digest at once do not
//! interleave their bytes; the second streams from the source without keeping anything.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

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
        Some(Partial { path, file })
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
            return Ok(Box::pin(prefix.chain(self.keeping(rest)?)));
        }
        self.discard();
        self.keeping(src.fetch_blob(descriptor).await?)
    }

    fn keeping(&self, inner: BlobReader) -> Result<BlobReader> {
        let out = self.file.try_clone().map_err(|e| crate::error::Error::io("open", &self.path, e))?;
        Ok(Box::pin(Keeping { inner, out, broken: false }))
    }
}

/// The state file of a download in parts beside the partial file ([`crate::download`]).
pub(crate) fn parts_state(partial: &Path) -> PathBuf {
    let mut name = partial.as_os_str().to_owned();
    name.push(".parts");
    PathBuf::from(name)
}

/// Appends every byte read through it to the partial file.
struct Keeping {
    inner: BlobReader,
    out: File,
    /// A write failed: the file no longer holds a prefix, so nothing more is kept.
    broken: bool,
}

impl AsyncRead for Keeping {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = self.inner.as_mut().poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll
            && !self.broken
        {
            let fresh = buf.filled()[before..].to_vec();
            // A small write into the page cache; the file is the resume state, not the data's
            // only copy, so a write that fails only loses the ability to resume.
            if self.out.write_all(&fresh).is_err() {
                self.broken = true;
                let _ = self.out.set_len(0);
            }
        }
        poll
    }
}
