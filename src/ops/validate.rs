//! `validate`: reproduce a suite's claimed metrics on the test set it ships, by running its own
//! validate script in a sandbox ([`crate::sandbox`]) and comparing what the script measures
//! with what the descriptor claims.
//!
//! The contract with the script (also in the README and in `init`'s skeleton): it runs in the
//! suite's folder, read-only, with a private writable `TMPDIR`; `ZOO_OCI_MODEL` is the chosen
//! variant's path (file or folder), `ZOO_OCI_DATA` the test dataset's folder, and it writes one
//! JSON object `{"metric type": number, …}` to the file `ZOO_OCI_METRICS`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::Context;
use crate::artifact::attestation::{ENVELOPE_MEDIA_TYPE, MetricCheck, PREDICATE_TYPE};
use crate::error::{Error, Result};
use crate::reference::Location;
use crate::sandbox::{self, Ending, Job};
use crate::suite::spec::SuiteSpec;

/// The time limit when none is given: a CPU run over a test set small enough to ship.
pub const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);
/// The memory limit when none is given (address space): room for a runtime such as
/// onnxruntime or torch and a model of a few GB, not for a runaway script to take the machine.
pub const DEFAULT_MEMORY_LIMIT: u64 = 8 << 30;
/// The file the script writes its metrics to, in its writable folder.
const METRICS_FILE: &str = "metrics.json";

/// Where the suite to validate is.
#[derive(Debug, Clone)]
pub enum ValidateSource {
    /// A suite folder (with its `zoo.yaml`).
    Folder(PathBuf),
    /// A layout or registry location: the chosen variant, the test set and the scripts are
    /// pulled into the shared cache.
    Stored(Location),
}

/// What to validate, and how.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ValidateOptions {
    /// The suite.
    pub source: ValidateSource,
    /// The model variant to run (default: the first in `models`).
    pub variant: Option<String>,
    /// The Python interpreter (default: `python3` on `PATH`): its environment, with its
    /// runtimes, is the one the script gets.
    pub python: Option<PathBuf>,
    /// Killed, with every process it started, after this long.
    pub time_limit: Duration,
    /// Address-space limit of the script, in bytes.
    pub memory_limit: u64,
    /// Run the script without the sandbox, with the user's own rights (`--unsandboxed`).
    pub unsandboxed: bool,
    /// `--attach --key KEY.pem`: publish the outcome as a signed in-toto attestation, a
    /// referrer of the suite (a stored suite only).
    pub attach_key: Option<PathBuf>,
}

impl ValidateOptions {
    /// Validates `source` with the defaults: the first variant, `python3`, sandboxed.
    pub fn new(source: ValidateSource) -> Self {
        ValidateOptions {
            source,
            variant: None,
            python: None,
            time_limit: DEFAULT_TIME_LIMIT,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            unsandboxed: false,
            attach_key: None,
        }
    }
}

/// The outcome, as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every claim was reproduced (exit 0).
    Reproduced,
    /// A claim was not (exit 1).
    NotReproduced,
    /// The suite declares nothing to check: no validate script, no shipped test set, or no
    /// claim on it (exit 2).
    NothingToCheck,
    /// The script failed: a non-zero exit, a signal, no or unreadable metrics (exit 6).
    ScriptFailed,
    /// The script ran out of time and was killed (exit 7).
    TimedOut,
}

impl Verdict {
    /// The process exit code of this verdict.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Reproduced => 0,
            Verdict::NotReproduced => 1,
            Verdict::NothingToCheck => 2,
            Verdict::ScriptFailed => 6,
            Verdict::TimedOut => 7,
        }
    }
}

/// The interpreter that ran the script.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Harness {
    /// The interpreter as given.
    pub python: String,
    /// Its version (`sys.version`, first word).
    pub python_version: String,
    /// Versions of the ML runtimes found in its environment (onnxruntime, torch, numpy…).
    pub runtimes: BTreeMap<String, String>,
    /// `sha256:…` of the validate script.
    pub script_digest: String,
}

