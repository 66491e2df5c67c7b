//! Harbor as released (issue 20, point 3): `push --legacy-names` writes model-spec 0.0.5's
//! names, the only ones Harbor 2.13–2.15 shows as models, with README and LICENSE as one-file doc
//! tars at exactly those paths; a push to a Harbor that says it is older than the first release
//! reading ModelPack's names chooses them by itself and says so; zoo-oci reads both forms.
//!
//! Harbor cannot run here (it needs Docker): a proxy in front of a real registry answers
//! `GET /api/v2.0/systeminfo` as Harbor does, and forwards everything else.

use std::fs;
use std::path::Path;

use serde_json::Value;
use zoo_oci::artifact::media;

use crate::util::proxy::{Fault, FaultProxy};
use crate::util::registry::Registry;
use crate::util::*;

/// Every layer's media type, and whether the manifest speaks only the legacy names.
fn assert_legacy(m: &Value) {
    assert_eq!(m["artifactType"], media::LEGACY_MODEL_ARTIFACT);
    assert_eq!(m["config"]["mediaType"], media::LEGACY_MODEL_CONFIG);
    for layer in m["layers"].as_array().unwrap() {
        let t = layer["mediaType"].as_str().unwrap();
        assert!(t.starts_with(media::LEGACY_PREFIX), "{t}");
        let a = layer["annotations"].as_object().unwrap();
        assert!(a.contains_key(media::LEGACY_ANN_FILEPATH), "{a:?}");
        assert!(!a.keys().any(|k| k.starts_with("org.cncf.model.")), "no ModelPack annotation keys: {a:?}");
    }
}

fn assert_modelpack(m: &Value) {
    assert_eq!(m["artifactType"], media::MODEL_ARTIFACT);
    assert!(
        m["layers"].as_array().unwrap().iter().all(|l| l["mediaType"].as_str().unwrap().starts_with(media::PREFIX))
    );
}

