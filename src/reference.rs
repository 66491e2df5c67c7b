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
    /// assert_eq!(loc, Location::Layout { path: "zoo".into(), reference: Some(Reference::Digest(d.clone())) });
    /// let reg = Location::parse("localhost:5000/zoo/squeezenet:1.1").unwrap();
    /// assert_eq!(reg, Location::Registry {
    ///     registry: "localhost:5000".into(), repository: "zoo/squeezenet".into(),
    ///     reference: Some(Reference::Tag("1.1".into())) });
    /// assert!(Location::parse("team/model:1").is_err(), "a host must be named");
    /// assert!(Location::parse("ghcr.io/Team/model").is_err(), "repositories are lower-case");
    /// assert!(Location::parse("oci:").is_err());
    /// assert!(Location::parse("oci:zoo:bad tag").is_err());
    /// // As docker reads them: the digest decides; Docker Hub's official images are library/.
    /// let pinned = Location::parse(&format!("ghcr.io/team/model:1.0@{d}")).unwrap();
    /// assert_eq!(pinned.reference(), Some(&Reference::Digest(d)));
    /// let hub = Location::parse("docker.io/ubuntu").unwrap();
    /// assert_eq!(hub.to_string(), "docker.io/library/ubuntu");
    /// assert!(Location::parse("localhost:99999/zoo").is_err(), "ports end at 65535");
    /// assert!(Location::parse("::1:5000/zoo").is_err(), "IPv6 goes in brackets");
    /// assert!(Location::parse("[::1]:5000/zoo").is_ok());
    /// assert!(Location::parse("ghcr.io/a..b").is_err(), "separators between alphanumerics");
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
/// `NAME:TAG@DIGEST` is the digest, as docker reads it: the tag is checked and then only a label.
fn split_reference<'a>(text: &str, rest: &'a str) -> Result<(&'a str, Option<Reference>)> {
    if let Some((name, digest)) = rest.rsplit_once('@') {
        crate::digest::hex_part(digest).map_err(|e| Error::usage(format!("{text:?}: {}", e.message())))?;
        let (name, _tag) = split_tag(text, name)?;
        return Ok((name, Some(Reference::Digest(digest.to_string()))));
    }
    let (name, tag) = split_tag(text, rest)?;
    Ok((name, tag.map(|t| Reference::Tag(t.to_string()))))
}

