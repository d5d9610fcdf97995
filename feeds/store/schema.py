"""Tables of the feeds database. Changes go through a migration in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC on every engine; always returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


metadata = MetaData()

sources = Table(
    "sources",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("url", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", String(64)),
    Column("last_fetch", UTCDateTime),
    Column("last_success", UTCDateTime),
    Column("last_http_status", Integer),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False),
    Column("next_fetch", UTCDateTime),
    Column("moved_to", Text),
    Column("config_hash", String(64), nullable=False),
    # Set while network failures are not counted because nothing has answered since (0002).
    Column("suspect_since", UTCDateTime),
    # The feed's own <ttl> / sy:updatePeriod, in seconds, from its last parsed body (0002).
    Column("feed_ttl", Integer),
    # What the last parsed body had that could not be read, for editors (0006).
    Column("warning", Text),
    # A hash of the [fetch] settings the last fetch ran with (0006).
    Column("fetch_hash", String(64)),
)

entries = Table(
    "entries",
    metadata,
    Column("source_id", String(200), primary_key=True),
    Column("id", String(2000), primary_key=True),
    Column("title", Text, nullable=False),
    Column("link", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),  # JSON: authors, tags, summary, content, image, ...
    # The source's document gave the link to other stories too (0006).
    Column("link_shared", Boolean, nullable=False, server_default=false()),
    Index("ix_entries_published_source", "published", "source_id"),  # see entries.cutoff
    Index("ix_entries_source_published", "source_id", "published"),
)

articles = Table(
    "articles",
    metadata,
    Column("slug", String(200), primary_key=True),
    Column("path", Text, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", Text, nullable=False),  # JSON of the whole Article
    Index("ix_articles_published", "published"),
    # Who owns the slug: "file" (an article file) or "api" (a CMS client) (0010).
    Column("origin", String(10), nullable=False, server_default="file"),
)

# Rendered documents, ready to serve: a feed's current document (page 0) and its RFC 5005
# archive pages (page N, numbered from 1), each in every format (page: 0005); partners'
# variants of the current document beside the feed's own (variant "": 0007).
documents = Table(
    "documents",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("variant", String(20), primary_key=True, server_default=""),
    Column("page", Integer, primary_key=True, server_default="0"),
    Column("format", String(10), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    Column("gzip", LargeBinary, nullable=False),
    Column("etag", String(80), nullable=False),
    Column("last_modified", UTCDateTime, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("omitted", Integer, nullable=False, server_default="0"),  # over the byte budget
)

fetches = Table(
    "fetches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source_id", String(200), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("http_status", Integer),
    Column("duration", Integer, nullable=False),  # milliseconds
    Column("size", Integer, nullable=False),
    Column("new", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("error", Text),
    Index("ix_fetches_source_at", "source_id", "at"),
)

# Ids of entries removed by retention, so that they do not come back as new (0002).
tombstones = Table(
    "tombstones",
    metadata,
    Column("source_id", String(200), primary_key=True),
    Column("id", String(2000), primary_key=True),
    Column("removed", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

# Monotonic counters per source for /metrics, updated with each fetch (0002).
counters = Table(
    "counters",
    metadata,
    Column("source_id", String(200), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", Float, nullable=False),
)

# Every item that has appeared in a feed, in order, with the snapshot archive pages are
# rendered from (RFC 5005) (0002).
feed_items = Table(
    "feed_items",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("item_id", String(2000), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("data", Text, nullable=False),
    Index("ix_feed_items_feed_seq", "feed", "seq", unique=True),
    # In the feed's current document; the modified date last seen (webhooks' events, 0011).
    Column("current", Boolean, nullable=False, server_default=false()),
    Column("seen_updated", UTCDateTime),
)

# WebSub publish notifications still to deliver (0002).
hub_pings = Table(
    "hub_pings",
    metadata,
    Column("topic", String(500), primary_key=True),
    Column("hub", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt", UTCDateTime, nullable=False),
    Column("last_error", Text),
    # Bumped by every new request to ping, so a delivery only clears what it delivered (0003).
    Column("generation", Integer, nullable=False, server_default="0"),
    # Rows are kept once delivered (or given up), so a topic's generation only ever grows.
    Column("delivered", Boolean, nullable=False, server_default=false()),
)

# The item sequence range of every archive page written: a page never changes, and later
# pages start where the last one ended whatever the page size is now (0003).
archive_pages = Table(
    "archive_pages",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("first_seq", Integer, nullable=False),
    Column("last_seq", Integer, nullable=False),
    # An item on it was hidden, unhidden or deleted: written again by the next publish (0009).
    Column("stale", Boolean, nullable=False, server_default=false()),
)

# Readership (0008), counted by the web processes and added up across them: requests per feed,
# variant, reader (partner id, "" for the public) and status, for good (/metrics) and by the
# hour (kept 92 days, for `feeds stats --since`).
readership_totals = Table(
    "readership_totals",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("variant", String(20), primary_key=True),
    Column("partner", String(200), primary_key=True),
    Column("status", Integer, primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

readership_hours = Table(
    "readership_hours",
    metadata,
    Column("hour", UTCDateTime, primary_key=True),
    Column("feed", String(200), primary_key=True),
    Column("variant", String(20), primary_key=True),
    Column("partner", String(200), primary_key=True),
    Column("status", Integer, primary_key=True),
    Column("requests", BigInteger, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
)

# The latest subscriber figure each aggregator reported for its subscription to a format of a
# public feed (feed_id: the aggregator's own id of it, "" when it gives none).
readership_subscribers = Table(
    "readership_subscribers",
    metadata,
    Column("feed", String(200), primary_key=True),
    Column("format", String(10), primary_key=True),
    Column("aggregator", String(60), primary_key=True),
    Column("feed_id", String(80), primary_key=True),
    Column("subscribers", BigInteger, nullable=False),
    Column("reported", UTCDateTime, nullable=False),
)

# The random salt of each UTC day's client hashes (hex), shared by every web process and
# dropped once the day is over, so that nobody can recompute a hash from an address later.
readership_salts = Table(
    "readership_salts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("salt", String(64), nullable=False),
)

# Other clients of public feeds by keyed hash, today's and yesterday's; older days are
# counted into readership_daily_clients and their hashes deleted.
readership_clients = Table(
    "readership_clients",
    metadata,
    Column("day", Date, primary_key=True),
    Column("feed", String(200), primary_key=True),
    Column("client", String(32), primary_key=True),
)

readership_daily_clients = Table(
    "readership_daily_clients",
    metadata,
    Column("day", Date, primary_key=True),
    Column("feed", String(200), primary_key=True),
    Column("clients", Integer, nullable=False),
)

# Editorial overrides in force (0009): an item (its published id or its link) hidden
# ("hide", feed ""), pinned to the top of one feed ("pin", until a time or for good), or
# retitled ("retitle", value = the new title).
overrides = Table(
    "overrides",
    metadata,
    Column("item", String(2000), primary_key=True),
    Column("action", String(10), primary_key=True),
    Column("feed", String(200), primary_key=True),
    Column("value", Text, nullable=False),
    Column("until", UTCDateTime),
    Column("by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Every override command, for the audit trail; a new row tells the clocks to publish (0009).
override_log = Table(
    "override_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("action", String(10), nullable=False),
    Column("item", String(2000), nullable=False),
    Column("feed", String(200), nullable=False),
    Column("value", Text, nullable=False),
    Column("until", UTCDateTime),
    Column("by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
)

# Each clock process's heartbeat (0009): id (host, pid and start), whether it is active.
clocks = Table(
    "clocks",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("heartbeat", UTCDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
)

# What the clock found wrong, for /status (0009): scope "articles" holds one row per problem
# of the last articles sync (file, key, message), since when it has been seen.
problems = Table(
    "problems",
    metadata,
    Column("scope", String(20), primary_key=True),
    Column("file", String(500), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("message", Text, nullable=False),
    Column("since", UTCDateTime, nullable=False),
)

# Every write through the API (0010): when, which client, which slug, what happened ("created",
# "replaced", "unchanged", "deleted"); the growing id tells a clock that articles changed.
api_writes = Table(
    "api_writes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("client", String(200), nullable=False),
    Column("slug", String(200), nullable=False),
    Column("action", String(20), nullable=False),
)

# The webhooks' outbox (0011): every event, in order (seq is never reused); body is the JSON
# POSTed. Each webhook delivers the events after its cursor that it wants.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("type", String(30), nullable=False),
    Column("feed", String(200), nullable=False, server_default=""),  # "" for source events
    Column("time", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    sqlite_autoincrement=True,
)

# Each webhook's delivery state (0011), by the SHA-256 of its URL.
webhooks = Table(
    "webhooks",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("cursor", Integer, nullable=False),  # the last event delivered or given up
    Column("attempts", Integer, nullable=False, server_default="0"),  # of the next event
    Column("next_attempt", UTCDateTime),
    Column("failing_since", UTCDateTime),  # the next event's first failure
    Column("last_delivery", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    Column("delivered", Integer, nullable=False, server_default="0"),
    Column("given_up", Integer, nullable=False, server_default="0"),
)

# Events a webhook gave up on after a day of retries (0011).
webhook_given_up = Table(
    "webhook_given_up",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("type", String(30), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("error", Text, nullable=False),
)
