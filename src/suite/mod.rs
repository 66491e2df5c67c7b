//! A model suite on disk (DESIGN §1): find and read its descriptor, check every declared path,
//! and plan the layers it packs into, one per file class.

pub mod card;
pub mod files;
pub mod inspect;
pub mod license;
pub mod problems;
pub mod scan;
pub mod spec;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use files::Links;
pub use problems::{Problem, Problems, Severity};
pub use spec::{ModelPath, SuiteSpec};

use crate::error::{Error, Result};
use crate::taxonomy;

/// Where a suite folder holds its OpenSSF Model Signing signature (`model_signing`'s default
/// name): not one of the suite's files, but its signature, which `push` stores as a referrer
/// and a verified `pull` writes back.
pub const SIGNATURE_FILE: &str = "model.sig";
/// The file classes, one or more layers each (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Model files, one layer per variant.
    Model,
    /// Scripts.
    Scripts,
    /// Jupyter notebooks.
    Notebooks,
    /// A shipped dataset, one layer each.
    Dataset,
    /// The README, stored raw.
    Readme,
    /// The licence text, stored raw.
    License,
    /// The descriptor and other documents.
    Docs,
}

impl Class {
    /// Every class, in layer order.
    pub const ALL: [Class; 7] =
        [Class::Model, Class::Scripts, Class::Notebooks, Class::Dataset, Class::Readme, Class::License, Class::Docs];

    /// The name used in annotations and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Model => "model",
            Class::Scripts => "scripts",
            Class::Notebooks => "notebooks",
            Class::Dataset => "dataset",
            Class::Readme => "readme",
            Class::License => "license",
            Class::Docs => "docs",
        }
    }

    /// The classes a name in `--only` stands for: one class, or `code` for scripts and
    /// notebooks (KitOps's word for both).
    pub fn parse_group(name: &str) -> Result<Vec<Class>> {
        match name.trim().to_ascii_lowercase().as_str() {
            "code" => Ok(vec![Class::Scripts, Class::Notebooks]),
            _ => Class::parse(name).map(|c| vec![c]),
        }
    }

    /// The classes a list of `--only` names stands for.
    pub fn parse_groups(names: &[String]) -> Result<std::collections::BTreeSet<Class>> {
        let mut classes = std::collections::BTreeSet::new();
        for name in names {
            classes.extend(Class::parse_group(name)?);
        }
        Ok(classes)
    }

    /// Parses a class name as written in `--only` (singular or plural).
    pub fn parse(name: &str) -> Result<Class> {
        let found = match name.trim().to_ascii_lowercase().as_str() {
            "model" | "models" => Class::Model,
            "scripts" | "script" => Class::Scripts,
            "notebooks" | "notebook" => Class::Notebooks,
            "dataset" | "datasets" => Class::Dataset,
            "readme" => Class::Readme,
            "license" | "licence" => Class::License,
            "docs" | "doc" => Class::Docs,
            _ => {
                let known: Vec<&str> = Class::ALL.iter().map(|c| c.as_str()).collect();
                return Err(Error::usage(format!("unknown class {name:?}"))
                    .with_hint(format!("the classes are {} (and code: scripts and notebooks)", known.join(", "))));
            }
        };
        Ok(found)
    }
}

impl std::fmt::Display for Class {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tar entry or raw file of a layer, by suite-relative path (`/`-separated; a folder ends
/// with `/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Suite-relative path.
    pub path: String,
    /// Folder, or file with its size and executable bit.
    pub kind: EntryKind,
}

impl Entry {
    /// A file's size; 0 for a folder.
    pub fn size(&self) -> u64 {
        match self.kind {
            EntryKind::File { size, .. } => size,
            EntryKind::Dir => 0,
        }
    }
}

/// What an [`Entry`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A folder.
    Dir,
    /// A regular file.
    File {
        /// Size in bytes when the suite was read.
        size: u64,
        /// Whether any execute bit is set (packed as 0755, else 0644).
        executable: bool,
    },
}

/// How a layer stores its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerContent {
    /// A tar of these entries, sorted, parents before children.
    Tar(Vec<Entry>),
    /// One file stored as-is.
    Raw(Entry),
}

impl LayerContent {
    /// The files (not folders) of the layer.
    pub fn files(&self) -> impl Iterator<Item = &Entry> {
        let entries: &[Entry] = match self {
            LayerContent::Tar(e) => e,
            LayerContent::Raw(e) => std::slice::from_ref(e),
        };
        entries.iter().filter(|e| matches!(e.kind, EntryKind::File { .. }))
    }
}

/// One layer to pack.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerPlan {
    /// Its class.
    pub class: Class,
    /// The variant (model) or dataset name.
    pub name: Option<String>,
    /// `org.cncf.model.filepath`: the path, or the longest common folder of several.
    pub filepath: String,
    /// The model entry of a model layer.
    pub model: Option<spec::ModelEntry>,
    /// What goes in.
    pub content: LayerContent,
    /// Model layers: the facts read from its model files, by path.
    pub facts: BTreeMap<String, inspect::Facts>,
    /// A model layer holding the files of a variant that are not weights (configs, tokenizer,
    /// shard index), beside the variant's raw weight layers: a ModelPack `weight.config` layer.
    pub weight_config: bool,
}

