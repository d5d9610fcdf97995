"""One home for URL rules: joining, canonical forms, tracking parameters, publishable URLs.

Standard library only; used by parse, normalize, the sanitiser and the web app.

- ``canonical_url`` lower-cases scheme and host, drops the default port, makes an empty path
  "/", strips tracking parameters, an empty fragment and a fragment made only of tracking
  parameters (``#xtor=RSS-1``); a real anchor (``#section-2``) is kept because it may be the
  point.
- ``web_url`` keeps only http(s) URLs with a host (and a valid port, if any); anything else,
  including what ``urlsplit`` rejects (``http://[x/``), becomes "".
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from feeds.text import storable_text

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "twclid",
        "ttclid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "__twitter_impression",
        "xtor",
        "echobox",
    }
)
TRACKING_PREFIXES = ("utm_",)
WEB_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# "http:////host" and the like: the slashes after "scheme://" that feed parsers drop before
# joining (their scheme pattern also admits a comma).
_EXTRA_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+,.-]*://)(/*)(.*?)")


def join(base: str, ref: str) -> str:
    """``ref`` resolved against ``base``; ``ref`` as written when either URL cannot be split
    (``http://[x/``)."""
    try:
        return urljoin(base, ref)
    except ValueError:
        return ref


def join_id(base: str, ref: str) -> str:
    """How feed parsers resolve an id (an Atom id, an RSS permalink guid) against the
    document's URL: extra slashes after ``scheme://`` are dropped first, and a reference that
    cannot be joined becomes ""."""
    ref = _EXTRA_SLASHES.sub(r"\1\3", ref)
    try:
        return urljoin(base, ref)
    except ValueError:
        return ""


def public_url(url: str) -> str:
    """A source URL fit to publish: credentials in it (user:password@) are removed."""
    if "@" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def is_tracking(name: str) -> bool:
    """Whether a query parameter name is a known tracking parameter."""
    key = unquote(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _strip_params(query: str) -> str:
    """Drop tracking parameters, keeping every other one byte for byte and in order."""
    if not query:
        return query
    kept = [p for p in query.split("&") if p and not is_tracking(p.split("=", 1)[0])]
    return "&".join(kept)


def _noise_fragment(fragment: str) -> bool:
    if not fragment:
        return True
    parts = [p for p in fragment.split("&") if p]
    return bool(parts) and all("=" in p and is_tracking(p.split("=", 1)[0]) for p in parts)


def strip_tracking(url: str) -> str:
    """``url`` without tracking parameters (query and fragment); nothing else changes."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    query = _strip_params(parts.query)
    fragment = parts.fragment
    if fragment and _noise_fragment(fragment):
        fragment = ""
    if (query, fragment) == (parts.query, parts.fragment):
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, fragment))


def canonical_url(url: str, base: str | None = None) -> str:
    """An absolute, canonical form of ``url`` (resolved against ``base`` when relative); see
    the module docstring. "" for ""."""
    url = url.strip()
    if not url:
        return ""
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        netloc = parts.netloc
        if parts.hostname is not None:
            userinfo, _, hostport = netloc.rpartition("@")
            host, port = parts.hostname, parts.port
            if ":" in host:  # IPv6 literal
                host = f"[{host}]"
            hostport = (
                host
                if port is None or str(port) == _DEFAULT_PORTS.get(scheme)
                else (f"{host}:{port}")
            )
            netloc = f"{userinfo}@{hostport}" if userinfo else hostport
    except ValueError:  # an invalid port or IPv6 literal: leave the URL alone
        return url
    path = parts.path or ("/" if netloc and scheme in WEB_SCHEMES else "")
    fragment = "" if _noise_fragment(parts.fragment) else parts.fragment
    return urlunsplit((scheme, netloc, path, _strip_params(parts.query), fragment))


def web_url(url: str | None, base: str | None) -> str:
    """canonical_url, or "" unless the result is an http(s) URL with a host and a valid port."""
    if not url:
        return ""
    try:
        result = canonical_url(storable_text(url), base)
        parts = urlsplit(result)
        if parts.scheme not in WEB_SCHEMES or not parts.netloc:
            return ""
        if ":" in parts.netloc or "@" in parts.netloc:  # a port or userinfo: look closer
            if not parts.hostname:
                return ""
            parts.port  # noqa: B018  # raises ValueError when out of range or not a number
    except ValueError:
        return ""
    return result