impl Harness {
    /// `Python 3.11.7, onnxruntime 1.20.1, numpy 2.1.0`.
    pub fn python_version_line(&self) -> String {
        let mut parts = vec![format!("Python {}", self.python_version)];
        parts.extend(self.runtimes.iter().map(|(name, version)| format!("{name} {version}")));
        parts.join(", ")
    }
}

/// What `validate` did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct ValidateReport {
    /// The suite's name and version.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its manifest digest, when it came from a layout or registry.
    pub manifest: Option<String>,
    /// The variant run.
    pub variant: String,
    /// The test dataset's name.
    pub dataset: String,
    /// `sha256:…` of each of the test dataset's files, by path in the suite.
    pub dataset_files: BTreeMap<String, String>,
    /// The validate script's path in the suite.
    pub script: String,
    /// The interpreter and runtimes.
    pub harness: Harness,
    /// Whether it ran in the sandbox.
    pub sandboxed: bool,
    /// How the script ended (absent when nothing ran).
    pub ending: Option<Ending>,
    /// How long it ran, in seconds.
    pub seconds: f64,
    /// The claims and what was measured.
    pub metrics: Vec<MetricCheck>,
    /// The outcome.
    pub verdict: Verdict,
    /// Why, in a sentence, when it is not `reproduced`.
    pub reason: Option<String>,
    /// The end of the script's stderr (and stdout), for a failure.
    pub output: String,
    /// The attestation published (`--attach`): its referrer manifest's digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation: Option<String>,
}

/// The default tolerance of a claim: half a unit in the last decimal the claim is written with
/// (its shortest form: `0.967` accepts 0.9665 to 0.9675, `90` accepts 89.5 to 90.5). A claim
/// is a number its author rounded; anything that rounds to it reproduces it, and nothing else.
pub fn default_tolerance(claimed: f64) -> f64 {
    let written = format!("{claimed}");
    let decimals = match written.split_once('.') {
        Some((_, fraction)) if !written.contains('e') => fraction.len() as i32,
        _ => 0,
    };
    0.5 * 10f64.powi(-decimals)
}

/// What the suite declares for validation: the script, the test set, the claims on it.
struct Plan {
    variant: String,
    model_path: String,
    dataset: String,
    data_path: String,
    script: String,
    claims: Vec<(String, f64, f64)>,
}

/// Reads what to run from the descriptor, or says why there is nothing to check.
fn plan(spec: &SuiteSpec, variant: Option<&str>) -> std::result::Result<Result<Plan>, String> {
    let model = match variant {
        Some(name) => match spec.models.iter().find(|m| m.name == name) {
            Some(m) => m,
            None => {
                let names: Vec<&str> = spec.models.iter().map(|m| m.name.as_str()).collect();
                return Ok(Err(Error::not_found(format!("the suite has no variant {name:?}"))
                    .with_hint(format!("its variants: {}", names.join(", ")))));
            }
        },
        None => spec.models.first().ok_or_else(|| "the suite declares no model".to_string())?,
    };
    let script = spec.scripts.validate.clone().ok_or_else(|| "the suite declares no validate script".to_string())?;
    let test = spec
        .datasets
        .iter()
        .find(|d| d.role == "test" && d.path.is_some())
        .ok_or_else(|| "the suite ships no test dataset (a dataset with role: test and a path)".to_string())?;
    let claims: Vec<(String, f64, f64)> = spec
        .results
        .iter()
        .filter(|r| r.dataset.name == test.name)
        .flat_map(|r| &r.metrics)
        .map(|m| (m.kind.clone(), m.value, m.tolerance.unwrap_or_else(|| default_tolerance(m.value))))
        .collect();
    if claims.is_empty() {
        return Err(format!("no result claims a metric on the test dataset {:?} (results[].dataset.name)", test.name));
    }
    Ok(Ok(Plan {
        variant: model.name.clone(),
        model_path: variant_path(&model.path),
        dataset: test.name.clone(),
        data_path: test.path.clone().unwrap_or_default().trim_end_matches('/').to_string(),
        script,
        claims,
    }))
}

