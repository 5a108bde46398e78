"""Scenario S1 in Python: a location worker. For a fresh uuid it sends ``HSET <uuid> lon
<float> lat <float>`` and ``EXPIRE <uuid> 60`` together in a non-transactional pipeline,
batching several players per round trip; then it prints how the keys spread over the nodes.

    python examples/python/location_worker.py --config maglev.toml --seconds 3
"""

from __future__ import annotations

import argparse
import collections
import random
import time
import uuid

import shardis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="shardis config file (.toml / .json)")
    parser.add_argument("--url", help="shardis URL")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--batch", type=int, default=20, help="players per pipeline")
    args = parser.parse_args()
    client = shardis.Client(config_file=args.config) if args.config else shardis.Client.from_url(args.url)

    placed: collections.Counter = collections.Counter()
    updates = 0
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        pipe = client.pipeline(transaction=False)
        players = [str(uuid.uuid4()) for _ in range(args.batch)]
        for player in players:
            pipe.hset(player, mapping={"lon": random.uniform(-180, 180), "lat": random.uniform(-90, 90)})
            pipe.expire(player, 60)
        results = pipe.execute()
        assert results == [2, True] * args.batch, results
        updates += len(players)
        for player in players:
            placed[client.node_for(player)] += 1
    print(f"{updates} position updates in {args.seconds:.1f}s ({updates / args.seconds:.0f}/s), each HSET+EXPIRE pipelined")
    for node, n in sorted(placed.items()):
        print(f"  {node:<24}{n:>8}  {n * 100 / updates:5.1f}%")
    sample = next(iter(placed))
    print(f"  TTLs are set: ttl of a fresh key = {client.ttl(client.randomkey())}s (node {sample} among others)")


if __name__ == "__main__":
    main()
