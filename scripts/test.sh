#!/usr/bin/env bash
# The test command: installs what the tests need (scripts/setup.sh), then runs every test: the
# Rust tests (arguments go to cargo test), then the Python package's, from a wheel built from
# this checkout into a fresh virtualenv (scripts/test-python.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --locked "$@"
scripts/test-python.sh
