//! One big blob over several connections (issue 20, point 2): behind a limit per connection
//! (nginx from Debian, `limit_rate`) a raw layer comes down in parallel byte ranges, written in
//! place and hashed in order; a proxy that drops `Range` gets one stream; a part cut mid-way is
//! asked for again from where it stopped, not from its start.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::util::nginx::{Nginx, Ranges};
use crate::util::proxy::{Fault, FaultProxy};
use crate::util::registry::Registry;
use crate::util::*;

const MIB: u64 = 1 << 20;
/// Over `download::PARALLEL_FROM` (32 MiB): six parts of 8 MiB.
const BIG: usize = 48 << 20;
/// nginx's limit per connection. nginx lets each request have its first second of bytes at once
/// (`limit_rate` × (elapsed + 1 s)): at 4 MB/s an 8 MiB part is half burst, half limited, so
/// what beats one connection here is connections side by side, not the burst alone.
const RATE: u64 = 4_000_000;

/// A suite of one big raw weights file, pushed to `registry` as `zoo/big:1`.
fn push_big(tmp: &Path, registry: &Registry) -> PathBuf {
    let suite = tmp.join("big");
    write(&suite, "model.safetensors", safetensors_model(&pseudo_random(BIG, 11)), false);
    write(&suite, "README.md", "# big\n", false);
    write(
        &suite,
        "zoo.yaml",
        "name: big\nversion: \"1\"\nsummary: one big file\nlicense: MIT\nmodels:\n  - {name: w, path: model.safetensors, framework: safetensors}\n",
        false,
    );
    run_in(tmp, &["push", "-q", "--plain-http", suite.to_str().unwrap(), &registry.at("zoo/big:1")]).ok();
    suite
}

/// `zoo-oci pull -q --plain-http AT -o OUT` with a cache of the test's own: the tests' blobs are
/// the same bytes, and a partial download another test holds is not shared.
fn pull(tmp: &Path, at: &str, out: &Path) -> Run {
    let cache = tmp.join("cache");
    run_env(
        tmp,
        &[("ZOO_OCI_CACHE", cache.to_str().unwrap())],
        &["pull", "-q", "--plain-http", at, "-o", out.to_str().unwrap()],
    )
}

/// The most answers in `answers` under way at one time.
fn most_at_once(answers: &[(u16, u64, f64, f64)]) -> usize {
    answers
        .iter()
        .map(|(_, _, start, _)| answers.iter().filter(|(_, _, s, e)| s <= start && start < e).count())
        .max()
        .unwrap_or(0)
}

fn weights_digest(suite: &Path) -> String {
    zoo_oci::digest::of_bytes(&fs::read(suite.join("model.safetensors")).unwrap())
}

#[test]
fn behind_a_per_connection_limit_a_big_blob_comes_down_in_parallel_ranges() {
    let tmp = scratch();
    let registry = Registry::plain();
    let suite = push_big(tmp.path(), &registry);
    let nginx = Nginx::limiting(&registry.addr, RATE, Ranges::Passed);
    let out = tmp.path().join("out");
    let started = Instant::now();
    pull(tmp.path(), &nginx.at("zoo/big:1"), &out).ok();
    let took = started.elapsed().as_secs_f64();
    assert_same_tree(&suite, &out);

    let got = nginx.answers(&weights_digest(&suite));
    assert!(got.len() >= 6 && got.iter().all(|(status, ..)| *status == 206), "parts, each a 206: {got:?}");
    let size = fs::metadata(suite.join("model.safetensors")).unwrap().len();
    assert_eq!(got.iter().map(|(_, bytes, ..)| bytes).sum::<u64>(), size, "each byte once: {got:?}");
    assert_eq!(most_at_once(&got), 4, "four ranges side by side: {got:?}");
    // One connection cannot move the blob faster than the limit allows (after its first
    // second's burst): three quarters of that time is a bound only several connections at once
    // meet (not a speed measurement: the limit is nginx's, exact; four connections take about a
    // quarter, and a loaded machine's hashing and writing get the rest of the margin).
    let one_connection = (size - RATE) as f64 / RATE as f64;
    assert!(took < one_connection * 0.75, "{took:.1} s, one connection needs at least {one_connection:.1} s");
}

#[test]
fn a_proxy_that_drops_ranges_gets_one_stream_and_the_same_bytes() {
    let tmp = scratch();
    let registry = Registry::plain();
    let suite = push_big(tmp.path(), &registry);
    let nginx = Nginx::limiting(&registry.addr, 1 << 30, Ranges::Dropped);
    let out = tmp.path().join("out");
    pull(tmp.path(), &nginx.at("zoo/big:1"), &out).ok();
    assert_same_tree(&suite, &out);
    let got = nginx.answers(&weights_digest(&suite));
    // The ranges asked for came back whole (200) and were given up (nginx logs 499 for a client
    // that went away); then one stream, whole.
    let size = fs::metadata(suite.join("model.safetensors")).unwrap().len();
    assert!(got.iter().all(|(status, ..)| matches!(status, 200 | 499)), "{got:?}");
    assert!(got.len() <= 1 + 4, "one stream after the refused ranges: {got:?}");
    assert_eq!(got.iter().filter(|(_, bytes, ..)| *bytes == size).count(), 1, "one whole stream: {got:?}");
}

