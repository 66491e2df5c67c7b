//! The signature policy of unattended pulls: which keys must have signed the suites of which
//! registries, repositories and layouts, and what to do when none has.
//!
//! The file is JSON in the shape of containers' `policy.json` (`containers-policy.json(5)`,
//! which Podman, Skopeo and CRI-O read): a `default` requirement, and requirements per scope,
//! the most specific scope that matches winning — `HOST[:PORT]`, `HOST[:PORT]/NAMESPACE`,
//! `HOST[:PORT]/REPOSITORY`, `*.DOMAIN` for every host under a domain, and `oci:PATH` for a
//! layout (and the layouts below it). Platform teams know that shape and where it sits; it maps
//! one requirement to a scope, which is what a pull needs, unlike cosign's `ClusterImagePolicy`
//! (a Kubernetes resource for an admission controller, globs over image references, and
//! authorities that this pull, running inside the pod, has no use for). The requirement types
//! differ from containers' (`signedBy`, `sigstoreSigned` check signatures over the manifest
//! digest); an OMS signature covers the files, so this is a file of its own:
//!
//! ```json
//! {
//!   "default": {"mode": "enforce", "keys": ["/etc/zoo-oci/keys/platform.pub"]},
//!   "scopes": {
//!     "registry.example.com/vision": {"mode": "enforce", "keys": ["vision.pub", "roots.pem"]},
//!     "registry.example.com/scratch": {"mode": "warn", "keys": ["vision.pub"]},
//!     "localhost:5000": {"mode": "off"}
//!   }
//! }
//! ```
//!
//! `enforce`: a signature by one of the keys (or by a certificate chaining to one of the root
//! files) must cover the suite, or the pull fails. `warn`: the same check, but a failure is a
//! warning and the pull goes on. `off`: no check. Key paths are relative to the policy file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::reference::Location;

/// Where the policy is looked for when none is named: `$ZOO_OCI_POLICY`, the user's
/// (`$XDG_CONFIG_HOME/zoo-oci/policy.json`, else `~/.config/zoo-oci/policy.json`), then the
/// system's, which an init container mounts from a ConfigMap or Secret.
pub const SYSTEM_POLICY: &str = "/etc/zoo-oci/policy.json";

/// What a pull does about signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Refuse a suite no trusted signature covers.
    Enforce,
    /// Check, warn when no trusted signature covers it, pull anyway.
    Warn,
    /// Do not check.
    Off,
}

/// The requirement of one scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// What to do.
    pub mode: Mode,
    /// PEM public keys or root certificates, absolute.
    pub keys: Vec<PathBuf>,
    /// The scope that chose it (`default` for none), for messages.
    pub scope: String,
    /// The policy file it comes from.
    pub file: PathBuf,
}

/// A policy file, read.
#[derive(Debug, Clone)]
pub struct Policy {
    default: Requirement,
    scopes: BTreeMap<String, Requirement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default: Option<Entry>,
    #[serde(default)]
    scopes: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    mode: Mode,
    #[serde(default)]
    keys: Vec<PathBuf>,
}

impl Policy {
    /// Reads and checks a policy file: every scope well-formed, every checking mode with keys.
    /// The keys themselves are read when a pull needs them.
    pub fn read(path: &Path) -> Result<Policy> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("read the signature policy", path, e))?;
        let shown = path.display().to_string();
        let file: File = serde_json::from_slice(&bytes).map_err(|e| {
            Error::usage(format!("{shown} is not a zoo-oci signature policy: {e}"))
                .with_hint("see the README's \"Signing and verifying\" for the file's shape")
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let requirement = |scope: &str, entry: Entry| -> Result<Requirement> {
            if entry.mode != Mode::Off && entry.keys.is_empty() {
                return Err(Error::usage(format!("{shown}: scope {scope:?} checks signatures but names no key"))
                    .with_hint("add \"keys\": [\"PUB.pem\"], or make it \"mode\": \"off\""));
            }
            let keys = entry.keys.into_iter().map(|k| if k.is_absolute() { k } else { base.join(k) }).collect();
            Ok(Requirement { mode: entry.mode, keys, scope: scope.to_string(), file: path.to_path_buf() })
        };
        let default = match file.default {
            Some(entry) => requirement("default", entry)?,
            None => Requirement { mode: Mode::Off, keys: Vec::new(), scope: "default".into(), file: path.into() },
        };
        let mut scopes = BTreeMap::new();
        for (scope, entry) in file.scopes {
            check_scope(&scope).map_err(|why| Error::usage(format!("{shown}: scope {scope:?} {why}")))?;
            scopes.insert(scope.clone(), requirement(&scope, entry)?);
        }
        Ok(Policy { default, scopes })
    }

    /// The policy `explicit` names, else the first found where [`SYSTEM_POLICY`] says; none
    /// when there is no file (every pull then checks only what it is asked to).
    pub fn find(explicit: Option<&Path>) -> Result<Option<Policy>> {
        if let Some(path) = explicit {
            return Policy::read(path).map(Some);
        }
        if let Some(path) = std::env::var_os("ZOO_OCI_POLICY").filter(|v| !v.is_empty()) {
            return Policy::read(Path::new(&path)).map(Some);
        }
        let user = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|config| config.join("zoo-oci/policy.json"));
        for path in user.into_iter().chain([PathBuf::from(SYSTEM_POLICY)]) {
            if path.is_file() {
                return Policy::read(&path).map(Some);
            }
        }
        Ok(None)
    }

    /// The requirement for a suite at `location`: its most specific scope's, else the default.
    pub fn requirement(&self, location: &Location) -> &Requirement {
        self.scopes
            .iter()
            .filter_map(|(scope, r)| specificity(scope, location).map(|s| (s, r)))
            .max_by_key(|(s, _)| *s)
            .map_or(&self.default, |(_, r)| r)
    }
}

