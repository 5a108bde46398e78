"""Scenario S5 in Python: several backends behind one client, configured from the Envoy
``redis_proxy`` YAML the team used before (``shardis.Client.from_envoy``). Keys starting
with ``sess:`` live on one backend, ``cache:`` on another with the prefix removed, the rest
on the catch-all; multi-key commands across routes are split and merged; a transaction
across routes is refused before anything is sent.

    python examples/python/s5_prefix_routes.py --envoy envoy.yaml
"""

from __future__ import annotations

import argparse
import sys

import shardis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envoy", required=True, help="Envoy bootstrap YAML with a redis_proxy listener")
    args = parser.parse_args()
    client = shardis.Client.from_envoy(args.envoy)

    client.set("sess:42", "alice")
    client.set("cache:home", "<html>")
    client.set("counter", 1)
    print("MGET sess:42 cache:home counter ->", client.mget("sess:42", "cache:home", "counter"))
    for key in ("sess:42", "cache:home", "counter"):
        node = client.node_for(key)
        print(f"  {key:<12} on {node}")
    backends = client.stats()["routing"]["backends"]
    for name, figures in sorted(backends.items()):
        print(f"  backend {name:<10} calls: {sum(c['calls'] for c in figures['commands'].values())}")
    try:
        with client.pipeline(transaction=True) as tx:
            tx.set("sess:1", "x")
            tx.set("cache:1", "y")
            tx.execute()
        print("cross-route transaction: NOT refused")
        return 1
    except shardis.CrossShardError as e:
        print(f"cross-route transaction refused, nothing sent: {e}")
    ok = client.get("cache:home") == b"<html>" and client.dbsize() == 3
    print("S5 prefix routes:", "ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
