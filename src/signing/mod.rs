//! OpenSSF Model Signing (OMS) v1.0: a signature over a suite's files, made and checked from
//! the file digests its manifest records, without reading a layer. The signature is an in-toto
//! Statement v1 (predicate `https://model_signing/signature/v1.0`, one resource per file) in a
//! DSSE envelope inside a Sigstore bundle v0.3, the bytes PyPI's `model_signing` writes to
//! `model.sig` and verifies.

pub mod certs;
pub mod keys;
pub mod policy;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{Error, IntegrityFailure, Result};

pub use keys::{PrivateKey, PublicKey};

/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE's pre-authentication encoding, the bytes a signature covers:
/// `DSSEv1 LEN(type) type LEN(body) body`, lengths in ASCII decimal, one space between.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The in-toto Statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// OMS v1.0's predicate type.
pub const PREDICATE_TYPE: &str = "https://model_signing/signature/v1.0";
/// The Sigstore bundle version written; 0.2 and 0.3 are read.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// What `model_signing` ignores by default, recorded as it records it.
const DEFAULT_IGNORED: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// One file a signature covers: its suite-relative path and its sha256, bare hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Resource {
    /// The path, `/`-separated.
    pub name: String,
    /// The sha256 of its bytes, 64 lower-case hex digits.
    pub digest: String,
}

/// A statement's subject digest: sha256 over the resources' raw 32-byte digests, in the order
/// given (OMS v1.0, "files" serialization; `model_signing` hashes them as its statement lists
/// them, and lists them in [`path_order`]).
pub fn subject_digest(resources: &[Resource]) -> Result<String> {
    let mut hasher = Sha256::new();
    for r in resources {
        hasher.update(raw_digest(r)?);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The order `model_signing` lists files in: by path component, as Python orders
/// `PurePosixPath`s (`a/b` before `a-b`, which a byte order puts after it).
pub fn path_order(a: &Resource, b: &Resource) -> std::cmp::Ordering {
    a.name.split('/').cmp(b.name.split('/')).then_with(|| a.digest.cmp(&b.digest))
}

fn raw_digest(r: &Resource) -> Result<[u8; 32]> {
    let mut raw = [0u8; 32];
    hex::decode_to_slice(&r.digest, &mut raw)
        .map_err(|_| Error::malformed(format!("the digest of {} is not 64 hex digits: {:?}", r.name, r.digest)))?;
    Ok(raw)
}

/// The in-toto statement over `resources`, subject `name` (the suite's or folder's name).
pub fn statement(name: &str, resources: &[Resource]) -> Result<Vec<u8>> {
    let mut sorted = resources.to_vec();
    sorted.sort_by(path_order);
    let digest = subject_digest(&sorted)?;
    let statement = serde_json::json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "serialization": {
                "method": "files",
                "hash_type": "sha256",
                "allow_symlinks": false,
                "ignore_paths": DEFAULT_IGNORED,
            },
            "resources": sorted.iter().map(|r| serde_json::json!({
                "name": r.name, "algorithm": "sha256", "digest": r.digest,
            })).collect::<Vec<_>>(),
        },
    });
    Ok(serde_json::to_vec(&statement).expect("statements serialise"))
}

/// The key's hint in a bundle, as `model_signing` computes it: the sha256 of its PEM text.
pub fn key_hint(key: &PublicKey) -> String {
    hex::encode(Sha256::digest(key.pem().as_bytes()))
}

/// Signs `resources` under `name`: a Sigstore bundle (v0.3) holding a DSSE envelope of the
/// statement, its signature by `key`, and the public key's hint.
pub fn sign(key: &PrivateKey, name: &str, resources: &[Resource]) -> Result<Vec<u8>> {
    let material = serde_json::json!({"publicKey": {"hint": key_hint(&key.public_key())}, "tlogEntries": []});
    envelope_bundle(key, material, name, resources)
}

/// Signs as [`sign`] does, in certificate mode: the bundle carries `chain` (DER, the signing
/// certificate first, then its issuers), as `model_signing sign certificate` writes it.
pub fn sign_certified(key: &PrivateKey, chain: &[Vec<u8>], name: &str, resources: &[Resource]) -> Result<Vec<u8>> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let certificates: Vec<_> = chain.iter().map(|der| serde_json::json!({"rawBytes": b64.encode(der)})).collect();
    let material = serde_json::json!({"x509CertificateChain": {"certificates": certificates}, "tlogEntries": []});
    envelope_bundle(key, material, name, resources)
}

