//! `zoo-oci inspect SOURCE`: reads the manifest only.

use std::fmt::Write as _;

use crate::artifact::media;
use crate::error::Result;
use crate::ops::{self, InspectOptions, InspectReport};
use clap::Args;

use super::{Format, Global, human_bytes, location, print_json, print_raw, printable};

/// Arguments of `inspect`.
/// What `zoo-oci inspect --help` ends with.
const EXAMPLES: &str = "Examples:
  zoo-oci inspect oci:./zoo:1.1.0
  zoo-oci inspect ghcr.io/team/squeezenet:1.1.0 --format json | jq .suite.version";

#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct InspectArgs {
    /// What to inspect: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn run(global: &Global, args: InspectArgs) -> Result<u8> {
    let options = InspectOptions { source: location(&args.source)? };
    let report = ops::inspect(&options, &global.context()).await?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => print_raw(&to_text(&report))?,
    }
    Ok(0)
}

/// The report as text, every control character of what the artifact says neutralised
/// ([`printable`]); the only escapes left are the README's bold headings on a terminal.
fn to_text(report: &InspectReport) -> String {
    if !report.children.is_empty() {
        return printable(&index_text(report)).into_owned();
    }
    let mut out = String::new();
    let name = report.name.as_deref().unwrap_or("(unnamed)");
    let _ = writeln!(out, "{name} {}", report.version.as_deref().unwrap_or(""));
    if let Some(s) = report.annotation(media::ANN_DESCRIPTION) {
        let _ = writeln!(out, "{s}");
    }
    let _ = writeln!(out);
    let mut field = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            let _ = writeln!(out, "  {label:<12}{v}");
        }
    };
    let task = report.task.as_ref().map(|t| match &report.modality {
        Some(m) => format!("{t} ({m})"),
        None => t.to_string(),
    });
    field("task", task);
    field("frameworks", report.annotation(media::ANN_FRAMEWORKS).map(|f| f.replace(',', ", ")));
    let config = report.model_config.as_ref();
    let joined = |v: &Vec<String>| (!v.is_empty()).then(|| v.join(", "));
    field(
        "license",
        report
            .annotation(media::ANN_LICENSES)
            .map(String::from)
            .or_else(|| config.and_then(|c| joined(&c.descriptor.licenses))),
    );
    field(
        "authors",
        report
            .annotation(media::ANN_AUTHORS)
            .map(String::from)
            .or_else(|| config.and_then(|c| joined(&c.descriptor.authors))),
    );
    if let Some(c) = config {
        // What another tool's ModelPack config says of the model.
        field("family", c.descriptor.family.clone());
        field("format", c.config.format.clone());
        field("params", c.config.param_size.clone());
        field("precision", c.config.precision.clone());
        field("quantization", c.config.quantization.clone());
        field("architecture", c.config.architecture.clone());
        field("capabilities", c.config.capabilities.as_ref().map(|v| v.to_string()));
        if report.annotation(media::ANN_DESCRIPTION).is_none() {
            field("description", c.descriptor.description.clone());
        }
    }
    field("source", report.annotation(media::ANN_SOURCE).map(String::from));
    field("tags", report.annotation(media::ANN_TAGS).map(|t| t.replace(',', ", ")));
    field("created", report.annotation(media::ANN_CREATED).map(String::from));
    field("digest", Some(report.digest.clone()));
    field("size", Some(human_bytes(report.size)));
    if !report.signatures.is_empty() {
        field(
            "signatures",
            Some(format!("{} (zoo-oci verify … --key PUB.pem checks them)", report.signatures.join(", "))),
        );
    }
    for v in &report.validations {
        let date = v.validated_at.split('T').next().unwrap_or_default();
        let signer = v.signer.get(..12).unwrap_or(&v.signer);
        let _ =
            writeln!(out, "\nValidated {date} by key {signer}… (variant {}, attestation {})", v.variant, v.attestation);
        for m in &v.metrics {
            let measured = m.measured.map_or("-".to_string(), |x| x.to_string());
            let outcome = match m.passed {
                Some(true) => format!("reproduced ({date}, signer {signer}…)"),
                Some(false) => format!("NOT reproduced (claimed {})", m.claimed.map_or("-".into(), |c| c.to_string())),
                None => "not claimed".to_string(),
            };
            let _ = writeln!(out, "  {:<20} measured {measured:>10}  {outcome}", m.kind);
        }
    }

    if !report.variants.is_empty() {
        let _ = writeln!(out, "\nVariants");
        for v in &report.variants {
            let mut parts: Vec<String> = Vec::new();
            if let Some(format) = v.format.as_ref().or(v.framework.as_ref()) {
                parts.push(format.clone());
            }
            if let Some(version) = v.facts.as_ref().and_then(|f| f.format_version.as_ref()) {
                parts.push(format!("format version {version}"));
            }
            if let Some(o) = v.opset {
                parts.push(format!("opset {o}"));
            }
            if let Some(p) = v.params {
                parts.push(format!("{} params", crate::format::param_size(p)));
            }
            if let Some(p) = &v.precision {
                parts.push(p.clone());
            }
            if let Some(a) = v.facts.as_ref().and_then(|f| f.architecture.clone()) {
                parts.push(a);
            }
            parts.push(human_bytes(v.size));
            let _ = writeln!(out, "  {:<22} {}", v.name, parts.join(", "));
        }
    }
    let spec = report.descriptor.as_ref();
    // Inputs and outputs: as declared, else as the first model file says.
    let read_io =
        report.variants.iter().filter_map(|v| v.facts.as_ref()).find(|f| !f.inputs.is_empty() || !f.outputs.is_empty());
    if spec.is_none_or(|d| d.io.is_none())
        && let Some(f) = read_io
    {
        let _ = writeln!(out, "\nInputs and outputs (read from the model file)");
        for (dir, tensors) in [("in ", &f.inputs), ("out", &f.outputs)] {
            for t in tensors {
                let line = tensor_line(&t.name, t.dtype.as_deref(), t.shape.as_deref(), None);
                let _ = writeln!(out, "  {dir} {line}");
            }
        }
    }
    if let Some(d) = spec {
        if !d.results.is_empty() {
            let _ = writeln!(out, "\nResults");
            for r in &d.results {
                let split = r.dataset.split.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
                let metrics: Vec<String> = r.metrics.iter().map(|m| format!("{} {}", m.kind, m.value)).collect();
                let _ = writeln!(out, "  {}{split}: {}", r.dataset.name, metrics.join(", "));
            }
        }
        if let Some(io) = &d.io {
            let _ = writeln!(out, "\nInputs and outputs");
            for (dir, tensors) in [("in ", &io.inputs), ("out", &io.outputs)] {
                for t in tensors {
                    let line = tensor_line(&t.name, t.dtype.as_deref(), t.shape.as_deref(), t.layout.as_deref());
                    let _ = writeln!(out, "  {dir} {line}");
                }
            }
        }
    }

    let _ = writeln!(out, "\nLayers");
    let _ = writeln!(out, "  {:<10} {:<22} {:<12} {:>10} {:>6}  PATH", "CLASS", "NAME", "FRAMEWORK", "SIZE", "FILES");
    for l in &report.layers {
        let _ = writeln!(
            out,
            "  {:<10} {:<22} {:<12} {:>10} {:>6}  {}",
            l.class.as_str(),
            l.name.as_deref().unwrap_or("-"),
            l.framework.as_deref().unwrap_or("-"),
            human_bytes(l.size),
            l.files.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
            l.path.as_deref().unwrap_or("-")
        );
    }
    if !report.unknown_layers.is_empty() {
        let _ = writeln!(out, "\nLayers zoo-oci does not read (not pulled)");
        for l in &report.unknown_layers {
            let path = l.path.as_deref().unwrap_or("-");
            let _ = writeln!(out, "  {}  {}  {}  {path}", l.media_type, human_bytes(l.size), l.digest);
        }
    }
    for w in &report.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    if let Some(modelfile) = &report.modelfile {
        let _ = writeln!(out, "\nModelfile\n");
        for line in modelfile.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    let mut out = printable(&out).into_owned();
    if let Some(readme) = &report.readme {
        let _ = writeln!(out, "\nREADME\n");
        let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
        for line in crate::index::render::terminal_markdown(readme, color).lines() {
            let _ = writeln!(out, "  {line}");
        }
        if report.readme_truncated {
            let _ = writeln!(out, "  … (cut; the full README is in the readme layer)");
        }
    }
    let _ = writeln!(out, "\nPull it with\n  {}", printable(&report.pull));
    out
}

