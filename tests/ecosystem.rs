//! Other tools' model artifacts, built as those tools build them (see the notes on modctl's
//! builder: one layer per file, raw by default since 0.1, `weight.config` for configs and
//! tokenizers, a compact Go-ordered manifest with the regenerated Modelfile as an annotation;
//! legacy `vnd.cnai` names and config quirks before 0.2), pushed to a real registry with
//! `zoo-oci copy`, then read back with `inspect`, `pull` and `copy`.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::registry::Registry;
use crate::util::*;

/// One layer as a tool wrote it: media type, blob, annotations in the order Go sorts them.
struct Layer {
    media_type: String,
    bytes: Vec<u8>,
    annotations: Vec<(String, String)>,
}

/// A raw modctl layer of `path` (under the given prefix, `cncf` or `cnai`): the file's bytes,
/// the file path and modctl's file metadata (typeflag the number 0, mode 420).
fn modctl_raw(prefix: &str, kind: &str, path: &str, bytes: &[u8]) -> Layer {
    let name = path.rsplit('/').next().unwrap();
    let metadata = format!(
        r#"{{"name":"{name}","mode":420,"uid":1000,"gid":1000,"size":{},"mtime":"2026-08-05T10:27:51.123456789+08:00","typeflag":0}}"#,
        bytes.len()
    );
    Layer {
        media_type: format!("application/vnd.{prefix}.model.{kind}.v1.raw"),
        bytes: bytes.to_vec(),
        // "file.metadata+json" sorts before "filepath" ('.' < 'p').
        annotations: vec![
            (format!("org.{prefix}.model.file.metadata+json"), metadata),
            (format!("org.{prefix}.model.filepath"), path.to_string()),
        ],
    }
}

/// A tar modctl layer of one file, as Go's `tar.FileInfoHeader` writes it: one entry named by
/// the path, no parent folders, the owner's ids and names, mtime in whole seconds.
fn modctl_tar(prefix: &str, kind: &str, path: &str, bytes: &[u8]) -> Layer {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_path(path).unwrap();
    header.set_mode(0o644);
    header.set_uid(1000);
    header.set_gid(1000);
    header.set_username("user").unwrap();
    header.set_groupname("user").unwrap();
    header.set_mtime(1_785_896_871);
    header.set_size(bytes.len() as u64);
    header.set_entry_type(tar::EntryType::Regular);
    header.set_cksum();
    builder.append(&header, bytes).unwrap();
    Layer {
        media_type: format!("application/vnd.{prefix}.model.{kind}.v1.tar"),
        bytes: builder.into_inner().unwrap(),
        annotations: vec![(format!("org.{prefix}.model.filepath"), path.to_string())],
    }
}

/// Writes the artifact into a new OCI layout at `layout`, tagged `tag`: the blobs, the config
/// as given, and the manifest as compact JSON in Go's field order.
fn write_layout(
    layout: &Path,
    tag: &str,
    artifact_type: &str,
    config_type: &str,
    config: &[u8],
    layers: &[Layer],
    annotations: &[(&str, &str)],
) -> String {
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let put = |bytes: &[u8]| {
        let digest = zoo_oci::digest::of_bytes(bytes);
        fs::write(blob_path(layout, &digest), bytes).unwrap();
        digest
    };
    let quote = |s: &str| serde_json::to_string(s).unwrap();
    let descriptors: Vec<String> = layers
        .iter()
        .map(|l| {
            let annotations: Vec<String> =
                l.annotations.iter().map(|(k, v)| format!("{}:{}", quote(k), quote(v))).collect();
            format!(
                r#"{{"mediaType":{},"digest":"{}","size":{},"annotations":{{{}}}}}"#,
                quote(&l.media_type),
                put(&l.bytes),
                l.bytes.len(),
                annotations.join(",")
            )
        })
        .collect();
    let manifest_annotations: Vec<String> =
        annotations.iter().map(|(k, v)| format!("{}:{}", quote(k), quote(v))).collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":{},"config":{{"mediaType":{},"digest":"{}","size":{}}},"layers":[{}]{}}}"#,
        quote(artifact_type),
        quote(config_type),
        put(config),
        config.len(),
        descriptors.join(","),
        if manifest_annotations.is_empty() {
            String::new()
        } else {
            format!(r#","annotations":{{{}}}"#, manifest_annotations.join(","))
        }
    );
    let digest = put(manifest.as_bytes());
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"{tag}"}}}}]}}"#,
        manifest.len()
    );
    fs::write(layout.join("index.json"), index).unwrap();
    digest
}

/// The files of a Qwen2-like Hugging Face model as modctl sees a workspace.
struct Model {
    config: Vec<u8>,
    tokenizer: Vec<u8>,
    shard1: Vec<u8>,
    shard2: Vec<u8>,
    readme: Vec<u8>,
}

