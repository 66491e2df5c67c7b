//! The certificate mode of OMS signatures: the bundle carries the signing certificate and its
//! intermediates (`verificationMaterial.x509CertificateChain`, leaf first) instead of a key's
//! hint, and a verifier trusts root certificates rather than one key.
//!
//! The checks are the ones PyPI's `model_signing` (1.1.1) makes with OpenSSL, so that a bundle
//! one accepts the other accepts: the chain runs from the leaf through the bundle's other
//! certificates (any order) to a self-signed root the verifier trusts; every certificate's
//! signature holds; every one is valid at the leaf's `notBefore` (there is no timestamp
//! authority to say when it signed, so the leaf's own start stands for it, as in
//! `model_signing`); issuers are CAs (`basicConstraints`) within their path length; an unknown
//! critical extension is refused; the leaf may sign (`digitalSignature`, or the `codeSigning`
//! purpose). Nothing is said about who the leaf names: that is the roots' to decide.
//!
//! The parsing is RustCrypto's `x509-cert`, the signatures its `p256`/`p384`. The path
//! building is here: a chain of at most a few certificates, walked from leaf to root, for
//! which the crates offer no verifier (RustCrypto has none; `webpki` checks TLS server and
//! client purposes only, and a code-signing leaf has neither).

use std::time::SystemTime;

use sha2::Digest as _;
use x509_cert::Certificate;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};

use super::keys::PublicKey;
use crate::error::{Error, Result};

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// The extensions OpenSSL understands when they are critical, among those a signing chain
/// carries: basic constraints, key usage, extended key usage, subject and issuer alternative
/// names, name constraints, certificate policies, policy constraints and mappings, inhibit any
/// policy, subject and authority key identifiers.
const UNDERSTOOD: [&str; 11] = [
    "2.5.29.19",
    "2.5.29.15",
    "2.5.29.37",
    "2.5.29.17",
    "2.5.29.18",
    "2.5.29.30",
    "2.5.29.32",
    "2.5.29.36",
    "2.5.29.33",
    "2.5.29.54",
    "2.5.29.14",
];
/// Longer chains than any real PKI's: a loop of cross-signed certificates ends here.
const MOST_LINKS: usize = 8;

/// Root certificates a verifier trusts (a PEM file of one or more `CERTIFICATE`s).
#[derive(Debug, Clone)]
pub struct Roots {
    certificates: Vec<Certificate>,
}

impl Roots {
    /// Reads PEM certificates; `named` names them in messages.
    pub fn from_pem(text: &str, named: &str) -> Result<Roots> {
        let certificates = Certificate::load_pem_chain(text.as_bytes())
            .map_err(|e| Error::usage(format!("{named} holds no readable PEM certificate")).with_cause(e))?;
        if certificates.is_empty() {
            return Err(Error::usage(format!("{named} holds no certificate")));
        }
        Ok(Roots { certificates })
    }
}

/// Reads the certificates of a chain file for signing (PEM, leaf's issuer first).
pub fn read_pem_chain(text: &str, named: &str) -> Result<Vec<Vec<u8>>> {
    let certificates = Certificate::load_pem_chain(text.as_bytes())
        .map_err(|e| Error::usage(format!("{named} holds no readable PEM certificate")).with_cause(e))?;
    certificates
        .iter()
        .map(|c| c.to_der().map_err(|e| Error::usage(format!("{named}: a certificate does not encode")).with_cause(e)))
        .collect()
}

/// The public key of a signing certificate (DER), for signing: it must be the private key's,
/// and the certificate must allow signing (else every verifier would refuse the signature).
pub fn certificate_key(der: &[u8], named: &str) -> Result<PublicKey> {
    let certificate = Certificate::from_der(der)
        .map_err(|e| Error::usage(format!("{named} is not an X.509 certificate")).with_cause(e))?;
    may_sign(&certificate).map_err(|why| Error::usage(format!("{named}: {why}")))?;
    key_of(&certificate).map_err(|why| Error::usage(format!("{named}: {why}")))
}

