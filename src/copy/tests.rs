//! Deterministic tests of the graph copy on in-memory stores.

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::artifact::media;
use crate::store::memory::MemoryStore;

fn blob(store: &MemoryStore, text: &str) -> Descriptor {
    store.insert("application/octet-stream", text.as_bytes())
}

fn manifest(store: &MemoryStore, config: &Descriptor, layers: &[&Descriptor]) -> Descriptor {
    let bytes = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_MANIFEST,
        "config": config,
        "layers": layers,
    }))
    .unwrap();
    store.insert(media::OCI_MANIFEST, &bytes)
}

fn index(store: &MemoryStore, manifests: &[&Descriptor]) -> Descriptor {
    let bytes = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": media::OCI_INDEX, "manifests": manifests}))
        .unwrap();
    store.insert(media::OCI_INDEX, &bytes)
}

async fn copy_tag(src: &MemoryStore, dst: &MemoryStore, tag: &str, concurrency: usize) -> Result<CopyReport> {
    let options = GraphOptions { concurrency, ..GraphOptions::default() };
    copy(src, &Reference::Tag(tag.into()), dst, Some(tag), &options).await.map(|(_, report)| report)
}

fn position(arrivals: &[String], digest: &str) -> usize {
    arrivals.iter().position(|d| d == digest).unwrap_or_else(|| panic!("{digest} never arrived: {arrivals:?}"))
}

/// Two manifests of an index share a blob whose upload is slow. The second branch to reach it
/// must wait for the first one's upload rather than push its manifest at once.
#[tokio::test(start_paused = true)]
async fn a_manifest_whose_shared_blob_is_still_uploading_waits_for_it() {
    let src = MemoryStore::new("src");
    let shared = blob(&src, "shared weights");
    let (c1, c2) = (blob(&src, "config one"), blob(&src, "config two"));
    let m1 = manifest(&src, &c1, &[&shared]);
    let m2 = manifest(&src, &c2, &[&shared]);
    let root = index(&src, &[&m1, &m2]);
    src.set_tag("v1", &root.digest);
    let dst = MemoryStore::new("dst");
    dst.delay(&shared.digest, Duration::from_secs(5));

    copy_tag(&src, &dst, "v1", 3).await.expect("the copy succeeds");

    let arrivals = dst.arrivals();
    let blob_at = position(&arrivals, &shared.digest);
    for m in [&m1, &m2] {
        assert!(blob_at < position(&arrivals, &m.digest), "a manifest arrived before its blob: {arrivals:?}");
    }
    assert_eq!(position(&arrivals, &root.digest), arrivals.len() - 1, "the index arrives last: {arrivals:?}");
    assert_eq!(arrivals.iter().filter(|d| **d == shared.digest).count(), 1, "the shared blob is copied once");
    assert_eq!(dst.tag_digest("v1"), Some(root.digest));
}

/// An index of 4 manifests of 5 layers each: 20 blobs (and 4 configs) under `--concurrency 2`.
/// Before the graph copy, each level opened its own pool: up to 4 transfers at once.
#[tokio::test(start_paused = true)]
async fn concurrency_bounds_transfers_across_the_whole_graph() {
    let src = MemoryStore::new("src");
    let dst = MemoryStore::new("dst");
    let mut manifests = Vec::new();
    for m in 0..4 {
        let config = blob(&src, &format!("config {m}"));
        let layers: Vec<Descriptor> = (0..5).map(|l| blob(&src, &format!("layer {m}.{l}"))).collect();
        for layer in &layers {
            dst.delay(&layer.digest, Duration::from_millis(100));
        }
        manifests.push(manifest(&src, &config, &layers.iter().collect::<Vec<_>>()));
    }
    let root = index(&src, &manifests.iter().collect::<Vec<_>>());
    src.set_tag("all", &root.digest);

    let report = copy_tag(&src, &dst, "all", 2).await.expect("the copy succeeds");

    assert_eq!(report.copied, 24);
    assert!(dst.most_in_flight() <= 2, "{} transfers ran at once under --concurrency 2", dst.most_in_flight());
    assert_eq!(dst.most_in_flight(), 2, "the limit is used, not just respected");
}

