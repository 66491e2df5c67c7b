//! Where suites live: a [`Location`] is an OCI image layout directory (`oci:PATH[:TAG|@DIGEST]`)
//! or a registry repository (`HOST[:PORT]/REPO[:TAG|@DIGEST]`).

use std::fmt;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// What a location points at inside its store: a tag, a digest, or nothing yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A tag, e.g. `1.1.0` or `latest`.
    Tag(String),
    /// A manifest digest, `sha256:<hex>`.
    Digest(String),
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => write!(f, ":{t}"),
            Reference::Digest(d) => write!(f, "@{d}"),
        }
    }
}

/// A place suites are read from or written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An OCI image layout directory (image-layout spec), the embedded default store.
    Layout {
        /// The layout's root folder.
        path: PathBuf,
        /// The tag or digest named, if any.
        reference: Option<Reference>,
    },
    /// A repository in an OCI registry (distribution spec).
    Registry {
        /// `HOST[:PORT]`.
        registry: String,
        /// The repository path, e.g. `team/squeezenet`.
        repository: String,
        /// The tag or digest named, if any.
        reference: Option<Reference>,
    },
}

impl Location {
    /// Parses a location as typed on the command line.
    ///
    /// ```
    /// use zoo_oci::reference::{Location, Reference};
    /// let loc = Location::parse("oci:./zoo:1.1.0").unwrap();
    /// assert_eq!(loc, Location::Layout { path: "./zoo".into(), reference: Some(Reference::Tag("1.1.0".into())) });
    /// let loc = Location::parse("oci:/srv/zoo").unwrap();
    /// assert_eq!(loc, Location::Layout { path: "/srv/zoo".into(), reference: None });
    /// let d = format!("sha256:{}", "a".repeat(64));
    /// let loc = Location::parse(&format!("oci:zoo@{d}")).unwrap();
    /// assert_eq!(loc, Location::Layout { path: "zoo".into(), reference: Some(Reference::Digest(d)) });
    /// let reg = Location::parse("localhost:5000/zoo/squeezenet:1.1").unwrap();
    /// assert_eq!(reg, Location::Registry {
    ///     registry: "localhost:5000".into(), repository: "zoo/squeezenet".into(),
    ///     reference: Some(Reference::Tag("1.1".into())) });
    /// assert!(Location::parse("team/model:1").is_err(), "a host must be named");
    /// assert!(Location::parse("ghcr.io/Team/model").is_err(), "repositories are lower-case");
    /// assert!(Location::parse("oci:").is_err());
    /// assert!(Location::parse("oci:zoo:bad tag").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Location> {
        if let Some(rest) = text.strip_prefix("oci:") {
            return parse_layout(text, rest);
        }
        parse_registry(text)
    }

    /// The tag or digest, if the location names one.
    pub fn reference(&self) -> Option<&Reference> {
        match self {
            Location::Layout { reference, .. } | Location::Registry { reference, .. } => reference.as_ref(),
        }
    }

    /// The same store with another reference.
    pub fn with_reference(&self, reference: Option<Reference>) -> Location {
        match self {
            Location::Layout { path, .. } => Location::Layout { path: path.clone(), reference },
            Location::Registry { registry, repository, .. } => {
                Location::Registry { registry: registry.clone(), repository: repository.clone(), reference }
            }
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Layout { path, reference } => {
                write!(f, "oci:{}", path.display())?;
                if let Some(r) = reference {
                    write!(f, "{r}")?;
                }
                Ok(())
            }
            Location::Registry { registry, repository, reference } => {
                write!(f, "{registry}/{repository}")?;
                if let Some(r) = reference {
                    write!(f, "{r}")?;
                }
                Ok(())
            }
        }
    }
}

/// Splits `NAME[:TAG|@DIGEST]` (a path or a repository) from its reference. A tag never contains
/// '/', so a ':' after the last '/' starts one; `text` is the whole location, for messages.
fn split_reference<'a>(text: &str, rest: &'a str) -> Result<(&'a str, Option<Reference>)> {
    if let Some((name, digest)) = rest.rsplit_once('@') {
        crate::digest::hex_part(digest).map_err(|e| Error::usage(format!("{text:?}: {}", e.message())))?;
        return Ok((name, Some(Reference::Digest(digest.to_string()))));
    }
    let last_segment_start = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_segment_start..].rfind(':') {
        Some(i) => {
            let split = last_segment_start + i;
            let tag = &rest[split + 1..];
            validate_tag(tag).map_err(|e| e.context(text))?;
            Ok((&rest[..split], Some(Reference::Tag(tag.to_string()))))
        }
        None => Ok((rest, None)),
    }
}

fn parse_layout(text: &str, rest: &str) -> Result<Location> {
    let (path, reference) = split_reference(text, rest)?;
    if path.is_empty() {
        return Err(
            Error::usage(format!("{text:?} names no folder")).with_hint("write oci:PATH[:TAG], e.g. oci:./zoo:1.0.0")
        );
    }
    Ok(Location::Layout { path: PathBuf::from(path), reference })
}

/// Parses `HOST[:PORT]/REPO[:TAG|@DIGEST]`. The host must be named: a bare `team/model` would
/// silently mean Docker Hub, which is rarely what a model zoo user wants.
fn parse_registry(text: &str) -> Result<Location> {
    let hint = "name a registry as HOST[:PORT]/REPO[:TAG], e.g. ghcr.io/team/squeezenet:1.1.0 or localhost:5000/zoo/squeezenet, \
                or a local OCI layout as oci:PATH[:TAG]";
    let (host, rest) = text
        .split_once('/')
        .filter(|(host, rest)| !rest.is_empty() && is_registry_host(host))
        .ok_or_else(|| Error::usage(format!("unsupported location {text:?}")).with_hint(hint))?;
    let (repository, reference) = split_reference(text, rest)?;
    validate_repository(repository, text)?;
    Ok(Location::Registry { registry: host.to_string(), repository: repository.to_string(), reference })
}

