//! `pull`: download a suite, or the part of it a selection names, into a folder.

use std::path::PathBuf;

use super::Context;
use super::sign::Trusted;
use crate::cache::{Cache, SnapshotOptions};
use crate::error::{ErrorKind, Result};
use crate::event::Event;
use crate::pull::{self, DEFAULT_MAX_EXPANSION, FolderOptions, Selection};
use crate::reference::Location;
use crate::store::{self, Source};

/// What to pull, and into where.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PullOptions {
    /// The suite: a layout or registry location, with a tag or digest, or none (the only tag).
    pub source: Location,
    /// The folder to write; default `./NAME`. Created with its parents; replaced atomically.
    /// Ignored with `into_cache`.
    pub destination: Option<PathBuf>,
    /// Pull into the shared cache ([`crate::cache`]) instead: the outcome's destination is the
    /// suite's snapshot folder there, and only layers the cache lacks are downloaded.
    pub into_cache: bool,
    /// Which classes, variants, frameworks and files to keep.
    pub selection: Selection,
    /// Replace a non-empty folder that zoo-oci did not create.
    pub force: bool,
    /// For layers that record no file list (other tools'): how many times its compressed size a
    /// layer may expand to.
    pub max_expansion: u64,
    /// With `into_cache` and a digest source: the tag that digest was resolved from, kept in the
    /// cache as a pull by that tag keeps it (so the tag resolves offline afterwards).
    pub resolved_from: Option<String>,
    /// A PEM public key: the suite must carry a signature by it covering its files, checked
    /// before any layer is downloaded; a folder gets the verified bundle as `model.sig` (the
    /// shared cache keeps no file that is not a layer's).
    pub verify_key: Option<PathBuf>,
    /// The signature policy (`--policy`); `None`: the default one, if there is a file
    /// ([`crate::signing::policy::Policy::find`]). Not consulted with `verify_key`.
    pub policy: Option<PathBuf>,
}

impl PullOptions {
    /// Pulls all of `source` into `./NAME`.
    pub fn new(source: Location) -> Self {
        PullOptions {
            source,
            destination: None,
            into_cache: false,
            selection: Selection::default(),
            force: false,
            max_expansion: DEFAULT_MAX_EXPANSION,
            resolved_from: None,
            verify_key: None,
            policy: None,
        }
    }
}

/// The file a `pull --verify-key` writes the verified signature to, where `model_signing`
/// looks for it.
pub const SIGNATURE_FILE: &str = crate::suite::SIGNATURE_FILE;

/// What a pull did.
pub type PullReport = pull::PullOutcome;

/// Pulls a suite into a folder: every byte verified, the folder swapped into place only when
/// complete, a repeated pull of the same digest and selection a no-op.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, PullOptions};
/// use zoo_oci::reference::Location;
/// let mut options = PullOptions::new(Location::parse("oci:./zoo:1.1.0")?);
/// options.destination = Some("serve".into());
/// options.selection.variants = vec!["onnx-light".into()];
/// let report = ops::pull(&options, &Context::default()).await?;
/// assert!(report.destination.join(".zoo-oci.json").is_file());
/// # Ok(()) }
/// ```
pub async fn pull(options: &PullOptions, context: &Context) -> Result<PullReport> {
    if options.into_cache {
        return into_cache(options, context).await;
    }
    let source = context.open_source(&options.source).await?;
    let mut reference = store::reference_or_only_tag(&options.source, source.as_ref()).await?;
    let source_name = options.source.with_reference(Some(reference.clone())).to_string();
    let mut extra_files = Vec::new();
    let check = signature_check(options)?;
    let mut warnings = Vec::new();
    match verify_first(source.as_ref(), options, check.as_ref(), context).await? {
        Checked::Verified(found, digest) => {
            extra_files.push((SIGNATURE_FILE.to_string(), found.bundle));
            reference = digest;
        }
        Checked::Warned(warning) => warnings.push(warning),
        Checked::Unchecked => {}
    }
    let folder = FolderOptions {
        selection: options.selection.clone(),
        destination: options.destination.clone(),
        force: options.force,
        max_expansion: options.max_expansion,
        transfer: transfer(context),
        source_name,
        cache: context.cache_root.clone().map(|root| std::sync::Arc::new(Cache::at(root)) as _),
        extra_files,
    };
    let on_event = |e: &Event| (context.events)(e);
    let mut report = pull::into_folder(source.as_ref(), &reference, &folder, &on_event).await?;
    report.warnings.extend(warnings);
    Ok(report)
}

/// A pull into the shared cache; with `ZOO_OCI_OFFLINE` set, from the cache alone. A registry
/// that cannot be reached, for a suite the cache holds, is waited for briefly
/// ([`crate::cache::PATIENCE_WITH_A_COPY`]), then the cached copy stands in, with a warning.
async fn into_cache(options: &PullOptions, context: &Context) -> Result<PullReport> {
    let cache = context.cache()?;
    let cache = &cache;
    let read = |source: std::sync::Arc<dyn Source>, context: Context, offline: bool| async move {
        into_cache_from(cache, options, &context, source.as_ref(), offline).await
    };
    super::with_cache_standing_in(&options.source, context, read, |r: &mut PullReport, w| r.warnings.push(w)).await
}

