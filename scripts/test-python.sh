#!/usr/bin/env bash
# The Python package's tests: builds the wheel from this checkout (`pip wheel .`: maturin),
# installs it with its [onnx,safetensors,progress] extras into a FRESH virtualenv, checks that
# `import zoo_oci` and the `zoo-oci` console command work, then runs python/tests with that
# virtualenv's pytest against real registries (docker-registry, openssl, htpasswd:
# scripts/setup.sh installs them).
#
#   scripts/test-python.sh                 build, install, run every test
#   scripts/test-python.sh -k cache -x     extra arguments go to pytest
#   scripts/test-python.sh --install-only  build and install only (with ZOO_OCI_PYTEST_VENV set, the
#                                          virtualenv stays: scripts/bench-python.sh uses it)
#
# Environment:
#   ZOO_OCI_PYTEST_VENV   where to make the test virtualenv (emptied first; default: a temp folder)
#   CARGO_TARGET_DIR      where cargo builds (default: target/)
#   ZOO_OCI_BENCH_OUT     where the tests write their measurements (JSON lines; default: a temp
#                         file); printed at the end
#
# The wheel is built by `pip wheel .`, which is what `pip install .` does before installing: so
# this is that check, with the wheel kept to install into the fresh virtualenv. No torch or
# transformers is installed (hundreds of MB): a test installs the wheel alone into another
# virtualenv and checks that hub.load names the extras it lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

die() { echo "test-python.sh: error: $*" >&2; exit 1; }
note() { echo "test-python.sh: $*" >&2; }

command -v python3 >/dev/null 2>&1 || die "python3 is not installed; run scripts/setup.sh"
[ -f pyproject.toml ] || die "no pyproject.toml in $root: the Python package cannot be built"
[ -d python/tests ] || die "no python/tests in $root"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/zoo-oci-pytest.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# A virtualenv that works (Debian splits venv and ensurepip into python3-venv).
make_venv() {
  local dir=$1
  if ! python3 -m venv "$dir" >"$scratch/venv.log" 2>&1 || [ ! -x "$dir/bin/pip" ]; then
    cat "$scratch/venv.log" >&2 || true
    die "python3 -m venv cannot make a virtualenv with pip in $dir (on Debian: apt-get install python3-venv); run scripts/setup.sh"
  fi
}
pip_quiet=(--quiet --disable-pip-version-check)

# 1-2. The wheel, built the way `pip install .` builds it: pip reads pyproject.toml, fetches
# maturin from PyPI into an isolated build environment, and runs its build backend (a release
# build) in this checkout, cargo's target folder being $CARGO_TARGET_DIR, else target/.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS:---locked}"
builder="$scratch/builder"
make_venv "$builder"
wheels="$scratch/wheels"
note "building the wheel: pip wheel . (maturin from PyPI; target folder $CARGO_TARGET_DIR)"
"$builder/bin/pip" wheel "${pip_quiet[@]}" --no-deps -w "$wheels" "$root" >&2
shopt -s nullglob
built=("$wheels"/*.whl)
shopt -u nullglob
[ ${#built[@]} -eq 1 ] || die "expected one wheel in $wheels, found ${#built[@]}"
wheel=${built[0]}
echo "wheel: $(basename "$wheel")"

# 3. A fresh virtualenv with the wheel, its extras, and pytest.
venv="${ZOO_OCI_PYTEST_VENV:-$scratch/venv}"
rm -rf "$venv"
make_venv "$venv"
note "installing $(basename "$wheel")[onnx,safetensors,progress], pytest and mypy into $venv"
"$venv/bin/pip" install "${pip_quiet[@]}" "${wheel}[onnx,safetensors,progress]" pytest mypy

# 4. The package imports and the console command runs, from the virtualenv.
"$venv/bin/python" -c 'import zoo_oci, zoo_oci.hub, zoo_oci.cache; print("import zoo_oci:", zoo_oci.__file__)' \
  || die "import zoo_oci fails in the fresh virtualenv"
[ -x "$venv/bin/zoo-oci" ] || die "the wheel installs no zoo-oci command into $venv/bin"
"$venv/bin/zoo-oci" --version || die "zoo-oci --version fails"

if [ "${1:-}" = "--install-only" ]; then
  exit 0
fi

# 5. The tests, with the virtualenv's python, its bin first on PATH (so `zoo-oci` is the wheel's).
bench_out="${ZOO_OCI_BENCH_OUT:-$scratch/bench.jsonl}"
: >"$bench_out"
status=0
PATH="$venv/bin:$PATH" ZOO_OCI_BENCH_OUT="$bench_out" ZOO_OCI_WHEEL="$wheel" PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider python/tests "$@" || status=$?

echo
echo "measurements ($bench_out):"
cat "$bench_out"
exit "$status"
