//! The packer, in its two passes over a generated suite: `pack::pack`, the hashing pass a push
//! makes before it sends anything (every layer read and hashed, nothing written), and
//! `PackedSuite::write_layer`, which produces each layer's bytes again as a destination takes
//! them (here into a sink, one layer after another). Throughput is the suite's file bytes.

mod common;

use std::hint::black_box;
use std::io;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use zoo_oci::artifact::pack::{self, PackOptions};

fn packer(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("a temp folder");
    let mut group = c.benchmark_group("pack");
    common::configure(&mut group);
    for shape in &common::SHAPES {
        let (suite, bytes) = common::suite(&tmp.path().join(shape.name), shape);
        group.throughput(Throughput::Bytes(bytes));
        group.bench_function(BenchmarkId::new("hash", shape.name), |b| {
            b.iter_batched(
                || suite.clone(),
                |suite| pack::pack(suite, &PackOptions::default()).expect("the suite packs"),
                BatchSize::PerIteration,
            )
        });
        let packed = pack::pack(suite, &PackOptions::default()).expect("the suite packs");
        group.bench_function(BenchmarkId::new("write", shape.name), |b| {
            b.iter(|| {
                for layer in &packed.layers {
                    black_box(packed.write_layer(layer, io::sink()).expect("the layer is written"));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, packer);
criterion_main!(benches);
