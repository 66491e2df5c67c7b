//! The extractors a pull runs on each layer: `archive::extract_raw` for a one-file layer (the
//! weights), `archive::extract_tar` for the others — the blob's digest over every byte, each file
//! created in a fresh folder and checked against the manifest's file list (or, past
//! `FILE_LIST_LIMIT` files, the size bound), as `pull` sets it. The layers are those of the
//! generated suites as a default push writes them, in memory: the weights raw, the dataset a
//! plain tar. The README, a raw doc layer, is left out. Throughput is the bytes of the files
//! extracted; making and deleting the folder are not timed.

mod common;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zoo_oci::artifact::archive::{self, Expected, Extracted};
use zoo_oci::artifact::manifest::Descriptor;
use zoo_oci::artifact::media::FILE_LIST_LIMIT;
use zoo_oci::artifact::pack::{self, PackOptions};
use zoo_oci::suite::{EntryKind, LayerContent};

/// One layer as a pull receives it.
struct Layer {
    blob: Vec<u8>,
    descriptor: Descriptor,
    compression: archive::Compression,
    expected: Expected,
    /// The file of a raw layer.
    raw: Option<String>,
}

fn extractor(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temp folder");
    let mut group = c.benchmark_group("extract");
    common::configure(&mut group);
    for shape in &common::SHAPES {
        let (suite, _) = common::suite(&tmp.path().join(shape.name), shape);
        let packed = pack::pack(suite, &PackOptions::default()).expect("the suite packs");
        let mut bytes = 0;
        let layers: Vec<Layer> = packed
            .layers
            .iter()
            .filter(|l| l.plan.class != zoo_oci::suite::Class::Readme)
            .map(|l| {
                let files: Vec<(String, u64)> = l
                    .plan
                    .content
                    .files()
                    .map(|e| match e.kind {
                        EntryKind::File { size, .. } => (e.path.clone(), size),
                        EntryKind::Dir => unreachable!("files() gives files"),
                    })
                    .collect();
                let size: u64 = files.iter().map(|(_, s)| s).sum();
                bytes += size;
                // What pull expects of a zoo-oci layer: its file list, or for a layer too large
                // to list, its unpacked size and file count with room for the tar headers.
                let expected = if files.len() <= FILE_LIST_LIMIT {
                    Expected::Files(l.files.iter().map(|f| (f.path.clone(), f.clone())).collect())
                } else {
                    Expected::Bound(size + files.len() as u64 * 1536 + (1 << 20))
                };
                let raw = match &l.plan.content {
                    LayerContent::Raw(entry) => Some(entry.path.clone()),
                    LayerContent::Tar(_) => None,
                };
                Layer {
                    blob: packed.write_layer(l, Vec::new()).expect("the layer is written"),
                    descriptor: l.descriptor.clone(),
                    compression: l.compression,
                    expected,
                    raw,
                }
            })
            .collect();
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::from_parameter(shape.name), |b| {
            b.iter_batched(
                || tempfile::tempdir_in(tmp.path()).expect("a folder to extract into"),
                |dest| {
                    for layer in &layers {
                        let mut extracted = Extracted::default();
                        match &layer.raw {
                            Some(path) => archive::extract_raw(
                                layer.blob.as_slice(),
                                &layer.descriptor,
                                dest.path(),
                                path,
                                false,
                                &mut extracted,
                            ),
                            None => archive::extract_tar(
                                layer.blob.as_slice(),
                                &layer.descriptor,
                                layer.compression,
                                dest.path(),
                                &layer.expected,
                                &|_| true,
                                &mut extracted,
                            ),
                        }
                        .expect("the layer extracts");
                    }
                    dest
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, extractor);
criterion_main!(benches);
