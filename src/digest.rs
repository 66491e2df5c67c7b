//! sha256 digests: the `sha256:<hex>` strings that name every blob, and readers/writers that
//! compute them while bytes stream through (sha2's hashers implement neither `Read` nor `Write`).

use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use crate::error::{Error, Result};

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
        .ok_or_else(|| Error::integrity(format!("unsupported digest {digest:?}: zoo-oci reads sha256 digests only")))?;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(Error::integrity(format!(
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
    /// The inner writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
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

/// A `Read` that hashes and counts what is read from `inner`.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    read: u64,
}

impl<R> HashingReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), read: 0 }
    }
    /// The digest and byte count of everything read so far.
    pub fn finish(self) -> (String, u64) {
        (format(self.hasher), self.read)
    }
    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for HashingReader<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &poll {
            let new = &buf.filled()[before..];
            this.hasher.update(new);
            this.read += new.len() as u64;
        }
        poll
    }
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
        return Err(Error::integrity(format!(
            "{what}: size mismatch: expected {expected_size} bytes, got {actual_size}"
        )));
    }
    if actual_digest != expected_digest {
        return Err(Error::integrity(format!(
            "{what}: digest mismatch: expected {expected_digest}, got {actual_digest}"
        ))
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
