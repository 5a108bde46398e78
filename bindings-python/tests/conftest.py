"""Shared servers for the Python suite: the Rust fixture program starts real redis-servers
(a 3-node standalone set and a 3+3 cluster, and over TLS a 3-node standalone set, a 2-node
mutual-TLS set and a 3+3 cluster, all trusting one test PKI and with the ACL user
``limited``) on free loopback ports and stops them when its stdin closes — the same harness
the Rust integration tests use. A fixture that cannot start fails its tests (never skips)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List

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
        self.info: Dict[str, Any] = info
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


# The ACL user every TLS fixture has: keys lim:* only (scripts/with-fixtures.sh uses the same).
LIMITED_USER = "limited"
LIMITED_PASSWORD = "limited-secret-9f3"
LIMITED_RULES = (
    "~lim:* &* +@read +@write +@connection +cluster|slots +cluster|shards +cluster|nodes "
    "+cluster|myid +info +readonly +ping"
)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The test PKI (``shardis-fixture pki DIR``): ca.pem, server.pem/.key, client.pem/.key,
    other-ca.pem, other-server.pem/.key, client-other.pem/.key, expired.pem/.key,
    wrong-name.pem/.key, mismatched.key."""
    d = tmp_path_factory.mktemp("pki")
    out = subprocess.run([_fixture_binary(), "pki", str(d)], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"shardis-fixture pki failed ({out.returncode}): {out.stderr}")
    info = json.loads(out.stdout)
    path = Path(info["tls_dir"])
    for name in ("ca.pem", "client.pem", "client.key", "other-ca.pem", "expired.pem", "wrong-name.pem"):
        if not (path / name).is_file():
            raise RuntimeError(f"shardis-fixture pki: {name} missing in {path}")
    return path


def _tls_args(pki: Path) -> List[str]:
    return [
        "--tls-dir",
        str(pki),
        "--limited-user",
        LIMITED_USER,
        "--limited-password",
        LIMITED_PASSWORD,
        "--limited-rules",
        LIMITED_RULES,
    ]


def _tls_servers(*args: str) -> Servers:
    s = Servers(*args)
    if not s.info.get("tls"):
        s.stop()
        raise RuntimeError(f"shardis-fixture {' '.join(args)}: its JSON does not say tls: {s.info}")
    return s


@pytest.fixture(scope="session")
def tls_standalone(pki) -> Iterator[Servers]:  # type: ignore[no-untyped-def]
    s = _tls_servers("standalone", "--count", "3", "--tls", *_tls_args(pki))
    yield s
    s.stop()


@pytest.fixture(scope="session")
def mtls_standalone(pki) -> Iterator[Servers]:  # type: ignore[no-untyped-def]
    s = _tls_servers("standalone", "--count", "2", "--mtls", *_tls_args(pki))
    assert s.info.get("mtls") is True, s.info
    yield s
    s.stop()


@pytest.fixture(scope="session")
def tls_cluster(pki) -> Iterator[Servers]:  # type: ignore[no-untyped-def]
    s = _tls_servers("cluster", "--primaries", "3", "--replicas", "1", "--tls", *_tls_args(pki))
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
