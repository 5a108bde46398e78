#!/usr/bin/env bash
# The PHP suite: starts a 3+3 Redis Cluster and 3 standalone nodes (shardis-fixture), then
# runs every *_test.php with the extension loaded. A test passes only by printing "PASS";
# a missing extension, a skip or any other exit is a failure. The fixtures stop their
# servers when this script exits (their stdin closes), even on failure.
#   usage: run.sh <path of the built extension .so> <path of shardis-fixture>
set -euo pipefail
ext=$(realpath "$1")
fixture=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
cleanup() {
  # closing the fixtures' stdin stops their servers; then wait for them by PID
  exec {cin}>&- {sin}>&- 2>/dev/null || true
  for pid in ${fixture_pids:-}; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
mkfifo "$work/cluster.in" "$work/standalone.in"
"$fixture" cluster --primaries 3 --replicas 1 <"$work/cluster.in" >"$work/cluster.json" &
fixture_pids="$!"
exec {cin}>"$work/cluster.in"
"$fixture" standalone --count 3 <"$work/standalone.in" >"$work/standalone.json" &
fixture_pids="$fixture_pids $!"
exec {sin}>"$work/standalone.in"
for f in cluster standalone; do
  for _ in $(seq 1 300); do
    [ -s "$work/$f.json" ] && break
    sleep 0.1
  done
  [ -s "$work/$f.json" ] || { echo "run.sh: the $f fixture did not start" >&2; exit 1; }
done
export SHARDIS_CLUSTER=$(cat "$work/cluster.json")
export SHARDIS_STANDALONE=$(cat "$work/standalone.json")
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
