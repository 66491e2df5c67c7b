//! `push`: check a suite folder, pack it, and copy it to a location.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::Context;
use crate::artifact::archive::Compression;
use crate::artifact::media::Names;
use crate::artifact::pack::{self, PackOptions};
use crate::copy;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::format::count;
use crate::reference::{Location, Reference, validate_tag};
use crate::store::{self, packed::PackedSource};
use crate::suite::{self, Links};

/// What to push, and where.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PushOptions {
    /// The suite folder (holding `zoo.yaml`).
    pub dir: PathBuf,
    /// Where to: a layout or a registry repository, with a tag or none (the suite's version).
    pub destination: Location,
    /// Refuse to push when the check finds warnings.
    pub strict: bool,
    /// Compression of code, dataset and doc layers.
    pub compression: Compression,
    /// The creation time to record.
    pub created: Created,
    /// Move the tag even when it holds another suite.
    pub force: bool,
    /// Symbolic links in the suite: refused, or read through (`--dereference`).
    pub links: Links,
    /// Remember layer digests by their files' stats (the user cache folder), so that an
    /// unchanged re-push reads no file content; `false` is `--no-cache`.
    pub digest_cache: bool,
    /// The names to write (`--names`); `None`: ModelPack's, unless the destination is a Harbor
    /// that shows models only under model-spec 0.0.5's names.
    pub names: Option<Names>,
    /// Sign the suite once pushed (`--sign-key`): a PEM private key, read before anything is
    /// packed so that a bad key stops the push at once.
    pub sign_key: Option<PathBuf>,
    /// With `sign_key`, certificate mode: the key's signing certificate (PEM).
    pub sign_certificate: Option<PathBuf>,
    /// With `sign_certificate`: the certificates that issued it (PEM).
    pub sign_certificate_chain: Option<PathBuf>,
}

impl PushOptions {
    /// Pushes `dir` to `destination` with the defaults.
    pub fn new(dir: impl Into<PathBuf>, destination: Location) -> Self {
        PushOptions {
            dir: dir.into(),
            destination,
            strict: false,
            compression: Compression::None,
            created: Created::FromEnvironment,
            force: false,
            links: Links::Refuse,
            digest_cache: true,
            names: None,
            sign_key: None,
            sign_certificate: None,
            sign_certificate_chain: None,
        }
    }
}

/// Which creation time a push records (`org.opencontainers.image.created`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// `SOURCE_DATE_EPOCH` when it is set, else none: the same suite gives the same digest.
    FromEnvironment,
    /// The time of the push.
    Now,
    /// This time, RFC 3339.
    At(String),
}

/// What a push did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PushReport {
    /// Where the suite now is, with its tag.
    pub location: String,
    /// The manifest digest.
    pub digest: String,
    /// The suite's name.
    pub name: String,
    /// The suite's version.
    pub version: String,
    /// Layers in the artifact.
    pub layers: usize,
    /// Blobs uploaded.
    pub uploaded: u64,
    /// Their bytes.
    pub uploaded_bytes: u64,
    /// Blobs mounted from another repository of the registry.
    pub mounted: u64,
    /// Blobs the destination already had.
    pub skipped: u64,
    /// The signature's manifest digest, with `sign_key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The referrer the folder's `model.sig` became (a signature made by `model_signing`), when
    /// the folder has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried_signature: Option<String>,
}

