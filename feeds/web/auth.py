"""Partners' and API clients' keys: who is reading or calling, and whether they may.

A key is presented as ``Authorization: Bearer KEY``, as HTTP Basic credentials (user = the
partner's id, password = the key: how most feed readers and platform ingest tools take
credentials) or as ``?key=KEY``; a header wins over the query. access.toml holds only the
SHA-256 of each key: a presented key is hashed, and the hash compared with every partner's in
constant time (``hmac.compare_digest``, all of them, whichever matches).

Answers, for a feed (the same for its archive pages):

- ``access = "partners"``: no key, or one no enabled partner holds → 401 with a Bearer and a
  Basic challenge; a partner not granted the feed → 403; else that partner's variant;
- a public feed: no key → the public document; a partner granted the feed → that partner's
  variant; a partner not granted it → the public document; a key no enabled partner holds
  → 401 (a mistyped or revoked key is said so, rather than silently served the public
  variant).

API clients (``[[client]]``) present their key as ``Authorization: Bearer KEY`` only (a
query string ends up in access logs; Basic is for feed readers): ``bearer_key``.

Keys are made by ``new_key`` (``feeds partners new-key``, ``feeds clients new-key``). A key
never leaves this module: refusals do not echo it, and nothing here logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from flask import Request, Response, abort

from feeds.types import FeedSpec, Partner
from feeds.urls import KEY_PARAMETER

REALM = "feeds"
REFUSED_HEADERS = {"Cache-Control": "no-store", "Vary": "Authorization"}


@dataclass(frozen=True)
class Credentials:
    """A key as presented, with the Basic user name that came with it (None otherwise)."""

    key: str
    user: str | None = None


def credentials(request: Request) -> Credentials | None:
    """The key the request presents, if any."""
    auth = request.authorization
    if auth is not None:
        if auth.type == "bearer" and auth.token is not None:
            return Credentials(auth.token)
        if auth.type == "basic":
            return Credentials(auth.password or "", auth.username or "")
    if request.environ.get("QUERY_STRING"):
        key = request.args.get(KEY_PARAMETER)
        if key is not None:
            return Credentials(key)
    return None


def key_sha256(key: str) -> str:
    """The hash access.toml holds for ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh random key (256 bits, URL-safe) and the hash access.toml is to hold."""
    key = secrets.token_urlsafe(32)
    return key, key_sha256(key)


class _KeyHolder(Protocol):
    @property
    def key_sha256(self) -> str: ...

    @property
    def enabled(self) -> bool: ...


_Holder = TypeVar("_Holder", bound=_KeyHolder)


def holder_of(holders: Iterable[_Holder], key: str) -> _Holder | None:
    """The enabled partner or client holding ``key``, or None. Every hash is compared (in
    constant time), so that the time taken does not tell which one matched."""
    digest = key_sha256(key)
    found = None
    for holder in holders:
        if hmac.compare_digest(digest, holder.key_sha256) and found is None:
            found = holder
    return found if found is not None and found.enabled else None


def bearer_key(request: Request) -> str | None:
    """The key an API client presents (``Authorization: Bearer KEY``), if any; the client
    holding it is ``holder_of(config.clients, key)``."""
    auth = request.authorization
    if auth is None or auth.type != "bearer" or not auth.token:
        return None
    return auth.token


def partner_for(partners: Iterable[Partner], presented: Credentials) -> Partner | None:
    """The enabled partner holding the presented key (and named by the Basic user, when
    given), or None."""
    found = holder_of(partners, presented.key)
    if found is None:
        return None
    if presented.user is not None and presented.user != found.id:
        return None
    return found


def reader(request: Request, spec: FeedSpec, partners: Iterable[Partner]) -> Partner | None:
    """Who reads ``spec``: the partner whose variant this request gets, or None for the
    public document. Aborts with 401 or 403 (see the module's table)."""
    presented = credentials(request)
    if presented is None:
        if spec.public:
            return None
        abort(_challenge(f"feed {spec.name!r} is for partners: present a key", invalid=False))
    partner = partner_for(partners, presented)
    if partner is None:
        abort(_challenge("this key is unknown, revoked or disabled", invalid=True))
    if partner.reads(spec.name):
        return partner
    if spec.public:
        return None
    abort(
        Response(
            f"partner {partner.id!r} is not granted feed {spec.name!r}\n",
            status=403,
            headers=REFUSED_HEADERS,
            mimetype="text/plain",
        )
    )


def _challenge(message: str, *, invalid: bool) -> Response:
    bearer = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if invalid else "")
    response = Response(message + "\n", status=401, headers=REFUSED_HEADERS, mimetype="text/plain")
    response.headers.add("WWW-Authenticate", bearer)
    response.headers.add("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"')
    return response
