//! The attestation `zoo-oci validate --attach` publishes, as readers see it: an in-toto
//! Statement v1 with in-toto's test-result predicate (extended with the metrics claimed and
//! measured), in a DSSE envelope stored as a referrer of the suite. `inspect` and `index` read
//! it here; `ops::validate` writes it.

use serde::Serialize;

/// The predicate type of the attestation: in-toto's test result. Its consumers (policy engines,
/// GUAC) read `result`, `passedTests` and `failedTests` without knowing zoo-oci; the claims and
/// measurements, the harness and the test data ride along as fields of their own, which those
/// consumers ignore. A zoo-oci predicate type would carry the same and be read by nobody else.
pub const PREDICATE_TYPE: &str = "https://in-toto.io/attestation/test-result/v0.1";
/// The media type of a DSSE envelope, the attestation's artifact type.
pub const ENVELOPE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

/// One metric: what was claimed, what was measured.
#[derive(Debug, Clone, Serialize)]
pub struct MetricCheck {
    /// The metric's type (`accuracy`, `top1`…).
    #[serde(rename = "type")]
    pub kind: String,
    /// The value claimed (none: the script reported a metric nobody claimed).
    pub claimed: Option<f64>,
    /// The value measured (none: the script did not report it).
    pub measured: Option<f64>,
    /// How far the measured value may be from the claim.
    pub tolerance: Option<f64>,
    /// Within tolerance (none for an unclaimed metric).
    pub passed: Option<bool>,
}

/// A published validation, as `inspect` lists it: read, its signature not checked.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    /// The attestation's referrer manifest digest.
    pub attestation: String,
    /// When it was made (RFC 3339).
    pub validated_at: String,
    /// The `keyid` of its signature: the sha256 of the signer's public key PEM.
    pub signer: String,
    /// `PASSED` or `FAILED`.
    pub result: String,
    /// The variant run.
    pub variant: String,
    /// The test dataset's name.
    pub dataset: String,
    /// Each metric: claimed, measured, tolerance, passed.
    pub metrics: Vec<MetricCheck>,
}

/// Reads a validation attestation (a DSSE envelope of a statement [`statement`] writes).
pub fn read_validation(attestation: &str, bytes: &[u8]) -> Option<Validation> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Envelope {
        payload: String,
        signatures: Vec<Signature>,
    }
    #[derive(serde::Deserialize)]
    struct Signature {
        #[serde(default)]
        keyid: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Statement {
        predicate_type: String,
        predicate: Predicate,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Predicate {
        result: String,
        #[serde(default)]
        validated_at: String,
        #[serde(default)]
        variant: String,
        #[serde(default)]
        dataset: DatasetRead,
        #[serde(default)]
        metrics: Vec<MetricRead>,
    }
    #[derive(serde::Deserialize, Default)]
    struct DatasetRead {
        #[serde(default)]
        name: String,
    }
    #[derive(serde::Deserialize)]
    struct MetricRead {
        #[serde(rename = "type")]
        kind: String,
        claimed: Option<f64>,
        measured: Option<f64>,
        tolerance: Option<f64>,
        passed: Option<bool>,
    }
    let envelope: Envelope = serde_json::from_slice(bytes).ok()?;
    let payload = base64::engine::general_purpose::STANDARD.decode(&envelope.payload).ok()?;
    let statement: Statement = serde_json::from_slice(&payload).ok()?;
    if statement.predicate_type != PREDICATE_TYPE {
        return None;
    }
    let p = statement.predicate;
    Some(Validation {
        attestation: attestation.to_string(),
        validated_at: p.validated_at,
        signer: envelope.signatures.first().map(|s| s.keyid.clone()).unwrap_or_default(),
        result: p.result,
        variant: p.variant,
        dataset: p.dataset.name,
        metrics: p
            .metrics
            .into_iter()
            .map(|m| MetricCheck {
                kind: m.kind,
                claimed: m.claimed,
                measured: m.measured,
                tolerance: m.tolerance,
                passed: m.passed,
            })
            .collect(),
    })
}
