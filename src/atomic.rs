//! Writing a file whole or not at all: the one implementation behind every record, index,
//! config and cache entry zoo-oci writes over an older one.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// How [`write_file`] writes.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions<'a> {
    /// Mode 0600 (credentials, the digest cache) instead of 0644 less the umask. 0644 is the
    /// default, like any file a user writes, so that a layout or a cache one user wrote is
    /// readable by another (tempfile's own 0600 is for secrets).
    pub private: bool,
    /// `fsync` the file before the rename, for a file whose loss after a crash costs more than
    /// the sync (a layout's `index.json`, a Docker config).
    pub durable: bool,
    /// Where the temp file is made; beside `path` when `None`. Must be on `path`'s file system.
    pub temp_in: Option<&'a Path>,
}

/// Writes `bytes` to `path` through a temp file renamed over it, so that a reader sees the old
/// file or the new one, never a part; `path`'s folder is created when missing.
pub fn write_file(path: &Path, bytes: &[u8], options: WriteOptions<'_>) -> Result<()> {
    write_with(path, options, |out| out.write_all(bytes))
}

/// [`write_file`] of what `fill` writes, streamed into the temp file: for content too large to
/// hold twice in memory (a catalogue's JSON).
pub fn write_with(
    path: &Path,
    options: WriteOptions<'_>,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("create the folder", parent, e))?;
    let temp_dir = options.temp_in.unwrap_or(parent);
    let mode = if options.private { 0o600 } else { 0o644 };
    let mut temp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(mode))
        .tempfile_in(temp_dir)
        .map_err(|e| Error::io("create a temp file in", temp_dir, e))?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, temp.as_file_mut());
        fill(&mut out).and_then(|()| out.flush()).map_err(|e| Error::io("write", path, e))?;
    }
    if options.durable {
        temp.as_file().sync_all().map_err(|e| Error::io("sync", temp.path(), e))?;
    }
    temp.persist(path).map_err(|e| Error::io("write", path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_whole_with_the_mode_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/record.json");
        write_file(&path, b"old", WriteOptions::default()).unwrap();
        write_file(&path, b"new", WriteOptions { private: true, durable: true, temp_in: None }).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(path.parent().unwrap()).unwrap().count(), 1, "no temp file left");
    }
}
