//! The layer digest cache: what packing a layer found (its digest, size, diff_id and the record
//! of its files), kept under a key made of everything that decides those bytes — each file's
//! path, size, mtime and ctime in nanoseconds, inode and device, executable bit, the layer's
//! media type and compression, and this format's version. An unchanged re-push then reads no
//! file content: the key is built from `stat` alone.
//!
//! Any change misses: a byte changed in place moves the ctime even when the size and the mtime
//! are put back. A cache entry that does not parse, or lists other files than the plan, is
//! ignored and written again.
//!
//! What is trusted, and what is checked again. A hit is believed: its digest, size, diff_id and
//! file list go into the manifest unread. A layer the destination already holds under that
//! digest is neither read nor sent, so a wrong entry there would publish a manifest whose record
//! does not describe its layer: nothing re-verifies it. A layer the destination lacks is packed
//! again from the files when the copy sends it, and the sink checks those bytes against the
//! digest (a layout hashes what it takes, a registry checks `PUT ?digest=`): a wrong entry there
//! fails the push. The loose key's likely digest is only a question put to the destination; the
//! layer is hashed all the same, so it is never published unread.
//!
//! Because a hit is believed, the folder is its user's alone: created 0700 (an older 0755 one is
//! narrowed to it), entries 0600. A folder or entry owned by another user, or that others may
//! write, is neither read nor written ([`DigestCache::get`] misses and packing reads the files).

use std::fs;
use std::io::Read as _;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::archive::FileRecord;
use crate::suite::{EntryKind, LayerContent, LayerPlan};

/// Bumped when the bytes packing writes for the same files change (tar headers, ordering).
const FORMAT: &str = "zoo-oci layer cache 1";

/// Where cached layers are kept.
#[derive(Debug, Clone)]
pub struct DigestCache {
    dir: PathBuf,
}

/// What packing a layer found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Known {
    /// `sha256:<hex>` of the layer's bytes.
    pub digest: String,
    /// The layer's size.
    pub size: u64,
    /// sha256 of the uncompressed layer.
    pub diff_id: String,
    /// Its files.
    pub files: Vec<FileRecord>,
}

