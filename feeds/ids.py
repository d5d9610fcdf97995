"""One home for identifiers: upstream entry ids, the ids items are published under, ETags.

An item keeps one id in every format and for ever (readers de-duplicate by it), so these rules
never change: the date in the ``tag:`` URIs minted here is fixed, not today's. Standard library
only.

- An upstream id is kept when it is a sane string (``stable_id``): at most ``MAX_ID_BYTES``
  bytes of UTF-8, no control characters or lone surrogates, one ``urlsplit`` accepts with a
  valid port when it has a host. Anything else becomes ``sha256:`` and its hash, so one odd
  upstream id can never break storage or merging.
- An entry's item (``item_id``) keeps its upstream id when that is globally unique by itself
  (an http(s) URL with a host, a ``urn:`` or a ``tag:`` URI; readers who also subscribe to the
  upstream then see one story), else gets ``tag:HOST,2026:SOURCE/ID`` (the outlet's host, the
  source id and the upstream id). A local article's item id is its link. Items are de-duplicated
  and recorded in archives by this id.
- Every id is published as an absolute IRI, which Atom requires (``iri``, applied by render):
  an id that is not one (a UUID, a global id holding white space) becomes ``urn:uuid:`` for a
  UUID, else ``tag:HOST,2026:item/ID``. So the published id of an item is
  ``iri(site, item.id)``, the same in every format.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid
from urllib.parse import quote, unquote, urlsplit

from feeds.types import Site

TAG_DATE = "2026"  # the date of every tag: URI minted here; never changes
MAX_ID_BYTES = 500  # a tag: URI made from an id still fits the 2000-character column

# Never in an id: control characters (C0, DEL, C1), lone surrogates, U+FFFE/U+FFFF.
_ID_INVALID = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# An absolute IRI: a scheme, a colon, something after it, and no white space.
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
# An http(s) URL with a host: what urlsplit() would find, found faster (the common case).
_WEB_ID = re.compile(r"https?://[^/?#]", re.IGNORECASE)


def sha256_hex(*parts: str) -> str:
    """The sha256 (hex) of ``parts`` joined by U+001F; any string hashes, surrogates too."""
    # surrogatepass: the same bytes as "utf-8" for every valid string, and no error otherwise
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def hashed_id(*parts: str) -> str:
    """The id of something identified by what it says rather than by a name of its own."""
    return "sha256:" + sha256_hex(*parts)


def is_sane_id(value: str, *, split_checked: bool = False) -> bool:
    """Whether ``value`` can be stored and merged as an id as it is (see the module docstring).

    ``split_checked``: ``value`` is known to split, with a valid port (a checked web URL).
    """
    if len(value) > MAX_ID_BYTES or _ID_INVALID.search(value):
        return False
    if not value.isascii() and len(value.encode("utf-8")) > MAX_ID_BYTES:
        return False
    # Without "//" there is no netloc, so urlsplit has nothing to reject (tab/CR/LF, which it
    # deletes first, are already refused above).
    if split_checked or "//" not in value:
        return True
    try:
        parts = urlsplit(value)
        if parts.netloc:
            parts.port  # noqa: B018  # raises ValueError when out of range or not a number
    except ValueError:
        return False
    return True


def stable_id(value: str, *, split_checked: bool = False) -> str:
    """``value`` when it is a sane id, else its hashed id."""
    return value if is_sane_id(value, split_checked=split_checked) else hashed_id(value)


def site_host(site: Site) -> str:
    """The outlet's host name, the authority of the tag: URIs minted for it."""
    return _host(site.link, site.base_url)


@functools.lru_cache(maxsize=16)
def _host(link: str, base_url: str) -> str:
    return urlsplit(link).hostname or urlsplit(base_url).hostname or "localhost"


def tag_uri(host: str, *path: str) -> str:
    """``tag:HOST,2026:A/B`` with every path segment percent-encoded."""
    return f"tag:{host},{TAG_DATE}:" + "/".join(quote(part, safe="") for part in path)


def entry_key(site: Site, value: str) -> tuple[str, str] | None:
    """``(source id, upstream id)`` of an item id ``item_id`` minted as a tag: URI, else None."""
    prefix = f"tag:{site_host(site)},{TAG_DATE}:"
    if not value.startswith(prefix):
        return None
    parts = value[len(prefix) :].split("/")
    if len(parts) != 2 or parts[0] == "item":
        return None
    return unquote(parts[0]), unquote(parts[1])


def is_global_id(value: str) -> bool:
    """Whether an upstream id identifies its story by itself: an http(s) URL with a host, or a
    ``urn:`` or ``tag:`` URI."""
    if _WEB_ID.match(value):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    if parts.scheme in {"http", "https"} and parts.netloc:
        return True
    return parts.scheme in {"urn", "tag"} and len(value) > len(parts.scheme) + 1


def item_id(site: Site, source_id: str, entry_id: str) -> str:
    """The id of an upstream entry's item (see the module docstring)."""
    if is_global_id(entry_id):
        return entry_id
    return tag_uri(site_host(site), source_id, entry_id)


def iri(site: Site, value: str) -> str:
    """``value`` when it is an absolute IRI; else ``urn:uuid:`` for a UUID, or a tag: URI
    under the outlet's host."""
    if _ABSOLUTE_IRI.match(value):
        return value
    try:
        return f"urn:uuid:{uuid.UUID(value.strip())}"
    except ValueError:
        pass
    return tag_uri(site_host(site), "item", value)


def etag(body: bytes) -> str:
    """The strong ETag of a document's bytes (quoted)."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
