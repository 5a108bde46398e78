#!/usr/bin/env bash
# The C suite: real C programs (bindings-c/tests/c/*_test.c) built with -Wall -Wextra -Werror
# under AddressSanitizer (with LeakSanitizer) and UndefinedBehaviorSanitizer, statically
# linked with libshardis.a, run against a 3+3 Redis Cluster and 3 standalone nodes. A test
# passes only by printing "PASS" and exiting 0; any sanitizer report fails it.
#   usage: run.sh <libshardis.a> <path of shardis-fixture>
set -euo pipefail
lib=$(realpath "$1")
fixture=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SHARDIS_CLUSTER_NODES:-}" ]; then
  exec bash "$here/../../scripts/with-fixtures.sh" "$fixture" bash "$0" "$lib" "$fixture"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CC=${CC:-cc}
# What Rust's std needs from the system when linked statically (rustc --print native-static-libs).
SYSLIBS=(-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=0
passed=0
for src in "$here"/c/*_test.c; do
  name=$(basename "$src" .c)
  "$CC" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 \
    -fsanitize=address,undefined -fno-omit-frame-pointer \
    -I "$here/../include" -I "$here/c" "$src" "$lib" "${SYSLIBS[@]}" -o "$work/$name"
  if out=$("$work/$name" 2>&1) && [ "$(echo "$out" | tail -n 1 | cut -d' ' -f1)" = "PASS" ]; then
    echo "$out" | tail -n 1
    passed=$((passed + 1))
  else
    echo "$out" | tail -n 40
    echo "FAILED: $name" >&2
    failed=$((failed + 1))
  fi
done
echo "C suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
