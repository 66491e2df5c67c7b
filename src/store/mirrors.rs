//! Registry mirrors, configured the way container tools configure them, and a source that reads
//! through them.
//!
//! Two files are read, as Podman/CRI-O and containerd read them:
//! - `registries.conf` v2 (`$CONTAINERS_REGISTRIES_CONF`, else `/etc/containers/registries.conf`
//!   and `/etc/containers/registries.conf.d/*.conf`): `[[registry]] location = "HOST:PORT"` with
//!   `[[registry.mirror]] location = "MIRROR"`, `insecure = true` meaning plain HTTP. Files that
//!   hold only `[aliases]` or search lists (Debian's `shortnames.conf`) are fine.
//! - containerd's `hosts.toml`, at `DIR/HOST:PORT/hosts.toml` in each certs.d folder:
//!   `[host."http://MIRROR"] capabilities = ["pull", "resolve"]`; a host that may not resolve
//!   serves blobs only, and zoo-oci then uses it for nothing (it resolves tags through a mirror
//!   or not at all).
//!
//! Reads try the mirrors in order, then the origin: the first mirror that resolves the
//! reference serves the manifests and blobs (the origin sees no request); one that refuses or
//! resets connections, or does not have the reference, is skipped at once with one line. Writes
//! never go to a mirror.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::{BlobReader, Referrers, Source, Store};
use crate::artifact::manifest::Descriptor;
use crate::error::{Error, ErrorKind, Result};
use crate::event::{Event, Events};
use crate::reference::{Location, Reference};

/// Where containerd keeps its per-registry `hosts.toml` files.
pub const CONTAINERD_CERTS_DIR: &str = "/etc/containerd/certs.d";

/// One mirror of a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// `HOST[:PORT]`.
    pub host: String,
    /// Spoken to in plain HTTP (`insecure = true`, or `http://` in `hosts.toml`).
    pub plain_http: bool,
    /// Where it was configured, for messages.
    pub from: String,
}

/// The mirrors of each registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mirrors {
    by_registry: BTreeMap<String, Vec<Mirror>>,
    /// `--mirror`: tried first, for every registry read.
    everywhere: Vec<Mirror>,
}

#[derive(Deserialize)]
struct RegistriesConf {
    #[serde(default)]
    registry: Vec<RegistryEntry>,
}

#[derive(Deserialize)]
struct RegistryEntry {
    #[serde(default)]
    location: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    mirror: Vec<MirrorEntry>,
}

#[derive(Deserialize)]
struct MirrorEntry {
    location: String,
    #[serde(default)]
    insecure: bool,
}

#[derive(Deserialize)]
struct HostsToml {
    #[serde(default)]
    host: BTreeMap<String, HostEntry>,
}

#[derive(Deserialize)]
struct HostEntry {
    #[serde(default)]
    capabilities: Option<Vec<String>>,
}

impl Mirrors {
    /// The mirrors the system's files configure: `registries.conf` (and its `.d` folder, or
    /// `$CONTAINERS_REGISTRIES_CONF` alone), then `hosts.toml` in each of `certs_dirs`.
    pub fn load(certs_dirs: &[PathBuf]) -> Result<Mirrors> {
        let mut mirrors = Mirrors::default();
        let files: Vec<PathBuf> = match std::env::var_os("CONTAINERS_REGISTRIES_CONF").filter(|v| !v.is_empty()) {
            Some(file) => vec![PathBuf::from(file)],
            None => {
                let mut files = vec![PathBuf::from("/etc/containers/registries.conf")];
                if let Ok(entries) = std::fs::read_dir("/etc/containers/registries.conf.d") {
                    let mut more: Vec<PathBuf> = entries
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                        .collect();
                    more.sort();
                    files.extend(more);
                }
                files.retain(|f| f.is_file());
                files
            }
        };
        for file in files {
            mirrors.read_registries_conf(&file)?;
        }
        for dir in certs_dirs {
            mirrors.read_hosts_tomls(dir)?;
        }
        Ok(mirrors)
    }

