//! One-pass uploads ([`Sink::spooler`](crate::store::Sink::spooler)): a layer being packed
//! streams to the registry while the packer hashes it. Its digest is known only at its end, so
//! the monolithic `PUT ?digest=` (which needs it first) cannot carry it; instead `POST` opens a
//! session, one `PATCH` carries the whole body as it is produced (chunked transfer encoding) and
//! ends with the layer ([`Spool::finish`]), and the `PUT ?digest=` that closes the session is
//! sent only once the whole manifest is built. The registry checks the digest then. A spool
//! dropped before that cancels the session (`DELETE`), so a failed push leaves no blob behind.
//!
//! Each layer stands alone: a `PATCH` that fails (a 503, a reset) costs that layer its spool,
//! and its session is left for the upload after packing to continue or replace
//! ([`super::upload::Session::resume`]); the other layers keep theirs. Only a registry that
//! stalls or refuses a streamed body as such is not asked again for the layers still to come.
//!
//! The packer runs on plain threads; the upload is an async task on the runtime the spooler was
//! made on, fed through a bounded channel: at most [`IN_FLIGHT`] batches of [`BATCH`] bytes are
//! held, whatever the layer's size.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use tokio::sync::{mpsc, oneshot};

use super::api::{Api, Refusal};
use super::{RegistryStore, location};
use crate::error::{Error, Result};
use crate::store::{Spool, Spooler};

/// Sessions of one-pass uploads that broke off mid-body, by digest (see
/// [`RegistryStore::push_blob`](crate::store::Sink::push_blob)).
pub type BrokenSessions = Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>;

/// Bytes gathered before they go to the upload task.
const BATCH: usize = 1 << 20;
/// Batches queued for the upload task at most.
const IN_FLIGHT: usize = 4;

/// Starts one-pass uploads into a repository.
pub struct RegistrySpooler {
    api: Arc<Api>,
    repository: String,
    runtime: tokio::runtime::Handle,
    /// Set by a spool the registry stalled on or refused as such: a registry that cannot take a
    /// streamed upload, or is not answering, is not asked again for the layers still to come.
    /// A transient failure of one layer (a 503) does not set it.
    failed: Arc<AtomicBool>,
    broken: BrokenSessions,
}

impl std::fmt::Debug for RegistrySpooler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegistrySpooler({}/{})", self.api.registry(), self.repository)
    }
}

impl RegistrySpooler {
    /// Spools into `repository` through `api`, with upload tasks on the current runtime.
    pub fn new(api: Arc<Api>, repository: &str, broken: BrokenSessions) -> Result<Self> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::failed("one-pass uploads need a tokio runtime").with_cause(e))?;
        Ok(RegistrySpooler { api, repository: repository.to_string(), runtime, failed: Default::default(), broken })
    }
}

impl Spooler for RegistrySpooler {
    fn holds(&self, digest: &str, size: u64) -> bool {
        use crate::store::Store as _;
        let store = RegistryStore::over(self.api.clone(), &self.repository);
        let blob = crate::artifact::manifest::Descriptor::new("application/octet-stream", digest.to_string(), size);
        let idle = self.api.idle_timeout();
        let asked = self.runtime.block_on(async move { tokio::time::timeout(idle, store.exists(&blob)).await });
        matches!(asked, Ok(Ok(true)))
    }

    fn spool(&self) -> Result<Box<dyn Spool>> {
        if self.failed.load(Ordering::Relaxed) {
            return Err(Error::failed("an earlier one-pass upload to this registry stalled or was refused"));
        }
        let (body, receiver) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
        let (patched, on_patched) = oneshot::channel::<()>();
        let (close, closing) = oneshot::channel::<String>();
        let store = RegistryStore::over(self.api.clone(), &self.repository);
        let task = self.runtime.spawn(upload(store, receiver, patched, closing));
        super::sessions::track(task.abort_handle());
        Ok(Box::new(RegistrySpool {
            batch: BytesMut::with_capacity(BATCH),
            body: Some(body),
            patched: Some(on_patched),
            close: Some(close),
            task: Some(task),
            runtime: self.runtime.clone(),
            idle: self.api.idle_timeout(),
            failed: self.failed.clone(),
            finished: false,
            failure: None,
            broken: self.broken.clone(),
        }))
    }
}

