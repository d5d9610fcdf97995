"""Load and validate ``config/*.toml`` into :class:`~feeds.types.Config`.

Every problem is collected and reported at once, one ``FILE: key path: problem`` line each,
through :class:`~feeds.errors.ConfigError`. One module per job:

- :mod:`~feeds.config.values`: checks of single values (durations, URLs, slugs, language tags);
- :mod:`~feeds.config.table`: reading a file and typed, validated access to its tables;
- :mod:`~feeds.config.site`, :mod:`~feeds.config.sources`, :mod:`~feeds.config.feeds`,
  :mod:`~feeds.config.access`: one loader per file, each with the keys it accepts;
  :mod:`~feeds.config.webhooks`: site.toml's ``[[webhook]]`` tables.

The accepted keys and environment variables are re-exported here (``SITE_KEYS``,
``FETCH_KEYS``, ``WEBHOOK_KEYS``, ``SOURCE_KEYS``, ``FEED_KEYS``, ``PARTNER_KEYS``, ``CLIENT_KEYS``,
``ENV_OVERRIDES``);
``docs/config.md`` documents exactly these (a test keeps them in step).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from feeds.config.access import (
    ACCESS_FILE,
    ACCESS_TOP_KEYS,
    CLIENT_KEYS,
    PARTNER_KEYS,
    load_access,
    load_clients,
)
from feeds.config.feeds import FEED_KEYS, FEEDS_FILE, FEEDS_TOP_KEYS, LIMIT_RANGE, load_feeds
from feeds.config.site import (
    DEFAULT_ARTICLES_INTERVAL,
    ENV_OVERRIDES,
    FETCH_KEYS,
    SITE_FILE,
    SITE_KEYS,
    load_site,
)
from feeds.config.sources import (
    MIN_SOURCE_INTERVAL,
    SOURCE_KEYS,
    SOURCES_FILE,
    SOURCES_TOP_KEYS,
    load_sources,
)
from feeds.config.table import Problems, read_toml
from feeds.config.values import LANGUAGE_RE, SLUG_RE, is_http_url, is_slug, parse_duration
from feeds.config.webhooks import WEBHOOK_KEYS, load_webhooks, webhook_data
from feeds.errors import ConfigError
from feeds.types import Config

__all__ = [
    "ACCESS_FILE",
    "ACCESS_TOP_KEYS",
    "CLIENT_KEYS",
    "CONFIG_FILES",
    "DEFAULT_ARTICLES_INTERVAL",
    "ENV_OVERRIDES",
    "FEEDS_FILE",
    "FEEDS_TOP_KEYS",
    "FEED_KEYS",
    "FETCH_KEYS",
    "LANGUAGE_RE",
    "LIMIT_RANGE",
    "MIN_SOURCE_INTERVAL",
    "PARTNER_KEYS",
    "SITE_FILE",
    "SITE_KEYS",
    "SLUG_RE",
    "SOURCES_FILE",
    "SOURCES_TOP_KEYS",
    "SOURCE_KEYS",
    "WEBHOOK_KEYS",
    "config_fingerprint",
    "is_http_url",
    "is_slug",
    "load_config",
    "parse_duration",
]

CONFIG_FILES = (SITE_FILE, SOURCES_FILE, FEEDS_FILE, ACCESS_FILE)  # access.toml: optional


def load_config(config_dir: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Load site.toml, sources.toml, feeds.toml and (if present) access.toml from
    ``config_dir``.

    ``environ`` defaults to :data:`os.environ` (for ``FEEDS_BASE_URL`` and
    ``FEEDS_ALLOW_PRIVATE_ADDRESSES``). Raises :class:`ConfigError` listing every problem
    found, one ``FILE: key path: problem`` line each: first those reading the files, then
    those of the environment and site.toml, sources.toml, feeds.toml and access.toml, in that
    order.
    """
    env = os.environ if environ is None else environ
    problems = Problems()
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise ConfigError([f"{config_dir}: directory not found"])
    site_data = read_toml(config_dir, SITE_FILE, problems)
    sources_data = read_toml(config_dir, SOURCES_FILE, problems)
    feeds_data = read_toml(config_dir, FEEDS_FILE, problems)
    access_data = (
        read_toml(config_dir, ACCESS_FILE, problems)
        if (config_dir / ACCESS_FILE).exists()
        else None
    )

    feed_names = None if feeds_data is None else _feed_names(feeds_data)
    site = load_site(site_data, config_dir, env, problems)
    webhooks = load_webhooks(webhook_data(site_data), SITE_FILE, env, feed_names, problems)
    sources, known = load_sources(sources_data, problems)
    feeds = load_feeds(feeds_data, known, problems)
    partners = load_access(access_data, feed_names, problems)
    clients = load_clients(access_data, partners, problems)

    if problems.lines or site is None:
        raise ConfigError(problems.lines)
    site = replace(site, webhooks=webhooks)
    return Config(
        site=site,
        sources=tuple(sources),
        feeds=tuple(feeds),
        partners=tuple(partners),
        clients=tuple(clients),
    )


def _feed_names(feeds_data: Mapping[str, Any]) -> set[str]:
    """Every feed name written in feeds.toml, valid or not (so that access.toml is checked
    against what the editor wrote rather than drowned in follow-up errors)."""
    tables = feeds_data.get("feed")
    if not isinstance(tables, list):
        return set()
    return {t["name"] for t in tables if isinstance(t, dict) and isinstance(t.get("name"), str)}


def config_fingerprint(config_dir: Path) -> str:
    """A cheap fingerprint of the three config files (name, mtime_ns, size) to spot changes."""
    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        try:
            stat = (config_dir / name).stat()
        except OSError:
            digest.update(f"{name}\0missing\n".encode())
        else:
            digest.update(f"{name}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()
