"""shardis — an in-process Redis/Valkey router with redis-py's API.

``shardis.Client`` speaks redis-py (``get``, ``set(ex=…)``, ``hset(mapping=…)``,
``pipeline()``, ``scan_iter``, ``register_script``, ``execute_command``…) over a Rust core
that routes over a Redis Cluster or a set of standalone nodes (Envoy/twemproxy-compatible
placement), keeps connections and topology for the life of the process, releases the GIL
during I/O and is fork-safe. Importing this package creates no threads or sockets.
"""

from __future__ import annotations

from . import exceptions
from ._native import VERSION as __version__
from .client import Client, NodeReplies
from .exceptions import (
    AuthenticationError,
    BusyLoadingError,
    ConfigError,
    ConnectionError,
    CrossShardError,
    DataError,
    ExecAbortError,
    IndeterminateConnectionError,
    IndeterminateError,
    IndeterminateTimeoutError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ProtocolError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TimeoutError,
    UnsupportedCommandError,
    WatchError,
)
from .pipeline import Pipeline

__all__ = [
    "Client",
    "Pipeline",
    "NodeReplies",
    "exceptions",
    "RedisError",
    "ConfigError",
    "ConnectionError",
    "AuthenticationError",
    "TimeoutError",
    "IndeterminateError",
    "IndeterminateConnectionError",
    "IndeterminateTimeoutError",
    "ResponseError",
    "DataError",
    "CrossShardError",
    "UnsupportedCommandError",
    "ProtocolError",
    "WatchError",
    "NoScriptError",
    "ExecAbortError",
    "ReadOnlyError",
    "BusyLoadingError",
    "NoPermissionError",
    "OutOfMemoryError",
    "__version__",
]