impl Suite {
    /// The facts of a model variant as a whole ([`inspect::combine`] over its layers' files).
    pub fn variant_facts(&self, name: &str) -> Option<inspect::Facts> {
        let layers = self.layers.iter().filter(|l| l.class == Class::Model && l.name.as_deref() == Some(name));
        inspect::combine(layers.flat_map(|l| l.facts.values()))
    }
}

/// A suite read from disk and found valid enough to pack.
#[derive(Debug, Clone)]
pub struct Suite {
    /// The suite folder.
    pub root: PathBuf,
    /// The descriptor, normalised: defaults filled in, task canonical.
    pub spec: SuiteSpec,
    /// The task's modality, when the task is known.
    pub modality: Option<String>,
    /// The layers, in manifest order.
    pub layers: Vec<LayerPlan>,
}

/// The result of reading a suite: the suite when it could be planned, and every finding.
#[derive(Debug)]
pub struct Checked {
    /// The suite, unless an error stopped the plan.
    pub suite: Option<Suite>,
    /// Everything found, errors and warnings.
    pub problems: Problems,
}

/// A folder name made from a suite name that may come from another tool: path separators and
/// leading dots removed, so it names one folder here.
pub fn safe_folder_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c == '/' || c == '\\' || c.is_control() { '-' } else { c }).collect();
    let cleaned = cleaned.trim_start_matches('.').trim();
    if cleaned.is_empty() { "suite".into() } else { cleaned.to_string() }
}

/// Default licence file names, tried in order when `license_file` is not set.
const LICENSE_DEFAULTS: [&str; 4] = ["LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"];

/// Reads the suite in `dir` and checks it; `links` says whether symbolic links are refused or
/// read through. Errors only when `dir` itself cannot be read; everything wrong inside the suite
/// is a [`Problem`].
pub fn check(dir: &Path, links: Links) -> Result<Checked> {
    let meta = fs::metadata(dir)
        .map_err(|e| Error::io("read the suite folder", dir, e).with_hint("name the folder that holds zoo.yaml"))?;
    if !meta.is_dir() {
        return Err(Error::failed(format!("{} is not a folder", dir.display()))
            .with_hint("name the suite folder, the one that holds zoo.yaml"));
    }
    let mut problems = Problems::default();
    let Some(descriptor_file) = spec::DESCRIPTOR_NAMES.iter().find(|n| dir.join(n).is_file()) else {
        problems.error(
            dir.display().to_string(),
            "no zoo.yaml here",
            Some("write a zoo.yaml (see the README's descriptor reference) or run zoo-oci init".into()),
        );
        return Ok(Checked { suite: None, problems });
    };
    let path = dir.join(descriptor_file);
    let text = match fs::read(&path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                problems.error(*descriptor_file, "not valid UTF-8", Some("save the file as UTF-8".into()));
                return Ok(Checked { suite: None, problems });
            }
        },
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let Some(descriptor) = spec::parse(&text, descriptor_file, &mut problems) else {
        return Ok(Checked { suite: None, problems });
    };
    let suite = Planner::new(dir, descriptor_file, links, &mut problems).plan(descriptor);
    Ok(Checked { suite, problems })
}

struct Planner<'a> {
    root: &'a Path,
    descriptor_file: &'a str,
    links: Links,
    problems: &'a mut Problems,
    /// Every shipped file, and the field that declares it: a file is shipped once.
    owners: BTreeMap<String, String>,
    /// With [`Links::Follow`], the canonical folders being walked, to tell a link that loops.
    walking: Vec<PathBuf>,
    /// Links refused so far, for the one message that says how to read through them.
    refused_links: usize,
    /// Every file of the suite (links included), listed once for the globs that need it.
    listing: Option<Vec<String>>,
    /// Walk for the names only (the search for undeclared files): files are not stat'ed.
    names_only: bool,
}

impl<'a> Planner<'a> {
    fn new(root: &'a Path, descriptor_file: &'a str, links: Links, problems: &'a mut Problems) -> Self {
        Planner {
            root,
            descriptor_file,
            links,
            problems,
            owners: BTreeMap::new(),
            walking: Vec::new(),
            refused_links: 0,
            listing: None,
            names_only: false,
        }
    }

    fn at(&self, field: &str) -> String {
        format!("{}: {field}", self.descriptor_file)
    }

