"""TLS and ACL credentials: the config schema's ``tls`` / ``auth`` keys, ``rediss://`` URLs and
redis-py's own keywords (``ssl=True``, ``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile``,
``ssl_cert_reqs``, ``ssl_check_hostname``, ``username``, ``password``), against real TLS-only
redis-servers started by ``shardis-fixture`` (ring_hash over standalone nodes, a 3+3
cluster, mutual TLS), plus Python TLS servers presenting the PKI's expired and wrong-name
certificates. Every handshake failure is a ``ConnectionError`` saying which failure it was;
passwords never show."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time
import traceback
from pathlib import Path
from typing import Dict, Iterator, List
from urllib.parse import quote

import pytest
import redis

import shardis
from conftest import LIMITED_PASSWORD, LIMITED_USER, keys_on_two_nodes

MARKER = "MARKER-pw-7c1e"  # a password that must never show anywhere


# -- helpers ------------------------------------------------------------------------------


def keys_per_node(client, prefix: str, count: int) -> Dict[str, str]:  # type: ignore[no-untyped-def]
    """One key per node for ``count`` different nodes: node → key."""
    found: Dict[str, str] = {}
    for i in range(100000):
        key = f"{prefix}{i}"
        found.setdefault(client.node_for(key), key)
        if len(found) == count:
            return found
    raise AssertionError(f"keys reach only {sorted(found)}")


def direct(addr: str, ca: Path, **kwargs) -> redis.Redis:  # type: ignore[no-untyped-def]
    """redis-py itself over TLS to one node (the independent observer)."""
    host, port = addr.rsplit(":", 1)
    return redis.Redis(host=host, port=int(port), ssl=True, ssl_ca_certs=str(ca), socket_timeout=5, **kwargs)


def round_trip_on_every_node(client, nodes: List[str], ca: Path, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """SET one key per node, read them back with GET and one MGET across the nodes, and see
    each value on its node through redis-py."""
    per_node = keys_per_node(client, prefix, len(nodes))
    assert set(per_node) == set(nodes)
    for i, key in enumerate(per_node.values()):
        assert client.set(key, f"v{i}") is True
    for i, key in enumerate(per_node.values()):
        assert client.get(key) == f"v{i}".encode()
    keys = list(per_node.values())
    assert client.mget(keys + ["lim:absent"]) == [f"v{i}".encode() for i in range(len(keys))] + [None]
    for i, (node, key) in enumerate(per_node.items()):
        assert direct(node, ca).get(key) == f"v{i}".encode(), (node, key)


def assert_no_marker(*texts: str) -> None:
    for text in texts:
        assert MARKER not in text, text


def exception_texts(e: BaseException) -> List[str]:
    """Everything an exception shows: str, repr, args, the formatted exception and its
    chained causes."""
    texts = [str(e), repr(e), repr(e.args), "".join(traceback.format_exception_only(type(e), e))]
    for attr in ("kind", "node"):
        texts.append(repr(getattr(e, attr, None)))
    if e.__cause__ is not None:
        texts += exception_texts(e.__cause__)
    if e.__context__ is not None and e.__context__ is not e.__cause__:
        texts += exception_texts(e.__context__)
    return texts


def _resp_commands(buf: bytes) -> "tuple[List[List[bytes]], bytes]":
    """The complete RESP commands at the start of ``buf``, and the rest."""
    commands: List[List[bytes]] = []
    while buf.startswith(b"*") and b"\r\n" in buf:
        head, rest = buf.split(b"\r\n", 1)
        args: List[bytes] = []
        for _ in range(int(head[1:])):
            if b"\r\n" not in rest:
                return commands, buf
            size, rest = rest.split(b"\r\n", 1)
            n = int(size[1:])
            if len(rest) < n + 2:
                return commands, buf
            args.append(rest[:n])
            rest = rest[n + 2 :]
        commands.append(args)
        buf = rest
    return commands, buf


class PythonTlsServer:
    """A TLS server (Python's ssl, OpenSSL) on 127.0.0.1 presenting ``cert``: for the PKI's
    deliberately bad certificates, which the fixture's redis-servers do not present. After
    a handshake it answers PING with PONG and every other command with a nil."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(str(cert), str(key))
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.addr = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.handshakes = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes += 1
                buf = b""
                while True:
                    data = tls.recv(65536)
                    if not data:
                        return
                    commands, buf = _resp_commands(buf + data)
                    for args in commands:
                        tls.sendall(b"+PONG\r\n" if args[0].upper() == b"PING" else b"$-1\r\n")
        except (ssl.SSLError, OSError, ValueError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture
def expired_server(pki) -> Iterator[PythonTlsServer]:  # type: ignore[no-untyped-def]
    s = PythonTlsServer(pki / "expired.pem", pki / "expired.key")
    yield s
    s.close()


@pytest.fixture
def wrong_name_server(pki) -> Iterator[PythonTlsServer]:  # type: ignore[no-untyped-def]
    s = PythonTlsServer(pki / "wrong-name.pem", pki / "wrong-name.key")
    yield s
    s.close()


def handshake_error(**kwargs) -> shardis.ConnectionError:  # type: ignore[no-untyped-def]
    """The error of the first call of a client built with ``kwargs``."""
    client = shardis.Client(connect_timeout=0.5, timeout="2s", **kwargs)
    with pytest.raises(redis.exceptions.ConnectionError) as info:
        client.get("lim:k")
    assert isinstance(info.value, shardis.ConnectionError)
    assert not isinstance(info.value, shardis.IndeterminateError)
    return info.value


# -- round trips over TLS -------------------------------------------------------------------


def test_ring_hash_over_tls_with_redis_py_keywords(tls_standalone, pki):
    nodes = tls_standalone.nodes
    c = shardis.Client(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=str(pki / "ca.pem"))
    round_trip_on_every_node(c, nodes, pki / "ca.pem", "lim:rh:kw:")
    stats = c.stats()
    assert stats["tls"]["enabled"] is True
    assert stats["tls"]["insecure_skip_verify"] is False
    assert stats["tls"]["handshakes"] >= len(nodes)
    for node in nodes:
        assert stats["nodes"][node]["tls_handshakes"] >= 1, stats["nodes"][node]
        assert stats["nodes"][node]["tls_handshakes"] == stats["nodes"][node]["connects"]


def test_ring_hash_over_tls_with_the_config_dict_and_a_url(tls_standalone, pki):
    nodes = tls_standalone.nodes
    ca = str(pki / "ca.pem")
    by_dict = shardis.Client(mode="ring_hash", nodes=nodes, tls={"ca_file": ca})
    round_trip_on_every_node(by_dict, nodes, pki / "ca.pem", "lim:rh:dict:")
    by_url = shardis.Client.from_url(f"rediss://{','.join(nodes)}?mode=ring_hash&tls.ca_file={quote(ca)}")
    round_trip_on_every_node(by_url, nodes, pki / "ca.pem", "lim:rh:url:")
    # A URL and redis-py keywords together; valkeys:// is the same scheme.
    mixed = shardis.Client.from_url(f"valkeys://{','.join(nodes)}?mode=ring_hash", ssl_ca_certs=ca, ssl_cert_reqs="required")
    for key in ["lim:a", "lim:b", "lim:{t}c", "lim:emp:1"]:
        assert by_dict.node_for(key) == by_url.node_for(key) == mixed.node_for(key)
    assert mixed.get(next(iter(keys_per_node(by_url, "lim:rh:url:", 1).values()))) == b"v0"
    for client in (by_dict, by_url, mixed):
        assert client.stats()["tls"]["enabled"] is True


def test_redis_py_style_host_port_over_tls(tls_standalone, pki):
    host, port = tls_standalone.nodes[0].split(":")
    ca = str(pki / "ca.pem")
    # As redis.Redis(host=…, port=…, ssl=True, ssl_ca_certs=…) would be written.
    c = shardis.Client(host=host, port=int(port), ssl=True, ssl_ca_certs=ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
    assert c.set("lim:hp", "1") is True
    assert redis.Redis(host=host, port=int(port), ssl=True, ssl_ca_certs=ca).get("lim:hp") == b"1"
    # The server's certificate also names localhost: verified against that name.
    by_name = shardis.Client(host="localhost", port=int(port), ssl=True, ssl_ca_certs=Path(ca))
    assert by_name.get("lim:hp") == b"1"


def test_cluster_over_tls(tls_cluster, pki):
    ca = pki / "ca.pem"
    seed = tls_cluster.nodes[0]
    c = shardis.Client(mode="cluster", nodes=[seed], tls={"ca_file": str(ca)}, timeout="2s")
    primaries = sorted({c.node_for(f"lim:{i}") for i in range(200)})
    assert len(primaries) == 3, primaries
    assert set(primaries) <= set(tls_cluster.nodes)
    round_trip_on_every_node(c, primaries, ca, "lim:cl:")
    mapping = {f"lim:cl:m{i}": f"m{i}" for i in range(50)}
    assert c.mset(mapping) is True
    assert c.mget(list(mapping)) == [v.encode() for v in mapping.values()]
    # redis-py keywords, a rediss+cluster:// URL and redis-py's startup_nodes give the
    # same cluster.
    from redis.cluster import ClusterNode

    chost, cport = seed.split(":")
    by_kw = shardis.Client(mode="cluster", nodes=[seed], ssl=True, ssl_ca_certs=str(ca))
    by_url = shardis.Client.from_url(f"rediss+cluster://{seed}?tls.ca_file={quote(str(ca))}")
    by_startup = shardis.Client(startup_nodes=[ClusterNode(chost, int(cport))], ssl=True, ssl_ca_certs=str(ca))
    for other in (by_kw, by_url, by_startup):
        assert other.mget(list(mapping)[:10]) == [v.encode() for v in list(mapping.values())[:10]]
    stats = c.stats()
    assert stats["tls"]["enabled"] is True and stats["tls"]["handshakes"] >= 3
    for addr, node in stats["nodes"].items():
        assert node["tls_handshakes"] == node["connects"], (addr, node)


def test_cluster_replicas_are_read_over_tls(tls_cluster, pki):
    ca = str(pki / "ca.pem")
    writer = shardis.Client(mode="cluster", nodes=[tls_cluster.nodes[0]], ssl=True, ssl_ca_certs=ca)
    reader = shardis.Client(
        mode="cluster", nodes=[tls_cluster.nodes[0]], ssl=True, ssl_ca_certs=ca, read_from="replica", timeout="2s"
    )
    keys = [f"lim:rep:{i}" for i in range(30)]
    for k in keys:
        writer.set(k, k)
    deadline = time.monotonic() + 10
    while reader.mget(keys) != [k.encode() for k in keys]:
        assert time.monotonic() < deadline, "replicas never caught up"
        time.sleep(0.05)
    reached = [a for a, n in reader.stats()["nodes"].items() if n["requests"] > 0]
    assert len(reached) >= 3, reached
    for addr in reached:
        node = reader.stats()["nodes"][addr]
        assert node["tls_handshakes"] >= 1 and node["tls_handshakes"] == node["connects"], (addr, node)


def test_shared_core_same_for_every_spelling_of_one_tls_config(tls_standalone, pki):
    nodes = tls_standalone.nodes
    ca = str(pki / "ca.pem")
    a = shardis.Client.shared(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=ca)
    b = shardis.Client.shared(mode="ring_hash", nodes=nodes, tls={"ca_file": ca})
    c = shardis.Client.shared(url=f"rediss://{','.join(nodes)}?mode=ring_hash&tls.ca_file={quote(ca)}")
    assert a.same_core(b) and a.same_core(c)
    insecure = shardis.Client.shared(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=ca, ssl_cert_reqs="none")
    assert not a.same_core(insecure)


# -- mutual TLS -----------------------------------------------------------------------------


def test_mutual_tls(mtls_standalone, pki, tmp_path):
    nodes = mtls_standalone.nodes
    info = mtls_standalone.info
    ca = info["ca_file"]
    c = shardis.Client(
        mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=ca, ssl_certfile=info["cert_file"], ssl_keyfile=info["key_file"]
    )
    round_trip_on_every_node_mtls(c, nodes, pki)
    # The config dict's keys, and one PEM file holding certificate and key (redis-py's
    # ssl_certfile without ssl_keyfile, as ssl.load_cert_chain).
    by_dict = shardis.Client(
        mode="ring_hash", nodes=nodes, tls={"ca_file": ca, "cert_file": info["cert_file"], "key_file": info["key_file"]}
    )
    combined = tmp_path / "client-combined.pem"
    combined.write_text(Path(info["cert_file"]).read_text() + Path(info["key_file"]).read_text())
    one_file = shardis.Client(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=ca, ssl_certfile=str(combined))
    for client in (by_dict, one_file):
        assert client.get("lim:mtls:k") == b"v"


def round_trip_on_every_node_mtls(client, nodes: List[str], pki: Path) -> None:  # type: ignore[no-untyped-def]
    client.set("lim:mtls:k", "v")
    per_node = keys_per_node(client, "lim:mtls:", len(nodes))
    for node, key in per_node.items():
        assert client.set(key, node) is True
    assert client.mget(list(per_node.values())) == [n.encode() for n in per_node]
    for node, key in per_node.items():
        observer = direct(node, pki / "ca.pem", ssl_certfile=str(pki / "client.pem"), ssl_keyfile=str(pki / "client.key"))
        assert observer.get(key) == node.encode()


def test_mutual_tls_without_a_client_certificate_fails_naming_the_cause(mtls_standalone, pki):
    node = mtls_standalone.nodes[0]
    e = handshake_error(mode="ring_hash", nodes=[node], ssl=True, ssl_ca_certs=str(pki / "ca.pem"))
    assert "requires a client certificate" in str(e), e
    assert e.node == node and node in str(e)
    assert e.kind == "connect"


def test_mutual_tls_with_a_certificate_from_another_ca_is_refused(mtls_standalone, pki):
    node = mtls_standalone.nodes[0]
    e = handshake_error(
        mode="ring_hash",
        nodes=[node],
        ssl=True,
        ssl_ca_certs=str(pki / "ca.pem"),
        ssl_certfile=str(pki / "client-other.pem"),
        ssl_keyfile=str(pki / "client-other.key"),
    )
    assert "refused the client certificate" in str(e), e
    assert e.node == node


# -- handshake failures -------------------------------------------------------------------


def test_unknown_ca(tls_standalone, pki):
    node = tls_standalone.nodes[0]
    e = handshake_error(mode="ring_hash", nodes=[node], ssl=True, ssl_ca_certs=str(pki / "other-ca.pem"))
    assert "unknown CA" in str(e), e
    assert e.node == node and node in str(e) and e.kind == "connect"


def test_name_mismatch_by_server_name(tls_standalone, pki):
    node = tls_standalone.nodes[0]
    e = handshake_error(mode="ring_hash", nodes=[node], tls={"ca_file": str(pki / "ca.pem"), "server_name": "wrong.example"})
    assert "name mismatch" in str(e) and "wrong.example" in str(e), e
    assert e.node == node


def test_name_mismatch_by_address(wrong_name_server, pki):
    # The certificate names only wrong.example; the client connects to 127.0.0.1.
    node = wrong_name_server.addr
    e = handshake_error(mode="ring_hash", nodes=[node], ssl=True, ssl_ca_certs=str(pki / "ca.pem"))
    assert "name mismatch" in str(e) and "127.0.0.1" in str(e), e
    assert e.node == node
    assert wrong_name_server.handshakes == 0
    # The name it holds, as tls.server_name, passes verification.
    c = shardis.Client(mode="ring_hash", nodes=[node], tls={"ca_file": str(pki / "ca.pem"), "server_name": "wrong.example"})
    assert c.get("lim:k") is None
    assert c.stats()["tls"]["handshakes"] == 1 and wrong_name_server.handshakes == 1


def test_expired_certificate(expired_server, pki):
    node = expired_server.addr
    e = handshake_error(mode="ring_hash", nodes=[node], ssl=True, ssl_ca_certs=str(pki / "ca.pem"))
    assert "expired certificate" in str(e), e
    assert e.node == node


def test_plaintext_server_with_ssl_fails_within_the_connect_timeout(standalone, pki):
    node = standalone.nodes[0]
    client = shardis.Client(mode="ring_hash", nodes=[node], ssl=True, ssl_ca_certs=str(pki / "ca.pem"), connect_timeout=0.5, timeout="3s")
    started = time.monotonic()
    with pytest.raises(redis.exceptions.ConnectionError) as info:
        client.get("lim:k")
    elapsed = time.monotonic() - started
    e = info.value
    assert isinstance(e, shardis.ConnectionError) and e.kind == "connect" and e.node == node
    assert "plaintext" in str(e), e
    # Each attempt ends at the connect timeout (a failed connect is retried once), well
    # before the call's 3 s deadline.
    attempts = client.stats()["nodes"][node]["connect_errors"]
    assert 1 <= attempts <= 2, client.stats()["nodes"][node]
    assert elapsed < attempts * 0.5 + 0.3, (elapsed, attempts)


def test_tls_server_without_ssl_fails_without_hanging(tls_standalone):
    node = tls_standalone.nodes[0]
    started = time.monotonic()
    e = handshake_error(mode="ring_hash", nodes=[node])
    assert time.monotonic() - started < 2, "no hang"
    assert "rediss://" in str(e) and "expects TLS" in str(e), e
    assert e.kind == "connect", e
    assert e.node == node
    # A write was certainly not run by a TLS port: a connect error, never "indeterminate".
    writer = shardis.Client(mode="ring_hash", nodes=[node], connect_timeout=0.5, timeout="2s")
    with pytest.raises(shardis.ConnectionError) as info:
        writer.set("lim:w", "x")
    assert not isinstance(info.value, shardis.IndeterminateError), info.value
    assert info.value.kind == "connect", info.value


# -- verification off ---------------------------------------------------------------------


@pytest.mark.parametrize("reqs", ["none", ssl.CERT_NONE, None])
def test_insecure_skip_verify_works_and_shows_in_stats(tls_standalone, reqs):
    # No CA at all: nothing is verified.
    c = shardis.Client(mode="ring_hash", nodes=tls_standalone.nodes, ssl=True, ssl_cert_reqs=reqs)
    c.set("lim:insecure", "1")
    assert c.get("lim:insecure") == b"1"
    tls = c.stats()["tls"]
    assert tls["enabled"] is True and tls["insecure_skip_verify"] is True and tls["handshakes"] >= 1
    by_dict = shardis.Client(mode="ring_hash", nodes=tls_standalone.nodes, tls={"insecure_skip_verify": True})
    assert by_dict.get("lim:insecure") == b"1"
    assert by_dict.stats()["tls"]["insecure_skip_verify"] is True


# -- the limited ACL user ------------------------------------------------------------------


@pytest.mark.parametrize("topology", ["ring_hash", "cluster"])
def test_limited_acl_user(topology, tls_standalone, tls_cluster, pki):
    ca = str(pki / "ca.pem")
    if topology == "cluster":
        kwargs = dict(mode="cluster", nodes=[tls_cluster.nodes[0]])
    else:
        kwargs = dict(mode="ring_hash", nodes=tls_standalone.nodes)
    c = shardis.Client(ssl=True, ssl_ca_certs=ca, username=LIMITED_USER, password=LIMITED_PASSWORD, **kwargs)
    a, b = keys_on_two_nodes(c, "lim:acl:")
    assert c.set(a, "1") is True and c.set(b, "2") is True
    assert c.mget([a, b]) == [b"1", b"2"]
    assert c.set("lim:", "bare prefix") is True  # ~lim:* matches the prefix itself
    for denied in ("other:x", "lim", "LIM:x", "xlim:x"):
        with pytest.raises(redis.exceptions.ResponseError) as info:
            c.set(denied, "1")
        e = info.value
        assert isinstance(e, shardis.NoPermissionError) and isinstance(e, redis.exceptions.NoPermissionError)
        assert str(e).startswith("NOPERM"), e
        assert e.kind == "server"
    # The same user from the auth table and from the URL's user info.
    by_dict = shardis.Client(tls={"ca_file": ca}, auth={"username": LIMITED_USER, "password": LIMITED_PASSWORD}, **kwargs)
    assert by_dict.get(a) == b"1"
    scheme, mode = ("rediss+cluster", "") if topology == "cluster" else ("rediss", "mode=ring_hash&")
    hosts = ",".join(kwargs["nodes"])  # type: ignore[arg-type]
    by_url = shardis.Client.from_url(f"{scheme}://{LIMITED_USER}:{LIMITED_PASSWORD}@{hosts}?{mode}tls.ca_file={quote(ca)}")
    assert by_url.get(b) == b"2"
    with pytest.raises(shardis.NoPermissionError):
        by_url.get("other:x")


def test_password_file(tls_standalone, pki, tmp_path):
    secret = tmp_path / "redis-password"
    secret.write_text(LIMITED_PASSWORD + "\n")  # as Docker / Kubernetes secrets end
    c = shardis.Client(
        mode="ring_hash",
        nodes=tls_standalone.nodes,
        ssl=True,
        ssl_ca_certs=str(pki / "ca.pem"),
        username=LIMITED_USER,
        auth={"password_file": str(secret)},
    )
    assert c.set("lim:pwfile", "1") is True
    with pytest.raises(shardis.NoPermissionError):
        c.set("other:pwfile", "1")


# -- secrets ------------------------------------------------------------------------------


def test_wrong_passwords_never_show(tls_standalone, pki, tmp_path):
    ca = str(pki / "ca.pem")
    nodes = tls_standalone.nodes
    secret = tmp_path / "secret"
    secret.write_text(MARKER + "\n")
    clients = [
        shardis.Client(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=ca, username=LIMITED_USER, password=MARKER),
        shardis.Client(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=ca, password=MARKER),
        shardis.Client(
            mode="ring_hash", nodes=nodes, tls={"ca_file": ca}, auth={"username": LIMITED_USER, "password_file": str(secret)}
        ),
        shardis.Client.from_url(f"rediss://{LIMITED_USER}:{MARKER}@{','.join(nodes)}?mode=ring_hash", ssl_ca_certs=ca),
        shardis.Client.from_url(f"rediss://{','.join(nodes)}?mode=ring_hash", ssl_ca_certs=ca, username=LIMITED_USER, password=MARKER),
    ]
    for c in clients:
        assert_no_marker(repr(c), repr(c._native), str(c.nodes()))
        with pytest.raises(redis.exceptions.AuthenticationError) as info:
            c.get("lim:k")
        assert isinstance(info.value, shardis.AuthenticationError)
        assert info.value.kind == "auth"
        assert_no_marker(*exception_texts(info.value))
        with pytest.raises(shardis.AuthenticationError) as info:
            c.pipeline().set("lim:a", 1).get("lim:a").execute()
        assert_no_marker(*exception_texts(info.value))
        stats = c.stats()
        assert stats["errors"], stats
        assert_no_marker(json.dumps(stats), repr(stats))


def test_passwords_never_show_in_config_errors(pki, tmp_path):
    ca = str(pki / "ca.pem")
    base = dict(mode="ring_hash", nodes=["127.0.0.1:1"])
    attempts = [
        dict(password=MARKER, auth={"password": MARKER + "-other"}),
        dict(password=MARKER, auth={"password_file": str(tmp_path / "nope")}),
        dict(password=MARKER, ssl=True, ssl_ca_certs=str(tmp_path / "missing.pem")),
        dict(password=MARKER, ssl_password=MARKER),
        dict(username=MARKER, password=MARKER, tls={"ca_file": ca, "server_name": "not a name"}),
    ]
    for kwargs in attempts:
        with pytest.raises(shardis.ConfigError) as info:
            shardis.Client(**base, **kwargs)  # type: ignore[arg-type]
        assert_no_marker(*exception_texts(info.value))
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client.from_url(f"rediss://u:{MARKER}@127.0.0.1:1", password=MARKER + "x", ssl_ca_certs=ca)
    assert "auth.password" in str(info.value)
    assert_no_marker(*exception_texts(info.value))


# -- session resumption ---------------------------------------------------------------------


def test_reconnects_resume_the_tls_session(tls_standalone, pki):
    nodes = tls_standalone.nodes
    ca = pki / "ca.pem"
    c = shardis.Client(mode="ring_hash", nodes=nodes, ssl=True, ssl_ca_certs=str(ca), timeout="2s")
    per_node = keys_per_node(c, "lim:resume:", len(nodes))
    for key in per_node.values():
        c.set(key, key)
    first = c.stats()["tls"]
    assert first["handshakes"] >= len(nodes) and first["resumed"] == 0, first
    # The servers drop every plain client connection (the admin connection is redis-py's).
    for node in nodes:
        direct(node, ca).execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
    time.sleep(0.05)
    for key in per_node.values():
        assert c.get(key) == key.encode()
    after = c.stats()
    assert after["tls"]["handshakes"] > first["handshakes"], after["tls"]
    assert after["tls"]["resumed"] >= len(nodes), after["tls"]
    assert after["tls"]["resumed"] == sum(n["tls_resumed"] for n in after["nodes"].values())
    for node in nodes:
        assert after["nodes"][node]["tls_resumed"] >= 1, (node, after["nodes"][node])


# -- keyword translation (no server needed) ----------------------------------------------------

OFFLINE = dict(mode="ring_hash", nodes=["127.0.0.1:1"])


def tls_stats(**kwargs) -> Dict[str, object]:  # type: ignore[no-untyped-def]
    return shardis.Client(**OFFLINE, **kwargs).stats()["tls"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "reqs, insecure",
    [
        ("required", False),
        ("REQUIRED", False),
        (ssl.CERT_REQUIRED, False),
        ("optional", False),  # Python's ssl: OPTIONAL verifies like REQUIRED on a client
        (ssl.CERT_OPTIONAL, False),
        ("none", True),
        (ssl.CERT_NONE, True),
        (None, True),  # redis-py: None means CERT_NONE
    ],
)
def test_ssl_cert_reqs_mapping(pki, reqs, insecure):
    tls = tls_stats(ssl=True, ssl_ca_certs=str(pki / "ca.pem"), ssl_cert_reqs=reqs)
    assert tls["enabled"] is True and tls["insecure_skip_verify"] is insecure


def test_tls_off_unless_asked(pki):
    assert tls_stats()["enabled"] is False
    assert tls_stats(ssl=False)["enabled"] is False
    assert tls_stats(ssl=True, ssl_ca_certs=str(pki / "ca.pem"))["enabled"] is True
    assert tls_stats(tls={"ca_file": str(pki / "ca.pem")})["enabled"] is True
    assert tls_stats(tls={"enabled": False})["enabled"] is False
    assert tls_stats(ssl=True, tls={"ca_file": str(pki / "ca.pem")})["enabled"] is True
    # The same value from both sides is no conflict.
    ca = str(pki / "ca.pem")
    assert tls_stats(ssl=True, ssl_ca_certs=ca, tls={"ca_file": ca, "enabled": True})["enabled"] is True


@pytest.mark.parametrize(
    "name, value",
    [
        ("ssl_password", "pw"),
        ("ssl_ca_path", "/etc/ssl/certs"),
        ("ssl_ca_data", "-----BEGIN CERTIFICATE-----"),
        ("ssl_ciphers", "ECDHE+AESGCM"),
        ("ssl_min_version", ssl.TLSVersion.TLSv1_3),
        ("ssl_validate_ocsp", True),
        ("ssl_validate_ocsp_stapled", True),
        ("ssl_ocsp_context", object()),
        ("ssl_ocsp_expected_cert", "x"),
        ("ssl_include_verify_flags", [ssl.VERIFY_X509_STRICT]),
        ("ssl_exclude_verify_flags", [ssl.VERIFY_X509_STRICT]),
        ("ssl_ca_cert", "/typo.pem"),  # not a redis-py keyword at all
    ],
)
def test_unsupported_ssl_keywords_are_refused(pki, name, value):
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, ssl=True, ssl_ca_certs=str(pki / "ca.pem"), **{name: value})  # type: ignore[arg-type]
    assert name in str(info.value)
    assert info.value.kind == "config" and isinstance(info.value, ValueError)


def test_unsupported_ssl_keywords_at_redis_py_defaults_ask_nothing(pki):
    defaults = dict(
        ssl_password=None,
        ssl_ca_path=None,
        ssl_ca_data=None,
        ssl_ciphers=None,
        ssl_min_version=None,
        ssl_validate_ocsp=False,
        ssl_validate_ocsp_stapled=False,
        ssl_ocsp_context=None,
        ssl_ocsp_expected_cert=None,
        ssl_include_verify_flags=None,
        ssl_exclude_verify_flags=None,
    )
    assert tls_stats(ssl=True, ssl_ca_certs=str(pki / "ca.pem"), **defaults)["enabled"] is True


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(ssl_ca_certs="CA"), "ssl_ca_certs"),
        (dict(ssl=False, ssl_ca_certs="CA"), "ssl_ca_certs"),
        (dict(ssl_certfile="CERT", ssl_keyfile="KEY"), "ssl_certfile"),
        (dict(ssl_cert_reqs="none"), "ssl_cert_reqs"),
        (dict(ssl_check_hostname=False), "ssl_check_hostname"),
        (dict(tls={"enabled": False}, ssl_ca_certs="CA"), "ssl_ca_certs"),
    ],
)
def test_tls_keywords_while_tls_is_off_are_refused(pki, kwargs, name):
    kwargs = {k: str(pki / "ca.pem") if v == "CA" else str(pki / "client.pem") if v == "CERT" else str(pki / "client.key") if v == "KEY" else v for k, v in kwargs.items()}
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, **kwargs)  # type: ignore[arg-type]
    assert name in str(info.value) and "ssl=True" in str(info.value)