fn model() -> Model {
    Model {
        config: br#"{"model_type":"qwen2","torch_dtype":"bfloat16","transformers_version":"4.44.0"}"#.to_vec(),
        tokenizer: br#"{"version":"1.0","model":{"type":"BPE"}}"#.to_vec(),
        shard1: safetensors_model(&pseudo_random(40_000, 1)),
        shard2: safetensors_model(&pseudo_random(30_000, 2)),
        readme: b"# Qwen2-0.5B\n\nA small language model.\n".to_vec(),
    }
}

const MODELFILE: &str = "# Generated at 2026-08-05T10:27:51+08:00\n\n# Model name\nNAME Qwen2-0.5B\n\n# Config files (Generated from the files in the workspace directory)\nCONFIG config.json\nCONFIG tokenizer.json\n\n# Model files (Generated from the files in the workspace directory)\nMODEL model-00001-of-00002.safetensors\nMODEL model-00002-of-00002.safetensors\n\n# Documentation files (Generated from the files in the workspace directory)\nDOC README.md\n";

/// Layers in modctl's processor order (configs, weights, code, docs), each sorted by path.
fn modctl_layers(prefix: &str, m: &Model, raw: bool) -> Vec<Layer> {
    let layer = |kind: &str, path: &str, bytes: &[u8]| {
        if raw { modctl_raw(prefix, kind, path, bytes) } else { modctl_tar(prefix, kind, path, bytes) }
    };
    vec![
        layer("weight.config", "config.json", &m.config),
        layer("weight.config", "tokenizer.json", &m.tokenizer),
        layer("weight", "model-00001-of-00002.safetensors", &m.shard1),
        layer("weight", "model-00002-of-00002.safetensors", &m.shard2),
        layer("doc", "README.md", &m.readme),
    ]
}

fn inspect_json(cwd: &Path, at: &str) -> Value {
    serde_json::from_str(&run_in(cwd, &["inspect", "--plain-http", "--format", "json", at]).ok().stdout).unwrap()
}

/// The variant's folder: what a server loads.
fn assert_variant_folder(dir: &Path, m: &Model) {
    assert_eq!(fs::read(dir.join("config.json")).unwrap(), m.config);
    assert_eq!(fs::read(dir.join("tokenizer.json")).unwrap(), m.tokenizer);
    assert_eq!(fs::read(dir.join("model-00001-of-00002.safetensors")).unwrap(), m.shard1);
    assert_eq!(fs::read(dir.join("model-00002-of-00002.safetensors")).unwrap(), m.shard2);
}