/// The path `ZOO_OCI_MODEL` names: the variant's file or folder; for a variant of several
/// entries (a Hugging Face folder's files), the folder that holds them all.
fn variant_path(path: &crate::suite::spec::ModelPath) -> String {
    let entries = path.entries();
    if let [one] = entries {
        return one.trim_end_matches('/').to_string();
    }
    let folders: Vec<Vec<&str>> = entries
        .iter()
        .map(|e| e.trim_end_matches('/').split('/').collect::<Vec<_>>())
        .map(|parts| parts[..parts.len().saturating_sub(1)].to_vec())
        .collect();
    let mut common: Vec<&str> = folders.first().cloned().unwrap_or_default();
    for folder in &folders[1..] {
        let same = common.iter().zip(folder).take_while(|(a, b)| a == b).count();
        common.truncate(same);
    }
    match common.is_empty() {
        true => ".".into(),
        false => common.join("/"),
    }
}

/// Runs the suite's validate script on its test set and compares what it measures with what the
/// suite claims. A script that fails or is not reproduced is a report, not an error: errors are
/// zoo-oci's (a suite that cannot be read or pulled, no bubblewrap, no interpreter).
pub async fn validate(options: &ValidateOptions, context: &Context) -> Result<ValidateReport> {
    // Read first: a key that cannot sign stops the run before anything is pulled or run.
    let attach_key = match (&options.attach_key, &options.source) {
        (Some(_), ValidateSource::Folder(_)) => {
            return Err(Error::usage(
                "--attach publishes to where the suite is stored: give a layout or registry reference",
            )
            .with_hint("push the suite, then: zoo-oci validate REF --attach --key KEY.pem"));
        }
        (Some(path), _) => Some(crate::signing::PrivateKey::read(path)?),
        (None, _) => None,
    };
    let (spec, manifest, stored) = match &options.source {
        ValidateSource::Folder(dir) => {
            let dir = dir.clone();
            let checked = tokio::task::spawn_blocking(move || crate::suite::check(&dir, crate::suite::Links::Refuse))
                .await
                .map_err(|e| Error::failed("reading the suite failed").with_cause(e))??;
            let Some(suite) = checked.suite.filter(|_| !checked.problems.blocks(false)) else {
                return Err(Error::failed(format!("{} is not a valid suite", options_dir(options).display()))
                    .with_hint(format!("see: zoo-oci check {}", options_dir(options).display())));
            };
            (suite.spec, None, None)
        }
        ValidateSource::Stored(location) => {
            let source = context.source(location).await?;
            let view = super::sign::suite(source.as_ref(), location).await?;
            let spec = view.spec.clone().ok_or_else(|| {
                Error::not_found(format!("{location} has no zoo-oci descriptor: nothing says what to validate"))
            })?;
            (spec, Some(view.manifest_descriptor.digest.clone()), Some(location.clone()))
        }
    };
    let mut report = ValidateReport {
        name: spec.name.clone(),
        version: spec.version.clone(),
        manifest: manifest.clone(),
        variant: String::new(),
        dataset: String::new(),
        dataset_files: BTreeMap::new(),
        script: String::new(),
        harness: Harness::default(),
        sandboxed: !options.unsandboxed,
        ending: None,
        seconds: 0.0,
        metrics: Vec::new(),
        verdict: Verdict::NothingToCheck,
        reason: None,
        output: String::new(),
        attestation: None,
    };
    let plan = match plan(&spec, options.variant.as_deref()) {
        Ok(plan) => plan?,
        Err(why) => {
            report.reason = Some(why);
            return Ok(report);
        }
    };
    report.variant = plan.variant.clone();
    report.dataset = plan.dataset.clone();
    report.script = plan.script.clone();
    // Refused before anything is pulled: no sandbox, no run.
    if !options.unsandboxed {
        sandbox::bwrap()?;
    }
    let python = interpreter(options.python.as_deref()).await?;
    let suite_dir = match (&options.source, stored) {
        (ValidateSource::Folder(dir), _) => std::path::absolute(dir).map_err(|e| Error::io("find", dir, e))?,
        (_, Some(location)) => {
            let digest = manifest.clone().expect("a stored suite has a manifest");
            let mut pull =
                super::PullOptions::new(location.with_reference(Some(crate::reference::Reference::Digest(digest))));
            pull.into_cache = true;
            pull.selection.only =
                crate::suite::Class::parse_groups(&["model".into(), "scripts".into(), "dataset".into()])?;
            pull.selection.variants = vec![plan.variant.clone()];
            super::pull(&pull, context).await?.destination
        }
        _ => unreachable!("a stored source has its location"),
    };
    for (what, rel) in
        [("the validate script", &plan.script), ("the model", &plan.model_path), ("the test dataset", &plan.data_path)]
    {
        if !suite_dir.join(rel).exists() {
            return Err(Error::not_found(format!("{what} {rel} is not in {}", suite_dir.display())));
        }
    }
    report.harness = harness(&python, &suite_dir.join(&plan.script))?;
    report.dataset_files = file_digests(&suite_dir.join(&plan.data_path), &plan.data_path)?;
    let out = tempfile::Builder::new()
        .prefix("zoo-oci-validate-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary folder in", &std::env::temp_dir(), e))?;
    let (inside, metrics_file) = match options.unsandboxed {
        false => (PathBuf::from(sandbox::SUITE_DIR), PathBuf::from(sandbox::OUT_DIR).join(METRICS_FILE)),
        true => (suite_dir.clone(), out.path().join(METRICS_FILE)),
    };
    let tmp = if options.unsandboxed { out.path().join("tmp") } else { PathBuf::from("/tmp") };
    if options.unsandboxed {
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    }
    let mut path = String::from("/usr/local/bin:/usr/bin:/bin");
    if let Some(bin) = python.program.parent() {
        path = format!("{}:{path}", bin.display());
    }
    let env = vec![
        ("PATH".to_string(), path),
        ("HOME".to_string(), tmp.display().to_string()),
        ("TMPDIR".to_string(), tmp.display().to_string()),
        ("LANG".to_string(), "C.UTF-8".to_string()),
        ("PYTHONDONTWRITEBYTECODE".to_string(), "1".to_string()),
        ("PYTHONNOUSERSITE".to_string(), "1".to_string()),
        ("ZOO_OCI_MODEL".to_string(), inside.join(&plan.model_path).display().to_string()),
        ("ZOO_OCI_DATA".to_string(), inside.join(&plan.data_path).display().to_string()),
        ("ZOO_OCI_METRICS".to_string(), metrics_file.display().to_string()),
    ];
    let job = Job {
        suite: suite_dir.clone(),
        out: out.path().to_path_buf(),
        program: python.program.clone(),
        args: vec![inside.join(&plan.script).display().to_string()],
        read_only: python.prefixes.clone(),
        env,
        time_limit: options.time_limit,
        memory_limit: options.memory_limit,
        unsandboxed: options.unsandboxed,
    };
    let ran = sandbox::run(&job).await?;
    report.seconds = ran.seconds;
    report.ending = Some(ran.ending.clone());
    report.output = match ran.stdout.is_empty() {
        true => ran.stderr.clone(),
        false => format!("{}{}", ran.stdout, ran.stderr),
    };
    match ran.ending {
        Ending::TimedOut => {
            report.verdict = Verdict::TimedOut;
            report.reason = Some(format!(
                "the script timed out after {}; it and every process it started were killed",
                humantime::format_duration(options.time_limit)
            ));
            return Ok(report);
        }
        Ending::Signalled { signal } => {
            report.verdict = Verdict::ScriptFailed;
            report.reason =
                Some(format!("the script was killed by signal {signal} (the memory limit ends a script so)"));
            return Ok(report);
        }
        Ending::Exited { code } if code != 0 => {
            report.verdict = Verdict::ScriptFailed;
            report.reason = Some(format!("the script exited with status {code}"));
            return Ok(report);
        }
        Ending::Exited { .. } => {}
    }
    let measured = match read_metrics(&out.path().join(METRICS_FILE)) {
        Ok(m) => m,
        Err(why) => {
            report.verdict = Verdict::ScriptFailed;
            report.reason = Some(why);
            return Ok(report);
        }
    };
    compare(&mut report, &plan.claims, measured);
    if let (Some(key), ValidateSource::Stored(location)) = (&attach_key, &options.source) {
        report.attestation = Some(attach(&report, key, location, context).await?);
    }
    Ok(report)
}

