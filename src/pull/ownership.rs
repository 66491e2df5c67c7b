//! What a pull may touch in a folder that already holds files. A pull owns the files the
//! folder's record says an earlier pull wrote, as long as nobody changed them since; everything
//! else is the user's. A re-pull replaces or removes what it owns, keeps every file the user
//! added (`hf download --local-dir` and `oras pull` keep files they did not write), and stops
//! on a file of the suite the user changed, listing it, unless `--force` says to replace the
//! suite's files: even then nothing the suite does not have is deleted.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{INSIDE_OLD, INSIDE_PARTIAL, PullRecord, RECORD_FILE};
use crate::error::{Error, Result};
use crate::format::count;

/// The files of an earlier pull, sorted by what happened to them since.
#[derive(Debug, Default)]
pub(super) struct Survey {
    /// Written by the earlier pull and unchanged: the pull may replace or remove them.
    owned: BTreeSet<String>,
    /// Written by the earlier pull, then changed (other bytes, or now a folder or a link).
    pub changed: Vec<String>,
    /// Written by the earlier pull and gone since.
    pub missing: usize,
}

/// Sorts the files `record` lists. A file is unchanged when its size is the recorded one and it
/// was not modified after the record was written; one modified since is hashed, so that a file
/// touched but not changed is still the pull's. A file from a layer whose files the manifest
/// did not list has no recorded sha256: modified since, it counts as changed.
pub(super) fn survey(destination: &Path, record: &PullRecord) -> Result<Survey> {
    let record_path = destination.join(RECORD_FILE);
    let written =
        fs::metadata(&record_path).and_then(|m| m.modified()).map_err(|e| Error::io("read", &record_path, e))?;
    let mut survey = Survey::default();
    for file in &record.files {
        let path = destination.join(&file.path);
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                survey.missing += 1;
                continue;
            }
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        let unchanged = meta.is_file()
            && meta.len() == file.size
            && (meta.modified().map(|m| m <= written).unwrap_or(false)
                || (!file.sha256.is_empty() && sha256_of(&path)? == file.sha256));
        if unchanged {
            survey.owned.insert(file.path.clone());
        } else {
            survey.changed.push(file.path.clone());
        }
    }
    Ok(survey)
}

fn sha256_of(path: &Path) -> Result<String> {
    let mut file = fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let mut hasher = crate::digest::HashingWriter::new(io::sink());
    io::copy(&mut file, &mut hasher).map_err(|e| Error::io("read", path, e))?;
    Ok(hasher.finish().1)
}

/// The error of a pull stopped by files of the suite the user changed.
pub(super) fn changed_error(destination: &Path, changed: &[String]) -> Error {
    Error::failed(format!(
        "{} of the suite in {} changed since {} pulled: {}",
        count(changed.len(), "file", "files"),
        destination.display(),
        if changed.len() == 1 { "it was" } else { "they were" },
        listing(changed)
    ))
    .with_hint(
        "copy your changes elsewhere, or pass --force to replace the suite's files with the pulled ones \
         (files you added are kept either way)",
    )
}

/// What the swap does with each entry of the destination.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// Entries (files, or folders holding nothing of the pull's) that stay: the user's.
    pub keep: Vec<PathBuf>,
    /// Files that go: the earlier pull's, and under `--force` the user's files at a path of the
    /// suite.
    pub leave: Vec<PathBuf>,
}

/// Plans the swap of `scratch` (the new pull) into `destination`. `survey` is what an earlier
/// pull left (empty for a folder zoo-oci did not write, entered with `--force`). A user's file
/// at a path the suite now has is replaced under `force`, else the pull stops naming it; a
/// user's folder where the suite has a file (or a file where it has a folder of the user's
/// files) is never replaced.
pub(super) fn plan(destination: &Path, scratch: &Path, survey: &Survey, force: bool) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut conflicts = Vec::new();
    let under_pull: BTreeSet<String> = survey
        .owned
        .iter()
        .chain(&survey.changed)
        .flat_map(|p| {
            let mut parents = Vec::new();
            let mut path = Path::new(p.as_str());
            while let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                parents.push(parent.to_string_lossy().into_owned());
                path = parent;
            }
            parents
        })
        .collect();
    let mut pending = vec![PathBuf::new()];
    while let Some(folder) = pending.pop() {
        let here = destination.join(&folder);
        let entries = fs::read_dir(&here).map_err(|e| Error::io("read", &here, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("read", &here, e))?;
            let name = entry.file_name();
            let text = name.to_string_lossy();
            if folder.as_os_str().is_empty()
                && (text == RECORD_FILE || text.starts_with(INSIDE_PARTIAL) || text.starts_with(INSIDE_OLD))
            {
                continue; // the record is rewritten; scratch folders are swept
            }
            let relative = folder.join(&name);
            let key = relative.to_string_lossy().into_owned();
            let in_scratch = fs::symlink_metadata(scratch.join(&relative)).ok();
            let is_dir = entry.file_type().map_err(|e| Error::io("read", &here.join(&name), e))?.is_dir();
            if is_dir {
                match in_scratch {
                    Some(m) if !m.is_dir() => conflicts.push(format!("{key}/ (a folder where the suite has a file)")),
                    Some(_) => pending.push(relative),
                    None if under_pull.contains(&key) => pending.push(relative),
                    None => plan.keep.push(relative),
                }
                continue;
            }
            let suite_has_it = in_scratch.is_some();
            if survey.owned.contains(&key) {
                plan.leave.push(relative);
            } else if in_scratch.as_ref().is_some_and(|m| m.is_dir()) {
                conflicts.push(format!("{key} (a file where the suite has a folder)"));
            } else if suite_has_it && force {
                plan.leave.push(relative); // the suite's file replaces it, as --force asked
            } else if suite_has_it {
                conflicts.push(key);
            } else {
                plan.keep.push(relative); // the user's, or changed and no longer in the suite
            }
        }
    }
    if !conflicts.is_empty() {
        conflicts.sort();
        return Err(Error::failed(format!(
            "{} in {} that the suite would write {} not from an earlier pull: {}",
            count(conflicts.len(), "path", "paths"),
            destination.display(),
            if conflicts.len() == 1 { "is" } else { "are" },
            listing(&conflicts)
        ))
        .with_hint(if force {
            "move them elsewhere: zoo-oci replaces files, never folders of yours"
        } else {
            "move them elsewhere, or pass --force to replace them with the suite's files"
        }));
    }
    Ok(plan)
}