fn check_scope(scope: &str) -> std::result::Result<(), &'static str> {
    if let Some(path) = scope.strip_prefix("oci:") {
        return match path.is_empty() {
            true => Err("names no layout path"),
            false => Ok(()),
        };
    }
    let host = scope.split('/').next().unwrap_or_default();
    if scope.is_empty() || host.is_empty() || scope.ends_with('/') || scope.contains("//") {
        return Err("is not HOST[:PORT][/REPOSITORY], *.DOMAIN or oci:PATH");
    }
    if scope.contains(':') && scope.split('/').skip(1).any(|part| part.contains(':') || part.contains('@')) {
        return Err("names a tag or digest; scopes are registries and repositories");
    }
    if host.starts_with("*.") && scope.contains('/') {
        return Err("has a wildcard host and a path; a wildcard scope is a domain only");
    }
    Ok(())
}

/// How specifically `scope` matches `location`, or `None`: a longer match is more specific,
/// and an exact or prefix match beats a wildcard, as in containers' policy.
fn specificity(scope: &str, location: &Location) -> Option<(u8, usize)> {
    match location {
        Location::Layout { path, .. } => {
            let scoped = Path::new(scope.strip_prefix("oci:")?);
            let (scoped, path) = (absolute(scoped), absolute(path));
            path.starts_with(&scoped).then(|| (1, scoped.as_os_str().len()))
        }
        Location::Registry { registry, repository, .. } => {
            if let Some(domain) = scope.strip_prefix("*.") {
                let host = registry.split(':').next().unwrap_or(registry);
                return host.ends_with(&format!(".{domain}")).then_some((0, scope.len()));
            }
            let full = format!("{registry}/{repository}");
            let matches = full == scope || full.starts_with(&format!("{scope}/"));
            matches.then_some((1, scope.len()))
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<Policy> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        std::fs::write(&path, json).unwrap();
        Policy::read(&path)
    }

    fn chosen(policy: &Policy, location: &str) -> String {
        policy.requirement(&Location::parse(location).unwrap()).scope.clone()
    }

    #[test]
    fn the_most_specific_scope_wins() {
        let p = policy(
            r#"{"default": {"mode": "off"}, "scopes": {
                "reg.example.com": {"mode": "warn", "keys": ["a.pub"]},
                "reg.example.com/vision": {"mode": "enforce", "keys": ["b.pub"]},
                "reg.example.com/vision/resnet": {"mode": "off"},
                "*.example.com": {"mode": "enforce", "keys": ["c.pub"]},
                "localhost:5000": {"mode": "off"},
                "oci:/srv/zoo": {"mode": "enforce", "keys": ["/keys/d.pub"]}
            }}"#,
        )
        .unwrap();
        assert_eq!(chosen(&p, "reg.example.com/vision/yolo:1"), "reg.example.com/vision");
        assert_eq!(chosen(&p, "reg.example.com/vision/resnet:1"), "reg.example.com/vision/resnet");
        assert_eq!(chosen(&p, "reg.example.com/visionary/x:1"), "reg.example.com");
        assert_eq!(chosen(&p, "other.example.com/x:1"), "*.example.com");
        assert_eq!(chosen(&p, "localhost:5000/x:1"), "localhost:5000");
        assert_eq!(chosen(&p, "localhost:5001/x:1"), "default");
        assert_eq!(chosen(&p, "oci:/srv/zoo/team:1"), "oci:/srv/zoo");
        assert_eq!(chosen(&p, "oci:/srv/zoom:1"), "default");
        let r = p.requirement(&Location::parse("reg.example.com/vision/yolo:1").unwrap());
        assert_eq!(r.mode, Mode::Enforce);
        assert!(r.keys[0].is_absolute() && r.keys[0].ends_with("b.pub"), "{:?}", r.keys);
    }

    #[test]
    fn a_broken_policy_is_refused_with_its_reason() {
        let cases = [
            (r#"{"default": {"mode": "strict"}}"#, "unknown variant"),
            (r#"{"default": {"mode": "enforce"}}"#, "names no key"),
            (r#"{"scopes": {"reg.io/x:1": {"mode": "off"}}}"#, "tag or digest"),
            (r#"{"scopes": {"*.io/x": {"mode": "off"}}}"#, "wildcard"),
            (r#"{"defaults": {"mode": "off"}}"#, "unknown field"),
        ];
        for (json, says) in cases {
            let e = policy(json).unwrap_err().to_string();
            assert!(e.contains(says), "{json}: {e}");
        }
        assert_eq!(policy("{}").unwrap().default.mode, Mode::Off);
    }
}