    fn plan(mut self, mut d: SuiteSpec) -> Option<Suite> {
        let modality = self.canonical_task(&mut d);
        self.unique_names(d.models.iter().map(|m| m.name.as_str()), "models", "variant");
        self.unique_names(d.datasets.iter().map(|s| s.name.as_str()), "datasets", "dataset");
        match &d.license {
            Some(license) => self.license("license", license),
            None => self.problems.warning(
                self.at("license"),
                "no licence declared: users cannot tell whether they may use the model",
                Some("add license: with an SPDX identifier, e.g. license: Apache-2.0".into()),
            ),
        }
        for (i, dataset) in d.datasets.iter().enumerate() {
            if let Some(license) = &dataset.license {
                self.license(&format!("datasets[{i}].license"), license);
            }
        }
        if d.summary.is_none() {
            self.problems.warning(self.at("summary"), "no summary: registry UIs and the index show it", None);
        }

        let mut layers = Vec::new();
        for (i, model) in d.models.iter().enumerate() {
            let errors_before = self.problems.error_count();
            let (entries, paths) = self.collect_variant(i, &model.path);
            let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
            let single_file = match (paths.as_slice(), entries.as_slice()) {
                ([path], [entry]) if entry.path == *path && matches!(entry.kind, EntryKind::File { .. }) => {
                    Some(entry.clone())
                }
                _ => None,
            };
            // Facts, and what check says of them, are the variant's as a whole: the shards of
            // a checkpoint are one model, whatever layers they ship in.
            let facts = model_facts(self.root, entries.iter());
            // A variant whose paths were refused holds nothing for that reason, already said.
            if self.problems.error_count() == errors_before {
                self.report_broken_models(i, model, &entries, &facts);
            }
            self.compare_facts(i, model, &facts);
            self.check_shard_index(i, &entries);
            let variant = match single_file {
                // A variant that is one file ships as that file (a raw layer), not a tar of it.
                Some(entry) => vec![raw_layer(Class::Model, entry)],
                None => split_variant(&paths, entries, &facts),
            };
            layers.extend(variant.into_iter().map(|layer| LayerPlan {
                name: Some(model.name.clone()),
                model: Some(model.clone()),
                facts:
                    layer.content.files().filter_map(|e| Some((e.path.clone(), facts.get(&e.path)?.clone()))).collect(),
                ..layer
            }));
        }
        let scripts = d.scripts.declared();
        self.gather(&mut layers, Class::Scripts, &scripts);
        let notebooks: Vec<(String, &str)> =
            d.notebooks.iter().enumerate().map(|(i, p)| (format!("notebooks[{i}]"), p.as_str())).collect();
        self.gather(&mut layers, Class::Notebooks, &notebooks);
        for (i, set) in d.datasets.iter().enumerate() {
            if let Some(path) = &set.path {
                let entries = self.collect(&format!("datasets[{i}].path"), path);
                layers.push(tar_layer(Class::Dataset, Some(set.name.clone()), None, &[path], entries));
            }
        }
        let readme = d.readme.clone().unwrap_or_else(|| "README.md".into());
        match self.raw_file("readme", &readme) {
            Some(entry) => layers.push(raw_layer(Class::Readme, entry)),
            // A README that is there but refused (a link) is not missing.
            None if d.readme.is_none() && fs::symlink_metadata(self.root.join(&readme)).is_err() => {
                // raw_file reported "missing"; say what the default means.
                self.problems.error(
                    self.at("readme"),
                    "a suite needs a README: README.md is missing",
                    Some("write README.md (task, model details, inputs/outputs, usage, licence) or set readme:".into()),
                );
            }
            None => {}
        }
        d.readme = Some(readme);
        let license_file = d
            .license_file
            .clone()
            .or_else(|| LICENSE_DEFAULTS.iter().find(|n| self.root.join(n).is_file()).map(|n| n.to_string()));
        if let Some(path) = &license_file
            && let Some(entry) = self.raw_file("license_file", path)
        {
            layers.push(raw_layer(Class::License, entry));
        }
        d.license_file = license_file;
        let mut docs: Vec<(String, &str)> = vec![("the descriptor".to_string(), self.descriptor_file)];
        docs.extend(d.docs.iter().enumerate().map(|(i, p)| (format!("docs[{i}]"), p.as_str())));
        self.gather(&mut layers, Class::Docs, &docs);

        self.report_undeclared();
        if self.refused_links > 0 {
            self.problems.error(
                self.root.display().to_string(),
                format!(
                    "the folder holds symbolic links ({} where files are declared); a suite holds files, not links",
                    self.refused_links
                ),
                Some(format!(
                    "pass {} to pack the files the links point to (a Hugging Face cache snapshot is made of \
                     links into ../../blobs/), or replace each link with its file",
                    files::DEREFERENCE_FLAG
                )),
            );
        }
        if self.problems.error_count() > 0 {
            return None;
        }
        Some(Suite { root: self.root.to_path_buf(), spec: d, modality, layers })
    }

    /// Warns about a variant nobody could load: an empty folder, or model files that are empty,
    /// truncated, corrupt or not the format their extension says (the readers `init` uses).
    fn report_broken_models(
        &mut self,
        i: usize,
        model: &spec::ModelEntry,
        entries: &[Entry],
        facts: &BTreeMap<String, inspect::Facts>,
    ) {
        let at = self.at(&format!("models[{i}].path"));
        if entries.iter().all(|e| matches!(e.kind, EntryKind::Dir)) {
            self.problems.warning(
                at.clone(),
                match &model.path {
                    ModelPath::One(folder) => {
                        format!("the variant {} holds no file: {folder} is an empty folder", model.name)
                    }
                    ModelPath::Many(_) => {
                        format!("the variant {} holds no file: {} name empty folders", model.name, model.path)
                    }
                },
                Some("put the model files there, or remove the variant".into()),
            );
        }
        for (path, facts) in facts {
            if let Some(defect) = &facts.defect {
                self.problems.warning(
                    at.clone(),
                    format!("{path} {defect}"),
                    Some(format!("replace {path} with a complete copy of the model, or fix its name")),
                );
            }
        }
    }