/// The one file a tar holds: (its path, its bytes).
fn only_file(tar_bytes: &[u8]) -> (String, Vec<u8>) {
    let mut archive = tar::Archive::new(tar_bytes);
    let files: Vec<(String, Vec<u8>)> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.header().entry_type().is_file())
        .map(|mut e| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            (e.path().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    assert_eq!(files.len(), 1, "Harbor concatenates every file of a doc tar: it must hold one");
    files.into_iter().next().unwrap()
}

#[test]
fn legacy_names_give_what_harbor_2_13_to_2_15_reads_and_pull_back_byte_for_byte() {
    let tmp = scratch();
    let suite = small_suite(tmp.path());
    let layout = tmp.path().join("zoo");
    let at = format!("oci:{}:1", layout.display());
    run_in(tmp.path(), &["push", "-q", "--legacy-names", suite.to_str().unwrap(), &at]).ok();
    let m = manifest(&layout, "1");
    assert_legacy(&m);
    // README and LICENSE: doc tars (every released Harbor reads those; 2.13 no raw doc) whose
    // filepath is exactly what Harbor's processor matches, each holding its one file.
    for (class, path) in [("readme", "README.md"), ("license", "LICENSE")] {
        let layer =
            m["layers"].as_array().unwrap().iter().find(|l| l["annotations"][media::ANN_CLASS] == class).unwrap();
        assert_eq!(layer["mediaType"], "application/vnd.cnai.model.doc.v1.tar");
        assert_eq!(layer["annotations"][media::LEGACY_ANN_FILEPATH], path);
        assert!(layer["size"].as_u64().unwrap() <= 4 << 20, "Harbor reads docs up to 4 MiB");
        let (name, bytes) = only_file(&blob(&layout, layer["digest"].as_str().unwrap()));
        assert_eq!(name, path);
        assert_eq!(bytes, fs::read(suite.join(path)).unwrap());
    }
    let weights =
        m["layers"].as_array().unwrap().iter().find(|l| l["annotations"][media::ANN_CLASS] == "model").unwrap();
    assert_eq!(weights["mediaType"], "application/vnd.cnai.model.weight.v1.raw");
    assert!(weights["annotations"][media::LEGACY_ANN_FILE_METADATA].is_string());
    // Only the names differ: the same layers' bytes as ModelPack's names give.
    let current = tmp.path().join("current");
    run_in(tmp.path(), &["push", "-q", suite.to_str().unwrap(), &format!("oci:{}:1", current.display())]).ok();
    let digests = |m: &Value, class: &str| -> Vec<String> {
        m["layers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["annotations"][media::ANN_CLASS] == class)
            .map(|l| l["digest"].as_str().unwrap().to_string())
            .collect()
    };
    for class in ["model", "scripts", "dataset", "docs"] {
        assert_eq!(digests(&m, class), digests(&manifest(&current, "1"), class), "{class}");
    }

    let out = tmp.path().join("out");
    run_in(tmp.path(), &["pull", "-q", &at, "-o", out.to_str().unwrap()]).ok();
    assert_same_tree(&suite, &out);
    let variant = tmp.path().join("variant");
    run_in(
        tmp.path(),
        &["pull", "-q", &at, "--variant", "onnx-opset13", "--only", "model", "-o", variant.to_str().unwrap()],
    )
    .ok();
    let files: Vec<String> = tree(&variant).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(files, ["models/onnx/extra/weights.bin", "models/onnx/model.onnx"]);
    let run = run_in(tmp.path(), &["inspect", "--format", "json", &at]);
    run.ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["variants"].as_array().unwrap().len(), 2, "{report}");
    assert_eq!(report["name"], "tiny");
}

fn push_through(tmp: &Path, proxy: &FaultProxy, suite: &Path, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let mut args = vec!["push", "--plain-http", suite.to_str().unwrap()];
    let at = proxy.at("zoo/tiny:1");
    args.push(&at);
    args.extend_from_slice(extra);
    run_env(tmp, env, &args)
}

fn pushed(registry: &Registry, tmp: &Path) -> Value {
    let layout = tmp.join(format!("copy-{}", std::process::id()));
    let _ = fs::remove_dir_all(&layout);
    run_in(tmp, &["copy", "-q", "--plain-http", &registry.at("zoo/tiny:1"), &format!("oci:{}:1", layout.display())])
        .ok();
    manifest(&layout, "1")
}

#[test]
fn a_push_to_a_released_harbor_chooses_the_legacy_names_and_says_so() {
    let tmp = scratch();
    let registry = Registry::plain();
    let suite = small_suite(tmp.path());
    let creds = [("ZOO_OCI_USERNAME", "admin"), ("ZOO_OCI_PASSWORD", "Harbor12345")];

    // A signed-in user is told the version: 2.14 reads only the legacy names.
    let harbor = FaultProxy::start(&registry.addr, Fault::Harbor("v2.14.1-2bfa9f71"));
    let run = push_through(tmp.path(), &harbor, &suite, &[], &creds);
    run.ok().stderr_has("note: Harbor v2.14.1-2bfa9f71 shows models only under model-spec 0.0.5's names");
    assert_legacy(&pushed(&registry, tmp.path()));
    assert!(harbor.log().iter().any(|l| l.starts_with("GET /api/v2.0/systeminfo")), "{:?}", harbor.log());

    // --names modelpack overrides the choice.
    push_through(tmp.path(), &harbor, &suite, &["--names", "modelpack", "--force"], &creds).ok();
    assert_modelpack(&pushed(&registry, tmp.path()));

    // An anonymous caller is not told the version: every released Harbor is taken as one.
    let run = push_through(tmp.path(), &harbor, &suite, &["--force"], &[]);
    run.ok().stderr_has("Harbor (which tells its version only to a signed-in user) shows models only under");
    assert_legacy(&pushed(&registry, tmp.path()));

    // A Harbor that reads ModelPack's names gets them, silently.
    let newer = FaultProxy::start(&registry.addr, Fault::Harbor("v2.16.0-0c4e0b1a"));
    let run = push_through(tmp.path(), &newer, &suite, &["--force"], &creds);
    run.ok();
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
    assert_modelpack(&pushed(&registry, tmp.path()));

    // A registry that is no Harbor (Distribution answers 404 there): ModelPack's names.
    let plain =
        run_in(tmp.path(), &["push", "--plain-http", "--force", suite.to_str().unwrap(), &registry.at("zoo/tiny:1")]);
    plain.ok();
    assert!(!plain.stderr.contains("note:"), "{}", plain.stderr);
    assert_modelpack(&pushed(&registry, tmp.path()));
}
