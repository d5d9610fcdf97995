"""The web server's settings: gunicorn's, one set for the Procfile's `web:` line
(``gunicorn --config python:feeds.webserver``), `feeds serve` and `feeds run`, and its
logger class.

This module is what gunicorn's master process imports (the settings, the logger class): it
imports nothing of the app, so that the gevent workers patch the standard library before
the app, its database drivers and its locks are imported (a lock made before the patch
blocks every greenlet of a worker).

Idle and slow connections cost a reader nothing: the gevent worker keeps each connection in a
greenlet of its own (a few KB), so a thousand connections that send nothing, or drip their
headers a byte at a time, do not hold any of the threads a normal reader needs; and a
connection must deliver each request's headers within KEEPALIVE seconds or is closed (the
first request's too), so they do not pile up. WORKER_CONNECTIONS bounds each worker; past it,
a worker stops accepting and the others (or the listen backlog) take new connections.
In production a TLS-terminating proxy sits in front as well (README, "Deployment").
"""

from __future__ import annotations

import os
import resource
import signal
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from feeds.urls import REDACTED, redact

WORKERS = 2  # env WEB_CONCURRENCY overrides
WORKER_CONNECTIONS = 4000  # per worker
KEEPALIVE = 10  # seconds: idle keep-alive, and the time to send a request's headers
PARENT_ENV = "FEEDS_WEB_PARENT"  # the pid of the `feeds serve` or `feeds run` that started it

wsgi_app = "feeds.web:create_app()"
workers = int(os.environ.get("WEB_CONCURRENCY", WORKERS))
worker_class = "gevent"
worker_connections = WORKER_CONNECTIONS
keepalive = KEEPALIVE
timeout = 30  # a worker silent this long is restarted
graceful_timeout = 20  # SIGTERM: requests in flight may finish (and counts are flushed)
backlog = 2048
accesslog = "-"
logger_class = "feeds.webserver.RedactingLogger"  # keys in a query never reach the log


def on_starting(server: Any) -> None:
    """Every connection is a file descriptor: let the workers have as many as the machine
    allows (a soft limit of 1,024 is common)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * WORKER_CONNECTIONS + 256
    if hard == resource.RLIM_INFINITY or hard > soft:
        new = wanted if hard == resource.RLIM_INFINITY else min(hard, max(soft, wanted))
        if new > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def when_ready(server: Any) -> None:
    """Started by `feeds serve` or `feeds run` (PARENT_ENV names it): stop gracefully when
    that process ends, however it ends, rather than serve on alone."""
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        from feeds.lifeline import when_ended

        when_ended(int(parent), lambda: os.kill(os.getpid(), signal.SIGTERM), "parent-watch")


_SECRET_HEADERS = ("{authorization}i", "{proxy-authorization}i")


class RedactingLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type information
    """gunicorn's logger, with keys redacted from every value an access log format can name
    (the request line, the query, the referrer; authorization headers wholly)."""

    def atoms(
        self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta
    ) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if name in _SECRET_HEADERS:
                atoms[name] = REDACTED if value != "-" else value
            elif isinstance(value, str):
                atoms[name] = redact(value)
        return atoms
