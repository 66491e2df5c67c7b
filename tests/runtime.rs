//! Blocking file-system work stays off the async runtime's threads: on a runtime of one thread,
//! a task beside the operation keeps ticking while a re-pull hashes the files touched since the
//! last pull (the heaviest of them; `syncfs`, sweeping a killed run's scratch folder and the swap
//! go the same way, through `pull::blocking`).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use zoo_oci::ops::{self, Context, PullOptions};
use zoo_oci::reference::Location;

use crate::util::*;

/// Runs `operation` on a one-thread runtime beside a task that ticks every 5 ms; gives the
/// operation's result and the longest gap between two ticks.
fn longest_stall<T>(operation: impl std::future::Future<Output = T>) -> (T, Duration) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let longest = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let result = runtime.block_on(async {
        let ticker = {
            let (longest, done) = (longest.clone(), done.clone());
            tokio::spawn(async move {
                let mut last = Instant::now();
                while !done.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let gap = last.elapsed().as_micros() as u64;
                    longest.fetch_max(gap, Ordering::Relaxed);
                    last = Instant::now();
                }
            })
        };
        let result = operation.await;
        done.store(true, Ordering::Relaxed);
        let _ = ticker.await;
        result
    });
    (result, Duration::from_micros(longest.load(Ordering::Relaxed)))
}

fn context(root: &Path) -> Context {
    Context { cache_root: Some(root.join("cache")), ..Context::default() }
}

#[test]
fn a_re_pull_hashes_the_touched_files_off_the_runtime() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    // Big enough that hashing it (a debug build) takes far longer than the bound below.
    write(&suite, "data/test/big.bin", pseudo_random(256 << 20, 5), false);
    let layout = format!("oci:{}:1", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &layout]).ok();
    let out = tmp.path().join("out");
    let mut options = PullOptions::new(Location::parse(&layout).unwrap());
    options.destination = Some(out.clone());
    let context = context(tmp.path());
    let (first, _) = longest_stall(ops::pull(&options, &context));
    first.unwrap();
    // Touched, not changed: the re-pull must hash it to know it is still the pull's.
    touch_ahead(&out.join("data/test/big.bin"), Duration::from_secs(5));
    let started = Instant::now();
    let (again, stall) = longest_stall(ops::pull(&options, &context));
    let took = started.elapsed();
    assert!(again.unwrap().up_to_date);
    assert!(took > Duration::from_millis(100), "hashing 256 MiB took only {took:?}: the test proves nothing");
    assert!(stall < took / 3, "the runtime stalled {stall:?} of the re-pull's {took:?}");
}

#[test]
fn a_tag_waits_for_the_layouts_lock_off_the_runtime() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let zoo = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", zoo.display())]).ok();
    // Another writer holds the layout's lock (the `oci-layout` file every writer locks) for 600 ms.
    let marker = std::fs::File::open(zoo.join("oci-layout")).unwrap();
    marker.lock().unwrap();
    let held = Duration::from_millis(600);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(held);
        drop(marker);
    });
    let options =
        ops::TagOptions::new(Location::parse(&format!("oci:{}:1", zoo.display())).unwrap(), vec!["stable".into()]);
    let started = Instant::now();
    let (tagged, stall) = longest_stall(ops::tag(&options, &context(tmp.path())));
    let took = started.elapsed();
    releaser.join().unwrap();
    tagged.unwrap();
    assert!(took >= held / 2, "the tag took {took:?}: it did not wait for the lock, the test proves nothing");
    assert!(stall < Duration::from_millis(200), "the runtime stalled {stall:?} while the tag waited {took:?}");
    let index = std::fs::read_to_string(zoo.join("index.json")).unwrap();
    assert!(index.contains("\"stable\""), "the tag was written once the lock was free: {index}");
}
