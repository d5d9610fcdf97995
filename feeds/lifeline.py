"""Processes that must not outlive the one that started them: a watch on a pid.

Nothing tells a child that its parent died (it is handed to init and carries on): parse
workers of an update, the web server of `feeds serve` and `feeds run`. Each watches its
starter (Linux: a pidfd, readable once the process has ended; elsewhere a poll) and acts.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable

from feeds.lease import pid_alive

POLL_SECONDS = 0.5  # where there is no pidfd


def when_ended(pid: int, action: Callable[[], None], name: str = "starter-watch") -> None:
    """Call ``action`` (in a daemon thread) once the process ``pid`` has ended."""
    threading.Thread(target=_watch, args=(pid, action), name=name, daemon=True).start()


def _watch(pid: int, action: Callable[[], None]) -> None:
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):
        while pid_alive(pid):
            time.sleep(POLL_SECONDS)
    else:
        select.select([handle], [], [])
        os.close(handle)
    action()
