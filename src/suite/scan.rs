//! `zoo-oci init`: turn a folder of model files into a `zoo.yaml`. Files are classified by name
//! and extension, model files are read for their facts (format, opset, inputs and outputs,
//! parameters, precision), and a Hugging Face model card's front matter is imported.
//!
//! The order of the classification matters: datasets are told first, by their folders, because
//! a test set's files have model extensions (the ONNX model zoo's `test_data_set_0/input_0.pb` is
//! a TensorProto, not a TensorFlow graph); then Hugging Face folders, whose variant is the weights
//! with the files that load them (`huggingface`); then the other model files.

mod huggingface;
mod models;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::card;
use super::files::{self, Links};
use super::inspect::{self, Facts, Recognised};
use super::spec::{
    Citation, Dataset, DatasetRef, EvalResult, Io, Metric, ModelEntry, ModelPath, Scripts, SuiteSpec, Tensor,
};
use crate::error::{Error, Result};
use crate::taxonomy;

/// What `init` produced.
#[derive(Debug, Clone)]
pub struct InitPlan {
    /// The descriptor to write.
    pub spec: SuiteSpec,
    /// What was guessed, to tell the user.
    pub guessed: Vec<String>,
    /// What the user should still fill in.
    pub todo: Vec<String>,
    /// A README skeleton, when the folder has none.
    pub readme_skeleton: Option<String>,
    /// A validate script skeleton (`scripts/validate.py`), when the folder ships a test set and
    /// no validate script: `zoo-oci validate`'s contract, ready to fill in.
    pub validate_skeleton: Option<String>,
    /// Model files whose content could not be read, and files left out, and why.
    pub warnings: Vec<String>,
}

const SCRIPT_EXTENSIONS: &[&str] = &["py", "sh", "r", "jl", "js", "ts", "lua", "cpp", "c", "go", "rs", "java"];
/// Top-level folders that hold data, whatever their files' extensions.
const DATA_FOLDERS: &[&str] = &[
    "data",
    "dataset",
    "datasets",
    "samples",
    "test_data",
    "testdata",
    "test_set",
    "testset",
    "eval",
    "evaluation",
    "examples",
];

