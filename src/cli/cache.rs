//! `zoo-oci cache ls|rm|prune`: the shared cache of pulled suites (`pull --cache`, and the
//! Python package's `zoo_oci.pull`).

use std::time::Duration;

use clap::{Args, Subcommand};

use super::{Format, Global, human_bytes, print_json, println_out, say};
use crate::cache::Cache;
use crate::error::Result;
use crate::format::count;
use crate::ops::{self, RemoveReport};

/// What `zoo-oci cache --help` ends with.
const EXAMPLES: &str = "Examples:
  zoo-oci pull --cache ghcr.io/team/squeezenet:1.1.0
  zoo-oci cache ls
  zoo-oci cache rm squeezenet            (by name, digest prefix, or location as pulled)
  zoo-oci cache prune --older-than 30d

The cache is $ZOO_OCI_CACHE, else $XDG_CACHE_HOME/zoo-oci, else ~/.cache/zoo-oci.";

/// Arguments of `cache`.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

/// What to do with the cache.
#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List the suites in the cache, most recently used first, and its size.
    Ls {
        /// Output format of the result.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Remove suites from the cache, and the files no other suite holds.
    Rm {
        /// Suites: a manifest digest (or the start of its hex), a suite name, or a location
        /// with its tag as it was pulled.
        #[arg(required = true, value_name = "SUITE")]
        targets: Vec<String>,
        /// Output format of the result.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Free what no suite uses (leftovers of interrupted pulls, and partial downloads untouched
    /// for a day, too); with --older-than, first remove the suites no pull has used for that
    /// long.
    Prune {
        /// Remove suites not used for this long first (e.g. 30d, 12h).
        #[arg(long, value_name = "DURATION", value_parser = super::parse_duration)]
        older_than: Option<Duration>,
        /// Output format of the result.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

pub fn run(global: &Global, args: CacheArgs) -> Result<u8> {
    let cache = Cache::open()?;
    match args.command {
        CacheCommand::Ls { format } => {
            let listing = ops::cache_ls(&cache)?;
            if format == Format::Json {
                return print_json(&listing).map(|()| 0);
            }
            let mut out = format!(
                "{}: {}, {} in {}{}\n",
                listing.root.display(),
                count(listing.snapshots.len(), "suite", "suites"),
                human_bytes(listing.size),
                count(listing.files, "file", "files"),
                match listing.unused {
                    0 => String::new(),
                    n => format!(" ({} unused: zoo-oci cache prune)", human_bytes(n)),
                }
            );
            for s in &listing.snapshots {
                let name = match (&s.name, &s.version) {
                    (Some(n), Some(v)) => format!("{n}:{v}"),
                    (Some(n), None) => n.clone(),
                    _ => "(unnamed)".to_string(),
                };
                out.push_str(&format!(
                    "  {name:<32} {}  {:>10}  {:>6} files  used {}  {}\n",
                    s.digest.get(7..19).unwrap_or(&s.digest),
                    human_bytes(s.size),
                    s.files,
                    s.last_used,
                    s.sources.join(", ")
                ));
            }
            super::print_out(&out).map(|()| 0)
        }
        CacheCommand::Rm { targets, format } => report(global, ops::cache_rm(&cache, &targets)?, format),
        CacheCommand::Prune { older_than, format } => report(global, ops::cache_prune(&cache, older_than)?, format),
    }
}

fn report(global: &Global, report: RemoveReport, format: Format) -> Result<u8> {
    if format == Format::Json {
        return print_json(&report).map(|()| 0);
    }
    let event = serde_json::json!({"event": "removed", "suites": report.removed, "freed": report.freed});
    say(
        global,
        || format!("removed {}, freed {}", count(report.removed.len(), "suite", "suites"), human_bytes(report.freed)),
        event,
    );
    for digest in &report.removed {
        println_out(digest)?;
    }
    Ok(0)
}
