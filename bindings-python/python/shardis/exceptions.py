"""shardis' exceptions.

Every class derives from :class:`RedisError` and from the matching redis-py exception, so
code written for redis-py keeps working: ``except redis.exceptions.ConnectionError`` also
catches :class:`shardis.ConnectionError`. Instances carry ``kind`` (shardis' error kind, e.g.
``"cross_shard"``) and ``node`` (``"host:port"`` or ``None``).
"""

from __future__ import annotations

from typing import Optional

import redis.exceptions as _r

__all__ = [
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
    "server_error",
]


class RedisError(_r.RedisError):
    """Base of every shardis error."""

    kind: str = "server"
    node: Optional[str] = None


class ConfigError(RedisError, ValueError):
    """The configuration is invalid; the message names the key and the problem."""

    kind = "config"


class ConnectionError(RedisError, _r.ConnectionError):  # noqa: A001 - redis-py's name
    """No connection, or the connection failed."""


class AuthenticationError(ConnectionError, _r.AuthenticationError):
    """AUTH / SELECT was rejected."""


class TimeoutError(RedisError, _r.TimeoutError):  # noqa: A001 - redis-py's name
    """The call's deadline passed."""


class IndeterminateError(RedisError):
    """A write failed after it may have reached the server: it may or may not have run.
    It is not retried automatically (``retry_writes=True`` opts in)."""


class IndeterminateConnectionError(IndeterminateError, ConnectionError):
    """Indeterminate because the connection broke."""


class IndeterminateTimeoutError(IndeterminateError, TimeoutError):
    """Indeterminate because the deadline passed."""


class ResponseError(RedisError, _r.ResponseError):
    """The server answered with an error."""


class DataError(RedisError, _r.DataError):
    """An argument cannot be sent (wrong type, bad ``numkeys``…)."""


class CrossShardError(ResponseError, _r.ClusterCrossSlotError):
    """The keys of one command or transaction are on different nodes or slots; nothing was
    sent."""


class UnsupportedCommandError(ResponseError):
    """shardis cannot route this command (connection state, pub/sub, unknown command)."""


class ProtocolError(RedisError, _r.InvalidResponse):
    """The server sent something that is not valid RESP."""


class WatchError(RedisError, _r.WatchError):
    """A watched key changed: the transaction did not run."""


class NoScriptError(ResponseError, _r.NoScriptError):
    """EVALSHA of an unknown script."""


class ExecAbortError(ResponseError, _r.ExecAbortError):
    """EXEC aborted because a queued command was invalid."""


class ReadOnlyError(ResponseError, _r.ReadOnlyError):
    """A write reached a read-only replica."""


class BusyLoadingError(ConnectionError, _r.BusyLoadingError):
    """The server is loading its dataset."""


class NoPermissionError(ResponseError, _r.NoPermissionError):
    """The ACL user may not run this command."""


class OutOfMemoryError(ResponseError, _r.OutOfMemoryError):
    """The server is out of memory."""


_BY_CODE = {
    "NOSCRIPT": NoScriptError,
    "EXECABORT": ExecAbortError,
    "READONLY": ReadOnlyError,
    "LOADING": BusyLoadingError,
    "NOPERM": NoPermissionError,
    "OOM": OutOfMemoryError,
    "WRONGPASS": AuthenticationError,
    "NOAUTH": AuthenticationError,
    "CROSSSLOT": CrossShardError,
}


def server_error(message: str) -> ResponseError:
    """The exception for a server error reply, picked by its code as redis-py does."""
    code = message.split(" ", 1)[0]
    cls = _BY_CODE.get(code, ResponseError)
    return cls(message)  # type: ignore[return-value]
