"""``shardis.Pipeline``: redis-py's pipeline API.

``transaction=False``: commands are buffered and sent at :meth:`execute` — split per node (per
slot in cluster mode), one round trip per node, replies in submission order; one failing
command does not fail the others. ``transaction=True``: MULTI/EXEC on one node (one slot),
with ``watch()`` / immediate commands / ``multi()`` as in redis-py.
"""

from __future__ import annotations

from typing import Any, List, Optional, Set, Tuple

from redis.commands import CoreCommands

from . import exceptions
from ._native import NativeTransaction
from .client import _split_name

__all__ = ["Pipeline"]


class Pipeline(CoreCommands):
    """Buffered commands against a :class:`shardis.Client`."""

    def __init__(self, client: Any, transaction: bool = False) -> None:
        self.client = client
        self.transaction = transaction
        self.response_callbacks = client.response_callbacks
        self.decode_responses = client.decode_responses
        # (command name for the callback, arguments as sent, callback options)
        self.command_stack: List[Tuple[str, Tuple[Any, ...], dict]] = []
        self.scripts: Set[Any] = set()
        self.watching = False
        self.explicit_transaction = False
        self._tx: Optional[NativeTransaction] = None

    # -- buffering --------------------------------------------------------------------------

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Buffer a command (or, between ``watch()`` and ``multi()``, run it now)."""
        if self.watching and not self.explicit_transaction:
            return self.immediate_execute_command(*args, **options)
        self.command_stack.append((*_split_name(args), options))
        return self

    def immediate_execute_command(self, *args: Any, **options: Any) -> Any:
        """Run a command now on the transaction's pinned connection."""
        name, wire = _split_name(args)
        response = self._transaction().query(wire, self.decode_responses)
        return self.client._shape(name, response, options)

    def _transaction(self) -> NativeTransaction:
        if self._tx is None:
            self._tx = self.client._native.transaction()
        return self._tx

    def watch(self, *names: Any) -> bool:
        """WATCH keys (they must be on one node / in one slot)."""
        if self.explicit_transaction:
            raise exceptions.RedisError("Cannot issue a WATCH after a MULTI")
        self._transaction().watch(list(names))
        self.watching = True
        return True

    def unwatch(self) -> bool:
        """Forget the watched keys (the pinned connection is released)."""
        self.reset()
        return True

    def multi(self) -> None:
        """Start buffering the transaction's commands."""
        if self.explicit_transaction:
            raise exceptions.RedisError("Cannot issue nested calls to MULTI")
        if self.command_stack:
            raise exceptions.RedisError("Commands without an initial WATCH have already been issued")
        self.explicit_transaction = True

    # -- running ----------------------------------------------------------------------------

    def execute(self, raise_on_error: bool = True) -> List[Any]:
        """Send everything; return the replies in order (the first error is raised unless
        ``raise_on_error=False``, then errors are returned in place)."""
        stack = self.command_stack
        if not stack and not self.watching:
            return []
        for script in self.scripts:
            self.client.script_load(script.script)
        try:
            if self.transaction or self.explicit_transaction:
                replies = self._execute_transaction(stack)
            else:
                replies = self.client._native.pipeline([args for _, args, _ in stack], self.decode_responses)
        finally:
            self.reset()
        out = []
        for (name, _, options), reply in zip(stack, replies):
            if isinstance(reply, Exception):
                out.append(reply)
            else:
                try:
                    out.append(self.client._shape(name, reply, options))
                except Exception as e:  # a callback rejecting a reply: report it in place
                    out.append(e)
        if raise_on_error:
            for r in out:
                if isinstance(r, Exception):
                    raise r
        return out

    def _execute_transaction(self, stack: List[Tuple[str, Tuple[Any, ...], dict]]) -> List[Any]:
        tx = self._transaction()
        for _, args, _ in stack:
            tx.queue(args)
        result = tx.exec(self.decode_responses)
        self._tx = None
        if result is None:
            raise exceptions.WatchError("Watched variable changed.")
        return result

    def reset(self) -> None:
        """Forget buffered commands and any WATCH."""
        self.command_stack = []
        self.scripts = set()
        self.watching = False
        self.explicit_transaction = False
        if self._tx is not None:
            self._tx.discard()
            self._tx = None

    def __len__(self) -> int:
        return len(self.command_stack)

    def __bool__(self) -> bool:
        return True

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.reset()

    def get_encoder(self) -> Any:
        """The client's encoder."""
        return self.client.get_encoder()
