"""Several backends from Python: the config schema's backends/routes as a dict, and an Envoy
``redis_proxy`` YAML through ``Client.from_envoy``. Placement is checked on the servers
themselves with redis-py."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import List

import pytest
import redis

import shardis


def _direct(addr: str) -> redis.Redis:
    host, port = addr.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), protocol=2)


@pytest.fixture()
def nodes(standalone) -> List[str]:
    for addr in standalone.nodes:
        _direct(addr).flushall()
    return standalone.nodes


def test_dict_routes_place_keys_and_split_multi_key_commands(nodes: List[str]) -> None:
    client = shardis.Client(
        backends={
            "sessions": {"mode": "jump", "nodes": [nodes[0]]},
            "cache": {"mode": "jump", "nodes": [nodes[1]]},
            "main": {"mode": "jump", "nodes": [nodes[2]]},
        },
        routes=[
            {"prefix": "sess:", "backend": "sessions"},
            {"prefix": "cache:", "backend": "cache", "remove_prefix": True, "key_formatter": "{%KEY%}"},
        ],
        catch_all={"backend": "main"},
    )
    assert client.mset({"sess:1": "a", "cache:x": "b", "plain": "c"}) is True
    assert _direct(nodes[0]).keys() == [b"sess:1"]
    assert _direct(nodes[1]).keys() == [b"{x}"]
    assert _direct(nodes[2]).keys() == [b"plain"]
    assert client.mget("plain", "cache:x", "nope", "sess:1") == [b"c", b"b", None, b"a"]
    assert client.delete("sess:1", "cache:x") == 2
    assert client.node_for("cache:x") == nodes[1]
    stats = client.stats()
    assert set(stats["routing"]["backends"]) == {"sessions", "cache", "main"}
    with pytest.raises(shardis.CrossShardError, match="different routes"):
        client.eval("return 1", 2, "sess:1", "cache:1")


def test_bad_routes_raise_config_error_naming_the_key(nodes: List[str]) -> None:
    with pytest.raises(shardis.ConfigError, match=r"routes\[0\]\.backend: no backend named \"nope\""):
        shardis.Client(
            backends={"a": {"mode": "jump", "nodes": [nodes[0]]}},
            routes=[{"prefix": "x", "backend": "nope"}],
            catch_all={"backend": "a"},
        )


def _envoy_yaml(nodes: List[str], extra_route: str = "") -> str:
    def cluster(name: str, addr: str) -> str:
        host, port = addr.rsplit(":", 1)
        return textwrap.dedent(
            f"""\
              - name: {name}
                connect_timeout: 1s
                type: STATIC
                lb_policy: MAGLEV
                load_assignment:
                  cluster_name: {name}
                  endpoints:
                  - lb_endpoints:
                    - endpoint:
                        address:
                          socket_address: {{ address: {host}, port_value: {port} }}
            """
        )

    clusters = "".join(cluster(n, a) for n, a in (("sessions", nodes[0]), ("cache", nodes[1]), ("main", nodes[2])))
    return (
        textwrap.dedent(
            f"""\
            static_resources:
              listeners:
              - name: redis_listener
                address:
                  socket_address: {{ address: 127.0.0.1, port_value: 16379 }}
                filter_chains:
                - filters:
                  - name: envoy.filters.network.redis_proxy
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
                      stat_prefix: redis
                      settings:
                        op_timeout: 1s
                        enable_hashtagging: true
                      prefix_routes:
                        routes:
                        - prefix: "sess:"
                          cluster: sessions
                        - prefix: "cache:"
                          remove_prefix: true
                          cluster: cache{extra_route}
                        catch_all_route:
                          cluster: main
              clusters:
            """
        )
        + textwrap.indent(clusters, "  ")
    )


def test_from_envoy_yaml_routes_like_the_sidecar_did(nodes: List[str], tmp_path: Path) -> None:
    path = tmp_path / "envoy.yaml"
    path.write_text(_envoy_yaml(nodes))
    client = shardis.Client.from_envoy(path)
    client.set("sess:9", "s")
    client.set("cache:9", "c")
    client.set("other", "o")
    assert _direct(nodes[0]).keys() == [b"sess:9"]
    assert _direct(nodes[1]).keys() == [b"9"]
    assert _direct(nodes[2]).keys() == [b"other"]
    assert client.get("cache:9") == b"c"
    named = shardis.Client.from_envoy(str(path), "redis_listener", decode_responses=True)
    assert named.get("sess:9") == "s"
    with pytest.raises(shardis.ConfigError, match="no listener named"):
        shardis.Client.from_envoy(path, "nope")


def test_from_envoy_refuses_what_it_cannot_do_naming_the_yaml_path(nodes: List[str], tmp_path: Path) -> None:
    path = tmp_path / "envoy.yaml"
    path.write_text(_envoy_yaml(nodes, extra_route="\n                          colour: blue"))
    with pytest.raises(shardis.ConfigError, match=r"prefix_routes\.routes\[1\]\.colour"):
        shardis.Client.from_envoy(path)
