//! Stream plumbing: a bounded pipe from blocking code (tar, zstd, file reads) to an async reader,
//! carrying errors through (when producing fails, the reader gets the error, not a short stream),
//! and a reader that counts bytes for progress.

use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc;

const CHUNK: usize = 1 << 20;
const CHUNKS_IN_FLIGHT: usize = 4;

/// Runs `produce` on a blocking thread, writing into a pipe; returns the pipe's reading end.
/// Memory held is at most a few chunks, whatever the stream's length.
pub fn spawn_producer<F>(produce: F) -> PipeReader
where
    F: FnOnce(&mut PipeWriter) -> crate::error::Result<()> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut writer = PipeWriter { tx, buf: Vec::with_capacity(CHUNK) };
        let result = produce(&mut writer)
            .and_then(|()| writer.flush().map_err(|e| crate::error::Error::failed("pipe closed").with_cause(e)));
        if let Err(e) = result {
            let _ = writer.tx.blocking_send(Err(io::Error::other(ProducerError(e))));
        }
    });
    PipeReader { rx, current: Vec::new(), pos: 0 }
}

/// An error from the producing side, carried through `io::Error` to the reader.
#[derive(Debug)]
pub struct ProducerError(pub crate::error::Error);

impl std::fmt::Display for ProducerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
impl std::error::Error for ProducerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The writing end: buffers a chunk, then hands it over.
pub struct PipeWriter {
    tx: mpsc::Sender<io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.flush()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the reader went away"))
    }
}

/// The reading end.
pub struct PipeReader {
    rx: mpsc::Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl AsyncRead for PipeReader {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.pos == this.current.len() {
            match this.rx.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(e)),
                Poll::Ready(Some(Ok(chunk))) => {
                    this.current = chunk;
                    this.pos = 0;
                }
            }
        }
        let n = buf.remaining().min(this.current.len() - this.pos);
        buf.put_slice(&this.current[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// Turns an I/O error from a stream back into the library error it carries, if it carries one.
pub fn into_error(e: io::Error, fallback: impl FnOnce(io::Error) -> crate::error::Error) -> crate::error::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<ProducerError>()) {
        let inner = e.into_inner().expect("checked above");
        return inner.downcast::<ProducerError>().expect("checked above").0;
    }
    fallback(e)
}

/// The library error a stream's failure carries, found anywhere in an error's chain (an HTTP
/// client wraps the failure of a request body it was reading).
pub fn carried(e: &(dyn std::error::Error + 'static)) -> Option<crate::error::Error> {
    crate::error::causes(e).find_map(|e| e.downcast_ref::<ProducerError>()).map(|ProducerError(inner)| inner.clone())
}

/// What a blob stream in flight has done: bytes read, and whether its reader is waiting for
/// the source (rather than the source waiting for the reader), which tells a stalled source from
/// a stalled destination.
#[derive(Debug, Default)]
pub struct Flow {
    /// Bytes read so far.
    pub read: std::sync::atomic::AtomicU64,
    /// The last read is waiting for bytes the source has not sent.
    pub awaiting_source: std::sync::atomic::AtomicBool,
}

/// Counts the bytes read from a blob stream, for progress and stall detection.
pub struct Counting {
    inner: Pin<Box<dyn AsyncRead + Send>>,
    flow: std::sync::Arc<Flow>,
}

impl Counting {
    /// Records what is read from `inner` in `flow`.
    pub fn new(inner: Pin<Box<dyn AsyncRead + Send>>, flow: std::sync::Arc<Flow>) -> Self {
        Counting { inner, flow }
    }
}

impl AsyncRead for Counting {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        use std::sync::atomic::Ordering::Relaxed;
        let before = buf.filled().len();
        let poll = self.inner.as_mut().poll_read(cx, buf);
        self.flow.awaiting_source.store(poll.is_pending(), Relaxed);
        if let Poll::Ready(Ok(())) = &poll {
            self.flow.read.fetch_add((buf.filled().len() - before) as u64, Relaxed);
        }
        poll
    }
}

/// The spooling capability of a sink ([`Sink::spooler`](crate::store::Sink::spooler)): here,
/// beside the other byte plumbing, so that packing (`artifact`) writes into one without knowing
/// the stores.
pub trait Spooler: Send + Sync + std::fmt::Debug {
    /// Starts a blob. Called from a packing thread, not from an async task.
    fn spool(&self) -> crate::error::Result<Box<dyn Spool>>;

    /// Whether the store already holds this blob (a likely digest of a layer about to be read
    /// again): then packing only hashes it, and the copy after skips it if the guess was right.
    /// Called from a packing thread; `false` when unsure.
    fn holds(&self, _digest: &str, _size: u64) -> bool {
        false
    }
}

/// A blob being written whose digest is not known yet. Dropped without [`Spool::commit`], it
/// leaves nothing visible: a layout's temp file is removed, a registry's upload session cancelled.
pub trait Spool: std::io::Write + Send {
    /// The blob's last byte is written. A store that streams it somewhere (a registry's upload
    /// session) ends that stream now and says whether it arrived, so that no transfer stays open
    /// while other layers are packed: `--concurrency` bounds the spools being written, not the
    /// ones waiting for their commit. [`Spool::commit`] finishes a spool not finished yet.
    fn finish(&mut self) -> crate::error::Result<()> {
        Ok(())
    }

    /// The blob is complete and is `digest`, `size` bytes: makes it visible. The store checks
    /// what it received against the digest (a registry) or trusts the packer that computed it
    /// over the very bytes written (a layout).
    fn commit(self: Box<Self>, digest: &str, size: u64) -> crate::error::Result<()>;
}