/// The folder's `model.sig`, when it has one: an OMS signature (made by `model_signing sign`)
/// that push stores as the suite's signature rather than shipping it as a file. Read before
/// anything is packed, so that a broken one stops the push at once.
fn carried_signature(dir: &std::path::Path) -> Result<Option<(Vec<u8>, crate::signing::Signed)>> {
    const MOST: u64 = 16 << 20; // a signature lists every file: 100,000 of them is about 15 MB
    let path = dir.join(suite::SIGNATURE_FILE);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Err(Error::usage(format!("{} is not a file", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if meta.len() > MOST {
        return Err(Error::malformed(format!("{} is over 16 MiB: not a signature", path.display())));
    }
    let bundle = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
    let signed = crate::signing::claimed(&bundle, &path.display().to_string())
        .map_err(|e| e.with_hint(format!("sign the folder again with model_signing, or remove {}", path.display())))?;
    Ok(Some((bundle, signed)))
}

/// Checks, packs and uploads a suite. The check's findings go to the context's events
/// ([`Event::Checked`]) before anything is packed; a suite with errors (or warnings, when
/// strict) is not pushed.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, PushOptions};
/// use zoo_oci::reference::Location;
/// let options = PushOptions::new("examples/iris-logreg", Location::parse("oci:./zoo")?);
/// let report = ops::push(&options, &Context::default()).await?;
/// println!("{} is {}", report.location, report.digest);
/// # Ok(()) }
/// ```
pub async fn push(options: &PushOptions, context: &Context) -> Result<PushReport> {
    let signing = options.sign_key.as_ref().map(|key| {
        let mut signing = super::SignOptions::new(options.destination.clone(), key);
        signing.certificate = options.sign_certificate.clone();
        signing.certificate_chain = options.sign_certificate_chain.clone();
        signing
    });
    if let Some(signing) = &signing {
        super::sign::Signer::read(signing)?;
    }
    let carried = carried_signature(&options.dir)?;
    // Checking reads every file's head (the model readers) and lists the folder: off the async
    // runtime, whose threads the registry's connections share.
    let checked = {
        let (dir, links) = (options.dir.clone(), options.links);
        tokio::task::spawn_blocking(move || suite::check(&dir, links))
            .await
            .map_err(|e| Error::failed("checking the suite failed").with_cause(e))??
    };
    let blocked = checked.problems.blocks(options.strict);
    (context.events)(&Event::Checked { problems: checked.problems.clone(), blocks: blocked });
    let suite = match checked.suite {
        Some(s) if !blocked => s,
        _ => {
            return Err(Error::failed(format!(
                "{} has {} and {}; nothing was pushed",
                options.dir.display(),
                count(checked.problems.error_count(), "error", "errors"),
                count(checked.problems.warning_count(), "warning", "warnings")
            ))
            .with_hint("fix the problems listed above (zoo-oci check shows them again)"));
        }
    };
    let tag = tag_for(&options.destination, &suite.spec.version)?;
    let hashed = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let unread = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let total: u64 = suite.layers.iter().flat_map(|l| l.content.files()).map(|f| f.size()).sum();
    let mut pack_options = PackOptions {
        compression: options.compression,
        created: created_time(&options.created)?,
        hashed: Some(hashed.clone()),
        unread: Some(unread.clone()),
        // The user cache folder's `digests/`: chosen here, so that packing reads no environment.
        cache: match options.digest_cache {
            true => {
                context.cache_root.as_ref().map(|root| crate::artifact::known::DigestCache::at(root.join("digests")))
            }
            false => None,
        },
        spooler: None,
        // `--concurrency` bounds the uploads packing streams as well as the copy's transfers.
        spools_at_once: context.concurrency,
        every_file_digest: options.sign_key.is_some() || carried.is_some(),
        stop: Default::default(),
        names: options.names.unwrap_or_default(),
    };
    // Dropping this push (Ctrl-C, SIGTERM) stops the packing thread, whose spools then remove
    // what they wrote.
    let _stop_packing = StopOnDrop(pack_options.stop.clone());
    let (name, version) = (suite.spec.name.clone(), suite.spec.version.clone());
    // One pass: each layer read streams to the destination while it is hashed. That writes
    // before the manifest exists, so only when its size is sure to pass; otherwise packing
    // refuses an oversized manifest before anything is written, even a new layout.
    // A registry is opened first whatever the manifest's size (opening one writes nothing):
    // it may be a Harbor that decides the names.
    let mut destination = None;
    if matches!(options.destination, Location::Registry { .. }) {
        let target = open_destination(options, context, &tag, &name).await?;
        if options.names.is_none() {
            pack_options.names = names_for(target.as_ref(), context).await;
        }
        destination = Some(target);
    }
    if pack::fits_before_hashing(&suite, &pack_options) {
        let target = match destination.take() {
            Some(target) => target,
            None => open_destination(options, context, &tag, &name).await?,
        };
        pack_options.spooler = target.spooler()?;
        destination = Some(target);
    }
    let started = std::time::Instant::now();
    let uploading_to = pack_options.spooler.is_some().then(|| destination_name(options));
    let mut packing = tokio::task::spawn_blocking(move || pack::pack(suite, &pack_options));
    let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
    let done = || {
        let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::Relaxed);
        (load(&hashed) + load(&unread)).min(total)
    };
    let packed = loop {
        tokio::select! {
            done = &mut packing => break done,
            _ = tick.tick() => {
                (context.events)(&Event::Hashing { bytes: done(), total, uploading_to: uploading_to.clone() })
            }
        }
    };
    let packed = packed.map_err(|e| Error::failed("packing failed").with_cause(e))??;
    let bytes = hashed.load(std::sync::atomic::Ordering::Relaxed);
    (context.events)(&Event::Hashed { bytes, took: started.elapsed() });
    for (layer, why) in &packed.unspooled {
        (context.events)(&Event::Retrying(
            layer.clone(),
            format!("the upload while packing failed ({why}); uploading it again"),
        ));
    }
    let destination = match destination {
        Some(target) => target,
        None => open_destination(options, context, &tag, &name).await?,
    };
    let spooled: Vec<(String, u64)> = packed
        .layers
        .iter()
        .filter(|l| packed.spooled.contains(&l.descriptor.digest))
        .map(|l| (l.descriptor.digest.clone(), l.descriptor.size))
        .collect();
    // What packing hashed of the layers whose record lists no file: the signature needs it.
    let file_digests: std::collections::HashMap<String, Vec<crate::artifact::archive::FileRecord>> =
        match options.sign_key.is_some() || carried.is_some() {
            true => packed.layers.iter().map(|l| (l.descriptor.digest.clone(), l.files.clone())).collect(),
            false => Default::default(),
        };
    // A folder's own signature must cover exactly what is pushed, or it would be a signature
    // that never verifies: refused before the manifest is, so nothing appears.
    if let Some((_, signed)) = &carried {
        let mut files: Vec<crate::signing::Resource> = file_digests
            .values()
            .flatten()
            .map(|f| crate::signing::Resource {
                name: f.path.clone(),
                digest: f.sha256.trim_start_matches("sha256:").to_string(),
            })
            .collect();
        files.sort_by(crate::signing::path_order);
        if let Err(why) = crate::signing::covers(signed, &files) {
            let at = options.dir.join(suite::SIGNATURE_FILE);
            return Err(Error::integrity(
                crate::error::IntegrityFailure::Signature,
                format!("{} does not sign the files being pushed: {why}", at.display()),
            )
            .with_hint(format!(
                "sign the folder again (model_signing sign key {} --signature {}), or remove {}",
                options.dir.display(),
                at.display(),
                at.display()
            )));
        }
    }
    let source = PackedSource::new(packed);
    // The layers spooled while packing went up then: the copy finds them there, and they are
    // told as uploaded, not as found.
    let packing_took = started.elapsed();
    let on_event = |e: &Event| match e {
        Event::Skipped(d) if spooled.iter().any(|(digest, _)| *digest == d.digest) => {
            (context.events)(&Event::Uploaded(d.clone(), packing_took))
        }
        _ => (context.events)(e),
    };
    let (root, transferred) = copy::copy(
        &source,
        &Reference::Tag(tag.clone()),
        destination.as_ref(),
        Some(&tag),
        &context.copy_options(&on_event),
    )
    .await?;
    // The layers spooled while packing were uploaded then: the copy found them there.
    let spooled_bytes: u64 = spooled.iter().map(|(_, size)| size).sum();
    // Signed by digest (the manifest just pushed, whatever the tag holds by then), from packing's
    // hashes: the file digests its record holds, and those of larger layers packing took for it.
    let signature = match signing {
        Some(mut signing) => {
            signing.source =
                options.destination.with_reference(Some(Reference::Digest(root.descriptor.digest.clone())));
            Some(super::sign::sign_knowing(&signing, context, &file_digests).await?.signature)
        }
        None => None,
    };
    let carried_signature = match carried {
        Some((bundle, _)) => {
            let pushed = options.destination.with_reference(Some(Reference::Digest(root.descriptor.digest.clone())));
            let view = super::sign::suite(destination.as_ref(), &pushed).await?;
            Some(super::sign::attach(destination.as_ref(), &view, bundle).await?)
        }
        None => None,
    };
    Ok(PushReport {
        signature,
        carried_signature,
        location: options.destination.with_reference(Some(Reference::Tag(tag))).to_string(),
        digest: root.descriptor.digest,
        name,
        version,
        layers: source.packed().layers.len(),
        uploaded: transferred.copied + spooled.len() as u64,
        uploaded_bytes: transferred.copied_bytes + spooled_bytes,
        mounted: transferred.mounted,
        skipped: transferred.skipped.saturating_sub(spooled.len() as u64),
    })
}

/// The destination as the user named it, without the tag.
fn destination_name(options: &PushOptions) -> String {
    options.destination.with_reference(None).to_string()
}

/// The names a push writes when none are asked for: ModelPack's, unless the destination is a
/// registry UI that shows models only under model-spec 0.0.5's (a released Harbor), which the
/// user is told.
async fn names_for(destination: &dyn store::Target, context: &Context) -> Names {
    match destination.model_ui().await {
        Some(ui) if ui.legacy_names_only => {
            (context.events)(&Event::Notice(format!(
                "{} shows models only under model-spec 0.0.5's names (application/vnd.cnai.model.*): \
                 pushing with them, which every ModelPack reader reads too (--names modelpack to write \
                 ModelPack's)",
                ui.name
            )));
            Names::Legacy
        }
        _ => Names::ModelPack,
    }
}

/// Sets its flag when dropped.
struct StopOnDrop(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Opens the push's destination, refusing (without `--force`) a tag that holds another suite.
async fn open_destination(
    options: &PushOptions,
    context: &Context,
    tag: &str,
    name: &str,
) -> Result<Box<dyn store::Target>> {
    let destination = context.target(&options.destination, store::Access::Create).await?;
    if !options.force {
        refuse_to_move_another_suites_tag(destination.as_ref(), &options.destination, tag, name).await?;
    }
    Ok(destination)
}

/// A tag is a name people share: pushing `squeezenet` onto the tag that holds `iris-logreg` in the
/// same layout or repository would silently take it from them. Another version of the same suite
/// moves the tag as expected.
async fn refuse_to_move_another_suites_tag(
    destination: &dyn store::Source,
    location: &Location,
    tag: &str,
    name: &str,
) -> Result<()> {
    let held = match destination.resolve(&Reference::Tag(tag.to_string())).await {
        Ok(descriptor) => descriptor,
        Err(e) if e.kind() == crate::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let bytes = destination.fetch_manifest(&held).await?;
    let holder = match crate::artifact::decode::decode(&held, &bytes) {
        Ok(view) if view.name() == Some(name) => return Ok(()),
        Ok(view) => format!("the suite {}", view.name().unwrap_or("(unnamed)")),
        Err(_) => format!("an artifact of media type {} that is not a suite", held.media_type),
    };
    let at = location.with_reference(Some(Reference::Tag(tag.to_string())));
    Err(Error::failed(format!("{at} holds {holder} ({}); pushing {name} there would move the tag", held.digest))
        .with_hint(format!("push {name} under another tag (e.g. {name}-{tag}), or pass --force to move it")))
}

/// The tag a push writes: the one named, else the suite's version (`+` is not allowed in tags).
fn tag_for(destination: &Location, version: &str) -> Result<String> {
    let tag = match destination.reference() {
        Some(Reference::Tag(t)) => t.clone(),
        Some(Reference::Digest(_)) => {
            return Err(Error::usage("push needs a tag, not a digest: the digest is computed from the suite")
                .with_hint("write TARGET as oci:PATH:TAG, or leave the tag out to use the suite's version"));
        }
        None => version.replace('+', "_"),
    };
    validate_tag(&tag)?;
    Ok(tag)
}

fn created_time(created: &Created) -> Result<Option<String>> {
    let when = match created {
        Created::Now => SystemTime::now(),
        Created::At(text) => humantime::parse_rfc3339_weak(text)
            .map_err(|e| Error::usage(format!("--created {text:?} is not an RFC 3339 time: {e}")))?,
        Created::FromEnvironment => match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(secs) => {
                // RFC 3339 (and so humantime, which panics past it) ends with year 9999.
                const YEAR_10000: u64 = 253_402_300_800;
                secs.trim()
                    .parse()
                    .ok()
                    .filter(|&s: &u64| s < YEAR_10000)
                    .map(|s| UNIX_EPOCH + Duration::from_secs(s))
                    .ok_or_else(|| {
                        Error::usage(format!(
                            "SOURCE_DATE_EPOCH={secs:?} is not a number of seconds before the year 10000"
                        ))
                    })?
            }
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(humantime::format_rfc3339_seconds(when).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_is_the_one_named_or_the_version() {
        let at = |text: &str| Location::parse(text).unwrap();
        assert_eq!(tag_for(&at("oci:zoo:stable"), "1.0").unwrap(), "stable");
        assert_eq!(tag_for(&at("oci:zoo"), "1.0+cpu").unwrap(), "1.0_cpu");
        let digest = format!("oci:zoo@sha256:{}", "a".repeat(64));
        assert_eq!(tag_for(&at(&digest), "1.0").unwrap_err().kind(), crate::ErrorKind::Usage);
    }

    #[test]
    fn a_given_creation_time_is_normalised() {
        assert_eq!(created_time(&Created::At("2026-01-02T03:04:05Z".into())).unwrap().unwrap(), "2026-01-02T03:04:05Z");
        assert_eq!(created_time(&Created::At("yesterday".into())).unwrap_err().kind(), crate::ErrorKind::Usage);
    }
}