/// Checks the chain a bundle carries (`chain[0]` the leaf, DER) up to one of `roots`, and gives
/// the leaf's key, which the signature must then be by. The error says, for people, why not.
pub fn leaf_key(chain: &[Vec<u8>], roots: &Roots) -> std::result::Result<PublicKey, String> {
    let parsed: Vec<Certificate> = chain
        .iter()
        .enumerate()
        .map(|(i, der)| Certificate::from_der(der).map_err(|e| format!("certificate {} is not X.509 DER: {e}", i + 1)))
        .collect::<std::result::Result<_, _>>()?;
    let Some((leaf, intermediates)) = parsed.split_first() else {
        return Err("the bundle carries no certificate".into());
    };
    let at: SystemTime = leaf.tbs_certificate().validity().not_before.to_system_time();
    may_sign(leaf)?;
    let mut current = leaf;
    // `below`: the CAs between the leaf and the next issuer.
    for below in 0..MOST_LINKS {
        check_common(current, at)?;
        if self_signed(current) {
            return match roots.certificates.contains(current) {
                true => key_of(leaf),
                false => Err(format!("{} is self-signed, and not among the trusted roots", subject_of(current))),
            };
        }
        let issuer = roots
            .certificates
            .iter()
            .chain(intermediates)
            .filter(|c| c.tbs_certificate().subject() == current.tbs_certificate().issuer())
            .find(|c| signed_by(current, c).is_ok())
            .ok_or_else(|| {
                format!("no trusted root issued {} (its issuer is {})", subject_of(current), issuer_of(current))
            })?;
        is_ca(issuer, below)?;
        current = issuer;
    }
    Err(format!("the chain is longer than {MOST_LINKS} certificates"))
}

fn subject_of(c: &Certificate) -> String {
    c.tbs_certificate().subject().to_string()
}

fn issuer_of(c: &Certificate) -> String {
    c.tbs_certificate().issuer().to_string()
}

fn self_signed(c: &Certificate) -> bool {
    c.tbs_certificate().subject() == c.tbs_certificate().issuer() && signed_by(c, c).is_ok()
}

/// Valid at `at`, and no critical extension we do not understand.
fn check_common(c: &Certificate, at: SystemTime) -> std::result::Result<(), String> {
    let validity = c.tbs_certificate().validity();
    if at < validity.not_before.to_system_time() {
        return Err(format!("{} was not yet valid when the signing certificate was issued", subject_of(c)));
    }
    if at > validity.not_after.to_system_time() {
        return Err(format!("{} had expired when the signing certificate was issued", subject_of(c)));
    }
    for extension in c.tbs_certificate().extensions().into_iter().flatten() {
        if extension.critical && !UNDERSTOOD.contains(&extension.extn_id.to_string().as_str()) {
            return Err(format!(
                "{} has a critical extension zoo-oci does not know: {}",
                subject_of(c),
                extension.extn_id
            ));
        }
    }
    Ok(())
}

/// An issuer must be a CA whose path length allows the `below` CAs under it.
fn is_ca(c: &Certificate, below: usize) -> std::result::Result<(), String> {
    let constraints = c.tbs_certificate().get_extension::<BasicConstraints>().ok().flatten().map(|(_, b)| b);
    match constraints {
        Some(b) if b.ca => match b.path_len_constraint {
            Some(most) if below > usize::from(most) => {
                Err(format!("{} allows {most} CAs below it; the chain has {below}", subject_of(c)))
            }
            _ => Ok(()),
        },
        _ => Err(format!("{} issued a certificate but is not a CA (basicConstraints)", subject_of(c))),
    }
}

/// The leaf may sign: key usage `digitalSignature`, or the `codeSigning` purpose (as
/// `model_signing` asks; a certificate saying neither is refused, one saying nothing passes).
fn may_sign(leaf: &Certificate) -> std::result::Result<(), String> {
    let tbs = leaf.tbs_certificate();
    let usage = tbs.get_extension::<KeyUsage>().ok().flatten().map(|(_, k)| k);
    let purposes = tbs.get_extension::<ExtendedKeyUsage>().ok().flatten().map(|(_, e)| e);
    if usage.is_none() && purposes.is_none() {
        return Ok(());
    }
    let digital = usage.is_some_and(|k| k.0.contains(KeyUsages::DigitalSignature));
    let code = purposes.is_some_and(|e| e.0.contains(&CODE_SIGNING));
    if digital || code {
        Ok(())
    } else {
        Err(format!(
            "the signing certificate {} may not sign (neither digitalSignature nor codeSigning)",
            subject_of(leaf)
        ))
    }
}

