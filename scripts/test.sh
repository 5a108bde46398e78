#!/usr/bin/env bash
# Every test suite: install what is missing, check formatting and lints, then run the unit
# tests, the integration tests against real redis-server / Envoy / nutcracker processes,
# the fork test, the CLI tests and the doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SHARDIS_ENVOY="$PWD/.venv/bin/envoy"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --workspace 2>&1 | tee "$log"
# A skipped (ignored) test is a failing test.
if grep -E "test result: .* [1-9][0-9]* ignored" "$log" >/dev/null; then
  echo "test.sh: some tests were ignored" >&2
  exit 1
fi
echo "== all test suites passed"
