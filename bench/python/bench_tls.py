"""Python over TLS (benchmark, not a test): single-key calls through shardis against redis-py
(+hiredis) talking TLS directly to one node, one run, one client thread, loopback.

The fixture serves one standalone node and a 3+3 Redis Cluster, TLS only (client ports, and
for the cluster the bus and replication), from one test CA; every client verifies the
servers' certificates against it:

  redis-py direct    redis.Redis(host, port, ssl=True, ssl_ca_certs=ca) (+hiredis) to the
                     standalone node — the baseline
  shardis            shardis.Client(mode="ring_hash", nodes=[that node], tls={"ca_file": ca})
  shardis cluster    shardis.Client(mode="cluster", nodes=[seed], tls={"ca_file": ca}) on the
                     3+3 cluster (SET also replicates, on the same CPUs)

Workloads: GET and SET of 100-byte values over 1000 keys. Rounds alternate between clients;
calls/s is the median over rounds, the ratio is against redis-py direct, p50/p99 are of
every timed call of every round. "new TLS connections" is the servers' INFO
total_connections_received delta over the timed rounds (read through one connection kept
open, so reading it opens none): each one would be a TLS handshake. shardis' own stats
(`tls.handshakes`, `tls.resumed`) are printed after the run.

    bash scripts/bench.sh --python-tls    # builds and installs the wheel first
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List, Tuple

import redis
import redis.utils

import shardis

from peers import start_fixture, stop_fixture

VALUE = b"v" * 100
KEYS = [f"bench:{i}" for i in range(1000)]
WORKLOADS = ["GET", "SET"]


def fns(client: Any) -> Dict[str, Callable[[], Any]]:
    counter = [0]

    def key() -> str:
        counter[0] = (counter[0] + 1) % len(KEYS)
        return KEYS[counter[0]]

    return {"GET": lambda: client.get(key()), "SET": lambda: client.set(key(), VALUE)}


def measure(fn: Callable[[], Any], calls: int, lat: List[int]) -> float:
    """Calls/s over `calls` calls; appends each call's time (ns) to `lat`."""
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(calls):
        t = clock()
        fn()
        lat.append(clock() - t)
    return calls * 1e9 / (clock() - start)


def percentile(sorted_ns: List[int], q: float) -> float:
    """The q-quantile (nearest rank) in µs."""
    i = min(max(int(len(sorted_ns) * q + 0.999999), 1), len(sorted_ns)) - 1
    return sorted_ns[i] / 1000.0


class Conns:
    """total_connections_received summed over nodes, read through connections kept open."""

    def __init__(self, nodes: List[str], tls: Dict[str, Any]) -> None:
        self.clients = [redis.Redis(host=h, port=int(p), **tls) for h, p in (n.rsplit(":", 1) for n in nodes)]
        self.read()  # open them now

    def read(self) -> int:
        return sum(int(c.info("stats")["total_connections_received"]) for c in self.clients)

    def close(self) -> None:
        for c in self.clients:
            c.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5000, help="calls per client per round")
    args = parser.parse_args()

    started: List[Any] = []
    try:
        single_proc, single = start_fixture("standalone", "--count", "1", "--tls")
        started.append(single_proc)
        cluster_proc, cluster = start_fixture(
            "cluster", "--primaries", "3", "--replicas", "1", "--tls", "--tls-dir", single["tls_dir"]
        )
        started.append(cluster_proc)
        ca = single["ca_file"]
        tls = {"ssl": True, "ssl_ca_certs": ca}
        node = single["nodes"][0]
        host, port = node.rsplit(":", 1)

        direct = redis.Redis(host=host, port=int(port), **tls)
        ours = shardis.Client(mode="ring_hash", nodes=[node], tls={"ca_file": ca})
        ours_cluster = shardis.Client(mode="cluster", nodes=[cluster["nodes"][0]], tls={"ca_file": ca})
        clients: Dict[str, Tuple[Any, List[str]]] = {
            "redis-py direct": (direct, [node]),
            "shardis": (ours, [node]),
            "shardis cluster": (ours_cluster, cluster["nodes"]),
        }
        for c, _ in clients.values():
            for k in KEYS:
                c.set(k, VALUE)
        conns = {name: Conns(nodes, tls) for name, (_, nodes) in clients.items()}

        print("Python over TLS, one thread, loopback; calls/s median of alternating rounds, ratio vs redis-py direct")
        print(
            f"python {sys.version.split()[0]}, redis-py {redis.__version__} "
            f"(hiredis parser: {'yes' if redis.utils.HIREDIS_AVAILABLE else 'NO'}), "
            f"shardis {shardis.__version__}, {os.cpu_count()} CPUs, rounds {args.rounds}, calls {args.calls}; "
            "certificates verified against the test CA"
        )
        print()

        rows = []
        for workload in WORKLOADS:
            f = {name: fns(c)[workload] for name, (c, _) in clients.items()}
            for name in clients:  # warm-up (connections, TLS sessions)
                measure(f[name], max(args.calls // 10, 50), [])
            rates: Dict[str, List[float]] = {n: [] for n in clients}
            lats: Dict[str, List[int]] = {n: [] for n in clients}
            new_conns: Dict[str, int] = {n: 0 for n in clients}
            for _ in range(args.rounds):
                for name in clients:
                    before = conns[name].read()
                    rates[name].append(measure(f[name], args.calls, lats[name]))
                    new_conns[name] += conns[name].read() - before
            base = statistics.median(rates["redis-py direct"])
            for name in clients:
                lat = sorted(lats[name])
                v = statistics.median(rates[name])
                rows.append((workload, name, v, v / base, percentile(lat, 0.5), percentile(lat, 0.99), new_conns[name]))

        print("| workload | client | calls/s | ratio vs redis-py direct | p50 µs | p99 µs | new TLS connections during the timed rounds |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for w, name, v, ratio, p50, p99, nc in rows:
            print(f"| {w} | {name} | {v:,.0f} | {ratio:.2f}× | {p50:.1f} | {p99:.1f} | {nc} |")
        print()
        for name in ("shardis", "shardis cluster"):
            st = clients[name][0].stats().get("tls")
            print(f"{name} stats tls: {st}")
        get = {name: ratio for w, name, _, ratio, *_ in rows if w == "GET"}
        ok = get["shardis"] >= 1.5
        print(f"goal: shardis GET over TLS ≥ 1.5× redis-py + hiredis direct: {get['shardis']:.2f}× ({'met' if ok else 'NOT met'})")
        for c in conns.values():
            c.close()
    finally:
        for proc in reversed(started):
            stop_fixture(proc)


if __name__ == "__main__":
    main()
