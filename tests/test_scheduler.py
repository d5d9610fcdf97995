"""The clock's jobs: per-source refresh with backoff, article re-reads, config reloads,
scheduled articles published at their time, article problems logged once, the heartbeat."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from flask.testing import FlaskClient

from feeds.config import load_config
from feeds.pipeline import Pipeline
from feeds.reload import ConfigWatcher
from feeds.scheduler import RELEASE_JOB, SOURCE_JOB_PREFIX, Clock
from feeds.store import Store
from feeds.times import utcnow
from feeds.types import HEARTBEAT_SECONDS, ClockBeat, Format, SourceState
from tests.sites import FIXTURES, Site, write_site
from tests.upstream import Upstream


@pytest.fixture
def clock(tmp_path: Path, upstream: Upstream) -> Iterator[Clock]:
    upstream.set("/wire.xml", (FIXTURES / "upstream" / "wire.xml").read_bytes())
    upstream.set("/un.atom", (FIXTURES / "upstream" / "un.atom").read_bytes())
    config_dir = write_site(tmp_path, upstream)
    watcher = ConfigWatcher(config_dir)
    store = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    pipeline = Pipeline(watcher.current, store)
    c = Clock(pipeline, watcher, blocking=False)
    c.heartbeat_job(activate=False)  # the only clock: it holds the lease
    assert c.holding()
    c.scheduler.start(paused=True)  # jobs are run by hand below, deterministically
    yield c
    c.shutdown()
    pipeline.close()
    store.close()


def titles(clock: Clock, feed: str) -> list[str]:
    document = clock.pipeline.store.get_document(feed, Format.RSS)
    assert document is not None
    return [e.title for e in feedparser.parse(document.body).entries]


def test_a_job_per_enabled_source_set_for_its_next_fetch(clock: Clock) -> None:
    before = datetime.now(UTC)
    clock.schedule_sources(spread=30)
    jobs = {j.id: j for j in clock.scheduler.get_jobs()}
    assert set(jobs) == {SOURCE_JOB_PREFIX + s for s in ("wire", "un", "down")}
    for job in jobs.values():  # never fetched: soon, spread out
        assert before <= job.next_run_time <= before + timedelta(seconds=31)

    clock.source_job("wire")
    status = clock.pipeline.store.source_status("wire")
    assert status is not None and status.next_fetch is not None
    # the job now waits for exactly what the pipeline decided: the interval with jitter
    assert clock.job_time("wire") == status.next_fetch
    assert timedelta(minutes=13) < status.next_fetch - before < timedelta(minutes=17)

    clock.source_job("down")  # HTTP 500: backoff, from ten minutes
    down = clock.pipeline.store.source_status("down")
    assert down is not None and clock.job_time("down") == down.next_fetch

    # a reload with the same sources keeps every job's time
    times = {s: clock.job_time(s) for s in ("wire", "un", "down")}
    clock.schedule_sources(spread=5)
    assert {s: clock.job_time(s) for s in ("wire", "un", "down")} == times


def test_gone_source_has_no_job_until_its_config_changes(clock: Clock, upstream: Upstream) -> None:
    config_dir = clock.watcher.config_dir
    sources = config_dir / "sources.toml"
    text = sources.read_text(encoding="utf-8").replace("/status/500", "/status/410")
    sources.write_text(text, encoding="utf-8")
    clock.config_job()
    clock.source_job("down")
    assert clock.job_time("down") is None
    sources.write_text(text.replace('title = "Broken upstream"', 'title = "Back"'), "utf-8")
    clock.config_job()
    assert clock.job_time("down") is not None


def test_source_job_refreshes_and_publishes_affected_feeds(clock: Clock) -> None:
    clock.articles_job()
    assert titles(clock, "everything") == [
        "Beirut’s grain silos: a memorial or a ruin?",
        "الأردن يوسّع مشروع تحلية المياه في العقبة",
    ]
    clock.source_job("wire")
    assert "Aid convoy reaches northern Gaza" in titles(clock, "everything")
    # a source that just succeeded is not due again before its interval
    assert not clock.pipeline.due(clock.pipeline.config.sources[0])


def test_failing_source_backs_off(clock: Clock) -> None:
    down = clock.pipeline.config.source("down")
    assert down is not None
    clock.source_job("down")
    status = clock.pipeline.store.source_status("down")
    assert status is not None and status.state is SourceState.ERROR and status.failures == 1
    clock.source_job("down")  # not due yet: skipped, failures unchanged
    status = clock.pipeline.store.source_status("down")
    assert status is not None and status.failures == 1


def test_articles_job_publishes_edits_and_deletions(clock: Clock) -> None:
    clock.articles_job()
    articles = clock.pipeline.config.site.articles_dir
    (articles / "water-ar.md").unlink()
    path = articles / "ports-reopen.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("a memorial or a ruin?", "a memorial at last"),
        encoding="utf-8",
    )
    clock.articles_job()
    assert titles(clock, "ours") == ["Beirut’s grain silos: a memorial at last"]


def test_config_job_reloads_and_keeps_last_good_config(clock: Clock) -> None:
    config_dir = clock.watcher.config_dir
    feeds_toml = config_dir / "feeds.toml"
    original = feeds_toml.read_text(encoding="utf-8")

    feeds_toml.write_text(original + '\n[[feed]]\nname = "broken"\nlimit = "many"\n')
    clock.config_job()
    assert clock.pipeline.config.feed("broken") is None
    assert clock.pipeline.config.feed("everything") is not None
    assert any("feeds.toml: feed[broken]" in p for p in clock.watcher.last_problems)

    feeds_toml.write_text(
        original + '\n[[feed]]\nname = "wires"\ntitle = "Wires"\nsources = ["tag:wire"]\n'
    )
    clock.config_job()
    assert clock.pipeline.config.feed("wires") is not None
    assert clock.watcher.last_problems == ()
    assert clock.pipeline.store.get_document("wires", Format.JSON) is not None
    assert load_config(config_dir) == clock.pipeline.config


def test_a_newer_edit_replaces_a_config_that_failed_to_apply(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds_toml = clock.watcher.config_dir / "feeds.toml"
    original = feeds_toml.read_text(encoding="utf-8")
    calls = []
    real = clock.pipeline.reconfigure

    def failing_once(config: object) -> None:
        calls.append(config)
        if len(calls) == 1:
            raise RuntimeError("database briefly unavailable")
        real(config)  # type: ignore[arg-type]

    monkeypatch.setattr(clock.pipeline, "reconfigure", failing_once)
    feeds_toml.write_text(original + '\n[[feed]]\nname = "one"\ntitle = "One"\nlocal = true\n')
    clock.config_job()  # fails to apply
    assert clock.pipeline.config.feed("one") is None
    feeds_toml.write_text(original + '\n[[feed]]\nname = "two"\ntitle = "Two"\nlocal = true\n')
    clock.config_job()
    assert clock.pipeline.config.feed("two") is not None


# --------------------------------------------------------------------------- scheduled articles


@pytest.fixture
def desk_clock(site: Site) -> Iterator[tuple[Clock, list[datetime]]]:
    """A clock on the `site` (both databases) whose time is the list's one item: tests move
    it rather than sleep. Its scheduler is paused: jobs are run by hand."""
    now = [utcnow()]
    watcher = ConfigWatcher(site.config)
    store = Store(site.db)
    pipeline = Pipeline(watcher.current, store, clock=lambda: now[0])
    c = Clock(pipeline, watcher, blocking=False)
    c.heartbeat_job(activate=False)  # the only clock: it holds the lease
    assert c.holding()
    c.scheduler.start(paused=True)
    yield c, now
    c.shutdown()
    pipeline.close()
    store.close()


def scheduled(when: datetime, title: str) -> str:
    return f'---\ntitle: "{title}"\ndate: {when.isoformat()}\n---\nHeld back until its time.\n'


def served(client: FlaskClient, fmt: str = "rss", feed: str = "ours") -> list[str]:
    response = client.get(f"/feeds/{feed}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        return [item["title"] for item in response.get_json()["items"]]
    return [e.title for e in feedparser.parse(response.data).entries]


def release_time(clock: Clock) -> datetime | None:
    job = clock.scheduler.get_job(RELEASE_JOB)
    return None if job is None else job.next_run_time


def test_a_scheduled_article_is_published_at_its_time(
    site: Site, client: FlaskClient, desk_clock: tuple[Clock, list[datetime]]
) -> None:
    clock, now = desk_clock
    first, second = now[0] + timedelta(hours=1), now[0] + timedelta(hours=2, minutes=30)
    articles = site.config / "articles"
    (articles / "embargoed.md").write_text(scheduled(first, "Embargoed story"), "utf-8")
    (articles / "later.md").write_text(scheduled(second, "Later story"), "utf-8")
    clock.articles_job()
    assert release_time(clock) == first  # a one-shot job at the first one's time
    for fmt in ("rss", "json"):
        assert served(client, fmt) == [
            "Beirut’s grain silos: a memorial or a ruin?",
            "الأردن يوسّع مشروع تحلية المياه في العقبة",
        ]

    now[0] = first - timedelta(seconds=1)
    clock.articles_job()  # nothing changed in the files: still held back
    assert "Embargoed story" not in served(client)
    now[0] = first  # the scheduler runs the job at its time
    clock.release_job()
    for fmt in ("rss", "json"):
        titles = served(client, fmt)
        assert titles[0] == "Embargoed story" and "Later story" not in titles
    assert "Embargoed story" in served(client, "rss", "everything")
    assert release_time(clock) == second  # planned again: the next one

    now[0] = second
    clock.release_job()
    assert served(client)[:2] == ["Later story", "Embargoed story"]
    assert release_time(clock) is None  # nothing else scheduled


def test_the_release_is_planned_again_on_config_reload_and_for_other_processes(
    site: Site, desk_clock: tuple[Clock, list[datetime]]
) -> None:
    clock, now = desk_clock
    clock.articles_job()
    assert release_time(clock) is None
    when = now[0] + timedelta(minutes=45)
    (site.config / "articles" / "embargoed.md").write_text(scheduled(when, "Soon"), "utf-8")
    # `feeds update` from cron stores it first: the clock's sync finds nothing new, and
    # still sets the job
    assert site.feeds("update") == 0
    clock.articles_job()
    assert release_time(clock) == when
    clock.scheduler.remove_job(RELEASE_JOB)
    feeds_toml = site.config / "feeds.toml"
    feeds_toml.write_text(
        feeds_toml.read_text("utf-8") + '\n[[feed]]\nname = "more"\ntitle = "More"\nlocal = true\n',
        "utf-8",
    )
    clock.config_job()
    assert clock.pipeline.config.feed("more") is not None
    assert release_time(clock) == when


def test_check_accepts_and_update_holds_back_a_future_article(
    site: Site, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    tomorrow = utcnow() + timedelta(days=1)
    (site.config / "articles" / "tomorrow.md").write_text(
        scheduled(tomorrow, "Tomorrow’s story"), "utf-8"
    )
    assert site.feeds("check") == 0
    assert "3 articles" in capsys.readouterr().out
    assert site.feeds("update") == 0
    for fmt in ("rss", "atom", "json"):
        assert "Tomorrow’s story" not in served(client, fmt)
    assert len(served(client)) == 2


# --------------------------------------------------------------------------- article problems


def test_an_article_problem_is_logged_once_when_it_appears_and_when_fixed(
    site: Site, desk_clock: tuple[Clock, list[datetime]], caplog: pytest.LogCaptureFixture
) -> None:
    clock, now = desk_clock
    caplog.set_level(logging.INFO, logger="feeds")
    bad = (site.config / "articles").resolve() / "half-saved.md"
    bad.write_text("---\ntitle: Half-saved\ndate: tomorrow\n---\nBody\n", "utf-8")

    def logged() -> list[tuple[str, str]]:
        found = [
            (r.levelname, r.getMessage()) for r in caplog.records if str(bad) in r.getMessage()
        ]
        caplog.clear()
        return found

    clock.articles_job()
    now[0] += timedelta(seconds=30)
    clock.articles_job()  # the next sync, 30 s later: the same problem, not logged again
    message = f"{bad}: date: not an ISO 8601 date and time: 'tomorrow'"
    assert logged() == [("WARNING", f"article problem: {message}")]
    assert site.feeds("update") == 0  # another process: the problem is known already
    assert logged() == []

    bad.write_text("---\ntitle: Saved\ndate: 2026-11-20T08:00:00Z\n---\nBody\n", "utf-8")
    clock.articles_job()
    clock.articles_job()
    assert logged() == [("INFO", f"article problem fixed: {message}")]


# --------------------------------------------------------------------------- heartbeat


def test_the_clock_writes_its_heartbeat_and_removes_it_when_it_stops(
    site: Site, desk_clock: tuple[Clock, list[datetime]]
) -> None:
    clock, now = desk_clock
    store = clock.pipeline.store
    started = now[0]
    clock.heartbeat_job()
    now[0] += timedelta(seconds=5)
    clock.heartbeat_job()
    assert store.clocks() == [
        ClockBeat(clock.id, socket.gethostname(), os.getpid(), started, now[0], active=True)
    ]
    clock.shutdown()
    assert store.clocks() == []


def test_a_started_clock_beats_every_few_seconds_and_plans_releases(site: Site) -> None:
    when = utcnow() + timedelta(hours=3)
    (site.config / "articles" / "embargoed.md").write_text(scheduled(when, "Later"), "utf-8")
    watcher = ConfigWatcher(site.config)
    with Store(site.db) as store, Pipeline(watcher.current, store) as pipeline:
        clock = Clock(pipeline, watcher, blocking=False)
        clock.start()
        try:
            assert [(c.id, c.active) for c in store.clocks()] == [(clock.id, True)]
            heartbeat = clock.scheduler.get_job("heartbeat")
            assert heartbeat.trigger.interval == timedelta(seconds=HEARTBEAT_SECONDS)
            assert heartbeat.executor == "heartbeat"  # busy fetches never hold it up
            assert release_time(clock) == when
        finally:
            clock.shutdown()
        assert store.clocks() == []
