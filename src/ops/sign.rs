//! `sign` and `verify`: an OpenSSF Model Signing v1.0 signature of a suite ([`crate::signing`]),
//! made from the file digests its manifest records (no layer is downloaded) and stored as an
//! OCI referrer of the suite's manifest, as cosign stores a Sigstore bundle: a manifest whose
//! `subject` is the suite, whose `artifactType` and one layer are the bundle's media type.

use std::path::PathBuf;

use serde::Serialize;

use super::Context;
use crate::artifact::archive::{self, Expected, FileRecord};
use crate::artifact::decode::{LayerView, Storage, SuiteView};
use crate::artifact::manifest::{Descriptor, Manifest};
use crate::artifact::media;
use crate::error::{Error, ErrorKind, IntegrityFailure, Result};
use crate::reference::Location;
use crate::signing::{self, PrivateKey, Resource, Trust};
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
    /// Certificate mode: the key's signing certificate (PEM), carried in the signature.
    pub certificate: Option<PathBuf>,
    /// Certificate mode: the certificates that issued it (PEM, issuer first), carried too.
    pub certificate_chain: Option<PathBuf>,
}

impl SignOptions {
    /// Signs `source` with the private key at `key`.
    pub fn new(source: Location, key: impl Into<PathBuf>) -> Self {
        SignOptions { source, key: key.into(), certificate: None, certificate_chain: None }
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
    /// A PEM public key (SPKI), or root certificates (PEM) that a signing certificate the
    /// signature carries must chain to (certificate mode).
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
/// lists no file digests (a layer of over 1,000 files) is read once, streamed and checked
/// against its digest, to learn them: nothing is written, and the pull that follows checks the
/// layer's digest, which binds its files to what was learned here.
async fn resources(source: &dyn Source, view: &SuiteView, known: &KnownFiles) -> Result<Vec<Resource>> {
    let mut out = Vec::new();
    for layer in &view.layers {
        let learned;
        let files = match (&layer.files, known.get(&layer.descriptor.digest).filter(|f| !f.is_empty())) {
            (Some(files), _) | (None, Some(files)) => files,
            (None, None) => {
                learned = read_file_digests(source, layer).await?;
                &learned
            }
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

/// File digests already known, by layer digest (packing's, in a signed push).
pub(crate) type KnownFiles = std::collections::HashMap<String, Vec<FileRecord>>;

/// The files of a layer the manifest lists no digests for, learned by reading it once.
async fn read_file_digests(source: &dyn Source, layer: &LayerView) -> Result<Vec<FileRecord>> {
    let Storage::Tar(compression) = layer.storage else {
        return Err(Error::malformed(format!("layer {} lists no file, yet is one file", layer.descriptor.digest)));
    };
    let Expected::Bound(bound) = crate::pull::unpack_of(layer, crate::pull::DEFAULT_MAX_EXPANSION).expected else {
        unreachable!("a layer without a file list is bounded by size")
    };
    let blob = source.fetch_blob(&layer.descriptor).await?;
    let bridge = tokio_util::io::SyncIoBridge::new(blob);
    let descriptor = layer.descriptor.clone();
    tokio::task::spawn_blocking(move || {
        let reader = std::io::BufReader::with_capacity(archive::COPY_BUFFER, bridge);
        archive::file_digests(reader, &descriptor, compression, bound)
    })
    .await
    .map_err(|e| Error::failed("a layer-reading task failed").with_cause(e))?
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
    sign_knowing(options, context, &KnownFiles::new()).await
}

/// [`sign`], taking the files of the layers in `known` from there rather than reading them.
pub(crate) async fn sign_knowing(options: &SignOptions, context: &Context, known: &KnownFiles) -> Result<SignReport> {
    let signer = Signer::read(options)?;
    let target = context.target(&options.source, Access::Update).await?;
    let view = suite(target.as_ref(), &options.source).await?;
    let files = resources(target.as_ref(), &view, known).await?;
    let name = view.name().map(String::from).unwrap_or_else(|| options.source.to_string());
    let bundle = signer.sign(&name, &files)?;
    let signature = attach(target.as_ref(), &view, bundle).await?;
    Ok(SignReport { subject: view.manifest_descriptor.digest.clone(), signature, files: files.len() })
}

/// A private key, and in certificate mode its certificate chain (DER, leaf first).
pub(crate) struct Signer {
    key: PrivateKey,
    chain: Option<Vec<Vec<u8>>>,
}

impl Signer {
    /// Reads the key and certificates `options` name: all before anything is done, so that a
    /// wrong file stops the command at once.
    pub(crate) fn read(options: &SignOptions) -> Result<Signer> {
        let key = PrivateKey::read(&options.key)?;
        let read = |path: &std::path::Path| {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the certificate", path, e))?;
            signing::certs::read_pem_chain(&text, &path.display().to_string())
        };
        let chain = match (&options.certificate, &options.certificate_chain) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(Error::usage("a certificate chain was given without the signing certificate")
                    .with_hint("add --certificate CERT.pem, the certificate of the signing key"));
            }
            (Some(leaf_path), chain_path) => {
                let mut chain = read(leaf_path)?;
                if chain.len() != 1 {
                    return Err(Error::usage(format!(
                        "{} holds {} certificates; give the signing certificate alone, its issuers with --certificate-chain",
                        leaf_path.display(),
                        chain.len()
                    )));
                }
                let certified = signing::certs::certificate_key(&chain[0], &leaf_path.display().to_string())?;
                if certified != key.public_key() {
                    return Err(Error::usage(format!(
                        "{} is not the certificate of the key {}",
                        leaf_path.display(),
                        options.key.display()
                    )));
                }
                if let Some(path) = chain_path {
                    chain.extend(read(path)?);
                }
                Some(chain)
            }
        };
        Ok(Signer { key, chain })
    }

    fn sign(&self, name: &str, files: &[Resource]) -> Result<Vec<u8>> {
        match &self.chain {
            None => signing::sign(&self.key, name, files),
            Some(chain) => signing::sign_certified(&self.key, chain, name, files),
        }
    }
}

/// Stores a Sigstore bundle as a referrer of the suite `view`: a manifest whose `subject` is
/// the suite, whose `artifactType` and one layer are the bundle's media type, over OCI's empty
/// config (how cosign stores a bundle). Gives the referrer's manifest digest.
pub(crate) async fn attach(target: &dyn store::Target, view: &SuiteView, bundle: Vec<u8>) -> Result<String> {
    attach_as(target, view, signing::BUNDLE_MEDIA_TYPE, bundle).await
}

/// Stores `content` (of media type `kind`) as a referrer of the suite `view`, as [`attach`]
/// stores a bundle: `kind` is the manifest's `artifactType` and its one layer's media type.
pub(crate) async fn attach_as(
    target: &dyn store::Target,
    view: &SuiteView,
    kind: &str,
    bundle: Vec<u8>,
) -> Result<String> {
    let bundle_desc = Descriptor::for_bytes(kind, &bundle);
    let config = b"{}".to_vec();
    let config_desc = Descriptor::for_bytes(EMPTY_CONFIG, &config);
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.into()),
        artifact_type: Some(kind.into()),
        config: config_desc.clone(),
        layers: vec![bundle_desc.clone()],
        subject: Some(subject_of(view)),
        annotations: Default::default(),
    };
    let manifest_bytes = serde_json::to_vec(&manifest).expect("manifests serialise");
    let manifest_desc =
        Descriptor { artifact_type: Some(kind.into()), ..Descriptor::for_bytes(media::OCI_MANIFEST, &manifest_bytes) };
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
    Ok(manifest_desc.digest)
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
    let trusted = [Trusted::read(&options.key)?];
    let source = context.source(&options.source).await?;
    let view = suite(source.as_ref(), &options.source).await?;
    let found = verified(source.as_ref(), &view, &trusted, &options.source.to_string()).await?;
    Ok(VerifyReport {
        subject: view.manifest_descriptor.digest.clone(),
        signature: found.signature,
        files: found.files,
    })
}

/// A key or roots a signature may be by, and the file it came from (for messages).
#[derive(Debug, Clone)]
pub(crate) struct Trusted {
    pub trust: Trust,
    pub from: PathBuf,
}

impl Trusted {
    /// Reads a PEM public key, or root certificates.
    pub(crate) fn read(path: &std::path::Path) -> Result<Trusted> {
        Ok(Trusted { trust: Trust::read(path)?, from: path.to_path_buf() })
    }
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
    trusted: &[Trusted],
    named: &str,
) -> Result<Verified> {
    let referrers = match source.referrers() {
        Some(r) => r.referrers(&view.manifest_descriptor).await?,
        None => Vec::new(),
    };
    let signatures: Vec<&Descriptor> =
        referrers.iter().filter(|r| r.artifact_type.as_deref().is_none_or(is_bundle_type)).collect();
    // Learned only when there is a signature to check: reading a large layer costs its download.
    let files = match signatures.is_empty() {
        true => Vec::new(),
        false => resources(source, view, &KnownFiles::new()).await?,
    };
    let mut refusals = Vec::new();
    for referrer in signatures {
        let bytes = source.fetch_manifest(referrer).await?;
        let manifest = crate::artifact::manifest::parse_manifest(&bytes, &format!("signature {}", referrer.digest))?;
        for layer in manifest.layers.iter().filter(|l| is_bundle_type(&l.media_type)) {
            let bundle = store::read_small_blob(source, layer, &format!("signature {}", layer.digest)).await?;
            for trusted in trusted {
                let outcome = signing::verify(&bundle, &trusted.trust, &format!("signature {}", referrer.digest))
                    .and_then(|signed| signing::covers(&signed, &files).map_err(|why| refused(&referrer.digest, &why)));
                match outcome {
                    Ok(()) => return Ok(Verified { signature: referrer.digest.clone(), bundle, files: files.len() }),
                    Err(e) if matches!(e.kind(), ErrorKind::Integrity(_)) => refusals.push(e.to_string()),
                    Err(e) => return Err(e),
                }
            }
        }
    }
    if refusals.is_empty() {
        return Err(Error::not_found(format!("{named} has no signature"))
            .with_hint(format!("sign it: zoo-oci sign {named} --key KEY.pem")));
    }
    Err(Error::integrity(
        IntegrityFailure::Signature,
        format!("no signature of {named} verifies with {}: {}", trusted_names(trusted), refusals.join("; ")),
    ))
}

fn trusted_names(trusted: &[Trusted]) -> String {
    trusted.iter().map(|t| t.from.display().to_string()).collect::<Vec<_>>().join(" or ")
}

fn refused(signature: &str, why: &str) -> Error {
    Error::integrity(IntegrityFailure::Signature, format!("signature {signature} covers other content: {why}"))
}

/// A Sigstore bundle's media type, of any version (`…bundle.v0.3+json`, `…bundle+json;version=0.2`).
fn is_bundle_type(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.dev.sigstore.bundle")
}
