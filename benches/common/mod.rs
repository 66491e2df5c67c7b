//! The suites the benches pack and extract, generated into a temp folder: one weights file, many
//! small files in a dataset folder, and both. Contents are pseudo-random (the same on every run),
//! so zstd finds nothing to squeeze, as with real weights and most data.

use std::fs;
use std::path::Path;
use std::time::Duration;

use criterion::BenchmarkGroup;
use criterion::measurement::WallTime;
use zoo_oci::suite::{self, Links, Suite};

/// What a generated suite holds.
pub struct Shape {
    /// The benchmark's name for it.
    pub name: &'static str,
    /// Bytes of `models/weights.bin` (0: a 4 KiB model, as every suite needs one).
    pub weights: usize,
    /// Files of 512 bytes under `data/x/`, 1,000 to a subfolder.
    pub files: usize,
}

pub const SHAPES: [Shape; 3] = [
    Shape { name: "weights-64MiB", weights: 64 << 20, files: 0 },
    Shape { name: "files-2000x512B", weights: 0, files: 2000 },
    Shape { name: "weights-64MiB+files-2000x512B", weights: 64 << 20, files: 2000 },
];

/// Few samples of one iteration each: an iteration takes tens to hundreds of milliseconds, and
/// `cargo bench` should finish in minutes on two cores.
pub fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .sampling_mode(criterion::SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
}

/// xorshift64: cheap, and the same bytes for the same seed.
fn fill(buf: &mut [u8], seed: u64) {
    let mut x = seed | 1;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
}

/// Writes a suite of this shape into `dir` (which must not exist) and returns it checked, with
/// the bytes of its model and data files.
pub fn suite(dir: &Path, shape: &Shape) -> (Suite, u64) {
    fs::create_dir_all(dir.join("models")).expect("create the suite folder");
    let mut weights = vec![0u8; if shape.weights == 0 { 4096 } else { shape.weights }];
    fill(&mut weights, 1);
    fs::write(dir.join("models/weights.bin"), &weights).expect("write the weights");
    let mut yaml = String::from(
        "name: bench\nversion: \"1\"\nsummary: criterion bench suite\nlicense: MIT\n\
         models:\n  - {name: weights, path: models/weights.bin, framework: other}\n",
    );
    let mut bytes = weights.len() as u64;
    if shape.files > 0 {
        yaml.push_str("datasets:\n  - {name: x, role: test, path: data/x/}\n");
        let mut content = [0u8; 512];
        for i in 0..shape.files {
            let folder = dir.join(format!("data/x/{:03}", i / 1000));
            if i % 1000 == 0 {
                fs::create_dir_all(&folder).expect("create a data folder");
            }
            fill(&mut content, i as u64 + 2);
            fs::write(folder.join(format!("{i:06}.bin")), content).expect("write a data file");
            bytes += content.len() as u64;
        }
    }
    fs::write(dir.join("zoo.yaml"), yaml).expect("write zoo.yaml");
    fs::write(dir.join("README.md"), "# Bench\n\nA generated suite.\n").expect("write the README");
    let checked = suite::check(dir, Links::Refuse).expect("the generated suite can be read");
    assert_eq!(checked.problems.error_count(), 0, "the generated suite checks: {:?}", checked.problems);
    (checked.suite.expect("the generated suite is planned"), bytes)
}