    fn read_registries_conf(&mut self, file: &Path) -> Result<()> {
        let text = std::fs::read_to_string(file).map_err(|e| Error::io("read", file, e))?;
        let conf: RegistriesConf = toml::from_str(&text)
            .map_err(|e| Error::usage(format!("{} is not a registries.conf zoo-oci can read: {e}", file.display())))?;
        for entry in conf.registry {
            let origin = if entry.location.is_empty() { entry.prefix } else { entry.location };
            let origin = origin.trim_end_matches('/').to_string();
            if origin.is_empty() || origin.contains('/') || origin.contains('*') {
                continue; // a namespace or wildcard scope: zoo-oci mirrors whole registries only
            }
            for m in entry.mirror {
                let host = m.location.trim_end_matches('/').to_string();
                if host.contains('/') {
                    continue; // a mirror under a path prefix: not a registry zoo-oci can address
                }
                let mirror = Mirror { host, plain_http: m.insecure, from: file.display().to_string() };
                self.by_registry.entry(origin.clone()).or_default().push(mirror);
            }
        }
        Ok(())
    }

    fn read_hosts_tomls(&mut self, dir: &Path) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) };
        let mut found: Vec<(String, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let file = e.path().join("hosts.toml");
                file.is_file().then(|| (e.file_name().to_string_lossy().into_owned(), file))
            })
            .collect();
        found.sort();
        for (origin, file) in found {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::io("read", &file, e))?;
            let hosts: HostsToml = toml::from_str(&text)
                .map_err(|e| Error::usage(format!("{} is not a hosts.toml zoo-oci can read: {e}", file.display())))?;
            // containerd keeps the order written; toml tables come back sorted, so the file's
            // own order is read from the text.
            let mut ordered: Vec<(usize, String)> = hosts
                .host
                .iter()
                .filter(|(_, h)| h.capabilities.as_ref().is_none_or(|c| c.iter().any(|c| c == "resolve")))
                .map(|(url, _)| (text.find(&format!("\"{url}\"")).unwrap_or(usize::MAX), url.clone()))
                .collect();
            ordered.sort();
            for (_, url) in ordered {
                let (plain_http, rest) = match url.split_once("://") {
                    Some(("http", rest)) => (true, rest),
                    Some((_, rest)) => (false, rest),
                    None => (false, url.as_str()),
                };
                let host = rest.trim_end_matches('/').trim_end_matches("/v2").to_string();
                if host.contains('/') {
                    continue;
                }
                let mirror = Mirror { host, plain_http, from: file.display().to_string() };
                self.by_registry.entry(origin.clone()).or_default().push(mirror);
            }
        }
        Ok(())
    }

    /// Adds `--mirror HOST[:PORT]` for every registry this command reads, before the others
    /// (called for the last flag first, each going to the front).
    pub fn add_everywhere(&mut self, host: &str, plain_http: bool) {
        let mirror = Mirror { host: host.to_string(), plain_http, from: "--mirror".into() };
        self.everywhere.insert(0, mirror);
    }

    /// The mirrors of `registry`, in the order to try them.
    pub fn of(&self, registry: &str) -> Vec<Mirror> {
        let configured = self.by_registry.get(registry).cloned().unwrap_or_default();
        self.everywhere.iter().cloned().chain(configured).filter(|m| m.host != registry).collect()
    }

    /// Whether none is configured.
    pub fn is_empty(&self) -> bool {
        self.by_registry.is_empty() && self.everywhere.is_empty()
    }
}

/// Reads a registry repository through its mirrors: the first that resolves the reference
/// asked for serves everything after; the origin, opened only then, when none does.
pub struct MirroredSource {
    origin: tokio::sync::OnceCell<Box<dyn Source>>,
    location: Location,
    transport: super::Transport,
    mirrors: Vec<(Mirror, Box<dyn Source>)>,
    chosen: std::sync::Mutex<Option<usize>>,
    events: Events,
    origin_name: String,
    /// Blobs the serving mirror sent other bytes for: the origin's to send from then on.
    refused_blobs: Arc<Mutex<HashSet<String>>>,
}

