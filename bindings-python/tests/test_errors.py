"""The exception tree: shardis' classes, also caught as redis-py's."""

import pytest
import redis

import shardis


def test_tree_mirrors_redis_py():
    pairs = [
        (shardis.ConnectionError, redis.exceptions.ConnectionError),
        (shardis.TimeoutError, redis.exceptions.TimeoutError),
        (shardis.ResponseError, redis.exceptions.ResponseError),
        (shardis.DataError, redis.exceptions.DataError),
        (shardis.WatchError, redis.exceptions.WatchError),
        (shardis.NoScriptError, redis.exceptions.NoScriptError),
        (shardis.AuthenticationError, redis.exceptions.AuthenticationError),
        (shardis.CrossShardError, redis.exceptions.ResponseError),
        (shardis.IndeterminateTimeoutError, redis.exceptions.TimeoutError),
        (shardis.IndeterminateConnectionError, redis.exceptions.ConnectionError),
    ]
    for ours, theirs in pairs:
        assert issubclass(ours, theirs), ours
        assert issubclass(ours, shardis.RedisError)
    assert issubclass(shardis.IndeterminateTimeoutError, shardis.IndeterminateError)


def test_server_errors_by_code(client):
    client.set("s", 1)
    with pytest.raises(redis.exceptions.ResponseError) as info:
        client.lpush("s", 1)
    assert info.value.kind == "server" and str(info.value).startswith("WRONGTYPE")
    with pytest.raises(redis.exceptions.NoScriptError):
        client.evalsha("0" * 40, 0)


def test_bad_arguments_are_data_errors(client):
    for bad in (None, True, object(), [1]):
        with pytest.raises(redis.exceptions.DataError):
            client.set("k", bad)
    with pytest.raises(shardis.DataError):
        client.execute_command("EVAL", "return 1", "x")


def test_connection_errors(standalone):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = f"127.0.0.1:{s.getsockname()[1]}"
    s.close()
    c = shardis.Client(mode="ring_hash", nodes=[dead])
    with pytest.raises(redis.exceptions.ConnectionError) as info:
        c.get("k")
    assert info.value.kind == "connect" and info.value.node == dead


def test_huge_and_binary_values_round_trip(client):
    big = b"\x00\xff" * (2 * 1024 * 1024)
    assert client.set("big", big) is True
    assert client.get("big") == big


def test_undecodable_reply_with_decode_responses(standalone):
    node = standalone.nodes[0]
    raw = shardis.Client(mode="ring_hash", nodes=[node])
    text = shardis.Client(mode="ring_hash", nodes=[node], decode_responses=True)
    raw.set("latin1", b"caf\xe9")
    with pytest.raises(UnicodeDecodeError):
        text.get("latin1")
    assert raw.get("latin1") == b"caf\xe9"
