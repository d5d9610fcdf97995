"""The storage layer, against SQLite and PostgreSQL alike (see the db_url fixture)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from feeds.errors import StoreError
from feeds.store import HEAD_REVISION, Store
from feeds.types import (
    Article,
    Entry,
    FetchResult,
    FetchStatus,
    Format,
    Image,
    SourceState,
    SourceStatus,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def entry(n: int, **changes: object) -> Entry:
    base = Entry(
        source_id="wire",
        id=f"https://wire.example/{n}",
        title=f"Story {n}",
        link=f"https://wire.example/{n}",
        published=NOW - timedelta(hours=n),
        updated=NOW - timedelta(hours=n),
        authors=("Zeynep Kaya",),
        tags=("politics",),
        summary=f"<p>Summary {n}</p>",
        content=f"<p>Body {n} — “quoted”</p>",
        image=Image("https://wire.example/i.jpg", caption="A caption", credit="AFP", width=800),
        content_hash=f"hash-{n}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def ok_result() -> FetchResult:
    return FetchResult(status=FetchStatus.OK, url="https://wire.example/feed", http_status=200)


def status(**changes: object) -> SourceStatus:
    base = SourceStatus(
        id="wire", url="https://wire.example/feed", state=SourceState.OK, config_hash="h1"
    )
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store(db_url)
    s.sync_sources({"wire": ("https://wire.example/feed", "h1")})
    yield s
    s.close()


def test_migrations_create_schema_and_are_idempotent(db_url: str) -> None:
    Store(db_url).close()
    again = Store(db_url)  # a second open must find the schema at head and do nothing
    with again.engine.connect() as conn:
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert version == HEAD_REVISION == "0011"
    assert set(sa.inspect(again.engine).get_table_names()) >= {
        "sources",
        "entries",
        "articles",
        "documents",
        "fetches",
        "tombstones",
        "counters",
        "feed_items",
        "hub_pings",
        "archive_pages",
        "readership_totals",
        "readership_hours",
        "readership_subscribers",
        "readership_salts",
        "readership_clients",
        "readership_daily_clients",
    }
    again.close()


def test_upgrade_from_first_schema_keeps_data(db_url: str) -> None:
    old = Store(db_url, migrate=False)
    old.migrate("0001")
    with old.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO sources (id, url, state, failures, config_hash) "
                "VALUES ('wire', 'https://wire.example/feed', 'ok', 2, 'h')"
            )
        )
    old.close()
    new = Store(db_url)
    status = new.source_status("wire")
    assert status is not None
    assert (status.failures, status.suspect_since, status.feed_ttl) == (2, None, None)
    assert status.warning is None
    new.close()


def test_a_source_keeps_the_warning_of_its_last_parsed_body(store: Store) -> None:
    warned = status(warning="1 entry has a date that cannot be read ('Foo 32'); ...")
    store.save_refresh(warned, ok_result(), [entry(1)], NOW)
    stored = store.source_status("wire")
    assert stored is not None and stored.warning == warned.warning
    store.save_refresh(status(), ok_result(), None, NOW + timedelta(minutes=1))
    stored = store.source_status("wire")
    assert stored is not None and stored.warning is None


def test_upgrade_gives_archive_documents_their_page(db_url: str) -> None:
    """Before 0005 an archive page was a document named "FEED/archive/N"; after it, the same
    bytes are served by (feed, page, format), and the current documents stay page 0."""
    old = Store(db_url, migrate=False)
    old.migrate("0004")
    stored = {
        ("all", Format.RSS): b"<rss>current</rss>",
        ("all", Format.ATOM): b"<feed>current</feed>",
        ("all/archive/1", Format.RSS): b"<rss>page 1</rss>",
        ("all/archive/1", Format.ATOM): b"<feed>page 1</feed>",
        ("all/archive/12", Format.JSON): b'{"page": 12}',
        ("world.news/archive/3", Format.RSS): b"<rss>world 3</rss>",
    }
    with old.engine.begin() as conn:
        for (name, fmt), body in stored.items():
            conn.execute(
                sa.text(
                    "INSERT INTO documents (feed, format, body, gzip, etag, last_modified, "
                    "content_type) VALUES (:feed, :format, :body, :gzip, :etag, :at, :type)"
                ),
                {
                    "feed": name,
                    "format": fmt.value,
                    "body": body,
                    "gzip": gzip.compress(body),
                    "etag": f'"{len(body)}"',
                    "at": datetime(2026, 11, 1, 8, 30),
                    "type": fmt.content_type,
                },
            )
    old.close()
    new = Store(db_url)
    assert new.schema_revision() == HEAD_REVISION
    by_page = {
        ("all", 0, Format.RSS): b"<rss>current</rss>",
        ("all", 0, Format.ATOM): b"<feed>current</feed>",
        ("all", 1, Format.RSS): b"<rss>page 1</rss>",
        ("all", 1, Format.ATOM): b"<feed>page 1</feed>",
        ("all", 12, Format.JSON): b'{"page": 12}',
        ("world.news", 3, Format.RSS): b"<rss>world 3</rss>",
    }
    for (feed, page, fmt), body in by_page.items():
        document = new.get_document(feed, fmt, page)
        assert document is not None, (feed, page, fmt)
        assert (document.feed, document.page, document.format) == (feed, page, fmt)
        assert document.body == body and gzip.decompress(document.gzip) == body
        assert document.etag == f'"{len(body)}"' and document.content_type == fmt.content_type
        assert document.last_modified == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
        assert new.document_etag(feed, fmt, page) == document.etag
    assert new.get_document("all/archive/1", Format.RSS) is None  # no such name any more
    assert new.get_document("all", Format.JSON, 1) is None
    assert new.document_etags() == {
        ("all", Format.RSS): '"18"',
        ("all", Format.ATOM): '"20"',
    }
    new.close()


def test_archive_pages_are_documents_of_their_feed_by_page(store: Store) -> None:
    def body(fmt: Format, page: int = 0) -> bytes | None:
        document = store.get_document("all", fmt, page)
        if document is not None:
            assert (document.feed, document.page, document.format) == ("all", page, fmt)
        return None if document is None else document.body

    assert store.put_documents("all", {Format.RSS: b"<rss/>", Format.ATOM: b"<feed/>"}, NOW)
    page = {Format.RSS: b"<rss>1</rss>", Format.JSON: b'{"page": 1}'}
    store.write_archive_page("all", 1, 1, 10, page, NOW)
    (only,) = store.archive_pages("all")
    assert (only.number, only.first, only.last) == (1, 1, 10)
    assert [body(fmt, page=1) for fmt in page] == list(page.values())
    assert [store.has_document("all", fmt, page=1) for fmt in Format] == [True, False, True]
    assert [body(fmt) for fmt in Format] == [b"<rss/>", b"<feed/>", None]
    # current documents only: an archive page is neither listed nor changed by publishing
    assert set(store.document_etags()) == {("all", Format.RSS), ("all", Format.ATOM)}
    assert store.put_documents("all", {Format.RSS: b"<rss>new</rss>"}, NOW) == [Format.RSS]
    assert (body(Format.RSS), body(Format.RSS, 1)) == (b"<rss>new</rss>", b"<rss>1</rss>")
    # a feed leaving the config loses its current documents, never its archive pages
    assert store.delete_documents(["other"]) == 2
    assert [body(fmt) for fmt in Format] == [None, None, None]
    assert [body(fmt, 1) for fmt in page] == list(page.values())
    # page 0 is the current document, never an archive page
    with pytest.raises(StoreError, match="numbered from 1"):
        store.write_archive_page("all", 0, 1, 10, {Format.RSS: b"<rss/>"}, NOW)
    assert store.archive_pages("all") == [(1, 1, 10, False)]


def test_entries_round_trip_new_updated_unchanged(store: Store) -> None:
    new, updated = store.save_refresh(status(), ok_result(), [entry(1), entry(2)], NOW)
    assert (new, updated) == (2, 0)
    got = store.recent_entries(["wire"], 10)
    assert [e.id for e in got] == ["https://wire.example/1", "https://wire.example/2"]
    assert got[0] == entry(1)  # every field survives, datetimes aware UTC

    later = NOW + timedelta(minutes=5)
    changed = entry(1, content_hash="hash-1b", title="Story 1, updated")
    new, updated = store.save_refresh(status(), ok_result(), [changed, entry(2)], later)
    assert (new, updated) == (0, 1)
    got = store.recent_entries(["wire"], 10)
    assert got[0].title == "Story 1, updated"
    # the upstream date did not move, so the change is stamped with when we saw it
    assert got[0].updated == later
    assert store.entry_times("wire").first_seen["https://wire.example/1"] == NOW


def test_recent_entries_limit_since_and_sources(store: Store) -> None:
    store.save_refresh(status(), ok_result(), [entry(n) for n in range(1, 11)], NOW)
    assert len(store.recent_entries(["wire"], 3)) == 3
    assert store.recent_entries(["other"], 3) == []
    since = NOW - timedelta(hours=4, minutes=30)
    assert [e.title for e in store.recent_entries(["wire"], 50, since)] == [
        "Story 1",
        "Story 2",
        "Story 3",
        "Story 4",
    ]


def test_recent_entries_are_the_newest_of_the_sources_whichever_way_found(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feeds.store import entries as entries_module

    # Twelve sources: the even ones publish every few minutes, the odd ones every few days.
    ids = [f"s{n:02d}" for n in range(12)]
    store.sync_sources({sid: (f"https://{sid}.example/feed", "h1") for sid in ids})
    every: list[Entry] = []
    for n, sid in enumerate(ids):
        step = timedelta(minutes=3 + n) if n % 2 == 0 else timedelta(days=2 + n)
        batch = [
            entry(
                k, source_id=sid, id=f"{sid}-{k}", published=NOW - k * step, updated=NOW - k * step
            )
            for k in range(30)
        ]
        store.save_refresh(status(id=sid), ok_result(), batch, NOW)
        every += batch
    methods: list[str] = []
    real = entries_module.cutoff

    def cutoff(*args: Any) -> entries_module.Cutoff:
        found = real(*args)
        methods.append(found.method)
        return found

    monkeypatch.setattr(entries_module, "cutoff", cutoff)

    def expected(sources: list[str], limit: int, since: datetime | None) -> list[str]:
        wanted = [
            e for e in every if e.source_id in sources and (since is None or e.published >= since)
        ]
        wanted.sort(key=lambda e: (-e.published.timestamp(), e.source_id, e.id))
        return [e.id for e in wanted[:limit]]

    cases = [
        (ids, 25, None),  # every source: found among the newest entries of all
        (ids[::2], 40, NOW - timedelta(hours=3)),  # the busy ones, with a time limit
        (["s01", "s03"], 10, None),  # quiet sources among busy ones: each source's newest
        (["s05"], 50, None),  # fewer entries than asked for
        (ids, 500, NOW - timedelta(days=400)),
    ]
    for sources, limit, since in cases:
        got = [e.id for e in store.recent_entries(sources, limit, since)]
        assert got == expected(sources, limit, since), (sources, limit, since)
    # The first two were found by the index scan, the others needed each source's newest.
    assert methods == ["scan", "scan", "per_source", "per_source", "per_source"]


def test_retention_by_age_and_by_count(store: Store) -> None:
    store.save_refresh(status(), ok_result(), [entry(n) for n in range(1, 11)], NOW)
    # Under both limits: nothing goes.
    store.save_refresh(
        status(), ok_result(), [entry(1)], NOW, max_items=10, max_age=timedelta(days=1)
    )
    assert len(store.recent_entries(["wire"], 50)) == 10
    # Older than five hours and not in the latest fetch (entry 9 is): gone, and remembered.
    store.save_refresh(
        status(), ok_result(), [entry(1), entry(9)], NOW, max_items=50, max_age=timedelta(hours=5)
    )
    kept = [e.title for e in store.recent_entries(["wire"], 50)]
    assert kept == ["Story 1", "Story 2", "Story 3", "Story 4", "Story 5", "Story 9"]
    assert store.tombstone_count("wire") == 4
    # Beyond the newest three (entry 5 is in the latest fetch): gone too.
    store.save_refresh(status(), ok_result(), [entry(5)], NOW, max_items=3)
    kept = [e.title for e in store.recent_entries(["wire"], 50)]
    assert kept == ["Story 1", "Story 2", "Story 3", "Story 5"]


def test_save_refresh_records_state_and_fetch_log(store: Store) -> None:
    failing = FetchResult(
        status=FetchStatus.ERROR, url="https://wire.example/feed", http_status=500, error="HTTP 500"
    )
    store.save_refresh(
        status(state=SourceState.ERROR, failures=1, last_error="HTTP 500"), failing, None, NOW
    )
    s = store.source_status("wire")
    assert s is not None
    assert s.state is SourceState.ERROR and s.failures == 1 and s.last_error == "HTTP 500"
    log = store.recent_fetches("wire")
    assert [(r.status, r.http_status, r.error) for r in log] == [("error", 500, "HTTP 500")]


def test_failed_write_leaves_nothing_behind(store: Store) -> None:
    bad = entry(2, published=datetime(2026, 1, 1))  # naive datetime: refused mid-transaction
    with pytest.raises(Exception, match="naive"):
        store.save_refresh(status(failures=7), ok_result(), [entry(1), bad], NOW)
    assert store.recent_entries(["wire"], 10) == []
    s = store.source_status("wire")
    assert s is not None and s.failures == 0
    assert store.recent_fetches("wire") == []


def test_config_change_resets_source_state(store: Store) -> None:
    store.save_refresh(
        status(state=SourceState.GONE, etag='"x"', moved_to="https://new.example/feed"),
        ok_result(),
        [entry(1)],
        NOW,
    )
    store.sync_sources({"wire": ("https://wire.example/feed", "h1")})  # same config: kept
    s = store.source_status("wire")
    assert s is not None and s.state is SourceState.GONE
    store.sync_sources({"wire": ("https://wire.example/feed2", "h2")})
    s = store.source_status("wire")
    assert s is not None
    assert (s.state, s.etag, s.moved_to, s.url) == (
        SourceState.NEW,
        None,
        None,
        "https://wire.example/feed2",
    )
    assert store.source_statuses()["wire"].entry_count == 1  # entries are kept


def article(slug: str, day: int, text: str = "body") -> Article:
    when = datetime(2026, 11, day, 9, tzinfo=UTC)
    return Article(
        slug=slug,
        title=f"Title {slug} — Ḥāshimī",
        link=f"https://outlet.example/{slug}",
        published=when,
        updated=when,
        authors=("Rania Abou-Zeïd",),
        summary="dek",
        content=f"<p>{text}</p>",
        tags=("gaza",),
        image=Image("https://outlet.example/a.jpg", caption="c", credit="Photo: X"),
        path=f"{slug}.md",
        content_hash=f"h-{slug}-{text}",
    )


def test_sync_articles_adds_updates_removes(store: Store) -> None:
    assert store.sync_articles([article("a", 1), article("b", 2)]) == (2, 0, 0)
    assert [a.slug for a in store.articles()] == ["b", "a"]
    assert store.articles()[1] == article("a", 1)
    assert store.sync_articles([article("a", 1, "edited")]) == (0, 1, 1)
    assert [a.content for a in store.articles()] == ["<p>edited</p>"]
    assert store.sync_articles([article("a", 1, "edited")]) == (0, 0, 0)


def test_documents_keep_etag_and_last_modified_when_unchanged(store: Store) -> None:
    assert store.put_document("all", Format.RSS, b"<rss/>", NOW)
    first = store.get_document("all", Format.RSS)
    assert first is not None
    assert first.etag.startswith('"') and first.etag.endswith('"')
    assert gzip.decompress(first.gzip) == b"<rss/>"
    assert first.content_type.startswith("application/rss+xml")
    assert not store.put_document("all", Format.RSS, b"<rss/>", NOW + timedelta(hours=1))
    assert store.get_document("all", Format.RSS) == first
    # a change within the same second still moves Last-Modified forward
    assert store.put_document("all", Format.RSS, b"<rss>2</rss>", NOW)
    second = store.get_document("all", Format.RSS)
    assert second is not None
    assert second.etag != first.etag and second.last_modified > first.last_modified
    assert store.document_etag("all", Format.RSS) == second.etag
    assert store.delete_documents(["other"]) == 1
    assert store.get_document("all", Format.RSS) is None


def test_concurrent_writers_do_not_collide(db_url: str) -> None:
    """Read-then-write steps are serialized (BEGIN IMMEDIATE on SQLite, an advisory lock on
    PostgreSQL), so two threads syncing the same articles never hit a duplicate key."""
    import threading

    stores = [Store(db_url), Store(db_url)]
    batch = [article(f"a{n}", 1 + n % 20) for n in range(30)]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def sync(s: Store) -> None:
        try:
            start.wait()
            for _ in range(5):
                s.sync_articles(batch)
                s.sync_articles(batch[:10])
        except BaseException as e:  # collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=sync, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(stores[0].articles()) == 10
    for s in stores:
        s.close()


def test_prune_drops_old_fetch_log_rows_and_unseen_tombstones(store: Store) -> None:
    old = NOW - timedelta(days=30)
    store.save_refresh(status(), ok_result(), [entry(n) for n in range(1, 5)], old, max_items=1)
    store.save_refresh(status(), ok_result(), [entry(1)], old, max_items=1)
    store.save_refresh(status(), ok_result(), None, NOW)
    assert store.tombstone_count("wire") == 3
    assert store.prune(NOW, fetch_log=timedelta(days=14), tombstones_unseen=timedelta(days=7)) == (
        2,
        3,
    )
    assert [r.at for r in store.recent_fetches("wire")] == [NOW]
    assert store.tombstone_count("wire") == 0


def test_head_revision_constant_is_the_newest_migration(db_url: str) -> None:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from feeds.store import HEAD_REVISION, MIGRATIONS

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(cfg).get_heads() == [HEAD_REVISION]
    s = Store(db_url)
    assert s.schema_revision() == HEAD_REVISION
    s.close()


def test_many_refreshes_without_entries_are_stored_together(store: Store) -> None:
    from feeds.types import RefreshWrite

    store.sync_sources(
        {"wire": ("https://wire.example/feed", "h1"), "un": ("https://un.example/", "u1")}
    )
    not_modified = FetchResult(
        status=FetchStatus.NOT_MODIFIED, url="https://wire.example/feed", http_status=304
    )
    writes = [
        RefreshWrite(status(etag='"v2"'), not_modified, None, NOW),
        # "un" was changed by an editor meanwhile (config hash u1 now): dropped
        RefreshWrite(
            SourceStatus(id="un", url="https://un.example/", config_hash="old"),
            not_modified,
            None,
            NOW,
        ),
        # a source the table does not know yet is inserted
        RefreshWrite(
            SourceStatus(id="new", url="https://new.example/", config_hash="n1", failures=1),
            FetchResult(status=FetchStatus.ERROR, url="https://new.example/", error="HTTP 500"),
            None,
            NOW,
        ),
    ]
    assert store.save_refreshes(writes) == [(0, 0), (0, 0), (0, 0)]
    statuses = store.source_statuses()
    assert statuses["wire"].etag == '"v2"'
    assert statuses["un"].etag is None and store.recent_fetches("un") == []
    assert statuses["new"].failures == 1
    assert [r.error for r in store.recent_fetches("new")] == ["HTTP 500"]
    counts = store.counters()
    assert counts["wire"].fetches_not_modified == 1
    assert "un" not in counts
    store.save_refreshes(writes[:1] * 1 + writes[2:])
    assert store.counters()["wire"].fetches_not_modified == 2


def test_recent_entries_equal_a_full_sort_whatever_the_spread(store: Store) -> None:
    """The two-step query (index-only cutoff, then whole rows) returns exactly what sorting
    every entry would: sources with many, few or no recent entries, ties on the cutoff."""
    import random

    rng = random.Random(5)
    everything: list[Entry] = []
    for n in range(12):
        sid = f"s{n}"
        store.sync_sources({sid: (f"https://{sid}.example/", "h")})
        count = rng.choice([0, 1, 3, 40, 120])
        batch = [
            entry(
                0,
                source_id=sid,
                id=f"{sid}-{k}",
                # few distinct times, so that many entries tie
                published=NOW - timedelta(hours=rng.randrange(0, 30 if n % 3 else 3)),
                updated=NOW,
            )
            for k in range(count)
        ]
        if batch:
            store.save_refresh(
                SourceStatus(id=sid, url=f"https://{sid}.example/", config_hash="h"),
                ok_result(),
                batch,
                NOW,
            )
        everything += batch
    ids = [f"s{n}" for n in range(12)]

    def expected(chosen: list[str], limit: int, since: datetime | None) -> list[str]:
        rows = [
            e
            for e in everything
            if e.source_id in chosen and (since is None or e.published >= since)
        ]
        rows.sort(key=lambda e: (-e.published.timestamp(), e.source_id, e.id))
        return [e.id for e in rows[:limit]]

    for limit in (1, 5, 50, 170, 1000):
        for chosen in (ids, ids[:3], ids[4:9], ["s11"]):
            for since in (None, NOW - timedelta(hours=10)):
                got = [e.id for e in store.recent_entries(chosen, limit, since)]
                assert got == expected(chosen, limit, since), (limit, chosen, since)


def test_an_entry_remembers_whether_its_link_is_shared(store: Store) -> None:
    """The flag follows the latest document even when nothing readers see changed (no
    update counted, no new modification time)."""
    assert store.save_refresh(status(), ok_result(), [entry(1)], NOW) == (1, 0)
    (stored,) = store.recent_entries(["wire"], 10)
    assert not stored.link_shared
    later = NOW + timedelta(hours=1)
    assert store.save_refresh(status(), ok_result(), [entry(1, link_shared=True)], later) == (0, 0)
    (stored,) = store.recent_entries(["wire"], 10)
    assert stored.link_shared and stored.updated == entry(1).updated
    store.save_refresh(status(), ok_result(), [entry(1)], later + timedelta(hours=1))
    assert not store.recent_entries(["wire"], 10)[0].link_shared
