//! sha256 digests: the `sha256:<hex>` strings that name every blob, and readers/writers that
//! compute them while bytes stream through (sha2's hashers implement neither `Read` nor `Write`).

use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, IntegrityFailure, Result};

/// The only digest algorithm zoo-oci writes.
pub const ALGORITHM: &str = "sha256";

/// Formats a finished hasher as `sha256:<hex>`.
pub fn format(hasher: Sha256) -> String {
    format!("{ALGORITHM}:{}", hex::encode(hasher.finalize()))
}

/// The `sha256:<hex>` digest of `bytes`.
pub fn of_bytes(bytes: &[u8]) -> String {
    format(Sha256::new_with_prefix(bytes))
}

/// The hex part of a `sha256:<hex>` digest, after checking it is one: digests name files in a
/// layout, so a malformed one must never reach a path.
pub fn hex_part(digest: &str) -> Result<&str> {
    let hex = digest
        .strip_prefix("sha256:")
        .ok_or_else(|| Error::malformed(format!("unsupported digest {digest:?}: zoo-oci reads sha256 digests only")))?;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::malformed(format!(
            "malformed digest {digest:?}: expected sha256: and 64 lowercase hex digits"
        )));
    }
    Ok(hex)
}

/// A `Write` that hashes and counts what passes through to `inner`.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), written: 0 }
    }
    /// Returns the inner writer, the digest and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (self.inner, format(self.hasher), self.written)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Checks bytes held in memory (a manifest) against the digest and size they should have.
pub fn verify_bytes(what: &str, expected_digest: &str, expected_size: u64, bytes: &[u8]) -> Result<()> {
    verify(what, expected_digest, expected_size, &of_bytes(bytes), bytes.len() as u64)
}

