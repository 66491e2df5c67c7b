//! `sign` and `verify`: an OpenSSF Model Signing v1.0 signature of a suite ([`crate::signing`]),
//! made from the file digests its manifest records (no layer is downloaded) and stored as an
//! OCI referrer of the suite's manifest, as cosign stores a Sigstore bundle: a manifest whose
//! `subject` is the suite, whose `artifactType` and one layer are the bundle's media type.

use std::path::PathBuf;

use serde::Serialize;

use super::Context;
use crate::artifact::decode::SuiteView;
use crate::artifact::manifest::{Descriptor, Manifest};
use crate::artifact::media;
use crate::error::{Error, ErrorKind, IntegrityFailure, Result};
use crate::reference::Location;
use crate::signing::{self, PrivateKey, PublicKey, Resource};
use crate::store::{self, Access, Source};

/// The media type of the empty config a signature's manifest carries (OCI's empty descriptor).
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// What to sign, with which key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignOptions {
    /// The suite: a layout or registry location with a tag or digest, or none (the only tag).
    pub source: Location,
    /// A PEM private key: ECDSA P-256 or P-384, SEC1 or PKCS#8.
    pub key: PathBuf,
}

impl SignOptions {
    /// Signs `source` with the private key at `key`.
    pub fn new(source: Location, key: impl Into<PathBuf>) -> Self {
        SignOptions { source, key: key.into() }
    }
}

/// What `sign` stored.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SignReport {
    /// The suite's manifest digest.
    pub subject: String,
    /// The signature's manifest digest (a referrer of the subject).
    pub signature: String,
    /// How many files the signature covers.
    pub files: usize,
}

/// What to verify, against which key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// The suite.
    pub source: Location,
    /// A PEM public key (SPKI).
    pub key: PathBuf,
}