fn split_tag<'a>(text: &str, rest: &'a str) -> Result<(&'a str, Option<&'a str>)> {
    let last_segment_start = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[last_segment_start..].rfind(':') {
        Some(i) => {
            let split = last_segment_start + i;
            let tag = &rest[split + 1..];
            validate_tag(tag).map_err(|e| e.context(text))?;
            Ok((&rest[..split], Some(tag)))
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
/// silently mean Docker Hub, which is rarely what a model zoo user wants. `docker.io/NAME` is
/// `docker.io/library/NAME`, as docker reads it.
fn parse_registry(text: &str) -> Result<Location> {
    let hint = "name a registry as HOST[:PORT]/REPO[:TAG], e.g. ghcr.io/team/squeezenet:1.1.0 or localhost:5000/zoo/squeezenet, \
                or a local OCI layout as oci:PATH[:TAG]";
    let unsupported = || {
        let error = Error::usage(format!("unsupported location {text:?}"));
        match folder_meant(text) {
            Some(layout) => error.with_hint(format!("{layout} is a folder here: did you mean oci:{layout}?")),
            None => error.with_hint(hint),
        }
    };
    let (host, rest) = text.split_once('/').filter(|(_, rest)| !rest.is_empty()).ok_or_else(unsupported)?;
    if host.is_empty() {
        return Err(Error::usage(format!("{text:?} names no registry host")).with_hint(hint));
    }
    if !is_registry_host(host) {
        return Err(unsupported());
    }
    if let Err(e) = validate_host(host, text) {
        // `./zoo:1.0` has a dot in its "host": a folder here is what was meant.
        return Err(if folder_meant(text).is_some() { unsupported() } else { e });
    }
    let (repository, reference) = split_reference(text, rest)?;
    validate_repository(repository, text)?;
    let (registry, repository) = match host {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" if !repository.contains('/') => {
            ("docker.io".to_string(), format!("library/{repository}"))
        }
        "index.docker.io" | "registry-1.docker.io" => ("docker.io".to_string(), repository.to_string()),
        _ => (host.to_string(), repository.to_string()),
    };
    if registry.len() + 1 + repository.len() > 255 {
        return Err(Error::usage(format!("{text:?} is over 255 characters"))
            .with_hint("registries refuse a HOST/REPOSITORY longer than 255 characters"));
    }
    Ok(Location::Registry { registry, repository, reference })
}

/// The folder a location without `oci:` names, if it exists here: `./zoo:1.0` or `zoo:1.0`.
fn folder_meant(text: &str) -> Option<String> {
    let path = match text.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => path,
        _ => text,
    };
    (!path.is_empty() && std::path::Path::new(path).is_dir()).then(|| text.to_string())
}

/// The one rule for "this first path component is a registry host", as docker reads names: it
/// has a dot or a port, or is `localhost`.
pub fn is_registry_host(host: &str) -> bool {
    !host.is_empty() && (host.contains('.') || host.contains(':') || host == "localhost")
}

/// Checks `HOST[:PORT]`: DNS labels or an IPv4 address, or an IPv6 address in brackets; a port
/// from 1 to 65535.
fn validate_host(host: &str, text: &str) -> Result<()> {
    let refuse = |why: String| {
        Err(Error::usage(format!("invalid registry host {host:?} in {text:?}: {why}"))
            .with_hint("write HOST, HOST:PORT or [IPv6]:PORT, e.g. localhost:5000 or [::1]:5000"))
    };
    let (name, port) = if let Some(bracketed) = host.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return refuse("the IPv6 address has no closing ]".into());
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return refuse(format!("{address} is not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            port if port.starts_with(':') => (None, Some(&port[1..])),
            _ => return refuse("only :PORT may follow the address".into()),
        }
    } else if host.matches(':').count() > 1 {
        return refuse("an IPv6 address goes in brackets".into());
    } else {
        match host.split_once(':') {
            Some((name, port)) => (Some(name), Some(port)),
            None => (Some(host), None),
        }
    };
    if let Some(name) = name {
        let label_ok = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        };
        if name.is_empty() {
            return refuse("the host name is empty".into());
        }
        if !name.split('.').all(label_ok) {
            return refuse("a host name is letters, digits and - in dot-separated labels".into());
        }
    }
    if let Some(port) = port {
        match port.parse::<u32>() {
            Ok(1..=65535) if port.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return refuse(format!("the port {port:?} is not a number from 1 to 65535")),
        }
    }
    Ok(())
}

/// Checks a repository name against the distribution spec's grammar: components of lower-case
/// letters and digits, joined inside by `.`, `_`, `__` or runs of `-`, separated by `/`.
fn validate_repository(repository: &str, text: &str) -> Result<()> {
    let component_ok = |part: &str| {
        let bytes = part.as_bytes();
        let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
            return false;
        }
        // Between alphanumeric runs: exactly ".", "_", "__", or one or more "-".
        let mut i = 0;
        while i < bytes.len() {
            if alnum(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !alnum(bytes[i]) {
                i += 1;
            }
            let separator = &part[start..i];
            let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
            if !ok {
                return false;
            }
        }
        true
    };
    if !repository.is_empty() && repository.split('/').all(component_ok) {
        Ok(())
    } else {
        Err(Error::usage(format!("invalid repository name {repository:?} in {text:?}")).with_hint(
            "repository names are lower-case letters and digits, joined by . _ __ or -, in parts separated by /",
        ))
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