#[test]
fn a_modctl_artifact_reads_as_one_variant_with_its_configs_and_the_config_facts() {
    let tmp = scratch();
    let reg = Registry::plain();
    let m = model();
    let config = br#"{"descriptor":{"createdAt":"2026-08-05T10:27:51.123456789+08:00","family":"qwen2","name":"Qwen2-0.5B","sourceURL":"https://example.org/qwen2.git","revision":"4f2c1e0"},"modelfs":{"type":"layers","diffIds":[]},"config":{"architecture":"transformer","format":"safetensors","paramSize":"0.5b","precision":"bfloat16"}}"#;
    let layout = tmp.path().join("modctl");
    let digest = write_layout(
        &layout,
        "v1",
        "application/vnd.cncf.model.manifest.v1+json",
        "application/vnd.cncf.model.config.v1+json",
        config,
        &modctl_layers("cncf", &m, true),
        &[("org.cncf.modctl.modelfile", MODELFILE)],
    );
    let at = reg.at("team/qwen2:v1");
    run_in(tmp.path(), &["copy", "--plain-http", &format!("oci:{}:v1", layout.display()), &at]).ok();

    let report = inspect_json(tmp.path(), &at);
    assert_eq!(report["digest"], digest.as_str(), "the copy kept the manifest's bytes");
    assert_eq!(report["name"], "Qwen2-0.5B");
    let facts = &report["modelConfig"];
    assert_eq!(facts["descriptor"]["family"], "qwen2");
    assert_eq!(facts["config"]["format"], "safetensors");
    assert_eq!(facts["config"]["paramSize"], "0.5b");
    assert_eq!(facts["config"]["precision"], "bfloat16");
    assert_eq!(report["modelfile"], MODELFILE);
    let variants = report["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 1, "two shards and two configs are one model: {variants:?}");
    assert_eq!(variants[0]["name"], "Qwen2-0.5B");
    assert_eq!(variants[0]["size"], (m.shard1.len() + m.shard2.len()) as u64);
    for layer in report["layers"].as_array().unwrap().iter().filter(|l| l["class"] == "model") {
        assert_eq!(layer["name"], "Qwen2-0.5B", "configs join the weights: {layer}");
    }
    let text = run_in(tmp.path(), &["inspect", "--plain-http", &at]).ok().stdout.clone();
    assert!(text.starts_with("Qwen2-0.5B"), "{text}");
    for line in ["family      qwen2", "format      safetensors", "params      0.5b", "Modelfile", "NAME Qwen2-0.5B"] {
        assert!(text.contains(line), "{line:?} in:\n{text}");
    }

    // The variant is a folder the model loads from; the printed pull command works as pasted.
    let out = tmp.path().join("variant");
    let args =
        ["pull", "-q", "--plain-http", &at, "--only", "model", "--variant", "Qwen2-0.5B", "-o", out.to_str().unwrap()];
    run_in(tmp.path(), &args).ok();
    assert_variant_folder(&out, &m);
    assert!(!out.join("README.md").exists(), "--only model takes the model only");
    let pasted = report["pull"].as_str().unwrap();
    assert!(pasted.contains("Qwen2-0.5B"), "{pasted}");
    let whole = tmp.path().join("whole");
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "-o", whole.to_str().unwrap()]).ok();
    assert_variant_folder(&whole, &m);
    assert_eq!(fs::read(whole.join("README.md")).unwrap(), m.readme);

    // The index lists it by the config's name, with its one variant.
    let listed: Value = serde_json::from_str(
        &run_in(tmp.path(), &["index", "--plain-http", "--format", "json", &reg.at("team/qwen2")]).ok().stdout,
    )
    .unwrap();
    let suites = listed["suites"].as_array().unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(suites.len(), 1, "{listed}");
    assert_eq!(suites[0]["name"], "Qwen2-0.5B");
    assert_eq!(suites[0]["variants"].as_array().unwrap().len(), 1);

    // And back into a layout, byte for byte.
    let back = tmp.path().join("back");
    run_in(tmp.path(), &["copy", "--plain-http", &at, &format!("oci:{}:v1", back.display())]).ok();
    assert_eq!(manifest(&back, "v1"), manifest(&layout, "v1"));

    // Into the shared cache: files without recorded digests are hashed as they are stored; the
    // config is kept, so that offline the facts and the variant still read from the cache alone.
    let cache = tmp.path().join("cache");
    let env = [("ZOO_OCI_CACHE", cache.to_str().unwrap())];
    let pull = ["pull", "--cache", "-q", "--plain-http", &at, "--only", "model", "--variant", "Qwen2-0.5B"];
    let snapshot = PathBuf::from(run_env(tmp.path(), &env, &pull).ok().stdout.trim());
    assert_variant_folder(&snapshot, &m);
    let offline = [("ZOO_OCI_CACHE", cache.to_str().unwrap()), ("ZOO_OCI_OFFLINE", "1")];
    let again = run_env(tmp.path(), &offline, &pull);
    assert_eq!(PathBuf::from(again.ok().stdout.trim()), snapshot);
    let text = run_env(tmp.path(), &offline, &["inspect", "--plain-http", &at]).ok().stdout.clone();
    assert!(text.starts_with("Qwen2-0.5B") && text.contains("family      qwen2"), "offline, from the cache:\n{text}");
}

#[test]
fn a_legacy_cnai_artifact_with_the_old_config_spelling_reads_too() {
    let tmp = scratch();
    let reg = Registry::plain();
    let m = model();
    // modctl 0.0.x: tar layers, `diff_ids`, `puantization`; a number for the size (spec 0.0.1).
    let config = br#"{"descriptor":{"name":"Qwen2-0.5B","version":"0.1"},"modelfs":{"type":"layers","diff_ids":[]},"config":{"format":"safetensors","parameterSize":494032768,"puantization":"awq"}}"#;
    let layout = tmp.path().join("legacy");
    write_layout(
        &layout,
        "v1",
        "application/vnd.cnai.model.manifest.v1+json",
        "application/vnd.cnai.model.config.v1+json",
        config,
        &modctl_layers("cnai", &m, false),
        &[("org.cnai.modctl.modelfile", MODELFILE)],
    );
    let at = reg.at("team/legacy:v1");
    run_in(tmp.path(), &["copy", "--plain-http", &format!("oci:{}:v1", layout.display()), &at]).ok();
    let report = inspect_json(tmp.path(), &at);
    assert_eq!((report["name"].as_str(), report["version"].as_str()), (Some("Qwen2-0.5B"), Some("0.1")));
    assert_eq!(report["modelConfig"]["config"]["quantization"], "awq");
    assert_eq!(report["modelConfig"]["config"]["paramSize"], "494032768");
    assert_eq!(report["modelfile"], MODELFILE);
    assert_eq!(report["variants"].as_array().unwrap().len(), 1);
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "--variant", "Qwen2-0.5B", "-o", out.to_str().unwrap()])
        .ok();
    assert_variant_folder(&out, &m);
}

