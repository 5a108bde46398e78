"""Pipelines: ``transaction=False`` across nodes in submission order, errors in place;
``transaction=True`` on one slot, WATCH, WatchError, cross-slot refusal."""

import pytest
import redis

import shardis
from conftest import keys_on_two_nodes


def test_pipeline_across_nodes_keeps_order_and_isolates_errors(client):
    pipe = client.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"p:{i}", i).get(f"p:{i}")
    pipe.lpush("p:1", "x")  # WRONGTYPE
    pipe.mget([f"p:{i}" for i in range(10)])
    pipe.dbsize()
    assert len(pipe) == 203
    out = pipe.execute(raise_on_error=False)
    for i in range(100):
        assert out[2 * i] is True
        assert out[2 * i + 1] == str(i).encode()
    assert isinstance(out[200], redis.exceptions.ResponseError)
    assert out[201] == [str(i).encode() for i in range(10)]
    assert out[202] == 100
    with pytest.raises(shardis.ResponseError):
        client.pipeline().set("a", 1).lpush("p:2", "x").execute()
    assert client.pipeline().execute() == []


def test_location_worker_hset_expire_pipeline(client):
    # Scenario S1: HSET + EXPIRE sent together in a non-transactional pipeline.
    pipe = client.pipeline(transaction=False)
    for i in range(50):
        pipe.hset(f"player:{i}", mapping={"lon": 13.4 + i, "lat": 52.5})
        pipe.expire(f"player:{i}", 60)
    assert pipe.execute() == [2, True] * 50
    assert 0 < client.ttl("player:7") <= 60


def test_transaction_on_one_slot(client):
    with client.pipeline(transaction=True) as pipe:
        pipe.set("{acct}:a", 10).incrby("{acct}:a", 5).get("{acct}:a")
        assert pipe.execute() == [True, 15, b"15"]
    a, b = keys_on_two_nodes(client)
    with pytest.raises(shardis.CrossShardError):
        client.pipeline(transaction=True).set(a, 1).set(b, 2).execute()


def test_watch_multi_exec_and_watch_error(client):
    client.set("{w}:k", 1)

    def incr(pipe):  # type: ignore[no-untyped-def]
        value = int(pipe.get("{w}:k"))
        pipe.multi()
        pipe.set("{w}:k", value + 1)

    assert client.transaction(incr, "{w}:k") == [True]
    assert client.get("{w}:k") == b"2"
    pipe = client.pipeline(transaction=True)
    pipe.watch("{w}:k")
    assert pipe.get("{w}:k") == b"2"
    client.set("{w}:k", 100)  # changed between WATCH and EXEC
    pipe.multi()
    pipe.set("{w}:k", 3)
    with pytest.raises(redis.exceptions.WatchError):
        pipe.execute()
    assert client.get("{w}:k") == b"100"


def test_scripts_in_pipelines(client):
    script = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    client.script_flush()
    pipe = client.pipeline()
    script(keys=["sc"], args=[5], client=pipe)
    script(keys=["sc"], args=[5], client=pipe)
    assert pipe.execute() == [5, 10]
    assert script(keys=["sc"], args=[1]) == 11