def test_ssl_check_hostname_false(pki):
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, ssl=True, ssl_ca_certs=str(pki / "ca.pem"), ssl_check_hostname=False)
    message = str(info.value)
    assert "ssl_check_hostname" in message and "ssl_cert_reqs='none'" in message and "server_name" in message
    # Without verification there is no name check to skip (as redis-py: CERT_NONE turns
    # check_hostname off).
    assert tls_stats(ssl=True, ssl_cert_reqs="none", ssl_check_hostname=False)["insecure_skip_verify"] is True
    assert tls_stats(tls={"insecure_skip_verify": True}, ssl_check_hostname=False)["insecure_skip_verify"] is True
    assert tls_stats(ssl=True, ssl_ca_certs=str(pki / "ca.pem"), ssl_check_hostname=True)["insecure_skip_verify"] is False


def test_conflicting_settings_are_refused(pki):
    ca, other = str(pki / "ca.pem"), str(pki / "other-ca.pem")
    cases = [
        (dict(ssl=True, tls={"enabled": False}), "tls.enabled"),
        (dict(ssl=False, tls={"ca_file": ca}), "tls.enabled"),
        (dict(ssl=True, ssl_ca_certs=ca, tls={"ca_file": other}), "tls.ca_file"),
        (dict(ssl=True, ssl_cert_reqs="none", tls={"insecure_skip_verify": False}), "tls.insecure_skip_verify"),
        (dict(password="a", auth={"password": "b"}), "auth.password"),
        (dict(username="a", password="p", auth={"username": "b"}), "auth.username"),
        (dict(password="a", auth={"password_file": "/run/secret"}), "auth.password_file"),
    ]
    for kwargs, key in cases:
        with pytest.raises(shardis.ConfigError) as info:
            shardis.Client(**OFFLINE, **kwargs)  # type: ignore[arg-type]
        assert key in str(info.value), (kwargs, info.value)
    url_cases = [
        ("redis://127.0.0.1:1", dict(ssl=True), "rediss://"),
        ("rediss://127.0.0.1:1", dict(ssl=False), "redis://"),
        ("redis://127.0.0.1:1", dict(ssl_ca_certs=ca), "ssl_ca_certs"),
        (f"rediss://127.0.0.1:1?tls.ca_file={quote(other)}", dict(ssl_ca_certs=ca), "tls.ca_file"),
        ("rediss://u:pw@127.0.0.1:1", dict(password="other", ssl_ca_certs=ca), "auth.password"),
        ("rediss://u:pw@127.0.0.1:1", dict(username="v", ssl_ca_certs=ca), "auth.username"),
        ("rediss://127.0.0.1:1?timeout=1s", dict(timeout=2.0, ssl_ca_certs=ca), "timeout"),
        ("rediss://127.0.0.1:1", dict(auth={"password_file": "/run/secret"}, ssl_ca_certs=ca), "auth.password_file"),
        ("rediss://127.0.0.1:1", dict(host="127.0.0.1", ssl_ca_certs=ca), "host"),
    ]
    for url, kwargs, text in url_cases:
        with pytest.raises(shardis.ConfigError) as info:
            shardis.Client.from_url(url, **kwargs)  # type: ignore[arg-type]
        assert text in str(info.value), (url, kwargs, info.value)


