#!/usr/bin/env bash
# Fuzzes what zoo-oci reads from registries, layouts and suite folders (fuzz/: manifests and
# configs, tar layers, references, zoo.yaml, every model-file reader) for SECONDS_PER_TARGET each
# (default 60), then prints the executions and crashes of each target. Not run in CI: it needs a
# nightly toolchain and cargo-fuzz (installed here if missing), and takes minutes.
#
# Every crash input is copied into tests/fuzz_regressions/TARGET/, where `cargo test --test tests
# -- inputs::` runs it through the same entry point (fuzz/harness.rs): fix the crash, keep the
# input. Corpora stay in fuzz/corpus/ (not committed) so a second run starts where one stopped.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   FUZZ_SANITIZER=address scripts/fuzz.sh 300 tar   # with AddressSanitizer (slower, default none)
set -euo pipefail

cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
sanitizer=${FUZZ_SANITIZER:-none}

toolchain=$(rustup toolchain list | awk '/^nightly/ {print $1; exit}')
if [[ -z $toolchain ]]; then
    echo "fuzz.sh: no nightly toolchain: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo "+$toolchain" fuzz list --fuzz-dir fuzz)
fi

# One build of every target (release, debug assertions on: overflows panic, as they should be
# found); each run below reuses it.
# FUZZ_SKIP_BUILD=1 runs what the last build left (fuzz/target/), e.g. while the tree changes.
if [[ ${FUZZ_SKIP_BUILD:-0} != 1 ]]; then
    if [[ $# -eq 0 ]]; then
        cargo "+$toolchain" fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer"
    else
        for target in "${targets[@]}"; do
            cargo "+$toolchain" fuzz build --fuzz-dir fuzz --sanitizer "$sanitizer" "$target"
        done
    fi
fi
bin=fuzz/target/$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')/release

logs=$(mktemp -d)
summary=()
failed=0
for target in "${targets[@]}"; do
    corpus=fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    # Seeds: the inputs kept from earlier crashes, and the repository's own files of the kind
    # (the examples' model files once fetched, zoo.yaml files, the fixture layout's manifests).
    if [[ -d tests/fuzz_regressions/$target ]]; then
        cp -n tests/fuzz_regressions/"$target"/* "$corpus"/ 2>/dev/null || true
    fi
    case $target in
        onnx | gguf | tflite | safetensors) pattern="*.$target" ;;
        openvino) pattern="*.xml" ;;
        torchscript) pattern="*.pt" ;;
        zoo_yaml) pattern="zoo.yaml" ;;
        manifest) pattern="[0-9a-f]*[0-9a-f]" ;;
        *) pattern="" ;;
    esac
    if [[ -n $pattern ]]; then
        find examples tests/fixtures -type f -name "$pattern" -size -1024k 2>/dev/null | while read -r seed; do
            cp -n "$seed" "$corpus/seed-$(basename "$seed")" 2>/dev/null || true
        done
    fi
    before=$(find "$artifacts" -type f | wc -l)
    log=$logs/$target.log
    # -fork keeps fuzzing after a crash (each crash is written to $artifacts), so one bad input
    # does not end the target's time; -rss_limit_mb and -timeout turn runaway memory and hangs
    # into findings too.
    "$bin/$target" "$corpus" \
        -max_total_time="$seconds" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$artifacts/" >"$log" 2>&1 || true
    execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+|#[0-9]+' "$log" | grep -Eo '[0-9]+' | sort -n | tail -1)
    crashes=$(( $(find "$artifacts" -type f | wc -l) - before ))
    if (( crashes > 0 )); then
        failed=1
        mkdir -p tests/fuzz_regressions/"$target"
        for f in "$artifacts"/*; do
            cp -n "$f" tests/fuzz_regressions/"$target"/ 2>/dev/null || true
        done
    fi
    summary+=("$(printf '%-12s %12s executions  %3d crashes' "$target" "${execs:-0}" "$crashes")")
done

echo
echo "fuzzed ${seconds}s per target ($sanitizer sanitizer); logs in $logs"
printf '%s\n' "${summary[@]}"
if (( failed )); then
    echo "crash inputs copied into tests/fuzz_regressions/: fix them, then cargo test --test tests -- inputs::"
    exit 1
fi
