"""Scenario S4 in Python: moving from one Redis Cluster to another without downtime.

Phase 1 (warm-up): reads go to the old cluster's replicas (``read_from = "prefer_replica"``),
writes to its primaries, and every write is also mirrored, fire-and-forget, to the new
cluster (``exclude_read_commands``: reads are not). Phase 2 (cut-over of reads): the same
route gets ``read_backend = "new"``; writes still go to the old cluster and are still
mirrored. The new cluster must hold every key written, and reads must come from it.

    python examples/python/s4_migration.py --old 127.0.0.1:7000 --new 127.0.0.1:7100 --keys 5000
"""

from __future__ import annotations

import argparse
import sys
import time

import shardis


def config(old: str, new: str, read_from_new: bool) -> dict:
    route = {"backend": "old", "mirror": [{"backend": "new", "exclude_read_commands": True}]}
    if read_from_new:
        route["read_backend"] = "new"
    return {
        "backends": {
            "old": {"mode": "cluster", "nodes": [old], "read_from": "prefer_replica"},
            "new": {"mode": "cluster", "nodes": [new]},
        },
        "catch_all": route,
    }


def drained(client: shardis.Client) -> dict:
    """Wait (at most 10 s) until every mirror copy was sent; return the mirror's figures."""
    figures = {}
    for _ in range(400):
        figures = client.stats()["routing"]["mirrors"]["new"]
        if figures["sent"] + figures["failed"] + figures["dropped"] >= figures["queued"]:
            break
        time.sleep(0.025)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old", required=True, help="a seed node of the old cluster")
    parser.add_argument("--new", required=True, help="a seed node of the new cluster")
    parser.add_argument("--keys", type=int, default=5000)
    args = parser.parse_args()
    new_only = shardis.Client(mode="cluster", nodes=[args.new])

    warm = shardis.Client(**config(args.old, args.new, read_from_new=False))
    start = time.monotonic()
    pipe = warm.pipeline(transaction=False)
    for i in range(args.keys):
        pipe.hset(f"user:{{{i % 500}}}:{i}", mapping={"name": f"user {i}", "visits": i})
        if i % 500 == 499:
            pipe.execute()
            pipe = warm.pipeline(transaction=False)
    pipe.execute()
    for i in range(0, args.keys, 7):
        # Reads come from replicas: give replication a moment (bounded) before a mismatch.
        for _ in range(50):
            if warm.hget(f"user:{{{i % 500}}}:{i}", "visits") == str(i).encode():
                break
            time.sleep(0.01)
        else:
            raise SystemExit(f"user:{{{i % 500}}}:{i} not readable from the old cluster")
    elapsed = time.monotonic() - start
    figures = drained(warm)
    copies = new_only.dbsize()
    print(f"phase 1: {args.keys} HSETs and {len(range(0, args.keys, 7))} HGETs in {elapsed:.2f}s through the old cluster")
    print(f"  mirror copies {figures} (the HSETs only: reads are not mirrored)")
    print(f"  new cluster holds {copies} of {args.keys} keys")

    cut = shardis.Client(**config(args.old, args.new, read_from_new=True))
    new_only.hset("user:{0}:0", "visits", "from-new")  # a marker only the new cluster has
    print(f"phase 2: reads from the new cluster: HGET user:{{0}}:0 visits -> {cut.hget('user:{0}:0', 'visits')!r}")
    cut.hset("user:{1}:late", mapping={"name": "written after the cut-over"})
    drained(cut)
    late = new_only.hget("user:{1}:late", "name")
    print(f"  a write after the cut-over reached both: old via the route, new via the mirror ({late!r})")
    ok = copies == args.keys and figures["queued"] == args.keys and cut.hget("user:{0}:0", "visits") == b"from-new" and late is not None
    print("S4 migration:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
