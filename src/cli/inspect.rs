//! `zoo-oci inspect SOURCE`: reads the manifest only.

use std::fmt::Write as _;

use clap::Args;
use serde_json::json;
use zoo_oci::artifact::decode::{self, SuiteView};
use zoo_oci::artifact::media;
use zoo_oci::error::Result;
use zoo_oci::reference::Reference;

use super::{Format, Global, human_bytes, location, open_source, source_reference};

/// Arguments of `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// What to inspect: oci:PATH[:TAG|@DIGEST].
    pub source: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub async fn run(args: InspectArgs, global: &Global) -> Result<u8> {
    let loc = location(&args.source)?;
    let src = open_source(&loc, global, global.plain_http).await?;
    let reference = source_reference(&loc, src.as_ref()).await?;
    let root = src.resolve(&reference).await?;
    let bytes = src.fetch_manifest(&root).await?;
    let view = decode::decode(&root, &bytes)?;
    let at = loc.with_reference(Some(reference));
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&to_json(&view, &at.to_string())).expect("json")),
        Format::Text => print!("{}", to_text(&view, &at)),
    }
    Ok(0)
}

fn to_json(view: &SuiteView, location: &str) -> serde_json::Value {
    let layers: Vec<_> = view
        .layers
        .iter()
        .map(|l| {
            json!({
                "class": l.class,
                "name": l.name,
                "framework": l.framework,
                "path": l.filepath,
                "mediaType": l.descriptor.media_type,
                "digest": l.descriptor.digest,
                "size": l.descriptor.size,
                "files": l.file_count,
                "unpackedSize": l.unpacked_size,
            })
        })
        .collect();
    json!({
        "location": location,
        "digest": view.manifest_descriptor.digest,
        "artifactType": view.manifest.artifact_type,
        "name": view.name(),
        "version": view.annotation(media::ANN_VERSION),
        "task": view.annotation(media::ANN_TASK),
        "modality": view.annotation(media::ANN_MODALITY),
        "descriptor": decode::descriptor_json(view),
        "layers": layers,
        "size": view.layers.iter().map(|l| l.descriptor.size).sum::<u64>(),
        "readme": view.annotation(media::ANN_README),
        "readmeTruncated": view.annotation(media::ANN_README_TRUNCATED) == Some("true"),
        "annotations": view.manifest.annotations.iter()
            .filter(|(k, _)| k.as_str() != media::ANN_SUITE && k.as_str() != media::ANN_README)
            .collect::<std::collections::BTreeMap<_, _>>(),
    })
}

fn to_text(view: &SuiteView, at: &zoo_oci::reference::Location) -> String {
    let mut out = String::new();
    let name = view.name().unwrap_or("(unnamed)");
    let version = view.annotation(media::ANN_VERSION).unwrap_or("");
    let _ = writeln!(out, "{name} {version}");
    if let Some(s) = view.annotation(media::ANN_DESCRIPTION) {
        let _ = writeln!(out, "{s}");
    }
    let _ = writeln!(out);
    let mut field = |label: &str, value: Option<String>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            let _ = writeln!(out, "  {label:<12}{v}");
        }
    };
    let task = view.annotation(media::ANN_TASK).map(|t| match view.annotation(media::ANN_MODALITY) {
        Some(m) => format!("{t} ({m})"),
        None => t.to_string(),
    });
    field("task", task);
    field("frameworks", view.annotation(media::ANN_FRAMEWORKS).map(|f| f.replace(',', ", ")));
    field("license", view.annotation(media::ANN_LICENSES).map(String::from));
    field("authors", view.annotation(media::ANN_AUTHORS).map(String::from));
    field("source", view.annotation(media::ANN_SOURCE).map(String::from));
    field("tags", view.annotation(media::ANN_TAGS).map(|t| t.replace(',', ", ")));
    field("created", view.annotation(media::ANN_CREATED).map(String::from));
    field("digest", Some(view.manifest_descriptor.digest.clone()));
    let total: u64 = view.layers.iter().map(|l| l.descriptor.size).sum();
    field("size", Some(human_bytes(total)));

    let models: Vec<_> = view.layers.iter().filter(|l| l.class == zoo_oci::suite::Class::Model).collect();
    if !models.is_empty() {
        let _ = writeln!(out, "\nVariants");
        for l in &models {
            let declared = view.spec.as_ref().and_then(|d| d.models.iter().find(|m| Some(&m.name) == l.name.as_ref()));
            let facts = l.main_facts();
            let mut parts: Vec<String> = Vec::new();
            if let Some(f) = facts {
                parts.push(f.format.clone());
                if let Some(v) = &f.format_version {
                    parts.push(format!("format version {v}"));
                }
            } else if let Some(fw) = &l.framework {
                parts.push(fw.clone());
            }
            if let Some(o) = facts.and_then(|f| f.opset).or_else(|| declared.and_then(|m| m.opset)) {
                parts.push(format!("opset {o}"));
            }
            if let Some(p) = facts.and_then(|f| f.params).filter(|p| *p > 0).or_else(|| declared.and_then(|m| m.params))
            {
                parts.push(format!("{} params", zoo_oci::artifact::pack::param_size(p)));
            }
            if let Some(p) =
                facts.and_then(|f| f.precision.clone()).or_else(|| declared.and_then(|m| m.precision.clone()))
            {
                parts.push(p);
            }
            if let Some(a) = facts.and_then(|f| f.architecture.clone()) {
                parts.push(a);
            }
            parts.push(human_bytes(l.descriptor.size));
            let _ = writeln!(out, "  {:<22} {}", l.name.as_deref().unwrap_or("-"), parts.join(", "));
        }
    }
    // Inputs and outputs: as declared, else as the first model file says.
    let read_io = models.iter().filter_map(|l| l.main_facts()).find(|f| !f.inputs.is_empty() || !f.outputs.is_empty());
    if view.spec.as_ref().is_none_or(|d| d.io.is_none())
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
    if let Some(d) = &view.spec {
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
    for l in &view.layers {
        let _ = writeln!(
            out,
            "  {:<10} {:<22} {:<12} {:>10} {:>6}  {}",
            l.class.as_str(),
            l.name.as_deref().unwrap_or("-"),
            l.framework.as_deref().unwrap_or("-"),
            human_bytes(l.descriptor.size),
            l.file_count.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
            l.filepath.as_deref().unwrap_or("-")
        );
    }
    if let Some(readme) = view.annotation(media::ANN_README) {
        let _ = writeln!(out, "\nREADME\n");
        let color = std::io::IsTerminal::is_terminal(&std::io::stdout());
        for line in zoo_oci::index::render::terminal_markdown(readme, color).lines() {
            let _ = writeln!(out, "  {line}");
        }
        if view.annotation(media::ANN_README_TRUNCATED) == Some("true") {
            let _ = writeln!(out, "  … (cut; the full README is in the readme layer)");
        }
    }
    let pull_ref = match at.reference() {
        Some(Reference::Tag(_)) | None => at.clone(),
        Some(Reference::Digest(_)) => at.clone(),
    };
    let _ = writeln!(out, "\nPull it with\n  zoo-oci pull {pull_ref} -o {name}");
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
