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

echo "== Python: wheel → fresh venv → import, stub check, pytest"
cargo build --locked -p shardis-tests --bin shardis-fixture
wheel=$(bash scripts/build-wheel.sh)
pyenv="$PWD/target/py-test-venv"
rm -rf "$pyenv"
python3 -m venv "$pyenv"
"$pyenv/bin/pip" install -q --disable-pip-version-check "$wheel" pytest mypy
(cd /tmp && "$pyenv/bin/python" -c "import shardis, sys; print('imported shardis', shardis.__version__, 'from', shardis.__file__)")
"$pyenv/bin/python" -m mypy.stubtest shardis._native
pylog=$(mktemp)
SHARDIS_FIXTURE="$PWD/target/debug/shardis-fixture" "$pyenv/bin/python" -m pytest -q -rs bindings-python/tests 2>&1 | tee "$pylog"
if grep -Eq "[0-9]+ skipped" "$pylog"; then
  echo "test.sh: some Python tests were skipped" >&2
  exit 1
fi
grep -Eq "[0-9]+ passed" "$pylog"
rm -f "$pylog"
echo "== PHP: extension → php-fpm, fork, phpredis parity (bindings-php/tests)"
cargo build --locked -p shardis-php
bash bindings-php/tests/run.sh target/debug/libshardis_php.so target/debug/shardis-fixture
echo "== C: libshardis under ASan/UBSan/LSan (bindings-c/tests), pkg-config, the S2 example"
cargo build --locked -p shardis-c
bash bindings-c/tests/run.sh target/debug/libshardis.a target/debug/shardis-fixture
cprefix="$PWD/target/c-test-prefix"
rm -rf "$cprefix"
SHARDIS_PROFILE=debug bash scripts/install-c.sh "$cprefix"
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror examples/c/data_generator.c \
  $(PKG_CONFIG_PATH="$cprefix/lib/pkgconfig" pkg-config --cflags --libs shardis) \
  -Wl,-rpath,"$cprefix/lib" -o "$cprefix/data_generator"
bash scripts/with-fixtures.sh target/debug/shardis-fixture bash -c '
  "$0" "redis://$SHARDIS_STANDALONE_NODES/?mode=ring_hash" 1000 &&
  "$0" "redis+cluster://$SHARDIS_CLUSTER_NODES" 1000 avgo' "$cprefix/data_generator"
echo "== all test suites passed"