    /// Warns where the descriptor says something the model file contradicts: a README must
    /// not lie about its model.
    fn compare_facts(&mut self, i: usize, model: &spec::ModelEntry, files: &BTreeMap<String, inspect::Facts>) {
        let Some(facts) = inspect::combine(files.values()).filter(|f| f.recognised == inspect::Recognised::Content)
        else {
            return;
        };
        let shards =
            files.values().filter(|f| f.recognised == inspect::Recognised::Content && f.format == facts.format);
        let (file, holds) = match shards.count() {
            1 => {
                let main = files
                    .iter()
                    .find(|(_, f)| f.recognised == inspect::Recognised::Content && f.format == facts.format);
                (main.map(|(p, _)| p.clone()).unwrap_or_default(), "holds")
            }
            n => (format!("its {n} {} files", facts.format), "hold"),
        };
        let same_family =
            |a: &str, b: &str| a == b || matches!((a, b), ("pytorch", "torchscript") | ("torchscript", "pytorch"));
        if !facts.framework.is_empty() && !same_family(&model.framework, &facts.framework) {
            self.problems.warning(
                self.at(&format!("models[{i}].framework")),
                format!("says {}, but {file} is {}", model.framework, facts.format),
                Some(format!("set framework: {}", facts.framework)),
            );
        }
        if let (Some(declared), Some(read)) = (model.opset, facts.opset)
            && declared != read
        {
            self.problems.warning(
                self.at(&format!("models[{i}].opset")),
                format!("says {declared}, but {file} imports opset {read}"),
                Some(format!("set opset: {read}")),
            );
        }
        if let (Some(declared), Some(read)) = (model.params, facts.params)
            && read > 0
            && (declared as f64 - read as f64).abs() / read as f64 > 0.01
        {
            self.problems.warning(
                self.at(&format!("models[{i}].params")),
                format!("says {declared}, but {file} {holds} {read} weights"),
                Some("check the count; params counts the weight tensors' elements".into()),
            );
        }
        if let (Some(declared), Some(read)) = (&model.precision, &facts.precision)
            && !declared.eq_ignore_ascii_case(read)
        {
            self.problems.warning(
                self.at(&format!("models[{i}].precision")),
                format!("says {declared}, but most of {file}'s weights are {read}"),
                Some(format!("set precision: {read}")),
            );
        }
    }

    /// A sharded checkpoint's index (`model.safetensors.index.json`, `pytorch_model.bin.index.json`)
    /// names the shards a loader opens: one missing from the variant is an error (the model
    /// cannot load); safetensors shards whose tensors add up to another size than the index's
    /// `metadata.total_size` get a warning (a truncated or stray shard).
    fn check_shard_index(&mut self, i: usize, entries: &[Entry]) {
        let at = self.at(&format!("models[{i}].path"));
        let files: BTreeMap<&str, u64> = entries
            .iter()
            .filter_map(|e| match e.kind {
                EntryKind::File { size, .. } => Some((e.path.as_str(), size)),
                EntryKind::Dir => None,
            })
            .collect();
        for (index_path, size) in &files {
            if !index_path.ends_with(".index.json") || *size > 64 * 1024 * 1024 {
                continue;
            }
            let Ok(bytes) = fs::read(self.root.join(index_path)) else { continue };
            let Ok(index) = serde_json::from_slice::<ShardIndex>(&bytes) else { continue };
            let folder = index_path.rsplit_once('/').map_or(String::new(), |(dir, _)| format!("{dir}/"));
            let shards: std::collections::BTreeSet<String> =
                index.weight_map.values().map(|shard| format!("{folder}{shard}")).collect();
            let missing: Vec<&str> =
                shards.iter().filter(|s| !files.contains_key(s.as_str())).map(String::as_str).collect();
            if !missing.is_empty() {
                self.problems.error(
                    at.clone(),
                    format!("{index_path} names shards the variant does not hold: {}", missing.join(", ")),
                    Some(
                        "add the missing shards (a checkpoint loads only whole), or declare the folder that holds them"
                            .into(),
                    ),
                );
                continue;
            }
            let total = index.metadata.as_ref().and_then(|m| m.get("total_size")).and_then(serde_json::Value::as_u64);
            if let Some(total) = total
                && shards.iter().all(|s| s.ends_with(".safetensors"))
                && let Some(held) =
                    shards.iter().map(|s| safetensors_data_bytes(&self.root.join(s))).sum::<Option<u64>>()
                && held != total
            {
                self.problems.warning(
                    at.clone(),
                    format!("{index_path} says the shards hold {total} bytes of tensors, but they hold {held}"),
                    Some("a shard is truncated or from another checkpoint: download the checkpoint again".into()),
                );
            }
        }
    }

