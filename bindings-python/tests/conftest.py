"""Shared servers for the Python suite: the Rust fixture program starts real redis-servers
(a 3-node standalone set and a 3+3 cluster) on free loopback ports and stops them when its
stdin closes — the same harness the Rust integration tests use."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fixture_binary() -> str:
    path = os.environ.get("SHARDIS_FIXTURE") or str(ROOT / "target" / "debug" / "shardis-fixture")
    if not Path(path).exists():
        raise RuntimeError(f"{path} missing: cargo build -p shardis-tests --bin shardis-fixture")
    return path


class Servers:
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [_fixture_binary(), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"shardis-fixture {' '.join(args)} failed to start servers")
        info = json.loads(line)
        self.nodes: List[str] = info["nodes"]
        self.pids: List[int] = info["pids"]

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def standalone() -> Iterator[Servers]:
    s = Servers("standalone", "--count", "3")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Servers]:
    s = Servers("cluster", "--primaries", "3", "--replicas", "1")
    yield s
    s.stop()


@pytest.fixture(params=["ring_hash", "cluster"])
def client(request, standalone, cluster):  # type: ignore[no-untyped-def]
    """A fresh client over both kinds of backend, with an empty keyspace."""
    import shardis

    if request.param == "cluster":
        c = shardis.Client(mode="cluster", nodes=[cluster.nodes[0]], timeout="2s")
    else:
        c = shardis.Client(mode="ring_hash", nodes=standalone.nodes, hash_tags=True, timeout="2s")
    c.flushall()
    return c


def keys_on_two_nodes(client, prefix="x"):  # type: ignore[no-untyped-def]
    """Two keys that ``client`` places on different nodes (slots differ too in a cluster)."""
    first = f"{prefix}0"
    node = client.node_for(first)
    for i in range(1, 10000):
        other = f"{prefix}{i}"
        if client.node_for(other) != node:
            return first, other
    raise AssertionError("every key on one node")
