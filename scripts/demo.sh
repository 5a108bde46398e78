#!/usr/bin/env bash
# The main job: install what is missing, build, start a local playground of redis-servers
# on 127.0.0.1 (stopped at the end) and run scenario S2 through shardis.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p shardis-cli -p shardis-examples -p shardis-php -p shardis-c
# The C example (scenario S2), built against the installed library through pkg-config.
cprefix="$PWD/target/c-prefix"
bash scripts/install-c.sh "$cprefix" >/dev/null
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror examples/c/data_generator.c \
  $(PKG_CONFIG_PATH="$cprefix/lib/pkgconfig" pkg-config --cflags --libs shardis) \
  -Wl,-rpath,"$cprefix/lib" -o "$cprefix/data_generator"
wheel=$(bash scripts/build-wheel.sh)
.venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
SHARDIS_PYTHON="$PWD/.venv/bin/python" SHARDIS_PHP_EXT="$PWD/target/release/libshardis_php.so" \
    SHARDIS_C_EXAMPLE="$cprefix/data_generator" \
    exec target/release/demo
