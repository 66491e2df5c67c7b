//! The task taxonomy (`schemas/taxonomy.json`): Hugging Face pipeline tags grouped by modality,
//! plus aliases from other model zoos, so `task: detection` is stored as `object-detection`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The taxonomy, embedded.
pub const TAXONOMY_JSON: &str = include_str!("../schemas/taxonomy.json");

#[derive(Debug, Deserialize)]
struct TaxonomyFile {
    modalities: BTreeMap<String, ModalityEntry>,
    aliases: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct ModalityEntry {
    title: String,
    tasks: BTreeMap<String, String>,
}

/// A task resolved against the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalTask {
    /// The Hugging Face pipeline tag.
    pub task: String,
    /// Its modality: `cv`, `nlp`, `audio`, `multimodal`, `tabular`, `rl` or `other`.
    pub modality: String,
}

struct Taxonomy {
    modality_of: BTreeMap<String, String>,
    aliases: BTreeMap<String, String>,
    modality_titles: BTreeMap<String, String>,
    task_titles: BTreeMap<String, String>,
}

fn taxonomy() -> &'static Taxonomy {
    static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
    TAXONOMY.get_or_init(|| {
        let file: TaxonomyFile = serde_json::from_str(TAXONOMY_JSON).expect("schemas/taxonomy.json is valid");
        let mut modality_of = BTreeMap::new();
        let mut modality_titles = BTreeMap::new();
        let mut task_titles = BTreeMap::new();
        for (modality, entry) in file.modalities {
            for (task, title) in entry.tasks {
                modality_of.insert(task.clone(), modality.clone());
                task_titles.insert(task, title);
            }
            modality_titles.insert(modality, entry.title);
        }
        Taxonomy { modality_of, aliases: file.aliases, modality_titles, task_titles }
    })
}

/// Lower-case, and runs of spaces and underscores become one `-`: how aliases are keyed.
fn normalise(task: &str) -> String {
    let mut out = String::new();
    for c in task.trim().to_lowercase().chars() {
        if c == ' ' || c == '_' {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Resolves a task or alias to its pipeline tag and modality; `None` when unknown.
///
/// ```
/// let t = zoo_oci::taxonomy::canonical("Image Classification").unwrap();
/// assert_eq!((t.task.as_str(), t.modality.as_str()), ("image-classification", "cv"));
/// assert!(zoo_oci::taxonomy::canonical("knitting").is_none());
/// ```
pub fn canonical(task: &str) -> Option<CanonicalTask> {
    let tax = taxonomy();
    let lowered = task.trim().to_lowercase();
    let normal = normalise(task);
    let tag = [lowered.as_str(), normal.as_str()].into_iter().find_map(|key| {
        if tax.modality_of.contains_key(key) { Some(key.to_string()) } else { tax.aliases.get(key).cloned() }
    })?;
    let modality = tax.modality_of.get(&tag)?.clone();
    Some(CanonicalTask { task: tag, modality })
}

/// A modality's human title, e.g. `Computer vision` for `cv`.
pub fn modality_title(modality: &str) -> String {
    taxonomy().modality_titles.get(modality).cloned().unwrap_or_else(|| modality.to_string())
}

/// A task's human title, e.g. `Image Classification`.
pub fn task_title(task: &str) -> String {
    taxonomy().task_titles.get(task).cloned().unwrap_or_else(|| task.to_string())
}

/// The modalities, in display order.
pub const MODALITIES: [&str; 7] = ["cv", "nlp", "audio", "multimodal", "tabular", "rl", "other"];

/// The known task or alias nearest to `task`, to suggest on a typo.
pub fn nearest(task: &str) -> Option<String> {
    let tax = taxonomy();
    let normal = normalise(task);
    tax.modality_of
        .keys()
        .chain(tax.aliases.keys())
        .map(|k| (edit_distance(&normal, k), k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(2))
        .min()
        .map(|(_, k)| canonical(k).map(|c| c.task).unwrap_or_else(|| k.clone()))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_from_other_zoos_resolve() {
        assert_eq!(canonical("detection").unwrap().task, "object-detection");
        assert_eq!(canonical("speech_recognition").unwrap().task, "automatic-speech-recognition");
        assert_eq!(canonical("speech_recognition").unwrap().modality, "audio");
    }

    #[test]
    fn typo_gets_a_suggestion() {
        assert_eq!(nearest("image-clasification").as_deref(), Some("image-classification"));
        assert_eq!(nearest("zzzzzzzzzzzzzzzzzz"), None);
    }
}
