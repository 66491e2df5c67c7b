//! `zoo-oci sign REF --key KEY.pem` and `zoo-oci verify REF --key PUB.pem`.

use std::path::PathBuf;

use crate::error::Result;
use crate::ops::{self, SignOptions, VerifyOptions};
use clap::Args;

use super::{Global, location, say};

const SIGN_EXAMPLES: &str = "Examples:
  zoo-oci sign oci:./zoo:1.1.0 --key key.pem
  zoo-oci sign ghcr.io/team/squeezenet:1.1.0 --key key.pem
  zoo-oci sign ghcr.io/team/squeezenet:1.1.0 --key key.pem --certificate cert.pem --certificate-chain ca.pem
Keys: ECDSA P-256 or P-384 in PEM, e.g.
  openssl ecparam -name prime256v1 -genkey -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem";

const VERIFY_EXAMPLES: &str = "Examples:
  zoo-oci verify oci:./zoo:1.1.0 --key pub.pem
  zoo-oci verify ghcr.io/team/squeezenet:1.1.0 --key pub.pem
  zoo-oci verify ghcr.io/team/squeezenet:1.1.0 --certificate-chain root.pem
Exit codes: 0 verified; 5 a signature is invalid, by another key, or covers other content; 4 no signature";

/// Arguments of `sign`.
#[derive(Debug, Args)]
#[command(after_help = super::with_locations(SIGN_EXAMPLES))]
pub struct SignArgs {
    /// The suite: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// The private key (PEM: SEC1 `EC PRIVATE KEY` or PKCS#8 `PRIVATE KEY`).
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
    /// Certificate mode: the key's signing certificate (PEM), carried in the signature so that
    /// verifiers need only the root (as `model_signing sign certificate --signing_certificate`).
    #[arg(long, value_name = "CERT.pem")]
    pub certificate: Option<PathBuf>,
    /// Certificate mode: the certificates that issued the signing certificate (PEM, its issuer
    /// first), carried in the signature too.
    #[arg(long, value_name = "CHAIN.pem", requires = "certificate")]
    pub certificate_chain: Option<PathBuf>,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
#[command(after_help = super::with_locations(VERIFY_EXAMPLES))]
pub struct VerifyArgs {
    /// The suite: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// The public key (PEM, `PUBLIC KEY`).
    #[arg(long, value_name = "PUB.pem", required_unless_present = "certificate_chain")]
    pub key: Option<PathBuf>,
    /// Certificate mode: root certificates (PEM) that the signing certificate a signature
    /// carries must chain to (as `model_signing verify certificate --certificate_chain`).
    #[arg(long, value_name = "ROOTS.pem", conflicts_with = "key")]
    pub certificate_chain: Option<PathBuf>,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn sign(global: &Global, args: SignArgs) -> Result<u8> {
    let mut options = SignOptions::new(location(&args.source)?, args.key);
    options.certificate = args.certificate;
    options.certificate_chain = args.certificate_chain;
    let report = ops::sign(&options, &global.context()).await?;
    tell(global, "signed", &report.subject, report.files, &report.signature);
    Ok(0)
}

/// One line (or JSON event) for what `sign` or `verify` did.
fn tell(global: &Global, done: &str, subject: &str, files: usize, signature: &str) {
    let event = serde_json::json!({"event": done, "subject": subject, "signature": signature, "files": files});
    say(global, || format!("{done} {subject} ({files} files): signature {signature}"), event);
}

pub async fn verify(global: &Global, args: VerifyArgs) -> Result<u8> {
    let trusted = args.key.or(args.certificate_chain).expect("clap requires one of --key and --certificate-chain");
    let options = VerifyOptions::new(location(&args.source)?, trusted);
    let report = ops::verify(&options, &global.context()).await?;
    tell(global, "verified", &report.subject, report.files, &report.signature);
    Ok(0)
}