/// Renames made while swapping, undone in reverse when a later step fails.
#[derive(Default)]
pub(super) struct Moves {
    done: Vec<(PathBuf, PathBuf)>,
    created: Vec<PathBuf>,
}

impl Moves {
    /// Renames `from` to `to`, creating `to`'s missing parent folders (0755 less the umask).
    pub fn rename(&mut self, from: PathBuf, to: PathBuf) -> Result<()> {
        if let Some(parent) = to.parent() {
            let mut missing = Vec::new();
            let mut p = parent;
            while fs::symlink_metadata(p).is_err() {
                missing.push(p.to_path_buf());
                match p.parent() {
                    Some(up) => p = up,
                    None => break,
                }
            }
            for dir in missing.into_iter().rev() {
                fs::create_dir(&dir).map_err(|e| Error::io("create", &dir, e))?;
                self.created.push(dir);
            }
        }
        fs::rename(&from, &to).map_err(|e| Error::io("move", &from, e))?;
        self.done.push((from, to));
        Ok(())
    }

    /// Puts everything back where it was.
    pub fn undo(self) {
        for (from, to) in self.done.into_iter().rev() {
            let _ = fs::rename(&to, &from);
        }
        for dir in self.created.into_iter().rev() {
            let _ = fs::remove_dir(&dir);
        }
    }
}

/// Moves the entries the user keeps from `destination` into `scratch`, so that renaming the
/// scratch folder into place carries them along.
pub(super) fn carry_into(plan: &Plan, destination: &Path, scratch: &Path) -> Result<Moves> {
    let mut moves = Moves::default();
    for entry in &plan.keep {
        if let Err(e) = moves.rename(destination.join(entry), scratch.join(entry)) {
            moves.undo();
            return Err(e);
        }
    }
    Ok(moves)
}

/// Moves `scratch`'s files into `destination`, which stays where it is: what the pull leaves
/// goes to `aside` first, folders emptied by that are removed, then the new files are moved in,
/// into the folders already there. On failure everything is put back.
pub(super) fn merge_into(plan: &Plan, scratch: &Path, destination: &Path, aside: &Path) -> Result<()> {
    let mut moves = Moves::default();
    let result = (|| {
        for entry in &plan.leave {
            moves.rename(destination.join(entry), aside.join(entry))?;
        }
        let record = destination.join(RECORD_FILE);
        if record.exists() {
            moves.rename(record, aside.join(RECORD_FILE))?;
        }
        let mut pending = vec![PathBuf::new()];
        while let Some(folder) = pending.pop() {
            let here = scratch.join(&folder);
            for entry in fs::read_dir(&here).map_err(|e| Error::io("read", &here, e))? {
                let entry = entry.map_err(|e| Error::io("read", &here, e))?;
                let relative = folder.join(entry.file_name());
                let target = destination.join(&relative);
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                if is_dir && fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) {
                    pending.push(relative); // a folder holding files the user keeps
                } else {
                    moves.rename(scratch.join(&relative), target)?;
                }
            }
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            remove_emptied(destination, &plan.leave);
            Ok(())
        }
        Err(e) => {
            moves.undo();
            Err(e)
        }
    }
}

/// Removes the folders that held only files the pull left, deepest first; a folder that still
/// holds anything stays.
fn remove_emptied(destination: &Path, left: &[PathBuf]) {
    let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
    for path in left {
        let mut p = path.as_path();
        while let Some(parent) = p.parent().filter(|p| !p.as_os_str().is_empty()) {
            folders.insert(parent.to_path_buf());
            p = parent;
        }
    }
    let mut deepest_first: Vec<_> = folders.into_iter().collect();
    deepest_first.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for folder in deepest_first {
        let _ = fs::remove_dir(destination.join(folder)); // fails, as it should, when not empty
    }
}

/// The first twenty, then how many more.
fn listing(paths: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = paths.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > SHOWN {
        text.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    text
}