    fn canonical_task(&mut self, d: &mut SuiteSpec) -> Option<String> {
        let task = d.task.as_ref()?;
        match taxonomy::canonical(task) {
            Some(c) => {
                d.task = Some(c.task);
                Some(c.modality)
            }
            None => {
                let hint = taxonomy::unknown_task_hint(task);
                self.problems.error(self.at("task"), format!("unknown task {task:?}"), Some(hint));
                None
            }
        }
    }

    /// A `license:` must be an SPDX expression; `other` is allowed with a warning.
    fn license(&mut self, field: &str, text: &str) {
        match license::judge(text) {
            license::Verdict::Valid => {}
            license::Verdict::Other => self.problems.warning(
                self.at(field),
                "`other` names no licence a reader can look up",
                Some(
                    "write LicenseRef-NAME for a licence SPDX does not list, and ship its text with license_file"
                        .into(),
                ),
            ),
            license::Verdict::Invalid { why, hint } => self.problems.error(self.at(field), why, Some(hint)),
        }
    }

    fn unique_names<'n>(&mut self, names: impl Iterator<Item = &'n str>, field: &str, what: &str) {
        let mut seen = BTreeMap::new();
        for (i, name) in names.enumerate() {
            if let Some(first) = seen.insert(name, i) {
                self.problems.error(
                    self.at(&format!("{field}[{i}].name")),
                    format!("duplicate {what} name {name:?} (also {field}[{first}])"),
                    Some(format!("give each {what} its own name: `pull --{what}` selects by it")),
                );
            }
        }
    }

    /// One layer gathering several declared paths (scripts, notebooks, docs).
    fn gather(&mut self, layers: &mut Vec<LayerPlan>, class: Class, declared: &[(String, &str)]) {
        if declared.is_empty() {
            return;
        }
        let mut entries = Vec::new();
        for (field, path) in declared {
            entries.extend(self.collect(field, path));
        }
        let paths: Vec<&str> = declared.iter().map(|(_, p)| *p).collect();
        layers.push(tar_layer(class, None, None, &paths, entries));
    }

    fn raw_file(&mut self, field: &str, path: &str) -> Option<Entry> {
        let entries = self.collect(field, path);
        match entries.as_slice() {
            [] => None,
            [one] if matches!(one.kind, EntryKind::File { .. }) => Some(one.clone()),
            _ => {
                self.problems.error(self.at(field), format!("{path} is a folder; {field} must name one file"), None);
                None
            }
        }
    }

    /// The files of a variant, from its one path or its several paths and globs (each reported
    /// under its own field, `models[0].path[2]`), and the paths its layer's `filepath` is the
    /// common folder of: the declared paths, and the files each glob matched.
    fn collect_variant(&mut self, i: usize, path: &ModelPath) -> (Vec<Entry>, Vec<String>) {
        let owner = format!("models[{i}].path");
        let mut entries = Vec::new();
        let mut paths = Vec::new();
        if self.problems.has_error_at(&self.at(&owner)) {
            return (entries, paths);
        }
        for (j, declared) in path.entries().iter().enumerate() {
            let field = match path {
                ModelPath::One(_) => owner.clone(),
                ModelPath::Many(_) => format!("{owner}[{j}]"),
            };
            // A file whose name looks like a glob (`weights[1].bin`) is that file.
            let literal = self.root.join(declared.trim_start_matches("./"));
            if ModelPath::is_glob(declared) && fs::symlink_metadata(literal).is_err() {
                for file in self.glob(&field, declared) {
                    entries.extend(self.collect_as(&field, &owner, &file));
                    paths.push(file);
                }
            } else {
                entries.extend(self.collect_as(&field, &owner, declared));
                paths.push(declared.clone());
            }
        }
        (entries, paths)
    }

    /// The suite files a variant's glob names: the files it matches, and every file in a folder
    /// it matches (only folders when it ends with `/`). A glob that names nothing is an error,
    /// as a path that does not exist is.
    fn glob(&mut self, field: &str, pattern: &str) -> Vec<String> {
        if self.problems.has_error_at(&self.at(field)) {
            return Vec::new();
        }
        let folders_only = pattern.ends_with('/');
        let matcher = match globset::GlobBuilder::new(pattern.trim_start_matches("./").trim_end_matches('/'))
            .literal_separator(true)
            .build()
        {
            Ok(glob) => glob.compile_matcher(),
            Err(e) => {
                self.problems.error(
                    self.at(field),
                    format!("{pattern:?} is not a valid glob: {}", e.kind()),
                    Some("'*' and '?' match within a folder, '**' across folders, [abc] and {a,b} as usual".into()),
                );
                return Vec::new();
            }
        };
        if self.listing.is_none() {
            let listing = match files::list(self.root, self.links) {
                Ok(listing) => listing,
                Err(e) => {
                    self.problems.error(self.at(field), format!("cannot list the suite folder: {e}"), None);
                    return Vec::new();
                }
            };
            // Links are listed as files here: collecting one reports it, or reads through it.
            let mut all = listing.files;
            all.extend(listing.links.into_iter().map(|(path, _)| path));
            all.extend(listing.unfollowable.into_iter().map(|(path, _)| path));
            all.sort();
            self.listing = Some(all);
        }
        let listing = self.listing.as_deref().unwrap_or_default();
        let matched: Vec<String> = listing
            .iter()
            .filter(|file| {
                let mut folders = file.match_indices('/').map(|(at, _)| &file[..at]);
                (!folders_only && matcher.is_match(file.as_str())) || folders.any(|folder| matcher.is_match(folder))
            })
            .filter(|file| file.as_str() != self.descriptor_file)
            .cloned()
            .collect();
        if matched.is_empty() {
            self.problems.error(
                self.at(field),
                format!("{pattern} matches no file"),
                Some(format!("globs are relative to {}; '*' does not cross a '/', '**' does", self.root.display())),
            );
        }
        matched
    }

    /// The files and folders under one declared path, after checking it stays in the suite,
    /// exists, and holds no links. Reports problems and returns what it could read.
    fn collect(&mut self, field: &str, declared: &str) -> Vec<Entry> {
        self.collect_as(field, field, declared)
    }

    /// [`Self::collect`] for a path declared under `field` on behalf of `owner`: a file that
    /// several paths of one owner name (a variant's glob and path) is shipped once, silently.
    fn collect_as(&mut self, field: &str, owner: &str, declared: &str) -> Vec<Entry> {
        if self.problems.has_error_at(&self.at(field)) {
            return Vec::new(); // the schema already said what is wrong with this path
        }
        let rel = declared.trim_start_matches("./").trim_end_matches('/');
        let lexical_ok = !declared.starts_with('/')
            && !declared.contains('\\')
            && (rel.is_empty() || rel.split('/').all(|c| c != ".." && c != "." && !c.is_empty()));
        if !lexical_ok {
            self.problems.error(
                self.at(field),
                format!("{declared:?} leaves the suite folder"),
                Some("paths are relative to the suite folder and may not contain .. or start with /".into()),
            );
            return Vec::new();
        }
        // Every folder on the way must be a real folder: a link could lead out of the suite.
        let mut walked = PathBuf::new();
        let components: Vec<&str> = if rel.is_empty() { Vec::new() } else { rel.split('/').collect() };
        for (i, component) in components.iter().enumerate() {
            walked.push(component);
            match fs::symlink_metadata(self.root.join(&walked)) {
                Err(_) => {
                    self.problems.error(
                        self.at(field),
                        format!("{declared} does not exist"),
                        Some(format!("create it in {} or fix the path", self.root.display())),
                    );
                    return Vec::new();
                }
                Ok(m) if m.file_type().is_symlink() => match self.links {
                    Links::Refuse => {
                        self.link_error(&walked);
                        return Vec::new();
                    }
                    Links::Follow => match files::follow(&self.root.join(&walked)) {
                        Ok(files::Target::File) if i + 1 < components.len() => {
                            self.problems.error(self.at(field), format!("{declared} does not exist"), None);
                            return Vec::new();
                        }
                        Ok(_) => {}
                        Err(why) => {
                            self.problems.error(walked.display().to_string(), why, None);
                            return Vec::new();
                        }
                    },
                },
                Ok(m) if i + 1 < components.len() && !m.is_dir() => {
                    self.problems.error(self.at(field), format!("{declared} does not exist"), None);
                    return Vec::new();
                }
                Ok(_) => {}
            }
        }
        let full = self.root.join(rel);
        let mut out = Vec::new();
        if full.is_dir() {
            // Folders are written with their trailing slash; the root folder is "./".
            self.walk_following(owner, &full, rel, &mut out);
        } else {
            if declared.ends_with('/') {
                self.problems.error(
                    self.at(field),
                    format!("{declared} is a file, not a folder"),
                    Some("drop the trailing /".into()),
                );
                return Vec::new();
            }
            if let Some(e) = self.file_entry(owner, &full, rel) {
                out.push(e);
            }
        }
        out
    }

    /// [`Self::walk`], keeping track of the folders being walked when links are followed.
    fn walk_following(&mut self, field: &str, dir: &Path, rel: &str, out: &mut Vec<Entry>) {
        if self.links == Links::Follow {
            match fs::canonicalize(dir) {
                Ok(canonical) => self.walking.push(canonical),
                Err(e) => {
                    self.problems.error(self.at(field), format!("cannot read {}: {e}", dir.display()), None);
                    return;
                }
            }
            self.walk(field, dir, rel, out);
            self.walking.pop();
        } else {
            self.walk(field, dir, rel, out);
        }
    }

    fn walk(&mut self, field: &str, dir: &Path, rel: &str, out: &mut Vec<Entry>) {
        if !rel.is_empty() {
            out.push(Entry { path: format!("{rel}/"), kind: EntryKind::Dir });
        }
        // The directory entry's type costs no system call where the file system reports it (as
        // ext4, xfs, btrfs and tmpfs do): a file is stat'ed once, in `file_entry`, for its size
        // and mode, and a folder not at all. At 100,000 files that halves the scan.
        let listed = fs::read_dir(dir).map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path(), e.file_type()))
                .collect::<Vec<_>>()
        });
        let mut children = match listed {
            Ok(children) => children,
            Err(e) => {
                self.problems.error(self.at(field), format!("cannot read {}: {e}", dir.display()), None);
                return;
            }
        };
        children.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, path, file_type) in children {
            if name.starts_with('.') {
                continue; // hidden files are never shipped (documented in the README)
            }
            let child_rel = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
            match file_type {
                Ok(t) if t.is_symlink() && self.links == Links::Refuse => self.link_error(Path::new(&child_rel)),
                Ok(t) if t.is_symlink() => match files::follow(&path) {
                    Ok(files::Target::File) => out.extend(self.file_entry(field, &path, &child_rel)),
                    Ok(files::Target::Folder(canonical)) if files::leads_back(&path, &canonical, &self.walking) => {
                        self.problems.error(child_rel, files::loop_message(&path), None)
                    }
                    Ok(files::Target::Folder(_)) => self.walk_following(field, &path, &child_rel, out),
                    Err(why) => self.problems.error(child_rel, why, None),
                },
                Ok(t) if t.is_dir() => self.walk_following(field, &path, &child_rel, out),
                Ok(_) if self.names_only => {
                    out.push(Entry { path: child_rel, kind: EntryKind::File { size: 0, executable: false } })
                }
                Ok(_) => out.extend(self.file_entry(field, &path, &child_rel)),
                Err(e) => self.problems.error(child_rel, format!("cannot read: {e}"), None),
            }
        }
    }

    fn file_entry(&mut self, field: &str, full: &Path, rel: &str) -> Option<Entry> {
        // A link here was either refused already or is to be read through.
        let meta = match fs::metadata(full) {
            Ok(m) => m,
            Err(e) => {
                self.problems.error(rel.to_string(), format!("cannot read: {e}"), None);
                return None;
            }
        };
        if !meta.is_file() {
            self.problems.error(
                rel.to_string(),
                "not a regular file or folder",
                Some("a suite holds files and folders only".into()),
            );
            return None;
        }
        if let Some(owner) = self.owners.insert(rel.to_string(), field.to_string()) {
            if owner == field {
                return None; // named twice by one variant's paths and globs: shipped once
            }
            self.problems.error(
                self.at(field),
                format!("{rel} is already declared by {owner}"),
                Some("declare each file once: it is shipped in exactly one layer".into()),
            );
            return None;
        }
        let executable = meta.permissions().mode() & 0o111 != 0;
        Some(Entry { path: rel.to_string(), kind: EntryKind::File { size: meta.len(), executable } })
    }

    fn link_error(&mut self, rel: &Path) {
        self.refused_links += 1;
        let to = files::link_text(&self.root.join(rel));
        // The hint, how to read through links, is said once for all of them (see `plan`).
        self.problems.error(
            rel.display().to_string(),
            format!("is a symbolic link (to {to}); a suite may not hold links"),
            None,
        );
    }

    fn report_undeclared(&mut self) {
        let mut all = Vec::new();
        let mut scratch = Problems::default();
        let mut walker = Planner::new(self.root, self.descriptor_file, self.links, &mut scratch);
        walker.names_only = true;
        walker.walk_following("", self.root, "", &mut all);
        for entry in all {
            // A folder's OMS signature is the suite's signature, carried by push, not a file.
            if matches!(entry.kind, EntryKind::File { .. })
                && !self.owners.contains_key(&entry.path)
                && entry.path != SIGNATURE_FILE
            {
                self.problems.warning(
                    entry.path,
                    "not declared in the descriptor, so it will not be shipped",
                    Some("declare it (models, scripts, notebooks, datasets, docs) or remove it".into()),
                );
            }
        }
    }
}