impl DigestCache {
    /// A cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> DigestCache {
        DigestCache { dir: dir.into() }
    }

    /// The key of `plan`'s layer in the suite at `root`, as `media_type` with `compressed`;
    /// `None` when a file cannot be stat-ed (packing then says why).
    pub fn key(&self, root: &Path, plan: &LayerPlan, media_type: &str, compressed: bool) -> Option<String> {
        let entries = match &plan.content {
            LayerContent::Tar(entries) => entries.as_slice(),
            LayerContent::Raw(entry) => std::slice::from_ref(entry),
        };
        let mut key = Sha256::new();
        key.update(format!("{FORMAT}\n{media_type}\ncompressed={compressed}\nfilepath={}\n", plan.filepath));
        for entry in entries {
            match entry.kind {
                EntryKind::Dir => key.update(format!("dir {:?}\n", entry.path)),
                EntryKind::File { size, executable } => {
                    let meta = fs::metadata(root.join(&entry.path)).ok()?;
                    key.update(format!(
                        "file {:?} {size} {} exec={executable} mtime={}.{} ctime={}.{} ino={} dev={}\n",
                        entry.path,
                        meta.len(),
                        meta.mtime(),
                        meta.mtime_nsec(),
                        meta.ctime(),
                        meta.ctime_nsec(),
                        meta.ino(),
                        meta.dev()
                    ));
                }
            }
        }
        Some(hex::encode(key.finalize()))
    }

    /// The entry under `key`, when there is a sound one for `plan` in a folder only this user
    /// can write.
    pub fn get(&self, key: &str, plan: &LayerPlan) -> Option<Known> {
        let bytes = self.read(key)?;
        let known: Known = serde_json::from_slice(&bytes).ok()?;
        let planned: Vec<&str> = plan.content.files().map(|e| e.path.as_str()).collect();
        let recorded: Vec<&str> = known.files.iter().map(|f| f.path.as_str()).collect();
        // Layers of more files than the manifest lists record no files (see `pack`).
        let listed = planned.len() <= crate::artifact::media::FILE_LIST_LIMIT;
        let sound = (if listed { planned == recorded } else { recorded.is_empty() })
            && known.digest.starts_with("sha256:")
            && crate::digest::hex_part(&known.digest).is_ok();
        sound.then_some(known)
    }

    /// The loose key of `plan`'s layer: its files' paths, sizes and modes, without their times or
    /// inodes. What it finds is only a likely digest — a `touch`, a fresh checkout, a copy of
    /// the folder keep it — to ask the destination about before uploading the layer again.
    pub fn likely_key(&self, plan: &LayerPlan, media_type: &str, compressed: bool) -> String {
        let mut key = Sha256::new();
        key.update(format!("{FORMAT} likely\n{media_type}\ncompressed={compressed}\nfilepath={}\n", plan.filepath));
        let entries = match &plan.content {
            LayerContent::Tar(entries) => entries.as_slice(),
            LayerContent::Raw(entry) => std::slice::from_ref(entry),
        };
        for entry in entries {
            match entry.kind {
                EntryKind::Dir => key.update(format!("dir {:?}\n", entry.path)),
                EntryKind::File { size, executable } => {
                    key.update(format!("file {:?} {size} exec={executable}\n", entry.path))
                }
            }
        }
        format!("likely-{}", hex::encode(key.finalize()))
    }

    /// The digest and size last packed under the loose key, if any.
    pub fn likely(&self, likely_key: &str) -> Option<(String, u64)> {
        let bytes = self.read(likely_key)?;
        let known: Known = serde_json::from_slice(&bytes).ok()?;
        crate::digest::hex_part(&known.digest).ok()?;
        Some((known.digest, known.size))
    }

    /// Keeps `known` under `key` (a file of mode 0600); a cache that cannot be written, or is
    /// not this user's own, is skipped (it only saves time).
    pub fn put(&self, key: &str, known: &Known) {
        if !self.make_private() {
            return;
        }
        let bytes = serde_json::to_vec(known).expect("cache entries serialise");
        let private = crate::atomic::WriteOptions { private: true, durable: false, temp_in: Some(&self.dir) };
        let _ = crate::atomic::write_file(&self.path(key), &bytes, private);
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The bytes of the entry under `key`, when the folder and the entry are this user's own
    /// and no one else may write them; else nothing, as if it were missing.
    fn read(&self, key: &str) -> Option<Vec<u8>> {
        if !fs::symlink_metadata(&self.dir).is_ok_and(|m| m.is_dir() && private(&m)) {
            return None;
        }
        // Not following a link: the entry itself is checked, through the handle that reads it.
        let mut file = fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
            .open(self.path(key))
            .ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || !private(&meta) {
            return None;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        Some(bytes)
    }

    /// Makes the folder (0700), or narrows an older one (0755) to 0700; false when it is not
    /// this user's own or others may write it, so nothing is written into it: what is there
    /// may be anyone's, and stays unread.
    fn make_private(&self) -> bool {
        if let Some(parent) = self.dir.parent()
            && fs::create_dir_all(parent).is_err()
        {
            return false;
        }
        let _ = fs::DirBuilder::new().mode(0o700).create(&self.dir);
        let Ok(meta) = fs::symlink_metadata(&self.dir) else { return false };
        if !meta.is_dir() || !private(&meta) {
            return false;
        }
        meta.mode() & 0o077 == 0 || fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700)).is_ok()
    }
}

/// Whether this user owns what `meta` describes and no one else may write it.
fn private(meta: &fs::Metadata) -> bool {
    meta.uid() == rustix::process::geteuid().as_raw() && meta.mode() & 0o022 == 0
}
