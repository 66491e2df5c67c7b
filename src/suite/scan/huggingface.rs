//! Hugging Face folders, as `init` meets them.
//!
//! A Transformers model is not its weights alone: `from_pretrained` reads `config.json` to build
//! the model, the tokenizer files to build the tokenizer, and sentence-transformers reads
//! `modules.json` and its module folders (`1_Pooling/`). The hub keeps them all flat in one folder
//! beside the README and other files, so the variant names them one by one: pulling only the model
//! must give a folder Transformers can load.
//!
//! A cache snapshot (`~/.cache/huggingface/hub/models--ORG--NAME/snapshots/REVISION/`) names the
//! model it holds in its path.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use super::{file_name, parent};

/// One Transformers model found in a folder: the weights in the format loaded first, and the
/// files that load them.
#[derive(Debug, Clone)]
pub(super) struct TransformersModel {
    /// The folder, `""` for the suite folder itself.
    pub folder: String,
    /// The weight files (shards and their index included), suite-relative.
    pub weights: Vec<String>,
    /// The files that load them, suite-relative; a sentence-transformers module folder whose
    /// files are all here ends with `/`.
    pub loaders: Vec<String>,
    /// Every file the variant holds: weights, loaders, and the files in the module folders.
    pub files: Vec<String>,
}

/// Weight files in the order Transformers loads them (`SAFE_WEIGHTS_NAME` before
/// `WEIGHTS_NAME`), each with the index of its shards; then PEFT adapters, which load beside
/// the base model named in `adapter_config.json`.
const WEIGHT_SETS: &[(&str, &str, &str)] = &[
    ("model.safetensors", "model-", ".safetensors"),
    ("pytorch_model.bin", "pytorch_model-", ".bin"),
    ("adapter_model.safetensors", "", ""),
    ("adapter_model.bin", "", ""),
];

/// Files Transformers and sentence-transformers read to load a model, by exact name.
const LOADER_NAMES: &[&str] = &[
    "config.json",
    "generation_config.json",
    "adapter_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "video_preprocessor_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "merges.txt",
    "chat_template.jinja",
    "chat_template.json",
    "modules.json",
    "config_sentence_transformers.json",
];

/// Files a trainer leaves beside the weights that are no model: `training_args.bin` is a pickle
/// of the training arguments.
pub(super) fn is_trainer_state(path: &str) -> bool {
    file_name(path) == "training_args.bin"
}

/// Whether a file name is one that loads a Transformers model (see [`LOADER_NAMES`]): also the
/// tokenizer's files (`tokenizer*.json`, `vocab.*`, sentencepiece and tiktoken models),
/// sentence-transformers' `sentence_*_config.json`, and the custom code `trust_remote_code`
/// imports (`configuration_*.py`, `modeling_*.py`, `tokenization_*.py`, …).
fn is_loader(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LOADER_NAMES.contains(&lower.as_str())
        || (lower.starts_with("tokenizer") && (lower.ends_with(".json") || lower.ends_with(".model")))
        || lower.starts_with("vocab.")
        || (lower.ends_with(".model") && (lower.contains("spiece") || lower.contains("sentencepiece")))
        || lower.ends_with(".tiktoken")
        || (lower.starts_with("sentence_") && lower.ends_with("_config.json"))
        || (lower.ends_with(".py")
            && [
                "configuration_",
                "modeling_",
                "tokenization_",
                "processing_",
                "image_processing_",
                "feature_extraction_",
            ]
            .iter()
            .any(|p| lower.starts_with(p)))
}

/// Finds the Transformers models of a suite: every folder with a `config.json` (or a PEFT
/// `adapter_config.json`) beside weights Transformers loads. `available` says which files are
/// still free (not a README, a licence, a dataset).
pub(super) fn models(dir: &Path, files: &[String], available: &dyn Fn(&str) -> bool) -> Vec<TransformersModel> {
    let configs: BTreeSet<&str> = files
        .iter()
        .filter(|f| available(f) && matches!(file_name(f), "config.json" | "adapter_config.json"))
        .map(|f| parent(f))
        .collect();
    let mut found = Vec::new();
    for folder in configs {
        let prefix = if folder.is_empty() { String::new() } else { format!("{folder}/") };
        let here: Vec<&str> =
            files.iter().filter(|f| available(f) && parent(f) == folder).map(|f| file_name(f)).collect();
        let Some(weights) = weights(&here) else { continue };
        let is_adapter = weights.iter().any(|w| w.starts_with("adapter_model"));
        if !here.contains(&if is_adapter { "adapter_config.json" } else { "config.json" }) {
            continue;
        }
        let mut loaders: Vec<String> = here.iter().filter(|n| is_loader(n)).map(|n| format!("{prefix}{n}")).collect();
        let mut variant_files: Vec<String> = loaders.clone();
        for module in module_folders(dir, folder, files) {
            let module_prefix = format!("{prefix}{module}/");
            let inside: Vec<&String> = files.iter().filter(|f| f.starts_with(&module_prefix)).collect();
            if inside.is_empty() {
                continue; // a module without files (Normalize) is built from its name alone
            }
            if inside.iter().all(|f| available(f)) {
                loaders.push(module_prefix);
            } else {
                loaders.extend(inside.iter().filter(|f| available(f)).map(|f| f.to_string()));
            }
            variant_files.extend(inside.iter().filter(|f| available(f)).map(|f| f.to_string()));
        }
        let weights: Vec<String> = weights.iter().map(|w| format!("{prefix}{w}")).collect();
        variant_files.extend(weights.iter().cloned());
        variant_files.sort();
        variant_files.dedup();
        loaders.sort();
        found.push(TransformersModel { folder: folder.to_string(), weights, loaders, files: variant_files });
    }
    found
}

