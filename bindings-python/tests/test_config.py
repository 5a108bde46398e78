"""Building clients: the config schema's keys, a URL, a file, redis-py style arguments, the
process-shared core, and configuration errors that name the key."""

import pytest
import redis

import shardis


def test_keyword_config_url_and_file(standalone, tmp_path):
    nodes = standalone.nodes
    a = shardis.Client(mode="maglev", nodes=nodes, hash_tags=True, timeout=1.5, maglev={"table_size": 251})
    b = shardis.Client.from_url(f"redis://{','.join(nodes)}?mode=maglev&hash_tags=true&maglev.table_size=251")
    path = tmp_path / "shardis.toml"
    path.write_text(
        'mode = "maglev"\nnodes = [%s]\nhash_tags = true\n[maglev]\ntable_size = 251\n'
        % ", ".join(f'"{n}"' for n in nodes)
    )
    c = shardis.Client(config_file=str(path))
    json_path = tmp_path / "shardis.json"
    json_path.write_text('{"mode": "maglev", "nodes": %s, "hash_tags": true, "maglev": {"table_size": 251}}' % str(nodes).replace("'", '"'))
    d = shardis.Client(config_file=str(json_path))
    for key in ["user:1", "user:2", "{t}x", "emp:0000000001"]:
        assert a.node_for(key) == b.node_for(key) == c.node_for(key) == d.node_for(key)
    a.set("via-a", "1")
    assert c.get("via-a") == b"1"


def test_redis_py_style_arguments(standalone, cluster):
    host, port = standalone.nodes[0].split(":")
    single = shardis.Client(host=host, port=int(port))
    single.set("hp", "1")
    assert redis.Redis(host=host, port=int(port)).get("hp") == b"1"
    from redis.cluster import ClusterNode

    chost, cport = cluster.nodes[0].split(":")
    rc = shardis.Client(startup_nodes=[ClusterNode(chost, int(cport))])
    rc.set("sn", "1")
    assert rc.get("sn") == b"1"


def test_shared_returns_the_same_core(standalone):
    a = shardis.Client.shared(mode="ring_hash", nodes=standalone.nodes, persistent_id="py-shared")
    b = shardis.Client.shared(mode="ring_hash", nodes=standalone.nodes, persistent_id="py-shared")
    c = shardis.Client(mode="ring_hash", nodes=standalone.nodes, persistent_id="py-shared")
    assert a.same_core(b)
    assert not a.same_core(c)
    d = shardis.Client.shared(mode="ring_hash", nodes=standalone.nodes)
    e = shardis.Client.shared(mode="ring_hash", nodes=list(standalone.nodes))
    assert d.same_core(e)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"nodes": ["127.0.0.1:1"]}, "mode"),
        ({"mode": "ring_hash", "nodes": []}, "nodes"),
        ({"mode": "ring_hash", "nodes": ["nohost"]}, "nodes[0].addr"),
        ({"mode": "ring_hash", "nodes": ["h:1"], "timeout": "soon"}, "timeout"),
        ({"mode": "ring_hash", "nodes": ["h:1"], "tmeout": 1}, "tmeout"),
        ({"mode": "maglev", "nodes": ["h:1"], "maglev": {"table_size": 100}}, "maglev.table_size"),
    ],
)
def test_bad_config_raises_config_error_naming_the_key(kwargs, key):
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**kwargs)
    assert key in str(info.value)
    assert isinstance(info.value, ValueError)
    assert info.value.kind == "config"


def test_passwords_do_not_show_in_errors():
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(mode="ring_hash", nodes=["h:1"], auth={"password": 42})
    assert "42" not in str(info.value)
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client.from_url("redis://u:MARKER-PW@h:1?timeout=x")
    assert "MARKER-PW" not in str(info.value)