def test_url_and_keywords_merge(pki):
    ca = str(pki / "ca.pem")
    # The same value on both sides is fine; keywords the URL lacks are added.
    c = shardis.Client.from_url(f"rediss://u:p%40ss@127.0.0.1:1?tls.ca_file={quote(ca)}", ssl_ca_certs=ca, password="p@ss", timeout=2.5)
    assert c._native.timeout() == 2.5
    assert c.stats()["tls"] == {"enabled": True, "insecure_skip_verify": False, "handshakes": 0, "resumed": 0}
    d = shardis.Client.from_url("rediss://127.0.0.1:1", ssl=True, ssl_cert_reqs="none", username="üser", password="a:b@c/d")
    assert d.stats()["tls"]["insecure_skip_verify"] is True


def test_config_file_takes_no_tls_keywords(tmp_path, pki):
    path = tmp_path / "c.toml"
    path.write_text(f'mode = "ring_hash"\nnodes = ["127.0.0.1:1"]\n[tls]\nca_file = "{pki / "ca.pem"}"\n')
    assert shardis.Client(config_file=str(path)).stats()["tls"]["enabled"] is True
    for kwargs in (dict(ssl=True), dict(password="x"), dict(ssl_ca_certs=str(pki / "ca.pem")), dict(timeout=1.0)):
        with pytest.raises(shardis.ConfigError) as info:
            shardis.Client(config_file=str(path), **kwargs)  # type: ignore[arg-type]
        assert next(iter(kwargs)) in str(info.value) and "config_file" in str(info.value)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(ssl="yes"), "ssl"),
        (dict(ssl=1), "ssl"),
        (dict(ssl=True, ssl_ca_certs=3), "ssl_ca_certs"),
        (dict(ssl=True, ssl_certfile=["a"]), "ssl_certfile"),
        (dict(ssl=True, ssl_cert_reqs=2.0), "ssl_cert_reqs"),
        (dict(ssl=True, ssl_cert_reqs="sometimes"), "ssl_cert_reqs"),
        (dict(ssl=True, ssl_cert_reqs=7), "ssl_cert_reqs"),
        (dict(ssl=True, ssl_check_hostname="no"), "ssl_check_hostname"),
        (dict(password=42), "password"),
        (dict(username=["u"], password="p"), "username"),
        (dict(ssl=True, tls="on"), "tls"),
        (dict(password="p", auth="on"), "auth"),
        (dict(ssl=True, ssl_keyfile="k"), "ssl_keyfile"),
    ],
)
def test_wrong_types_and_values_name_the_keyword(kwargs, name):
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, **kwargs)  # type: ignore[arg-type]
    assert str(info.value).startswith(f"invalid config: {name}:"), info.value
    assert isinstance(info.value, ValueError) and info.value.kind == "config"


