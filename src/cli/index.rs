//! `zoo-oci index LOCATION`: a categorised catalogue of every suite in a registry or layout.

use std::path::PathBuf;

use crate::error::Result;
use crate::index::{Filters, render};
use crate::ops::{self, IndexOptions};
use crate::reference::Scope;
use clap::Args;

use super::{Global, print_out};

/// Arguments of `index`.
/// What `zoo-oci index --help` ends with.
const EXAMPLES: &str = "Index locations: a registry HOST[:PORT], a namespace HOST[:PORT]/NAMESPACE, a layout oci:PATH,
or one suite HOST/REPO:TAG / oci:PATH:TAG.

Examples:
  zoo-oci index oci:./zoo
  zoo-oci index localhost:5000 --plain-http --task image-classification
  zoo-oci index ghcr.io/team --repo team/squeezenet --repo team/iris --format html -o site/index.html";

#[derive(Debug, Args)]
#[command(after_help = super::with_locations(EXAMPLES))]
pub struct IndexArgs {
    /// A registry (HOST[:PORT]), a namespace in one (HOST/NAMESPACE), or oci:PATH; a suite
    /// (HOST/REPO:TAG, oci:PATH:TAG, …@DIGEST) gives an index of that one.
    pub location: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = IndexFormat::Table)]
    pub format: IndexFormat,
    /// Write to this file (replaced atomically; missing folders are created) instead of
    /// standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only suites of this task (or alias).
    #[arg(long)]
    pub task: Option<String>,
    /// Only suites with a variant in this framework.
    #[arg(long)]
    pub framework: Option<String>,
    /// Only suites under this licence (SPDX identifier).
    #[arg(long)]
    pub license: Option<String>,
    /// Only suites whose name, summary, task, tags or README contain this text.
    #[arg(long)]
    pub query: Option<String>,
    /// Index these repositories instead of asking the catalogue (for registries without one,
    /// such as GHCR), or these layouts of a folder of layouts (their paths in it); repeatable.
    #[arg(long = "repo", value_name = "NAME")]
    pub repos: Vec<String>,
    /// In a registry, use a repository's tags as an index listed them within this long (kept
    /// in the shared cache) instead of listing them again; new repositories show regardless.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = super::parse_duration)]
    pub tags_max_age: std::time::Duration,
    /// List every repository's tags again (the same as --tags-max-age 0).
    #[arg(long)]
    pub refresh: bool,
    #[command(flatten)]
    pub net: super::RegistryFlags,
}

/// Formats of the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IndexFormat {
    /// Grouped table for the terminal.
    Table,
    /// Stable JSON (schemas/index.schema.json).
    Json,
    /// A Markdown page for a wiki.
    Markdown,
    /// One self-contained HTML page.
    Html,
    /// A static site in the folder -o names: a front page, a page per suite, index.json.
    Site,
}

pub async fn run(global: &Global, args: IndexArgs) -> Result<u8> {
    let options = IndexOptions {
        scope: Scope::parse(&args.location)?,
        repositories: args.repos,
        filters: Filters { task: args.task, framework: args.framework, license: args.license, query: args.query },
        tags_max_age: if args.refresh { std::time::Duration::ZERO } else { args.tags_max_age },
    };
    if args.format == IndexFormat::Site && args.output.is_none() {
        return Err(crate::Error::usage("--format site writes a folder: name it with -o DIR")
            .with_hint("e.g. zoo-oci index REGISTRY --format site -o site/"));
    }
    let index = ops::index(&options, &global.context()).await?;
    if !global.quiet {
        for note in index.notes.iter().chain(&index.run_notes) {
            eprintln!("note: {}", super::printable(note));
        }
    }
    if args.format == IndexFormat::Site {
        let dir = args.output.as_deref().expect("checked above");
        let written = crate::index::site::write(dir, &crate::index::site::build(&index))?;
        if !global.quiet {
            eprintln!(
                "wrote the site of {} to {}: {} written, {} unchanged{}",
                crate::format::count(written.suites, "suite", "suites"),
                dir.display(),
                crate::format::count(written.written, "file", "files"),
                written.unchanged,
                if written.removed > 0 { format!(", {} removed", written.removed) } else { String::new() }
            );
        }
        return Ok(0);
    }
    if args.format == IndexFormat::Json {
        // Streamed: a catalogue of thousands is tens of megabytes, not to be held twice.
        let write_json = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
            serde_json::to_writer_pretty(&mut *out, &index).map_err(std::io::Error::from)?;
            out.write_all(b"\n")
        };
        match &args.output {
            Some(path) => {
                crate::atomic::write_with(path, crate::atomic::WriteOptions::default(), write_json)?;
                if !global.quiet {
                    eprintln!("wrote {} to {}", crate::index::render::tally(&index), path.display());
                }
            }
            None => {
                let stdout = std::io::stdout();
                let mut out = std::io::BufWriter::new(stdout.lock());
                write_json(&mut out)
                    .and_then(|()| std::io::Write::flush(&mut out))
                    .map_err(|e| crate::Error::failed("could not write to standard output").with_cause(e))?;
            }
        }
        return Ok(0);
    }
    let text = match args.format {
        IndexFormat::Table => render::table(&index),
        IndexFormat::Json => unreachable!("streamed above"),
        IndexFormat::Markdown => render::markdown(&index),
        IndexFormat::Html => render::html(&index),
        IndexFormat::Site => unreachable!("written above"),
    };
    match &args.output {
        Some(path) => {
            // `-o site/index.html` in a fresh checkout: the folder is part of the output path.
            crate::atomic::write_file(path, text.as_bytes(), crate::atomic::WriteOptions::default())?;
            if !global.quiet {
                eprintln!("wrote {} to {}", crate::index::render::tally(&index), path.display());
            }
        }
        None => print_out(&text)?,
    }
    Ok(0)
}