/// The weights of one folder's files (names only), in the first format Transformers would load:
/// the single file, or the shards with their `.index.json`.
fn weights(names: &[&str]) -> Option<Vec<String>> {
    for (single, shard_prefix, shard_suffix) in WEIGHT_SETS {
        if names.contains(single) {
            return Some(vec![single.to_string()]);
        }
        if shard_prefix.is_empty() {
            continue;
        }
        let index = format!("{single}.index.json");
        let shards: Vec<String> =
            names.iter().filter(|n| is_shard(n, shard_prefix, shard_suffix)).map(|n| n.to_string()).collect();
        if !shards.is_empty() {
            let mut set = shards;
            if names.contains(&index.as_str()) {
                set.push(index);
            }
            set.sort();
            return Some(set);
        }
    }
    None
}

/// `model-00001-of-00003.safetensors`: a shard of a checkpoint too big for one file.
fn is_shard(name: &str, prefix: &str, suffix: &str) -> bool {
    let Some(middle) = name.strip_prefix(prefix).and_then(|n| n.strip_suffix(suffix)) else { return false };
    let Some((n, total)) = middle.split_once("-of-") else { return false };
    !n.is_empty()
        && !total.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && total.bytes().all(|b| b.is_ascii_digit())
}

/// The sentence-transformers module folders of `folder`: the paths `modules.json` names, or,
/// when it cannot be read, the folders named like modules (`1_Pooling`, `2_Dense`).
fn module_folders(dir: &Path, folder: &str, files: &[String]) -> Vec<String> {
    let modules_json = if folder.is_empty() { "modules.json".to_string() } else { format!("{folder}/modules.json") };
    if !files.contains(&modules_json) {
        return Vec::new();
    }
    let listed: Option<Vec<String>> = fs::read(dir.join(&modules_json))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|v| v.as_array().cloned())
        .map(|modules| {
            modules
                .iter()
                .filter_map(|m| m["path"].as_str())
                .map(|p| p.trim_matches('/').to_string())
                .filter(|p| !p.is_empty() && p.split('/').all(|c| !c.is_empty() && c != "." && c != ".."))
                .collect()
        });
    listed.unwrap_or_else(|| {
        let prefix = if folder.is_empty() { String::new() } else { format!("{folder}/") };
        let names: BTreeSet<String> = files
            .iter()
            .filter_map(|f| f.strip_prefix(&prefix))
            .filter_map(|rest| rest.split_once('/').map(|(first, _)| first.to_string()))
            .filter(|name| {
                name.split_once('_')
                    .is_some_and(|(n, rest)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty())
            })
            .collect();
        names.into_iter().collect()
    })
}

/// The model a Hugging Face cache snapshot holds, from its path
/// (`…/models--ORG--NAME/snapshots/REVISION`): the repository id and the revision.
pub(super) fn cache_snapshot(dir: &Path) -> Option<(String, String)> {
    let canonical = dir.canonicalize().ok()?;
    let revision = canonical.file_name()?.to_str()?.to_string();
    let snapshots = canonical.parent()?;
    if snapshots.file_name()? != "snapshots" {
        return None;
    }
    let repo = snapshots.parent()?.file_name()?.to_str()?.strip_prefix("models--")?;
    let id = match repo.split_once("--") {
        Some((org, name)) => format!("{org}/{name}"),
        None => repo.to_string(),
    };
    Some((id, revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loaders_are_told_by_name() {
        for name in [
            "config.json",
            "tokenizer.json",
            "tokenizer_config.json",
            "tokenizer.model",
            "vocab.txt",
            "vocab.json",
            "merges.txt",
            "special_tokens_map.json",
            "spiece.model",
            "sentencepiece.bpe.model",
            "sentence_bert_config.json",
            "modeling_phi.py",
        ] {
            assert!(is_loader(name), "{name}");
        }
        for name in ["README.md", "data_config.json", "train.py", "model.safetensors", "results.json"] {
            assert!(!is_loader(name), "{name}");
        }
    }

    #[test]
    fn safetensors_come_first_and_shards_come_with_their_index() {
        assert_eq!(weights(&["pytorch_model.bin", "model.safetensors", "config.json"]).unwrap(), ["model.safetensors"]);
        assert_eq!(
            weights(&[
                "model-00002-of-00002.safetensors",
                "model.safetensors.index.json",
                "model-00001-of-00002.safetensors"
            ])
            .unwrap(),
            ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"]
        );
        assert_eq!(weights(&["pytorch_model.bin"]).unwrap(), ["pytorch_model.bin"]);
        assert!(weights(&["config.json", "model.onnx"]).is_none());
    }
}
