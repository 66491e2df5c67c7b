//! `index`: a categorised catalogue of every suite in a registry, a namespace or a layout.

use std::time::Duration;

use super::Context;
use crate::copy;
use crate::error::{Error, Result, Side};
use crate::index::{self, Filters, Index};
use crate::reference::{Location, Reference, Scope};
use crate::retry::DEFAULT_RETRIES;
use crate::store;
use crate::store::registry::RegistryStore;

/// What to index.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IndexOptions {
    /// A registry, a namespace in one, a layout, or one suite.
    pub scope: Scope,
    /// Index these repositories instead of asking the registry's catalogue (for registries
    /// without one, such as GHCR); relative to the namespace when there is one. In a folder of
    /// layouts, these layouts (paths relative to the folder) instead of every one below it.
    pub repositories: Vec<String>,
    /// Keep only the suites every given filter accepts.
    pub filters: Filters,
    /// In a registry, how long a repository's tags, once listed, are used from the shared
    /// cache without listing them again ([`DEFAULT_TAGS_MAX_AGE`]); zero lists them all again.
    /// The catalogue is read every time, so new repositories show whatever this is.
    pub tags_max_age: Duration,
}

/// How long an index keeps a repository's tags by default: long enough that indexing a zoo
/// again a few minutes later costs its catalogue and what is new, short enough that a tag moved
/// in a known repository shows within the quarter hour without asking.
pub const DEFAULT_TAGS_MAX_AGE: Duration = Duration::from_secs(15 * 60);

impl IndexOptions {
    /// Catalogues everything `scope` holds, unfiltered.
    pub fn new(scope: Scope) -> Self {
        IndexOptions {
            scope,
            repositories: Vec::new(),
            filters: Filters::default(),
            tags_max_age: DEFAULT_TAGS_MAX_AGE,
        }
    }
}

/// Reads every tagged manifest of the scope (no layer) and groups the suites by modality and
/// task. Manifests that are not suites are listed as skipped, with the reason.
///
/// A [`Scope::Suite`] gives an index of one, listed as the full catalogue would list it, so
/// one suite's page is made like a zoo's; there a manifest that is not a suite is an error. A
/// tag lists that tag; a digest lists the tags that point at it, and no tag is an error (the
/// index lists tagged suites; `inspect` shows an untagged one).
///
/// ```no_run
/// # async fn demo() -> zoo_oci::Result<()> {
/// use zoo_oci::ops::{self, Context, IndexOptions};
/// use zoo_oci::reference::Scope;
/// let options = IndexOptions::new(Scope::parse("oci:./zoo")?);
/// let catalogue = ops::index(&options, &Context::default()).await?;
/// for suite in &catalogue.suites {
///     println!("{} {} ({})", suite.name, suite.version, suite.modality);
/// }
/// # Ok(()) }
/// ```
pub async fn index(options: &IndexOptions, context: &Context) -> Result<Index> {
    let catalogue = match &options.scope {
        Scope::Layout { path } => index::walk_layouts(path, &options.scope.to_string(), &options.repositories).await?,
        Scope::Registry { registry, namespace } => {
            // A catalogue is the registry's to tell: the cache holds suites, not catalogues.
            context.reach(registry, &format!("listing {}", options.scope))?;
            let store = RegistryStore::connect_registry(registry, &context.transport).await?;
            let repositories: Vec<String> = options
                .repositories
                .iter()
                .map(|r| match namespace {
                    Some(ns) if !r.starts_with(&format!("{ns}/")) => format!("{ns}/{r}"),
                    _ => r.clone(),
                })
                .collect();
            let cache = context.cache().ok();
            let walk = index::RegistryWalk {
                concurrency: context.concurrency.max(4),
                cache: cache.as_ref(),
                tags_max_age: options.tags_max_age,
            };
            let mut catalogue = index::walk_registry(&store, namespace.as_deref(), &repositories, &walk).await?;
            // Only a walk of the catalogue is incomplete through a cache: named repositories
            // are fetched from its origin like any pull.
            if repositories.is_empty() {
                let probe = match catalogue.suites.first() {
                    Some(suite) => suite.repository.trim_start_matches(&format!("{registry}/")).to_string(),
                    None => namespace.as_deref().map_or("zoo-oci-probe".into(), |ns| format!("{ns}/zoo-oci-probe")),
                };
                if store.is_pull_through_cache(&probe).await {
                    catalogue.notes.insert(0, format!(
                        "{registry} is a pull-through cache: its catalogue lists only the repositories it has been asked for; index its origin for the whole zoo, or name repositories with --repo (fetched through the cache)"
                    ));
                }
            }
            catalogue
        }
        Scope::Suite(location) => {
            if !options.repositories.is_empty() {
                return Err(Error::usage(format!("{location} names one suite; --repo names repositories to index"))
                    .with_hint("give a registry (HOST[:PORT]) or a namespace with --repo, or drop --repo"));
            }
            index_of_one(location, &options.scope.to_string(), context).await?
        }
    };
    // The pull commands are pasted as they are: the flags this scope needs go in.
    let mut catalogue = catalogue;
    let plain_http = !matches!(options.scope, Scope::Layout { .. }) && context.transport.plain_http;
    for suite in &mut catalogue.suites {
        suite.pull = crate::pull::command_line(&suite.location, Some(&suite.name), plain_http);
    }
    index::filter(catalogue, &options.filters)
}

async fn index_of_one(location: &Location, scope: &str, context: &Context) -> Result<Index> {
    let source = context.source(location).await?;
    let reference = store::reference_or_only_tag(location, source.as_ref()).await?;
    let root = copy::resolve(source.as_ref(), &reference, DEFAULT_RETRIES).await?;
    let view = store::suite_view(source.as_ref(), &root.descriptor, &root.bytes)
        .await
        .map_err(|e| e.on(Side::Source, source.name()))?;
    let tags = match &reference {
        Reference::Tag(tag) => vec![tag.clone()],
        Reference::Digest(digest) => index::tags_pointing_at(source.as_ref(), digest).await?,
    };
    let repository = location.with_reference(None).to_string();
    if tags.is_empty() {
        return Err(Error::not_found(format!("no tag of {repository} points at {}", root.descriptor.digest))
            .with_hint(format!("index lists tagged suites; zoo-oci inspect {location} shows this one")));
    }
    Ok(index::of_one(&view, &tags, &repository, scope))
}