async fn into_cache_from(
    cache: &Cache,
    options: &PullOptions,
    context: &Context,
    source: &dyn Source,
    offline: bool,
) -> Result<PullReport> {
    let mut reference = store::reference_or_only_tag(&options.source, source).await?;
    let mut resolved_from = options.resolved_from.clone();
    let mut warnings = Vec::new();
    // Offline, the cache's copy was checked when it came in (or not at all): nothing to ask.
    let check = if offline { None } else { signature_check(options)? };
    match verify_first(source, options, check.as_ref(), context).await? {
        // The cache keeps the tag as resolved to the digest checked, and no `model.sig`: it
        // keeps no file that is not a layer's.
        Checked::Verified(_, digest) => {
            if let crate::reference::Reference::Tag(tag) = &reference {
                resolved_from.get_or_insert_with(|| tag.clone());
            }
            reference = digest;
        }
        Checked::Warned(warning) => warnings.push(warning),
        Checked::Unchecked => {}
    }
    let snapshot = SnapshotOptions {
        selection: options.selection.clone(),
        max_expansion: options.max_expansion,
        transfer: transfer(context),
        offline,
        resolved_from,
    };
    let on_event = |e: &Event| (context.events)(e);
    let mut report =
        crate::cache::into_snapshot(cache, &options.source, source, &reference, &snapshot, &on_event).await?;
    report.warnings.extend(warnings);
    Ok(report)
}

/// What a pull must check of the suite's signatures: `--verify-key`'s key (enforced), else
/// what the signature policy says for the source; `None` when nothing is to be checked.
fn signature_check(options: &PullOptions) -> Result<Option<SignatureCheck>> {
    use crate::signing::policy::{Mode, Policy};
    if let Some(key) = &options.verify_key {
        return Ok(Some(SignatureCheck { trusted: vec![Trusted::read(key)?], enforce: true, why: String::new() }));
    }
    let Some(policy) = Policy::find(options.policy.as_deref())? else { return Ok(None) };
    let requirement = policy.requirement(&options.source);
    if requirement.mode == Mode::Off {
        return Ok(None);
    }
    let trusted = requirement.keys.iter().map(|k| Trusted::read(k)).collect::<Result<Vec<_>>>()?;
    let why = format!("the policy {} (scope {})", requirement.file.display(), requirement.scope);
    Ok(Some(SignatureCheck { trusted, enforce: requirement.mode == Mode::Enforce, why }))
}

/// The keys a signature must be by, and whether a pull without one fails or only warns.
struct SignatureCheck {
    trusted: Vec<Trusted>,
    enforce: bool,
    /// Where the requirement comes from, for messages: the policy and its scope (empty for
    /// `--verify-key`).
    why: String,
}

/// What checking the signatures found.
enum Checked {
    /// A trusted signature covers the suite: pull the digest it covers.
    Verified(super::sign::Verified, crate::reference::Reference),
    /// None does, and the policy only warns: the warning, and the pull goes on unchecked.
    Warned(String),
    /// Nothing was to be checked.
    Unchecked,
}

/// A signature by a trusted key must cover the suite, checked before any layer comes down.
/// Gives it and the digest it covers, which the pull then takes (a tag moved meanwhile is not
/// pulled unchecked); every file is then checked against the digest its record gives, which
/// the signature covers.
async fn verify_first(
    source: &dyn Source,
    options: &PullOptions,
    check: Option<&SignatureCheck>,
    context: &Context,
) -> Result<Checked> {
    let Some(check) = check else { return Ok(Checked::Unchecked) };
    let view = super::sign::suite(source, &options.source).await?;
    match super::sign::verified(source, &view, &check.trusted, &options.source.to_string()).await {
        Ok(found) => {
            (context.events)(&Event::Verified { signature: found.signature.clone(), files: found.files });
            let digest = crate::reference::Reference::Digest(view.manifest_descriptor.digest.clone());
            Ok(Checked::Verified(found, digest))
        }
        Err(e) if !check.enforce && matches!(e.kind(), ErrorKind::Integrity(_) | ErrorKind::NotFound) => {
            Ok(Checked::Warned(format!("{e}; pulled anyway, as {} only warns", check.why)))
        }
        Err(e) if check.why.is_empty() => Err(e),
        Err(e) => Err(e.context(format!("{} requires a signature", check.why))),
    }
}

/// How a pull's layers come down: the context's concurrency and timeouts, resumable downloads.
fn transfer(context: &Context) -> pull::Transfer {
    pull::Transfer {
        concurrency: context.concurrency,
        idle_timeout: context.transport.idle_timeout,
        retry_for: Some(context.transport.retry_timeout),
        // Partial downloads are kept in the user cache folder's `partial/` (`$ZOO_OCI_CACHE`,
        // else `$XDG_CACHE_HOME/zoo-oci`, `~/.cache/zoo-oci`): chosen here, not in `resume`.
        resume_dir: context.cache_root.as_ref().map(|root| root.join("partial")),
    }
}
