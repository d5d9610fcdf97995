"""Logs that never hold a partner's key or a source's secrets.

A key may come in the query string (``?key=KEY``), and the server that runs the app logs
request lines with their query: gunicorn's access log, whose logger class redacts every
value (feeds.webserver.RedactingLogger). ``RedactKeys`` is a logging filter doing the same
to a record. ``redact_every_log_record`` applies it to every record the process makes,
whoever logs it; it also makes every URL in a message public (feeds.urls.public_url: no
credentials, no secret-looking query parameters), so that an error text naming a source URL
cannot leak its password or token into a log.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from feeds.urls import redact


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
