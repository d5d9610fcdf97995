"""Readership counting in the web process: one cheap call per feed response, flushed to the
store in the background.

The feed view says what it served (``reading``: feed, format, variant, partner); an
``after_request`` hook adds the response (status, body bytes) to the process's in-memory
``Tally`` under one lock. A daemon thread flushes the tally to the store every
``READERSHIP_FLUSH_SECONDS`` (5 by default), and the process flushes once more when it exits
(gunicorn's workers exit through ``sys.exit``, so ``atexit`` runs), so a restart loses at
most a few seconds of counts; a kill -9 loses the counts since the last flush. A flush that
fails is kept and retried with the next one.

Only current feed documents are counted (``/feeds/NAME.FORMAT``), with the requests a key
refused (401, 403); archive pages, unknown feeds and other pages are not. A client's address
is the connection's (``REMOTE_ADDR``); ``X-Forwarded-For`` is believed only with
``TRUSTED_PROXIES`` = N > 0, the number of proxies in front of the app that append to it
(the address N places from its end is taken), since any client can send that header.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, Response, request

from feeds.errors import StoreError
from feeds.readership import Tally, utc_day
from feeds.store import Store
from feeds.types import Format, Partner

log = logging.getLogger(__name__)

NOTE = "feeds.reading"  # request.environ key: what the feed view served
FEED_ENDPOINT = "feeds.feed"
SALT_RETRY_SECONDS = 5.0


def reading(feed: str, fmt: Format, variant: str, partner: Partner | None) -> None:
    """Called by the feed view: the request is for ``feed`` in ``fmt``, ``variant``, read by
    ``partner`` (None: the public)."""
    request.environ[NOTE] = (feed, fmt.value, variant, partner.id if partner else "")


def client_address(environ: Mapping[str, Any], trusted_proxies: int) -> str:
    """The client's address: the connection's, or with ``trusted_proxies`` = N the address N
    places from the end of X-Forwarded-For (when it has that many)."""
    if trusted_proxies > 0:
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            hops = [hop.strip() for hop in forwarded.split(",")]
            if len(hops) >= trusted_proxies and hops[-trusted_proxies]:
                return str(hops[-trusted_proxies])
    return str(environ.get("REMOTE_ADDR") or "")


class Usage:
    """One app's readership counting: the tally, its flushes and its flusher thread."""

    def __init__(self, store: Store, *, flush_seconds: float, trusted_proxies: int) -> None:
        self.store = store
        self.flush_seconds = flush_seconds
        self.trusted_proxies = trusted_proxies
        self.tally = Tally(self._salt)
        self._flush_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._salt_failed = -SALT_RETRY_SECONDS
        self._housekept: date | None = None
        self._pid = 0  # the process whose flusher thread runs (none yet)
        self._started = False  # in this process
        self._stop = threading.Event()
        _LIVE.add(self)

    def after_request(self, response: Response) -> Response:
        """The ``after_request`` hook: count a feed response (never failing it)."""
        try:
            self.count(response)
        except Exception:  # a bug in counting must not cost a reader the feed
            log.exception("readership: a response could not be counted")
        return response

    def count(self, response: Response) -> None:
        environ = request.environ
        note = environ.get(NOTE)
        if note is None:
            if response.status_code not in (401, 403) or request.endpoint != FEED_ENDPOINT:
                return
            args = request.view_args or {}
            note = (args.get("name", ""), args.get("ext", ""), "", "")
        feed, fmt, variant, partner = note
        status = response.status_code
        sent = 0
        if status != 304 and environ.get("REQUEST_METHOD") != "HEAD":
            sent = response.calculate_content_length() or 0
        if not self._started:
            self._start()
        self.tally.count(
            time.time(),
            feed,
            fmt,
            variant,
            partner,
            status,
            sent,
            environ.get("HTTP_USER_AGENT", ""),
            client_address(environ, self.trusted_proxies),
        )

    def _salt(self, day: date) -> bytes | None:
        """A day's salt from the store; None (for a few seconds) when it cannot be had."""
        if time.monotonic() - self._salt_failed < SALT_RETRY_SECONDS:
            return None
        try:
            return self.store.readership_salt(day)
        except StoreError as e:
            self._salt_failed = time.monotonic()
            log.warning("readership: no client salt for %s: %s", day, e)
            return None

    def _start(self) -> None:
        """Start this process's flusher thread (in a forked worker too: threads do not
        survive fork)."""
        with self._start_lock:
            if self._started:
                return
            self._pid = os.getpid()
            self._stop = threading.Event()
            thread = threading.Thread(
                target=_flush_every,
                args=(weakref.ref(self), self._stop, self.flush_seconds),
                name="feeds-readership",
                daemon=True,
            )
            thread.start()
            self._started = True

    def flush(self) -> bool:
        """Store what was counted since the last flush; True when it is stored. Once a
        day (and at the first flush) past salts and client hashes are cleared up."""
        with self._flush_lock:
            now = time.time()
            today = utc_day(now)
            try:
                if self._housekept != today:
                    self.store.readership_housekeeping(datetime.fromtimestamp(now, UTC))
                    self._housekept = today
                self.tally.prepare(today)
            except StoreError as e:
                log.warning("readership: housekeeping failed: %s", e)
            batch = self.tally.drain()
            if not batch:
                return True
            try:
                self.store.record_readership(batch, today)
            except StoreError as e:
                log.warning("readership: flush failed, kept for the next one: %s", e)
                self.tally.restore(batch)
                return False
            return True

    def close(self) -> None:
        """Stop the flusher thread and flush what is left."""
        self._stop.set()
        self.flush()

    def forget(self) -> None:
        """In a forked child: drop the parent's pending counts (the parent flushes them).
        Locks are made anew: another thread of the parent may have held them."""
        self.tally = Tally(self._salt)
        self._flush_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._pid = 0
        self._started = False