#[test]
fn gzip_layers_are_extracted_and_unknown_layers_are_listed_with_a_warning() {
    let tmp = scratch();
    let reg = Registry::plain();
    let m = model();
    // A dataset as tar+gzip (what KitOps and the spec's writers may send), and an SBOM.
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_path("data/test.csv").unwrap();
    header.set_mode(0o644);
    header.set_size(12);
    header.set_cksum();
    tar.append(&header, &b"x,y\n1,2\n3,4\n"[..]).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &tar.into_inner().unwrap()).unwrap();
    let mut layers = modctl_layers("cncf", &m, true);
    layers.push(Layer {
        media_type: "application/vnd.cncf.model.dataset.v1.tar+gzip".into(),
        bytes: gz.finish().unwrap(),
        annotations: vec![("org.cncf.model.filepath".into(), "data/".into())],
    });
    layers.push(Layer {
        media_type: "application/spdx+json".into(),
        bytes: br#"{"spdxVersion":"SPDX-2.3"}"#.to_vec(),
        annotations: vec![("org.opencontainers.image.title".into(), "sbom.spdx.json".into())],
    });
    let layout = tmp.path().join("mixed");
    let config = br#"{"descriptor":{"name":"mixed"},"modelfs":{"type":"layers","diffIds":[]},"config":{}}"#;
    write_layout(
        &layout,
        "v1",
        "application/vnd.cncf.model.manifest.v1+json",
        "application/vnd.cncf.model.config.v1+json",
        config,
        &layers,
        &[],
    );
    let at = reg.at("team/mixed:v1");
    run_in(tmp.path(), &["copy", "--plain-http", &format!("oci:{}:v1", layout.display()), &at]).ok();
    let report = inspect_json(tmp.path(), &at);
    let unknown = report["unknownLayers"].as_array().unwrap();
    assert_eq!(unknown.len(), 1, "{report}");
    assert_eq!(unknown[0]["mediaType"], "application/spdx+json");
    assert!(report["warnings"][0].as_str().unwrap().contains("application/spdx+json"), "{report}");
    let out = tmp.path().join("out");
    let pulled = run_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "-o", out.to_str().unwrap()]);
    pulled.ok().stderr_has("warning: layer").stderr_has("application/spdx+json");
    assert_eq!(fs::read(out.join("data/test.csv")).unwrap(), b"x,y\n1,2\n3,4\n");
    assert_variant_folder(&out, &m);
    assert!(!out.join("sbom.spdx.json").exists());
}

#[test]
fn a_config_that_is_not_a_modelpack_config_is_a_warning_naming_it() {
    let tmp = scratch();
    let m = model();
    let layout = tmp.path().join("odd");
    let config = b"not json at all";
    write_layout(
        &layout,
        "v1",
        "application/vnd.cncf.model.manifest.v1+json",
        "application/vnd.cncf.model.config.v1+json",
        config,
        &modctl_layers("cncf", &m, true),
        &[],
    );
    let at = format!("oci:{}:v1", layout.display());
    let text = run_in(tmp.path(), &["inspect", &at]).ok().stdout.clone();
    let config_digest = zoo_oci::digest::of_bytes(config);
    assert!(text.contains(&format!("warning: the config {config_digest} is not a ModelPack config")), "{text}");
    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &at, "--variant", "model", "-o", out.to_str().unwrap()]).ok();
    assert_variant_folder(&out, &m);
}

