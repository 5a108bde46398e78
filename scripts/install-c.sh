#!/usr/bin/env bash
# Builds the C library (release) and installs it under a prefix:
#   <prefix>/lib/libshardis.so.<version> (+ .so.0, .so links), libshardis.a,
#   <prefix>/include/shardis.h,
#   <prefix>/lib/pkgconfig/shardis.pc
#   usage: bash scripts/install-c.sh [prefix]      (default /usr/local)
# SHARDIS_PROFILE=debug installs the debug build instead (the test command uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(realpath -m "${1:-/usr/local}")
profile=${SHARDIS_PROFILE:-release}
if [ "$profile" = release ]; then
  cargo build --release --locked -p shardis-c
else
  cargo build --locked -p shardis-c
fi
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
built="${CARGO_TARGET_DIR:-target}/$profile"
install -d "$prefix/lib/pkgconfig" "$prefix/include"
# The SONAME is libshardis.so.0 (bindings-c/build.rs): the real file, then the two links.
install -m 0755 "$built/libshardis.so" "$prefix/lib/libshardis.so.$version"
ln -sf "libshardis.so.$version" "$prefix/lib/libshardis.so.0"
ln -sf "libshardis.so.0" "$prefix/lib/libshardis.so"
install -m 0644 "$built/libshardis.a" "$prefix/lib/libshardis.a"
install -m 0644 bindings-c/include/shardis.h "$prefix/include/shardis.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" bindings-c/shardis.pc.in >"$prefix/lib/pkgconfig/shardis.pc"
echo "installed shardis $version under $prefix (PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