fn envelope_bundle(
    key: &PrivateKey,
    material: serde_json::Value,
    name: &str,
    resources: &[Resource],
) -> Result<Vec<u8>> {
    let payload = statement(name, resources)?;
    let signature = key.sign(&pae(PAYLOAD_TYPE, &payload));
    let b64 = base64::engine::general_purpose::STANDARD;
    let bundle = serde_json::json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material,
        "dsseEnvelope": {
            "payload": b64.encode(&payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": b64.encode(signature), "keyid": ""}],
        },
    });
    // Compact, as model_signing writes it.
    Ok(serde_json::to_vec(&bundle).expect("bundles serialise"))
}

/// Whom a signature must be by: a public key, or (certificate mode) any signing certificate
/// that chains to one of these roots.
#[derive(Debug, Clone)]
pub enum Trust {
    /// A bare public key (SPKI PEM).
    Key(PublicKey),
    /// Root certificates (PEM).
    Roots(certs::Roots),
}

impl From<PublicKey> for Trust {
    fn from(key: PublicKey) -> Trust {
        Trust::Key(key)
    }
}

impl Trust {
    /// Reads a PEM file of either kind: certificates are roots, anything else a public key.
    pub fn from_pem(text: &str, named: &str) -> Result<Trust> {
        match text.contains("-----BEGIN CERTIFICATE-----") {
            true => Ok(Trust::Roots(certs::Roots::from_pem(text, named)?)),
            false => Ok(Trust::Key(PublicKey::from_pem(text, named)?)),
        }
    }

    /// Reads a PEM public key or root certificates from `path`.
    pub fn read(path: &std::path::Path) -> Result<Trust> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the public key", path, e))?;
        Trust::from_pem(&text, &path.display().to_string())
    }
}

/// What a signature that verified covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The subject's name.
    pub name: String,
    /// Every file, in [`path_order`].
    pub resources: Vec<Resource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    #[serde(default)]
    verification_material: Material,
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Material {
    x509_certificate_chain: Option<CertificateChain>,
    /// Bundle v0.3's single certificate (a leaf whose issuers the verifier holds).
    certificate: Option<RawBytes>,
}

#[derive(Deserialize)]
struct CertificateChain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    predicate_type: String,
    predicate: Predicate,
}

#[derive(Deserialize)]
struct Subject {
    #[serde(default)]
    name: String,
    digest: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Predicate {
    resources: Vec<SignedResource>,
}

#[derive(Deserialize)]
struct SignedResource {
    name: String,
    algorithm: String,
    digest: String,
}

fn refused(why: impl Into<String>) -> Error {
    Error::integrity(IntegrityFailure::Signature, why)
}

/// A bundle's DSSE envelope, read: the message its signatures sign (the PAE of its payload),
/// the signatures, and the payload.
struct Opened {
    /// The certificates the bundle carries (DER, leaf first); none in key mode.
    chain: Vec<Vec<u8>>,
    message: Vec<u8>,
    signatures: Vec<Vec<u8>>,
    payload: Vec<u8>,
}

fn open(bundle: &[u8], what: &str) -> Result<Opened> {
    let bundle: Bundle = serde_json::from_slice(bundle)
        .map_err(|e| Error::malformed(format!("{what} is not a Sigstore bundle")).with_cause(e))?;
    if !bundle.media_type.starts_with("application/vnd.dev.sigstore.bundle") {
        return Err(Error::malformed(format!("{what} is a {:?}, not a Sigstore bundle", bundle.media_type)));
    }
    let envelope = bundle.dsse_envelope.ok_or_else(|| {
        Error::malformed(format!("{what} holds no DSSE envelope (a message signature is not an OMS signature)"))
    })?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(Error::malformed(format!("{what} signs a {:?}, not an in-toto statement", envelope.payload_type)));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(&envelope.payload)
        .map_err(|e| Error::malformed(format!("{what}'s payload is not base64")).with_cause(e))?;
    let message = pae(&envelope.payload_type, &payload);
    let signatures = envelope.signatures.iter().filter_map(|s| b64.decode(&s.sig).ok()).collect();
    let material = bundle.verification_material;
    let carried = match (material.x509_certificate_chain, material.certificate) {
        (Some(chain), _) => chain.certificates,
        (None, Some(one)) => vec![one],
        (None, None) => Vec::new(),
    };
    let chain = carried
        .iter()
        .map(|c| b64.decode(&c.raw_bytes))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::malformed(format!("{what}'s certificates are not base64")).with_cause(e))?;
    Ok(Opened { chain, message, signatures, payload })
}

