"""redis-py's command surface and return types: the same calls through ``redis.Redis`` and
through ``shardis.Client`` against the same server must return equal values of equal types;
then the multi-node behaviours (split/merge, whole keyspace) on ring_hash and cluster."""

import pytest
import redis

import shardis
from conftest import keys_on_two_nodes

# Each step: (name, callable taking a client). Run in order against a flushed server.
STEPS = [
    ("set", lambda r: r.set("s", "v")),
    ("set nx", lambda r: r.set("s", "w", nx=True)),
    ("set ex get", lambda r: r.set("s", "x", ex=100, get=True)),
    ("get", lambda r: r.get("s")),
    ("get missing", lambda r: r.get("nope")),
    ("incr", lambda r: r.incr("n")),
    ("incrbyfloat", lambda r: r.incrbyfloat("f", 1.5)),
    ("append", lambda r: r.append("s", "yz")),
    ("strlen", lambda r: r.strlen("s")),
    ("getrange", lambda r: r.getrange("s", 0, 1)),
    ("setnx", lambda r: r.setnx("s", "q")),
    ("ttl", lambda r: r.ttl("s") > 0),
    ("expire", lambda r: r.expire("n", 100)),
    ("persist", lambda r: r.persist("n")),
    ("type", lambda r: r.type("s")),
    ("exists", lambda r: r.exists("s", "n", "nope")),
    ("hset mapping", lambda r: r.hset("h", mapping={"a": 1, "b": "two", "c": 3.5})),
    ("hget", lambda r: r.hget("h", "b")),
    ("hgetall", lambda r: r.hgetall("h")),
    ("hmget", lambda r: r.hmget("h", ["a", "zz"])),
    ("hincrby", lambda r: r.hincrby("h", "a", 5)),
    ("hkeys", lambda r: sorted(r.hkeys("h"))),
    ("hexists", lambda r: r.hexists("h", "a")),
    ("hdel", lambda r: r.hdel("h", "c")),
    ("hlen", lambda r: r.hlen("h")),
    ("rpush", lambda r: r.rpush("l", 1, 2, 3)),
    ("lpush", lambda r: r.lpush("l", 0)),
    ("lrange", lambda r: r.lrange("l", 0, -1)),
    ("lpop", lambda r: r.lpop("l")),
    ("rpop count", lambda r: r.rpop("l", 2)),
    ("llen", lambda r: r.llen("l")),
    ("lindex", lambda r: r.lindex("l", 0)),
    ("sadd", lambda r: r.sadd("st", "a", "b", "c")),
    ("smembers", lambda r: r.smembers("st")),
    ("sismember", lambda r: r.sismember("st", "a")),
    ("srem", lambda r: r.srem("st", "c")),
    ("scard", lambda r: r.scard("st")),
    ("zadd mapping", lambda r: r.zadd("z", {"a": 1, "b": 2.5, "c": 3})),
    ("zrange", lambda r: r.zrange("z", 0, -1)),
    ("zrange withscores", lambda r: r.zrange("z", 0, -1, withscores=True)),
    ("zrevrange withscores", lambda r: r.zrevrange("z", 0, 1, withscores=True)),
    ("zscore", lambda r: r.zscore("z", "b")),
    ("zincrby", lambda r: r.zincrby("z", 1, "a")),
    ("zrank", lambda r: r.zrank("z", "c")),
    ("zrangebyscore", lambda r: r.zrangebyscore("z", 1, 3, withscores=True)),
    ("zcard", lambda r: r.zcard("z")),
    ("zrem", lambda r: r.zrem("z", "a")),
    ("eval", lambda r: r.eval("return {KEYS[1], ARGV[1], 7}", 1, "k", "arg")),
    ("evalsha", lambda r: r.evalsha(r.script_load("return 'x'"), 0)),
    ("execute_command", lambda r: r.execute_command("GET", "s")),
    ("delete", lambda r: r.delete("s", "n", "nope")),
    ("binary", lambda r: (r.set(b"bin\x00\xff", b"\x00\x01"), r.get(b"bin\x00\xff"))),
    ("int and float args", lambda r: (r.set("num", 12), r.get("num"), r.set("flt", 0.1), r.get("flt"))),
]


@pytest.mark.parametrize("decode", [False, True])
def test_same_results_and_types_as_redis_py(standalone, decode):
    node = standalone.nodes[1]
    host, port = node.split(":")
    direct = redis.Redis(host=host, port=int(port), decode_responses=decode)
    ours = shardis.Client(mode="ring_hash", nodes=[node], decode_responses=decode)
    results = []
    for client in (direct, ours):
        client.flushall()
        out = []
        for name, step in STEPS:
            out.append((name, step(client)))
        results.append(out)
    for (name, expected), (_, got) in zip(*results):
        assert got == expected, f"{name}: redis-py {expected!r}, shardis {got!r}"
        assert type(got) is type(expected), f"{name}: {type(expected)} vs {type(got)}"
        if isinstance(expected, (list, tuple)):
            assert [type(x) for x in got] == [type(x) for x in expected], name


def test_split_merge_and_whole_keyspace(client):
    keys = [f"k:{i}" for i in range(200)]
    assert client.mset({k: i for i, k in enumerate(keys)}) is True
    got = client.mget(keys + ["absent"])
    assert got[:3] == [b"0", b"1", b"2"] and got[-1] is None and len(got) == 201
    assert client.exists(*keys) == 200
    assert client.dbsize() == 200
    assert sorted(client.keys("k:1*")) == sorted(k.encode() for k in keys if k.startswith("k:1"))
    assert sorted(client.scan_iter(match="k:*", count=20)) == sorted(k.encode() for k in keys)
    assert client.delete(*keys[:50]) == 50
    assert client.unlink(*keys) == 150
    assert client.ping() is True
    assert client.randomkey() is None
    client.set("only", 1)
    assert client.randomkey() == b"only"
    info = client.info("server")
    assert isinstance(info, shardis.NodeReplies) and len(info) == 3
    assert all(v["redis_version"] for v in info.values())


def test_cross_shard_and_unsupported(client):
    a, b = keys_on_two_nodes(client)
    with pytest.raises(shardis.CrossShardError) as info:
        client.rename(a, b)
    assert "nothing was sent" in str(info.value)
    client.set("{t}a", 1)
    assert client.rename("{t}a", "{t}b") is True
    with pytest.raises(shardis.UnsupportedCommandError):
        client.execute_command("SELECT", 1)
    with pytest.raises(redis.exceptions.ResponseError):
        client.execute_command("NOSUCHCOMMAND")


def test_node_for_and_stats(client):
    client.set("x", 1)
    node = client.node_for("x")
    assert node in client.nodes()
    stats = client.stats()
    assert stats["commands"]["set"]["calls"] >= 1
    assert node in stats["nodes"]
