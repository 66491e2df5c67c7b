//! `index`: a categorised catalogue of every suite in a registry, a namespace or a layout.

use super::Context;
use crate::error::Result;
use crate::index::{self, Filters, Index};
use crate::reference::Scope;
use crate::store::layout::LayoutStore;
use crate::store::registry::RegistryStore;

/// What to index.
#[derive(Debug, Clone)]
pub struct IndexOptions {
    /// A registry, a namespace in one, or a layout.
    pub scope: Scope,
    /// Index these repositories instead of asking the registry's catalogue (for registries
    /// without one, such as GHCR); relative to the namespace when there is one.
    pub repositories: Vec<String>,
    /// Keep only the suites every given filter accepts.
    pub filters: Filters,
}

/// Reads every tagged manifest of the scope (no layer) and groups the suites by modality and
/// task. Manifests that are not suites are listed as skipped, with the reason.
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, IndexOptions};
/// use zoo_oci::reference::Scope;
/// let options = IndexOptions { scope: Scope::parse("oci:./zoo")?, repositories: vec![], filters: Default::default() };
/// let catalogue = ops::index(&options, &Context::default()).await?;
/// for suite in &catalogue.suites {
///     println!("{} {} ({})", suite.name, suite.version, suite.modality);
/// }
/// # Ok(()) }
/// ```
pub async fn index(options: &IndexOptions, context: &Context) -> Result<Index> {
    let catalogue = match &options.scope {
        Scope::Layout { path } => {
            let layout = LayoutStore::open(path)?;
            index::walk_layout(&layout, &options.scope.to_string()).await?
        }
        Scope::Registry { registry, namespace } => {
            let store = RegistryStore::connect_registry(registry, &context.transport).await?;
            let repositories: Vec<String> = options
                .repositories
                .iter()
                .map(|r| match namespace {
                    Some(ns) if !r.starts_with(&format!("{ns}/")) => format!("{ns}/{r}"),
                    _ => r.clone(),
                })
                .collect();
            index::walk_registry(&store, namespace.as_deref(), &repositories, context.concurrency.max(4)).await?
        }
    };
    index::filter(catalogue, &options.filters)
}