/// Scans `dir` and plans its descriptor. Reads model headers; writes nothing. `links` says
/// whether symbolic links are refused (an error that names `--dereference`) or read through.
pub fn plan(dir: &Path, links: Links) -> Result<InitPlan> {
    let meta = fs::metadata(dir).map_err(|e| Error::io("read the folder", dir, e))?;
    if !meta.is_dir() {
        return Err(Error::failed(format!("{} is not a folder", dir.display())));
    }
    let mut warnings = Vec::new();
    let files = list_files(dir, links, &mut warnings)?;
    let mut guessed = Vec::new();
    let mut todo = Vec::new();
    let mut claimed: BTreeSet<String> = BTreeSet::new();

    // The README, and a Hugging Face card's front matter in it.
    let readme = files.iter().find(|f| f.eq_ignore_ascii_case("README.md")).cloned();
    let readme_text = readme.as_ref().and_then(|r| fs::read_to_string(dir.join(r)).ok());
    let card = readme_text.as_deref().and_then(card::front_matter);
    if let Some(r) = &readme {
        claimed.insert(r.clone());
    }
    let license_file = files
        .iter()
        .find(|f| {
            let upper = f.to_ascii_uppercase();
            !f.contains('/')
                && (upper.starts_with("LICENSE") || upper.starts_with("LICENCE") || upper.starts_with("COPYING"))
        })
        .cloned();
    if let Some(l) = &license_file {
        claimed.insert(l.clone());
    }

    let (datasets, dataset_files) = find_datasets(&files, &claimed);
    claimed.extend(dataset_files);

    // Hugging Face folders: the weights Transformers loads first, with the files that load them.
    let mut variants: Vec<VariantPlan> = Vec::new();
    let transformers = huggingface::models(dir, &files, &|f: &str| !claimed.contains(f));
    for model in transformers {
        let facts = combined_facts(dir, &model.weights, &mut warnings);
        let all_in_folder = !model.folder.is_empty()
            && files.iter().filter(|f| f.starts_with(&format!("{}/", model.folder))).all(|f| model.files.contains(f));
        let paths = if all_in_folder {
            vec![format!("{}/", model.folder)]
        } else {
            // The weights first, then what loads them, as a person would list them.
            let mut paths = model.weights.clone();
            paths.extend(model.loaders.iter().cloned());
            paths
        };
        let loaders = model.loaders.len();
        variants.push(VariantPlan {
            name: String::new(),
            main: model.weights[0].clone(),
            path: ModelPath::from_entries(paths),
            note: Some(format!(
                "and the {loaders} configs, tokenizer files and module folders Transformers loads it with"
            )),
            facts,
        });
        claimed.extend(model.files);
    }

    // The other model files, read for their facts, grouped into variants.
    let mut model_files: Vec<(String, Facts)> = Vec::new();
    for f in &files {
        if claimed.contains(f) || !has_extension(f, inspect::MODEL_EXTENSIONS) || huggingface::is_trainer_state(f) {
            continue;
        }
        let facts = inspect::read(&dir.join(f));
        // An XML or .bin that is not a model (OpenVINO's .bin is claimed with its .xml) stays a doc.
        if extension(f) == "xml" && facts.recognised != Recognised::Content {
            continue;
        }
        if extension(f) == "bin" && files.iter().any(|x| x == &format!("{}.xml", f.trim_end_matches(".bin"))) {
            continue;
        }
        model_files.push((f.clone(), facts));
    }
    for v in group_variants(dir, &files, &claimed, &model_files, &mut warnings) {
        for f in v.path.entries() {
            // A folder entry claims what is in it.
            if f.ends_with('/') {
                claimed.extend(files.iter().filter(|x| x.starts_with(f.as_str())).cloned());
            } else {
                claimed.insert(f.clone());
            }
        }
        variants.push(v);
    }
    variants.sort_by(|a, b| (parent(&a.main), &a.main).cmp(&(parent(&b.main), &b.main)));
    name_variants(&mut variants);

    let mut models = Vec::new();
    let mut io = None;
    // Different models in one suite: io says what the first reads and writes; the others' are in
    // the facts push records from each file, and the user is told.
    let mut io_todo = Vec::new();
    let mut io_from: Option<(&str, Vec<&str>, Vec<&str>)> = None;
    for v in &variants {
        let facts = &v.facts;
        let inputs: Vec<&str> = facts.inputs.iter().map(|t| t.name.as_str()).collect();
        let outputs: Vec<&str> = facts.outputs.iter().map(|t| t.name.as_str()).collect();
        match &io_from {
            _ if inputs.is_empty() && outputs.is_empty() => {}
            None => {
                io = Some(Io {
                    inputs: facts.inputs.iter().map(tensor).collect(),
                    outputs: facts.outputs.iter().map(tensor).collect(),
                    preprocessing: None,
                    postprocessing: None,
                });
                guessed.push(format!("io: inputs and outputs from {}", v.main));
                io_from = Some((&v.name, inputs, outputs));
            }
            Some((first, first_inputs, first_outputs)) if (first_inputs, first_outputs) != (&inputs, &outputs) => {
                io_todo.push(format!(
                    "io: says what {first} reads and writes; {} has other inputs and outputs ({} → {}), recorded \
                     from its file on push: mention them in its description",
                    v.name,
                    inputs.join(", "),
                    outputs.join(", ")
                ));
            }
            Some(_) => {}
        }
        let how =
            if facts.recognised == Recognised::Content { "read from the file" } else { "from the extension only" };
        let what = match &v.note {
            Some(note) => format!("{} {note}", v.main),
            None => v.path.to_string(),
        };
        guessed.push(format!("models: {} = {what} ({}, {how})", v.name, facts.format));
        models.push(ModelEntry {
            name: v.name.clone(),
            path: v.path.clone(),
            framework: facts.framework.clone(),
            framework_version: None,
            opset: facts.opset,
            precision: facts.precision.clone(),
            params: facts.params,
            format: (facts.format != facts.framework && facts.recognised == Recognised::Content)
                .then(|| facts.format.clone()),
            description: None,
            extensions: BTreeMap::new(),
        });
    }
    if models.is_empty() {
        return Err(Error::not_found(format!("no model file in {}", dir.display())).with_hint(
            "zoo-oci init recognises .onnx, .safetensors, .gguf, .pt/.pth, .tflite, OpenVINO .xml/.bin, .mar, .h5, .pb, …",
        ));
    }

    // Notebooks, scripts by role, and everything else as docs: nothing undeclared.
    let notebooks: Vec<String> =
        files.iter().filter(|f| !claimed.contains(*f) && extension(f) == "ipynb").cloned().collect();
    claimed.extend(notebooks.iter().cloned());
    let mut scripts = Scripts::default();
    let candidates: Vec<String> = files
        .iter()
        .filter(|f| !claimed.contains(*f) && (has_extension(f, SCRIPT_EXTENSIONS) || is_requirements(f)))
        .cloned()
        .collect();
    for f in &candidates {
        let stem = file_name(f).to_ascii_lowercase();
        let slot = if is_requirements(f) {
            None
        } else if stem.contains("train") || stem.contains("finetune") || stem.contains("fine_tune") {
            Some(&mut scripts.train)
        } else if ["infer", "predict", "serve", "demo", "run"].iter().any(|k| stem.contains(k)) {
            Some(&mut scripts.inference)
        } else if ["eval", "valid", "test", "bench"].iter().any(|k| stem.contains(k)) {
            Some(&mut scripts.validate)
        } else {
            None
        };
        match slot {
            Some(s) if s.is_none() => *s = Some(f.clone()),
            _ => scripts.other.push(f.clone()),
        }
        claimed.insert(f.clone());
    }
    for (role, path) in [("train", &scripts.train), ("inference", &scripts.inference), ("validate", &scripts.validate)]
    {
        if let Some(p) = path {
            guessed.push(format!("scripts.{role}: {p} (from its name)"));
        }
    }
    for d in &datasets {
        guessed.push(format!("datasets: {} ({}) = {}", d.name, d.role, d.path.as_deref().unwrap_or("")));
    }
    let docs: Vec<String> = files.iter().filter(|f| !claimed.contains(*f)).cloned().collect();
    let docs = collapse_folders(&files, &docs);

    // The card's facts, and what is left to fill in.
    let snapshot = huggingface::cache_snapshot(dir);
    let folder_name = dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let name = match &snapshot {
        Some((id, _)) => {
            let name = sanitise_name(id.rsplit('/').next().unwrap_or(id));
            guessed.push(format!("name: {name} (the Hugging Face cache folder of {id})"));
            name
        }
        None => sanitise_name(&folder_name),
    };
    let mut d = SuiteSpec {
        name,
        version: "0.1.0".into(),
        summary: readme_text.as_deref().and_then(first_paragraph),
        task: None,
        tags: Vec::new(),
        license: None,
        authors: Vec::new(),
        contributors: Vec::new(),
        source: None,
        references: Vec::new(),
        models,
        io,
        results: Vec::new(),
        performance: Vec::new(),
        scripts,
        notebooks,
        datasets,
        readme: None,
        license_file: None,
        docs,
        extensions: BTreeMap::new(),
    };
    if let Some((id, revision)) = &snapshot {
        d.source = Some(format!("https://huggingface.co/{id}"));
        guessed.push(format!("source: https://huggingface.co/{id} (snapshot {revision})"));
    }
    if d.summary.is_some() {
        guessed.push("summary: the README's first paragraph, as plain text".into());
    }
    if license_file.as_deref().is_some_and(|l| l != "LICENSE") {
        d.license_file = license_file.clone();
    }
    if let Some(card) = &card {
        import_card(card, &mut d, &mut guessed);
    }
    if d.license.is_none()
        && let Some(spdx) =
            license_file.as_ref().and_then(|l| fs::read_to_string(dir.join(l)).ok()).and_then(|t| license_of(&t))
    {
        guessed.push(format!("license: {spdx} (from the licence text)"));
        d.license = Some(spdx);
    }
    if d.task.is_none()
        && let Some(task) = guess_task(&d)
    {
        guessed.push(format!("task: {task} (from the inputs and outputs; check it)"));
        d.task = Some(task);
    }
    if d.summary.is_none() {
        todo.push("summary: one line saying what the model does".into());
    }
    todo.push(format!("version: {} is a placeholder; set the model's version", d.version));
    if d.task.is_none() {
        todo.push("task: a Hugging Face pipeline tag, e.g. image-classification (see schemas/taxonomy.json)".into());
    }
    if d.license.is_none() {
        todo.push("license: the SPDX identifier of the model's licence".into());
    }
    if d.authors.is_empty() {
        todo.push("authors: who made the model".into());
    }
    if d.results.is_empty() {
        todo.push("results: the metrics you measured, with their dataset".into());
    }
    if d.io.as_ref().is_none_or(|io| io.preprocessing.is_none()) {
        todo.push("io.preprocessing and io.postprocessing: how to prepare inputs and read outputs".into());
    }
    todo.extend(io_todo);
    let readme_skeleton = readme.is_none().then(|| skeleton(&d));
    let test_set = d.datasets.iter().find(|t| t.role == "test" && t.path.is_some()).map(|t| t.name.clone());
    let validate_skeleton = match (&d.scripts.validate, test_set) {
        (None, Some(test)) if !dir.join(VALIDATE_SKELETON).exists() => {
            d.scripts.validate = Some(VALIDATE_SKELETON.into());
            todo.push(format!(
                "{VALIDATE_SKELETON}: a skeleton; make it measure the metrics results[] claims on {test} (zoo-oci validate runs it)"
            ));
            Some(validate_skeleton(&test))
        }
        _ => None,
    };
    Ok(InitPlan { spec: d, guessed, todo, readme_skeleton, validate_skeleton, warnings })
}

