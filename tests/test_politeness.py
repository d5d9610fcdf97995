"""Politeness whichever way the service runs: `feeds update` fetches only what is due, `feeds
refresh` fetches one source now, a running clock follows what other processes decided, and a
change to the [fetch] settings ends the backoff they caused."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.cli import main
from feeds.config import load_config
from feeds.pipeline import Pipeline
from feeds.reload import ConfigWatcher
from feeds.scheduler import FOLLOW_SECONDS, FOLLOW_TOLERANCE, Clock
from feeds.store import Store
from feeds.types import Format, SourceState
from tests.sites import ALL_SOURCES_FEED, FIXTURES, source_toml, write_site
from tests.upstream import Upstream

WIRE = (FIXTURES / "upstream" / "wire.xml").read_bytes()


class Desk:
    """A config directory and a database, used through the `feeds` command."""

    def __init__(self, root: Path, upstream: Upstream, db_url: str, sources: str) -> None:
        self.upstream = upstream
        self.db = db_url
        self.config = write_site(root, upstream, sources=sources, feeds=ALL_SOURCES_FEED)

    def feeds(self, *args: str) -> int:
        return main(["--config", str(self.config), "--database", self.db, *args])

    def state(self, source_id: str) -> tuple[SourceState, datetime | None, str | None]:
        with Store(self.db) as store:
            status = store.source_status(source_id)
        assert status is not None
        return status.state, status.next_fetch, status.last_error


@pytest.fixture
def desk(tmp_path: Path, upstream: Upstream, db_url: str) -> Desk:
    upstream.set("/wire.xml", WIRE, etag='"w1"')
    upstream.set("/busy.xml", b"slow down", status=429, headers={"Retry-After": "3600"})
    upstream.set("/gone.xml", b"gone", status=410)
    sources = (
        source_toml("wire", upstream.url("/wire.xml"), interval="15m")
        + source_toml("busy", upstream.url("/busy.xml"), interval="15m")
        + source_toml("gone", upstream.url("/gone.xml"), interval="15m")
    )
    return Desk(tmp_path, upstream, db_url, sources)


def test_update_fetches_only_what_is_due(
    desk: Desk, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert desk.feeds("update") == 0
    first = {p: len(upstream.requests_to(p)) for p in ("/wire.xml", "/busy.xml", "/gone.xml")}
    assert first == {"/wire.xml": 1, "/busy.xml": 1, "/gone.xml": 1}
    busy_state, busy_next, _ = desk.state("busy")
    assert busy_state is SourceState.ERROR and busy_next is not None
    assert busy_next - datetime.now(UTC) > timedelta(minutes=59)  # Retry-After: 3600, exactly
    capsys.readouterr()

    # a minute later, from cron: nothing is due, nothing is asked of any upstream
    assert desk.feeds("update") == 0
    again = {p: len(upstream.requests_to(p)) for p in first}
    assert again == first
    out = capsys.readouterr().out
    assert "busy  not due" in out and "(last: HTTP 429" in out
    assert "gone  not due       gone (HTTP 410)" in out
    assert "sources: 0 fetched, 0 failed, 3 not due (--force fetches them)" in out

    # --force: every enabled source, gone ones too
    assert desk.feeds("update", "--force") == 0
    forced = {p: len(upstream.requests_to(p)) for p in first}
    assert forced == {p: n + 1 for p, n in first.items()}
    # the second round was conditional for the feed that answered
    assert upstream.requests_to("/wire.xml")[-1].headers.get("if-none-match") == '"w1"'


def test_refresh_fetches_one_source_now_and_publishes(
    desk: Desk, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    assert desk.feeds("update") == 0
    capsys.readouterr()
    upstream.set("/wire.xml", WIRE.replace(b"Aid convoy", b"Second convoy"), etag='"w2"')
    assert desk.feeds("refresh", "wire") == 0  # not due: fetched anyway
    out = capsys.readouterr().out
    assert "wire  ok" in out and "0 new, 1 updated" in out
    assert "documents changed: all.rss, all.atom, all.json" in out
    assert len(upstream.requests_to("/wire.xml")) == 2
    assert len(upstream.requests_to("/busy.xml")) == 1  # the others are left alone
    with Store(desk.db) as store:
        document = store.get_document("all", Format.RSS)
    assert document is not None and b"Second convoy" in document.body

    # a gone source is retried by hand too
    upstream.set("/gone.xml", WIRE.replace(b"wire-", b"back-"))
    assert desk.feeds("refresh", "gone") == 0
    assert desk.state("gone")[0] is SourceState.OK


def test_refresh_of_an_unknown_or_disabled_source_is_refused(
    desk: Desk, capsys: pytest.CaptureFixture[str]
) -> None:
    assert desk.feeds("refresh", "wier") == 2
    err = capsys.readouterr().err
    assert "source 'wier' is not in sources.toml" in err and "wire, busy, gone" in err


# --------------------------------------------------------------------------- the clock


@pytest.fixture
def clock(desk: Desk) -> Iterator[Clock]:
    watcher = ConfigWatcher(desk.config)
    store = Store(desk.db)
    pipeline = Pipeline(watcher.current, store)
    c = Clock(pipeline, watcher)
    c.heartbeat_job(activate=False)  # the only clock: it holds the lease
    assert c.holding()
    c.scheduler.start(paused=True)  # jobs are run by hand below
    yield c
    c.shutdown()
    pipeline.close()
    store.close()


def test_the_clock_follows_a_refresh_made_by_another_process(
    clock: Clock, desk: Desk, upstream: Upstream
) -> None:
    clock.pipeline.sync_sources()
    clock.schedule_sources(spread=5)
    before = clock.job_time("wire")
    assert before is not None and before - datetime.now(UTC) < timedelta(seconds=6)
    # an editor refreshes the source from the command line: it is not due for 15 minutes
    assert desk.feeds("refresh", "wire") == 0
    stored = desk.state("wire")[1]
    assert stored is not None and stored - datetime.now(UTC) > timedelta(minutes=13)
    clock.follow_job()
    assert clock.job_time("wire") == stored  # so the clock does not fetch it again now
    # and a source found gone elsewhere loses its job
    assert desk.feeds("refresh", "gone") == 0
    clock.follow_job()
    assert clock.job_time("gone") is None


def test_changing_fetch_settings_ends_the_backoff_they_caused(
    clock: Clock, desk: Desk, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    site = desk.config / "site.toml"
    allowed = site.read_text(encoding="utf-8")
    assert "allow_private_addresses = true" in allowed
    site.write_text(
        allowed.replace("allow_private_addresses = true", "allow_private_addresses = false"),
        encoding="utf-8",
    )
    clock.watcher.poll()
    clock.pipeline.reconfigure(clock.watcher.current)
    clock.schedule_sources(spread=5)
    clock.source_job("wire")  # refused: the loopback upstream is a private address
    state, next_fetch, error = desk.state("wire")
    assert state is SourceState.ERROR and next_fetch is not None
    assert "set allow_private_addresses = true in site.toml's [fetch] table" in (error or "")
    assert "FEEDS_ALLOW_PRIVATE_ADDRESSES=1" in (error or "")
    assert next_fetch - datetime.now(UTC) > timedelta(minutes=50)  # an hour's backoff
    assert clock.job_time("wire") == next_fetch

    # the editor allows private addresses: the source is due now, whoever looks
    site.write_text(allowed, encoding="utf-8")
    assert load_config(desk.config).site.fetch.allow_private_addresses
    clock.config_job()
    clock.follow_job()
    when = clock.job_time("wire")
    assert when is not None and when - datetime.now(UTC) < FOLLOW_TOLERANCE
    capsys.readouterr()
    assert desk.feeds("update") == 0  # `feeds update` from cron sees it too
    assert desk.state("wire")[0] is SourceState.OK


def test_a_running_clock_follows_what_a_second_process_learned(
    desk: Desk, upstream: Upstream
) -> None:
    """The clock runs; an editor's `feeds refresh` in another process meets a 429 with
    Retry-After: 3600. The clock moves its job to that time (no fetch before it)."""
    assert desk.feeds("update") == 0
    watcher = ConfigWatcher(desk.config)
    store = Store(desk.db)
    pipeline = Pipeline(watcher.current, store)
    clock = Clock(pipeline, watcher)
    clock.start()
    try:
        first = clock.job_time("wire")
        assert first is not None and first - datetime.now(UTC) > timedelta(minutes=13)
        upstream.set("/wire.xml", b"slow down", status=429, headers={"Retry-After": "3600"})
        command = ["--config", str(desk.config), "--database", desk.db, "refresh", "wire"]
        refresh = subprocess.run(
            [sys.executable, "-m", "feeds.cli", *command],
            capture_output=True,
            text=True,
            check=False,
        )
        assert refresh.returncode == 0, refresh.stderr
        stored = desk.state("wire")[1]
        assert stored is not None and stored - datetime.now(UTC) > timedelta(minutes=59)
        deadline = time.monotonic() + FOLLOW_SECONDS * 3
        while clock.job_time("wire") != stored and time.monotonic() < deadline:
            time.sleep(0.2)
        assert clock.job_time("wire") == stored
        assert len(upstream.requests_to("/wire.xml")) == 2  # update and refresh: not the clock
    finally:
        clock.shutdown()
        pipeline.close()
        store.close()


def test_only_settings_that_can_fail_a_fetch_end_backoff() -> None:
    from feeds.pipeline import fetch_settings_hash
    from feeds.types import FetchSettings

    base = FetchSettings()
    same = fetch_settings_hash(base)
    for harmless in ({"concurrency": 16}, {"per_host": 4}, {"host_spacing": 2.0}):
        assert fetch_settings_hash(replace(base, **harmless)) == same  # type: ignore[arg-type]
    for causes in (
        {"allow_private_addresses": True},
        {"max_bytes": 1},
        {"deadline": 5.0},
        {"max_redirects": 1},
        {"user_agent": "other"},
    ):
        assert fetch_settings_hash(replace(base, **causes)) != same  # type: ignore[arg-type]