/// One blob of one manifest fails for good: no manifest that points at it, and not the index,
/// reaches the destination.
#[tokio::test(start_paused = true)]
async fn a_failed_child_fails_its_parents_and_leaves_no_parent_behind() {
    let src = MemoryStore::new("src");
    let bad = blob(&src, "doomed weights");
    let good = blob(&src, "fine weights");
    let (c1, c2) = (blob(&src, "config one"), blob(&src, "config two"));
    let broken = manifest(&src, &c1, &[&good, &bad]);
    let also_broken = manifest(&src, &c2, &[&bad]);
    let root = index(&src, &[&broken, &also_broken]);
    src.set_tag("v1", &root.digest);
    let dst = MemoryStore::new("dst");
    dst.fail(&bad.digest, Error::auth("denied"));

    let err = copy_tag(&src, &dst, "v1", 3).await.expect_err("the copy fails");

    assert_eq!(err.kind(), crate::error::ErrorKind::Auth);
    assert_eq!(err.side(), Some(Side::Destination));
    for parent in [&broken, &also_broken, &root] {
        assert!(!dst.holds(&parent.digest), "a parent of the failed blob reached the destination");
    }
    assert_eq!(dst.tag_digest("v1"), None);
}

/// What the destination has is skipped; the root is pushed and tagged all the same.
#[tokio::test(start_paused = true)]
async fn content_the_destination_has_is_skipped_and_the_root_is_still_tagged() {
    let src = MemoryStore::new("src");
    let layer = blob(&src, "weights");
    let config = blob(&src, "config");
    let m = manifest(&src, &config, &[&layer]);
    src.set_tag("1.0", &m.digest);
    let dst = MemoryStore::new("dst");
    dst.insert("application/octet-stream", b"weights");

    let report = copy_tag(&src, &dst, "1.0", 3).await.expect("the copy succeeds");

    assert_eq!((report.copied, report.skipped), (1, 1));
    assert_eq!(dst.tag_digest("1.0"), Some(m.digest));
}

/// Successors decide what is copied: pull keeps only the selected layers.
#[tokio::test(start_paused = true)]
async fn successors_filter_the_children_copied() {
    let src = MemoryStore::new("src");
    let (wanted, unwanted) = (blob(&src, "wanted"), blob(&src, "unwanted"));
    let config = blob(&src, "config");
    let m = manifest(&src, &config, &[&wanted, &unwanted]);
    src.set_tag("1.0", &m.digest);
    let dst = MemoryStore::new("dst");
    let keep_wanted = |_: &Descriptor, children: Vec<Descriptor>| -> Vec<Descriptor> {
        children.into_iter().filter(|c| c.digest == wanted.digest).collect()
    };
    let options = GraphOptions { successors: Some(&keep_wanted), ..GraphOptions::default() };

    copy(&src, &Reference::Tag("1.0".into()), &dst, None, &options).await.expect("the copy succeeds");

    assert!(dst.holds(&wanted.digest));
    assert!(!dst.holds(&unwanted.digest) && !dst.holds(&config.digest));
}

/// A manifest that refers to another (a signature) comes along only when referrers are asked
/// for, and only once the manifest it refers to is at the destination.
#[tokio::test(start_paused = true)]
async fn referrers_follow_their_subject_when_asked() {
    let src = MemoryStore::new("src");
    let layer = blob(&src, "weights");
    let config = blob(&src, "config");
    let suite = manifest(&src, &config, &[&layer]);
    src.set_tag("1.0", &suite.digest);
    let signature_blob = blob(&src, "signature bytes");
    let empty = src.insert("application/vnd.oci.empty.v1+json", b"{}");
    let signature = src.insert(
        media::OCI_MANIFEST,
        &serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "artifactType": "application/vnd.example.signature",
            "config": empty,
            "layers": [signature_blob],
            "subject": suite,
        }))
        .unwrap(),
    );

    let without = MemoryStore::new("dst");
    copy_tag(&src, &without, "1.0", 3).await.expect("the copy succeeds");
    assert!(!without.holds(&signature.digest), "referrers stay behind unless asked for");

    let with = MemoryStore::new("dst");
    let options = GraphOptions { referrers: true, ..GraphOptions::default() };
    copy(&src, &Reference::Tag("1.0".into()), &with, Some("1.0"), &options).await.expect("the copy succeeds");
    let arrivals = with.arrivals();
    assert!(position(&arrivals, &suite.digest) < position(&arrivals, &signature.digest), "{arrivals:?}");
    assert!(with.holds(&signature_blob.digest) && with.holds(&empty.digest));
}
