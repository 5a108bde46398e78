#!/usr/bin/env bash
# The main job: install what is missing, build, start a local playground of redis-servers
# on 127.0.0.1 (stopped at the end) and run scenario S2 through shardis.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p shardis -p shardis-examples -p shardis-php
wheel=$(bash scripts/build-wheel.sh)
.venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
SHARDIS_PYTHON="$PWD/.venv/bin/python" SHARDIS_PHP_EXT="$PWD/target/release/libshardis_php.so" \
    exec target/release/demo
