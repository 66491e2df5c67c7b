#!/usr/bin/env bash
# The Python package's figures (issue 14): the time of `import zoo_oci` (in a fresh interpreter,
# against the interpreter's own start-up), of a cached `hub.load` of the iris example, and the
# bytes a second pull of a changed suite downloads into the shared cache (against the suite's
# size). Builds the wheel and a fresh virtualenv with scripts/test-python.sh --install-only.
#
#   scripts/bench-python.sh            RUNS=21 by default
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/zoo-oci-bench-python.XXXXXX")
trap 'rm -rf "$work"' EXIT
scripts/fetch-examples.sh >/dev/null
ZOO_OCI_PYTEST_VENV="$work/venv" scripts/test-python.sh --install-only >/dev/null
ZOO_OCI_CACHE="$work/cache" RUNS="${RUNS:-21}" WORK="$work" "$work/venv/bin/python" - <<'PY'
import json, os, shutil, statistics, subprocess, sys, time
from pathlib import Path

runs, work = int(os.environ["RUNS"]), Path(os.environ["WORK"])
python = sys.executable

def median_of(seconds):
    return statistics.median(seconds) * 1000

def child(code):
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out)

# 1. import zoo_oci, timed inside fresh interpreters; the interpreter's start-up beside it.
imports = [child("import time; t = time.perf_counter(); import zoo_oci; print(time.perf_counter() - t)") for _ in range(runs)]
starts = []
for _ in range(runs):
    t = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=True)
    starts.append(time.perf_counter() - t)
print(f"import zoo_oci            median {median_of(imports):6.1f} ms  (min {min(imports)*1000:.1f}, max {max(imports)*1000:.1f}; "
      f"python -c pass takes {median_of(starts):.1f} ms as a whole process)")

import zoo_oci
from zoo_oci import hub

# 2. hub.load of the iris example: the first (pulls the ONNX variant into the cache), then cached.
layout = f"oci:{work / 'zoo'}"
zoo_oci.push("examples/iris-logreg", f"{layout}:1.0", quiet=True)
t = time.perf_counter()
hub.load(f"{layout}:1.0")
first = time.perf_counter() - t
cached = []
for _ in range(runs):
    t = time.perf_counter()
    hub.load(f"{layout}:1.0")
    cached.append(time.perf_counter() - t)
import onnxruntime
model = Path(zoo_oci.pull(f"{layout}:1.0", only="model", variant="onnx", quiet=True)) / "models/logreg_iris_fixed.onnx"
sessions = []
for _ in range(runs):
    t = time.perf_counter()
    onnxruntime.InferenceSession(str(model))
    sessions.append(time.perf_counter() - t)
print(f"hub.load, first           {first*1000:6.1f} ms  (pulls the variant into the cache)")
print(f"hub.load, cached          median {median_of(cached):6.1f} ms  (min {min(cached)*1000:.1f}, max {max(cached)*1000:.1f}; "
      f"onnxruntime.InferenceSession of the same file alone: {median_of(sessions):.1f} ms)")

# 3. A changed suite: version 1.1 with a new README; its second pull into the cache.
suite = work / "iris"
shutil.copytree("examples/iris-logreg", suite)
zoo = shutil.which("zoo-oci") or str(Path(python).parent / "zoo-oci")
def pull(tag):
    out = subprocess.run([zoo, "pull", "--cache", "-q", "--format", "json", f"{layout}:{tag}"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)
pull("1.0")
readme = suite / "README.md"
readme.write_text(readme.read_text() + "\n## Changes in 1.1\n\nThe README gained this section.\n")
spec = suite / "zoo.yaml"
spec.write_text(spec.read_text().replace('version: "1.0"', 'version: "1.1"'))
zoo_oci.push(suite, f"{layout}:1.1", quiet=True)
second = pull("1.1")
size = zoo_oci.inspect(f"{layout}:1.1").size
print(f"second pull, changed suite {second['bytes']} bytes in {second['layers']} layers of {size} bytes "
      f"({second['from_cache']} layers from the cache)")
PY
