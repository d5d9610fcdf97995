"""The only SQLAlchemy and Alembic user: one storage API over SQLite (embedded) and PostgreSQL.

Callers use one facade, `Store`, composed of one mixin per concern over a shared engine:

- ``engine.py``     `Database`: the engine (SQLite WAL and BEGIN IMMEDIATE, PostgreSQL's
                    advisory write lock), migrations, read/write transactions, close;
- ``sources.py``    sources' fetch state, refresh writes (all their concerns in one
                    transaction), the fetch log and pruning;
- ``entries.py``    entry upserts with tombstones, retention, the newest entries of a feed;
- ``articles.py``   the outlet's own articles;
- ``documents.py``  rendered documents by (feed, page, format), with their gzip copies;
- ``views.py``      the feeds' HTML views, in the documents table (format ``html``);
- ``archives.py``   RFC 5005 archives: recorded feed items and archive pages;
- ``publishing.py`` what a publish reads of its feed's state, in one statement;
- ``outbox.py``     WebSub pings still to deliver;
- ``overrides.py``  editorial overrides in force and their audit trail;
- ``counters.py``   per-source fetch counters for /metrics;
- ``readership.py`` what the web processes count of their readers, added up across them;
- ``clocks.py``     each clock process's heartbeat;
- ``problems.py``   what the clock found wrong (bad article files), for /status;
- ``webhooks.py``   the webhooks' outbox of events and each webhook's delivery state;
- ``codec.py``      every row <-> value codec;
- ``schema.py`` and ``migrations/``: the tables, changed only through an Alembic migration,
  applied automatically when a Store opens.

Every write that belongs together happens in one transaction, so a crash mid-update leaves
the database as it was before that step; a caller that spans several concerns (a publish:
archive record, item events, documents, view, hub pings) puts them in one with
``Store.writing()`` (and its reads in one snapshot with ``Store.reading()``).
"""

from __future__ import annotations

from feeds.store.archives import ArchivesMixin
from feeds.store.articles import ArticlesMixin
from feeds.store.clocks import ClocksMixin
from feeds.store.counters import CountersMixin
from feeds.store.documents import (
    DocumentsMixin,
    PackedDocument,
    PublishedDocumentsMixin,
    Unpacked,
    pack,
)
from feeds.store.engine import DEFAULT_URL, HEAD_REVISION, MIGRATIONS, engine_url
from feeds.store.entries import EntriesMixin
from feeds.store.freshness import FreshnessMixin
from feeds.store.outbox import OutboxMixin
from feeds.store.overrides import OverridesMixin
from feeds.store.problems import ProblemsMixin
from feeds.store.publishing import PublishingMixin
from feeds.store.readership import ReadershipMixin
from feeds.store.sources import SourcesMixin
from feeds.store.views import VIEW_FORMAT, ViewsMixin, view_document
from feeds.store.webhooks import WebhooksMixin

__all__ = [
    "DEFAULT_URL",
    "HEAD_REVISION",
    "MIGRATIONS",
    "VIEW_FORMAT",
    "PackedDocument",
    "Store",
    "Unpacked",
    "engine_url",
    "pack",
    "view_document",
]


class Store(
    SourcesMixin,
    EntriesMixin,
    ArticlesMixin,
    DocumentsMixin,
    PublishedDocumentsMixin,
    ArchivesMixin,
    OutboxMixin,
    OverridesMixin,
    CountersMixin,
    ReadershipMixin,
    ClocksMixin,
    ProblemsMixin,
    ViewsMixin,
    WebhooksMixin,
    FreshnessMixin,
    PublishingMixin,
):
    """Storage for sources' fetch state, entries, articles, rendered documents, archives,
    WebSub pings, counters, readership, clocks' heartbeats, problems and webhooks. ``Store(url)``
    opens (and migrates) the database; ``Store(url, migrate=False)`` leaves the schema as it
    is; ``pooled=False`` keeps no connection open between uses."""
