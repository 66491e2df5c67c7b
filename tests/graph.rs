//! The graph copy against a real registry, through a proxy that slows one blob down: an index of
//! two suites that share a layer. Each manifest must reach the destination only after the shared
//! blob is there, whichever branch of the graph copies it (the bug the graph copy fixed: the
//! second parent pushed its manifest while the first was still uploading the blob).

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::util::proxy::{Fault, FaultProxy};
use crate::util::registry::Registry;
use crate::util::*;

/// Two suites with the same weights file (one shared layer blob), pushed into `layout`, and an
/// index of both tagged `both`. Returns the shared layer's digest and the two manifests'.
fn shared_blob_index(root: &Path, layout: &Path) -> (String, Vec<String>) {
    let mut manifests = Vec::new();
    for name in ["left", "right"] {
        let dir = root.join(name);
        write(&dir, "models/weights.bin", pseudo_random(3 << 20, 7), false);
        write(&dir, "README.md", format!("# {name}\n"), false);
        write(
            &dir,
            "zoo.yaml",
            format!(
                "name: {name}\nversion: \"1.0\"\nlicense: MIT\nmodels:\n  - {{name: weights, path: models/weights.bin, framework: pytorch}}\n"
            ),
            false,
        );
        let pushed = run_in(root, &["push", "-q", dir.to_str().unwrap(), &format!("oci:{}:{name}", layout.display())]);
        manifests.push(pushed.ok().stdout.trim().to_string());
    }
    let layers = |tag: &str| manifest(layout, tag)["layers"].as_array().unwrap().clone();
    let (left, right) = (layers("left"), layers("right"));
    let shared = left
        .iter()
        .find(|l| right.iter().any(|r| r["digest"] == l["digest"]))
        .expect("the two suites share their weights layer")["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let entries: Vec<Value> = manifests
        .iter()
        .map(|d| {
            let size = fs::metadata(blob_path(layout, d)).unwrap().len();
            json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size})
        })
        .collect();
    let index = serde_json::to_vec(
        &json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}),
    )
    .unwrap();
    let digest = zoo_oci::digest::of_bytes(&index);
    fs::write(blob_path(layout, &digest), &index).unwrap();
    let mut top = index_json(layout);
    top["manifests"].as_array_mut().unwrap().push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": index.len(),
        "annotations": {"org.opencontainers.image.ref.name": "both"}
    }));
    fs::write(layout.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    (shared, manifests)
}

/// Every manifest under `tag` in a layout, and every blob they name, is in the layout.
fn assert_complete(layout: &Path, tag: &str) {
    let top = index_json(layout);
    let root = top["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap();
    let index: Value = serde_json::from_slice(&blob(layout, root["digest"].as_str().unwrap())).unwrap();
    for m in index["manifests"].as_array().unwrap() {
        let manifest: Value = serde_json::from_slice(&blob(layout, m["digest"].as_str().unwrap())).unwrap();
        let config = std::iter::once(&manifest["config"]);
        for d in config.chain(manifest["layers"].as_array().unwrap()) {
            let path = blob_path(layout, d["digest"].as_str().unwrap());
            assert_eq!(
                fs::metadata(&path).map(|m| m.len()).ok(),
                d["size"].as_u64(),
                "{} is incomplete",
                path.display()
            );
        }
    }
}

fn modified(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn registry_to_registry_manifests_wait_for_a_shared_blob_still_uploading() {
    let reg = Registry::plain();
    let tmp = scratch();
    let layout = tmp.path().join("src");
    let (shared, manifests) = shared_blob_index(tmp.path(), &layout);
    let source = reg.at("zoo/pair:both");
    run_in(tmp.path(), &["copy", "-q", "--plain-http", &format!("oci:{}:both", layout.display()), &source]).ok();

    // The mirror's uploads go through the proxy, which holds the shared blob for 1.5 s.
    // The proxy's patterns live as long as the test binary.
    let hex: &'static str = String::leak(shared.trim_start_matches("sha256:").to_string());
    let proxy = FaultProxy::start(&reg.addr, Fault::Delay(hex, 1500));
    let mirror = proxy.at("zoo/mirror:both");
    run_in(tmp.path(), &["copy", "-q", "--plain-http", "--concurrency", "4", &source, &mirror]).ok();

    let log = proxy.log();
    let blob_done = log
        .iter()
        .position(|l| l.starts_with("ANSWERED PUT ") && l.contains(hex))
        .unwrap_or_else(|| panic!("the shared blob was never uploaded: {log:#?}"));
    for digest in &manifests {
        let pushed = log
            .iter()
            .position(|l| l.starts_with("PUT ") && l.contains("/manifests/") && l.contains(digest.as_str()))
            .unwrap_or_else(|| panic!("manifest {digest} was never pushed: {log:#?}"));
        assert!(blob_done < pushed, "manifest {digest} was pushed before its blob was uploaded: {log:#?}");
    }
    // And what the mirror holds is complete: copy it back out and look.
    let check = tmp.path().join("check");
    run_in(
        tmp.path(),
        &["copy", "-q", "--plain-http", &reg.at("zoo/mirror:both"), &format!("oci:{}:both", check.display())],
    )
    .ok();
    assert_complete(&check, "both");
}

#[test]
fn registry_to_layout_manifests_are_written_after_a_shared_blob_still_downloading() {
    let reg = Registry::plain();
    let tmp = scratch();
    let layout = tmp.path().join("src");
    let (shared, manifests) = shared_blob_index(tmp.path(), &layout);
    run_in(
        tmp.path(),
        &["copy", "-q", "--plain-http", &format!("oci:{}:both", layout.display()), &reg.at("zoo/pair:both")],
    )
    .ok();

    // Downloads go through the proxy, which holds the shared blob's GET for 1.5 s.
    let proxy = FaultProxy::start(&reg.addr, Fault::Delay(String::leak(shared[7..].to_string()), 1500));
    let dst = tmp.path().join("dst");
    run_in(
        tmp.path(),
        &[
            "copy",
            "-q",
            "--plain-http",
            "--concurrency",
            "4",
            &proxy.at("zoo/pair:both"),
            &format!("oci:{}", dst.display()),
        ],
    )
    .ok();

    assert_complete(&dst, "both");
    let blob_written = modified(&blob_path(&dst, &shared));
    for digest in &manifests {
        let manifest_written = modified(&blob_path(&dst, digest));
        assert!(manifest_written >= blob_written, "manifest {digest} was stored before its shared blob");
    }
}
