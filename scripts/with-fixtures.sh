#!/usr/bin/env bash
# Runs a command with a 3+3 Redis Cluster and 3 standalone nodes started by shardis-fixture,
# for the PHP and C suites:
#   SHARDIS_CLUSTER, SHARDIS_STANDALONE          the fixtures' JSON ({"nodes": [...], ...})
#   SHARDIS_CLUSTER_NODES, SHARDIS_STANDALONE_NODES   the same nodes as "host:port,host:port"
# The fixtures stop their servers when this script exits (their stdin closes), even on
# failure; they are waited for by PID.
#   usage: with-fixtures.sh <path of shardis-fixture> <command> [args...]
set -euo pipefail
fixture=$(realpath "$1")
shift
work=$(mktemp -d)
fixture_pids=""
cleanup() {
  exec {cin}>&- {sin}>&- 2>/dev/null || true
  for pid in $fixture_pids; do wait "$pid" 2>/dev/null || true; done
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
  [ -s "$work/$f.json" ] || { echo "with-fixtures.sh: the $f fixture did not start" >&2; exit 1; }
done
nodes_of() { sed -E 's/.*"nodes":\[([^]]*)\].*/\1/; s/"//g' "$work/$1.json"; }
export SHARDIS_CLUSTER=$(cat "$work/cluster.json")
export SHARDIS_STANDALONE=$(cat "$work/standalone.json")
export SHARDIS_CLUSTER_NODES=$(nodes_of cluster)
export SHARDIS_STANDALONE_NODES=$(nodes_of standalone)
"$@"
