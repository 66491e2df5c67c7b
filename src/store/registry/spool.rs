//! One-pass uploads ([`Sink::spooler`](crate::store::Sink::spooler)): a layer being packed
//! streams to the registry while the packer hashes it. Its digest is known only at its end, so
//! the monolithic `PUT ?digest=` (which needs it first) cannot carry it; instead `POST` opens a
//! session, one `PATCH` carries the whole body as it is produced (chunked transfer encoding),
//! and the `PUT ?digest=` that closes the session is sent only once the whole manifest is
//! built. The registry checks the digest then. A spool dropped before that cancels the session
//! (`DELETE`), so a failed push leaves no blob behind.
//!
//! The packer runs on plain threads; the upload is an async task on the runtime the spooler was
//! made on, fed through a bounded channel: at most [`IN_FLIGHT`] batches of [`BATCH`] bytes are
//! held, whatever the layer's size.

use std::io;
use std::sync::Arc;

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
    /// Set by the first spool that fails: a registry that cannot take a streamed upload, or is
    /// not answering, is not asked again for the other layers of the push.
    failed: Arc<std::sync::atomic::AtomicBool>,
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
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::failed("an earlier one-pass upload to this registry failed"));
        }
        let (body, receiver) = mpsc::channel::<io::Result<Bytes>>(IN_FLIGHT);
        let (close, closing) = oneshot::channel::<String>();
        let store = RegistryStore::over(self.api.clone(), &self.repository);
        let task = self.runtime.spawn(upload(store, receiver, closing));
        super::sessions::track(task.abort_handle());
        Ok(Box::new(RegistrySpool {
            batch: BytesMut::with_capacity(BATCH),
            body: Some(body),
            close: Some(close),
            task: Some(task),
            runtime: self.runtime.clone(),
            idle: self.api.idle_timeout(),
            failed: self.failed.clone(),
            stalled: false,
            broken: self.broken.clone(),
        }))
    }
}

/// One layer on its way up.
struct RegistrySpool {
    batch: BytesMut,
    body: Option<mpsc::Sender<io::Result<Bytes>>>,
    /// Takes the digest that closes the session; dropped unsent, it cancels the session.
    close: Option<oneshot::Sender<String>>,
    task: Option<tokio::task::JoinHandle<std::result::Result<(), Broken>>>,
    runtime: tokio::runtime::Handle,
    idle: std::time::Duration,
    /// Set when a write failed (shared with the spooler): commit then reports why.
    failed: Arc<std::sync::atomic::AtomicBool>,
    /// This spool's write timed out.
    stalled: bool,
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
        let failure = match sent {
            Ok(Ok(())) => return Ok(()),
            // The task ended, with its error: `failure` gets it.
            Ok(Err(_)) => io::Error::other("the upload ended early"),
            Err(_) => {
                self.stalled = true;
                io::Error::new(io::ErrorKind::TimedOut, "the registry stopped taking the upload")
            }
        };
        self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
        Err(failure)
    }

    /// Why the upload failed, cancelling it. Waits for nothing that could stall: a task that
    /// ended (its body was refused) gives its own error; a stalled one, or one stopped because
    /// another layer's upload failed, is aborted at once.
    fn failure(&mut self, digest: &str) -> Error {
        self.body = None;
        self.close = None; // the task cancels the session
        let task = self.task.take().expect("a spool ends once");
        if self.stalled {
            task.abort();
            let idle = self.idle.as_secs_f64();
            return Error::transport(
                crate::error::TransportFailure::Timeout,
                format!("the registry took no upload byte for {idle:.0} s"),
            );
        }
        if !task.is_finished() {
            task.abort();
            return Error::failed("an upload of another layer to this registry failed first");
        }
        let ended = self.runtime.block_on(task);
        self.outcome(digest, ended).err().unwrap_or_else(|| Error::failed("the one-pass upload ended early"))
    }

    /// What the ended task says, keeping the session of a body that broke off for the upload
    /// after packing to continue.
    fn outcome(
        &self,
        digest: &str,
        ended: std::result::Result<std::result::Result<(), Broken>, tokio::task::JoinError>,
    ) -> Result<()> {
        match ended {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Broken { error, session })) => {
                if let Some(session) = session {
                    self.broken.lock().expect("no panics").insert(digest.to_string(), session);
                }
                Err(error)
            }
            Err(e) => Err(Error::failed("the one-pass upload task failed").with_cause(e)),
        }
    }
}

impl io::Write for RegistrySpool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) {
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
    fn commit(mut self: Box<Self>, digest: &str, _size: u64) -> Result<()> {
        if self.failed.load(std::sync::atomic::Ordering::Relaxed) || self.send_batch().is_err() {
            return Err(self.failure(digest));
        }
        self.body = None; // the end of the PATCH body
        let _ = self.close.take().expect("a spool commits once").send(digest.to_string());
        let task = self.task.take().expect("a spool commits once");
        let ended = self.runtime.block_on(task);
        let result = self.outcome(digest, ended);
        if result.is_err() {
            self.failed.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        result
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

/// The upload task: opens the session, streams the body in one `PATCH`, and closes the session
/// with the digest it is given, or cancels it when the spool is dropped instead.
async fn upload(
    store: RegistryStore,
    mut body: mpsc::Receiver<io::Result<Bytes>>,
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
