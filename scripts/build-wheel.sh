#!/usr/bin/env bash
# Builds the Python wheel (abi3, CPython ≥ 3.9) into target/wheels/ and prints its path.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f target/wheels/shardis-*.whl
(cd bindings-python && ../.venv/bin/maturin build --release --quiet -o ../target/wheels) >&2
ls target/wheels/shardis-*.whl