/// One variant `init` declares.
struct VariantPlan {
    name: String,
    /// The main model file: what the variant is named and sorted by.
    main: String,
    path: ModelPath,
    /// What to tell the user besides the main file, when the path is more than it.
    note: Option<String>,
    facts: Facts,
}

/// The facts of a variant of several weight files (shards): the main file's, with the
/// parameters of all.
fn combined_facts(dir: &Path, weights: &[String], warnings: &mut Vec<String>) -> Facts {
    let read: Vec<(&String, Facts)> = weights
        .iter()
        .filter(|w| has_extension(w, inspect::MODEL_EXTENSIONS))
        .map(|w| (w, inspect::read(&dir.join(w))))
        .collect();
    for (w, facts) in &read {
        warnings.extend(facts.warnings.iter().map(|warning| format!("{w}: {warning}")));
    }
    inspect::combine(read.iter().map(|(_, f)| f)).unwrap_or_default()
}

/// Groups the model files left into variants. Files are first grouped into models (`models`:
/// shards, an ONNX graph's external data, OpenVINO's `.bin`, …); different models are different
/// variants. A folder that holds one model (or one Transformers-style export, with its
/// `config.json`) of one framework, and no model below, is one variant with the other files in it
/// that nothing claimed (configs, tokenizers, labels); other models name their files. A folder of
/// which something else claimed part (a test set) is declared by its files.
fn group_variants(
    dir: &Path,
    files: &[String],
    claimed: &BTreeSet<String>,
    model_files: &[(String, Facts)],
    warnings: &mut Vec<String>,
) -> Vec<VariantPlan> {
    let free = |f: &str| !claimed.contains(f);
    let parts = models::split_parts(files, &free);
    let mut by_folder: BTreeMap<String, Vec<(models::Model, Facts)>> = BTreeMap::new();
    for model in models::group(dir, files, &free, model_files) {
        let members: Vec<&(String, Facts)> = model.members.iter().map(|&i| &model_files[i]).collect();
        let facts = match inspect::combine(members.iter().map(|(_, f)| f)) {
            Some(facts) => facts,
            // Split parts: what the name of the file they are parts of says.
            None => split_facts(&model.files[0], &parts),
        };
        for (path, read) in &members {
            // A file another model's format keeps beside it (external data named .bin) is no model.
            let companion = read.recognised != Recognised::Content
                && facts.recognised == Recognised::Content
                && read.format != facts.format;
            if !companion {
                warnings.extend(read.warnings.iter().map(|w| format!("{path}: {w}")));
            }
        }
        by_folder.entry(parent(&model.files[0]).to_string()).or_default().push((model, facts));
    }
    let mut plans: Vec<VariantPlan> = Vec::new();
    for (folder, models) in by_folder {
        let frameworks: BTreeSet<&str> = models.iter().map(|(_, f)| f.framework.as_str()).collect();
        let other_models_below =
            model_files.iter().any(|(p, _)| p.starts_with(&format!("{folder}/")) && parent(p) != folder);
        let prefix = format!("{folder}/");
        // An export that is one model in several graphs (Optimum's encoder_model.onnx and
        // decoder_model.onnx) comes with the config.json that loads them together.
        let export = files.iter().any(|f| f == &format!("{prefix}config.json") && free(f));
        if !folder.is_empty() && frameworks.len() == 1 && !other_models_below && (models.len() == 1 || export) {
            let under: Vec<String> = files.iter().filter(|f| f.starts_with(&prefix)).cloned().collect();
            let free_under: Vec<String> = under.iter().filter(|f| free(f)).cloned().collect();
            let members: Vec<&(String, Facts)> =
                models.iter().flat_map(|(m, _)| m.members.iter().map(|&i| &model_files[i])).collect();
            let main = members
                .iter()
                .max_by_key(|(p, f)| (f.recognised == Recognised::Content, f.params.unwrap_or(0), p.len()))
                .map_or_else(|| models[0].0.files[0].clone(), |(p, _)| p.clone());
            let facts = match &models[..] {
                [(_, facts)] => facts.clone(),
                _ => inspect::combine(members.iter().map(|(_, f)| f)).unwrap_or_default(),
            };
            let path = if free_under.len() == under.len() {
                ModelPath::One(prefix)
            } else {
                ModelPath::from_entries(collapse_folders(files, &free_under))
            };
            plans.push(VariantPlan { name: String::new(), main, path, note: None, facts });
        } else {
            for (model, facts) in models {
                let main = model
                    .members
                    .iter()
                    .map(|&i| &model_files[i])
                    .max_by_key(|(p, f)| (f.recognised == Recognised::Content, f.params.unwrap_or(0), p.len()))
                    .map_or_else(|| model.files[0].clone(), |(p, _)| p.clone());
                let path = ModelPath::from_entries(collapse_folders(files, &model.files));
                plans.push(VariantPlan { name: String::new(), main, path, note: None, facts });
            }
        }
    }
    plans
}

