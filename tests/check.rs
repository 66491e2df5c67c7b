//! `zoo-oci check`: the descriptor, the schema, and every problem listed at once.

use std::fs;
use std::os::unix::fs::symlink;

use serde_json::Value;

use crate::util::*;

fn schema() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&fs::read_to_string(repo().join("schemas/zoo.schema.json")).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn yaml_to_json(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

#[test]
fn a_valid_suite_checks_clean() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).ok().stdout_has("ok: tiny 1.0.0: 9 layers");
}

#[test]
fn every_example_suite_validates_against_the_schema() {
    let validator = schema();
    let mut seen = 0;
    for entry in fs::read_dir(repo().join("examples")).unwrap() {
        let path = entry.unwrap().path().join("zoo.yaml");
        if !path.is_file() {
            continue;
        }
        let value = yaml_to_json(&fs::read_to_string(&path).unwrap());
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        seen += 1;
    }
    assert!(seen >= 2, "expected at least two example suites, found {seen}");
    let value = yaml_to_json(SMALL_SUITE_YAML);
    assert!(validator.is_valid(&value));
}

#[test]
fn the_schema_rejects_what_the_parser_rejects() {
    // Each of these fails to deserialise into the descriptor type; the schema must say so too,
    // so that editors using the schema and zoo-oci agree.
    let validator = schema();
    let bad = [
        "version: '1'\nmodels: [{name: a, path: a, framework: onnx}]", // no name
        "name: a\nmodels: [{name: a, path: a, framework: onnx}]",      // no version
        "name: a\nversion: '1'",                                       // no models
        "name: a\nversion: '1'\nmodels: [{name: a, framework: onnx}]", // model without path
        "name: a\nversion: '1'\nmodels: [{name: a, path: a}]",         // model without framework
        "name: a\nversion: '1'\nmodels: [{name: a, path: a, framework: onnx, params: -1}]",
        "name: a\nversion: '1'\nmodels: [{name: a, path: a, framework: onnx, opset: nine}]",
        "name: a\nversion: '1'\nmodels: {name: a}",
        "name: a\nversion: '1'\ntags: tagged\nmodels: [{name: a, path: a, framework: onnx}]",
        "name: a\nversion: '1'\nmodels: [{name: a, path: a, framework: onnx}]\nresults: [{dataset: {name: x}, metrics: [{type: acc, value: high}]}]",
        "name: a\nversion: '1'\nmodels: [{name: a, path: a, framework: onnx}]\ndatasets: [{name: d, role: test, path: d, size: -3}]",
        "name: a\nversion: 1.0\nmodels: [{name: a, path: a, framework: onnx}]",
    ];
    for text in bad {
        let value = yaml_to_json(text);
        let parsed: Result<zoo_oci::suite::SuiteSpec, _> = serde_json::from_value(value.clone());
        assert!(parsed.is_err(), "the parser accepts {text:?}");
        assert!(!validator.is_valid(&value), "the schema accepts {text:?}");
    }
}

#[test]
fn check_lists_every_problem_at_once_with_its_field() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    let yaml = SMALL_SUITE_YAML
        .replace("path: models/model.safetensors", "path: models/missing.safetensors")
        .replace("name: safetensors", "name: onnx-opset13")
        .replace("path: data/test/", "path: ../outside/")
        .replace("task: image-classification", "task: image-clasification");
    write(&dir, "zoo.yaml", yaml, false);
    let run = run_in(tmp.path(), &["check", dir.to_str().unwrap()]);
    run.code(1)
        .stderr_has("zoo.yaml: models[1].path: models/missing.safetensors does not exist")
        .stderr_has("duplicate variant name \"onnx-opset13\"")
        .stderr_has("datasets[0].path")
        .stderr_has("unknown task \"image-clasification\"")
        .stderr_has("did you mean \"image-classification\"");
}

#[test]
fn yaml_syntax_errors_name_line_and_column() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(&dir, "zoo.yaml", "name: tiny\nversion: \"1\"\nmodels: [{name: a, path: b\n", false);
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).code(1).stderr_has("zoo.yaml: invalid YAML: line 3");
}

#[test]
fn schema_errors_name_the_field_and_suggest_quoting_numbers() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(
        &dir,
        "zoo.yaml",
        SMALL_SUITE_YAML.replace("version: \"1.0.0\"", "version: 1.10").replace("name: tiny", "name: Tiny"),
        false,
    );
    // YAML reads 1.10 as 1.1: the hint quotes the version as it was written.
    run_in(tmp.path(), &["check", dir.to_str().unwrap()])
        .code(1)
        .stderr_has("zoo.yaml: version")
        .stderr_has("YAML reads 1.10 as the number 1.1: quote it, e.g. \"1.10\"")
        .stderr_has("zoo.yaml: name");
}

