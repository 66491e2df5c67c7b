//! `zoo-oci diff A B`: what changed between two suites; reads manifests only.
//!
//! Exits 0 whether or not the suites differ, unlike diff(1): here 1 is an error (a registry
//! that could not be reached, a suite that does not decode), and a script must be able to tell
//! "they differ" from "the comparison failed". `--format json` says `"identical"` and lists every
//! change for scripts.

use std::fmt::Write as _;

use crate::error::Result;
use crate::format::short_digest;
use crate::ops::{self, DiffOptions, DiffReport, FieldChange, FileState, SuiteSide};
use clap::Args;
use serde_json::Value;

use super::{Format, Global, human_bytes, location, print_json, print_out};

const EXAMPLES: &str = "Exits 0 whether or not the suites differ; `--format json` says \"identical\".

Examples:
  zoo-oci diff oci:./zoo:1.0.0 oci:./zoo:1.1.0
  zoo-oci diff ghcr.io/team/squeezenet:1.0 ghcr.io/team/squeezenet:1.1 --format json | jq .identical";

/// Arguments of `diff`.
#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct DiffArgs {
    /// The old suite: HOST[:PORT]/REPO[:TAG|@DIGEST] or oci:PATH[:TAG|@DIGEST].
    pub a: String,
    /// The new suite.
    pub b: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

pub async fn run(global: &Global, args: DiffArgs) -> Result<u8> {
    let options = DiffOptions { a: location(&args.a)?, b: location(&args.b)? };
    let report = ops::diff(&options, &global.context()).await?;
    match args.format {
        Format::Json => print_json(&report)?,
        Format::Text => print_out(&to_text(&report))?,
    }
    Ok(0)
}

fn to_text(report: &DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "a  {}", side_line(&report.a));
    let _ = writeln!(out, "b  {}", side_line(&report.b));
    if report.identical {
        let _ = writeln!(out, "\nno changes: the same manifest");
        return out;
    }
    if !report.has_changes() {
        let _ = writeln!(
            out,
            "\nno changes in files, variants, metadata or annotations (the manifests differ in form only)"
        );
        return out;
    }
    for class in &report.classes {
        let _ = writeln!(out, "\n{}  {}", class.class.as_str(), sizes(class.old_size, class.new_size));
        for f in &class.added {
            let _ = writeln!(out, "  + {} ({})", f.path, file_size(&f.file));
        }
        for f in &class.removed {
            let _ = writeln!(out, "  - {}", f.path);
        }
        for f in &class.changed {
            let mut what = Vec::new();
            if f.old.size != f.new.size || f.old.digest != f.new.digest {
                what.push(file_sizes(&f.old, &f.new));
            }
            if f.old.executable != f.new.executable {
                what.push(format!("mode {} → {}", mode(&f.old), mode(&f.new)));
            }
            let _ = writeln!(out, "  ~ {} ({})", f.path, what.join(", "));
        }
        if let Some(m) = &class.media_types {
            let _ = writeln!(out, "  ~ layer media types: {} → {}", m.old.join(", "), m.new.join(", "));
        }
    }
    if !report.variants.is_empty() {
        let _ = writeln!(out, "\nvariants");
        for v in &report.variants {
            match (&v.old, &v.new) {
                (None, Some(new)) => {
                    let framework = new.format.as_ref().or(new.framework.as_ref()).map(|f| format!("{f}, "));
                    let _ =
                        writeln!(out, "  + {} ({}{})", v.name, framework.unwrap_or_default(), human_bytes(new.size));
                }
                (Some(_), None) => {
                    let _ = writeln!(out, "  - {}", v.name);
                }
                _ => {
                    let changes: Vec<String> = v.changes.iter().map(|c| change(c, " ")).collect();
                    let _ = writeln!(out, "  ~ {}: {}", v.name, changes.join(", "));
                }
            }
        }
    }
    for (title, changes) in [("metadata", &report.metadata), ("annotations", &report.annotations)] {
        if !changes.is_empty() {
            let _ = writeln!(out, "\n{title}");
            for c in changes {
                let _ = writeln!(out, "  {}", change(c, ": "));
            }
        }
    }
    if report.a.size != report.b.size {
        let _ = writeln!(out, "\nsize  {}", size_change(report.a.size, report.b.size));
    }
    out
}

/// `tiny 1.0.0  oci:./zoo:1.0.0  sha256:0123456789ab  1.2 MB`
fn side_line(side: &SuiteSide) -> String {
    let name = [side.name.as_deref(), side.version.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = if name.is_empty() { "(unnamed)".to_string() } else { name };
    format!("{name}  {}  {}  {}", side.location, short_digest(&side.digest), human_bytes(side.size))
}

/// A class's layer bytes on both sides.
fn sizes(old: u64, new: u64) -> String {
    match (old, new) {
        (0, n) => format!("(new, {})", human_bytes(n)),
        (o, 0) => format!("(gone, was {})", human_bytes(o)),
        (o, n) if o == n => human_bytes(o),
        (o, n) => size_change(o, n),
    }
}

/// `1.2 MB → 1.5 MB`; in bytes when rounding would show the same figure twice (a README that
/// grew by a line).
fn size_change(old: u64, new: u64) -> String {
    let (o, n) = (human_bytes(old), human_bytes(new));
    if o == n && old != new { format!("{old} B → {new} B") } else { format!("{o} → {n}") }
}

/// A file's size; a whole layer's file count too.
fn file_size(file: &FileState) -> String {
    match file.layer_files {
        Some(n) if n > 0 => {
            format!("{}, {}", crate::format::count(n as usize, "file", "files"), human_bytes(file.size))
        }
        _ => human_bytes(file.size),
    }
}

/// A changed file's sizes; the same size said once.
fn file_sizes(old: &FileState, new: &FileState) -> String {
    match (old.layer_files, new.layer_files) {
        (Some(_), _) | (_, Some(_)) => format!("{} → {}", file_size(old), file_size(new)),
        _ if old.size == new.size => format!("{}, same size", human_bytes(old.size)),
        _ => size_change(old.size, new.size),
    }
}

fn mode(file: &FileState) -> &'static str {
    if file.executable { "0755" } else { "0644" }
}

/// `field: old → new`, absent values as `(none)`.
fn change(c: &FieldChange, separator: &str) -> String {
    let show = |v: &Option<Value>| match v {
        None => "(none)".to_string(),
        Some(Value::Array(items)) if items.is_empty() => "(none)".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")
        }
        Some(other) => other.to_string(),
    };
    format!("{}{separator}{} → {}", c.field, show(&c.old), show(&c.new))
}