impl VerifyOptions {
    /// Verifies `source` against the public key at `key`.
    pub fn new(source: Location, key: impl Into<PathBuf>) -> Self {
        VerifyOptions { source, key: key.into() }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The suite's manifest digest.
    pub subject: String,
    /// The signature that verified (its manifest digest).
    pub signature: String,
    /// How many files it covers.
    pub files: usize,
}

/// Every file of a suite with its sha256, from the record in its manifest. A layer whose record
/// lists no file digests (over 1,000 files) is not covered by this step yet: it is refused.
fn resources(view: &SuiteView) -> Result<Vec<Resource>> {
    let mut out = Vec::new();
    for layer in &view.layers {
        let Some(files) = &layer.files else {
            return Err(Error::failed(format!(
                "layer {} lists no digest per file (over {} files): zoo-oci cannot sign it yet",
                layer.descriptor.digest,
                media::FILE_LIST_LIMIT
            )));
        };
        for file in files {
            let hex = file.sha256.strip_prefix("sha256:").unwrap_or_default();
            if hex.len() != 64 {
                return Err(Error::malformed(format!("the record gives {} no sha256", file.path)));
            }
            out.push(Resource { name: file.path.clone(), digest: hex.to_string() });
        }
    }
    out.sort_by(signing::path_order);
    Ok(out)
}

/// The suite `location` names: its descriptor and what its manifest says.
pub(crate) async fn suite(source: &dyn Source, location: &Location) -> Result<SuiteView> {
    let reference = store::reference_or_only_tag(location, source).await?;
    let descriptor = source.resolve(&reference).await?;
    let bytes = source.fetch_manifest(&descriptor).await?;
    store::suite_view(source, &descriptor, &bytes).await
}

/// Signs a suite where it is stored, without downloading a layer: the signature (a Sigstore
/// bundle of an OMS v1.0 statement) is pushed as a referrer of the suite's manifest.
pub async fn sign(options: &SignOptions, context: &Context) -> Result<SignReport> {
    let key = PrivateKey::read(&options.key)?;
    let target = context.target(&options.source, Access::Update).await?;
    let view = suite(target.as_ref(), &options.source).await?;
    let files = resources(&view)?;
    let name = view.name().map(String::from).unwrap_or_else(|| options.source.to_string());
    let bundle = signing::sign(&key, &name, &files)?;
    let bundle_desc = Descriptor::for_bytes(signing::BUNDLE_MEDIA_TYPE, &bundle);
    let config = b"{}".to_vec();
    let config_desc = Descriptor::for_bytes(EMPTY_CONFIG, &config);
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: Some(signing::BUNDLE_MEDIA_TYPE.into()),
        config: config_desc.clone(),
        layers: vec![bundle_desc.clone()],
        subject: Some(subject_of(&view)),
        annotations: Default::default(),
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifests serialise");
    let manifest_desc = Descriptor {
        artifact_type: Some(signing::BUNDLE_MEDIA_TYPE.into()),
        ..Descriptor::for_bytes(media::OCI_MANIFEST, &manifest_bytes)
    };
    for (descriptor, bytes) in [(&config_desc, config), (&bundle_desc, bundle)] {
        let bytes = std::sync::Arc::new(bytes);
        let open = move || {
            let bytes = bytes.clone();
            Box::pin(async move { Ok(Box::pin(std::io::Cursor::new(bytes.as_ref().clone())) as store::BlobReader) })
                as std::pin::Pin<Box<dyn std::future::Future<Output = Result<store::BlobReader>> + Send>>
        };
        if !target.exists(descriptor).await? {
            target.push_blob(descriptor, &open).await?;
        }
    }
    target.push_manifest(&manifest_desc, &manifest_bytes, None).await?;
    Ok(SignReport {
        subject: view.manifest_descriptor.digest.clone(),
        signature: manifest_desc.digest,
        files: files.len(),
    })
}

/// The subject descriptor of a signature: the suite manifest's media type, digest and size.
fn subject_of(view: &SuiteView) -> Descriptor {
    let d = &view.manifest_descriptor;
    Descriptor::new(&d.media_type, d.digest.clone(), d.size)
}

/// Checks that a signature by `key` covers the suite as it is stored: among the suite's
/// referrers, a Sigstore bundle whose signature verifies with the key and whose files are the
/// suite's, path for path and digest for digest. No layer is downloaded.
pub async fn verify(options: &VerifyOptions, context: &Context) -> Result<VerifyReport> {
    let key = PublicKey::read(&options.key)?;
    let source = context.source(&options.source).await?;
    let view = suite(source.as_ref(), &options.source).await?;
    let found = verified(source.as_ref(), &view, &key, &options.source.to_string(), &options.key).await?;
    Ok(VerifyReport {
        subject: view.manifest_descriptor.digest.clone(),
        signature: found.signature,
        files: found.files,
    })
}

/// A signature that verified: its manifest's digest, the bundle, the files it covers.
pub(crate) struct Verified {
    pub signature: String,
    pub bundle: Vec<u8>,
    pub files: usize,
}

/// The first of the suite's referrers that is a bundle signed by `key` covering exactly the
/// files the manifest records. No signature at all: not found (exit 4); signatures none of
/// which verifies or covers the suite: a signature failure (exit 5), naming why for each.
pub(crate) async fn verified(
    source: &dyn Source,
    view: &SuiteView,
    key: &PublicKey,
    named: &str,
    key_path: &std::path::Path,
) -> Result<Verified> {
    let files = resources(view)?;
    let referrers = match source.referrers() {
        Some(r) => r.referrers(&view.manifest_descriptor).await?,
        None => Vec::new(),
    };
    let mut refusals = Vec::new();
    for referrer in referrers.iter().filter(|r| r.artifact_type.as_deref().is_some_and(is_bundle_type)) {
        let bytes = source.fetch_manifest(referrer).await?;
        let manifest = crate::artifact::manifest::parse_manifest(&bytes, &format!("signature {}", referrer.digest))?;
        for layer in manifest.layers.iter().filter(|l| is_bundle_type(&l.media_type)) {
            let bundle = store::read_small_blob(source, layer, &format!("signature {}", layer.digest)).await?;
            let outcome = signing::verify(&bundle, key, &format!("signature {}", referrer.digest))
                .and_then(|signed| signing::covers(&signed, &files).map_err(|why| refused(&referrer.digest, &why)));
            match outcome {
                Ok(()) => return Ok(Verified { signature: referrer.digest.clone(), bundle, files: files.len() }),
                Err(e) if matches!(e.kind(), ErrorKind::Integrity(_)) => refusals.push(e.to_string()),
                Err(e) => return Err(e),
            }
        }
    }
    if refusals.is_empty() {
        return Err(Error::not_found(format!("{named} has no signature"))
            .with_hint(format!("sign it: zoo-oci sign {named} --key KEY.pem")));
    }
    Err(Error::integrity(
        IntegrityFailure::Signature,
        format!("no signature of {named} verifies with {}: {}", key_path.display(), refusals.join("; ")),
    ))
}

fn refused(signature: &str, why: &str) -> Error {
    Error::integrity(IntegrityFailure::Signature, format!("signature {signature} covers other content: {why}"))
}

/// A Sigstore bundle's media type, of any version (`…bundle.v0.3+json`, `…bundle+json;version=0.2`).
fn is_bundle_type(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.dev.sigstore.bundle")
}