/// An image index: its children, each a variant `pull --variant` picks.
fn index_text(report: &InspectReport) -> String {
    let mut out = String::new();
    let name = report.name.as_deref().unwrap_or("(an image index)");
    let _ = writeln!(out, "{name} {}", report.version.as_deref().unwrap_or(""));
    let _ = writeln!(out, "\n  digest      {}", report.digest);
    let _ = writeln!(out, "\nVariants (manifests of the index)");
    for c in &report.children {
        let kind = c.descriptor.artifact_type.as_deref().unwrap_or(&c.descriptor.media_type);
        let platform = c.platform.as_deref().map(|p| format!("  {p}")).unwrap_or_default();
        let _ = writeln!(out, "  {:<22} {kind}{platform}  {}", c.name, c.descriptor.digest);
    }
    let _ = writeln!(out, "\nPull one with\n  {}", report.pull);
    out
}

/// `name  float32 [1, 3, 224, 224] NCHW`: named dimensions as written, unknown ones as null.
fn tensor_line(name: &str, dtype: Option<&str>, shape: Option<&[serde_json::Value]>, layout: Option<&str>) -> String {
    let shape = shape.map(|s| {
        let dims: Vec<String> =
            s.iter().map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string())).collect();
        format!("[{}]", dims.join(", "))
    });
    let parts: Vec<&str> = [dtype, shape.as_deref(), layout].into_iter().flatten().collect();
    format!("{name}  {}", parts.join(" "))
}