/// The in-toto statement of a validation: subject the suite's manifest, predicate the outcome.
pub fn statement(report: &ValidateReport, at: &str) -> Vec<u8> {
    let digest = report.manifest.as_deref().unwrap_or_default().trim_start_matches("sha256:");
    let named = |passed: bool| -> Vec<&str> {
        report.metrics.iter().filter(|m| m.passed == Some(passed)).map(|m| m.kind.as_str()).collect()
    };
    let mut configuration = vec![serde_json::json!({
        "name": report.script,
        "digest": {"sha256": report.harness.script_digest.trim_start_matches("sha256:")},
    })];
    configuration.extend(report.dataset_files.iter().map(
        |(path, digest)| serde_json::json!({"name": path, "digest": {"sha256": digest.trim_start_matches("sha256:")}}),
    ));
    let statement = serde_json::json!({
        "_type": crate::signing::STATEMENT_TYPE,
        "subject": [{"name": format!("{}:{}", report.name, report.version), "digest": {"sha256": digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "result": if report.verdict == Verdict::Reproduced { "PASSED" } else { "FAILED" },
            "configuration": configuration,
            "passedTests": named(true),
            "warnedTests": [],
            "failedTests": named(false),
            "validatedAt": at,
            "verdict": report.verdict,
            "variant": report.variant,
            "dataset": {"name": report.dataset, "files": report.dataset_files},
            "metrics": report.metrics,
            "harness": {
                "tool": format!("zoo-oci {}", env!("CARGO_PKG_VERSION")),
                "script": report.script,
                "scriptDigest": report.harness.script_digest,
                "python": report.harness.python_version,
                "runtimes": report.harness.runtimes,
                "sandboxed": report.sandboxed,
            },
        },
    });
    serde_json::to_vec(&statement).expect("statements serialise")
}

/// A DSSE envelope of `payload`, signed by `key` over the PAE. The `keyid` is the sha256 of the
/// public key's PEM (what `model_signing` calls the key's hint), so that a verifier holding
/// several keys knows which one to try.
pub fn envelope(key: &crate::signing::PrivateKey, payload: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = key.sign(&crate::signing::pae(crate::signing::PAYLOAD_TYPE, payload));
    let envelope = serde_json::json!({
        "payload": b64.encode(payload),
        "payloadType": crate::signing::PAYLOAD_TYPE,
        "signatures": [{"keyid": crate::signing::key_hint(&key.public_key()), "sig": b64.encode(signature)}],
    });
    serde_json::to_vec(&envelope).expect("envelopes serialise")
}

async fn attach(
    report: &ValidateReport,
    key: &crate::signing::PrivateKey,
    location: &Location,
    context: &Context,
) -> Result<String> {
    let at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let bytes = envelope(key, &statement(report, &at));
    let digest = report.manifest.clone().expect("a stored suite has a manifest");
    let pinned = location.with_reference(Some(crate::reference::Reference::Digest(digest)));
    let target = context.target(&pinned, crate::store::Access::Update).await?;
    let view = super::sign::suite(target.as_ref(), &pinned).await?;
    super::sign::attach_as(target.as_ref(), &view, ENVELOPE_MEDIA_TYPE, bytes).await
}

fn options_dir(options: &ValidateOptions) -> &Path {
    match &options.source {
        ValidateSource::Folder(dir) => dir,
        ValidateSource::Stored(_) => Path::new("."),
    }
}

/// Compares each claim with what was measured, and sets the verdict.
fn compare(report: &mut ValidateReport, claims: &[(String, f64, f64)], mut measured: BTreeMap<String, f64>) {
    let mut failed = Vec::new();
    for (kind, claimed, tolerance) in claims {
        let value = measured.get(kind).copied();
        let passed = value.is_some_and(|v| (v - claimed).abs() <= *tolerance);
        if !passed {
            failed.push(match value {
                Some(v) => format!("{kind}: claimed {claimed}, measured {v} (tolerance {tolerance})"),
                None => format!("{kind}: claimed {claimed}, not reported by the script"),
            });
        }
        report.metrics.push(MetricCheck {
            kind: kind.clone(),
            claimed: Some(*claimed),
            measured: value,
            tolerance: Some(*tolerance),
            passed: Some(passed),
        });
    }
    for (kind, _, _) in claims {
        measured.remove(kind);
    }
    for (kind, value) in measured {
        report.metrics.push(MetricCheck { kind, claimed: None, measured: Some(value), tolerance: None, passed: None });
    }
    (report.verdict, report.reason) = match failed.is_empty() {
        true => (Verdict::Reproduced, None),
        false => (Verdict::NotReproduced, Some(format!("not reproduced: {}", failed.join("; ")))),
    };
}

/// The metrics file the script wrote: one JSON object of numbers.
fn read_metrics(path: &Path) -> std::result::Result<BTreeMap<String, f64>, String> {
    const MOST: u64 = 1 << 20;
    let meta = std::fs::symlink_metadata(path)
        .map_err(|_| "the script exited 0 but wrote no metrics to $ZOO_OCI_METRICS".to_string())?;
    if !meta.is_file() || meta.len() > MOST {
        return Err("$ZOO_OCI_METRICS is not a file of at most 1 MiB".into());
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("could not read the metrics: {e}"))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("the metrics are not JSON ({e}): write {{\"accuracy\": 0.9}}"))?;
    let object = value.as_object().ok_or("the metrics are not a JSON object: write {\"accuracy\": 0.9}")?;
    object
        .iter()
        .map(|(k, v)| match v.as_f64() {
            Some(n) if n.is_finite() => Ok((k.clone(), n)),
            _ => Err(format!("metric {k:?} is not a number: {v}")),
        })
        .collect()
}

/// The sha256 of every file of the test dataset, by suite path.
fn file_digests(dir: &Path, rel: &str) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if dir.is_file() {
        out.insert(rel.to_string(), crate::artifact::archive::sha256_file(dir)?.0);
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).map_err(|e| Error::io("list", &folder, e))? {
            let entry = entry.map_err(|e| Error::io("list", &folder, e))?;
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.is_file() {
                let relative = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().into_owned();
                out.insert(format!("{rel}/{relative}"), crate::artifact::archive::sha256_file(&path)?.0);
            }
        }
    }
    Ok(out)
}

