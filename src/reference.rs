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
    ///
    /// Other tools' spellings are read where they can mean one thing only, and refused with the
    /// form to write otherwise (see [`other_tools_form`]):
    ///
    /// ```
    /// use zoo_oci::reference::Location;
    /// let same = |a: &str, b: &str| assert_eq!(Location::parse(a).unwrap(), Location::parse(b).unwrap());
    /// same("oci://./zoo:1.0", "oci:./zoo:1.0");
    /// same("oci:///srv/zoo", "oci:/srv/zoo");
    /// same("docker://ghcr.io/team/model:1", "ghcr.io/team/model:1");
    /// same("https://localhost:5000/zoo/model:1", "localhost:5000/zoo/model:1");
    /// let hint = |text: &str| Location::parse(text).unwrap_err().hint().unwrap().to_string();
    /// assert!(hint("docker://ubuntu:24.04").contains("docker.io/library/ubuntu:24.04"));
    /// assert!(hint("http://localhost:5000/zoo:1").contains("localhost:5000/zoo:1 --plain-http"));
    /// assert!(hint("https://hub.docker.com/r/team/model").contains("docker.io/team/model"));
    /// assert!(hint("https://ghcr.io/v2/team/model/manifests/1.0").contains("ghcr.io/team/model:1.0"));
    /// ```
    pub fn parse(text: &str) -> Result<Location> {
        if let Some(own) = other_tools_form(text)? {
            return Location::parse(&own);
        }
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
        error.with_hint(folder_meant(text).unwrap_or_else(|| hint.to_string()))
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

/// The hint for a location without `oci:` that names a folder here (`./zoo:1.0`, `zoo:1.0`).
/// `oci:` is suggested only for a folder that holds an OCI layout or nothing: said of a suite
/// folder (`push oci:./zoo ./suite`, the arguments swapped) or of a folder of other files, the
/// hint would have a layout written into it.
fn folder_meant(text: &str) -> Option<String> {
    let path = match text.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => path,
        _ => text,
    };
    let folder = std::path::Path::new(path);
    if path.is_empty() || !folder.is_dir() {
        return None;
    }
    if is_suite_folder(folder) {
        return Some(format!(
            "{path} is a suite folder (it holds zoo.yaml), which push reads: zoo-oci push {path} TARGET; \
             a local OCI layout is oci:PATH[:TAG], e.g. oci:./zoo"
        ));
    }
    let empty = folder.read_dir().is_ok_and(|mut entries| entries.next().is_none());
    if empty || folder.join("oci-layout").is_file() {
        return Some(format!("{text} is a folder here: did you mean oci:{text}?"));
    }
    Some(format!(
        "{path} is a folder here, but holds no OCI layout; a layout is oci:PATH[:TAG], a new or empty folder \
         or one holding a layout, e.g. oci:./zoo"
    ))
}

/// Whether `folder` is a suite (holds `zoo.yaml` or `zoo.json`), which commands reading or
/// writing a location must not take for a layout.
pub fn is_suite_folder(folder: &std::path::Path) -> bool {
    folder.join("zoo.yaml").is_file() || folder.join("zoo.json").is_file()
}