/// The facts of a model split into parts (`model.onnx.part1`, …): from the name of the file they
/// are parts of, since no part is a whole model file to read.
fn split_facts(first: &str, parts: &BTreeMap<String, Vec<String>>) -> Facts {
    let whole = parts.iter().find(|(_, list)| list.first().is_some_and(|p| p == first)).map_or(first, |(w, _)| w);
    let ext = extension(whole);
    let framework = inspect::guessed_framework(&ext);
    Facts {
        format: ext.clone(),
        framework: framework.into(),
        recognised: Recognised::Extension,
        warnings: vec![format!(
            "split into {} parts: recognised by the extension of {whole} only",
            parts.get(whole).map_or(1, Vec::len)
        )],
        ..Facts::default()
    }
}

/// Names variants: the framework when it is unique, else framework and a distinguishing part.
fn name_variants(plans: &mut [VariantPlan]) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for p in plans.iter() {
        *counts.entry(p.facts.framework.clone()).or_default() += 1;
    }
    let mut used = BTreeSet::new();
    for p in plans.iter_mut() {
        let base = sanitise_name(&p.facts.framework);
        let mut name = if counts[&p.facts.framework] == 1 {
            base.clone()
        } else {
            // A folder variant is told by its folder, a file variant by its file.
            let told_by = match &p.path {
                ModelPath::One(path) if path.ends_with('/') => path.trim_end_matches('/'),
                _ => p.main.as_str(),
            };
            let stem = sanitise_name(models::stem(file_name(told_by)));
            match p.facts.opset {
                Some(o) if !stem.contains(&base) => format!("{base}-{stem}-opset{o}"),
                _ if stem.contains(&base) => stem,
                _ => format!("{base}-{stem}"),
            }
        };
        let mut n = 2;
        while !used.insert(name.clone()) {
            name = format!("{base}-{n}");
            n += 1;
        }
        p.name = name;
    }
}