/// The one rule for "this first path component is a registry host", as docker reads names: it
/// has a dot or a port, or is `localhost`.
pub fn is_registry_host(host: &str) -> bool {
    !host.is_empty() && (host.contains('.') || host.contains(':') || host == "localhost")
}

fn validate_repository(repository: &str, text: &str) -> Result<()> {
    let valid = !repository.is_empty()
        && repository.split('/').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
                && part.as_bytes()[0].is_ascii_alphanumeric()
        });
    if valid {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid repository name {repository:?} in {text:?}"))
            .with_hint("repository names are lower-case letters, digits and . _ - separated by /"))
    }
}

/// What `index` catalogues: a whole registry, a namespace in one, an OCI layout, or one suite
/// named with its tag or digest (an index of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every tag of an OCI image layout.
    Layout {
        /// The layout's root folder.
        path: PathBuf,
    },
    /// The repositories of a registry, or those under a namespace.
    Registry {
        /// `HOST[:PORT]`.
        registry: String,
        /// A repository prefix, e.g. `team` for `team/*`.
        namespace: Option<String>,
    },
    /// One suite: a location with a tag or digest.
    Suite(Location),
}

impl Scope {
    /// Parses `HOST[:PORT]`, `HOST[:PORT]/NAMESPACE` or `oci:PATH`; a location with a tag or
    /// digest (`HOST/REPO:TAG`, `oci:PATH@DIGEST`) is one suite.
    ///
    /// ```
    /// use zoo_oci::reference::{Location, Scope};
    /// assert_eq!(Scope::parse("oci:./zoo").unwrap(), Scope::Layout { path: "./zoo".into() });
    /// assert_eq!(Scope::parse("oci:./zoo:1.0").unwrap(), Scope::Suite(Location::parse("oci:./zoo:1.0").unwrap()));
    /// assert_eq!(Scope::parse("localhost:5000/zoo/squeezenet:1.1").unwrap(),
    ///     Scope::Suite(Location::parse("localhost:5000/zoo/squeezenet:1.1").unwrap()));
    /// assert_eq!(Scope::parse("localhost:5000/zoo").unwrap(),
    ///     Scope::Registry { registry: "localhost:5000".into(), namespace: Some("zoo".into()) });
    /// assert_eq!(Scope::parse("localhost:5000").unwrap(),
    ///     Scope::Registry { registry: "localhost:5000".into(), namespace: None });
    /// assert_eq!(Scope::parse("ghcr.io/team/").unwrap(),
    ///     Scope::Registry { registry: "ghcr.io".into(), namespace: Some("team".into()) });
    /// assert!(Scope::parse("oci:./zoo:bad tag").is_err(), "a tag is checked");
    /// assert!(Scope::parse("team").is_err(), "a host must be named");
    /// assert!(Scope::parse("ghcr.io/Team").is_err(), "namespaces are lower-case");
    /// ```
    pub fn parse(text: &str) -> Result<Scope> {
        // A tag or digest can only follow a repository or a layout path, so a location that
        // names one is a suite (and a bad tag is reported as such); anything else is read as a
        // place holding many.
        let after_host = text.strip_prefix("oci:").or_else(|| text.split_once('/').map(|(_, rest)| rest));
        if after_host.is_some_and(names_a_reference) {
            return Location::parse(text).map(Scope::Suite);
        }
        if let Some(path) = text.strip_prefix("oci:") {
            if path.is_empty() {
                return Err(
                    Error::usage(format!("{text:?} names no folder")).with_hint("write oci:PATH, e.g. oci:./zoo")
                );
            }
            return Ok(Scope::Layout { path: PathBuf::from(path) });
        }
        let trimmed = text.trim_end_matches('/');
        let (host, namespace) = match trimmed.split_once('/') {
            Some((h, ns)) => (h, Some(ns)),
            None => (trimmed, None),
        };
        if !is_registry_host(host) {
            return Err(Error::usage(format!("{text:?} names no registry"))
                .with_hint("write HOST[:PORT], HOST/NAMESPACE or oci:PATH"));
        }
        if let Some(ns) = namespace {
            validate_repository(ns, text)?;
        }
        Ok(Scope::Registry { registry: host.to_string(), namespace: namespace.map(String::from) })
    }
}

/// Whether `NAME[:TAG|@DIGEST]` has its reference part, by the rule of [`split_reference`].
fn names_a_reference(rest: &str) -> bool {
    let last_segment = &rest[rest.rfind('/').map_or(0, |i| i + 1)..];
    rest.contains('@') || last_segment.contains(':')
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Layout { path } => write!(f, "oci:{}", path.display()),
            Scope::Registry { registry, namespace: Some(ns) } => write!(f, "{registry}/{ns}"),
            Scope::Registry { registry, namespace: None } => f.write_str(registry),
            Scope::Suite(location) => location.fmt(f),
        }
    }
}

/// Checks a tag against the OCI distribution grammar `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    let mut bytes = tag.bytes();
    let ok = match bytes.next() {
        Some(first) => {
            (first.is_ascii_alphanumeric() || first == b'_')
                && tag.len() <= 128
                && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid tag {tag:?}"))
            .with_hint("a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with . or -"))
    }
}
