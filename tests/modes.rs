//! File modes follow the umask: what zoo-oci writes (a layout, an index page, a pulled folder)
//! is 0644/0755 less the umask, as any program's files are, so a layout one user pushed is
//! readable by another (they used to be 0600, tempfile's mode for secrets).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::util::*;

/// Runs zoo-oci under `umask`, as user `uid` when given (through util-linux's setpriv).
fn zoo_as(cwd: &Path, umask: &str, uid: Option<u32>, args: &[&str]) -> Run {
    let bin = env!("CARGO_BIN_EXE_zoo-oci");
    let mut cmd = match uid {
        Some(uid) => {
            let mut c = Command::new("setpriv");
            c.args([format!("--reuid={uid}"), format!("--regid={uid}"), "--clear-groups".into()]).arg("sh");
            c
        }
        None => Command::new("sh"),
    };
    cmd.current_dir(cwd).env_remove("SOURCE_DATE_EPOCH").env("HOME", cwd).arg("-c");
    cmd.arg(format!("umask {umask}; exec \"$0\" \"$@\"")).arg(bin).args(args);
    Run::from(cmd.output().expect("sh runs"))
}

fn modes_under(root: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let rel = entry.path().strip_prefix(root).unwrap().display().to_string();
            out.push((rel, meta.permissions().mode() & 0o777));
            if meta.is_dir() {
                stack.push(entry.path());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn layouts_pulled_folders_and_index_pages_follow_the_umask() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    for (umask, file, dir) in [("022", 0o644, 0o755), ("027", 0o640, 0o750)] {
        let layout = tmp.path().join(format!("zoo-{umask}"));
        let at = format!("oci:{}:1.0", layout.display());
        zoo_as(tmp.path(), umask, None, &["push", "-q", suite.to_str().unwrap(), &at]).ok();
        for (path, mode) in modes_under(&layout) {
            let is_dir = layout.join(&path).is_dir();
            assert_eq!(mode, if is_dir { dir } else { file }, "umask {umask}: {path} is {mode:o}");
        }
        let pulled = tmp.path().join(format!("pulled-{umask}"));
        zoo_as(tmp.path(), umask, None, &["pull", "-q", &at, "-o", pulled.to_str().unwrap()]).ok();
        assert_eq!(fs::metadata(&pulled).unwrap().permissions().mode() & 0o777, dir, "the pulled folder");
        for (path, mode) in modes_under(&pulled) {
            let executable = path.ends_with("infer.py") || path.ends_with("validate.py");
            let expected =
                if layout.join(&path).is_dir() || pulled.join(&path).is_dir() || executable { dir } else { file };
            assert_eq!(mode, expected, "umask {umask}: pulled {path} is {mode:o}");
        }
        let page = tmp.path().join(format!("index-{umask}.html"));
        zoo_as(
            tmp.path(),
            umask,
            None,
            &["index", "-q", "--format", "html", "-o", page.to_str().unwrap(), &format!("oci:{}", layout.display())],
        )
        .ok();
        assert_eq!(fs::metadata(&page).unwrap().permissions().mode() & 0o777, file, "the index page");
    }
}

#[test]
fn a_layout_one_user_pushed_another_user_reads_and_pulls() {
    let tmp = scratch();
    assert_eq!(
        Command::new("id").arg("-u").output().unwrap().stdout,
        b"0\n",
        "setup: this test switches users and must run as root"
    );
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let at = format!("oci:{}:1.0", layout.display());
    zoo_as(tmp.path(), "022", None, &["push", "-q", suite.to_str().unwrap(), &at]).ok();
    // Another user, with a folder of its own to pull into.
    let theirs = tmp.path().join("nobody");
    fs::create_dir(&theirs).unwrap();
    std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
    zoo_as(&theirs, "022", Some(65534), &["inspect", &at]).ok().stdout_has("tiny 1.0.0");
    let out = theirs.join("tiny");
    zoo_as(&theirs, "022", Some(65534), &["pull", "-q", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}
