#!/usr/bin/env bash
# Benchmarks push and pull of one large weights file through an OCI layout, next to the
# ceilings measured in the same run on the same bytes: cp (disk copy) and sha256sum (one hash
# pass). Prints wall time, throughput, peak RSS and the ratio to the ceiling.
#   SIZE_MB=2048 scripts/bench.sh        (default 2048; BENCH_DIR to choose the scratch folder)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${SIZE_MB:-2048}
cargo build --release --quiet
zoo=$PWD/target/release/zoo-oci
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/zoo-oci-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }

mkdir -p "$work/suite/models"
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/suite/models/weights.bin"
printf '# Bench\n\nA %s MiB weights file.\n' "$size_mb" > "$work/suite/README.md"
cat > "$work/suite/zoo.yaml" <<YAML
name: bench
version: "1"
summary: benchmark suite
license: MIT
models:
  - {name: weights, path: models/weights.bin, framework: other}
YAML
sync

measure() { # label, command...: prints "label seconds maxrss_kb"
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs rss < "$work/time"
  echo "$label $secs $rss"
}

results=()
results+=("$(measure cp cp "$work/suite/models/weights.bin" "$work/copy.bin")")
rm -f "$work/copy.bin"
results+=("$(measure sha256sum sha256sum "$work/suite/models/weights.bin")")
results+=("$(measure push "$zoo" push -q "$work/suite" "oci:$work/layout:v1")")
results+=("$(measure re-push "$zoo" push -q "$work/suite" "oci:$work/layout:v1")")
results+=("$(measure pull "$zoo" pull -q "oci:$work/layout:v1" -o "$work/pulled")")
cmp "$work/suite/models/weights.bin" "$work/pulled/models/weights.bin"

cp_secs=$(echo "${results[0]}" | cut -d' ' -f2)
printf '%-10s %8s %10s %12s %14s\n' step seconds "MB/s" "peak RSS" "x cp time"
for r in "${results[@]}"; do
  read -r label secs rss <<<"$r"
  awk -v l="$label" -v s="$secs" -v k="$rss" -v mb="$size_mb" -v c="$cp_secs" 'BEGIN {
    rate = (s > 0) ? mb * 1.048576 / s : 0
    printf "%-10s %8.2f %10.0f %9.1f MB %14.2f\n", l, s, rate, k / 1000, s / c }'
done
echo "($size_mb MiB of random bytes; one run; noisy machines vary: compare ratios within a run)"