/// Model files nobody could load are caught by check and push, with the readers init uses:
/// empty, truncated, another format than the extension says, an empty variant folder.
#[test]
fn broken_model_files_are_warned_about_and_strict_refuses_them() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    let onnx = fs::read(dir.join("models/onnx/model.onnx")).unwrap();
    let safetensors = fs::read(dir.join("models/model.safetensors")).unwrap();
    write(&dir, "models/broken/cut.onnx", &onnx[..onnx.len() / 2], false);
    write(&dir, "models/broken/cut.safetensors", &safetensors[..100], false);
    write(&dir, "models/broken/empty.safetensors", b"", false);
    write(&dir, "models/broken/zip.onnx", b"PK\x03\x04 not a model at all", false);
    fs::create_dir_all(dir.join("models/nothing")).unwrap();
    let extra = [
        "  - {name: cut-onnx, path: models/broken/cut.onnx, framework: onnx}",
        "  - {name: cut-st, path: models/broken/cut.safetensors, framework: safetensors}",
        "  - {name: empty-st, path: models/broken/empty.safetensors, framework: safetensors}",
        "  - {name: zip, path: models/broken/zip.onnx, framework: onnx}",
        "  - {name: nothing, path: models/nothing/, framework: onnx}",
    ];
    let yaml = SMALL_SUITE_YAML.replace("io:\n", &format!("{}\nio:\n", extra.join("\n")));
    write(&dir, "zoo.yaml", yaml, false);
    let d = dir.to_str().unwrap();
    let checked = run_in(tmp.path(), &["check", d]);
    checked
        .ok()
        .stderr_has("models/broken/cut.onnx is not a complete ONNX file")
        .stderr_has("models/broken/cut.safetensors is not a complete safetensors file")
        .stderr_has("models/broken/empty.safetensors is empty")
        .stderr_has("models/broken/zip.onnx is named .onnx, but holds a zip archive")
        .stderr_has("the variant nothing holds no file");
    assert!(
        !checked.stderr.contains("models/onnx/model.onnx") && !checked.stderr.contains("models/model.safetensors"),
        "good files pass: {}",
        checked.stderr
    );
    run_in(tmp.path(), &["check", "--strict", d]).code(1);
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", "--strict", d, &format!("oci:{}", layout.display())])
        .code(1)
        .stderr_has("nothing was pushed");
    assert!(!layout.exists());
}

#[test]
fn a_missing_descriptor_says_what_to_write() {
    let tmp = scratch();
    run_in(tmp.path(), &["check", "."]).code(1).stderr_has("no zoo.yaml here");
}

#[test]
fn zoo_json_is_accepted_too() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    let value = yaml_to_json(SMALL_SUITE_YAML);
    fs::remove_file(dir.join("zoo.yaml")).unwrap();
    fs::write(dir.join("zoo.json"), serde_json::to_vec_pretty(&value).unwrap()).unwrap();
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).ok();
}

#[test]
fn undeclared_files_are_warned_about_and_strict_makes_them_errors() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(&dir, "notes/todo.txt", "stray", false);
    write(&dir, ".hidden", "hidden files are ignored", false);
    let d = dir.to_str().unwrap();
    run_in(tmp.path(), &["check", d]).ok().stderr_has("warning: notes/todo.txt: not declared");
    let strict = run_in(tmp.path(), &["check", "--strict", d]);
    strict.code(1).stderr_has("notes/todo.txt");
    assert!(!strict.stderr.contains(".hidden"), "{}", strict.stderr);
    // push --strict refuses too, and writes nothing
    let layout = tmp.path().join("layout");
    run_in(tmp.path(), &["push", "--strict", d, &format!("oci:{}", layout.display())]).code(1);
    assert!(!layout.exists(), "a refused push created the layout");
}

#[test]
fn a_symlink_in_the_suite_is_an_error_naming_it() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    symlink("/etc/passwd", dir.join("data/test/passwd")).unwrap();
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).code(1).stderr_has("data/test/passwd: is a symbolic link");
}

#[test]
fn a_symlinked_folder_cannot_lead_out_of_the_suite() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    fs::create_dir_all(tmp.path().join("elsewhere")).unwrap();
    write(tmp.path(), "elsewhere/secret.bin", "secret", false);
    symlink(tmp.path().join("elsewhere"), dir.join("linked")).unwrap();
    write(&dir, "zoo.yaml", SMALL_SUITE_YAML.replace("docs: [docs/]", "docs: [docs/, linked/secret.bin]"), false);
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).code(1).stderr_has("linked: is a symbolic link");
}

