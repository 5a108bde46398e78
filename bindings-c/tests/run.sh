#!/usr/bin/env bash
# The C suite: real C programs (bindings-c/tests/c/*_test.c) built with -Wall -Wextra -Werror,
# statically linked with libshardis.a, run against a 3+3 Redis Cluster and 3 standalone nodes
# (and their TLS-only twins: tls_test.c; valgrind.supp silences ring's assembly only),
# each twice: under AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer (the C side),
# and under valgrind (everything, the Rust code included: invalid accesses, definite leaks).
# A run passes only by printing "PASS" and exiting 0; any report fails it. The header alone
# must compile as C11, C23 and C++.
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
# The header on its own: C11, C23 and C++ (extern "C", enum underlying types).
"$CC" -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$here/../include/shardis.h"
"$CC" -std=c2x -Wall -Wextra -Werror -fsyntax-only -x c "$here/../include/shardis.h"
if command -v c++ >/dev/null; then
  c++ -std=c++11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c++ "$here/../include/shardis.h"
fi
# valgrind also sees the Rust side (ASan instruments only the C programs).
valgrind=""
if command -v valgrind >/dev/null; then
  valgrind="valgrind --quiet --error-exitcode=24 --leak-check=full --errors-for-leak-kinds=definite --child-silent-after-fork=yes --suppressions=$here/valgrind.supp"
fi
failed=0
passed=0
check_run() { # name, command…
  local name=$1
  shift
  if out=$("$@" 2>&1) && [ "$(echo "$out" | tail -n 1 | cut -d' ' -f1)" = "PASS" ]; then
    echo "$(echo "$out" | tail -n 1)"
    passed=$((passed + 1))
  else
    echo "$out" | tail -n 40
    echo "FAILED: $name" >&2
    failed=$((failed + 1))
  fi
}
for src in "$here"/c/*_test.c; do
  name=$(basename "$src" .c)
  "$CC" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 \
    -fsanitize=address,undefined -fno-omit-frame-pointer \
    -I "$here/../include" -I "$here/c" "$src" "$lib" "${SYSLIBS[@]}" -o "$work/$name"
  check_run "$name (ASan/UBSan/LSan)" "$work/$name"
  if [ -n "$valgrind" ]; then
    "$CC" -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -g -O1 \
      -I "$here/../include" -I "$here/c" "$src" "$lib" "${SYSLIBS[@]}" -o "$work/$name.plain"
    vg=$valgrind
    if grep -q 'valgrind: no leak check' "$src"; then
      vg="${valgrind/--leak-check=full/--leak-check=no}"
    fi
    check_run "$name (valgrind)" $vg "$work/$name.plain"
  fi
done
echo "C suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