/// A tar as `kit pack` writes a layer (≤ 1.7): every parent folder an entry of its own, names
/// relative to the context folder without `./` or a trailing `/`, uid 1000, gid 0, mtime 0, no
/// owner names.
fn kit_tar(entries: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, content) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(name).unwrap();
        header.set_uid(1000);
        header.set_gid(0);
        header.set_mtime(0);
        match content {
            Some(bytes) => {
                header.set_mode(0o644);
                header.set_size(bytes.len() as u64);
                header.set_entry_type(tar::EntryType::Regular);
                header.set_cksum();
                builder.append(&header, *bytes).unwrap();
            }
            None => {
                header.set_mode(0o755);
                header.set_size(0);
                header.set_entry_type(tar::EntryType::Directory);
                header.set_cksum();
                builder.append(&header, std::io::empty()).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

#[test]
fn a_kitops_modelkit_reads_with_its_kitfile_paths_and_pulls_by_kit_class() {
    let tmp = scratch();
    let reg = Registry::plain();
    let gguf = pseudo_random(50_000, 9);
    let script = b"print('hello')\n".to_vec();
    let csv = b"x,y\n1,2\n".to_vec();
    let readme = b"# demo\n\nA ModelKit.\n".to_vec();
    let model_tar = kit_tar(&[("models", None), ("models/model.gguf", Some(&gguf))]);
    let code_tar = kit_tar(&[("src", None), ("src/infer.py", Some(&script))]);
    let data_tar = kit_tar(&[("data", None), ("data/test.csv", Some(&csv))]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &data_tar).unwrap();
    let data_gz = gz.finish().unwrap();
    let docs_tar = kit_tar(&[("README.md", Some(&readme))]);
    let d = |b: &[u8]| zoo_oci::digest::of_bytes(b);
    let kitfile = format!(
        r#"{{"manifestVersion":"1.0.0","package":{{"name":"demo","version":"1.0.0","description":"A demo kit","license":"Apache-2.0","authors":["Jozu"]}},"model":{{"name":"demo-model","path":"models/model.gguf","framework":"llama.cpp","format":"gguf","digest":"{}","diffId":"{}"}},"code":[{{"path":"src","digest":"{}","diffId":"{}"}}],"datasets":[{{"name":"test-set","path":"data","digest":"{}","diffId":"{}"}}],"docs":[{{"path":"README.md","digest":"{}","diffId":"{}"}}]}}"#,
        d(&model_tar),
        d(&model_tar),
        d(&code_tar),
        d(&code_tar),
        d(&data_gz),
        d(&data_tar),
        d(&docs_tar),
        d(&docs_tar)
    );
    let layer = |kind: &str, bytes: Vec<u8>| Layer {
        media_type: format!("application/vnd.kitops.modelkit.{kind}"),
        bytes,
        annotations: vec![],
    };
    let layers = [
        layer("model.v1.tar", model_tar),
        layer("code.v1.tar", code_tar),
        layer("dataset.v1.tar+gzip", data_gz),
        layer("docs.v1.tar", docs_tar),
    ];
    // kit ≤ 1.7 writes no mediaType and no artifactType into the manifest.
    let layout = tmp.path().join("kit");
    fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let put = |bytes: &[u8]| {
        fs::write(blob_path(&layout, &d(bytes)), bytes).unwrap();
        d(bytes)
    };
    let descriptors: Vec<String> = layers
        .iter()
        .map(|l| format!(r#"{{"mediaType":"{}","digest":"{}","size":{}}}"#, l.media_type, put(&l.bytes), l.bytes.len()))
        .collect();
    let manifest_bytes = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.kitops.modelkit.config.v1+json","digest":"{}","size":{}}},"layers":[{}],"annotations":{{"ml.kitops.modelkit.cli-version":"1.7.0"}}}}"#,
        put(kitfile.as_bytes()),
        kitfile.len(),
        descriptors.join(",")
    );
    let manifest_digest = put(manifest_bytes.as_bytes());
    fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{manifest_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"1.0.0"}}}}]}}"#,
            manifest_bytes.len()
        ),
    )
    .unwrap();
    let at = reg.at("team/demo:1.0.0");
    run_in(tmp.path(), &["copy", "--plain-http", &format!("oci:{}:1.0.0", layout.display()), &at]).ok();

    let report = inspect_json(tmp.path(), &at);
    assert_eq!((report["name"].as_str(), report["version"].as_str()), (Some("demo"), Some("1.0.0")), "{report}");
    assert_eq!(report["modelConfig"]["descriptor"]["licenses"][0], "Apache-2.0");
    assert_eq!(report["modelConfig"]["descriptor"]["authors"][0], "Jozu");
    assert_eq!(report["kitfile"]["model"]["framework"], "llama.cpp");
    let variants = report["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 1);
    assert_eq!(
        (variants[0]["name"].as_str(), variants[0]["framework"].as_str()),
        (Some("demo-model"), Some("llama.cpp"))
    );
    let classes: Vec<(&str, &str)> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["class"].as_str().unwrap(), l["path"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        classes,
        [("model", "models/model.gguf"), ("scripts", "src"), ("dataset", "data"), ("docs", "README.md")]
    );
    let text = run_in(tmp.path(), &["inspect", "--plain-http", &at]).ok().stdout.clone();
    assert!(text.starts_with("demo 1.0.0") && text.contains("license     Apache-2.0"), "{text}");

    let pull = |name: &str, extra: &[&str]| {
        let out = tmp.path().join(name);
        let mut args = vec!["pull", "-q", "--plain-http", at.as_str(), "-o", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        run_in(tmp.path(), &args).ok();
        let mut files: Vec<String> =
            tree(&out).into_iter().map(|(p, _, _)| p).filter(|p| p != ".zoo-oci.json").collect();
        files.sort();
        (out, files)
    };
    let (out, files) = pull("model", &["--only", "model"]);
    assert_eq!(files, ["models/model.gguf"]);
    assert_eq!(fs::read(out.join("models/model.gguf")).unwrap(), gguf);
    assert_eq!(pull("code", &["--only", "code"]).1, ["src/infer.py"]);
    assert_eq!(pull("docs", &["--only", "docs"]).1, ["README.md"]);
    let (out, files) = pull("data", &["--include", "data/*"]);
    assert_eq!(files, ["data/test.csv"]);
    assert_eq!(fs::read(out.join("data/test.csv")).unwrap(), csv);
    assert_eq!(pull("all", &[]).1, ["README.md", "data/test.csv", "models/model.gguf", "src/infer.py"]);

    let listed: Value = serde_json::from_str(
        &run_in(tmp.path(), &["index", "--plain-http", "--format", "json", &reg.at("team/demo")]).ok().stdout,
    )
    .unwrap();
    assert_eq!(listed["suites"][0]["name"], "demo", "{listed}");
    assert_eq!(listed["suites"][0]["license"], "Apache-2.0");

    // KitOps's own Python Kitfile parser reads the Kitfile inspect shows.
    let shown = tmp.path().join("Kitfile");
    fs::write(&shown, serde_json::to_vec(&report["kitfile"]).unwrap()).unwrap();
    let parsed = std::process::Command::new(crate::util::registry::oras_python())
        .args([
            "-c",
            "import json, sys\nfrom kitops.modelkit.kitfile import Kitfile\nk = Kitfile(path=sys.argv[1])\nprint(json.dumps([k.package.name, k.package.version, k.model.name, k.model.framework, [c.path for c in k.code], [d.name for d in k.datasets]]))",
            shown.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(parsed.status.success(), "kitops: {}", String::from_utf8_lossy(&parsed.stderr));
    let parsed: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(parsed, serde_json::json!(["demo", "1.0.0", "demo-model", "llama.cpp", ["src"], ["test-set"]]));

    let back = tmp.path().join("back");
    run_in(tmp.path(), &["copy", "--plain-http", &at, &format!("oci:{}:1.0.0", back.display())]).ok();
    assert_eq!(manifest(&back, "1.0.0"), manifest(&layout, "1.0.0"));
}

/// The README skeleton `init` writes is a Hugging Face model card: `huggingface_hub` reads its
/// licence, task and tags; the README inspect shows keeps that front matter out of sight.
#[test]
fn the_readme_init_writes_is_a_card_huggingface_hub_reads() {
    let tmp = scratch();
    let dir = tmp.path().join("model");
    write(&dir, "model.onnx", onnx_model(13, &pseudo_random(64, 3)), false);
    let mit = "MIT License\n\nCopyright (c) 2026 The authors\n\nPermission is hereby granted, free of charge, to any person obtaining a copy\n";
    write(&dir, "LICENSE", mit, false); // init tells the licence from its text
    run_in(tmp.path(), &["init", dir.to_str().unwrap()]).ok();
    let yaml = fs::read_to_string(dir.join("zoo.yaml")).unwrap();
    assert!(dir.join("README.md").is_file(), "init writes a README skeleton");
    let script = "import json, sys\nfrom huggingface_hub import ModelCard\ncard = ModelCard.load(sys.argv[1])\nprint(json.dumps({'license': card.data.license, 'pipeline_tag': card.data.pipeline_tag, 'tags': card.data.tags}))";
    let card = std::process::Command::new(crate::util::registry::oras_python())
        .args(["-c", script, dir.join("README.md").to_str().unwrap()])
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    assert!(card.status.success(), "huggingface_hub: {}", String::from_utf8_lossy(&card.stderr));
    let card: Value = serde_json::from_slice(&card.stdout).unwrap();
    assert!(card["tags"].as_array().unwrap().iter().any(|t| t == "zoo-oci"), "{card}");
    let task = yaml.lines().find_map(|l| l.strip_prefix("task: ")).map(|t| t.trim().trim_matches('"'));
    assert_eq!(card["pipeline_tag"].as_str(), task, "{card}\n{yaml}");
    let license =
        yaml.lines().find_map(|l| l.strip_prefix("license: ")).map(|t| t.trim().trim_matches('"').to_ascii_lowercase());
    assert_eq!(card["license"].as_str().map(String::from), license, "{card}\n{yaml}");
    assert_eq!(card["license"], "mit", "Hugging Face's id for the MIT licence");
}

#[test]
fn an_image_index_of_variants_lists_them_and_pull_picks_one_by_name() {
    let tmp = scratch();
    let reg = Registry::plain();
    let layout = tmp.path().join("grouped");
    let config =
        br#"{"descriptor":{"name":"llama-tiny"},"modelfs":{"type":"layers","diffIds":[]},"config":{"format":"gguf"}}"#;
    let q4 = pseudo_random(20_000, 4);
    let q8 = pseudo_random(40_000, 8);
    let mut children = Vec::new();
    for (name, weights) in [("q4", &q4), ("q8", &q8)] {
        let layers = [modctl_raw("cncf", "weight", &format!("llama-tiny.{name}.gguf"), weights)];
        let artifact = "application/vnd.cncf.model.manifest.v1+json";
        let digest =
            write_layout(&layout, name, artifact, "application/vnd.cncf.model.config.v1+json", config, &layers, &[]);
        let size = fs::metadata(blob_path(&layout, &digest)).unwrap().len();
        children.push(format!(
            r#"{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{digest}","size":{size},"annotations":{{"ml.kitops.modelkit.original-tag":"{name}"}},"artifactType":"{artifact}"}}"#
        ));
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","artifactType":"application/vnd.kitops.modelkit.index.v1+json","manifests":[{}]}}"#,
        children.join(",")
    );
    let index_digest = zoo_oci::digest::of_bytes(index.as_bytes());
    fs::write(blob_path(&layout, &index_digest), &index).unwrap();
    fs::write(
        layout.join("index.json"),
        format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{index_digest}","size":{},"annotations":{{"org.opencontainers.image.ref.name":"1"}}}}]}}"#,
            index.len()
        ),
    )
    .unwrap();
    let at = reg.at("team/llama:1");
    run_in(tmp.path(), &["copy", "--plain-http", &format!("oci:{}:1", layout.display()), &at]).ok();

    let report = inspect_json(tmp.path(), &at);
    let names: Vec<&str> = report["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["q4", "q8"], "{report}");
    let text = run_in(tmp.path(), &["inspect", "--plain-http", &at]).ok().stdout.clone();
    assert!(text.contains("Variants (manifests of the index)") && text.contains("--variant q4"), "{text}");

    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "-o", out.to_str().unwrap()])
        .code(2)
        .stderr_has("image index of 2 model variants: q4, q8")
        .stderr_has("--variant");
    assert!(!out.exists());
    run_in(tmp.path(), &["pull", "-q", "--plain-http", &at, "--variant", "q8", "-o", out.to_str().unwrap()]).ok();
    assert_eq!(fs::read(out.join("llama-tiny.q8.gguf")).unwrap(), q8);
    assert!(!out.join("llama-tiny.q4.gguf").exists());

    let listed: Value = serde_json::from_str(
        &run_in(tmp.path(), &["index", "--plain-http", "--format", "json", &reg.at("team/llama")]).ok().stdout,
    )
    .unwrap();
    let suites = listed["suites"].as_array().unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(suites.len(), 1, "{listed}");
    let variants: Vec<&str> =
        suites[0]["variants"].as_array().unwrap().iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!((suites[0]["name"].as_str(), variants), (Some("llama-tiny"), vec!["q4", "q8"]));
}

/// `copy --as-image` writes a standard OCI image whose layers hold the selected files under the
/// prefix: umoci unpacks it into a root file system holding exactly what `pull` gives; the same
/// suite gives the same image; skopeo copies it.
#[test]
fn copy_as_image_writes_an_image_umoci_unpacks_into_the_suites_files() {
    require_tool("umoci");
    require_tool("skopeo");
    let tmp = scratch();
    let reg = Registry::plain();
    let suite = small_suite(tmp.path());
    let source = format!("oci:{}:1", tmp.path().join("zoo").display());
    // zstd layers too: the conversion decodes whatever the source holds.
    run_in(tmp.path(), &["push", "-q", "--compression", "zstd", suite.to_str().unwrap(), &source]).ok();
    let image = reg.at("team/tiny-image:1");
    let args = ["copy", "--to-plain-http", &source, &image, "--as-image", "--only", "model,dataset"];
    let first = run_in(tmp.path(), &args).ok().stdout.trim().to_string();
    let again = run_in(tmp.path(), &args).ok().stdout.trim().to_string();
    assert_eq!(first, again, "the same suite gives the same image");

    // Read back by skopeo (an image client) into a layout, unpacked by umoci.
    let layout = tmp.path().join("image");
    fs::write(tmp.path().join("no-auth.json"), "{}").unwrap();
    let (from, to) = (format!("docker://{image}"), format!("oci:{}:1", layout.display()));
    let status = std::process::Command::new("skopeo")
        .args(["copy", "-q", "--preserve-digests", "--src-tls-verify=false", &from, &to])
        .env("REGISTRY_AUTH_FILE", tmp.path().join("no-auth.json"))
        .status()
        .unwrap();
    assert!(status.success());
    let m = manifest(&layout, "1");
    assert_eq!(m["config"]["mediaType"], "application/vnd.oci.image.config.v1+json");
    for l in m["layers"].as_array().unwrap() {
        assert_eq!(l["mediaType"], "application/vnd.oci.image.layer.v1.tar");
    }
    assert_eq!(m["annotations"]["org.opencontainers.image.title"], "tiny", "the suite's annotations are kept");
    let config: Value = serde_json::from_slice(&blob(&layout, m["config"]["digest"].as_str().unwrap())).unwrap();
    let diff_ids: Vec<&Value> = config["rootfs"]["diff_ids"].as_array().unwrap().iter().collect();
    let digests: Vec<&Value> = m["layers"].as_array().unwrap().iter().map(|l| &l["digest"]).collect();
    assert_eq!(diff_ids, digests, "uncompressed layers: each diff_id is its digest");
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&layout, "1", &bundle);
    let pulled = tmp.path().join("pulled");
    run_in(tmp.path(), &["pull", "-q", &source, "--only", "model,dataset", "-o", pulled.to_str().unwrap()]).ok();
    fs::remove_file(pulled.join(".zoo-oci.json")).unwrap();
    assert_same_tree(&pulled, &bundle.join("rootfs/models"));
    let everything: Vec<String> = tree(&bundle.join("rootfs")).into_iter().map(|(p, _, _)| p).collect();
    assert!(everything.iter().all(|p| p.starts_with("models/")), "only the files, under the prefix: {everything:?}");
}

