//! `gc`: remove the blobs of a layout that no tag reaches.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::reference::Location;
use crate::store::layout::LayoutStore;

/// What to collect.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GcOptions {
    /// An OCI layout (`oci:PATH`).
    pub location: Location,
    /// Say what would go, remove nothing.
    pub dry_run: bool,
}

impl GcOptions {
    /// Collects the garbage of the layout at `location`.
    pub fn new(location: Location) -> Self {
        GcOptions { location, dry_run: false }
    }
}

/// What was (or would be) removed.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct GcReport {
    /// The blobs removed, by digest.
    pub removed: Vec<String>,
    /// Their bytes.
    pub bytes: u64,
    /// The blobs kept: reachable from `index.json`.
    pub kept: usize,
    /// Nothing was removed (`--dry-run`).
    pub dry_run: bool,
}

/// Removes the blobs of a layout that no entry of its `index.json` reaches (through manifests,
/// indexes, configs, layers and the referrers listed there). Waits for pushes in progress: it
/// takes the layout's ingest lock alone, so a blob uploaded before its manifest is never taken.
///
/// ```no_run
/// use zoo_oci::ops::{self, GcOptions};
/// use zoo_oci::reference::Location;
/// let report = ops::gc(&GcOptions::new(Location::parse("oci:./zoo")?))?;
/// println!("freed {} bytes", report.bytes);
/// # Ok::<(), zoo_oci::Error>(())
/// ```
pub fn gc(options: &GcOptions) -> Result<GcReport> {
    let Location::Layout { path, .. } = &options.location else {
        return Err(Error::usage(format!("{} is a registry: gc works on OCI layouts", options.location))
            .with_hint("registries collect their own garbage: CNCF Distribution with `registry garbage-collect`, Harbor and GHCR on a schedule"));
    };
    let layout = LayoutStore::open(path)?;
    let outcome = layout.collect_garbage(options.dry_run)?;
    Ok(GcReport { removed: outcome.removed, bytes: outcome.bytes, kept: outcome.kept, dry_run: options.dry_run })
}
