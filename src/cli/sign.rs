//! `zoo-oci sign REF --key KEY.pem` and `zoo-oci verify REF --key PUB.pem`.

use std::path::PathBuf;

use crate::error::Result;
use crate::ops::{self, SignOptions, VerifyOptions};
use clap::Args;

use super::{Global, location, say};

const SIGN_EXAMPLES: &str = "Examples:
  zoo-oci sign oci:./zoo:1.1.0 --key key.pem
  zoo-oci sign ghcr.io/team/squeezenet:1.1.0 --key key.pem
Keys: ECDSA P-256 or P-384 in PEM, e.g.
  openssl ecparam -name prime256v1 -genkey -noout -out key.pem && openssl ec -in key.pem -pubout -out pub.pem";

const VERIFY_EXAMPLES: &str = "Examples:
  zoo-oci verify oci:./zoo:1.1.0 --key pub.pem
  zoo-oci verify ghcr.io/team/squeezenet:1.1.0 --key pub.pem
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
    #[arg(long, value_name = "PUB.pem")]
    pub key: PathBuf,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn sign(global: &Global, args: SignArgs) -> Result<u8> {
    let options = SignOptions::new(location(&args.source)?, args.key);
    let report = ops::sign(&options, &global.context()).await?;
    let event = serde_json::json!({"event": "signed", "subject": report.subject, "signature": report.signature, "files": report.files});
    say(
        global,
        || format!("signed {} ({} files): signature {}", report.subject, report.files, report.signature),
        event,
    );
    Ok(0)
}

pub async fn verify(global: &Global, args: VerifyArgs) -> Result<u8> {
    let options = VerifyOptions::new(location(&args.source)?, args.key);
    let report = ops::verify(&options, &global.context()).await?;
    let event = serde_json::json!({"event": "verified", "subject": report.subject, "signature": report.signature, "files": report.files});
    say(
        global,
        || format!("verified {} ({} files): signature {}", report.subject, report.files, report.signature),
        event,
    );
    Ok(0)
}
