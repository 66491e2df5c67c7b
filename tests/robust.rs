//! Production faults a platform team meets unwatched: a registry that stops answering with its
//! connections open (SIGSTOP) must end a pull or push in bounded time, exit 1 naming the
//! registry and the blob, and leave nothing behind.

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::registry::Registry;
use crate::util::*;

/// The big file's size: 192 MiB, or `ZOO_OCI_TEST_BIG_MIB` (the README's 1 GiB figures).
fn big() -> usize {
    std::env::var("ZOO_OCI_TEST_BIG_MIB").ok().and_then(|m| m.parse::<usize>().ok()).unwrap_or(192) << 20
}

/// A suite with one big dataset file, so that a transfer is under way long enough to stall it.
fn big_suite(root: &Path) -> std::path::PathBuf {
    let suite = small_suite(root);
    write(&suite, "data/test/big.bin", pseudo_random(big(), 42), false);
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
    // Packing goes on hashing every layer after the freeze (the manifest needs their digests),
    // which a debug build does at some 16 MB/s: 48 MiB keeps that floor under the bound below
    // while the upload is still under way when the registry freezes.
    let suite = small_suite(tmp.path());
    write(&suite, "data/test/big.bin", pseudo_random(48 << 20, 42), false);
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
    // One commit waits out its timeout; the others are left to the copy, not tried in turn.
    assert!(run.stderr.matches("closing the upload of").count() <= 1, "{}", run.stderr);
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

/// The names in `dir`, but the layout ingest folder's lock file (which stays, empty).
fn entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n != ".lock").collect())
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

/// The digest of the dataset layer of `at`, read with inspect.
fn dataset_layer(cwd: &Path, at: &str) -> (String, u64) {
    let v: serde_json::Value =
        serde_json::from_str(&run_in(cwd, &["inspect", "--plain-http", "--format", "json", at]).ok().stdout).unwrap();
    let layer = v["layers"].as_array().unwrap().iter().find(|l| l["class"] == "dataset").unwrap().clone();
    (layer["digest"].as_str().unwrap().to_string(), layer["size"].as_u64().unwrap())
}

/// The big suite pushed to `reg` as `zoo/big:1`: the suite folder, its location, and the hex
/// digest (for proxy patterns) and size of its dataset layer.
fn big_suite_in(reg: &Registry, root: &Path) -> (std::path::PathBuf, String, &'static str, u64) {
    let suite = big_suite(root);
    let at = reg.at("zoo/big:1");
    run_in(root, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    let (digest, size) = dataset_layer(root, &at);
    // The proxy's patterns live as long as the test binary.
    (suite, at, String::leak(digest.trim_start_matches("sha256:").to_string()), size)
}

#[test]
fn a_download_cut_at_half_resumes_with_a_range_and_sends_each_byte_once() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let (suite, _, hex, size) = big_suite_in(&reg, tmp.path());
    let proxy = FaultProxy::start(&reg.addr, Fault::CutResponse(hex, 1));
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("out");
    run_env(
        tmp.path(),
        &[("ZOO_OCI_CACHE", cache.to_str().unwrap())],
        &["pull", "-q", "--plain-http", "--only", "dataset", &proxy.at("zoo/big:1"), "-o", out.to_str().unwrap()],
    )
    .ok();
    assert_same_tree(&suite.join("data"), &out.join("data"));
    let answers = proxy.served(hex);
    assert_eq!(answers.len(), 2, "one cut answer, one resumed: {answers:?}");
    let (first, resumed) = (&answers[0], &answers[1]);
    assert_eq!(
        resumed.1,
        format!("bytes={}-{}", first.0, size - 1),
        "the second request continues where the first was cut"
    );
    let total: u64 = answers.iter().map(|a| a.0).sum();
    eprintln!("resumed download of {size} bytes cut at half: {} bytes sent, {} again", total, total - size);
    assert_eq!(total, size, "each byte was sent once");
    assert!(
        fs::read_dir(cache.join("partial")).unwrap().next().is_none(),
        "the partial file is gone once the blob is stored"
    );
}

