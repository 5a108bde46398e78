"""Scenario S2 in Python: write N hashes ``emp:0000000001`` … through shardis in pipelines of
100, then the same with a hash tag (``emp:{avgo}:…``), and print how many keys each node
holds — as routed by shardis and as each server reports (``INFO keyspace``).

    python examples/python/data_generator.py --config ring.toml --keys 60000
    python examples/python/data_generator.py --url "redis+cluster://127.0.0.1:7000"
"""

from __future__ import annotations

import argparse
import collections
import time
from typing import Dict, Optional

import shardis


def key_name(i: int, tag: Optional[str]) -> str:
    return f"emp:{{{tag}}}:{i:010d}" if tag else f"emp:{i:010d}"


def server_counts(client: shardis.Client) -> Dict[str, int]:
    info = client.info("keyspace")
    replies = info if isinstance(info, shardis.NodeReplies) else {client.nodes()[0]: info}
    return {node: (section.get("db0") or {}).get("keys", 0) for node, section in replies.items()}


def generate(client: shardis.Client, n: int, tag: Optional[str], batch: int = 100) -> None:
    client.flushdb()
    routed: collections.Counter = collections.Counter()
    start = time.monotonic()
    for first in range(1, n + 1, batch):
        pipe = client.pipeline(transaction=False)
        names = [key_name(i, tag) for i in range(first, min(first + batch, n + 1))]
        for i, name in zip(range(first, first + batch), names):
            pipe.hset(name, mapping={"name": f"Employee {i}", "salary": 30000 + (i * 7919) % 90000, "dept": "eng"})
        pipe.execute()
        for name in names:
            routed[client.node_for(name)] += 1
    took = time.monotonic() - start
    on_server = server_counts(client)
    label = f"with hash tag {{{tag}}}" if tag else "without a hash tag"
    print(f"{n} hashes {label}: {n / took:.0f} hashes/s")
    print(f"  {'node':<24}{'routed':>10}{'on server':>12}")
    for node in sorted(on_server):
        print(f"  {node:<24}{routed.get(node, 0):>10}{on_server[node]:>12}")
    counts = [routed.get(node, 0) for node in on_server]
    mean = n / len(counts)
    if not tag:
        print(f"  largest deviation from the mean: {max(abs(c - mean) / mean for c in counts) * 100:.1f}%")
    else:
        print(f"  nodes holding the tagged keys: {sum(1 for c in counts if c)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="shardis config file (.toml / .json)")
    parser.add_argument("--url", help="shardis URL (redis://…, redis+cluster://…)")
    parser.add_argument("--keys", type=int, default=60000)
    parser.add_argument("--tag", default="avgo")
    args = parser.parse_args()
    client = shardis.Client(config_file=args.config) if args.config else shardis.Client.from_url(args.url)
    generate(client, args.keys, None)
    generate(client, args.keys // 6, args.tag)


if __name__ == "__main__":
    main()
