//! The extractor a pull runs on each tar layer, `archive::extract_tar`: the blob's digest over
//! every byte, each file created in a fresh folder and hashed as it is written, and checked
//! against the manifest's file list (or, past `FILE_LIST_LIMIT` files, the size bound), as
//! `pull` sets it. The layers are those of the generated suites, in memory: the weights as plain
//! tar, the dataset as tar+zstd. The README, a raw layer, is left out. Throughput is the bytes of
//! the files extracted; making and deleting the folder are not timed.

mod common;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zoo_oci::artifact::archive::{self, Expected, Extracted};
use zoo_oci::artifact::manifest::Descriptor;
use zoo_oci::artifact::media::FILE_LIST_LIMIT;
use zoo_oci::artifact::pack::{self, PackOptions};
use zoo_oci::suite::LayerContent;

/// One tar layer as a pull receives it.
struct Layer {
    blob: Vec<u8>,
    descriptor: Descriptor,
    compression: archive::Compression,
    expected: Expected,
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
            .filter(|l| matches!(l.plan.content, LayerContent::Tar(_)))
            .map(|l| {
                let size: u64 = l.files.iter().map(|f| f.size).sum();
                bytes += size;
                // What pull expects of a zoo-oci layer: its file list, or for a layer too large
                // to list, its unpacked size and file count with room for the tar headers.
                let expected = if l.files.len() <= FILE_LIST_LIMIT {
                    Expected::Files(l.files.iter().map(|f| (f.path.clone(), f.clone())).collect())
                } else {
                    Expected::Bound(size + l.files.len() as u64 * 1536 + (1 << 20))
                };
                Layer {
                    blob: packed.write_layer(l, Vec::new()).expect("the layer is written"),
                    descriptor: l.descriptor.clone(),
                    compression: l.compression,
                    expected,
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
                        archive::extract_tar(
                            layer.blob.as_slice(),
                            &layer.descriptor,
                            layer.compression,
                            dest.path(),
                            &layer.expected,
                            &|_| true,
                            &mut extracted,
                        )
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