/// `umoci unpack` of `layout:tag` into the bundle folder `bundle` (its `rootfs/`).
fn umoci_unpack(layout: &Path, tag: &str, bundle: &Path) {
    let image = format!("{}:{tag}", layout.display());
    let unpacked = std::process::Command::new("umoci")
        .args(["unpack", "--rootless", "--image", &image, bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(unpacked.status.success(), "umoci: {}", String::from_utf8_lossy(&unpacked.stderr));
}

/// `--base`: the files go on top of a base image (a shell for KServe's modelcar), whose layers,
/// Env and Cmd are kept.
#[test]
fn copy_as_image_on_a_base_keeps_the_base_layers_and_config() {
    require_tool("umoci");
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let source = format!("oci:{}:1", tmp.path().join("zoo").display());
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &source]).ok();
    // A base image: one layer with a (pretend) shell, a config with Env and Cmd.
    let base = tmp.path().join("base");
    let base_layer = kit_tar(&[("bin", None), ("bin/sh", Some(b"#!pretend\n"))]);
    let base_digest = zoo_oci::digest::of_bytes(&base_layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Env":["PATH=/bin"],"Cmd":["/bin/sh"]}},"rootfs":{{"type":"layers","diff_ids":["{base_digest}"]}},"history":[{{"created_by":"base"}}]}}"#
    );
    let layers =
        [Layer { media_type: "application/vnd.oci.image.layer.v1.tar".into(), bytes: base_layer, annotations: vec![] }];
    write_layout(
        &base,
        "1",
        "application/vnd.oci.image.config.v1+json",
        "application/vnd.oci.image.config.v1+json",
        config.as_bytes(),
        &layers,
        &[],
    );
    let image = tmp.path().join("image");
    let at = format!("oci:{}:1", image.display());
    let base_at = format!("oci:{}:1", base.display());
    run_in(tmp.path(), &["copy", &source, &at, "--as-image", "--only", "model", "--base", &base_at]).ok();
    let m = manifest(&image, "1");
    assert_eq!(m["layers"][0]["digest"], base_digest.as_str(), "the base's layers come first");
    let config: Value = serde_json::from_slice(&blob(&image, m["config"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(config["config"]["Cmd"][0], "/bin/sh");
    assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), m["layers"].as_array().unwrap().len());
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&image, "1", &bundle);
    assert_eq!(fs::read(bundle.join("rootfs/bin/sh")).unwrap(), b"#!pretend\n");
    let pulled = tmp.path().join("pulled");
    run_in(tmp.path(), &["pull", "-q", &source, "--only", "model", "-o", pulled.to_str().unwrap()]).ok();
    fs::remove_file(pulled.join(".zoo-oci.json")).unwrap();
    assert_same_tree(&pulled, &bundle.join("rootfs/models"));
}

