"""Is this server reached at ``base_url``? A warning when it is not.

Every self link in the published documents and on the pages (a feed's ``self`` link, its
archive pages, the hub's topics, ``/``'s autodiscovery) is built from ``base_url``
(``site.toml``, or env ``FEEDS_BASE_URL``): the public address of the service. A copied
config that still says ``http://127.0.0.1:8000`` while the service runs elsewhere publishes
links that lead nowhere, so two checks warn:

- ``feeds serve`` and ``feeds run``, as they start: :func:`listening_mismatch` compares
  ``base_url`` with the address they listen on;
- the web process, on the first request whose address (``Host``, and the scheme; with
  ``TRUSTED_PROXIES`` = N > 0 the proxies' ``X-Forwarded-Host`` and ``X-Forwarded-Proto``)
  differs from ``base_url``: :class:`OriginCheck` logs it once per process (again only if
  ``base_url`` changes). Health checks and metrics scrapes (``/healthz``, ``/metrics``) are
  not looked at: probes reach a server by its private address.

Both are warnings: a proxy may legitimately serve ``base_url`` from another address, and self
links keep using ``base_url`` whatever the requests say.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

BASE_URL_ENV = "FEEDS_BASE_URL"
UNCHECKED_PATHS = frozenset({"/healthz", "/metrics"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{host}{port}"


def parse_origin(url: str) -> Origin | None:
    """The scheme, host and port of an absolute http(s) URL (None if it is not one)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme])


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same_host(a: str, b: str) -> bool:
    """The same host name, or both this machine's loopback (``localhost``, ``127.0.0.1``)."""
    return a == b or (is_loopback(a) and is_loopback(b))


def base_url_setting(where: str) -> str:
    """How the warning names the setting: the environment variable when it is set."""
    if os.environ.get(BASE_URL_ENV, "").strip():
        return f"env {BASE_URL_ENV}"
    return f"base_url in {where}"


def listening_mismatch(base_url: str, host: str, port: int, where: str) -> str | None:
    """A warning when ``base_url`` is not the address a server listening on ``host``:
    ``port`` (plain HTTP) is reached at; ``where`` is the site.toml path. A wildcard host
    (``0.0.0.0``) is reached under any name, so only the scheme and port count then."""
    base = parse_origin(base_url)
    if base is None:
        return None
    served = Origin("http", host.strip("[]").lower(), port)
    wildcard = served.host in WILDCARD_HOSTS
    if (
        base.scheme == served.scheme
        and base.port == served.port
        and (wildcard or same_host(base.host, served.host))
    ):
        return None
    wanted = served._replace(host=base.host) if wildcard else served
    setting = base_url_setting(where)
    advice = f"set {setting} to {wanted}"
    if base.scheme == "http" and (wildcard or same_host(base.host, served.host)):
        advice += f", or serve with --port {base.port}"
    return (
        f"base_url is {base_url} but this server listens on {served}: the self links in "
        f"the feeds and pages point at {base_url}. If that is wrong, {advice}. This is only "
        f"a warning: ignore it if a proxy serves {base_url} from this address."
    )


def _forwarded(environ: Mapping[str, Any], header: str, trusted_proxies: int) -> str | None:
    """The value of a proxy's X-Forwarded-* header that ``trusted_proxies`` allow us to
    believe: the one N places from the end, as for X-Forwarded-For."""
    if trusted_proxies <= 0:
        return None
    raw = environ.get(header)
    if not raw:
        return None
    hops = [hop.strip() for hop in str(raw).split(",")]
    return (hops[-trusted_proxies] or None) if len(hops) >= trusted_proxies else None


def request_origin(environ: Mapping[str, Any], trusted_proxies: int) -> Origin | None:
    """The scheme, host and port a request was sent to."""
    scheme = _forwarded(environ, "HTTP_X_FORWARDED_PROTO", trusted_proxies) or str(
        environ.get("wsgi.url_scheme", "http")
    )
    host = _forwarded(environ, "HTTP_X_FORWARDED_HOST", trusted_proxies) or str(
        environ.get("HTTP_HOST") or ""
    )
    if not host:
        return None
    return parse_origin(f"{scheme.lower()}://{host}/")


def request_mismatch(
    base_url: str, environ: Mapping[str, Any], trusted_proxies: int, where: str
) -> str | None:
    """A warning when a request was sent to another address than ``base_url``."""
    base = parse_origin(base_url)
    seen = request_origin(environ, trusted_proxies)
    if base is None or seen is None:
        return None
    if base.scheme == seen.scheme and base.port == seen.port and same_host(base.host, seen.host):
        return None
    proxies = (
        f"{trusted_proxies} trusted (FEEDS_TRUSTED_PROXIES)"
        if trusted_proxies
        else "none trusted: set FEEDS_TRUSTED_PROXIES to believe their X-Forwarded-Host and "
        "X-Forwarded-Proto"
    )
    return (
        f"a request came to {seen} but base_url is {base_url}: the self links in the feeds "
        f"and pages point at {base_url}, whatever the request. If that is wrong, set "
        f"{base_url_setting(where)} to the service's public address. This is only a "
        f"warning, logged once per process: a proxy may legitimately serve {base_url} from "
        f"another address (proxies: {proxies})."
    )


class OriginCheck:
    """Warns (once per process and ``base_url``) about the first request sent to another
    address than ``base_url``."""

    def __init__(self, trusted_proxies: int, where: str) -> None:
        self.trusted_proxies = trusted_proxies
        self.where = where
        self._lock = threading.Lock()
        self._warned: str | None = None  # the base_url warned about

    def check(self, base_url: str, path: str, environ: Mapping[str, Any]) -> None:
        if base_url == self._warned or path in UNCHECKED_PATHS:
            return
        warning = request_mismatch(base_url, environ, self.trusted_proxies, self.where)
        if warning is None:
            return
        with self._lock:
            if base_url == self._warned:
                return
            self._warned = base_url
        log.warning("%s", warning)
