"""The clock's jobs: per-source refresh with backoff, article re-reads, config reloads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from feeds.config import load_config
from feeds.pipeline import Pipeline
from feeds.reload import ConfigWatcher
from feeds.scheduler import SOURCE_JOB_PREFIX, Clock
from feeds.store import Store
from feeds.types import Format, SourceState
from tests.sites import FIXTURES, write_site
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
    jobs = {j.id: j for j in clock.jobs()}
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