/// KitOps's ModelPack mode (kit ≥ 1.10): a ModelPack artifact whose manifest carries the Kitfile;
/// inspect shows it beside the config's facts.
#[test]
fn a_kitops_modelpack_artifact_shows_its_kitfile() {
    let tmp = scratch();
    let m = model();
    let layout = tmp.path().join("kitmp");
    let kitfile =
        r#"{"manifestVersion":"1.0.0","package":{"name":"qwen","version":"2"},"model":{"name":"qwen","path":"."}}"#;
    let config = br#"{"descriptor":{"name":"qwen","version":"2","title":"qwen"},"modelfs":{"type":"layers","diffIds":[]},"config":{"format":"safetensors"}}"#;
    write_layout(
        &layout,
        "2",
        "application/vnd.cncf.model.manifest.v1+json",
        "application/vnd.cncf.model.config.v1+json",
        config,
        &modctl_layers("cncf", &m, false),
        &[("ml.kitops.modelkit.cli-version", "1.17.0"), ("ml.kitops.modelkit.kitfile", kitfile)],
    );
    let report: Value = serde_json::from_str(
        &run_in(tmp.path(), &["inspect", "--format", "json", &format!("oci:{}:2", layout.display())]).ok().stdout,
    )
    .unwrap();
    assert_eq!(report["kitfile"]["package"]["name"], "qwen", "{report}");
    assert_eq!((report["name"].as_str(), report["version"].as_str()), (Some("qwen"), Some("2")));
    assert_eq!(report["variants"].as_array().unwrap().len(), 1);
}
