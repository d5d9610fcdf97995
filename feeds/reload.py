"""Keep the last good configuration while editors change the files under it."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from feeds.config import config_fingerprint, load_config
from feeds.errors import ConfigError
from feeds.types import Config

log = logging.getLogger(__name__)


def _count(n: int, word: str) -> str:
    return f"{n} {word if n == 1 else word + 's'}"


class ConfigWatcher:
    """Loads the config directory, and again whenever its files change.

    ``process`` names who applies the config in log lines ("the clock", "the web
    process"): each change is logged once by each watcher, so a process keeps one watcher
    that every part of it polls (``feeds run`` shares one between its web server and its
    clock). A valid change: one INFO line, ``config reloaded by the clock (pid 1234): 9
    sources, 4 feeds``. An invalid one: one ERROR line per problem (``file: key: problem``),
    logged once for that change, and the last good config stays current. The first load
    raises ConfigError: there is nothing good to keep yet.
    """

    def __init__(self, config_dir: Path, *, process: str = "this process") -> None:
        self.config_dir = config_dir
        self.process = process
        self._lock = threading.Lock()
        self._fingerprint = config_fingerprint(config_dir)
        self._current = load_config(config_dir)
        self.last_problems: tuple[str, ...] = ()

    @property
    def current(self) -> Config:
        return self._current

    def who(self) -> str:
        """``the clock (pid 1234)``: the process, as log lines name it."""
        return f"{self.process} (pid {os.getpid()})"

    def poll(self) -> Config | None:
        """Return the new config if the files changed and are valid, else None."""
        with self._lock:
            fingerprint = config_fingerprint(self.config_dir)
            if fingerprint == self._fingerprint:
                return None
            self._fingerprint = fingerprint
            try:
                config = load_config(self.config_dir)
            except ConfigError as e:
                self.last_problems = tuple(e.problems)
                for problem in e.problems:
                    log.error("config not reloaded by %s: %s", self.who(), problem)
                log.warning(
                    "%s keeps the last good config: %s, %s (fix %s and save again)",
                    self.who(),
                    _count(len(self._current.sources), "source"),
                    _count(len(self._current.feeds), "feed"),
                    "the problem" if len(e.problems) == 1 else "the problems",
                )
                return None
            self.last_problems = ()
            self._current = config
            log.info(
                "config reloaded by %s: %s, %s",
                self.who(),
                _count(len(config.sources), "source"),
                _count(len(config.feeds), "feed"),
            )
            return config