/// Checks a Sigstore bundle against `trust`: one of its DSSE signatures is the trusted key's
/// (or the key of a signing certificate the bundle carries, chained to a trusted root) over the
/// envelope's payload, the payload is an OMS v1.0 statement, and its subject digest is the one
/// its resources make. Gives what it covers; whether that is the content at hand is the
/// caller's to check ([`covers`]).
pub fn verify(bundle: &[u8], trust: &Trust, what: &str) -> Result<Signed> {
    let opened = open(bundle, what)?;
    let key = match trust {
        Trust::Key(key) => key.clone(),
        Trust::Roots(roots) => {
            if opened.chain.is_empty() {
                return Err(refused(format!("{what} carries no certificate (it was signed with a bare key)"))
                    .with_hint("verify it with the signer's public key instead of root certificates"));
            }
            certs::leaf_key(&opened.chain, roots)
                .map_err(|why| refused(format!("{what}'s signing certificate is not trusted: {why}")))?
        }
    };
    if !opened.signatures.iter().any(|sig| key.verifies(&opened.message, sig)) {
        let whose = match trust {
            Trust::Key(_) => "this key",
            Trust::Roots(_) => "its signing certificate's key",
        };
        return Err(refused(format!("{what} is not signed by {whose}"))
            .with_hint("check that the public key is the one the suite was signed with"));
    }
    statement_of(&opened.payload, what)
}

/// What a bundle says it covers, its signature not checked (no key is at hand): for a folder's
/// `model.sig` that a push carries along as the suite's signature, which `verify` checks later.
pub fn claimed(bundle: &[u8], what: &str) -> Result<Signed> {
    statement_of(&open(bundle, what)?.payload, what)
}

fn statement_of(payload: &[u8], what: &str) -> Result<Signed> {
    let statement: Statement = serde_json::from_slice(payload)
        .map_err(|e| refused(format!("{what} signs something that is not an in-toto statement")).with_cause(e))?;
    if statement.kind != STATEMENT_TYPE || statement.predicate_type != PREDICATE_TYPE {
        return Err(refused(format!(
            "{what} signs a {} statement of {}, not an OMS v1.0 signature",
            statement.kind, statement.predicate_type
        )));
    }
    let mut resources = Vec::with_capacity(statement.predicate.resources.len());
    for r in statement.predicate.resources {
        if r.algorithm != "sha256" {
            return Err(refused(format!("{what} gives {} as {}, which zoo-oci does not check", r.name, r.algorithm)));
        }
        resources.push(Resource { name: r.name, digest: r.digest.to_ascii_lowercase() });
    }
    let [subject] = statement.subject.as_slice() else {
        return Err(refused(format!("{what} has {} subjects, not one", statement.subject.len())));
    };
    // Over the files in the order the statement lists them, as model_signing checks it.
    let claimed = subject.digest.get("sha256").map(|d| d.to_ascii_lowercase());
    if claimed.as_deref() != Some(subject_digest(&resources)?.as_str()) {
        return Err(refused(format!("{what}'s subject digest is not the one its files make")));
    }
    resources.sort_by(path_order);
    Ok(Signed { name: subject.name.clone(), resources })
}

