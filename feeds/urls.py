"""One home for URL rules: joining, canonical forms, tracking parameters, publishable URLs.

Standard library only; used by parse, normalize, the sanitiser, render and the web app.

- ``canonical_url`` lower-cases scheme and host, drops the default port, makes an empty path
  "/", strips tracking parameters, an empty fragment and a fragment made only of tracking
  parameters (``#xtor=RSS-1``); a real anchor (``#section-2``) is kept because it may be the
  point.
- ``web_url`` keeps only http(s) URLs with a host (and a valid port, if any); anything else,
  including what ``urlsplit`` rejects (``http://[x/``), becomes "".
- ``uri`` is how a URL is published: a valid RFC 3986 URI, every character a URI may not hold
  (non-ASCII, white space, ``^``, ``[`` outside an IPv6 host, ...) percent-encoded as UTF-8,
  nothing else changed. Render applies it to every URL it writes, so stored URLs stay as they
  came and the same URL is published the same way in every format.
"""

from __future__ import annotations

import ipaddress
import posixpath
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
# Query parameters whose values are secrets: never shown (public_url drops them).
SECRET_PARAMS = frozenset(
    {
        "key",
        "token",
        "api_key",
        "apikey",
        "access_token",
        "auth",
        "sig",
        "signature",
        "password",
        "secret",
    }
)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'<>]+")
WEB_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# "http:////host" and the like: the slashes after "scheme://" that feed parsers drop before
# joining (their scheme pattern also admits a comma).
_EXTRA_SLASHES = re.compile(r"^([A-Za-z][A-Za-z0-9+,.-]*://)(/*)(.*?)")


# The image types a file name tells (an article's lead image, an image published as an
# enclosure): the common web formats only.
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
}


def image_type(url: str) -> str:
    """The MIME type the file name of an image's URL says (``.jpg``: ``image/jpeg``), or ""."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return ""
    return IMAGE_TYPES.get(posixpath.splitext(path)[1].lower(), "")


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
    """A source URL fit to show anyone: without credentials (``user:password@``) and without
    the query parameters that look like secrets (SECRET_PARAMS, any case); everything else
    byte for byte. The one function every document, page, JSON answer, log line and error
    text goes through before it shows a source URL."""
    has_user = "@" in url
    has_query = "?" in url
    if not has_user and not has_query:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].rsplit("@", 1)[-1] if has_user else url.split("?", 1)[0]
    netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    query = parts.query
    if query:
        query = "&".join(
            p for p in query.split("&") if unquote(p.split("=", 1)[0]).lower() not in SECRET_PARAMS
        )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_urls(text: str) -> str:
    """``text`` (an error message, a log line) with every URL in it made ``public_url``."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda m: public_url(m.group()), text)


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


# --------------------------------------------------------------------------- published URIs

# What RFC 3986 allows in a URI as it is: unreserved, sub-delims and the gen-delims but "#",
# "[" and "]", which ``uri`` places itself; "%" only as the start of a %XX escape.
_URI_CHAR = r"A-Za-z0-9\-._~!$&'()*+,;=:@/?"
_PCT = r"%[0-9A-Fa-f]{2}"
_PLAIN_URI = re.compile(rf"(?:[{_URI_CHAR}]|{_PCT})*(?:#(?:[{_URI_CHAR}]|{_PCT})*)?")
# What an IRI (RFC 3987) also allows: ucschar (U+00A0 and up, bar surrogates, private use and
# the noncharacters at the end of each plane).
_UCSCHAR = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef" + "".join(
    f"{chr(plane << 16)}-{chr((plane << 16) | 0xFFFD)}" for plane in range(1, 15)
)
_NOT_URI = re.compile(rf"%(?![0-9A-Fa-f]{{2}})|[^{_URI_CHAR}%]")
_NOT_IRI = re.compile(rf"%(?![0-9A-Fa-f]{{2}})|[^{_URI_CHAR}%{_UCSCHAR}]")
_AUTHORITY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)")
_IP_LITERAL = re.compile(r"([^\[\]@]*@)?\[([^\[\]]*)\](.*)")
_IP_FUTURE = re.compile(r"v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+")


def uri(url: str, *, iri: bool = False) -> str:
    """``url`` as a valid RFC 3986 URI: every character a URI may not hold percent-encoded
    (its UTF-8 bytes, ``%XX`` in capitals), so non-ASCII characters (an IRI's), white space,
    ``"<>\\^`{|}``, a "%" that starts no ``%XX``, a second "#" and "[" or "]" anywhere but
    around an IPv6 (or IPvFuture) host. Everything else is kept as it is: existing ``%XX``
    escapes, the case of scheme and host, the order of the parts.

    ``iri=True``: a valid RFC 3987 IRI instead, keeping the non-ASCII characters IRIs allow
    (for published ids, which must stay what they were). Idempotent; "" for "".
    """
    if _PLAIN_URI.fullmatch(url):  # the common case, decided by one match
        return url
    bad = _NOT_IRI if iri else _NOT_URI
    head, rest = "", url
    found = _AUTHORITY.match(url)
    if found:
        head = (found.group(1) or "") + "//" + _authority(found.group(2), bad)
        rest = url[found.end() :]
    before, mark, fragment = rest.partition("#")
    return head + _escape(before, bad) + mark + _escape(fragment, bad)


def _authority(authority: str, bad: re.Pattern[str]) -> str:
    literal = _IP_LITERAL.fullmatch(authority)
    if literal is not None and _is_ip_literal(literal.group(2)):
        userinfo, host, port = literal.group(1) or "", literal.group(2), literal.group(3)
        return f"{_escape(userinfo, bad)}[{host}]{_escape(port, bad)}"
    userinfo, at, hostport = authority.rpartition("@")
    host, colon, port = hostport.partition(":")
    if bad is _NOT_URI and not host.isascii():
        host = _idna(host)
    return _escape(userinfo + at, bad) + _escape(host, bad) + colon + _escape(port, bad)


def host_name(host: str) -> str:
    """A host as people read it: percent-escapes and punycode (``xn--``) decoded."""
    host = unquote(host)
    try:
        return host.encode("ascii").decode("idna") if "xn--" in host.lower() else host
    except UnicodeError:
        return host


def _idna(host: str) -> str:
    """An internationalised host name in its ASCII (punycode) form, which every client
    resolves; the host as it is (to be percent-encoded) when it has none."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _is_ip_literal(host: str) -> bool:
    if _IP_FUTURE.fullmatch(host):
        return True
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        return False
    return True


def _escape(text: str, bad: re.Pattern[str]) -> str:
    return bad.sub(_percent, text) if text else text


def _percent(found: re.Match[str]) -> str:
    return "".join(f"%{byte:02X}" for byte in found.group().encode("utf-8", "surrogatepass"))


KEY_PARAMETER = "key"  # the query parameter a partner's key may come in (``?key=KEY``)
REDACTED = "REDACTED"
_KEY_IN_QUERY = re.compile(rf"((?:^|[?&;]){KEY_PARAMETER}=)[^&;\s\"]*", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the value of every ``key=`` query parameter replaced, and every full URL
    in it made public (for log lines)."""
    if "=" not in text and "@" not in text:
        return text
    return redact_urls(_KEY_IN_QUERY.sub(rf"\g<1>{REDACTED}", text))