/// Other tools' spellings of a location, rewritten as zoo-oci's own when they can mean one thing
/// only (`Ok(Some)`), refused with the exact form to write when not; `Ok(None)` for text in no
/// other tool's form.
///
/// - `oci://PATH[:TAG]` (as people misremember skopeo's `oci:PATH`) is `oci:PATH`, and
///   `oci:///abs` is `/abs`. Helm and Flux write `oci://HOST/REPO` for a *registry*, so one whose
///   first part is a registry host that is no folder here is refused, naming both readings.
/// - `docker://HOST/REPO[:TAG]` (skopeo's docker transport) is `HOST/REPO[:TAG]`; without a host
///   (`docker://ubuntu`) it would mean Docker Hub by default, refused as bare names are.
/// - `https://HOST/REPO[:TAG]` is `HOST/REPO[:TAG]`, over TLS as every registry is by default.
///   A browser's address of a page about a repository (`https://hub.docker.com/r/…`, GitHub's
///   package pages, Quay's `/repository/`, the API's `/v2/…/manifests/…`, anything with `?` or
///   `#`) is refused with the repository it shows, when the address names it.
/// - `http://…` is refused with `HOST/REPO[:TAG] --plain-http`. Plain HTTP is a flag, decided
///   for a command's registries (`copy` has one per side), and the only place it is: a scheme
///   that silently switched a transfer to unencrypted, unauthenticated HTTP would be surprising,
///   and it would leave `https://… --plain-http` to mean two things at once.
pub fn other_tools_form(text: &str) -> Result<Option<String>> {
    if let Some(rest) = text.strip_prefix("oci://") {
        return oci_url(text, rest).map(Some);
    }
    if let Some(rest) = text.strip_prefix("docker://") {
        let host = rest.split('/').next().unwrap_or_default();
        // `docker://ubuntu:24.04` has a ':' in its first part, but no port.
        if is_registry_host(host) && validate_host(host, text).is_ok() {
            return Ok(Some(rest.to_string()));
        }
        let form = if rest.contains('/') { format!("docker.io/{rest}") } else { format!("docker.io/library/{rest}") };
        return Err(Error::usage(format!("{text:?} names no registry host"))
            .with_hint(format!("zoo-oci reads a registry only when it is named: write {form} for Docker Hub")));
    }
    let (rest, plain) = match (text.strip_prefix("https://"), text.strip_prefix("http://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => return Ok(None),
    };
    let flag = if plain { " --plain-http" } else { "" };
    let (address, browser) = match rest.find(['?', '#']) {
        Some(i) => (&rest[..i], true),
        None => (rest, false),
    };
    let (host, path) = address.split_once('/').unwrap_or((address, ""));
    let path = path.trim_end_matches('/');
    let shown = repository_shown(host, path);
    let page = browser || shown.is_some();
    let form = shown.unwrap_or_else(|| if path.is_empty() { host.to_string() } else { format!("{host}/{path}") });
    if page {
        return Err(Error::usage(format!("{text:?} is the address of a web page, not of a repository"))
            .with_hint(format!("zoo-oci reads a repository as HOST/REPO[:TAG]: {form}{flag}")));
    }
    if plain {
        return Err(Error::usage(format!("{text:?}: plain HTTP is asked for with --plain-http, not with a scheme"))
            .with_hint(format!("write {form}{flag}")));
    }
    Ok(Some(form))
}

/// `oci://REST`: see [`other_tools_form`].
fn oci_url(text: &str, rest: &str) -> Result<String> {
    if rest.is_empty() {
        return Err(
            Error::usage(format!("{text:?} names no folder")).with_hint("write oci:PATH[:TAG], e.g. oci:./zoo:1.0.0")
        );
    }
    if let Some((first, _)) = rest.split_once('/')
        && !first.starts_with('.')
        && is_registry_host(first)
        && validate_host(first, text).is_ok()
        && !std::path::Path::new(first).exists()
    {
        return Err(Error::usage(format!(
            "{text:?} could be a registry (Helm's oci://HOST/REPO) or a folder (oci:PATH)"
        ))
        .with_hint(format!("write {rest} for the registry, or oci:./{rest} for a local OCI layout")));
    }
    Ok(format!("oci:{rest}"))
}

/// The repository a web page's address shows, as `HOST/REPO[:TAG|@DIGEST]`: Docker Hub's
/// `/r/NS/NAME` and `/_/NAME`, GitHub's container package pages, Quay's `/repository/NS/NAME`,
/// and the distribution API's `/v2/NAME/(manifests/REF|tags/list|blobs/…)`. `None` when the
/// address is no such page.
fn repository_shown(host: &str, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let lower = |s: &str| s.to_ascii_lowercase();
    match (host, parts.as_slice()) {
        ("hub.docker.com" | "www.docker.com" | "docker.com", ["r", ns, name, ..]) => {
            Some(format!("docker.io/{}/{}", lower(ns), lower(name)))
        }
        ("hub.docker.com", ["_", name, ..]) => Some(format!("docker.io/library/{}", lower(name))),
        ("hub.docker.com" | "www.docker.com" | "docker.com", _) => Some("docker.io/NAMESPACE/NAME".into()),
        ("github.com", ["orgs", owner, "packages", "container", "package", name, ..])
        | ("github.com", ["users", owner, "packages", "container", "package", name, ..])
        | ("github.com", [owner, _, "pkgs", "container", name, ..]) => {
            Some(format!("ghcr.io/{}/{}", lower(owner), lower(name)))
        }
        ("github.com" | "www.github.com", _) => Some("ghcr.io/OWNER/NAME".into()),
        ("quay.io", ["repository", ns, name, ..]) => Some(format!("quay.io/{ns}/{name}")),
        (_, ["v2", ""]) | (_, ["v2"]) | (_, ["v2", "_catalog"]) => Some(host.to_string()),
        (_, ["v2", name @ .., "manifests", reference]) if !name.is_empty() => {
            let separator = if reference.contains(':') { '@' } else { ':' };
            Some(format!("{host}/{}{separator}{reference}", name.join("/")))
        }
        (_, ["v2", name @ .., "tags", "list"]) | (_, ["v2", name @ .., "blobs", _]) if !name.is_empty() => {
            Some(format!("{host}/{}", name.join("/")))
        }
        (_, ["v2", ..]) => Some(format!("{host}/REPO[:TAG]")),
        (_, ["harbor", "projects", ..]) => Some(format!("{host}/PROJECT/REPO[:TAG]")),
        _ => None,
    }
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
        if let Some(own) = other_tools_form(text)? {
            return Scope::parse(&own);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn read_as(text: &str, own: &str) {
        assert_eq!(Location::parse(text).unwrap(), Location::parse(own).unwrap(), "{text}");
    }

    fn refused(text: &str, form: &str) {
        let error = Location::parse(text).unwrap_err();
        assert_eq!(error.kind(), crate::error::ErrorKind::Usage, "{text}");
        let hint = error.hint().unwrap_or_default();
        assert!(hint.contains(form), "{text}: the hint {hint:?} lacks {form:?}");
    }

    #[test]
    fn other_tools_forms_that_mean_one_thing_are_read() {
        read_as("oci://./zoo:1.0", "oci:./zoo:1.0");
        read_as("oci://zoo", "oci:zoo");
        read_as("oci://zoo/sub:1", "oci:zoo/sub:1");
        read_as("oci:///srv/zoo:2", "oci:/srv/zoo:2");
        read_as("docker://ghcr.io/team/model:1", "ghcr.io/team/model:1");
        read_as("docker://localhost:5000/zoo", "localhost:5000/zoo");
        read_as("https://ghcr.io/team/model:1", "ghcr.io/team/model:1");
        read_as("https://ghcr.io/team/model/", "ghcr.io/team/model");
        read_as("https://[::1]:5000/zoo", "[::1]:5000/zoo");
        assert_eq!(Scope::parse("https://localhost:5000").unwrap(), Scope::parse("localhost:5000").unwrap());
        assert_eq!(Scope::parse("oci://./zoo").unwrap(), Scope::parse("oci:./zoo").unwrap());
    }

    #[test]
    fn other_tools_forms_that_are_ambiguous_are_refused_with_the_form_to_write() {
        refused("oci://", "oci:PATH");
        refused(
            "oci://ghcr.io/team/model:1",
            "write ghcr.io/team/model:1 for the registry, or oci:./ghcr.io/team/model:1",
        );
        refused("docker://ubuntu", "docker.io/library/ubuntu");
        refused("docker://ubuntu:24.04", "docker.io/library/ubuntu:24.04");
        refused("docker://team/model:1", "docker.io/team/model:1");
        refused("http://localhost:5000/zoo/model:1", "write localhost:5000/zoo/model:1 --plain-http");
        refused("http://localhost:5000", "write localhost:5000 --plain-http");
        refused("https://hub.docker.com/r/team/model", "docker.io/team/model");
        refused("https://hub.docker.com/_/ubuntu", "docker.io/library/ubuntu");
        refused("https://github.com/orgs/team/packages/container/package/model", "ghcr.io/team/model");
        refused("https://github.com/Team/repo/pkgs/container/model", "ghcr.io/team/model");
        refused("https://quay.io/repository/team/model", "quay.io/team/model");
        refused("https://ghcr.io/v2/team/model/manifests/1.0", "ghcr.io/team/model:1.0");
        let digest = format!("sha256:{}", "a".repeat(64));
        refused(&format!("https://ghcr.io/v2/team/model/manifests/{digest}"), &format!("ghcr.io/team/model@{digest}"));
        refused("http://localhost:5000/v2/zoo/tags/list", "localhost:5000/zoo --plain-http");
        refused("https://ghcr.io/team/model?tab=versions", "ghcr.io/team/model");
        refused("https://harbor.example.com/harbor/projects/3/repositories/model", "harbor.example.com/PROJECT/REPO");
    }

    #[test]
    fn a_suite_folder_is_never_suggested_as_a_layout() {
        let tmp = tempfile::tempdir().unwrap();
        let suite = tmp.path().join("suite");
        std::fs::create_dir(&suite).unwrap();
        std::fs::write(suite.join("zoo.yaml"), "name: a\n").unwrap();
        let text = format!("{}/", suite.display());
        let hint = folder_meant(&text).unwrap();
        assert!(hint.contains("is a suite folder") && !hint.contains("did you mean oci:"), "{hint}");
        let other = tmp.path().join("project");
        std::fs::create_dir(&other).unwrap();
        std::fs::write(other.join("notes.txt"), "mine").unwrap();
        let hint = folder_meant(other.to_str().unwrap()).unwrap();
        assert!(hint.contains("holds no OCI layout") && !hint.contains("did you mean"), "{hint}");
        let empty = tmp.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let hint = folder_meant(&format!("{}:1", empty.display())).unwrap();
        assert!(hint.contains(&format!("did you mean oci:{}:1?", empty.display())), "{hint}");
    }
}