/// The interpreter, found, with the folders it needs inside the sandbox.
struct Interpreter {
    program: PathBuf,
    prefixes: Vec<PathBuf>,
    version: String,
    runtimes: BTreeMap<String, String>,
}

/// What the interpreter says about itself: run with the sandbox's environment, in `/`, with a
/// fixed program of ours (no suite code): its prefixes (a virtualenv's and the Python it was
/// made from: both must be visible inside), its version, and the runtimes it can import.
const INTROSPECT: &str = r#"
import json, sys
from importlib import metadata
found = {}
for name in ("onnxruntime", "torch", "numpy", "tensorflow", "jax", "safetensors", "scikit-learn", "transformers"):
    try:
        found[name] = metadata.version(name)
    except Exception:
        pass
paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix] + [p for p in sys.path if p]
print(json.dumps({"version": sys.version.split()[0], "executable": sys.executable, "paths": paths, "runtimes": found}))
"#;

async fn interpreter(given: Option<&Path>) -> Result<Interpreter> {
    let name = given.map(|p| p.to_string_lossy().into_owned()).unwrap_or_else(|| "python3".into());
    let program = sandbox::which(&name).ok_or_else(|| {
        Error::usage(format!("no Python interpreter {name}")).with_hint(
            "pass --python PATH, the interpreter of the environment that has the suite's runtime (e.g. a virtualenv's bin/python)",
        )
    })?;
    let program = std::path::absolute(&program).unwrap_or(program);
    let out = tokio::process::Command::new(&program)
        .arg("-c")
        .arg(INTROSPECT)
        .current_dir("/")
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("PYTHONNOUSERSITE", "1")
        .output()
        .await
        .map_err(|e| Error::failed(format!("could not run {}", program.display())).with_cause(e))?;
    if !out.status.success() {
        return Err(Error::usage(format!(
            "{} does not run as Python: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    #[derive(serde::Deserialize)]
    struct Said {
        version: String,
        executable: PathBuf,
        paths: Vec<PathBuf>,
        runtimes: BTreeMap<String, String>,
    }
    let said: Said = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::failed(format!("{} said something unexpected", program.display())).with_cause(e))?;
    // The interpreter itself, not a launcher in front of it (pyenv's shims are shell scripts
    // that need their own tree): a virtualenv's `bin/python` stays what it is, as Python says.
    let program = match said.executable.is_absolute() && said.executable.is_file() {
        true => said.executable.clone(),
        false => program,
    };
    // The interpreter's own folder and where its link leads, and every folder it imports from.
    let mut prefixes: Vec<PathBuf> = said.paths.into_iter().filter(|p| p.is_absolute() && p.exists()).collect();
    for binary in [Some(program.clone()), std::fs::canonicalize(&program).ok()].into_iter().flatten() {
        if let Some(dir) = binary.parent() {
            prefixes.push(dir.to_path_buf());
        }
    }
    prefixes.sort();
    prefixes.dedup();
    // A folder inside another one bound already needs no bind of its own.
    let mut outermost: Vec<PathBuf> = Vec::new();
    for p in prefixes {
        if !outermost.iter().any(|o| p.starts_with(o)) {
            outermost.push(p);
        }
    }
    Ok(Interpreter { program, prefixes: outermost, version: said.version, runtimes: said.runtimes })
}

fn harness(python: &Interpreter, script: &Path) -> Result<Harness> {
    Ok(Harness {
        python: python.program.display().to_string(),
        python_version: python.version.clone(),
        runtimes: python.runtimes.clone(),
        script_digest: crate::artifact::archive::sha256_file(script)?.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_tolerance_is_half_a_unit_in_the_claims_last_decimal() {
        for (claim, tolerance) in [(0.967, 0.0005), (90.0, 0.5), (94.67, 0.005), (0.5, 0.05), (0.0, 0.5), (1e-7, 5e-8)]
        {
            assert!((default_tolerance(claim) - tolerance).abs() < 1e-12, "{claim}: {}", default_tolerance(claim));
        }
    }

    #[test]
    fn a_variant_of_several_entries_is_the_folder_that_holds_them() {
        use crate::suite::spec::ModelPath;
        assert_eq!(variant_path(&ModelPath::One("models/onnx/".into())), "models/onnx");
        let many =
            ModelPath::Many(vec!["hf/model.safetensors".into(), "hf/config.json".into(), "hf/tok/a.json".into()]);
        assert_eq!(variant_path(&many), "hf");
        assert_eq!(variant_path(&ModelPath::Many(vec!["a.bin".into(), "b/c.bin".into()])), ".");
    }
}