fn tar_layer(
    class: Class,
    name: Option<String>,
    model: Option<spec::ModelEntry>,
    declared: &[&str],
    entries: Vec<Entry>,
) -> LayerPlan {
    LayerPlan {
        class,
        name,
        filepath: common_folder(declared),
        model,
        content: LayerContent::Tar(with_parents(entries)),
        facts: BTreeMap::new(),
        weight_config: false,
    }
}

/// Files whose facts are worth recording: model formats read from their content, or known model
/// extensions (configs and tokenizers in a model folder are not).
fn model_facts<'e>(root: &Path, entries: impl Iterator<Item = &'e Entry>) -> BTreeMap<String, inspect::Facts> {
    let mut out = BTreeMap::new();
    for entry in entries.filter(|e| matches!(e.kind, EntryKind::File { .. })) {
        let facts = inspect::read(&root.join(&entry.path));
        let ext = entry.path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
        let is_model =
            facts.recognised == inspect::Recognised::Content || inspect::MODEL_EXTENSIONS.contains(&ext.as_str());
        if is_model && !(ext == "xml" && facts.recognised != inspect::Recognised::Content) {
            out.insert(entry.path.clone(), facts);
        }
    }
    out
}

fn raw_layer(class: Class, entry: Entry) -> LayerPlan {
    LayerPlan {
        class,
        name: None,
        filepath: entry.path.clone(),
        model: None,
        content: LayerContent::Raw(entry),
        facts: BTreeMap::new(),
        weight_config: false,
    }
}