/// One layer on its way up.
struct RegistrySpool {
    batch: BytesMut,
    /// The `PATCH` body; dropped, it ends.
    body: Option<mpsc::Sender<io::Result<Bytes>>>,
    /// Hears from the task once the registry accepted the `PATCH`; dropped unsent when it failed.
    patched: Option<oneshot::Receiver<()>>,
    /// Takes the digest that closes the session; dropped unsent, it cancels the session.
    close: Option<oneshot::Sender<String>>,
    task: Option<tokio::task::JoinHandle<std::result::Result<(), Broken>>>,
    runtime: tokio::runtime::Handle,
    idle: std::time::Duration,
    /// Shared with the spooler: set when the registry stalled or refused a streamed body.
    failed: Arc<AtomicBool>,
    /// The body has ended ([`Spool::finish`]).
    finished: bool,
    /// Why this layer's upload failed, once known: its commit reports it.
    failure: Option<Broken>,
    broken: BrokenSessions,
}

impl RegistrySpool {
    /// Hands the gathered bytes to the upload task, waiting at most the idle timeout for room: a
    /// registry that stopped reading fails this write instead of stalling the packer.
    fn send_batch(&mut self) -> io::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let bytes = self.batch.split().freeze();
        let body = self.body.as_ref().ok_or_else(|| io::Error::other("the upload was closed"))?;
        let idle = self.idle;
        // The timer is made inside the runtime's context, which plain threads lack.
        let sent = self.runtime.block_on(async move { tokio::time::timeout(idle, body.send(Ok(bytes))).await });
        match sent {
            Ok(Ok(())) => Ok(()),
            // The task ended (the registry answered early, or the session could not be
            // opened): `finish` learns why from it.
            Ok(Err(_)) => Err(io::Error::other("the upload ended early")),
            Err(_) => {
                self.stalled();
                Err(io::Error::new(io::ErrorKind::TimedOut, "the registry stopped taking the upload"))
            }
        }
    }

    /// The registry took no byte, or gave no answer, for the idle timeout: the task is stopped
    /// and no other layer is spooled to this registry.
    fn stalled(&mut self) {
        if self.failure.is_some() {
            return;
        }
        self.body = None;
        self.close = None;
        if let Some(task) = self.task.take() {
            task.abort();
        }
        self.failed.store(true, Ordering::Relaxed);
        let idle = self.idle.as_secs_f64();
        let error = Error::transport(
            crate::error::TransportFailure::Timeout,
            format!("the registry took no upload byte for {idle:.0} s"),
        );
        self.failure = Some(error.into());
    }

    /// Ends the body and waits (at most the idle timeout) for the registry's answer to the
    /// `PATCH`, noting why it failed if it did.
    fn end_body(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let _ = self.send_batch(); // a failure is the task's to tell, or a stall, noted
        self.body = None;
        if self.failure.is_some() {
            return;
        }
        let Some(patched) = self.patched.take() else { return };
        let idle = self.idle;
        let answer = self.runtime.block_on(async move { tokio::time::timeout(idle, patched).await });
        match answer {
            Ok(Ok(())) => {}
            // The task ended before the `PATCH` was accepted: its outcome says why.
            Ok(Err(_)) => {
                let task = self.task.take().expect("the task is joined once");
                let broken = match self.runtime.block_on(task) {
                    Ok(Err(broken)) => broken,
                    Ok(Ok(())) => Error::failed("the one-pass upload ended early").into(),
                    Err(e) => Error::failed("the one-pass upload task failed").with_cause(e).into(),
                };
                // Refused as such (not a 5xx, not a broken connection): so would the others be.
                if !broken.error.is_retryable() {
                    self.failed.store(true, Ordering::Relaxed);
                }
                self.failure = Some(broken);
            }
            Err(_) => self.stalled(),
        }
    }
}

impl io::Write for RegistrySpool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failure.is_some() || self.finished {
            return Err(io::Error::other("the upload failed"));
        }
        self.batch.extend_from_slice(buf);
        if self.batch.len() >= BATCH {
            self.send_batch()?;
            self.batch.reserve(BATCH);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send_batch()
    }
}

