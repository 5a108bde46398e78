#!/usr/bin/env bash
# Benchmarks (not tests): figures and ratios against baselines measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p shardis-bench
target/release/bench-core "$@"