fn tensor(t: &inspect::TensorFacts) -> Tensor {
    Tensor { name: t.name.clone(), dtype: t.dtype.clone(), shape: t.shape.clone(), layout: None, description: None }
}

/// The ONNX model zoo ships each model with `test_data_set_0/`, `test_data_set_1/`, …: the inputs
/// and expected outputs as TensorProto files (`input_0.pb`, `output_0.pb`).
fn is_onnx_test_data(folder_name: &str) -> bool {
    folder_name.strip_prefix("test_data_set_").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The datasets shipped in the folder, and the files they hold: a top-level data folder
/// ([`DATA_FOLDERS`]; one dataset per subfolder when it holds only subfolders), and every ONNX
/// test-data folder at any depth.
fn find_datasets(files: &[String], claimed: &BTreeSet<String>) -> (Vec<Dataset>, Vec<String>) {
    // Each data file's dataset folder, with its name.
    let mut roots: BTreeMap<String, String> = BTreeMap::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let free = || files.iter().filter(|f| !claimed.contains(*f));
    let top_data: BTreeSet<String> = free()
        .filter_map(|f| f.split_once('/').map(|(top, _)| top.to_string()))
        .filter(|top| DATA_FOLDERS.contains(&top.to_ascii_lowercase().as_str()))
        .collect();
    for folder in top_data {
        let prefix = format!("{folder}/");
        let inside: Vec<&String> = free().filter(|f| f.starts_with(&prefix)).collect();
        let subfolders: BTreeSet<String> =
            inside.iter().filter_map(|f| f[prefix.len()..].split_once('/').map(|(s, _)| s.to_string())).collect();
        let loose = inside.iter().any(|f| !f[prefix.len()..].contains('/'));
        if subfolders.is_empty() || loose {
            roots.insert(prefix, folder.clone());
        } else {
            for sub in subfolders {
                roots.insert(format!("{prefix}{sub}/"), sub);
            }
        }
        taken.extend(inside.into_iter().cloned());
    }
    let in_test_data: Vec<(&String, &str)> = free()
        .filter(|f| !taken.contains(f.as_str()))
        .filter_map(|f| {
            let folder = f.match_indices('/').map(|(at, _)| &f[..at]).find(|dir| is_onnx_test_data(file_name(dir)))?;
            Some((f, folder))
        })
        .collect();
    for (f, folder) in in_test_data {
        roots.insert(format!("{folder}/"), file_name(folder).to_string());
        taken.insert(f.clone());
    }
    // A name used by two datasets (test_data_set_0 of two models) becomes its path.
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for name in roots.values() {
        *uses.entry(sanitise_name(name)).or_default() += 1;
    }
    let datasets = roots
        .iter()
        .map(|(path, name)| {
            let unique = if uses[&sanitise_name(name)] > 1 {
                path.trim_end_matches('/').replace('/', "-")
            } else {
                name.clone()
            };
            let mut set = dataset(path, &unique);
            if is_onnx_test_data(name) {
                set.description =
                    Some("Inputs and expected outputs as ONNX TensorProto files (input_N.pb, output_N.pb)".into());
            }
            set
        })
        .collect();
    (datasets, taken.into_iter().collect())
}

fn dataset(path: &str, name: &str) -> Dataset {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let role = if words.iter().any(|w| w.starts_with("train")) {
        "train"
    } else if words.iter().any(|w| w.starts_with("val") || matches!(*w, "dev" | "devset")) {
        "validation"
    } else if words.iter().any(|w| w.starts_with("calib")) {
        "calibration"
    } else {
        "test" // test, test_set, testdata, eval, samples: what the model is checked on
    };
    Dataset {
        name: sanitise_name(name),
        role: role.into(),
        path: Some(path.to_string()),
        url: None,
        sha256: None,
        size: None,
        description: None,
        license: None,
    }
}

/// Every file below `dir`, suite-relative, sorted; hidden entries and the descriptor skipped.
/// Links are refused with a message naming `--dereference`, or read through; a link that cannot
/// be followed is left out with a warning.
fn list_files(dir: &Path, links: Links, warnings: &mut Vec<String>) -> Result<Vec<String>> {
    let listing = files::list(dir, links)?;
    if let Some((first, to)) = listing.links.first() {
        let more = match listing.links.len() {
            1 => String::new(),
            n => format!(", and {} more", n - 1),
        };
        return Err(Error::failed(format!(
            "{} holds symbolic links ({first} -> {to}{more}); zoo-oci packs files, not links",
            dir.display()
        ))
        .with_hint(format!(
            "pass {} to read the files they point to (a Hugging Face cache snapshot is made of links into ../../blobs/)",
            files::DEREFERENCE_FLAG
        )));
    }
    for (path, why) in &listing.unfollowable {
        warnings.push(format!("{path}: {why}; left out"));
    }
    Ok(listing.files.into_iter().filter(|f| f != "zoo.yaml" && f != "zoo.json").collect())
}

/// Declares whole folders where every file of the folder is in `chosen`.
fn collapse_folders(all: &[String], chosen: &[String]) -> Vec<String> {
    let chosen_set: BTreeSet<&String> = chosen.iter().collect();
    let mut out: Vec<String> = Vec::new();
    let mut covered: BTreeSet<String> = BTreeSet::new();
    for f in chosen {
        if covered.contains(f) {
            continue;
        }
        // The highest folder of f whose files are all chosen.
        let mut best: Option<String> = None;
        let mut prefix = String::new();
        for part in f.split('/').take(f.split('/').count() - 1) {
            prefix.push_str(part);
            prefix.push('/');
            if all.iter().filter(|x| x.starts_with(&prefix)).all(|x| chosen_set.contains(x)) {
                best = Some(prefix.clone());
                break;
            }
        }
        match best {
            Some(folder) => {
                for x in all.iter().filter(|x| x.starts_with(&folder)) {
                    covered.insert(x.clone());
                }
                out.push(folder);
            }
            None => out.push(f.clone()),
        }
    }
    out
}

fn extension(path: &str) -> String {
    file_name(path).rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

fn has_extension(path: &str, list: &[&str]) -> bool {
    list.contains(&extension(path).as_str())
}

fn is_requirements(path: &str) -> bool {
    let n = file_name(path).to_ascii_lowercase();
    n.starts_with("requirements") && n.ends_with(".txt") || n == "environment.yml" || n == "pyproject.toml"
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map(|(p, _)| p).unwrap_or("")
}

/// A name zoo.yaml accepts, `[a-z0-9][a-z0-9._-]*`.
pub fn sanitise_name(text: &str) -> String {
    let mut out: String = text
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' })
        .collect();
    while out.starts_with(|c: char| !c.is_ascii_alphanumeric()) {
        out.remove(0);
    }
    if out.is_empty() { "model".into() } else { out.chars().take(128).collect() }
}

/// The README's first paragraph of prose, for the summary: after the front matter, headings,
/// badges, images and HTML; as plain text (a registry UI shows it as such), at most 200
/// characters.
fn first_paragraph(text: &str) -> Option<String> {
    let para: Vec<&str> = card::body(text)
        .lines()
        .map(str::trim)
        .skip_while(|l| {
            l.is_empty()
                || l.starts_with('#')
                || l.starts_with('-')
                || l.starts_with('!')
                || l.starts_with('<')
                || l.starts_with('[')
        })
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let joined = card::plain_text(&para.join("\n"));
    if joined.is_empty() {
        return None;
    }
    let cut: String = joined.chars().take(200).collect();
    Some(if joined.chars().count() > 200 { format!("{}…", cut.trim_end()) } else { cut })
}

fn spdx(license: &str) -> String {
    let known = [
        ("apache-2.0", "Apache-2.0"),
        ("mit", "MIT"),
        ("bsd-2-clause", "BSD-2-Clause"),
        ("bsd-3-clause", "BSD-3-Clause"),
        ("cc-by-4.0", "CC-BY-4.0"),
        ("cc-by-sa-4.0", "CC-BY-SA-4.0"),
        ("cc-by-nc-4.0", "CC-BY-NC-4.0"),
        ("cc0-1.0", "CC0-1.0"),
        ("gpl-3.0", "GPL-3.0-only"),
        ("lgpl-3.0", "LGPL-3.0-only"),
        ("agpl-3.0", "AGPL-3.0-only"),
        ("mpl-2.0", "MPL-2.0"),
        ("unlicense", "Unlicense"),
        ("artistic-2.0", "Artistic-2.0"),
    ];
    let lower = license.trim().to_ascii_lowercase();
    if let Some((_, id)) = known.iter().find(|(k, _)| *k == lower) {
        return id.to_string();
    }
    // The Hub's other ids (openrail, llama3, gemma…) name licences SPDX does not list: written
    // as LicenseRef-ID, the SPDX way to name one, so that check passes what init wrote.
    match crate::suite::license::judge(license) {
        crate::suite::license::Verdict::Invalid { .. } if is_license_ref_able(license.trim()) => {
            format!("LicenseRef-{}", license.trim())
        }
        _ => license.trim().to_string(),
    }
}

/// Whether `id` can follow `LicenseRef-`: letters, digits, `.` and `-`.
fn is_license_ref_able(id: &str) -> bool {
    !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// The SPDX identifier of a licence text, for the common ones, from its first lines.
fn license_of(text: &str) -> Option<String> {
    let head: String = text.lines().take(12).collect::<Vec<_>>().join(" ").to_ascii_lowercase();
    let id = if head.contains("apache license") && head.contains("version 2.0") {
        "Apache-2.0"
    } else if head.contains("mit license") || head.contains("permission is hereby granted, free of charge") {
        "MIT"
    } else if head.contains("bsd 3-clause") {
        "BSD-3-Clause"
    } else if head.contains("bsd 2-clause") {
        "BSD-2-Clause"
    } else if head.contains("gnu general public license") && head.contains("version 3") {
        "GPL-3.0-only"
    } else if head.contains("mozilla public license") && head.contains("2.0") {
        "MPL-2.0"
    } else {
        return None;
    };
    Some(id.to_string())
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

/// Imports a Hugging Face card: license, pipeline_tag, tags, datasets, base_model, model-index.
fn import_card(card: &Value, d: &mut SuiteSpec, guessed: &mut Vec<String>) {
    if let Some(l) = card["license"].as_str() {
        d.license = Some(spdx(l));
        guessed.push(format!("license: {} (model card)", spdx(l)));
    }
    if let Some(c) = card["pipeline_tag"].as_str().and_then(taxonomy::canonical) {
        d.task = Some(c.task.clone());
        guessed.push(format!("task: {} (model card pipeline_tag)", c.task));
    }
    let mut tags: Vec<String> =
        strings(&card["tags"]).into_iter().map(|t| t.replace(',', " ")).filter(|t| !t.trim().is_empty()).collect();
    tags.sort();
    tags.dedup();
    if !tags.is_empty() {
        guessed.push(format!("tags: {} (model card)", tags.len()));
        d.tags = tags;
    }
    for (i, id) in strings(&card["datasets"]).iter().enumerate() {
        let name = sanitise_name(id.rsplit('/').next().unwrap_or(id));
        if d.datasets.iter().any(|x| x.name == name) {
            continue;
        }
        d.datasets.push(Dataset {
            name,
            role: "train".into(),
            path: None,
            url: Some(format!("https://huggingface.co/datasets/{id}")),
            sha256: None,
            size: None,
            description: Some(format!("Training data named by the model card ({id})")),
            license: None,
        });
        if i == 0 {
            guessed.push("datasets: the model card's training sets, by URL".into());
        }
    }
    for base in strings(&card["base_model"]) {
        d.references.push(Citation {
            title: format!("Base model: {base}"),
            url: Some(format!("https://huggingface.co/{base}")),
            doi: None,
        });
    }
    if let Some(language) = card.get("language").filter(|l| !l.is_null()) {
        d.extensions.insert("x-language".into(), language.clone());
    }
    if let Some(library) = card["library_name"].as_str() {
        d.extensions.insert("x-library".into(), json!(library));
    }
    if let Some(index) = card["model-index"].as_array() {
        for model in index {
            for result in model["results"].as_array().into_iter().flatten() {
                let ds = &result["dataset"];
                let metrics: Vec<Metric> = result["metrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|m| {
                        Some(Metric {
                            kind: m["type"].as_str()?.to_string(),
                            value: m["value"].as_f64()?,
                            name: m["name"].as_str().map(String::from),
                            tolerance: None,
                        })
                    })
                    .collect();
                let Some(name) = ds["name"].as_str().or_else(|| ds["type"].as_str()) else { continue };
                if metrics.is_empty() {
                    continue;
                }
                d.results.push(EvalResult {
                    dataset: DatasetRef {
                        name: name.to_string(),
                        split: ds["split"].as_str().map(String::from),
                        kind: ds["type"].as_str().map(String::from),
                        config: ds["config"].as_str().map(String::from),
                    },
                    metrics,
                });
            }
        }
        if !d.results.is_empty() {
            guessed.push(format!("results: {} from the model card's model-index", d.results.len()));
        }
    }
}

/// A task from the shape of the first model's inputs: a 4-D float image tensor with 1000 outputs
/// is almost always ImageNet classification. Only used when nothing better is known.
fn guess_task(d: &SuiteSpec) -> Option<String> {
    let io = d.io.as_ref()?;
    let input = io.inputs.first()?;
    let shape = input.shape.as_ref()?;
    let dims: Vec<i64> = shape.iter().map(|v| v.as_i64().unwrap_or(-1)).collect();
    let image = dims.len() == 4 && (dims[1] == 3 || dims[3] == 3);
    let classes = io.outputs.first().and_then(|o| o.shape.as_ref()).and_then(|s| s.last()).and_then(Value::as_i64);
    (image && classes.is_some_and(|c| c >= 2)).then(|| "image-classification".to_string())
}

/// A README with the sections a model-zoo user looks for, to fill in.
fn skeleton(d: &SuiteSpec) -> String {
    let variants: Vec<String> =
        d.models.iter().map(|m| format!("| {} | {} | {} |", m.name, m.framework, m.path)).collect();
    format!(
        "{card}# {name}\n\nTODO: one paragraph: what the model does, and for whom.\n\n## Task and background\n\nTODO: the task ({task}), the data it was trained on, and the paper or project it comes from.\n\n## Model details\n\n| Variant | Framework | Path |\n|---|---|---|\n{variants}\n\nTODO: size, parameters, metrics and how they were measured.\n\n## Inputs and outputs\n\nTODO: formats and shapes; preprocessing (resize, normalise, tokenise); postprocessing (softmax, labels, decoding).\n\n## Usage\n\n### Inference\n\n```sh\nzoo-oci pull REGISTRY/{name}:{version} -o {name} --only model\n```\n\nTODO: how to run inference.\n\n### Validation\n\nTODO: how to reproduce the reported metrics on the test set.\n\n### Training\n\nTODO: how the model was trained, and how to train it again.\n\n## References\n\nTODO: papers, source repository.\n\n## Contributors\n\nTODO\n\n## License\n\nTODO: the licence of the weights, and of the code.\n",
        card = card_front_matter(d),
        name = d.name,
        version = d.version,
        task = d.task.as_deref().unwrap_or("TODO"),
        variants = variants.join("\n"),
    )
}

/// A Hugging Face model card's front matter for a new README: the licence (Hugging Face's
/// lower-case ids; an expression is `other` with its name), the task as `pipeline_tag`, and the
/// tags, so that the Hub and `huggingface_hub.ModelCard` read the README as a card.
fn card_front_matter(d: &SuiteSpec) -> String {
    let mut lines = vec!["---".to_string()];
    if let Some(license) = &d.license {
        if license.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+')) {
            lines.push(format!("license: {}", license.to_ascii_lowercase()));
        } else {
            lines.push("license: other".into());
            lines.push(format!("license_name: {}", serde_json::to_string(license).expect("strings serialise")));
        }
    }
    if let Some(task) = &d.task {
        lines.push(format!("pipeline_tag: {task}"));
    }
    let mut tags: Vec<&str> = vec!["zoo-oci"];
    tags.extend(d.tags.iter().map(String::as_str));
    lines.push("tags:".into());
    lines.extend(tags.iter().map(|t| format!("- {}", serde_json::to_string(t).expect("strings serialise"))));
    lines.push("---".into());
    format!("{}\n\n", lines.join("\n"))
}

/// Where `init` writes its validate skeleton.
const VALIDATE_SKELETON: &str = "scripts/validate.py";

/// The validate script `init` writes: `zoo-oci validate`'s contract, and a clear failure until
/// it measures something.
fn validate_skeleton(test_set: &str) -> String {
    format!(
        r#"#!/usr/bin/env python3
"""Measure this suite's metrics on its test set, for `zoo-oci validate`.

zoo-oci validate runs this script in a sandbox (no network, no home folder), in the suite's
folder, read-only, with a private writable TMPDIR, and these variables:

    ZOO_OCI_MODEL    the chosen model variant's path (a file or a folder)
    ZOO_OCI_DATA     the test dataset's folder ({test_set})
    ZOO_OCI_METRICS  the file to write the measured metrics to: one JSON object,
                     {{"metric type": number, ...}}

It then compares each number with the claim in zoo.yaml's results[] whose dataset.name is
"{test_set}" and whose metrics[].type is the same key, within the metric's tolerance (default:
half a unit in the last decimal the claim is written with).
"""

import json
import os
import sys


def measure(model_path, data_dir):
    """Load the model at model_path, run it on the test set in data_dir, return the metrics."""
    raise NotImplementedError(
        "scripts/validate.py is zoo-oci init's skeleton: make measure() load the model, run it "
        "on the test set and return e.g. {{'accuracy': 0.93}}"
    )


def main():
    metrics = measure(os.environ["ZOO_OCI_MODEL"], os.environ["ZOO_OCI_DATA"])
    with open(os.environ["ZOO_OCI_METRICS"], "w", encoding="utf-8") as f:
        json.dump(metrics, f)
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
"#
    )
}

/// Writes the plan into `dir`: `zoo.yaml` (refused if present unless `force`), the README
/// skeleton when there was no README, and the validate skeleton when there was a test set and no
/// validate script. Returns the paths written.
pub fn write(dir: &Path, plan: &InitPlan, force: bool) -> Result<Vec<PathBuf>> {
    let target = dir.join("zoo.yaml");
    if (target.exists() || dir.join("zoo.json").exists()) && !force {
        return Err(Error::failed(format!("{} already has a descriptor", dir.display()))
            .with_hint("pass --force to replace it, or edit it by hand"));
    }
    let yaml = serde_saphyr::to_string(&plan.spec).map_err(|e| Error::failed("could not write YAML").with_cause(e))?;
    let text = format!(
        "# Written by zoo-oci init: check the guesses, fill in the TODOs it printed, then run zoo-oci check.\n# Reference: the README's descriptor section; schema: schemas/zoo.schema.json.\n{yaml}"
    );
    let mut written = Vec::new();
    if let Some(readme) = &plan.readme_skeleton {
        let path = dir.join("README.md");
        if !path.exists() {
            fs::write(&path, readme).map_err(|e| Error::io("write", &path, e))?;
            written.push(path);
        }
    }
    if let Some(script) = &plan.validate_skeleton {
        let path = dir.join(VALIDATE_SKELETON);
        if !path.exists() {
            let folder = path.parent().expect("a script path has a folder");
            fs::create_dir_all(folder).map_err(|e| Error::io("create", folder, e))?;
            fs::write(&path, script).map_err(|e| Error::io("write", &path, e))?;
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).map_err(|e| Error::io("write", &path, e))?;
            written.push(path);
        }
    }
    fs::write(&target, text).map_err(|e| Error::io("write", &target, e))?;
    written.push(target);
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_licence_becomes_an_spdx_expression_check_accepts() {
        assert_eq!(spdx("apache-2.0"), "Apache-2.0");
        assert_eq!(spdx("MIT"), "MIT");
        assert_eq!(spdx("openrail"), "LicenseRef-openrail");
        assert_eq!(spdx("llama3.1"), "LicenseRef-llama3.1");
        assert_eq!(spdx("other"), "other");
        for written in ["Apache-2.0", "LicenseRef-openrail", "LicenseRef-llama3.1"] {
            assert_eq!(crate::suite::license::judge(written), crate::suite::license::Verdict::Valid, "{written}");
        }
    }
}