impl MirroredSource {
    /// The mirror serving this source, once a reference was resolved through one.
    pub fn serving_mirror(&self) -> Option<String> {
        let chosen = *self.chosen.lock().expect("no panics");
        chosen.map(|i| self.mirrors[i].0.host.clone())
    }

    async fn origin(&self) -> Result<&dyn Source> {
        let opened = self
            .origin
            .get_or_try_init(|| async {
                super::open_source(&self.location, &self.transport, &self.events).await.map(|t| t as Box<dyn Source>)
            })
            .await?;
        Ok(opened.as_ref())
    }

    async fn current(&self) -> Result<&dyn Source> {
        let chosen = *self.chosen.lock().expect("no panics");
        match chosen {
            Some(i) => Ok(self.mirrors[i].1.as_ref()),
            None => self.origin().await,
        }
    }
}

/// Whether a mirror's failure means "try the next one": it cannot be reached, refuses, or does
/// not have it. An integrity failure (other bytes) too: that mirror is wrong, the next may not be.
fn skip_mirror(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Transport(_) | ErrorKind::NotFound | ErrorKind::Integrity(_) | ErrorKind::Auth)
}

#[async_trait]
impl Store for MirroredSource {
    fn name(&self) -> String {
        self.origin_name.clone()
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool> {
        self.current().await?.exists(descriptor).await
    }
}

#[async_trait]
impl Source for MirroredSource {
    async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        if self.chosen.lock().expect("no panics").is_none() {
            for (i, (mirror, source)) in self.mirrors.iter().enumerate() {
                let attempt = async {
                    let descriptor = source.resolve(reference).await?;
                    source.fetch_manifest(&descriptor).await?; // the bytes are checked here
                    Ok::<_, Error>(descriptor)
                };
                match attempt.await {
                    Ok(descriptor) => {
                        *self.chosen.lock().expect("no panics") = Some(i);
                        (self.events)(&Event::Notice(format!(
                            "reading {} through its mirror {} ({})",
                            self.origin_name, mirror.host, mirror.from
                        )));
                        return Ok(descriptor);
                    }
                    Err(e) if skip_mirror(&e) => {
                        (self.events)(&Event::Notice(format!("mirror {} skipped: {e}", mirror.host)));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        self.current().await?.resolve(reference).await
    }

    async fn fetch_manifest(&self, descriptor: &Descriptor) -> Result<Vec<u8>> {
        match self.current().await?.fetch_manifest(descriptor).await {
            Err(e) if self.serving_mirror().is_some() && skip_mirror(&e) => {
                self.origin().await?.fetch_manifest(descriptor).await
            }
            result => result,
        }
    }

    async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<BlobReader> {
        let Some(mirror) = self.serving_mirror() else {
            return self.current().await?.fetch_blob(descriptor).await;
        };
        if self.refused_blobs.lock().expect("no panics").contains(&descriptor.digest) {
            return self.origin().await?.fetch_blob(descriptor).await;
        }
        match self.current().await?.fetch_blob(descriptor).await {
            Ok(reader) => Ok(Box::pin(MirrorBlob {
                inner: reader,
                hasher: Sha256::new(),
                descriptor: descriptor.clone(),
                read: 0,
                checked: false,
                refusal: None,
                mirror,
                refused: self.refused_blobs.clone(),
            })),
            Err(e) if skip_mirror(&e) => self.origin().await?.fetch_blob(descriptor).await,
            Err(e) => Err(e),
        }
    }

    async fn tags(&self) -> Result<Vec<String>> {
        self.current().await?.tags().await
    }

    fn served_by(&self) -> Option<String> {
        self.serving_mirror()
    }

    fn referrers(&self) -> Option<&dyn Referrers> {
        // Referrers are listed where the suite was read: a mirror that resolved it (a
        // pull-through cache lists what it has), else the origin once it is open.
        let chosen = *self.chosen.lock().expect("no panics");
        match chosen {
            Some(i) => self.mirrors[i].1.referrers(),
            None => self.origin.get().and_then(|o| o.referrers()),
        }
    }
}

/// A blob as a mirror sends it, hashed on the way: once its size has passed, bytes that are
/// not its digest fail the read with an error the download retries, and the blob is marked for
/// the origin, so that the next attempt asks the origin. (Every destination verifies what it
/// reads anyway; this check is what turns a lying mirror into a detour instead of a failure.)
struct MirrorBlob {
    inner: BlobReader,
    hasher: Sha256,
    descriptor: Descriptor,
    read: u64,
    checked: bool,
    /// The refusal, given again to every later read: a reader that drains the rest after a
    /// failure (to tell a corrupt blob from a hostile one) must not see an ordinary end.
    refusal: Option<Error>,
    mirror: String,
    refused: Arc<Mutex<HashSet<String>>>,
}

impl MirrorBlob {
    /// The failure of a blob whose bytes are not its digest (or that ran past its size).
    fn refuse(&mut self, why: &str) -> std::io::Error {
        self.refused.lock().expect("no panics").insert(self.descriptor.digest.clone());
        let message = format!(
            "mirror {} skipped for blob {}: it sent {why}; the origin is asked",
            self.mirror, self.descriptor.digest
        );
        // Said once, by the download's retry line that carries this error.
        let error = Error::integrity(crate::error::IntegrityFailure::DigestMismatch, message).retryable();
        self.refusal = Some(error.clone());
        std::io::Error::other(crate::stream::ProducerError(error))
    }
}

impl tokio::io::AsyncRead for MirrorBlob {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use std::task::Poll;
        let this = self.get_mut();
        if let Some(refusal) = &this.refusal {
            return Poll::Ready(Err(std::io::Error::other(crate::stream::ProducerError(refusal.clone()))));
        }
        let before = buf.filled().len();
        let room = buf.remaining() > 0;
        match this.inner.as_mut().poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {}
            other => return other,
        }
        let new = &buf.filled()[before..];
        if this.checked {
            // Past the check (a reader making sure of the end): nothing more to say.
            return Poll::Ready(Ok(()));
        }
        this.hasher.update(new);
        this.read += new.len() as u64;
        let size = this.descriptor.size;
        if new.is_empty() && room && this.read < size {
            this.checked = true;
            return Poll::Ready(Err(this.refuse(&format!("only {} of its {size} bytes", this.read))));
        }
        if this.read > size {
            this.checked = true;
            return Poll::Ready(Err(this.refuse(&format!("more than its {size} bytes"))));
        }
        if this.read == size {
            this.checked = true;
            let sha256 = crate::digest::format(std::mem::take(&mut this.hasher));
            if sha256 != this.descriptor.digest {
                return Poll::Ready(Err(this.refuse("other bytes")));
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Opens `location` for reading, through its registry's mirrors when it has some.
pub async fn open_reader(
    location: &Location,
    transport: &super::Transport,
    events: &Events,
) -> Result<Box<dyn Source>> {
    let Location::Registry { registry, repository, reference } = location else {
        return Ok(super::open_source(location, transport, events).await?);
    };
    let mirrors = transport.mirrors.of(registry);
    if mirrors.is_empty() {
        return Ok(super::open_source(location, transport, events).await?);
    }
    let mut opened = Vec::new();
    for mirror in mirrors {
        // A mirror is asked once and skipped at once: no waiting for it, no retrying it.
        let mut fast = transport.clone();
        fast.plain_http = mirror.plain_http;
        fast.retry_timeout = std::time::Duration::ZERO;
        fast.wait_for_registry = std::time::Duration::ZERO;
        let at = Location::Registry {
            registry: mirror.host.clone(),
            repository: repository.clone(),
            reference: reference.clone(),
        };
        match super::open_source(&at, &fast, events).await {
            Ok(source) => opened.push((mirror, source as Box<dyn Source>)),
            Err(e) => events(&Event::Notice(format!("mirror {} skipped: {e}", mirror.host))),
        }
    }
    Ok(Box::new(MirroredSource {
        origin: tokio::sync::OnceCell::new(),
        location: location.clone(),
        transport: transport.clone(),
        mirrors: opened,
        chosen: std::sync::Mutex::new(None),
        events: events.clone(),
        origin_name: location.with_reference(None).to_string(),
        refused_blobs: Arc::default(),
    }))
}
