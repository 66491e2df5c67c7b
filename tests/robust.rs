//! Production faults a platform team meets unwatched: a registry that stops answering with its
//! connections open (SIGSTOP) must end a pull or push in bounded time, exit 1 naming the
//! registry and the blob, and leave nothing behind.

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::registry::Registry;
use crate::util::*;

const BIG: usize = 192 << 20;

/// A suite with one big dataset file, so that a transfer is under way long enough to stall it.
fn big_suite(root: &Path) -> std::path::PathBuf {
    let suite = small_suite(root);
    write(&suite, "data/test/big.bin", pseudo_random(BIG, 42), false);
    suite
}

fn spawn(cwd: &Path, args: &[&str]) -> Child {
    zoo().current_dir(cwd).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

/// Waits until `ready` says the transfer is under way, then gives the time.
fn when(ready: impl Fn() -> bool) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "the transfer never started");
        std::thread::sleep(Duration::from_millis(5));
    }
    Instant::now()
}

fn finish(child: Child) -> (Run, Instant) {
    let out = child.wait_with_output().unwrap();
    (Run::from(out), Instant::now())
}

/// Bytes in files under `dir` whose names start with `prefix` (scratch folders of a pull).
fn partial_bytes(dir: &Path, prefix: &str) -> u64 {
    fn walk(path: &Path) -> u64 {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => fs::read_dir(path).map(|d| d.flatten().map(|e| walk(&e.path())).sum()).unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    fs::read_dir(dir)
        .map(|d| {
            d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(prefix)).map(|e| walk(&e.path())).sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_registry_frozen_mid_pull_ends_the_pull_in_bounded_time_and_leaves_nothing() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let at = reg.at("zoo/big:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();

    let out = tmp.path().join("out");
    let child = spawn(
        tmp.path(),
        &[
            "pull",
            "--plain-http",
            "--timeout",
            "2s",
            "--retry-timeout",
            "3s",
            "--only",
            "dataset",
            &at,
            "-o",
            out.to_str().unwrap(),
        ],
    );
    let stalled = when(|| partial_bytes(tmp.path(), "out.partial-") > 1 << 20);
    reg.pause();
    let (run, ended) = finish(child);
    reg.resume();
    let took = ended - stalled;
    eprintln!("pull: {:.1} s from the stall to the exit (--timeout 2s, --retry-timeout 3s)", took.as_secs_f64());
    run.code(1).stderr_has(&reg.addr).stderr_has("data/test/");
    assert!(took < Duration::from_secs(30), "the pull took {took:?} to give up");
    assert!(!out.exists(), "no destination is left");
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().starts_with("out."))
        .collect();
    assert!(leftovers.is_empty(), "scratch folders left: {leftovers:?}");
}

#[test]
fn a_registry_frozen_mid_push_ends_the_push_in_bounded_time() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let child = spawn(
        tmp.path(),
        &[
            "push",
            "--plain-http",
            "--timeout",
            "2s",
            "--retry-timeout",
            "3s",
            suite.to_str().unwrap(),
            &reg.at("zoo/big:1"),
        ],
    );
    // The registry writes what it receives under its upload folder: freeze it once bytes arrive.
    let uploads = reg.data_dir().join("data/docker/registry/v2/repositories/zoo/big/_uploads");
    let stalled = when(|| partial_bytes(&uploads, "") > 1 << 20);
    reg.pause();
    let (run, ended) = finish(child);
    reg.resume();
    let took = ended - stalled;
    eprintln!("push: {:.1} s from the stall to the exit (--timeout 2s, --retry-timeout 3s)", took.as_secs_f64());
    run.code(1).stderr_has(&reg.addr).stderr_has("data/test/");
    assert!(took < Duration::from_secs(30), "the push took {took:?} to give up");
}

#[test]
fn a_zero_timeout_is_a_usage_error() {
    let tmp = scratch();
    run_in(tmp.path(), &["pull", "--timeout", "0", "oci:zoo:1"]).code(2).stderr_has("positive duration");
}

#[test]
fn a_pull_killed_mid_transfer_is_followed_by_a_clean_run() {
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let layout = format!("oci:{}:1", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &layout]).ok();
    let out = tmp.path().join("out");
    let mut child = spawn(tmp.path(), &["pull", "-q", &layout, "-o", out.to_str().unwrap()]);
    when(|| partial_bytes(tmp.path(), "out.partial-") > 1 << 20);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(partial_bytes(tmp.path(), "out.partial-") > 0, "the killed pull left its scratch folder");
    run_in(tmp.path(), &["pull", "-q", &layout, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("out."))
        .collect();
    assert!(leftovers.is_empty(), "the next run swept {leftovers:?}");
}

fn signal(child: &Child, name: &str) {
    let status =
        std::process::Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn ctrl_c_mid_pull_exits_130_and_removes_the_scratch_folder() {
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let layout = format!("oci:{}:1", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &layout]).ok();
    let out = tmp.path().join("out");
    let child = spawn(tmp.path(), &["pull", "-q", &layout, "-o", out.to_str().unwrap()]);
    when(|| partial_bytes(tmp.path(), "out.partial-") > 1 << 20);
    signal(&child, "INT");
    let (run, _) = finish(child);
    run.code(130).stderr_has("stopped by SIGINT");
    assert!(!out.exists());
    assert!(!entries(tmp.path()).iter().any(|n| n.starts_with("out.")), "{:?}", entries(tmp.path()));
}

#[test]
fn sigterm_mid_push_exits_143_and_a_killed_push_leaves_nothing_after_the_next() {
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let zoo = tmp.path().join("zoo");
    let at = format!("oci:{}:1", zoo.display());
    let ingest = zoo.join(".zoo-oci-ingest");
    let writing = || partial_bytes(&ingest, "") > 1 << 20;

    let child = spawn(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at]);
    when(writing);
    signal(&child, "TERM");
    let (run, _) = finish(child);
    run.code(143).stderr_has("stopped by SIGTERM");
    assert!(entries(&ingest).is_empty(), "temp files left: {:?}", entries(&ingest));

    // SIGKILL leaves a temp file; the next push sweeps it, and holds no stray data after.
    let mut child = spawn(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at]);
    when(writing);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!entries(&ingest).is_empty(), "the killed push left its temp file");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &at]).ok();
    assert!(entries(&ingest).is_empty(), "stray data after a full push: {:?}", entries(&ingest));
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}
