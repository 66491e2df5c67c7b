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

/// The known task nearest to `task`, to suggest on a typo.
///
/// Word by word, so that only typos are suggested: each word must be near the word in its place
/// (`objet-detection`, `image-clasification`), or the whole be the same letters with a hyphen
/// missing or moved (`imageclassification`). Another word in a place is another task:
/// `speech-detection` is not a typo of `object-detection`, though only four letters differ.
///
/// ```
/// use zoo_oci::taxonomy::nearest;
/// assert_eq!(nearest("objet detection").as_deref(), Some("object-detection"));
/// assert_eq!(nearest("imageclassification").as_deref(), Some("image-classification"));
/// assert_eq!(nearest("speech detection"), None);
/// ```
pub fn nearest(task: &str) -> Option<String> {
    let tax = taxonomy();
    let normal = normalise(task);
    tax.modality_of
        .keys()
        .chain(tax.aliases.keys())
        .filter_map(|k| typo_distance(&normal, k).map(|d| (d, k)))
        .min()
        .map(|(_, k)| canonical(k).map(|c| c.task).unwrap_or_else(|| k.clone()))
}

/// What `check` and `index --task` say after "unknown task": the nearest task, or where the tasks
/// are listed.
pub fn unknown_task_hint(task: &str) -> String {
    match nearest(task) {
        Some(near) => format!("did you mean {near:?}? The tasks are in schemas/taxonomy.json"),
        None => "use a Hugging Face pipeline tag such as image-classification (see schemas/taxonomy.json)".into(),
    }
}

/// The edits from `typed` to `known` (both normalised), if they look like a typo of it.
fn typo_distance(typed: &str, known: &str) -> Option<usize> {
    // A word of up to 2 letters must be right; up to 5, one edit; longer, two (a swap of two
    // neighbours is one edit).
    let allowed = |word: &str| match word.chars().count() {
        0..=2 => 0,
        3..=5 => 1,
        _ => 2,
    };
    let (typed_words, known_words): (Vec<&str>, Vec<&str>) = (typed.split('-').collect(), known.split('-').collect());
    if typed_words.len() != known_words.len() {
        let d = strsim::damerau_levenshtein(&typed.replace('-', ""), &known.replace('-', ""));
        return (d == 0).then_some(1);
    }
    let mut total = 0;
    for (t, k) in typed_words.iter().zip(&known_words) {
        let d = strsim::damerau_levenshtein(t, k);
        if d > allowed(k) {
            return None;
        }
        total += d;
    }
    (total <= (known.len() / 4).max(2)).then_some(total)
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
        assert_eq!(nearest("objet-detecton").as_deref(), Some("object-detection"));
        assert_eq!(nearest("image_classifcation").as_deref(), Some("image-classification"));
    }

    #[test]
    fn another_word_is_not_a_typo() {
        assert_eq!(nearest("speech detection"), None);
        assert_eq!(nearest("speech-detection"), None);
        assert!(canonical("music detection").is_none() && nearest("music detection").is_none());
        assert!(unknown_task_hint("speech detection").starts_with("use a Hugging Face pipeline tag"));
        assert!(unknown_task_hint("objet detection").starts_with("did you mean \"object-detection\"?"));
    }
}
