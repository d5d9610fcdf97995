"""``site.toml`` and its ``[fetch]`` table → :class:`~feeds.types.Site`.

Two environment variables override the file: ``FEEDS_BASE_URL`` replaces ``base_url`` (the file's
value is still checked when present), and a true ``FEEDS_ALLOW_PRIVATE_ADDRESSES`` turns on
``fetch.allow_private_addresses`` whatever the file says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from feeds import __version__
from feeds.config.table import Problems, Table
from feeds.config.values import LANGUAGE_RE, is_http_url, parse_duration, type_name
from feeds.types import FetchSettings, Site

SITE_FILE = "site.toml"

# Accepted keys, per table. docs/config.md documents each of them.
SITE_KEYS = frozenset(
    {
        "title",
        "link",
        "base_url",
        "description",
        "language",
        "articles",
        "copyright",
        "articles_interval",
        "articles_max_bytes",
        "hub",
        "icon",
        "logo",
        "archive_page_size",
        "fetch",
        "webhook",
    }
)
FETCH_KEYS = frozenset(
    {
        "user_agent",
        "deadline",
        "max_bytes",
        "concurrency",
        "max_redirects",
        "allow_private_addresses",
        "allow_addresses",
        "per_host",
        "host_spacing",
    }
)
BASE_URL_ENV = "FEEDS_BASE_URL"
ALLOW_PRIVATE_ENV = "FEEDS_ALLOW_PRIVATE_ADDRESSES"
ENV_OVERRIDES = frozenset({BASE_URL_ENV, ALLOW_PRIVATE_ENV})

DEFAULT_ARTICLES_INTERVAL = "30s"
MAX_ARTICLES_MAX_BYTES = 100_000_000  # an article is read whole into memory: a sane ceiling
_TRUE_WORDS = frozenset({"1", "true", "yes"})
_FALSE_WORDS = frozenset({"", "0", "false", "no"})
_ENVIRONMENT = "environment"  # the "file" of problems with environment variables


def load_site(
    data: Mapping[str, Any] | None,
    config_dir: Path,
    environ: Mapping[str, str],
    problems: Problems,
) -> Site | None:
    """The site settings, or None when ``data`` is None (unreadable file) or has problems.

    The environment is checked even when the file could not be read. A relative ``articles``
    directory is resolved against ``config_dir`` and must exist.
    """
    env_base_url = environ.get(BASE_URL_ENV, "").strip()
    if env_base_url and not is_http_url(env_base_url):
        problems.add(_ENVIRONMENT, BASE_URL_ENV, f"not an absolute http(s) URL: {env_base_url!r}")
        env_base_url = ""
    private_env = environ.get(ALLOW_PRIVATE_ENV, "").strip().lower()
    force_private = private_env in _TRUE_WORDS
    if private_env not in _TRUE_WORDS | _FALSE_WORDS:
        problems.add(
            _ENVIRONMENT,
            ALLOW_PRIVATE_ENV,
            f"expected 1, true, yes, 0, false or no: {private_env!r}",
        )
    if data is None:
        return None

    before = len(problems)
    site = Table(data, SITE_FILE, "", problems)
    site.check_keys(SITE_KEYS)
    title = site.string("title", required=True)
    link = site.url("link")
    if env_base_url:
        base_url: str | None = env_base_url
        if site.has("base_url"):
            site.url("base_url")  # still validate what the file says
    else:
        base_url = site.url("base_url")
    description = site.string("description", required=True)
    language = site.string("language", required=True)
    if language is not None and not LANGUAGE_RE.match(language):
        site.problem("language", f"not a language tag such as 'en' or 'ar-LB': {language!r}")
        language = None
    copyright_ = site.string("copyright", default="")
    articles_interval = site.duration(
        "articles_interval", parse_duration(DEFAULT_ARTICLES_INTERVAL)
    )
    articles_max_bytes = site.integer(
        "articles_max_bytes",
        Site.articles_max_bytes,
        minimum=1000,
        maximum=MAX_ARTICLES_MAX_BYTES,
    )

    articles_dir: Path | None = None
    articles = site.string("articles", required=True)
    if articles is not None:
        articles_dir = (config_dir / Path(articles).expanduser()).resolve()
        if not articles_dir.is_dir():
            site.problem("articles", f"directory not found: {articles_dir}")
            articles_dir = None

    hub = site.url("hub", required=False)
    icon = site.url("icon", required=False)
    logo = site.url("logo", required=False)
    archive_page_size = site.integer(
        "archive_page_size", Site.archive_page_size, minimum=10, maximum=1000
    )

    fetch = _load_fetch(data.get("fetch", {}), base_url, force_private, problems)

    if len(problems) > before:
        return None
    assert title is not None and link is not None and base_url is not None
    assert description is not None and language is not None and copyright_ is not None
    assert articles_dir is not None and articles_interval is not None and fetch is not None
    assert hub is not None and icon is not None and logo is not None
    assert archive_page_size is not None and articles_max_bytes is not None
    return Site(
        title=title,
        link=link,
        base_url=base_url.rstrip("/"),
        description=description,
        language=language,
        articles_dir=articles_dir,
        fetch=fetch,
        copyright=copyright_,
        articles_interval=articles_interval,
        articles_max_bytes=articles_max_bytes,
        hub=hub,
        icon=icon,
        logo=logo,
        archive_page_size=archive_page_size,
    )


def _load_fetch(
    data: object, base_url: str | None, force_private: bool, problems: Problems
) -> FetchSettings | None:
    """The ``[fetch]`` table; the default user agent names the version and the site."""
    if not isinstance(data, dict):
        problems.add(SITE_FILE, "fetch", f"must be a table, not {type_name(data)}")
        return None
    before = len(problems)
    defaults = FetchSettings()
    fetch = Table(data, SITE_FILE, "fetch", problems)
    fetch.check_keys(FETCH_KEYS)
    default_agent = f"feeds/{__version__} (+{(base_url or '').rstrip('/')})"
    user_agent = fetch.string("user_agent", default=default_agent)
    if user_agent is not None and not user_agent.strip():
        fetch.problem("user_agent", "must not be empty")
    deadline = fetch.positive_number("deadline", defaults.deadline)
    max_bytes = fetch.integer("max_bytes", defaults.max_bytes, minimum=1)
    concurrency = fetch.integer("concurrency", defaults.concurrency, minimum=1, maximum=256)
    max_redirects = fetch.integer("max_redirects", defaults.max_redirects, minimum=0, maximum=30)
    allow_private = fetch.boolean("allow_private_addresses", defaults.allow_private_addresses)
    allow_addresses = fetch.strings("allow_addresses", what="IP addresses or networks") or ()
    for address in allow_addresses:
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            fetch.problem("allow_addresses", f"not an IP address or network: {address[:60]!r}")
    per_host = fetch.integer("per_host", defaults.per_host, minimum=1, maximum=64)
    host_spacing = fetch.positive_number("host_spacing", defaults.host_spacing, zero=True)
    if len(problems) > before:
        return None
    assert per_host is not None and host_spacing is not None
    assert user_agent is not None and deadline is not None and max_bytes is not None
    assert concurrency is not None and max_redirects is not None and allow_private is not None
    return FetchSettings(
        user_agent=user_agent.strip(),
        deadline=deadline,
        max_bytes=max_bytes,
        concurrency=concurrency,
        max_redirects=max_redirects,
        allow_private_addresses=allow_private or force_private,
        allow_addresses=tuple(allow_addresses),
        per_host=per_host,
        host_spacing=host_spacing,
    )
