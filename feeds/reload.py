"""Keep the last good configuration while editors change the files under it."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from feeds.config import config_fingerprint, load_config
from feeds.errors import ConfigError
from feeds.types import Config

log = logging.getLogger(__name__)


class ConfigWatcher:
    """Loads the config directory, and again whenever its files change.

    An invalid new config is logged (every problem) and the last good one stays current.
    The first load raises ConfigError: there is nothing good to keep yet.
    """

    def __init__(self, config_dir: Path) -> None:
        self.config_dir = config_dir
        self._lock = threading.Lock()
        self._fingerprint = config_fingerprint(config_dir)
        self._current = load_config(config_dir)
        self.last_problems: tuple[str, ...] = ()

    @property
    def current(self) -> Config:
        return self._current

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
                    log.error("config not reloaded: %s", problem)
                return None
            self.last_problems = ()
            self._current = config
            log.info("config reloaded from %s", self.config_dir)
            return config