/// The bytes of tensor data a safetensors file holds: all but its 8-byte length and its header.
fn safetensors_data_bytes(path: &Path) -> Option<u64> {
    use std::io::Read as _;
    let mut file = fs::File::open(path).ok()?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).ok()?;
    let size = file.metadata().ok()?.len();
    size.checked_sub(8)?.checked_sub(u64::from_le_bytes(len))
}

/// A file of a model variant this big ships as a layer of its own whatever its name: the
/// external data of an ONNX graph, a framework's unnamed shards. Below it a file costs a
/// fraction of a second to send again; above it, deduplication and parallel transfer pay.
pub const OWN_LAYER_SIZE: u64 = 16 * 1024 * 1024;

/// The layers of a variant of several files (DESIGN §2, the format-at-scale issue): each
/// weight file its own raw layer, so that a shard is stored once across versions and shards
/// move side by side; the other files (configs, tokenizer, shard index) one `weight.config`
/// tar. A weight file is one the model readers know (`facts`: read from its content or a model
/// extension, the same test `init` and `check` use), or any file of [`OWN_LAYER_SIZE`] or
/// more. A variant with no such file stays one weight tar, as before.
fn split_variant(paths: &[&str], entries: Vec<Entry>, facts: &BTreeMap<String, inspect::Facts>) -> Vec<LayerPlan> {
    let is_weight = |e: &Entry| match e.kind {
        EntryKind::File { size, .. } => facts.contains_key(&e.path) || size >= OWN_LAYER_SIZE,
        EntryKind::Dir => false,
    };
    let (weights, rest): (Vec<Entry>, Vec<Entry>) = entries.into_iter().partition(is_weight);
    if weights.is_empty() {
        return vec![tar_layer(Class::Model, None, None, paths, rest)];
    }
    let mut weights = weights;
    weights.sort_by(|a, b| a.path.cmp(&b.path));
    let mut layers: Vec<LayerPlan> = weights.into_iter().map(|e| raw_layer(Class::Model, e)).collect();
    // Folders alone (the variant's own, emptied of its weights) need no layer: the raw layers'
    // paths create them.
    if rest.iter().any(|e| matches!(e.kind, EntryKind::File { .. })) {
        layers.push(LayerPlan { weight_config: true, ..tar_layer(Class::Model, None, None, paths, rest) });
    }
    layers
}

