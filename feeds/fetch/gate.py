"""Politeness: how many requests go to one host at once, and how often they start.

The threads sharing one ``Fetcher`` send at most ``per_host`` requests at once to one host
(its ``host_key``: lower-cased host name and port; every redirect hop is a request to its own
host), and start two requests to the same host at least ``host_spacing`` seconds apart.
Waiting for a host is first come, first served and ends at the fetch's deadline (the caller
then fails the fetch with ``"timeout"``). Idle hosts are forgotten, so memory stays bounded
however many hosts are fetched.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import httpx

from feeds.fetch.addresses import parse_url, target


def host_key(url: str | httpx.URL) -> str:
    """The politeness key of `url`: its lower-cased host name and port, e.g. "example.com:443"."""
    host, port = target(url if isinstance(url, httpx.URL) else parse_url(url))
    return f"{host.lower()}:{port}"


class _Host:
    """One host's politeness state: requests in flight, waiters in order, next allowed start."""

    __slots__ = ("active", "next_start", "queue")

    def __init__(self) -> None:
        self.active = 0
        self.next_start = 0.0  # time.monotonic() before which no request may start
        self.queue: deque[object] = deque()  # one token per waiting request, first come first

    def idle(self, now: float) -> bool:
        return self.active == 0 and not self.queue and self.next_start <= now


class HostGate:
    """At most `per_host` requests in flight per host, starts `spacing` seconds apart.

    Shared by the threads of one Fetcher. Hosts are kept only while they have requests in
    flight, waiters, or a spacing window still open (idle ones are swept at every acquire),
    so memory is bounded by the number of threads plus the hosts started within `spacing`
    seconds before the latest request.
    """

    def __init__(self, per_host: int, spacing: float) -> None:
        if per_host < 1:
            raise ValueError(f"per_host must be at least 1, not {per_host}")
        if not spacing >= 0:  # also refuses NaN
            raise ValueError(f"host_spacing must be 0 or more seconds, not {spacing}")
        self.per_host = per_host
        self.spacing = spacing
        self._cond = threading.Condition()
        self._hosts: dict[str, _Host] = {}

    def acquire(self, key: str, deadline_at: float) -> bool:
        """Wait for a slot on host `key`; False if none could start before `deadline_at`.

        Every True must be paired with one ``release(key)``.
        """
        token = object()
        with self._cond:
            now = time.monotonic()
            self._prune(now)
            host = self._hosts.setdefault(key, _Host())
            host.queue.append(token)
            try:
                while True:
                    now = time.monotonic()
                    first = host.queue[0] is token
                    free = host.active < self.per_host
                    if first and free and host.next_start <= now:
                        host.active += 1
                        host.next_start = now + self.spacing
                        return True
                    if now >= deadline_at or (first and free and host.next_start >= deadline_at):
                        return False
                    wait = deadline_at - now
                    if first and free:
                        wait = min(wait, host.next_start - now)
                    self._cond.wait(wait)
            finally:
                host.queue.remove(token)
                self._cond.notify_all()  # the next in line may go (or the slot was taken)
                self._forget_if_idle(key, host)

    def release(self, key: str) -> None:
        """Free a slot on host `key` taken by ``acquire``."""
        with self._cond:
            host = self._hosts.get(key)
            if host is None:  # pragma: no cover - acquire/release are always paired
                return
            host.active -= 1
            self._cond.notify_all()
            self._forget_if_idle(key, host)

    def __len__(self) -> int:
        """The number of hosts currently remembered."""
        with self._cond:
            return len(self._hosts)

    def _forget_if_idle(self, key: str, host: _Host) -> None:
        if host.idle(time.monotonic()) and self._hosts.get(key) is host:
            del self._hosts[key]

    def _prune(self, now: float) -> None:
        for key in [key for key, host in self._hosts.items() if host.idle(now)]:
            del self._hosts[key]


class Slot:
    """A host slot held for one request; released exactly once."""

    __slots__ = ("_gate", "_key")

    def __init__(self, gate: HostGate, key: str) -> None:
        self._gate = gate
        self._key: str | None = key

    def release(self) -> None:
        key, self._key = self._key, None
        if key is not None:
            self._gate.release(key)