fn key_of(c: &Certificate) -> std::result::Result<PublicKey, String> {
    let spki = c.tbs_certificate().subject_public_key_info().to_der().map_err(|e| e.to_string())?;
    PublicKey::from_spki_der(&spki).ok_or_else(|| format!("{}'s key is not ECDSA P-256 or P-384", subject_of(c)))
}

/// Whether `issuer`'s key made `c`'s signature (ECDSA with SHA-256, -384 or -512).
fn signed_by(c: &Certificate, issuer: &Certificate) -> std::result::Result<(), String> {
    let tbs = c.tbs_certificate().to_der().map_err(|e| e.to_string())?;
    let algorithm = c.signature_algorithm().oid;
    let digest: Vec<u8> = if algorithm == ECDSA_SHA256 {
        sha2::Sha256::digest(&tbs).to_vec()
    } else if algorithm == ECDSA_SHA384 {
        sha2::Sha384::digest(&tbs).to_vec()
    } else if algorithm == ECDSA_SHA512 {
        sha2::Sha512::digest(&tbs).to_vec()
    } else {
        return Err(format!("{} is signed with {algorithm}; zoo-oci checks ECDSA only", subject_of(c)));
    };
    let key = key_of(issuer)?;
    let signature = c.signature().raw_bytes();
    match key.verifies_prehash(&digest, signature) {
        true => Ok(()),
        false => Err(format!("{}'s signature is not {}'s", subject_of(c), subject_of(issuer))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{Resource, Trust, covers, sign_certified, verify};

    const CERTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oms/cert");

    fn read(name: &str) -> String {
        std::fs::read_to_string(format!("{CERTS}/{name}")).unwrap()
    }

    fn roots(name: &str) -> Trust {
        Trust::from_pem(&read(name), name).unwrap()
    }

    fn why_refused(bundle: &[u8], trust: &Trust) -> String {
        let e = verify(bundle, trust, "s").unwrap_err();
        assert!(matches!(e.kind(), crate::ErrorKind::Integrity(_)), "{e}");
        e.to_string()
    }

    fn folder() -> Vec<Resource> {
        use sha2::Digest as _;
        ["a.txt", "sub/b.bin", "sub/deep/c.json"]
            .iter()
            .map(|name| Resource {
                name: name.to_string(),
                digest: hex::encode(sha2::Sha256::digest(std::fs::read(format!("{CERTS}/../model/{name}")).unwrap())),
            })
            .collect()
    }

    #[test]
    fn model_signings_certificate_bundles_verify_against_their_root_only() {
        for accepted in ["model.sig", "model-noeku.sig", "model-ekuonly.sig"] {
            let bundle = read(accepted);
            let signed = verify(bundle.as_bytes(), &roots("root.pem"), accepted).unwrap();
            covers(&signed, &folder()).unwrap();
        }
        let bundle = read("model.sig");
        assert!(why_refused(bundle.as_bytes(), &roots("other-root.pem")).contains("no trusted root issued"));
        // An intermediate is not a root: the chain must end at a self-signed certificate.
        assert!(why_refused(bundle.as_bytes(), &roots("chain.pem")).contains("no trusted root issued"));
        let refused = why_refused(read("model-nosign.sig").as_bytes(), &roots("root.pem"));
        assert!(refused.contains("may not sign"), "{refused}");
    }

    #[test]
    fn a_certificate_bundle_signed_here_is_the_shape_model_signing_writes() {
        let key = crate::signing::PrivateKey::from_pem(&read("leaf-key.pem"), "leaf-key.pem").unwrap();
        let mut chain = read_pem_chain(&read("leaf.pem"), "leaf.pem").unwrap();
        chain.extend(read_pem_chain(&read("chain.pem"), "chain.pem").unwrap());
        let bundle = sign_certified(&key, &chain, "model", &folder()).unwrap();
        let signed = verify(&bundle, &roots("root.pem"), "here").unwrap();
        covers(&signed, &folder()).unwrap();
        let ours: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(&read("model.sig")).unwrap();
        assert_eq!(
            ours["verificationMaterial"], theirs["verificationMaterial"],
            "the same certificates, the same shape"
        );
        // A bare key's bundle is not a certificate's.
        let bare = crate::signing::sign(&key, "model", &folder()).unwrap();
        assert!(why_refused(&bare, &roots("root.pem")).contains("carries no certificate"));
    }
}
