"""Logs that never hold a partner's key or a source's secrets.

A key may come in the query string (``?key=KEY``), and the server that runs the app logs
request lines with their query: gunicorn's access log (feeds/web/server.py, for the Procfile,
``feeds serve`` and ``feeds run``). ``RedactingLogger`` is gunicorn's logger class with every
logged value redacted (the settings' ``logger_class``);
``RedactKeys`` is a logging filter doing the same to a record. ``redact_every_log_record``
applies it to every record the process makes, whoever logs it; it also makes every URL in a
message public (feeds.urls.public_url: no credentials, no secret-looking query parameters),
so that an error text naming a source URL cannot leak its password or token into a log.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

from feeds.urls import redact_urls
from feeds.web.auth import KEY_PARAMETER

REDACTED = "REDACTED"
_KEY_IN_QUERY = re.compile(rf"((?:^|[?&;]){KEY_PARAMETER}=)[^&;\s\"]*", re.IGNORECASE)
_SECRET_HEADERS = ("{authorization}i", "{proxy-authorization}i")


def redact(text: str) -> str:
    """``text`` with the value of every ``key=`` query parameter replaced, and every full URL
    in it made public."""
    if "=" not in text and "@" not in text:
        return text
    return redact_urls(_KEY_IN_QUERY.sub(rf"\g<1>{REDACTED}", text))


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


class RedactKeys(logging.Filter):
    """Redacts keys from the arguments (and message) of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)


_factory_lock = threading.Lock()
_redacting = False


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("httpx", "httpcore", "alembic", "apscheduler.executors", "apscheduler.scheduler")


def log_to_stderr(level: int) -> None:
    """This process's log lines to stderr, redacted, unless logging was set up already (by
    the CLI, or a test runner): the CLI's commands and the web server's workers."""
    logging.basicConfig(level=level, format=FORMAT)
    redact_every_log_record()
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def redact_every_log_record() -> None:
    """From now on, every log record of this process is redacted as it is made (idempotent)."""
    global _redacting
    with _factory_lock:
        if _redacting:
            return
        make = logging.getLogRecordFactory()

        def redacted(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(redacted)
        _redacting = True