#[test]
fn a_pull_killed_mid_download_resumes_in_the_next_run() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let (suite, at, hex, size) = big_suite_in(&reg, tmp.path());
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("out");
    let args = ["pull", "-q", "--plain-http", "--only", "dataset", &at, "-o", out.to_str().unwrap()];
    let mut child = zoo()
        .current_dir(tmp.path())
        .env("ZOO_OCI_CACHE", &cache)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let partial = cache.join("partial").join(hex);
    when(|| fs::metadata(&partial).map(|m| m.len() > 8 << 20).unwrap_or(false));
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = fs::metadata(&partial).unwrap().len();
    assert!(kept > 0 && kept < size, "{kept} of {size} bytes kept");

    let proxy = FaultProxy::start(&reg.addr, Fault::Delay("never-matches", 0));
    let through = proxy.at("zoo/big:1");
    let mut args = args.to_vec();
    args[5] = &through;
    run_env(tmp.path(), &[("ZOO_OCI_CACHE", cache.to_str().unwrap())], &args).ok();
    assert_same_tree(&suite.join("data"), &out.join("data"));
    let answers = proxy.served(hex);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0].1.starts_with(&format!("bytes={kept}-")), "resumed from the kept prefix: {answers:?}");
    assert_eq!(answers[0].0, size - kept, "only the rest was sent");
}

