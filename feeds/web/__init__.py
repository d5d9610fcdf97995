"""Flask app factory. The web process only reads stored documents; it never renders feeds."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request

from feeds.errors import ConfigError
from feeds.reload import ConfigWatcher
from feeds.store import DEFAULT_URL, Store
from feeds.web.cache import DocumentCache
from feeds.web.logs import redact_every_log_record
from feeds.web.origin import OriginCheck


class WebState:
    """What the request handlers share: the store, the config and the document cache."""

    def __init__(self, store: Store, watcher: ConfigWatcher, cache_seconds: float) -> None:
        self.store = store
        self.watcher = watcher
        self.cache = DocumentCache(store, cache_seconds)
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
    test_config: Mapping[str, Any] | None = None, *, watcher: ConfigWatcher | None = None
) -> Flask:
    """Build the app. Settings: FEEDS_CONFIG (directory), DATABASE_URL, CACHE_SECONDS,
    MAX_AGE (Cache-Control max-age of feed documents, seconds), READERSHIP (count readers;
    env FEEDS_READERSHIP, default on), READERSHIP_FLUSH_SECONDS, TRUSTED_PROXIES (env
    FEEDS_TRUSTED_PROXIES: how many proxies' X-Forwarded-For entries to believe, default 0);
    see feeds/web/usage.py. ``watcher``: the process's config watcher when something else in
    it polls one too (``feeds run``); by default the app makes its own."""
    redact_every_log_record()  # werkzeug's request lines hold queries; errors hold URLs
    app = Flask(__name__)
    app.config.from_mapping(
        FEEDS_CONFIG=os.environ.get("FEEDS_CONFIG", "config"),
        DATABASE_URL=os.environ.get("DATABASE_URL", DEFAULT_URL),
        CACHE_SECONDS=2.0,
        MAX_AGE=300,
        READERSHIP=os.environ.get("FEEDS_READERSHIP", "1").lower() not in ("0", "false", "no"),
        READERSHIP_FLUSH_SECONDS=5.0,
        TRUSTED_PROXIES=_proxies(os.environ.get("FEEDS_TRUSTED_PROXIES", "")),
    )
    if test_config:
        app.config.from_mapping(test_config)
    config_dir = Path(app.config["FEEDS_CONFIG"])
    watcher = watcher or ConfigWatcher(config_dir, process="the web process")
    store = Store(app.config["DATABASE_URL"])
    web = WebState(store, watcher, float(app.config["CACHE_SECONDS"]))
    app.extensions["feeds"] = web
    origin = OriginCheck(int(app.config["TRUSTED_PROXIES"]), str(config_dir / "site.toml"))

    @app.before_request
    def _check_origin() -> None:  # is this server reached at base_url? (logged once)
        origin.check(web.watcher.current.site.base_url, request.path, request.environ)

    from feeds.web import metrics, usage, views
    from feeds.web.opml import bp as opml_bp
    from feeds.web.status import bp as status_bp

    app.register_blueprint(views.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(status_bp)
    app.register_blueprint(opml_bp)
    usage.install(app)
    return app


def serve(app: Flask, host: str, port: int, sock: socket.socket | None = None) -> None:
    """Serve ``app`` with werkzeug's development server, a thread per request (``feeds
    serve`` and ``feeds run``; production uses gunicorn, see the Procfile). ``sock``: a
    socket already listening on ``host``:``port`` (bound before any other work, so that a
    busy port fails at once)."""
    from werkzeug.serving import make_server, run_simple

    if sock is None:
        run_simple(host, port, app, threaded=True)
        return
    server = make_server(host, port, app, threaded=True, fd=sock.fileno())
    server.log_startup()
    server.serve_forever()


def state(app: Flask) -> WebState:
    value = app.extensions["feeds"]
    assert isinstance(value, WebState)
    return value
