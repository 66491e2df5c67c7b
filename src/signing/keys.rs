//! The keys OMS signatures are made and checked with: ECDSA over P-256 (SHA-256) and P-384
//! (SHA-384), as `openssl` and `model_signing` write them — private keys as SEC1
//! (`EC PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`) PEM, public keys as SPKI (`PUBLIC KEY`) PEM.
//! Signatures are ASN.1 DER, as DSSE envelopes from Sigstore's clients carry them. All the
//! arithmetic is RustCrypto's (`p256`, `p384`): nothing here is hand-written crypto.

use std::path::Path;

use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};

use crate::error::{Error, Result};

/// A private key that signs.
pub enum PrivateKey {
    /// ECDSA P-256 with SHA-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-384 with SHA-384.
    P384(p384::ecdsa::SigningKey),
}

/// A public key that verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// ECDSA P-256 with SHA-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA P-384 with SHA-384.
    P384(p384::ecdsa::VerifyingKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        f.write_str(match self {
            PrivateKey::P256(_) => "PrivateKey::P256(..)",
            PrivateKey::P384(_) => "PrivateKey::P384(..)",
        })
    }
}

fn unsupported(what: &str, path: &str) -> Error {
    Error::usage(format!("{path} is not {what} zoo-oci can use")).with_hint(
        "give an ECDSA P-256 or P-384 key in PEM, as `openssl ecparam -name prime256v1 -genkey -noout` writes it",
    )
}

impl PrivateKey {
    /// Reads a PEM private key: SEC1 (`EC PRIVATE KEY`) or unencrypted PKCS#8 (`PRIVATE KEY`).
    pub fn from_pem(text: &str, named: &str) -> Result<PrivateKey> {
        if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err(Error::usage(format!("{named} is an encrypted private key"))
                .with_hint("decrypt it first: openssl pkcs8 -in KEY -out PLAIN.pem (keep PLAIN.pem private)"));
        }
        if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            if let Ok(key) = p256::SecretKey::from_sec1_pem(text) {
                return Ok(PrivateKey::P256(key.into()));
            }
            if let Ok(key) = p384::SecretKey::from_sec1_pem(text) {
                return Ok(PrivateKey::P384(key.into()));
            }
            return Err(unsupported("an EC private key on P-256 or P-384", named));
        }
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_pem(text) {
            return Ok(PrivateKey::P256(key));
        }
        if let Ok(key) = p384::ecdsa::SigningKey::from_pkcs8_pem(text) {
            return Ok(PrivateKey::P384(key));
        }
        Err(unsupported("a private key", named))
    }

    /// Reads a PEM private key from `path`.
    pub fn read(path: &Path) -> Result<PrivateKey> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the private key", path, e))?;
        PrivateKey::from_pem(&text, &path.display().to_string())
    }

    /// The public half.
    pub fn public_key(&self) -> PublicKey {
        match self {
            PrivateKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            PrivateKey::P384(k) => PublicKey::P384(*k.verifying_key()),
        }
    }

    /// An ECDSA signature of `message` (hashed with the curve's hash), DER-encoded.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer;
        match self {
            PrivateKey::P256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            PrivateKey::P384(k) => {
                let signature: p384::ecdsa::Signature = k.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
        }
    }
}

impl PublicKey {
    /// Reads a PEM public key (SPKI, `PUBLIC KEY`).
    pub fn from_pem(text: &str, named: &str) -> Result<PublicKey> {
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey::P256(key));
        }
        if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_pem(text) {
            return Ok(PublicKey::P384(key));
        }
        if text.contains("PRIVATE KEY") {
            return Err(Error::usage(format!("{named} is a private key, not a public one"))
                .with_hint("give the public key: openssl ec -in KEY.pem -pubout -out PUB.pem"));
        }
        Err(unsupported("a public key", named))
    }

    /// Reads a PEM public key from `path`.
    pub fn read(path: &Path) -> Result<PublicKey> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the public key", path, e))?;
        PublicKey::from_pem(&text, &path.display().to_string())
    }

    /// Whether `signature` (DER) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match self {
            PublicKey::P256(k) => {
                p256::ecdsa::Signature::from_der(signature).is_ok_and(|s| k.verify(message, &s).is_ok())
            }
            PublicKey::P384(k) => {
                p384::ecdsa::Signature::from_der(signature).is_ok_and(|s| k.verify(message, &s).is_ok())
            }
        }
    }

    /// Reads a DER SPKI (a certificate's key); `None` for a key that is not P-256 or P-384.
    pub fn from_spki_der(der: &[u8]) -> Option<PublicKey> {
        if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            return Some(PublicKey::P256(key));
        }
        p384::ecdsa::VerifyingKey::from_public_key_der(der).ok().map(PublicKey::P384)
    }

    /// Whether `signature` (DER) is this key's signature of a message whose hash is `digest`
    /// (a certificate's, hashed as its signature algorithm says).
    pub fn verifies_prehash(&self, digest: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            PublicKey::P256(k) => {
                p256::ecdsa::Signature::from_der(signature).is_ok_and(|s| k.verify_prehash(digest, &s).is_ok())
            }
            PublicKey::P384(k) => {
                p384::ecdsa::Signature::from_der(signature).is_ok_and(|s| k.verify_prehash(digest, &s).is_ok())
            }
        }
    }

    /// The key as SPKI PEM, as `openssl ec -pubout` and Python's `cryptography` write it.
    pub fn pem(&self) -> String {
        let pem = match self {
            PublicKey::P256(k) => k.to_public_key_pem(p256::pkcs8::LineEnding::LF),
            PublicKey::P384(k) => k.to_public_key_pem(p256::pkcs8::LineEnding::LF),
        };
        pem.expect("an EC public key encodes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_its_key_only() {
        for key in [
            PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap()),
            PrivateKey::P384(p384::ecdsa::SigningKey::from_slice(&[7u8; 48]).unwrap()),
        ] {
            let public = key.public_key();
            let signature = key.sign(b"message");
            assert!(public.verifies(b"message", &signature));
            assert!(!public.verifies(b"messagf", &signature), "another message");
            let other = match &key {
                PrivateKey::P256(_) => PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[8u8; 32]).unwrap()),
                PrivateKey::P384(_) => PrivateKey::P384(p384::ecdsa::SigningKey::from_slice(&[8u8; 48]).unwrap()),
            };
            assert!(!other.public_key().verifies(b"message", &signature), "another key");
            assert!(!public.verifies(b"message", b"not der"));
        }
    }

    #[test]
    fn a_public_key_given_as_the_private_one_is_named_so() {
        let e = PublicKey::from_pem("-----BEGIN EC PRIVATE KEY-----\nAA==\n-----END EC PRIVATE KEY-----\n", "k.pem")
            .unwrap_err();
        assert!(e.to_string().contains("private key"), "{e}");
    }
}
