"""Flask app factory. The web process only reads stored documents; it never renders feeds."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request

from feeds import i18n
from feeds.errors import ConfigError
from feeds.reload import ConfigWatcher
from feeds.store import DEFAULT_URL, Store
from feeds.web.cache import DocumentCache
from feeds.web.logs import log_to_stderr
from feeds.web.origin import OriginCheck


class WebState:
    """What the request handlers share: the store, the config and the document cache."""

    def __init__(self, store: Store, watcher: ConfigWatcher) -> None:
        self.store = store
        self.watcher = watcher
        self.cache = DocumentCache(store)
        self._next_config_check = 0.0

    def config_tick(self) -> None:
        """Re-read the config files at most every few seconds (feeds come and go)."""
        now = time.monotonic()
        if now >= self._next_config_check:
            self._next_config_check = now + 5.0
            self.watcher.poll()


def _proxies(raw: str) -> int:
    """FEEDS_TRUSTED_PROXIES: a whole number of proxies, 0 when unset."""
    if not raw.strip():
        return 0
    if not raw.strip().isdigit():
        raise ConfigError(
            [f"environment: FEEDS_TRUSTED_PROXIES: must be a whole number (0 or more), not {raw!r}"]
        )
    return int(raw)


def create_app(
    test_config: Mapping[str, Any] | None = None,
) -> Flask:
    """Build the app. Settings: FEEDS_CONFIG (directory), DATABASE_URL,
    MAX_AGE (Cache-Control max-age of feed documents, seconds), READERSHIP (count readers;
    env FEEDS_READERSHIP, default on), READERSHIP_FLUSH_SECONDS, TRUSTED_PROXIES (env
    FEEDS_TRUSTED_PROXIES: how many proxies' X-Forwarded-For entries to believe, default 0),
    API_MAX_BYTES (the API's request body limit, default 1 MB);
    see feeds/web/usage.py."""
    # its own lines (a config reloaded, a problem) where nothing else set up logging: in
    # gunicorn's workers; redacted, as werkzeug's request lines hold queries, errors URLs
    log_to_stderr(logging.INFO)
    app = Flask(__name__)
    app.config.from_mapping(
        FEEDS_CONFIG=os.environ.get("FEEDS_CONFIG", "config"),
        DATABASE_URL=os.environ.get("DATABASE_URL", DEFAULT_URL),
        MAX_AGE=300,
        READERSHIP=os.environ.get("FEEDS_READERSHIP", "1").lower() not in ("0", "false", "no"),
        READERSHIP_FLUSH_SECONDS=5.0,
        TRUSTED_PROXIES=_proxies(os.environ.get("FEEDS_TRUSTED_PROXIES", "")),
        API_MAX_BYTES=1_000_000,  # the largest request body the API takes (docs/api.md)
    )
    if test_config:
        app.config.from_mapping(test_config)
    config_dir = Path(app.config["FEEDS_CONFIG"])
    watcher = ConfigWatcher(config_dir, process="the web process")
    store = Store(app.config["DATABASE_URL"])
    web = WebState(store, watcher)
    app.extensions["feeds"] = web
    i18n.init_app(app, lambda: web.watcher.current.site.language)  # pages in the site's language
    origin = OriginCheck(int(app.config["TRUSTED_PROXIES"]), str(config_dir / "site.toml"))

    @app.before_request
    def _check_origin() -> None:  # is this server reached at base_url? (logged once)
        origin.check(web.watcher.current.site.base_url, request.path, request.environ)

    import feeds.web.api_overrides  # noqa: F401  (adds its routes to the API blueprint)
    from feeds.web import api, metrics, usage, views
    from feeds.web.opml import bp as opml_bp
    from feeds.web.status import bp as status_bp

    app.register_blueprint(views.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(opml_bp)
    app.register_blueprint(api.bp)
    usage.install(app)
    return app


def state(app: Flask) -> WebState:
    value = app.extensions["feeds"]
    assert isinstance(value, WebState)
    return value
