"""Start the servers and proxies the Python benchmark compares against (all on 127.0.0.1):
redis-servers through the shared fixture, Envoy's redis_proxy (cluster or ring_hash) and
twemproxy (nutcracker, ketama). Each returns a process handle the caller stops."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import List, Tuple

import redis

ROOT = Path(__file__).resolve().parents[2]


def start_fixture(*args: str) -> Tuple[subprocess.Popen, dict]:
    """Start redis-servers via `shardis-fixture`; closing its stdin stops them."""
    binary = os.environ.get("SHARDIS_FIXTURE", str(ROOT / "target" / "debug" / "shardis-fixture"))
    proc = subprocess.Popen([binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def stop_fixture(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proxy_client(port: int, **kwargs: object) -> redis.Redis:
    """redis-py to a proxy on 127.0.0.1: RESP2 and no CLIENT SETINFO (proxies reject both)."""
    try:
        return redis.Redis(port=port, protocol=2, driver_info=None, **kwargs)  # redis-py ≥ 7.1
    except TypeError:
        return redis.Redis(port=port, protocol=2, lib_name=None, lib_version=None, **kwargs)


def _wait_until_serving(port: int, deadline: float, what: str) -> None:
    """A proxy may accept connections before it can route: wait until a SET goes through."""
    probe = proxy_client(port, socket_timeout=1)
    while time.monotonic() < deadline:
        try:
            probe.set("proxy-probe", 1)
            return
        except redis.RedisError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not start serving")


def _envoy(listener_settings: str, cluster: str, listen: int, admin: int) -> subprocess.Popen:
    config = f"""
admin:
  address: {{ socket_address: {{ address: 127.0.0.1, port_value: {admin} }} }}
static_resources:
  listeners:
  - name: redis_listener
    address: {{ socket_address: {{ address: 127.0.0.1, port_value: {listen} }} }}
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: rp
          settings: {{ op_timeout: 5s{listener_settings} }}
          prefix_routes: {{ catch_all_route: {{ cluster: backend }} }}
  clusters:
{cluster}"""
    path = Path(tempfile.mkdtemp(prefix="shardis-bench-envoy-")) / "envoy.yaml"
    path.write_text(config)
    envoy = os.environ.get("SHARDIS_ENVOY", str(ROOT / ".venv" / "bin" / "envoy"))
    proc = subprocess.Popen(
        [envoy, "-c", str(path), "--disable-hot-restart", "--concurrency", "2", "-l", "error"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if b"LIVE" in urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1).read():
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.terminate()
        raise RuntimeError("Envoy did not become ready")
    try:
        _wait_until_serving(listen, deadline, "Envoy")
    except RuntimeError:
        proc.terminate()
        raise
    return proc


def start_envoy_cluster(seed: str) -> Tuple[subprocess.Popen, int]:
    """Envoy redis_proxy in front of a Redis Cluster (topology learnt from `seed`)."""
    host, port = seed.rsplit(":", 1)
    listen, admin = free_port(), free_port()
    cluster = f"""  - name: backend
    connect_timeout: 1s
    cluster_type:
      name: envoy.clusters.redis
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig
        cluster_refresh_rate: 5s
        cluster_refresh_timeout: 3s
    lb_policy: CLUSTER_PROVIDED
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: {{ address: {{ socket_address: {{ address: {host}, port_value: {port} }} }} }}
"""
    return _envoy(", enable_redirection: true", cluster, listen, admin), listen


def start_envoy_ring(nodes: List[str]) -> Tuple[subprocess.Popen, int]:
    """Envoy redis_proxy with RING_HASH (its defaults) over standalone nodes."""
    listen, admin = free_port(), free_port()
    endpoints = "".join(
        f"        - endpoint: {{ address: {{ socket_address: {{ address: {h}, port_value: {p} }} }} }}\n"
        for h, p in (n.rsplit(":", 1) for n in nodes)
    )
    cluster = f"""  - name: backend
    type: STATIC
    connect_timeout: 1s
    lb_policy: RING_HASH
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
{endpoints}"""
    return _envoy("", cluster, listen, admin), listen


def start_nutcracker(nodes: List[str]) -> Tuple[subprocess.Popen, int]:
    """twemproxy (nutcracker) with ketama over standalone nodes."""
    listen = free_port()
    servers = "".join(f"   - {n}:1\n" for n in nodes)
    conf = (
        f"pool:\n  listen: 127.0.0.1:{listen}\n  hash: fnv1a_64\n  distribution: ketama\n"
        f"  redis: true\n  auto_eject_hosts: false\n  timeout: 5000\n  servers:\n{servers}"
    )
    path = Path(tempfile.mkdtemp(prefix="shardis-bench-twem-")) / "nutcracker.yml"
    path.write_text(conf)
    proc = subprocess.Popen(
        ["nutcracker", "-c", str(path), "-s", str(free_port()), "-a", "127.0.0.1", "-o", str(path.with_suffix(".log"))],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_serving(listen, time.monotonic() + 15, "nutcracker")
    except RuntimeError:
        proc.terminate()
        raise
    return proc, listen
