//! The upload sessions this process has open on registries, so that a run that ends without
//! closing them (Ctrl-C, SIGTERM, a failed push) cancels them on its way out. A registry keeps
//! the bytes of an abandoned session in its `_uploads/` until its own purge (Distribution's:
//! a week later): a 1 GiB push interrupted a third of the way left 322 MB there.
//!
//! Process-wide because an interrupted operation is dropped as a whole, with the stores that
//! opened the sessions; what is left to the caller is one call, [`cancel_all`]. A session is
//! known by its URL without the query: Distribution's `_state` changes with every chunk, the
//! path stays.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::api::{Api, TokenScope};

struct Open {
    api: Arc<Api>,
    scope: TokenScope,
    url: String,
}

static OPEN: Mutex<BTreeMap<String, Open>> = Mutex::new(BTreeMap::new());

/// The tasks that stream one-pass uploads: spawned on the runtime, they outlive the operation
/// that was dropped. Its spools end their bodies cleanly, so that each task hears the
/// registry's answer (the session's `Location` at its new offset) and cancels its session
/// itself: a `DELETE` of a session whose `PATCH` was cut mid-body is refused by Distribution 2.8
/// ("upload resumed at wrong offset"), which then keeps the bytes.
static TASKS: Mutex<Vec<tokio::task::AbortHandle>> = Mutex::new(Vec::new());

/// Notes a task that streams an upload, to stop it if the run is cut short.
pub(super) fn track(task: tokio::task::AbortHandle) {
    let mut tasks = TASKS.lock().unwrap_or_else(|e| e.into_inner());
    tasks.retain(|t| !t.is_finished());
    tasks.push(task);
}

fn key(url: &str) -> &str {
    url.split_once('?').map_or(url, |(path, _)| path)
}

/// Notes a session the registry opened at `url`.
pub(super) fn opened(api: &Arc<Api>, scope: &TokenScope, url: &str) {
    let open = Open { api: api.clone(), scope: scope.clone(), url: url.to_string() };
    OPEN.lock().unwrap_or_else(|e| e.into_inner()).insert(key(url).to_string(), open);
}

/// Notes the session's latest URL (a registry answers each `PATCH` with the next one).
pub(super) fn moved(url: &str) {
    if let Some(open) = OPEN.lock().unwrap_or_else(|e| e.into_inner()).get_mut(key(url)) {
        open.url = url.to_string();
    }
}

/// Forgets the session at `url` (any of its URLs): it was closed or cancelled.
pub(super) fn closed(url: &str) {
    OPEN.lock().unwrap_or_else(|e| e.into_inner()).remove(key(url));
}

/// How many sessions are open.
pub fn open_count() -> usize {
    OPEN.lock().unwrap_or_else(|e| e.into_inner()).len()
}

/// Cancels every upload session still open, within `within` in all: waits for the upload tasks
/// to cancel theirs, then `DELETE`s the rest at once; returns how many sessions were open. A
/// session a registry does not cancel expires there in its own time. A session a registry does not cancel
/// expires there in its own time.
pub async fn cancel_all(within: Duration) -> usize {
    let deadline = tokio::time::Instant::now() + within;
    let count = open_count();
    // The upload tasks first: each cancels its own session once its body has ended.
    let tasks = std::mem::take(&mut *TASKS.lock().unwrap_or_else(|e| e.into_inner()));
    while tasks.iter().any(|t| !t.is_finished()) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open: Vec<Open> = std::mem::take(&mut *OPEN.lock().unwrap_or_else(|e| e.into_inner())).into_values().collect();
    let deletes = open.into_iter().map(|o| async move {
        let _ = o.api.send_once(&o.scope, "cancelling an upload", |http| http.delete(&o.url)).await;
    });
    let _ = tokio::time::timeout_at(deadline, futures::future::join_all(deletes)).await;
    count
}
