//! `zoo-oci check [DIR]`.

use std::path::PathBuf;

use clap::Args;
use zoo_oci::error::Result;
use zoo_oci::suite::{self, EntryKind};

use super::{Format, Global, human_bytes};

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The suite folder.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Treat warnings (such as undeclared files) as errors.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn run(args: CheckArgs, global: &Global) -> Result<u8> {
    let checked = suite::check(&args.dir)?;
    let blocked = checked.problems.blocks(args.strict);
    match args.format {
        Format::Json => {
            let json = serde_json::json!({
                "ok": !blocked,
                "errors": checked.problems.error_count(),
                "warnings": checked.problems.warning_count(),
                "problems": checked.problems,
            });
            println!("{}", serde_json::to_string_pretty(&json).expect("json"));
        }
        Format::Text => {
            eprint!("{}", checked.problems);
            if let Some(s) = &checked.suite
                && !blocked
                && !global.quiet
            {
                let (files, bytes) =
                    s.layers.iter().flat_map(|l| l.content.files()).fold((0u64, 0u64), |(n, b), e| match e.kind {
                        EntryKind::File { size, .. } => (n + 1, b + size),
                        EntryKind::Dir => (n, b),
                    });
                println!(
                    "ok: {} {}: {} layers, {files} files, {}",
                    s.spec.name,
                    s.spec.version,
                    s.layers.len(),
                    human_bytes(bytes)
                );
            } else if blocked {
                eprintln!(
                    "{}: {} errors, {} warnings{}",
                    args.dir.display(),
                    checked.problems.error_count(),
                    checked.problems.warning_count(),
                    if args.strict && checked.problems.error_count() == 0 {
                        " (--strict makes warnings errors)"
                    } else {
                        ""
                    }
                );
            }
        }
    }
    Ok(if blocked { 1 } else { 0 })
}
