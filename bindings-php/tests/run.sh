#!/usr/bin/env bash
# The PHP suite: with a 3+3 Redis Cluster and 3 standalone nodes, and their TLS and
# mutual-TLS counterparts (scripts/with-fixtures.sh), runs every *_test.php with the
# extension loaded. A test passes only by printing "PASS"; a missing extension, a missing
# fixture, a skip or any other exit is a failure.
#   usage: run.sh <path of the built extension .so> <path of shardis-fixture>
set -euo pipefail
ext=$(realpath "$1")
fixture=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${SHARDIS_CLUSTER:-}" ]; then
  # Re-run this script with the servers started (scripts/with-fixtures.sh stops them).
  exec bash "$here/../../scripts/with-fixtures.sh" "$fixture" bash "$0" "$ext" "$fixture"
fi
# The TLS tests need the TLS fixtures: without them the suite fails (a skipped test is a
# failed one), before any test runs.
for v in SHARDIS_TLS_DIR SHARDIS_TLS_CLUSTER SHARDIS_TLS_STANDALONE SHARDIS_MTLS_STANDALONE; do
  if [ -z "${!v:-}" ]; then
    echo "run.sh: $v is not set: scripts/with-fixtures.sh did not start the TLS fixtures" >&2
    exit 1
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SHARDIS_PHP_EXT="$ext"

php -d "extension=$ext" -r 'exit(extension_loaded("shardis") ? 0 : 1);' || {
  echo "run.sh: php could not load $ext" >&2
  exit 1
}
# Installed as README says (shardis.so in an extension dir), `extension=shardis` loads it.
mkdir "$work/extdir"
cp "$ext" "$work/extdir/shardis.so"
loaded=$(php -n -d "extension_dir=$work/extdir" -d extension=shardis \
  -r 'echo extension_loaded("shardis") ? phpversion("shardis") : "not loaded";')
echo "extension=shardis from an extension dir: $loaded"
[ "$loaded" != "not loaded" ] || exit 1
failed=0
passed=0
for t in "$here"/*_test.php; do
  out=$(php -d "extension=$ext" -d zend.assertions=1 "$t" 2>&1) || true
  echo "$out"
  if [ "$(echo "$out" | tail -n 1 | cut -d' ' -f1)" = "PASS" ]; then
    passed=$((passed + 1))
  else
    echo "FAILED: $(basename "$t")" >&2
    failed=$((failed + 1))
  fi
done
echo "PHP suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
