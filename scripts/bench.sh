#!/usr/bin/env bash
# Benchmarks (not tests): figures and ratios against baselines measured in the same run.
#   bash scripts/bench.sh              core: routed GET/SET vs the redis crate on one node,
#                                      with the scheduler's CPU placement, then all on CPU 0
#   bash scripts/bench.sh --cluster    MGET of 100 / pipeline of 100 over a 3-primary cluster
#   bash scripts/bench.sh --isolation  read latency per phase (kill -9, DEBUG SLEEP, CLIENT PAUSE)
#                                      on a 3+3 cluster: the shards hit vs the others
#   bash scripts/bench.sh --python     Python: shardis vs redis-py, RedisCluster, GLIDE, Envoy, twemproxy
#   bash scripts/bench.sh --php        PHP-FPM: shardis vs predis, phpredis RedisCluster (plain and
#                                      persistent + cache_slots) and phpredis through Envoy
#   bash scripts/bench.sh --php-tls    the same PHP-FPM page over TLS (3+3 TLS cluster): shardis vs
#                                      predis, phpredis RedisCluster (plain, persistent + cache_slots)
#                                      and phpredis Redis pconnect to one TLS node; handshakes, p50/p99
#   bash scripts/bench.sh --python-tls Python over TLS: GET/SET, shardis vs redis-py + hiredis direct
#   bash scripts/bench.sh --routes     route lookup with 50 prefix routes; GET/SET through routes,
#                                      a remove_prefix route and a mirror vs one backend
# Extra arguments go to the benchmark program (e.g. --rounds 9).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
which="core"
case "${1:-}" in
--cluster | --isolation | --python | --php | --python-tls | --php-tls | --routes) which="${1#--}"; shift ;;
esac
cargo build --release --locked -p shardis-bench -p shardis-tests
case "$which" in
core)
    target/release/bench-core "$@"
    echo
    target/release/bench-core --same-cpu "$@"
    ;;
cluster) target/release/bench-cluster "$@" ;;
routes) target/release/bench-routes "$@" ;;
isolation) target/release/bench-isolation "$@" ;;
python | python-tls)
    wheel=$(bash scripts/build-wheel.sh)
    .venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
    program=bench_clients.py
    [ "$which" = python-tls ] && program=bench_tls.py
    SHARDIS_FIXTURE="$PWD/target/release/shardis-fixture" .venv/bin/python "bench/python/$program" "$@"
    ;;
php | php-tls)
    cargo build --release --locked -p shardis-php
    tls=()
    [ "$which" = php-tls ] && tls=(--tls)
    SHARDIS_FIXTURE="$PWD/target/release/shardis-fixture" SHARDIS_ENVOY="$PWD/.venv/bin/envoy" \
        .venv/bin/python bench/php/bench_fpm.py "${tls[@]}" "$@"
    ;;
esac
