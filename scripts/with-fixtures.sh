#!/usr/bin/env bash
# Runs a command with Redis fixtures started by shardis-fixture, for the PHP and C suites:
# a 3+3 Redis Cluster and 3 standalone nodes in plaintext, and over TLS a 3+3 cluster, 3
# standalone nodes and 2 mutual-TLS standalone nodes (tls-auth-clients yes):
#   SHARDIS_CLUSTER, SHARDIS_STANDALONE          the fixtures' JSON ({"nodes": [...], ...})
#   SHARDIS_CLUSTER_NODES, SHARDIS_STANDALONE_NODES   the same nodes as "host:port,host:port"
#   SHARDIS_TLS_CLUSTER, SHARDIS_TLS_CLUSTER_NODES         the TLS cluster
#   SHARDIS_TLS_STANDALONE, SHARDIS_TLS_STANDALONE_NODES   the TLS standalone nodes
#   SHARDIS_MTLS_STANDALONE, SHARDIS_MTLS_STANDALONE_NODES the mutual-TLS standalone nodes
#     (their JSON adds "tls_dir", "ca_file", "cert_file", "key_file", "mtls")
#   SHARDIS_TLS_DIR   the test PKI: ca.pem/.key, server.pem/.key, client.pem/.key,
#     other-ca.pem/.key, other-server.pem/.key, client-other.pem/.key, expired.pem/.key,
#     wrong-name.pem/.key, mismatched.key (see tests/src/tls.rs)
# Every TLS node has the ACL user "limited" (password "limited-secret-9f3") with the rules
# in $limited_rules below: keys lim:* only, so other keys and commands get NOPERM.
# The fixtures stop their servers when this script exits (their stdin closes), even on
# failure; they are waited for by PID, then the PKI is removed.
#   usage: with-fixtures.sh <path of shardis-fixture> <command> [args...]
set -euo pipefail
fixture=$(realpath "$1")
shift
work=$(mktemp -d)
fixture_pids=""
fifo_fds=""
cleanup() {
  for fd in $fifo_fds; do eval "exec $fd>&-" 2>/dev/null || true; done
  for pid in $fixture_pids; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# start <name> <fixture args...>: runs the fixture with its JSON in $work/<name>.json; it
# stops when this script closes the write end of $work/<name>.in.
start() {
  local name=$1 fd
  shift
  mkfifo "$work/$name.in"
  "$fixture" "$@" <"$work/$name.in" >"$work/$name.json" &
  fixture_pids="$fixture_pids $!"
  eval "pid_$(tr - _ <<<"$name")=$!"
  exec {fd}>"$work/$name.in"
  fifo_fds="$fifo_fds $fd"
}
limited_rules='~lim:* &* +@read +@write +@connection +cluster|slots +cluster|shards +cluster|nodes +cluster|myid +info +readonly +ping'
start cluster cluster --primaries 3 --replicas 1
start standalone standalone --count 3
# The PKI takes about 0.1 s; the plaintext fixtures start meanwhile.
"$fixture" pki "$work/tls" >/dev/null
export SHARDIS_TLS_DIR="$work/tls"
tls=(--tls-dir "$SHARDIS_TLS_DIR" --limited-user limited --limited-password limited-secret-9f3
  --limited-rules "$limited_rules")
start tls-cluster cluster --primaries 3 --replicas 1 --tls "${tls[@]}"
start tls-standalone standalone --count 3 --tls "${tls[@]}"
start mtls-standalone standalone --count 2 --mtls "${tls[@]}"
fixtures="cluster standalone tls-cluster tls-standalone mtls-standalone"
for f in $fixtures; do
  pid_var="pid_$(tr - _ <<<"$f")"
  for _ in $(seq 1 600); do
    [ -s "$work/$f.json" ] && break
    kill -0 "${!pid_var}" 2>/dev/null || break
    sleep 0.05
  done
  [ -s "$work/$f.json" ] || { echo "with-fixtures.sh: the $f fixture did not start" >&2; exit 1; }
done
nodes_of() { sed -E 's/.*"nodes":\[([^]]*)\].*/\1/; s/"//g' "$work/$1.json"; }
export SHARDIS_CLUSTER=$(cat "$work/cluster.json")
export SHARDIS_STANDALONE=$(cat "$work/standalone.json")
export SHARDIS_CLUSTER_NODES=$(nodes_of cluster)
export SHARDIS_STANDALONE_NODES=$(nodes_of standalone)
export SHARDIS_TLS_CLUSTER=$(cat "$work/tls-cluster.json")
export SHARDIS_TLS_CLUSTER_NODES=$(nodes_of tls-cluster)
export SHARDIS_TLS_STANDALONE=$(cat "$work/tls-standalone.json")
export SHARDIS_TLS_STANDALONE_NODES=$(nodes_of tls-standalone)
export SHARDIS_MTLS_STANDALONE=$(cat "$work/mtls-standalone.json")
export SHARDIS_MTLS_STANDALONE_NODES=$(nodes_of mtls-standalone)
"$@"