#[test]
fn an_upload_that_fails_midway_resumes_from_the_registrys_offset() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    // A push that knows the layers' digests already (the digest cache, filled by a push to a
    // layout) uploads them in a resumable session of 16 MiB chunks: the one half-way through
    // fails.
    run_in(
        tmp.path(),
        &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", tmp.path().join("zoo").display())],
    )
    .ok();
    let half = big() / (16 << 20) / 2;
    let proxy = FaultProxy::start(&reg.addr, Fault::FailNth("PATCH ", half));
    let at = proxy.at("zoo/big:1");
    run_in(tmp.path(), &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]).ok();
    assert_eq!(proxy.faults().len(), 1, "{:?}", proxy.faults());
    let (digest, size) = dataset_layer(tmp.path(), &reg.at("zoo/big:1"));
    let _ = digest;
    let forwarded: u64 = proxy
        .log()
        .iter()
        .filter(|l| l.starts_with("RECV ") && l.contains("PATCH "))
        .map(|l| l.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
        .sum();
    eprintln!(
        "resumed upload of {size} bytes failing at chunk {half}: the registry received {forwarded} bytes, {} again",
        forwarded - size
    );
    assert_eq!(forwarded, size, "the registry received each byte once");
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &reg.at("zoo/big:1"), "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

/// A first push streams each layer to the registry while hashing it, in one `PATCH` per layer:
/// every file is read once and every byte sent once.
#[test]
fn a_first_push_uploads_each_layer_while_hashing_it() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let proxy = FaultProxy::start(&reg.addr, Fault::Delay("never-matches", 0));
    let at = proxy.at("zoo/big:1");
    let pushed = run_in(tmp.path(), &["push", "--plain-http", "--format", "json", suite.to_str().unwrap(), &at]);
    let report: serde_json::Value = serde_json::from_str(&pushed.ok().stdout).unwrap();
    let (_, size) = dataset_layer(tmp.path(), &reg.at("zoo/big:1"));
    let log = proxy.log();
    let received = |method: &str| -> Vec<u64> {
        log.iter()
            .filter(|l| l.starts_with("RECV ") && l.contains(&format!(" {method} ")) && l.contains("/blobs/uploads/"))
            .map(|l| l.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
            .collect()
    };
    assert_eq!(
        received("PATCH").iter().filter(|&&n| n == size).count(),
        1,
        "one PATCH carried the dataset layer: {log:?}"
    );
    let sent: u64 = received("PATCH").iter().chain(received("PUT").iter()).sum();
    assert_eq!(sent, report["uploaded_bytes"].as_u64().unwrap(), "every byte sent once: {log:?}");
    assert_eq!(report["skipped"], 0, "{report}");
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &reg.at("zoo/big:1"), "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

/// A one-pass upload whose connection breaks off half-way is continued after packing in the
/// same session, from the offset the registry reports. (CNCF Distribution reports the offset its
/// `_state` token recorded when the session's URL was handed out, here 0, so with it the layer
/// is sent again whole; registries that track sessions server-side report what they kept.)
#[test]
fn a_one_pass_upload_cut_half_way_is_continued_after_packing() {
    use crate::util::proxy::{Fault, FaultProxy};
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let proxy = FaultProxy::start(&reg.addr, Fault::CutUpload("PATCH "));
    let at = proxy.at("zoo/big:1");
    run_in(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &at]).ok().stderr_has("uploading it again");
    assert_eq!(proxy.faults().len(), 1, "{:?}", proxy.faults());
    let (_, size) = dataset_layer(tmp.path(), &reg.at("zoo/big:1"));
    let log = proxy.log();
    let patches: Vec<u64> = log
        .iter()
        .filter(|l| l.starts_with("RECV ") && l.contains("PATCH "))
        .map(|l| l.split(' ').nth(1).unwrap().parse::<u64>().unwrap())
        .filter(|&n| n > 1 << 20)
        .collect();
    let forwarded: u64 = patches.iter().sum();
    eprintln!("one-pass upload of {size} bytes cut half-way: the registry received {forwarded} bytes of it");
    assert!(forwarded > size && forwarded <= size + size / 2 + 1, "half, then at most the whole again: {patches:?}");
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &reg.at("zoo/big:1"), "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

/// The resumable session answers a registry's Bearer challenge as oci-client does: a token from
/// the service the challenge names, for the configured credentials.
#[test]
fn a_big_upload_through_a_token_service_authenticates_its_session() {
    use crate::util::proxy::{Fault, FaultProxy, TOKEN};
    use crate::util::registry::{PASSWORD, USER};
    let reg = Registry::plain();
    let proxy = FaultProxy::start(&reg.addr, Fault::BearerAuth(USER, PASSWORD));
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    let at = proxy.at("zoo/big:1");
    let creds = [("ZOO_OCI_USERNAME", USER), ("ZOO_OCI_PASSWORD", PASSWORD)];
    let pushed = run_env(tmp.path(), &creds, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &at]);
    pushed.ok();
    assert!(!pushed.stderr.contains(TOKEN) && !pushed.stderr.contains(PASSWORD), "a secret leaked");
    let log = proxy.log();
    assert!(log.iter().any(|l| l.starts_with("PATCH ")), "the big blob went up in a session");
    let out = tmp.path().join("out");
    run_env(tmp.path(), &creds, &["pull", "-q", "--plain-http", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
}

/// The files of the registry's upload sessions of `repository` (Distribution's `_uploads/`),
/// with their sizes.
fn upload_files(reg: &Registry, repository: &str) -> Vec<(String, usize)> {
    // Read while the registry writes: a file or folder that goes away meanwhile is skipped.
    fn walk(path: &Path, name: String, found: &mut Vec<(String, usize)>) {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => {
                for entry in fs::read_dir(path).into_iter().flatten().flatten() {
                    let child = format!("{name}/{}", entry.file_name().to_string_lossy());
                    walk(&entry.path(), child, found);
                }
            }
            Ok(m) => found.push((name, m.len() as usize)),
            Err(_) => {}
        }
    }
    let uploads = reg.data_dir().join("data/docker/registry/v2/repositories").join(repository).join("_uploads");
    let mut found = Vec::new();
    walk(&uploads, String::new(), &mut found);
    found
}

#[test]
fn ctrl_c_or_sigterm_mid_registry_push_cancels_the_upload_sessions_on_the_registry() {
    let reg = Registry::plain();
    let tmp = scratch();
    let suite = big_suite(tmp.path());
    for (signal_name, code) in [("INT", 130), ("TERM", 143)] {
        let repository = format!("zoo/cut-{}", signal_name.to_lowercase());
        let at = reg.at(&format!("{repository}:1"));
        let child = spawn(tmp.path(), &["push", "--plain-http", suite.to_str().unwrap(), &at]);
        let uploaded = || upload_files(&reg, &repository).iter().map(|(_, size)| size).sum::<usize>();
        when(|| uploaded() > 1 << 20);
        signal(&child, signal_name);
        let (run, _) = finish(child);
        run.code(code).stderr_has(&format!("stopped by SIG{signal_name}")).stderr_has("upload session");
        let log = reg.log();
        let deletes: Vec<&str> =
            log.lines().filter(|l| l.contains(&format!("\"DELETE /v2/{repository}/blobs/uploads/"))).collect();
        let posts = log.lines().filter(|l| l.contains(&format!("\"POST /v2/{repository}/blobs/uploads/"))).count();
        assert_eq!(deletes.len(), posts, "every session opened is cancelled:\n{log}");
        assert!(deletes.iter().all(|l| l.contains("HTTP/1.1\" 204 ")), "every cancel is accepted:\n{deletes:#?}");
        // What Distribution 2.8 keeps of a cancelled session is the 108-byte hash state its
        // DELETE handler writes after removing the session: no byte of the layers.
        let data: Vec<_> =
            upload_files(&reg, &repository).into_iter().filter(|(name, _)| !name.contains("/hashstates/")).collect();
        assert!(data.is_empty(), "the registry keeps no byte of the interrupted push: {data:?}");
    }
}