#[test]
fn a_file_declared_twice_is_an_error() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(
        &dir,
        "zoo.yaml",
        SMALL_SUITE_YAML.replace("other: [scripts/common.py]", "other: [scripts/common.py, scripts/infer.py]"),
        false,
    );
    run_in(tmp.path(), &["check", dir.to_str().unwrap()])
        .code(1)
        .stderr_has("scripts/infer.py is already declared by scripts.inference");
}

#[test]
fn a_suite_without_readme_is_refused() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    fs::remove_file(dir.join("README.md")).unwrap();
    run_in(tmp.path(), &["check", dir.to_str().unwrap()]).code(1).stderr_has("a suite needs a README");
}

#[test]
fn check_json_lists_problems_for_programs() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(&dir, "stray.txt", "x", false);
    let run = run_in(tmp.path(), &["check", "--format", "json", dir.to_str().unwrap()]);
    run.ok();
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["warnings"], 1);
    assert_eq!(v["problems"][0]["at"], "stray.txt");
    assert_eq!(v["problems"][0]["severity"], "warning");
}

/// A suite whose `hf` variant is named by a list of a glob, a file and a folder, as a Hugging Face
/// folder's weights and the files that load them are, beside a second variant of one file.
fn suite_with_a_variant_of_several_paths(root: &std::path::Path) -> std::path::PathBuf {
    let dir = root.join("listed");
    write(&dir, "weights/part-1.safetensors", safetensors_model(&pseudo_random(4_000, 7)), false);
    write(&dir, "weights/part-2.safetensors", safetensors_model(&pseudo_random(4_000, 8)), false);
    write(&dir, "weights/notes.txt", "not a weight", false);
    write(&dir, "config.json", "{\"model_type\": \"bert\"}", false);
    write(&dir, "tokenizer/vocab.txt", "[PAD]\n[UNK]\n", false);
    write(&dir, "tokenizer/merges.txt", "#version: 0.2\n", false);
    write(&dir, "model.onnx", onnx_model(13, &pseudo_random(4_000, 9)), false);
    write(&dir, "README.md", "# Listed\n", false);
    write(&dir, "zoo.yaml", LISTED_YAML, false);
    dir
}

const LISTED_YAML: &str = r#"name: listed
version: "1.0.0"
summary: A variant named by several paths
license: MIT
models:
  - name: hf
    path: ["weights/*.safetensors", config.json, tokenizer/, weights/part-1.safetensors]
    framework: safetensors
  - {name: onnx, path: model.onnx, framework: onnx}
docs: [weights/notes.txt]
"#;