impl Spool for RegistrySpool {
    fn finish(&mut self) -> Result<()> {
        self.end_body();
        match &self.failure {
            Some(broken) => Err(broken.error.clone()),
            None => Ok(()),
        }
    }

    fn commit(mut self: Box<Self>, digest: &str, _size: u64) -> Result<()> {
        self.end_body();
        if let Some(Broken { error, session }) = self.failure.take() {
            // The session the body broke off in, for the upload after packing to continue.
            if let Some(session) = session {
                self.broken.lock().expect("no panics").insert(digest.to_string(), session);
            }
            return Err(error);
        }
        let _ = self.close.take().expect("a spool commits once").send(digest.to_string());
        let task = self.task.take().expect("a spool commits once");
        match self.runtime.block_on(task) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Broken { error, .. })) => Err(error),
            Err(e) => Err(Error::failed("the one-pass upload task failed").with_cause(e)),
        }
    }
}

impl Drop for RegistrySpool {
    fn drop(&mut self) {
        // Not committed: the body ends cleanly where it is, the registry answers the `PATCH`
        // with the session's next URL, and the task cancels the session there (`close` drops
        // unsent), which is safe: only `PUT ?digest=` makes a blob. A body cut mid-way instead
        // leaves a session Distribution 2.8 refuses to cancel, and keeps.
        self.body = None;
    }
}

/// Why an upload task failed, and the session it leaves open when the body broke off after
/// the session was opened: the registry may have kept part of it.
struct Broken {
    error: Error,
    session: Option<String>,
}

impl From<Error> for Broken {
    fn from(error: Error) -> Self {
        Broken { error, session: None }
    }
}

/// The upload task: opens the session, streams the body in one `PATCH` (telling `patched` once
/// the registry accepted it), and closes the session with the digest it is given, or cancels it
/// when the spool is dropped instead.
async fn upload(
    store: RegistryStore,
    mut body: mpsc::Receiver<io::Result<Bytes>>,
    patched: oneshot::Sender<()>,
    closing: oneshot::Receiver<String>,
) -> std::result::Result<(), Broken> {
    let doing = store.doing("uploading a layer while packing it");
    let scope = store.push_scope();
    let session = store.start_upload(&doing).await?;
    let stream = futures::stream::poll_fn(move |cx| body.poll_recv(cx));
    let response = store
        .api
        .send_once(&scope, &doing, |http| {
            http.patch(&session)
                .header(CONTENT_TYPE, "application/octet-stream")
                .body(reqwest::Body::wrap_stream(stream))
        })
        .await;
    let session = match response {
        Ok(r) if r.status() == StatusCode::ACCEPTED => {
            let next = location(&r).map_or_else(|| session.clone(), |l| store.api.url(&l));
            super::sessions::moved(&next);
            next
        }
        Ok(r) => {
            // A registry that answers 5xx may have kept part of the body; one that refuses
            // the request as such (4xx) has not, and the session is of no use.
            let keep = r.status().is_server_error();
            let error = store.api.refusal(Refusal::read(r).await, &doing);
            if keep {
                return Err(Broken { error, session: Some(session) });
            }
            cancel(&store, &session).await;
            return Err(error.into());
        }
        // The connection broke off mid-body: the registry may have kept what arrived. (A body
        // we ended ourselves, the push being abandoned, is not continued: nobody asks.)
        Err(error) => return Err(Broken { error, session: Some(session) }),
    };
    let _ = patched.send(());
    let Ok(digest) = closing.await else {
        cancel(&store, &session).await;
        return Err(Error::failed("the push was abandoned").into());
    };
    let separator = if session.contains('?') { '&' } else { '?' };
    let close = format!("{session}{separator}digest={digest}");
    let doing = store.doing(&format!("closing the upload of {digest}"));
    let response = store.api.send(&scope, &doing, |http| http.put(&close).header(CONTENT_LENGTH, 0)).await?;
    if response.status() != StatusCode::CREATED {
        return Err(store.api.refusal(Refusal::read(response).await, &doing).into());
    }
    super::sessions::closed(&session);
    Ok(())
}

async fn cancel(store: &RegistryStore, session: &str) {
    store.cancel_upload(session).await;
}
