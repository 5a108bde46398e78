"""Python client benchmark (issue #4): shardis against the clients users pick today, one
run, same machine, one client thread, all servers on loopback.

Table 1, Redis Cluster (3 primaries + BENCH_REPLICAS replicas each, default 1):
  redis-py direct   redis.Redis (+hiredis) to ONE standalone node — the baseline
  shardis           shardis.Client(mode="cluster")
  RedisCluster      redis.cluster.RedisCluster
  GLIDE             valkey-glide-sync GlideClusterClient
  via Envoy         redis.Redis through an Envoy redis_proxy (cluster provider)

Table 2, three standalone shards with consistent hashing (what twemproxy/Envoy users run):
  redis-py direct   the same baseline
  shardis           shardis.Client(mode="ring_hash")
  via Envoy         redis.Redis through Envoy redis_proxy, RING_HASH
  via twemproxy     redis.Redis through nutcracker, ketama

Workloads: GET and SET of 100-byte values; MGET of 100 keys spread over the 3 shards
(baseline: a single-node MGET of 100); a pipeline of 100 SETs over the 3 shards (baseline:
a single-node pipeline of 100). Rounds alternate between clients; a figure is the median
calls/s over the rounds and the ratio is against redis-py direct in the same table.

In a Redis Cluster the 100 keys of the MGET sit in 100 slots and a multi-key command must
stay in one slot, so every cluster client sends 100 one-key commands; the servers' work
for that, not the client, bounds the cluster MGET row (`bench-cluster` measures it).

    bash scripts/bench.sh --python        # builds and installs the wheel first
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

import redis
from redis.cluster import RedisCluster

import shardis

from peers import proxy_client, start_envoy_cluster, start_envoy_ring, start_fixture, start_nutcracker, stop_fixture

VALUE = b"v" * 100
KEYS = [f"bench:{i}" for i in range(1000)]
BATCH = KEYS[:100]
WORKLOADS = ["GET", "SET", "MGET of 100 over 3 shards", "pipeline of 100 SETs over 3 shards"]
Fns = Dict[str, Callable[[], None]]


def measure(fn: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return calls / (time.perf_counter() - start)


def redis_py_fns(client: Any) -> Fns:
    """The four workloads through a redis-py-shaped client (redis-py, RedisCluster, shardis)."""
    counter = [0]

    def key() -> str:
        counter[0] = (counter[0] + 1) % len(KEYS)
        return KEYS[counter[0]]

    def pipeline() -> None:
        p = client.pipeline(transaction=False)
        for k in BATCH:
            p.set(k, VALUE)
        p.execute()

    mget = client.mget_nonatomic if isinstance(client, RedisCluster) else client.mget
    return {
        WORKLOADS[0]: lambda: client.get(key()),
        WORKLOADS[1]: lambda: client.set(key(), VALUE),
        WORKLOADS[2]: lambda: mget(BATCH),
        WORKLOADS[3]: pipeline,
    }


def glide_fns(glide: Any) -> Fns:
    from glide_sync import ClusterBatch

    counter = [0]

    def key() -> str:
        counter[0] = (counter[0] + 1) % len(KEYS)
        return KEYS[counter[0]]

    def pipeline() -> None:
        b = ClusterBatch(is_atomic=False)
        for k in BATCH:
            b.set(k, VALUE)
        glide.exec(b, raise_on_error=True)

    return {
        WORKLOADS[0]: lambda: glide.get(key()),
        WORKLOADS[1]: lambda: glide.set(key(), VALUE),
        WORKLOADS[2]: lambda: glide.mget(BATCH),
        WORKLOADS[3]: pipeline,
    }


def fill(client: Any) -> None:
    for k in KEYS:
        client.set(k, VALUE)


def table(title: str, clients: Dict[str, Fns], workloads: List[str], rounds: int, calls: int) -> None:
    names = list(clients)
    results: Dict[str, Dict[str, List[float]]] = {w: {c: [] for c in names} for w in workloads}
    for workload in workloads:
        n = calls if workload in WORKLOADS[:2] else max(calls // 5, 50)
        for c in names:  # warm-up
            measure(clients[c][workload], max(n // 10, 5))
        for _ in range(rounds):
            for c in names:
                results[workload][c].append(measure(clients[c][workload], n))
    print(f"### {title}")
    print()
    print("| workload | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for workload in workloads:
        base = statistics.median(results[workload][names[0]])
        cells = []
        for c in names:
            v = statistics.median(results[workload][c])
            cells.append(f"{v:,.0f} ({v / base:.2f}×)")
        print(f"| {workload} | " + " | ".join(cells) + " |")
    print()
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=3000, help="single-key calls per round (MGET/pipeline: /5)")
    args = parser.parse_args()

    replicas = os.environ.get("BENCH_REPLICAS", "1")
    started: List[Any] = []
    try:
        cluster_proc, cluster = start_fixture("cluster", "--primaries", "3", "--replicas", replicas)
        started.append(("fixture", cluster_proc))
        single_proc, single = start_fixture("standalone", "--count", "4")
        started.append(("fixture", single_proc))
        envoy_c, envoy_c_port = start_envoy_cluster(cluster["nodes"][0])
        started.append(("proc", envoy_c))
        shards = single["nodes"][1:]
        envoy_r, envoy_r_port = start_envoy_ring(shards)
        started.append(("proc", envoy_r))
        twem, twem_port = start_nutcracker(shards)
        started.append(("proc", twem))

        print("Python clients, one thread, loopback; medians of alternating rounds (calls/s, ratio vs redis-py direct)")
        print(
            f"python {sys.version.split()[0]}, redis-py {redis.__version__}, shardis {shardis.__version__}, "
            f"{os.cpu_count()} CPUs, rounds {args.rounds}, calls {args.calls}, cluster replicas {replicas}"
        )
        print()
        host, port = single["nodes"][0].rsplit(":", 1)
        direct = redis.Redis(host=host, port=int(port))
        fill(direct)
        run_cluster(args, cluster["nodes"][0], direct, envoy_c_port)
        run_ring(args, shards, direct, envoy_r_port, twem_port)
        print("goals: GET, SET ≥ 1.5×; MGET of 100 over 3 shards ≥ 0.8×; pipeline of 100 over 3 shards ≥ 1.0×; ahead of every peer")
    finally:
        for kind, proc in reversed(started):
            if kind == "fixture":
                stop_fixture(proc)
            else:
                proc.terminate()
                proc.wait(timeout=30)


def run_cluster(args: argparse.Namespace, seed: str, direct: redis.Redis, envoy_port: int) -> None:
    from glide_sync import GlideClusterClient, GlideClusterClientConfiguration, NodeAddress

    host, port = seed.rsplit(":", 1)
    ours = shardis.Client(mode="cluster", nodes=[seed])
    fill(ours)
    assert len({ours.node_for(k) for k in BATCH}) == 3
    glide = GlideClusterClient.create(GlideClusterClientConfiguration([NodeAddress(host, int(port))]))
    try:
        clients = {
            "redis-py direct": redis_py_fns(direct),
            "shardis": redis_py_fns(ours),
            "RedisCluster": redis_py_fns(RedisCluster(host=host, port=int(port))),
            "GLIDE": glide_fns(glide),
            "via Envoy": redis_py_fns(proxy_client(envoy_port)),
        }
        table("Redis Cluster, 3 primaries", clients, WORKLOADS, args.rounds, args.calls)
    finally:
        glide.close()


def run_ring(args: argparse.Namespace, shards: List[str], direct: redis.Redis, envoy_port: int, twem_port: int) -> None:
    ours = shardis.Client(mode="ring_hash", nodes=shards)
    via_envoy = proxy_client(envoy_port)
    via_twem = proxy_client(twem_port)
    for c in (ours, via_envoy, via_twem):
        fill(c)
    assert len({ours.node_for(k) for k in BATCH}) == 3
    clients = {
        "redis-py direct": redis_py_fns(direct),
        "shardis": redis_py_fns(ours),
        "via Envoy": redis_py_fns(via_envoy),
        "via twemproxy": redis_py_fns(via_twem),
    }
    table("3 standalone shards, consistent hashing (shardis and Envoy ring_hash, twemproxy ketama)", clients, WORKLOADS, args.rounds, args.calls)


if __name__ == "__main__":
    main()
