//! `zoo-oci index LOCATION`: a categorised catalogue of every suite in a registry or layout.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use zoo_oci::error::{Error, Result};
use zoo_oci::index::{self, Filters, render};
use zoo_oci::store::layout::LayoutTarget;
use zoo_oci::store::registry::RegistryTarget;

use super::Global;

/// Arguments of `index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// A registry (HOST[:PORT]), a namespace in one (HOST/NAMESPACE), or oci:PATH.
    pub location: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = IndexFormat::Table)]
    pub format: IndexFormat,
    /// Write to this file (replaced atomically) instead of standard output.
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
    /// such as GHCR); repeatable.
    #[arg(long = "repo", value_name = "NAME")]
    pub repos: Vec<String>,
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
}

pub async fn run(args: IndexArgs, global: &Global) -> Result<u8> {
    let index = if let Some(path) = args.location.strip_prefix("oci:") {
        let layout = LayoutTarget::open(std::path::Path::new(path))?;
        index::walk_layout(&layout, &args.location).await?
    } else {
        let text = args.location.trim_end_matches('/');
        let (host, namespace) = match text.split_once('/') {
            Some((h, ns)) => (h, Some(ns)),
            None => (text, None),
        };
        if host.is_empty() || !(host.contains('.') || host.contains(':') || host == "localhost") {
            return Err(Error::usage(format!("{:?} names no registry", args.location))
                .with_hint("write HOST[:PORT], HOST/NAMESPACE or oci:PATH"));
        }
        let probe = args.repos.first().map(String::as_str).unwrap_or("zoo-oci/index");
        let registry = RegistryTarget::connect(host, probe, &global.transport(global.plain_http), false).await?;
        let repos: Vec<String> = args
            .repos
            .iter()
            .map(|r| match namespace {
                Some(ns) if !r.starts_with(&format!("{ns}/")) => format!("{ns}/{r}"),
                _ => r.clone(),
            })
            .collect();
        index::walk_registry(&registry, namespace, &repos, global.concurrency.max(4)).await?
    };
    let filters = Filters { task: args.task, framework: args.framework, license: args.license, query: args.query };
    let index = index::filter(index, &filters)?;
    let text = match args.format {
        IndexFormat::Table => render::table(&index),
        IndexFormat::Json => serde_json::to_string_pretty(&index).expect("json") + "\n",
        IndexFormat::Markdown => render::markdown(&index),
        IndexFormat::Html => render::html(&index),
    };
    match &args.output {
        Some(path) => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io("write in", dir, e))?;
            tmp.write_all(text.as_bytes()).map_err(|e| Error::io("write", path, e))?;
            tmp.persist(path).map_err(|e| Error::io("write", path, e.error))?;
            if !global.quiet {
                eprintln!("wrote {} suites to {}", index.suites.len(), path.display());
            }
        }
        None => print!("{text}"),
    }
    Ok(0)
}
