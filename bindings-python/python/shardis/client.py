"""``shardis.Client``: redis-py's command surface over the shardis core.

The command methods come from redis-py's own mixins (``CoreCommands``): each builds its
arguments and calls :meth:`Client.execute_command`, which runs the command in Rust (GIL
released) and shapes the reply with redis-py's response callbacks — so return types match
``redis.Redis`` (bool for ``set``, dict for ``hgetall``, ``(member, score)`` tuples for
``zrange(withscores=True)``…).
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import redis
from redis._parsers.encoders import Encoder
from redis.client import EMPTY_RESPONSE, NEVER_DECODE
from redis.commands import CoreCommands
from redis.commands.core import Script

from . import exceptions
from ._native import NativeClient
from ._redis_py_options import UNSET, merge_into_spec, merge_into_url, translate

__all__ = ["Client", "NodeReplies"]

# Config keys of the schema (ARCHITECTURE §7); anything else passed to Client() is an error
# from the core naming the key.
_SECTIONS = ("ring_hash", "maglev", "ketama", "modula", "jump", "refresh", "auth", "tls")

PathLike = Union[str, bytes, "os.PathLike[str]"]


def _named_keyword(e: "exceptions.ConfigError", origin: Mapping[str, str]) -> "exceptions.ConfigError":
    """The core's config error, saying which redis-py keyword set the key it names
    (``tls.ca_file`` → ``ssl_ca_certs``)."""
    message = str(e)
    for key, keyword in origin.items():
        if f"{key}:" in message and keyword != key.split(".")[-1] and f"{keyword}=" not in message:
            out = type(e)(f"{message} (given as {keyword}=)")
            out.kind, out.node = e.kind, e.node
            return out
    return e


class NodeReplies(dict):  # type: ignore[type-arg]
    """One reply per node (``host:port`` → reply), for commands sent to every node whose
    replies cannot be merged into one (INFO, CONFIG GET on several nodes…)."""


def _split_name(args: Sequence[Any]) -> "tuple[str, tuple[Any, ...]]":
    """redis-py passes multi-word commands as one argument (``"SCRIPT LOAD"``): split it
    for the wire; the callback is looked up by the whole name."""
    first = args[0]
    name = (first.decode() if isinstance(first, bytes) else str(first)).upper()
    if " " in name:
        return name, tuple(str(first).split()) + tuple(args[1:])
    return name, tuple(args)


def _callbacks() -> Dict[str, Any]:
    # redis-py's RESP2 callbacks, read from a client object that never connects.
    return dict(redis.Redis(protocol=2).response_callbacks)


class _ShardisScript(Script):
    """``register_script``'s object: inside a shardis pipeline the script is loaded on every
    node before the pipeline runs (redis-py does the same for its own pipelines)."""

    def __call__(self, keys=None, args=None, client=None):  # type: ignore[no-untyped-def]
        from .pipeline import Pipeline

        target = client if client is not None else self.registered_client
        if isinstance(target, Pipeline):
            target.scripts.add(self)
        return super().__call__(keys=keys, args=args, client=client)


class Client(CoreCommands):
    """A shardis client with redis-py's methods.

    Build it from the config schema's keys (``Client(mode="cluster",
    nodes=["127.0.0.1:7000"], read_from="prefer_replica")``), from a URL
    (:meth:`from_url`), or from a file (``Client(config_file="shardis.toml")``). redis-py
    style ``host=``/``port=`` and ``startup_nodes=`` also work. :meth:`shared` returns the
    process-wide core for the config (same connections and topology).

    TLS and credentials: the schema's ``tls={"ca_file": …, "cert_file": …, "key_file": …,
    "server_name": …, "insecure_skip_verify": …}`` and ``auth={"username": …, "password": …
    | "password_file": …}``, a ``rediss://`` URL, or redis-py's keywords ``ssl=True``,
    ``ssl_ca_certs``, ``ssl_certfile``, ``ssl_keyfile``, ``ssl_cert_reqs``,
    ``ssl_check_hostname``, ``username``, ``password`` (see ``shardis._redis_py_options`` for
    the mapping: ``ssl_cert_reqs="none"`` is ``insecure_skip_verify``; ``"optional"``
    verifies, as in Python's ``ssl``; ``ssl_check_hostname=False`` needs
    ``ssl_cert_reqs="none"``; redis-py's other ``ssl_*`` keywords are refused). One setting
    given twice with different values, or a TLS keyword while TLS is off, is a
    :class:`ConfigError`. With ``config_file=`` the file holds the whole config; with
    ``url=`` / :meth:`from_url` other config keywords are added to the URL's.
    """

    def __init__(
        self,
        *,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
        config_file: Optional[str] = None,
        url: Optional[str] = None,
        host: Optional[str] = None,
        port: Optional[int] = None,
        startup_nodes: Optional[Iterable[Any]] = None,
        shared: bool = False,
        ssl: Optional[bool] = None,
        ssl_ca_certs: Optional[PathLike] = None,
        ssl_certfile: Optional[PathLike] = None,
        ssl_keyfile: Optional[PathLike] = None,
        ssl_cert_reqs: Any = UNSET,
        ssl_check_hostname: Optional[bool] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        _native: Optional[NativeClient] = None,
        **config: Any,
    ) -> None:
        self.decode_responses = decode_responses
        self.encoding = encoding
        self.encoding_errors = encoding_errors
        self.response_callbacks = _callbacks()
        if _native is not None:
            self._native = _native
            return
        options = translate(
            {
                "ssl": ssl,
                "ssl_ca_certs": ssl_ca_certs,
                "ssl_certfile": ssl_certfile,
                "ssl_keyfile": ssl_keyfile,
                "ssl_cert_reqs": ssl_cert_reqs,
                "ssl_check_hostname": ssl_check_hostname,
                "username": username,
                "password": password,
            },
            config,
        )
        if url is not None or config_file is not None:
            source = "url" if url is not None else "config_file"
            clash = [
                name
                for name, given in (
                    ("config_file", url is not None and config_file is not None),
                    ("host", host is not None),
                    ("port", port is not None),
                    ("startup_nodes", startup_nodes is not None),
                )
                if given
            ]
            if clash:
                raise exceptions.ConfigError(
                    f"invalid config: {clash[0]}: cannot be combined with {source}= (the nodes "
                    f"come from the {'URL' if source == 'url' else 'file'})"
                )
        try:
            if url is not None:
                self._native = NativeClient.from_url(merge_into_url(url, options, config), shared)
            elif config_file is not None:
                given = next(iter(config), None) or next(iter(options.origin.values()), None)
                if given is None and options.enabled is not None:
                    given = "ssl"
                if given is None and options.check_hostname_off:
                    given = "ssl_check_hostname"
                if given is not None:
                    raise exceptions.ConfigError(
                        f"invalid config: {given}: cannot be combined with config_file= (put "
                        "it in the file: its [tls] / [auth] tables for TLS and credentials)"
                    )
                self._native = NativeClient.from_file(str(config_file), shared)
            else:
                spec = dict(config)
                if host is not None or port is not None:
                    spec.setdefault("nodes", []).append(f"{host or '127.0.0.1'}:{port or 6379}")
                    spec.setdefault("mode", "ring_hash")
                if startup_nodes is not None:
                    spec.setdefault("nodes", []).extend(
                        n if isinstance(n, str) else f"{n.host}:{n.port}" for n in startup_nodes
                    )
                    spec.setdefault("mode", "cluster")
                for key in ("timeout", "connect_timeout", "tcp_keepalive"):
                    value = spec.get(key)
                    if isinstance(value, float):
                        spec[key] = f"{value}s"
                merge_into_spec(spec, options)
                self._native = NativeClient.from_json(json.dumps(spec), shared)
        except exceptions.ConfigError as e:
            raise _named_keyword(e, options.origin) from None

    @classmethod
    def from_url(cls, url: str, *, shared: bool = False, **kwargs: Any) -> "Client":
        """A client from ``redis://h:p[,h2:p2]/?mode=ring_hash``, ``redis+cluster://…``,
        ``rediss://…`` / ``rediss+cluster://…`` (TLS). Other keywords (config keys, redis-py's
        ``ssl_*``, ``username``, ``password``) are added to what the URL says; giving one
        setting twice with different values is a :class:`ConfigError`."""
        return cls(url=url, shared=shared, **kwargs)

    @classmethod
    def from_envoy(
        cls,
        path: PathLike,
        listener: Optional[str] = None,
        *,
        shared: bool = False,
        decode_responses: bool = False,
        encoding: str = "utf-8",
        encoding_errors: str = "strict",
    ) -> "Client":
        """A client configured from an Envoy bootstrap YAML: the ``redis_proxy`` listener's
        clusters become backends, with its prefix routes, catch-all, mirrors, read command
        policy and faults. ``listener`` names the listener when the file has several. What
        shardis cannot do is a :class:`ConfigError` naming the YAML path."""
        native = NativeClient.from_envoy(str(path), listener, shared)
        return cls(
            decode_responses=decode_responses,
            encoding=encoding,
            encoding_errors=encoding_errors,
            _native=native,
        )

    @classmethod
    def shared(cls, **kwargs: Any) -> "Client":
        """The process-shared client: the same ``persistent_id`` (or the same config) gives
        the same connections and topology, e.g. in every request of a worker."""
        kwargs["shared"] = True
        return cls(**kwargs)

    # -- the one entry point the mixins call ------------------------------------------------

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run a command and shape its reply with redis-py's callback for it."""
        command_name, args = _split_name(args)
        decode = self.decode_responses and NEVER_DECODE not in options
        try:
            response = self._native.execute(args, decode)
        except exceptions.ResponseError:
            if EMPTY_RESPONSE in options:
                return options[EMPTY_RESPONSE]
            raise
        return self._shape(command_name, response, options)

    def _shape(self, command_name: str, response: Any, options: Mapping[str, Any]) -> Any:
        options = {k: v for k, v in options.items() if k not in (EMPTY_RESPONSE, NEVER_DECODE, "keys")}
        callback = self.response_callbacks.get(command_name)
        if isinstance(response, dict):
            # Several nodes answered one fan-out command: shape each answer.
            return NodeReplies({node: callback(r, **options) if callback else r for node, r in response.items()})
        if callback is None:
            return response
        return callback(response, **options)

    # -- redis-py methods that need shardis' own behaviour ---------------------------------

    def get(self, name: Any) -> Any:
        """``GET name`` (a direct native call: the hottest path)."""
        return self._native.get(name, self.decode_responses)

    def set(self, name: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
        """``SET name value [options]``: without options a direct native call returning
        ``True`` as redis-py does; with options (``ex=``, ``nx=``, ``get=``…) redis-py's own
        argument handling."""
        if args or kwargs:
            return super().set(name, value, *args, **kwargs)
        return self._native.set(name, value)

    def pipeline(self, transaction: bool = False, shard_hint: Any = None) -> "Pipeline":
        """A pipeline: ``transaction=False`` splits per node and sends together;
        ``transaction=True`` is MULTI/EXEC on one node (one slot in cluster mode)."""
        from .pipeline import Pipeline

        return Pipeline(self, transaction=transaction)

    def transaction(self, func: Any, *watches: Any, **kwargs: Any) -> Any:
        """redis-py's optimistic-locking helper: call ``func(pipe)`` and retry on WatchError."""
        value_from_callable = kwargs.pop("value_from_callable", False)
        while True:
            with self.pipeline(transaction=True) as pipe:
                try:
                    if watches:
                        pipe.watch(*watches)
                    func_value = func(pipe)
                    exec_value = pipe.execute()
                    return func_value if value_from_callable else exec_value
                except exceptions.WatchError:
                    continue

    def register_script(self, script: Union[str, bytes]) -> Script:
        """A callable Lua script (EVALSHA, with SCRIPT LOAD on NOSCRIPT)."""
        return _ShardisScript(self, script)

    def get_encoder(self) -> Encoder:
        """redis-py's encoder with this client's settings (used by ``Script``)."""
        return Encoder(self.encoding, self.encoding_errors, self.decode_responses)

    # -- shardis extras -------------------------------------------------------------------

    def node_for(self, key: Any) -> str:
        """The node (``host:port``) holding ``key`` (the primary of its slot in cluster mode)."""
        return self._native.node_for(key)

    def nodes(self) -> List[str]:
        """The nodes known so far."""
        return self._native.nodes()

    def stats(self) -> Dict[str, Any]:
        """Per command and per node calls, errors and latency; cluster events."""
        return json.loads(self._native.stats_json())

    def same_core(self, other: "Client") -> bool:
        """Do both clients share one core (connections, topology, stats)?"""
        return self._native.same_core(other._native)

    def refresh_topology(self) -> bool:
        """Cluster mode: refresh the topology now."""
        return self._native.refresh_topology()

    def close(self) -> None:
        """Nothing to do: connections belong to the core and live for the process."""

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<shardis.Client mode={self._native.mode()} nodes={self._native.nodes()}>"


from .pipeline import Pipeline  # noqa: E402  (circular: Pipeline builds on Client)
