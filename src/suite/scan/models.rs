//! Which model files make one model, as `init` meets them.
//!
//! A folder may hold several models (two TFLite detectors, a classifier and its embedder) and one
//! model may be several files: the shards of a checkpoint, an ONNX graph with its external data,
//! an OpenVINO `.xml` with its `.bin`, a Paddle `.pdmodel` with its `.pdiparams`, a TensorFlow
//! SavedModel with its `variables/`. Files are joined only where the files themselves say they
//! belong together — an index naming its shards, a graph naming its external data, the naming
//! schemes the tools that split a model use, a format's fixed pair of files — never because
//! they share a folder or a format: each join below names the tool or format it comes from, and
//! every other model file is a model of its own.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::{extension, file_name, parent};
use crate::suite::inspect::{Facts, MODEL_EXTENSIONS, Recognised};

/// One model: the files it is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Model {
    /// Its model files (indexes into the model files given), in name order.
    pub members: Vec<usize>,
    /// Every file of the model, suite-relative: its model files and split parts in name order,
    /// then the files that come with them (an index, external data, OpenVINO weights).
    pub files: Vec<String>,
}

/// Largest shard index read (the index of a 1 TB checkpoint is a few hundred kB).
const MAX_INDEX: u64 = 64 << 20;

/// Groups the model files into models. `files` is every file of the suite, `free` says which
/// nothing else claimed (a companion must be free), `model_files` the model files with their facts.
/// Split parts (`model.onnx.part1`, …) are models whose files are all free parts; their facts are
/// the caller's to make (see [`split_parts`]). Models come in the order of their first file.
pub(super) fn group(
    dir: &Path,
    files: &[String],
    free: &dyn Fn(&str) -> bool,
    model_files: &[(String, Facts)],
) -> Vec<Model> {
    let mut sets = Sets::default();
    let member: BTreeMap<&str, usize> = model_files.iter().enumerate().map(|(i, (p, _))| (p.as_str(), i)).collect();
    let is_free_file = |p: &str| free(p) && files.binary_search_by(|f| f.as_str().cmp(p)).is_ok();
    for (path, _) in model_files {
        sets.add(path);
    }

    // Shards by name: a checkpoint split by Transformers (model-00001-of-00004.safetensors), a
    // GGUF split by llama.cpp (-00001-of-00003.gguf), TensorFlow.js weights (group1-shard1of4.bin).
    let mut by_pattern: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for (path, _) in model_files {
        if let Some(key) = shard_key(file_name(path)) {
            by_pattern.entry((parent(path).to_string(), key)).or_default().push(path);
        }
    }
    for ((folder, key), shards) in &by_pattern {
        for pair in shards.windows(2) {
            sets.join(pair[0], pair[1]);
        }
        // TensorFlow.js: model.json names the shards; it is the model.
        if key == TFJS {
            let json = in_folder(folder, "model.json");
            if is_free_file(&json) {
                sets.join(shards[0], &json);
            }
        }
    }

    // Shards by index: model.safetensors.index.json and pytorch_model.bin.index.json name theirs.
    for index in files.iter().filter(|f| free(f) && f.ends_with(".index.json")) {
        let folder = parent(index);
        let named: Vec<String> = shard_index(&dir.join(index))
            .into_iter()
            .filter_map(|shard| relative(folder, &shard))
            .filter(|shard| member.contains_key(shard.as_str()))
            .collect();
        for shard in &named {
            sets.join(index, shard);
        }
    }

    // Split parts (model.onnx.part1, model.onnx.part2, …): one file cut up to fit somewhere.
    for parts in split_parts(files, free).values() {
        for part in parts {
            sets.add(part);
        }
        for pair in parts.windows(2) {
            sets.join(&pair[0], &pair[1]);
        }
    }

    // What a format keeps beside its main file.
    for (path, facts) in model_files {
        let folder = parent(path);
        let name = file_name(path);
        let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
        let beside = |other: &str| in_folder(folder, other);
        let mut companions: Vec<String> = Vec::new();
        match extension(path).as_str() {
            // OpenVINO IR: the weights in the .bin of the same name (.mapping in older IRs).
            "xml" if facts.format == "openvino" && facts.recognised == Recognised::Content => {
                companions.extend([beside(&format!("{stem}.bin")), beside(&format!("{stem}.mapping"))]);
            }
            // ONNX: the external data the graph names, and the names exporters give it
            // (torch.onnx: model.onnx.data; Optimum: model.onnx_data).
            "onnx" => {
                companions.extend(facts.external_data.iter().filter_map(|location| relative(folder, location)));
                companions.extend([beside(&format!("{name}.data")), beside(&format!("{name}_data"))]);
            }
            // Paddle: the graph and its parameters.
            "pdmodel" => {
                companions.extend([beside(&format!("{stem}.pdiparams")), beside(&format!("{stem}.pdiparams.info"))]);
            }
            _ => {}
        }
        // A TensorFlow SavedModel is its folder: saved_model.pb, the other .pb files beside it
        // (fingerprint.pb, keras_metadata.pb), variables/ and assets/.
        if matches!(name, "saved_model.pb" | "saved_model.pbtxt") {
            let prefixes = ["variables/", "assets/", "assets.extra/"].map(beside);
            companions
                .extend(files.iter().filter(|f| prefixes.iter().any(|p| f.starts_with(p.as_str()))).map(String::clone));
            companions.extend(
                model_files.iter().filter(|(p, _)| parent(p) == folder && extension(p) == "pb").map(|(p, _)| p.clone()),
            );
        }
        for companion in companions {
            if member.contains_key(companion.as_str()) || is_free_file(&companion) {
                sets.join(path, &companion);
            }
        }
    }

    // Each set with a model file or a split part is a model.
    let part_files: Vec<String> = split_parts(files, free).into_values().flatten().collect();
    let mut models: BTreeMap<String, Model> = BTreeMap::new();
    let mut all: Vec<String> = sets.parent.keys().cloned().collect();
    all.sort();
    for path in &all {
        let root = sets.find(path);
        let model = models.entry(root).or_insert_with(|| Model { members: Vec::new(), files: Vec::new() });
        if let Some(&i) = member.get(path.as_str()) {
            model.members.push(i);
        }
        model.files.push(path.clone());
    }
    let mut models: Vec<Model> = models
        .into_values()
        .filter(|m| !m.members.is_empty() || m.files.iter().any(|f| part_files.contains(f)))
        .map(|mut m| {
            // Model files and parts first, then what comes with them.
            let is_model = |f: &String| member.contains_key(f.as_str()) || part_files.contains(f);
            m.files.sort_by_key(|f| (!is_model(f), f.clone()));
            m
        })
        .collect();
    models.sort_by(|a, b| a.files[0].cmp(&b.files[0]));
    models
}

