//! A bounded view of a model file: every read checks the length a file claims against what is
//! left of it and against a cap before allocating, so a header that claims gigabytes costs nothing.

use std::fmt;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// Why a reader stopped; it becomes one of the facts' warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Bad(pub String);

impl Bad {
    pub(super) fn new(message: impl Into<String>) -> Self {
        Bad(message.into())
    }
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<io::Error> for Bad {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Bad::new("the file ends early (truncated?)")
        } else {
            Bad::new(format!("cannot read the file: {e}"))
        }
    }
}

/// What every reader returns.
pub(super) type Res<T> = Result<T, Bad>;

/// A byte count in words: `100 MiB`, `12 bytes`.
pub(super) fn bytes_in_words(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    if n >= MIB && n.is_multiple_of(MIB) { format!("{} MiB", n / MIB) } else { format!("{n} bytes") }
}

/// A file being read: buffered, with its position and length known.
pub(super) struct Source<R> {
    inner: BufReader<R>,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> Source<R> {
    /// `len` is the file's length; reads never go past it.
    pub(super) fn new(reader: R, len: u64) -> Self {
        Source { inner: BufReader::with_capacity(64 * 1024, reader), pos: 0, len }
    }

    pub(super) fn len(&self) -> u64 {
        self.len
    }

    pub(super) fn pos(&self) -> u64 {
        self.pos
    }

    pub(super) fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    /// The first `n` bytes (fewer if the file is shorter), leaving the position at the start.
    pub(super) fn head(&mut self, n: usize) -> Res<Vec<u8>> {
        self.seek_to(0)?;
        let n = n.min(usize::try_from(self.len).unwrap_or(usize::MAX));
        let mut buf = vec![0; n];
        let mut got = 0;
        while got < n {
            match self.inner.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(k) => got += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        buf.truncate(got);
        self.inner.seek(SeekFrom::Start(0))?;
        self.pos = 0;
        Ok(buf)
    }

    /// Moves to `to`, which must be within the file.
    pub(super) fn seek_to(&mut self, to: u64) -> Res<()> {
        if to > self.len {
            return Err(Bad::new(format!("an offset of {to} is past the end of the {}-byte file", self.len)));
        }
        let delta = i64::try_from(to).unwrap_or(i64::MAX) - i64::try_from(self.pos).unwrap_or(i64::MAX);
        self.inner.seek_relative(delta)?;
        self.pos = to;
        Ok(())
    }

    /// Skips `n` bytes, which must be within the file: this is how weights are passed over.
    pub(super) fn skip(&mut self, n: u64, what: &str) -> Res<()> {
        if n > self.remaining() {
            return Err(self.too_long(what, n));
        }
        self.seek_to(self.pos + n)
    }

    /// Reads `n` bytes into memory, refusing more than `cap` or more than the file has left.
    pub(super) fn bytes(&mut self, n: u64, cap: u64, what: &str) -> Res<Vec<u8>> {
        if n > cap {
            return Err(Bad::new(format!(
                "{what} claims {n} bytes, more than the {} this reader allows",
                bytes_in_words(cap)
            )));
        }
        if n > self.remaining() {
            return Err(self.too_long(what, n));
        }
        let mut buf = vec![0; n as usize];
        self.inner.read_exact(&mut buf)?;
        self.pos += n;
        Ok(buf)
    }

    /// Reads `n` bytes as UTF-8 text (invalid sequences replaced), within `cap`.
    pub(super) fn string(&mut self, n: u64, cap: u64, what: &str) -> Res<String> {
        let bytes = self.bytes(n, cap, what)?;
        Ok(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    fn too_long(&self, what: &str, n: u64) -> Bad {
        Bad::new(format!("{what} claims {n} bytes, but only {} remain in the file (truncated?)", self.remaining()))
    }

    fn array<const N: usize>(&mut self) -> Res<[u8; N]> {
        if (N as u64) > self.remaining() {
            return Err(Bad::new("the file ends early (truncated?)"));
        }
        let mut buf = [0; N];
        self.inner.read_exact(&mut buf)?;
        self.pos += N as u64;
        Ok(buf)
    }

    pub(super) fn u8(&mut self) -> Res<u8> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn u16_le(&mut self) -> Res<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(super) fn u32_le(&mut self) -> Res<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(super) fn u64_le(&mut self) -> Res<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(super) fn i32_le(&mut self) -> Res<i32> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub(super) fn i64_le(&mut self) -> Res<i64> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub(super) fn f32_le(&mut self) -> Res<f32> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    pub(super) fn f64_le(&mut self) -> Res<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// `n` bytes at `offset`, for formats read by random access (flatbuffers).
    pub(super) fn bytes_at(&mut self, offset: u64, n: u64, cap: u64, what: &str) -> Res<Vec<u8>> {
        if offset > self.len {
            return Err(Bad::new(format!("{what} at offset {offset} is past the end of the {}-byte file", self.len)));
        }
        self.seek_to(offset)?;
        self.bytes(n, cap, what)
    }

    /// A protobuf base-128 varint.
    pub(super) fn varint(&mut self) -> Res<u64> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            value |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Bad::new("a varint longer than 10 bytes"))
    }

    /// The buffered reader itself, for crates that read on their own (zip, XML). Positions kept
    /// by this `Source` are not valid afterwards.
    pub(super) fn reader(&mut self) -> &mut BufReader<R> {
        &mut self.inner
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn bytes_refuses_a_claim_beyond_the_cap_or_the_file_without_allocating() {
        let mut s = Source::new(Cursor::new(vec![1u8; 16]), 16);
        let e = s.bytes(1 << 60, 1 << 20, "a header").unwrap_err();
        assert!(e.0.contains("more than the 1 MiB"), "{e}");
        let e = s.bytes(17, 1 << 20, "a header").unwrap_err();
        assert!(e.0.contains("only 16 remain"), "{e}");
        assert_eq!(s.bytes(4, 16, "x").unwrap(), vec![1; 4]);
        assert_eq!(s.pos(), 4);
    }

    #[test]
    fn varints_and_skips_stay_inside_the_file() {
        let mut s = Source::new(Cursor::new(vec![0x96, 0x01, 5, 6]), 4);
        assert_eq!(s.varint().unwrap(), 150);
        assert!(s.skip(3, "a field").is_err());
        s.skip(1, "a field").unwrap();
        assert_eq!(s.u8().unwrap(), 6);
        assert!(s.u8().is_err());
        let mut s = Source::new(Cursor::new(vec![0xff; 12]), 12);
        assert!(s.varint().is_err());
    }
}