#[test]
fn a_variant_of_several_paths_and_globs_packs_them_all_and_pulls_by_name() {
    let tmp = scratch();
    let dir = suite_with_a_variant_of_several_paths(tmp.path());
    assert!(schema().is_valid(&yaml_to_json(LISTED_YAML)), "the schema takes a list of paths and globs");
    run_in(tmp.path(), &["check", "--strict", dir.to_str().unwrap()]).ok().stdout_has("ok: listed 1.0.0: 6 layers");
    let layout = tmp.path().join("zoo");
    let location = format!("oci:{}:v", layout.display());
    run_in(tmp.path(), &["push", "-q", dir.to_str().unwrap(), &location]).ok();
    let m = manifest(&layout, "v");
    // Each shard a raw layer; the config and the tokenizer one weight.config layer, whose
    // path is the common folder of the variant's paths.
    let paths: Vec<&str> = m["layers"].as_array().unwrap()[..3]
        .iter()
        .map(|l| l["annotations"]["org.cncf.model.filepath"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["weights/part-1.safetensors", "weights/part-2.safetensors", "./"]);
    assert_eq!(m["layers"][2]["mediaType"], "application/vnd.cncf.model.weight.config.v1.tar");

    let out = tmp.path().join("hf");
    run_in(tmp.path(), &["pull", "-q", &location, "--variant", "hf", "--only", "model", "-o", out.to_str().unwrap()])
        .ok();
    let pulled: Vec<String> = tree(&out).into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(
        pulled,
        [
            "config.json",
            "tokenizer/merges.txt",
            "tokenizer/vocab.txt",
            "weights/part-1.safetensors",
            "weights/part-2.safetensors"
        ],
        "each file the glob, the file and the folder name, once; the .txt beside the weights is a doc"
    );
    for (name, bytes, _) in tree(&out) {
        assert_eq!(bytes, fs::read(dir.join(&name)).unwrap(), "{name}");
    }
    let onnx = tmp.path().join("onnx");
    run_in(
        tmp.path(),
        &["pull", "-q", &location, "--variant", "onnx", "--only", "model", "-o", onnx.to_str().unwrap()],
    )
    .ok();
    assert_eq!(tree(&onnx).into_iter().map(|(name, _, _)| name).collect::<Vec<_>>(), ["model.onnx"]);
    // Each shard's facts are recorded with its own layer.
    let record: Value = serde_json::from_str(m["annotations"]["io.zoo-oci.suite"].as_str().unwrap()).unwrap();
    for (i, shard) in ["weights/part-1.safetensors", "weights/part-2.safetensors"].iter().enumerate() {
        let facts = record["layers"][i]["facts"].as_object().unwrap();
        assert_eq!(facts.keys().collect::<Vec<_>>(), [shard]);
    }
}

#[test]
fn a_variant_glob_that_names_nothing_or_does_not_parse_is_an_error_at_its_entry() {
    let tmp = scratch();
    let dir = suite_with_a_variant_of_several_paths(tmp.path());
    let d = dir.to_str().unwrap();
    write(&dir, "zoo.yaml", LISTED_YAML.replace("\"weights/*.safetensors\"", "\"weights/*.gguf\""), false);
    run_in(tmp.path(), &["check", d])
        .code(1)
        .stderr_has("zoo.yaml: models[0].path[0]: weights/*.gguf matches no file")
        .stderr_has("weights/part-2.safetensors: not declared");
    write(&dir, "zoo.yaml", LISTED_YAML.replace("\"weights/*.safetensors\"", "\"weights/[.safetensors\""), false);
    run_in(tmp.path(), &["check", d])
        .code(1)
        .stderr_has("zoo.yaml: models[0].path[0]: \"weights/[.safetensors\" is not a valid glob");
    // A file one variant names twice is shipped once; one that two fields name is an error.
    write(
        &dir,
        "zoo.yaml",
        LISTED_YAML.replace("docs: [weights/notes.txt]", "docs: [weights/notes.txt, config.json]"),
        false,
    );
    run_in(tmp.path(), &["check", d]).code(1).stderr_has("config.json is already declared by models[0].path");
    // '*' stays within its folder.
    write(&dir, "zoo.yaml", LISTED_YAML.replace("\"weights/*.safetensors\"", "\"*.safetensors\""), false);
    run_in(tmp.path(), &["check", d]).code(1).stderr_has("models[0].path[0]: *.safetensors matches no file");
    // The schema refuses an empty list and a list entry that leaves the suite.
    let validator = schema();
    for bad in ["path: []", "path: [config.json, ../outside]", "path: [config.json, config.json]"] {
        let text = LISTED_YAML
            .replace("path: [\"weights/*.safetensors\", config.json, tokenizer/, weights/part-1.safetensors]", bad);
        assert!(!validator.is_valid(&yaml_to_json(&text)), "the schema accepts {bad}");
    }
    write(&dir, "zoo.yaml", LISTED_YAML.replace("config.json, tokenizer/", "../config.json, tokenizer/"), false);
    run_in(tmp.path(), &["check", d]).code(1).stderr_has("zoo.yaml: models[0].path[1]");
    // A file whose name looks like a glob is that file ("[1]" as a glob would match "1" only).
    fs::rename(dir.join("model.onnx"), dir.join("model[1].onnx")).unwrap();
    write(&dir, "zoo.yaml", LISTED_YAML.replace("path: model.onnx", "path: \"model[1].onnx\""), false);
    run_in(tmp.path(), &["check", "--strict", d]).ok();
}

/// Regression: a variant whose one path was refused (it leaves the suite) made `check` and
/// `push` panic on the common folder of no path.
#[test]
fn a_model_path_that_leaves_the_suite_is_refused_not_a_panic() {
    let tmp = scratch();
    let dir = small_suite(tmp.path());
    write(tmp.path(), "etc/passwd", "a decoy outside the suite", false);
    write(&dir, "zoo.yaml", SMALL_SUITE_YAML.replace("path: models/onnx/", "path: ../etc/passwd"), false);
    let d = dir.to_str().unwrap();
    run_in(tmp.path(), &["check", d]).code(1).stderr_has("../etc/passwd");
    let layout = tmp.path().join("zoo");
    run_in(tmp.path(), &["push", d, &format!("oci:{}:1", layout.display())]).code(1).stderr_has("../etc/passwd");
    assert!(!layout.join("index.json").exists(), "nothing was pushed");
}