/// The shard key of TensorFlow.js weights: one model per folder.
const TFJS: &str = "\0tfjs";

/// What the shards of one model share in their names, when the name is a shard's:
/// `model-00001-of-00004.safetensors` → `model-of-00004.safetensors`, `group1-shard2of4.bin` →
/// TensorFlow.js.
fn shard_key(name: &str) -> Option<String> {
    let (body, ext) = name.rsplit_once('.')?;
    if let Some(rest) = body.strip_prefix("group")
        && let Some((group, rest)) = rest.split_once("-shard")
        && let Some((n, of)) = rest.split_once("of")
        && [group, n, of].iter().all(|d| is_number(d))
        && ext == "bin"
    {
        return Some(TFJS.into());
    }
    let (head, total) = body.rsplit_once("-of-")?;
    let (prefix, n) = head.rsplit_once('-')?;
    (is_number(n) && is_number(total) && !prefix.is_empty()).then(|| format!("{prefix}-of-{total}.{ext}"))
}

/// The name a model's variant is told by: its file name without extensions, and without the shard
/// or part number (`model-00001-of-00004.safetensors` → `model`, `model.onnx.part1` → `model`).
pub(super) fn stem(name: &str) -> &str {
    let name = split_part(name).map_or(name, |(base, _)| base);
    let name = name.split('.').next().unwrap_or(name);
    match name.rsplit_once("-of-").and_then(|(head, total)| Some((head.rsplit_once('-')?, total))) {
        Some(((prefix, n), total)) if is_number(n) && is_number(total) && !prefix.is_empty() => prefix,
        _ => name,
    }
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// `model.onnx.part2` → (`model.onnx`, 2), when what is split is a model file.
fn split_part(name: &str) -> Option<(&str, u64)> {
    let (base, part) = name.rsplit_once(".part")?;
    let n = part.parse().ok().filter(|_| is_number(part))?;
    MODEL_EXTENSIONS.contains(&extension(base).as_str()).then_some((base, n))
}

/// The free split parts of the suite by the file they are parts of (suite-relative), each in
/// part order.
pub(super) fn split_parts(files: &[String], free: &dyn Fn(&str) -> bool) -> BTreeMap<String, Vec<String>> {
    let mut parts: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for f in files.iter().filter(|f| free(f)) {
        if let Some((base, n)) = split_part(file_name(f)) {
            parts.entry(in_folder(parent(f), base)).or_default().push((n, f.clone()));
        }
    }
    parts
        .into_iter()
        .map(|(base, mut list)| {
            list.sort();
            (base, list.into_iter().map(|(_, f)| f).collect())
        })
        .collect()
}

/// The shard files an index names (its `weight_map`'s values), as written in it.
fn shard_index(path: &Path) -> Vec<String> {
    let Ok(meta) = fs::metadata(path) else { return Vec::new() };
    if meta.len() > MAX_INDEX {
        return Vec::new();
    }
    let Ok(index) =
        fs::read(path).map_err(drop).and_then(|b| serde_json::from_slice::<crate::suite::ShardIndex>(&b).map_err(drop))
    else {
        return Vec::new();
    };
    let mut shards: Vec<String> = index.weight_map.into_values().collect();
    shards.sort();
    shards.dedup();
    shards
}

/// `name` in `folder` (`""` is the suite folder).
fn in_folder(folder: &str, name: &str) -> String {
    if folder.is_empty() { name.to_string() } else { format!("{folder}/{name}") }
}

/// A path a model file names beside itself, suite-relative; `None` when it would leave the
/// folder (`..`, an absolute path): such a file is not the suite's.
fn relative(folder: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    if path.starts_with('/') {
        return None;
    }
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// Disjoint sets of paths.
#[derive(Default)]
struct Sets {
    parent: BTreeMap<String, String>,
}

impl Sets {
    fn add(&mut self, path: &str) {
        self.parent.entry(path.to_string()).or_insert_with(|| path.to_string());
    }

    fn find(&mut self, path: &str) -> String {
        let mut at = path.to_string();
        while let Some(up) = self.parent.get(&at).filter(|up| **up != at) {
            at = up.clone();
        }
        at
    }

    fn join(&mut self, a: &str, b: &str) {
        self.add(a);
        self.add(b);
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            // The smaller name is the root, so a set's root does not depend on the order of joins.
            let (root, child) = if a < b { (a, b) } else { (b, a) };
            self.parent.insert(child, root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(format: &str) -> Facts {
        Facts { format: format.into(), framework: format.into(), recognised: Recognised::Content, ..Facts::default() }
    }

    /// The models of a folder whose files are `names` (model files read as their extension).
    fn models_of(names: &[&str], external: &[(&str, &str)]) -> Vec<Vec<String>> {
        let mut files: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        files.sort();
        let model_files: Vec<(String, Facts)> = files
            .iter()
            .filter(|f| MODEL_EXTENSIONS.contains(&extension(f).as_str()) && !f.ends_with(".bin"))
            .map(|f| {
                let mut facts = facts(&match extension(f).as_str() {
                    "xml" => "openvino".to_string(),
                    other => other.to_string(),
                });
                facts.external_data =
                    external.iter().filter(|(model, _)| model == f).map(|(_, data)| data.to_string()).collect();
                (f.clone(), facts)
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        group(dir.path(), &files, &|_| true, &model_files).into_iter().map(|m| m.files).collect()
    }

    #[test]
    fn different_models_in_one_folder_are_apart() {
        assert_eq!(
            models_of(&["models/face_detector.tflite", "models/hand_detector.tflite", "models/labels.txt"], &[]),
            [["models/face_detector.tflite"], ["models/hand_detector.tflite"]]
        );
        assert_eq!(models_of(&["a.onnx", "b.onnx"], &[]), [["a.onnx"], ["b.onnx"]]);
    }

    #[test]
    fn shards_by_name_are_one_model() {
        assert_eq!(
            models_of(
                &[
                    "model-00001-of-00002.safetensors",
                    "model-00002-of-00002.safetensors",
                    "other-00001-of-00001.safetensors",
                    "q4-00001-of-00002.gguf",
                    "q4-00002-of-00002.gguf",
                ],
                &[]
            ),
            [
                vec!["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
                vec!["other-00001-of-00001.safetensors"],
                vec!["q4-00001-of-00002.gguf", "q4-00002-of-00002.gguf"],
            ]
        );
    }

    #[test]
    fn an_onnx_graph_keeps_its_external_data_and_openvino_its_bin() {
        assert_eq!(
            models_of(
                &["a.onnx", "a.onnx.data", "b.onnx", "b.onnx_data", "c.onnx", "weights/c.bin", "ir.xml", "ir.bin"],
                &[("c.onnx", "./weights/c.bin")]
            ),
            [
                vec!["a.onnx", "a.onnx.data"],
                vec!["b.onnx", "b.onnx_data"],
                vec!["c.onnx", "weights/c.bin"],
                vec!["ir.xml", "ir.bin"],
            ]
        );
        // External data named outside the folder is not the model's to take.
        assert_eq!(models_of(&["m/a.onnx", "b.bin"], &[("m/a.onnx", "../b.bin")]), [["m/a.onnx"]]);
    }

    #[test]
    fn parts_paddle_and_saved_models_are_one_model_each() {
        assert_eq!(
            models_of(&["big.onnx.part2", "big.onnx.part1", "notes.txt.part1"], &[]),
            [["big.onnx.part1", "big.onnx.part2"]]
        );
        assert_eq!(
            models_of(&["inference.pdmodel", "inference.pdiparams", "inference.pdiparams.info"], &[]),
            [["inference.pdiparams", "inference.pdmodel", "inference.pdiparams.info"]]
        );
        assert_eq!(
            models_of(
                &[
                    "saved_model.pb",
                    "fingerprint.pb",
                    "variables/variables.index",
                    "variables/variables.data-00000-of-00001"
                ],
                &[]
            ),
            [[
                "fingerprint.pb",
                "saved_model.pb",
                "variables/variables.data-00000-of-00001",
                "variables/variables.index"
            ]]
        );
    }

    #[test]
    fn stems_drop_shard_and_part_numbers() {
        assert_eq!(stem("model-00001-of-00004.safetensors"), "model");
        assert_eq!(stem("model.onnx.part1"), "model");
        assert_eq!(stem("face_detector.tflite"), "face_detector");
        assert_eq!(stem("silero_vad_half.onnx"), "silero_vad_half");
        assert_eq!(stem("x-of-y.onnx"), "x-of-y");
        assert_eq!(shard_key("group1-shard2of4.bin").as_deref(), Some(TFJS));
        assert_eq!(shard_key("model-00001-of-00004.safetensors").as_deref(), Some("model-of-00004.safetensors"));
        assert_eq!(shard_key("model.safetensors"), None);
    }
}