/// Adds the folders above every entry and sorts, so a tar creates parents before children.
pub fn with_parents(entries: Vec<Entry>) -> Vec<Entry> {
    let mut by_path: BTreeMap<String, EntryKind> = BTreeMap::new();
    for e in entries {
        let mut end = 0;
        while let Some(i) = e.path[end..].find('/') {
            end += i + 1;
            if end < e.path.len() {
                by_path.entry(e.path[..end].to_string()).or_insert(EntryKind::Dir);
            }
        }
        by_path.insert(e.path, e.kind);
    }
    by_path.into_iter().map(|(path, kind)| Entry { path, kind }).collect()
}

/// The `filepath` of a layer: the one declared path, or the longest folder the paths share
/// (`./` when none).
pub fn common_folder(declared: &[&str]) -> String {
    let normal: Vec<String> = declared.iter().map(|p| p.trim_start_matches("./").to_string()).collect();
    match normal.as_slice() {
        // No path: every one was refused (one leaving the suite, say), which check reports.
        [] => return "./".into(),
        [one] => return if one.is_empty() { "./".into() } else { one.clone() },
        _ => {}
    }
    let folders: Vec<Vec<&str>> = normal
        .iter()
        .map(|p| {
            let mut parts: Vec<&str> = p.split('/').collect();
            parts.pop(); // a file's name, or the empty part after a folder's slash
            parts
        })
        .collect();
    let mut common: Vec<&str> = folders.first().cloned().unwrap_or_default();
    for f in &folders[1..] {
        let n = common.iter().zip(f).take_while(|(a, b)| a == b).count();
        common.truncate(n);
    }
    if common.is_empty() { "./".into() } else { format!("{}/", common.join("/")) }
}

/// A sharded checkpoint's index file (`model.safetensors.index.json`, `pytorch_model.bin.index.json`):
/// which shard holds each tensor, and the total size it expects. Read by `check` and by `init`.
#[derive(serde::Deserialize)]
pub(crate) struct ShardIndex {
    #[serde(default)]
    pub(crate) metadata: Option<serde_json::Value>,
    pub(crate) weight_map: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_folder_of_scripts_and_of_unrelated_paths() {
        assert_eq!(common_folder(&["scripts/train.py", "scripts/infer.py"]), "scripts/");
        assert_eq!(common_folder(&["scripts/a/x.py", "scripts/b/"]), "scripts/");
        assert_eq!(common_folder(&["zoo.yaml", "docs/"]), "./");
        assert_eq!(common_folder(&["models/onnx/"]), "models/onnx/");
        assert_eq!(common_folder(&[]), "./", "a variant whose paths were all refused");
    }

    #[test]
    fn parents_come_before_children() {
        let e = with_parents(vec![Entry {
            path: "a/b/c.txt".into(),
            kind: EntryKind::File { size: 1, executable: false },
        }]);
        let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a/", "a/b/", "a/b/c.txt"]);
    }

    #[test]
    fn unknown_class_lists_the_known_ones() {
        let e = Class::parse("weights").unwrap_err();
        assert!(e.hint().unwrap().contains("model, scripts"));
    }
}
