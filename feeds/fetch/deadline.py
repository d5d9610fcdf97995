"""The total deadline of one fetch, and how the network code below httpcore learns of it.

A fetch (or hub ping) runs on one thread from start to end, so its ``Deadline`` is kept in a
thread-local while it runs (``DeadlineScope``). The network backend (``transport``) reads it
through ``bounded`` and ``current`` to end every DNS lookup, connect, TLS handshake, socket
read and write by the time remaining, on new and on pooled keep-alive connections alike: a
server that drips bytes (in the headers or the body) or a slow DNS server cannot hold a
worker past the deadline, and a connection kept in the pool carries no deadline of its own.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from feeds.errors import FetchError
from feeds.types import ErrorKind


@dataclass(frozen=True, slots=True)
class Deadline:
    """The end of one fetch: `seconds` after `start`, both on time.monotonic()'s clock."""

    seconds: float
    start: float = field(default_factory=time.monotonic)
    at: float = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", self.start + self.seconds)

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def error(self, during: str) -> FetchError:
        """The TIMEOUT error of a fetch that ran out of time `during` something."""
        return FetchError(f"deadline of {self.seconds:g}s exceeded {during}", ErrorKind.TIMEOUT)


_current = threading.local()  # .deadline: the Deadline of the fetch running on this thread


class DeadlineScope:
    """Within this block, network operations on this thread end by `deadline`."""

    __slots__ = ("_deadline", "_previous")

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self._previous: Deadline | None = None

    def __enter__(self) -> Deadline:
        self._previous = getattr(_current, "deadline", None)
        _current.deadline = self._deadline
        return self._deadline

    def __exit__(self, *exc: object) -> None:
        _current.deadline = self._previous


def current() -> Deadline | None:
    """The deadline of the fetch running on this thread, if any."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    return deadline


def bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """`timeout` shortened to the current fetch's time remaining; raises `error` at the end."""
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return timeout
    remaining = deadline.at - time.monotonic()
    if remaining <= 0:
        raise error("deadline exceeded")
    return remaining if timeout is None or timeout > remaining else timeout
