//! Pulls into any destination: the current folder, a mount point (a tmpfs, as a Kubernetes
//! emptyDir or PVC is), an earlier pull being upgraded; refused before the first byte when the
//! folder is not writable or too small, and left as it was when the pull fails.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::*;

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .unwrap();
        assert!(out.status.success(), "setup: mounting a tmpfs needs root: {}", String::from_utf8_lossy(&out.stderr));
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn layout_with_two_versions(root: &Path) -> String {
    let suite = small_suite(root);
    let layout = format!("oci:{}", root.join("zoo").display());
    run_in(root, &["push", "-q", suite.to_str().unwrap(), &format!("{layout}:1")]).ok();
    copy_tree(&suite, &root.join("suite-v1"));
    write(&suite, "scripts/infer.py", "#!/usr/bin/env python3\nprint('infer v2')\n", true);
    run_in(root, &["push", "-q", "--force", suite.to_str().unwrap(), &format!("{layout}:2")]).ok();
    layout
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_pull_into_a_mount_point_works_upgrades_and_stays_mounted() {
    let tmp = scratch();
    let layout = layout_with_two_versions(tmp.path());
    let mount = Tmpfs::mount(&tmp.path().join("models"), "16m");
    let dev = fs::metadata(&mount.0).unwrap().dev();
    let dir = mount.0.to_str().unwrap();

    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:1"), "-o", dir]).ok();
    assert_same_tree(&tmp.path().join("suite-v1"), &mount.0);
    // An upgrade: the new version replaces the old one in the same mount.
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:2"), "-o", dir]).ok();
    assert_eq!(
        fs::read_to_string(mount.0.join("scripts/infer.py")).unwrap(),
        "#!/usr/bin/env python3\nprint('infer v2')\n"
    );
    assert_eq!(fs::metadata(&mount.0).unwrap().dev(), dev, "the mount point is still the mount");
    assert!(
        !names(&mount.0).iter().any(|n| n.starts_with(".zoo-oci-partial") || n.starts_with(".zoo-oci-old")),
        "{:?}",
        names(&mount.0)
    );
    // A narrower selection of the same version replaces the folder's content with less.
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:2"), "-o", dir, "--only", "model"]).ok();
    assert!(!mount.0.join("scripts").exists() && mount.0.join("models/model.safetensors").is_file());
}

#[test]
fn a_failed_pull_into_a_mount_point_leaves_it_as_it_was() {
    let tmp = scratch();
    let layout = layout_with_two_versions(tmp.path());
    let mount = Tmpfs::mount(&tmp.path().join("models"), "16m");
    let dir = mount.0.to_str().unwrap();
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:1"), "-o", dir]).ok();
    let before = tree(&mount.0);
    // Corrupt a layer only version 2 has (its scripts): the pull of 2 fails its digest check.
    let zoo = tmp.path().join("zoo");
    let m = manifest(&zoo, "2");
    let one: Vec<String> = manifest(&zoo, "1")["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["digest"].as_str().unwrap().to_string())
        .collect();
    let changed = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| !one.contains(&l["digest"].as_str().unwrap().to_string()))
        .unwrap();
    let path = blob_path(&zoo, changed["digest"].as_str().unwrap());
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fs::write(&path, bytes).unwrap();
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:2"), "-o", dir]).code(5);
    assert_eq!(tree(&mount.0), before, "the destination is as it was");
}

#[test]
fn a_pull_into_the_current_folder_works_and_a_foreign_one_is_refused() {
    let tmp = scratch();
    let layout = layout_with_two_versions(tmp.path());
    let here = tmp.path().join("here");
    fs::create_dir(&here).unwrap();
    run_in(&here, &["pull", "-q", &format!("{layout}:1"), "-o", "."]).ok();
    assert_same_tree(&tmp.path().join("suite-v1"), &here);
    // Staged inside (the current folder cannot be renamed): files the user added stay too.
    write(&here, "my-results.txt", "mine", false);
    write(&here, "scripts/mine.py", "print('mine')\n", false);
    run_in(&here, &["pull", "-q", &format!("{layout}:2"), "-o", "."]).ok();
    assert!(fs::read_to_string(here.join("scripts/infer.py")).unwrap().contains("v2"));
    assert_eq!(fs::read_to_string(here.join("my-results.txt")).unwrap(), "mine");
    assert_eq!(fs::read_to_string(here.join("scripts/mine.py")).unwrap(), "print('mine')\n");
    // An edited file of the suite stops it there as well; --force replaces only that file.
    write(&here, "scripts/common.py", "X = 'edited'\n", false);
    run_in(&here, &["pull", &format!("{layout}:1"), "-o", "."]).code(1).stderr_has("scripts/common.py");
    run_in(&here, &["pull", "-q", "--force", &format!("{layout}:1"), "-o", "."]).ok();
    assert!(!fs::read_to_string(here.join("scripts/infer.py")).unwrap().contains("v2"));
    assert_eq!(fs::read_to_string(here.join("scripts/common.py")).unwrap(), "X = 1\n");
    assert_eq!(fs::read_to_string(here.join("my-results.txt")).unwrap(), "mine");

    let foreign = tmp.path().join("foreign");
    write(&foreign, "notes.txt", "mine", false);
    run_in(&foreign, &["pull", "-q", &format!("{layout}:1"), "-o", "."])
        .code(1)
        .stderr_has("was not written by zoo-oci");
    assert_eq!(names(&foreign), ["notes.txt"]);
    run_in(&foreign, &["pull", "-q", "--force", &format!("{layout}:1"), "-o", "."]).ok();
    assert!(foreign.join("scripts/infer.py").is_file() && foreign.join(".zoo-oci.json").is_file());
    assert_eq!(
        fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "mine",
        "--force never deletes a file of the user's"
    );
}

#[test]
fn a_destination_too_small_or_not_writable_is_refused_before_the_first_byte() {
    let tmp = scratch();
    let layout = layout_with_two_versions(tmp.path());
    let small = Tmpfs::mount(&tmp.path().join("small"), "64k");
    run_in(tmp.path(), &["pull", &format!("{layout}:1"), "-o", small.0.to_str().unwrap()])
        .code(1)
        .stderr_has("free, but the selected layers need")
        .stderr_has("--only");
    assert!(names(&small.0).is_empty(), "nothing was written: {:?}", names(&small.0));

    // Another user may not write into a folder root owns.
    fs::set_permissions(tmp.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let theirs = tmp.path().join("root-owned");
    fs::create_dir(&theirs).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_zoo-oci"))
        .args(["pull", &format!("{layout}:1"), "-o"])
        .arg(theirs.join("out"))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let run = Run::from(out);
    run.code(1).stderr_has("cannot write the pull into").stderr_has("Permission denied");
    assert!(names(&theirs).is_empty());
}

#[test]
fn leftovers_of_a_killed_pull_are_swept_but_a_live_pulls_are_not() {
    let tmp = scratch();
    let layout = layout_with_two_versions(tmp.path());
    // Beside the destination: a stale scratch folder, and one a live process holds.
    write(&tmp.path().join("out.partial-stale"), "half.bin", "x", false);
    write(&tmp.path().join("out.partial-live"), "half.bin", "x", false);
    let live = fs::File::open(tmp.path().join("out.partial-live")).unwrap();
    live.lock().unwrap();
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:1"), "-o", "out"]).ok();
    assert!(!tmp.path().join("out.partial-stale").exists(), "the stale scratch folder is swept");
    assert!(tmp.path().join("out.partial-live/half.bin").exists(), "a live pull's folder is left alone");
    drop(live);

    // A plain folder holding only a killed pull's hidden scratch folder is empty to a pull.
    let plain = tmp.path().join("plain");
    write(&plain.join(".zoo-oci-partial-stale"), "half.bin", "x", false);
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:1"), "-o", plain.to_str().unwrap()]).ok();
    assert_same_tree(&tmp.path().join("suite-v1"), &plain);

    // Inside a mount point: the hidden scratch folder of a killed pull does not make it foreign.
    let mount = Tmpfs::mount(&tmp.path().join("models"), "16m");
    write(&mount.0.join(".zoo-oci-partial-stale"), "half.bin", "x", false);
    run_in(tmp.path(), &["pull", "-q", &format!("{layout}:1"), "-o", mount.0.to_str().unwrap()]).ok();
    assert!(!mount.0.join(".zoo-oci-partial-stale").exists());
    assert_same_tree(&tmp.path().join("suite-v1"), &mount.0);
}
