"""The GIL is released during I/O (threads run their calls in parallel), one client works
from 8 threads, and fork safety (RELIABILITY K1, K3): children from os.fork() and
multiprocessing use a client created in the parent; 20 cycles, unique tokens, 0 crossed
replies; the parent keeps working; nothing is created at import."""

import multiprocessing
import os
import subprocess
import sys
import threading
import time

import shardis


def test_eight_threads_one_client(client):
    errors = []

    def work(t):  # type: ignore[no-untyped-def]
        try:
            for i in range(300):
                token = f"{t}-{i}"
                client.set(f"thr:{t}:{i % 10}", token)
                got = client.get(f"thr:{t}:{i % 10}")
                if got != token.encode():
                    errors.append((token, got))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


def test_gil_is_released_during_io(standalone):
    c = shardis.Client(mode="ring_hash", nodes=[standalone.nodes[0]], timeout="5s")
    # 8 BLPOPs that each block 0.4 s server-side: in parallel ≈ 0.4 s, serialised ≈ 3.2 s.
    start = time.monotonic()
    threads = [threading.Thread(target=c.blpop, args=([f"empty:{t}"], 0.4)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - start
    assert elapsed < 2.0, f"calls did not overlap: {elapsed:.2f}s"


def _child(client, cycle, conn):  # type: ignore[no-untyped-def]
    crossed = 0
    for i in range(50):
        token = f"child-{os.getpid()}-{cycle}-{i}"
        client.set(f"fork:{cycle}:{i % 7}", token)
        if client.get(f"fork:{cycle}:{i % 7}") != token.encode():
            crossed += 1
    conn.send(crossed)
    conn.close()


def test_fork_children_and_parent_keep_working(client):
    for i in range(20):
        client.set(f"warm:{i}", i)
    crossed = 0
    for cycle in range(20):
        read, write = multiprocessing.Pipe(duplex=False)
        pid = os.fork()
        if pid == 0:  # child
            try:
                _child(client, cycle, write)
            finally:
                os._exit(0)
        write.close()
        for i in range(20):
            assert client.get(f"warm:{i}") == str(i).encode(), "parent got a crossed reply"
        crossed += read.recv()
        os.waitpid(pid, 0)
    assert crossed == 0
    assert client.exists(*[f"fork:{c}:0" for c in range(20)]) == 20


def test_multiprocessing_fork_start_method(client):
    client.set("mp", "parent")
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=_mp_worker, args=(client, n, results)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    got = sorted(results.get(timeout=5) for _ in procs)
    assert got == [(n, 0) for n in range(4)]
    assert client.get("mp") == b"parent"


def _mp_worker(client, n, results):  # type: ignore[no-untyped-def]
    crossed = 0
    for i in range(100):
        token = f"mp-{n}-{i}"
        client.set(f"mp:{n}", token)
        if client.get(f"mp:{n}") != token.encode():
            crossed += 1
    results.put((n, crossed))


def test_import_creates_no_threads_or_sockets():
    code = (
        "import os, threading\n"
        "before = len(os.listdir('/proc/self/fd')), threading.active_count()\n"
        "import shardis\n"
        "c = shardis.Client(mode='ring_hash', nodes=['127.0.0.1:1'])\n"
        "after = len(os.listdir('/proc/self/fd')), threading.active_count()\n"
        "print(before == after)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True", out.stdout + out.stderr