def test_core_errors_name_the_redis_py_keyword(pki, tmp_path):
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, ssl=True, ssl_ca_certs=str(tmp_path / "missing.pem"))
    assert "tls.ca_file" in str(info.value) and "ssl_ca_certs=" in str(info.value)
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(
            **OFFLINE, ssl=True, ssl_ca_certs=str(pki / "ca.pem"), ssl_certfile=str(pki / "client.pem"), ssl_keyfile=str(pki / "mismatched.key")
        )
    assert "tls.key_file" in str(info.value) and "ssl_keyfile=" in str(info.value) and "not the key of" in str(info.value)
    # A certificate file without a key in it, given alone.
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, ssl=True, ssl_ca_certs=str(pki / "ca.pem"), ssl_certfile=str(pki / "client.pem"))
    assert "no PEM private key" in str(info.value) and "ssl_certfile=" in str(info.value)
    assert "BEGIN" not in str(info.value)
    # Key file contents never show.
    key_text = (pki / "client.key").read_text().splitlines()[1]
    with pytest.raises(shardis.ConfigError) as info:
        shardis.Client(**OFFLINE, ssl=True, ssl_ca_certs=str(pki / "client.key"))
    assert key_text not in str(info.value)


def test_path_like_and_bytes_paths(pki):
    assert tls_stats(ssl=True, ssl_ca_certs=pki / "ca.pem")["enabled"] is True
    assert tls_stats(ssl=True, ssl_ca_certs=os.fsencode(pki / "ca.pem"))["enabled"] is True