/// Checks that a blob's bytes matched its descriptor: size first (the cheaper, clearer message).
pub fn verify(
    what: &str,
    expected_digest: &str,
    expected_size: u64,
    actual_digest: &str,
    actual_size: u64,
) -> Result<()> {
    if actual_size != expected_size {
        return Err(Error::integrity(
            IntegrityFailure::DigestMismatch,
            format!("{what}: size mismatch: expected {expected_size} bytes, got {actual_size}"),
        ));
    }
    if actual_digest != expected_digest {
        return Err(Error::integrity(
            IntegrityFailure::DigestMismatch,
            format!("{what}: digest mismatch: expected {expected_digest}, got {actual_digest}"),
        )
        .with_hint("the content is corrupt or was changed; fetch it again from a trusted source"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input_is_the_well_known_one() {
        assert_eq!(of_bytes(b""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }

    #[test]
    fn hex_part_refuses_path_like_digests() {
        assert!(hex_part("sha256:../../etc/passwd").is_err());
        assert!(hex_part("md5:abc").is_err());
        assert!(hex_part(&of_bytes(b"x")).is_ok());
    }
}

/// Files at least this large are hashed on a second thread while the first one does the rest
/// of the work (the layer's own digest, writing, compressing): two hashes in one pass cost the
/// time of one on a machine with two cores.
pub const BACKGROUND_HASH_MIN: u64 = 8 << 20;

/// A sha256 computed over chunks handed to it, inline or on a helper thread.
pub enum ChunkHasher {
    /// Small inputs: hashed on the caller's thread.
    Inline(Sha256, u64),
    /// Large inputs: hashed on a helper thread; the channel bound keeps memory flat. The thread
    /// hands each hashed chunk back (the third part), to be filled again rather than a new
    /// 1 MiB zeroed for every chunk.
    Thread(
        std::sync::mpsc::SyncSender<Vec<u8>>,
        std::thread::JoinHandle<(String, u64)>,
        std::sync::mpsc::Receiver<Vec<u8>>,
    ),
}

impl ChunkHasher {
    /// A hasher for an input of about `size` bytes.
    pub fn for_size(size: u64) -> Self {
        if size < BACKGROUND_HASH_MIN {
            return ChunkHasher::Inline(Sha256::new(), 0);
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (give_back, returned) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let handle = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            let mut total = 0u64;
            for chunk in rx {
                hasher.update(&chunk);
                total += chunk.len() as u64;
                let _ = give_back.try_send(chunk); // kept only while there is room
            }
            (format(hasher), total)
        });
        ChunkHasher::Thread(tx, handle, returned)
    }

    /// A chunk already hashed, to fill again, when there is one.
    pub fn spare(&self) -> Option<Vec<u8>> {
        match self {
            ChunkHasher::Inline(..) => None,
            ChunkHasher::Thread(_, _, returned) => returned.try_recv().ok(),
        }
    }

    /// Adds a chunk.
    pub fn update(&mut self, chunk: Vec<u8>) {
        match self {
            ChunkHasher::Inline(h, n) => {
                h.update(&chunk);
                *n += chunk.len() as u64;
            }
            // A send fails only if the thread died; `finish` reports that.
            ChunkHasher::Thread(tx, ..) => drop(tx.send(chunk)),
        }
    }

    /// The digest and byte count.
    pub fn finish(self) -> (String, u64) {
        match self {
            ChunkHasher::Inline(h, n) => (format(h), n),
            ChunkHasher::Thread(tx, handle, _) => {
                drop(tx);
                handle.join().expect("the hashing thread does not panic")
            }
        }
    }
}

const CHUNK: usize = 1 << 20;

/// A `Read` over `inner` that also hashes everything read, in 1 MiB chunks, with a
/// [`ChunkHasher`].
pub struct ChunkHashingReader<R> {
    inner: R,
    hasher: ChunkHasher,
    chunk: Vec<u8>,
    pos: usize,
    /// Bytes read at a time: 1 MiB, or less for a small input (whose chunk is zeroed for
    /// every file: a 1 MiB one per 512-byte file cost more than all the rest of packing).
    chunk_len: usize,
}

impl<R: Read> ChunkHashingReader<R> {
    /// Reads `inner`, which holds about `size` bytes.
    pub fn new(inner: R, size: u64) -> Self {
        // One more byte than expected, so that a file that grew is seen in the first chunk.
        let chunk_len = CHUNK.min(usize::try_from(size).unwrap_or(CHUNK).saturating_add(1));
        ChunkHashingReader { inner, hasher: ChunkHasher::for_size(size), chunk: Vec::new(), pos: 0, chunk_len }
    }
    /// The digest and count of what was read.
    pub fn finish(mut self) -> (String, u64) {
        let mut rest = std::mem::take(&mut self.chunk);
        rest.truncate(self.pos);
        self.hasher.update(rest);
        self.hasher.finish()
    }
}

impl<R: Read> Read for ChunkHashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            let mut next = self.hasher.spare().unwrap_or_default();
            next.resize(self.chunk_len, 0); // zeroes only a new chunk's bytes
            let full = std::mem::replace(&mut self.chunk, next);
            if !full.is_empty() {
                self.hasher.update(full);
            }
            let mut filled = 0;
            while filled < self.chunk_len {
                match self.inner.read(&mut self.chunk[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.chunk.clear();
                        self.pos = 0;
                        return Err(e);
                    }
                }
            }
            self.chunk.truncate(filled);
            self.pos = 0;
        }
        let n = buf.len().min(self.chunk.len() - self.pos);
        buf[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A `Write` that collects 1 MiB chunks, writes each to `inner` whole, and hashes them with a
/// [`ChunkHasher`].
pub struct ChunkHashingWriter<W: Write> {
    inner: W,
    hasher: ChunkHasher,
    chunk: Vec<u8>,
}

impl<W: Write> ChunkHashingWriter<W> {
    /// Writes to `inner` about `size` bytes.
    pub fn new(inner: W, size: u64) -> Self {
        // A small file's chunk is only as big as the file: no 1 MiB allocation per file.
        let capacity = CHUNK.min(usize::try_from(size).unwrap_or(CHUNK));
        ChunkHashingWriter { inner, hasher: ChunkHasher::for_size(size), chunk: Vec::with_capacity(capacity) }
    }
    fn push_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.inner.write_all(&self.chunk)?;
        let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
        self.hasher.update(full);
        Ok(())
    }
    /// Writes what is buffered; returns the inner writer, the digest and the byte count.
    pub fn finish(mut self) -> io::Result<(W, String, u64)> {
        self.push_chunk()?;
        let (digest, n) = self.hasher.finish();
        Ok((self.inner, digest, n))
    }
}

impl<W: Write> Write for ChunkHashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(CHUNK - self.chunk.len());
        self.chunk.extend_from_slice(&buf[..n]);
        if self.chunk.len() == CHUNK {
            self.push_chunk()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.push_chunk()?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    #[test]
    fn chunked_hashing_agrees_with_plain_hashing_inline_and_threaded() {
        for size in [0usize, 5, CHUNK + 17, (BACKGROUND_HASH_MIN as usize) + 3] {
            let data: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let expected = of_bytes(&data);
            let mut reader = ChunkHashingReader::new(&data[..], size as u64);
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            assert_eq!(out, data);
            assert_eq!(reader.finish(), (expected.clone(), size as u64));
            let mut writer = ChunkHashingWriter::new(Vec::new(), size as u64);
            for piece in data.chunks(8192) {
                writer.write_all(piece).unwrap();
            }
            let (written, digest, n) = writer.finish().unwrap();
            assert_eq!((written == data, digest, n), (true, expected, size as u64));
        }
    }
}