#[test]
fn a_part_cut_mid_way_is_asked_for_again_from_where_it_stopped() {
    let tmp = scratch();
    let registry = Registry::plain();
    let suite = push_big(tmp.path(), &registry);
    let digest = weights_digest(&suite);
    // The first two GETs of the weights (two parts) are cut after half of their answer.
    let pattern: &'static str = Box::leak(format!("/blobs/{digest}").into_boxed_str());
    let proxy = FaultProxy::start(&registry.addr, Fault::CutResponse(pattern, 2));
    let out = tmp.path().join("out");
    pull(tmp.path(), &proxy.at("zoo/big:1"), &out).ok();
    assert_same_tree(&suite, &out);
    let served: u64 = registry
        .blob_downloads()
        .iter()
        .filter(|(request, _, _)| request.ends_with(&digest))
        .map(|(_, _, bytes)| bytes)
        .sum();
    // The registry sends a cut part whole to the proxy, which passes half on: two parts started
    // over would cost two whole parts (16 MiB) more, continued from where they stopped half that.
    assert!(
        served < BIG as u64 + 2 * 8 * MIB,
        "{served} bytes served for a {BIG}-byte blob: {:#?}",
        registry.blob_downloads()
    );
    let ranges: Vec<String> =
        proxy.log().into_iter().filter(|l| l.starts_with("GET ") && l.contains(&digest)).collect();
    assert!(ranges.len() >= 6 + 2, "the cut parts were asked for again: {ranges:#?}");
}

#[test]
fn a_pull_killed_mid_way_fetches_only_the_parts_it_lacks_in_the_next_run() {
    let tmp = scratch();
    let registry = Registry::plain();
    let suite = push_big(tmp.path(), &registry);
    let digest = weights_digest(&suite);
    let hex: &'static str = String::leak(digest.trim_start_matches("sha256:").to_string());
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("out");
    // Slowed by nginx, so that the pull is killed with some parts done and some not.
    let nginx = Nginx::limiting(&registry.addr, RATE, Ranges::Passed);
    let slow = nginx.at("zoo/big:1");
    let args = |at: &str| ["pull", "-q", "--plain-http", at, "-o", out.to_str().unwrap()].map(String::from);
    let mut child = zoo().current_dir(tmp.path()).env("ZOO_OCI_CACHE", &cache).args(args(&slow)).spawn().unwrap();
    let state = cache.join("partial").join(format!("{hex}.parts"));
    let done = || -> Vec<u64> {
        let parsed: Option<serde_json::Value> = fs::read(&state).ok().and_then(|b| serde_json::from_slice(&b).ok());
        parsed.map(|s| s["done"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()).collect()).unwrap_or_default()
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    let begun = || -> bool {
        let parsed: Option<serde_json::Value> = fs::read(&state).ok().and_then(|b| serde_json::from_slice(&b).ok());
        parsed.is_some_and(|s| s["begun"].as_object().is_some_and(|m| !m.is_empty()))
    };
    while done().len() < 2 || !begun() {
        assert!(Instant::now() < deadline, "no part finished");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = done();
    // The parts in flight when it was killed noted how far they were written (every MiB).
    let recorded: serde_json::Value = serde_json::from_slice(&fs::read(&state).unwrap()).unwrap();
    let in_flight: std::collections::BTreeMap<u64, u64> = recorded["begun"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.parse().unwrap(), v.as_u64().unwrap())).collect())
        .unwrap_or_default();
    assert!(!in_flight.is_empty(), "parts in flight note their progress: {recorded}");
    let begun = in_flight;
    assert!(kept.len() < BIG / (8 << 20), "killed before the end: {kept:?}");
    assert!(!out.exists(), "nothing of a killed pull is in place");

    let proxy = FaultProxy::start(&registry.addr, Fault::Delay("never-matches", 0));
    run_env(
        tmp.path(),
        &[("ZOO_OCI_CACHE", cache.to_str().unwrap())],
        &args(&proxy.at("zoo/big:1")).each_ref().map(String::as_str),
    )
    .ok();
    assert_same_tree(&suite, &out);
    let answers = proxy.served(hex);
    for part in &kept {
        let start = part * (8 << 20);
        assert!(
            !answers.iter().any(|(_, range)| range.starts_with(&format!("bytes={start}-"))),
            "part {part} again: {answers:?}"
        );
    }
    let size = fs::metadata(suite.join("model.safetensors")).unwrap().len();
    let part = 8u64 << 20;
    let lacking: u64 = (0..size.div_ceil(part))
        .filter(|p| !kept.contains(p))
        .map(|p| part.min(size - p * part) - begun.get(&p).copied().unwrap_or(0))
        .sum();
    let sent: u64 = answers.iter().map(|(bytes, _)| bytes).sum();
    assert_eq!(sent, lacking, "only what it lacked was sent again (kept {kept:?}, begun {begun:?}): {answers:?}");
    for (part, written) in &begun {
        let from = part * (8 << 20) + written;
        assert!(
            answers.iter().any(|(_, range)| range.starts_with(&format!("bytes={from}-"))),
            "part {part} continued from byte {from}: {answers:?}"
        );
    }
    assert!(!state.exists() && !cache.join("partial").join(hex).exists(), "the partial file became the pulled file");
}
