#!/usr/bin/env bash
# Benchmarks push and pull of one large weights file through an OCI layout and through a local
# registry, next to the ceilings measured in the same run on the same bytes: cp (disk copy),
# sha256sum (one hash pass), and curl uploading (one PUT) and downloading the blob. Prints wall
# time, throughput, peak RSS and the ratio to the step's ceiling.
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

# The same through a local registry (CNCF Distribution, plain HTTP on loopback), next to curl
# doing one monolithic PUT of the blob and one GET of it, measured in the same run.
if [ "${BENCH_REGISTRY:-1}" = 1 ]; then
  command -v docker-registry >/dev/null || { echo "bench: needs docker-registry (scripts/setup.sh installs it)" >&2; exit 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  addr=127.0.0.1:$port
  printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$work/registry" "$addr" > "$work/registry.yml"
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 100); do curl -fsS "http://$addr/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  blob="$work/suite/models/weights.bin"
  digest="sha256:$(sha256sum "$blob" | cut -d' ' -f1)"
  location=$(curl -fsS -i -X POST "http://$addr/v2/bench/curl/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  case "$location" in http*) ;; *) location="http://$addr$location" ;; esac
  results+=("$(measure curl-put curl -fsS -X PUT -H 'Content-Type: application/octet-stream' -T "$blob" "$location&digest=$digest")")
  results+=("$(measure curl-get curl -fsS -o "$work/curl.bin" "http://$addr/v2/bench/curl/blobs/$digest")")
  rm -f "$work/curl.bin"
  results+=("$(measure reg-push "$zoo" push -q --plain-http "$work/suite" "$addr/bench/zoo:v1")")
  results+=("$(measure reg-pull "$zoo" pull -q --plain-http "$addr/bench/zoo:v1" -o "$work/reg-pulled")")
  cmp "$blob" "$work/reg-pulled/models/weights.bin"
fi


# Each step's ceiling: local steps against cp, registry pushes against curl's PUT, pulls
# against curl's GET.
printf '%s\n' "${results[@]}" | awk -v mb="$size_mb" '
  { label[NR] = $1; secs[NR] = $2; rss[NR] = $3; at[$1] = $2 }
  END {
    printf "%-10s %8s %10s %12s %10s %16s\n", "step", "seconds", "MB/s", "peak RSS", "ceiling", "x ceiling time"
    for (i = 1; i <= NR; i++) {
      l = label[i]; c = (l == "reg-push") ? "curl-put" : (l == "reg-pull") ? "curl-get" : (l ~ /^curl/) ? l : "cp"
      rate = (secs[i] > 0) ? mb * 1.048576 / secs[i] : 0
      printf "%-10s %8.2f %10.0f %9.1f MB %10s %16.2f\n", l, secs[i], rate, rss[i] / 1000, c, secs[i] / at[c]
    }
  }'
echo "($size_mb MiB of random bytes; one run; noisy machines vary: compare ratios within a run)"
