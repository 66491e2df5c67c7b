//! Listing a suite folder, and what to do with the symbolic links in it.
//!
//! Links are where a folder can lie about what it holds: a link may lead out of the suite or back
//! into itself, and a tar of links is not the suite. So by default a link is an error naming it;
//! when the user asks (`--dereference`), the files are read through their links, as regular files
//! under the link's name. That is how a Hugging Face cache snapshot is read: every file of
//! `snapshots/<revision>/` is a relative link into `../../blobs/`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// What reading a suite folder does with symbolic links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Links {
    /// A link is an error naming it.
    #[default]
    Refuse,
    /// Read through links: a linked file is packed as the file it points to, a linked folder as
    /// the folder (a link back into a folder being read is an error: it would never end).
    Follow,
}

/// The command-line flag that makes [`Links::Follow`], for messages.
pub const DEREFERENCE_FLAG: &str = "--dereference";

/// What a followed link leads to.
pub(crate) enum Target {
    /// A regular file.
    File,
    /// A folder, by its canonical path (to tell a loop).
    Folder(PathBuf),
}

/// Reads through the link at `path`, or says why it cannot be followed.
pub(crate) fn follow(path: &Path) -> std::result::Result<Target, String> {
    let to = link_text(path);
    let meta = fs::metadata(path).map_err(|_| format!("is a broken symbolic link (to {to})"))?;
    if meta.is_dir() {
        let canonical = fs::canonicalize(path).map_err(|e| format!("is a symbolic link to {to}, unreadable: {e}"))?;
        Ok(Target::Folder(canonical))
    } else if meta.is_file() {
        Ok(Target::File)
    } else {
        Err(format!("is a symbolic link to {to}, which is not a regular file or folder"))
    }
}

/// Whether following a link to the folder `target` would never end: the folder is being walked
/// already, or it holds the link itself (a link to `..`, whatever folder the walk started in).
pub(crate) fn leads_back(link: &Path, target: &Path, walking: &[PathBuf]) -> bool {
    let here = link.parent().and_then(|p| fs::canonicalize(p).ok());
    walking.iter().any(|w| w == target) || here.is_some_and(|here| here.starts_with(target))
}

/// Where a link points, as written in it, for messages.
pub(crate) fn link_text(path: &Path) -> String {
    fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_else(|_| "?".into())
}

/// A suite folder's files: suite-relative `/`-separated paths, sorted; hidden entries skipped.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Regular files, and with [`Links::Follow`] the files read through links.
    pub files: Vec<String>,
    /// With [`Links::Refuse`]: every link, with where it points.
    pub links: Vec<(String, String)>,
    /// With [`Links::Follow`]: links that cannot be followed, and why.
    pub unfollowable: Vec<(String, String)>,
}

/// Lists every file below `root`.
pub(crate) fn list(root: &Path, links: Links) -> Result<Listing> {
    let mut listing = Listing::default();
    let mut walking = Vec::new();
    if links == Links::Follow {
        walking.push(fs::canonicalize(root).map_err(|e| Error::io("read", root, e))?);
    }
    walk(root, root, links, &mut walking, &mut listing)?;
    listing.files.sort();
    listing.links.sort();
    listing.unfollowable.sort();
    Ok(listing)
}

fn walk(root: &Path, dir: &Path, links: Links, walking: &mut Vec<PathBuf>, out: &mut Listing) -> Result<()> {
    let entries = fs::read_dir(dir).map_err(|e| Error::io("read", dir, e))?;
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let rel = path.strip_prefix(root).expect("below root").to_string_lossy().into_owned();
        let meta = fs::symlink_metadata(&path).map_err(|e| Error::io("read", &path, e))?;
        if meta.file_type().is_symlink() {
            match links {
                Links::Refuse => out.links.push((rel, link_text(&path))),
                Links::Follow => match follow(&path) {
                    Ok(Target::File) => out.files.push(rel),
                    Ok(Target::Folder(canonical)) if leads_back(&path, &canonical, walking) => {
                        out.unfollowable.push((rel, loop_message(&path)));
                    }
                    Ok(Target::Folder(canonical)) => {
                        walking.push(canonical);
                        walk(root, &path, links, walking, out)?;
                        walking.pop();
                    }
                    Err(why) => out.unfollowable.push((rel, why)),
                },
            }
        } else if meta.is_dir() {
            let pushed = links == Links::Follow;
            if pushed {
                walking.push(fs::canonicalize(&path).map_err(|e| Error::io("read", &path, e))?);
            }
            walk(root, &path, links, walking, out)?;
            if pushed {
                walking.pop();
            }
        } else if meta.is_file() {
            out.files.push(rel);
        }
    }
    Ok(())
}

/// The message for a link to a folder that is being read already.
pub(crate) fn loop_message(path: &Path) -> String {
    format!(
        "is a symbolic link back into a folder that holds it (to {}): following it would never end",
        link_text(path)
    )
}