def _flush_every(ref: weakref.ref[Usage], stop: threading.Event, seconds: float) -> None:
    """The flusher thread: flush every ``seconds`` until stopped or the app is gone."""
    while not stop.wait(seconds):
        usage = ref()
        if usage is None:
            return
        try:
            usage.flush()
        except Exception:  # never let the thread die: counting must go on
            log.exception("readership: flush failed")
        del usage


_LIVE: weakref.WeakSet[Usage] = weakref.WeakSet()


def _flush_all_at_exit() -> None:
    pid = os.getpid()
    for usage in list(_LIVE):
        if usage._pid == pid:
            try:
                usage.close()
            except Exception:
                log.exception("readership: last flush failed")


def _forget_all_in_child() -> None:
    for usage in list(_LIVE):
        usage.forget()


atexit.register(_flush_all_at_exit)
os.register_at_fork(after_in_child=_forget_all_in_child)


def install(app: Flask) -> Usage | None:
    """Count the readership of ``app``'s feeds, unless its READERSHIP setting is off. The
    counts go through a store of their own that keeps no connection open between flushes
    (a flush never waits for a request's connection, nor holds one)."""
    if not app.config["READERSHIP"]:
        return None
    usage = Usage(
        Store(app.config["DATABASE_URL"], migrate=False, pooled=False),
        flush_seconds=float(app.config["READERSHIP_FLUSH_SECONDS"]),
        trusted_proxies=int(app.config["TRUSTED_PROXIES"]),
    )
    app.extensions["feeds.usage"] = usage
    app.after_request(usage.after_request)
    return usage


def usage_of(app: Flask) -> Usage | None:
    """The app's readership counting (None when switched off)."""
    value = app.extensions.get("feeds.usage")
    return value if isinstance(value, Usage) else None


def flush(app: Flask) -> bool:
    """Flush the app's counts now (tests, and anyone who cannot wait a few seconds)."""
    usage = usage_of(app)
    return usage.flush() if usage is not None else True
