//! TLS to registries, set up the way private registries are: the system's CAs, the user's
//! (`--ca-file`, docker's and podman's `certs.d`), a client certificate for mutual TLS, and the
//! self-signed certificate that is its own CA.
//!
//! That last one is what CNCF Distribution's docs tell people to make (`openssl req -x509`), and
//! OpenSSL 3 marks it `CA:TRUE`; webpki, rightly for the web, refuses a CA as a server's
//! certificate (`CaUsedAsEndEntity`). Docker and Go accept it. We accept it only when the
//! certificate the server presents is byte for byte one the user gave, and still check its host
//! name and validity period — a pin, not a loosening.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::Transport;
use crate::error::{Error, Result};

/// What the user gave us to trust and to show for one registry.
#[derive(Debug, Default)]
pub struct Material {
    /// CA certificates (PEM files) to trust besides the system's, with where each came from.
    pub cas: Vec<(PathBuf, Vec<CertificateDer<'static>>)>,
    /// A client certificate chain and its key, for registries that ask for one.
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl Transport {
    /// The CAs and client certificate for `registry` (`HOST[:PORT]`): every `--ca-file`, the
    /// `--cert-file`/`--key-file` pair, then `CERTS_DIR/HOST[:PORT]/` in each certs.d folder as
    /// docker reads it: `*.crt` are CAs, `NAME.cert` with `NAME.key` a client certificate.
    pub fn tls_material(&self, registry: &str) -> Result<Material> {
        let mut material = Material::default();
        for path in &self.ca_files {
            material.cas.push((path.clone(), read_certificates(path, "--ca-file")?));
        }
        match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => material.identity = Some((cert.clone(), key.clone())),
            (None, None) => {}
            _ => return Err(Error::usage("--cert-file and --key-file go together: give both or neither")),
        }
        for root in &self.certs_dirs {
            let dir = root.join(registry);
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            files.sort();
            for path in &files {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("crt") => material.cas.push((path.clone(), read_certificates(path, "a certs.d CA")?)),
                    Some("cert") => {
                        let key = path.with_extension("key");
                        if !key.is_file() {
                            return Err(Error::usage(format!(
                                "{} has no key beside it: mutual TLS needs {}",
                                path.display(),
                                key.display()
                            )));
                        }
                        material.identity.get_or_insert((path.clone(), key));
                    }
                    Some("key") if !path.with_extension("cert").is_file() => {
                        return Err(Error::usage(format!(
                            "{} has no certificate beside it: mutual TLS needs {}",
                            path.display(),
                            path.with_extension("cert").display()
                        )));
                    }
                    _ => {}
                }
            }
        }
        Ok(material)
    }
}

/// The rustls configuration for talking to `registry`.
pub fn client_config(transport: &Transport, registry: &str) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let material = transport.tls_material(registry)?;
    let verifier: Arc<dyn ServerCertVerifier> = if transport.insecure {
        Arc::new(Unverified(provider.clone()))
    } else {
        let mut roots = RootCertStore::empty();
        // The system's CAs, as docker and curl trust them; an unreadable one is skipped as they do.
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        let mut pinned = Vec::new();
        for (path, certs) in &material.cas {
            for cert in certs {
                roots.add(cert.clone()).map_err(|e| {
                    Error::usage(format!("{} holds a certificate that cannot be a trust anchor", path.display()))
                        .with_cause(e)
                })?;
                pinned.push(cert.clone());
            }
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| Error::failed("could not set up TLS verification").with_cause(e))?;
        Arc::new(Pinning { inner, pinned })
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failed("could not set up TLS").with_cause(e))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match material.identity {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = read_certificates(&cert, "the client certificate")?;
            let data = std::fs::read(&key).map_err(|e| Error::io("read the client key", &key, e))?;
            let private = PrivateKeyDer::from_pem_slice(&data).map_err(|e| {
                Error::usage(format!("{} holds no PEM private key", key.display()))
                    .with_cause(e)
                    .with_hint("the key of a client certificate is a PEM file with a PRIVATE KEY block")
            })?;
            builder.with_client_auth_cert(chain, private).map_err(|e| {
                Error::usage(format!("{} does not go with the key {}", cert.display(), key.display())).with_cause(e)
            })
        }
    }
}

/// The PEM certificates in `path`; `what` names the file's role in the message.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let data = std::fs::read(path).map_err(|e| Error::io("read the certificate file", path, e))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&data)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::usage(format!("{} ({what}) is not a valid PEM file", path.display())).with_cause(e))?;
    if certs.is_empty() {
        return Err(Error::usage(format!("{} ({what}) holds no PEM certificate", path.display()))
            .with_hint("give a PEM file with one or more CERTIFICATE blocks"));
    }
    Ok(certs)
}

/// webpki's verification, plus the one case it refuses that a private registry relies on: the
/// server presents exactly a certificate the user gave, which is its own CA.
#[derive(Debug)]
struct Pinning {
    inner: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let refused = match self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Ok(verified) => return Ok(verified),
            Err(e) => e,
        };
        let ca_as_server = matches!(
            &refused,
            rustls::Error::InvalidCertificate(CertificateError::Other(other))
                if matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity))
        );
        if !ca_as_server || !self.pinned.iter().any(|pin| pin.as_ref() == end_entity.as_ref()) {
            return Err(refused);
        }
        // webpki checks the validity period before the basic constraints, so a certificate
        // refused as a CA was in its period (the test of an expired pinned certificate holds
        // this); the host name is checked here.
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
        cert.verify_is_valid_for_subject_name(server_name)
            .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::NotValidForName))?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `--insecure`: any certificate, any name. The handshake's signatures are still checked, so
/// the connection is at least to whoever holds the presented certificate's key.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
