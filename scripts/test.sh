#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup.sh), then runs every test: the
# Rust tests (arguments go to cargo test), then the Python package's, from a wheel built from
# this checkout into a fresh virtualenv (scripts/test-python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --locked "$@"
# The wheel from the debug build cargo test just made (maturin --profile dev reuses its
# dependencies): `pip wheel .` as users run it, minus the release build's minutes of optimising.
# scripts/test-python.sh alone builds the release wheel users get.
MATURIN_PEP517_ARGS="${MATURIN_PEP517_ARGS:---locked --profile dev}" scripts/test-python.sh