/// Whether `signed` covers exactly `files` (each path with its sha256): the same paths, the
/// same digests. Gives the first difference, said for people.
pub fn covers(signed: &Signed, files: &[Resource]) -> std::result::Result<(), String> {
    let signed_map: std::collections::BTreeMap<&str, &str> =
        signed.resources.iter().map(|r| (r.name.as_str(), r.digest.as_str())).collect();
    let files_map: std::collections::BTreeMap<&str, &str> =
        files.iter().map(|r| (r.name.as_str(), r.digest.as_str())).collect();
    for (name, digest) in &files_map {
        match signed_map.get(name) {
            None => return Err(format!("{name} is not signed")),
            Some(d) if d != digest => return Err(format!("{name} is not the file that was signed")),
            Some(_) => {}
        }
    }
    if let Some(name) = signed_map.keys().find(|n| !files_map.contains_key(*n)) {
        return Err(format!("{name} was signed but is missing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oms");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
    }

    fn public(name: &str) -> PublicKey {
        PublicKey::from_pem(std::str::from_utf8(&fixture(name)).unwrap(), name).unwrap()
    }

    /// The fixture folder's files, hashed here.
    fn folder() -> Vec<Resource> {
        ["a.txt", "sub/b.bin", "sub/deep/c.json"]
            .iter()
            .map(|name| Resource {
                name: name.to_string(),
                digest: hex::encode(Sha256::digest(fixture(&format!("model/{name}")))),
            })
            .collect()
    }

    fn p256_key(seed: u8) -> PrivateKey {
        PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap())
    }

    fn is_refused(result: Result<Signed>) -> bool {
        matches!(result.map_err(|e| e.kind()), Err(crate::ErrorKind::Integrity(IntegrityFailure::Signature)))
    }

    #[test]
    fn pae_is_the_dsse_specs_encoding() {
        // The DSSE spec's own example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }

    #[test]
    fn model_signings_bundles_verify_and_cover_the_folder_they_signed() {
        for (bundle, key) in [("model.sig", "pub.pem"), ("model_p384.sig", "pub384.pem")] {
            let signed = verify(&fixture(bundle), &public(key).into(), bundle).unwrap();
            assert_eq!(signed.name, "model");
            covers(&signed, &folder()).unwrap();
        }
        // Each with its own key only.
        assert!(is_refused(verify(&fixture("model.sig"), &public("pub384.pem").into(), "model.sig")));
        assert!(is_refused(verify(&fixture("model_p384.sig"), &public("pub.pem").into(), "model_p384.sig")));
    }

    #[test]
    fn the_key_hint_is_the_one_model_signing_writes() {
        let bundle: serde_json::Value = serde_json::from_slice(&fixture("model.sig")).unwrap();
        assert_eq!(bundle["verificationMaterial"]["publicKey"]["hint"], key_hint(&public("pub.pem")));
    }

    #[test]
    fn a_bundle_signed_here_verifies_and_says_what_it_covers() {
        let key = p256_key(3);
        let bundle = sign(&key, "tiny", &folder()).unwrap();
        let signed = verify(&bundle, &key.public_key().into(), "the signature").unwrap();
        assert_eq!(signed.name, "tiny");
        covers(&signed, &folder()).unwrap();
        assert!(is_refused(verify(&bundle, &p256_key(4).public_key().into(), "the signature")), "another key");
        let mut changed = folder();
        changed[1].digest = "00".repeat(32);
        assert_eq!(covers(&signed, &changed).unwrap_err(), "sub/b.bin is not the file that was signed");
        assert_eq!(covers(&signed, &folder()[..2]).unwrap_err(), "sub/deep/c.json was signed but is missing");
        let mut more = folder();
        more.push(Resource { name: "extra.txt".into(), digest: "11".repeat(32) });
        assert_eq!(covers(&signed, &more).unwrap_err(), "extra.txt is not signed");
    }

    #[test]
    fn a_payload_changed_after_signing_or_a_wrong_subject_is_refused() {
        let key = p256_key(3);
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut bundle: serde_json::Value = serde_json::from_slice(&sign(&key, "tiny", &folder()).unwrap()).unwrap();
        let payload = b64.decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
        let tampered = String::from_utf8(payload).unwrap().replace(&folder()[0].digest, &"22".repeat(32));
        bundle["dsseEnvelope"]["payload"] = b64.encode(tampered.as_bytes()).into();
        assert!(is_refused(verify(&serde_json::to_vec(&bundle).unwrap(), &key.public_key().into(), "s")));
        // Signed, but its subject digest is not what its resources make.
        let mut statement: serde_json::Value = serde_json::from_slice(&statement("tiny", &folder()).unwrap()).unwrap();
        statement["subject"][0]["digest"]["sha256"] = "33".repeat(32).into();
        let payload = serde_json::to_vec(&statement).unwrap();
        bundle["dsseEnvelope"]["payload"] = b64.encode(&payload).into();
        bundle["dsseEnvelope"]["signatures"][0]["sig"] = b64.encode(key.sign(&pae(PAYLOAD_TYPE, &payload))).into();
        let e = verify(&serde_json::to_vec(&bundle).unwrap(), &key.public_key().into(), "s").unwrap_err();
        assert!(e.to_string().contains("subject digest"), "{e}");
    }

    #[test]
    fn the_subject_digest_hashes_the_raw_digests_in_model_signings_path_order() {
        let statement: serde_json::Value = serde_json::from_slice(&fixture("model.sig")).unwrap();
        let payload = base64::engine::general_purpose::STANDARD
            .decode(statement["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let theirs: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        let mut ordered = folder();
        ordered.sort_by(path_order);
        assert_eq!(theirs["subject"][0]["digest"]["sha256"], subject_digest(&ordered).unwrap());
        // The order model_signing 1.1.1 listed these paths in (PurePosixPath's), not a byte order.
        let mut names: Vec<Resource> = ["é", "a0", "a/b", "B", "a.d/x", "a-b"]
            .iter()
            .map(|n| Resource { name: n.to_string(), digest: "00".repeat(32) })
            .collect();
        names.sort_by(path_order);
        let listed: Vec<&str> = names.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(listed, ["B", "a/b", "a-b", "a.d/x", "a0", "é"]);
    }
}
