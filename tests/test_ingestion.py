"""Ingestion through the pipeline against misbehaving loopback upstreams: politeness, moved
and gone feeds, our own network being down, retention, and a mixed source list."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

import feeds.pipeline.refresh
from feeds.config import load_config
from feeds.pipeline import Fetched, Pipeline
from feeds.store import Store
from feeds.types import FetchStatus, SourceState
from tests.sites import ALL_SOURCES_FEED, FIXTURES, Site, source_toml, write_site
from tests.upstream import Upstream

WIRE = (FIXTURES / "upstream" / "wire.xml").read_bytes()


def rss(*items: tuple[str, str, datetime]) -> bytes:
    body = "".join(
        f"<item><guid isPermaLink='false'>{guid}</guid><title>{title}</title>"
        f"<link>https://wire.example/{guid}</link>"
        f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>"
        for guid, title, when in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>W</title>"
        f"<link>https://wire.example/</link><description>d</description>{body}</channel></rss>"
    ).encode()


class Env:
    def __init__(self, root: Path, upstream: Upstream, sources: str, deadline: float = 5):
        self.root = root
        self.upstream = upstream
        self.config_dir = write_site(
            root, upstream, sources=sources, feeds=ALL_SOURCES_FEED, deadline=deadline
        )
        self.store = Store(f"sqlite:///{root / 'feeds.db'}")
        self.pipeline = Pipeline(load_config(self.config_dir), self.store)

    def reload(self, sources: str) -> None:
        (self.config_dir / "sources.toml").write_text(sources, encoding="utf-8")
        self.pipeline.reconfigure(load_config(self.config_dir))

    def state(self, source_id: str) -> tuple[SourceState, int, str | None]:
        status = self.store.source_status(source_id)
        assert status is not None
        return status.state, status.failures, status.last_error

    def close(self) -> None:
        self.pipeline.close()
        self.store.close()


@pytest.fixture
def env_factory(tmp_path: Path, upstream: Upstream) -> Iterator[object]:
    made: list[Env] = []

    def make(sources: str, deadline: float = 5) -> Env:
        env = Env(tmp_path / f"env{len(made)}", upstream, sources, deadline)
        made.append(env)
        return env

    yield make
    for env in made:
        env.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unchanged_body_without_validators_is_not_parsed_again(
    env_factory: object, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.set("/plain.xml", WIRE)  # no ETag, no Last-Modified
    env = env_factory(source_toml("plain", upstream.url("/plain.xml")))  # type: ignore[operator]
    calls = []
    real = feeds.pipeline.refresh.parse_and_normalize

    def counting(*args: object) -> object:
        calls.append(args[3])
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(feeds.pipeline.refresh, "parse_and_normalize", counting)
    first = env.pipeline.refresh_all()
    second = env.pipeline.refresh_all()
    assert [o.status for o in first + second] == [FetchStatus.OK, FetchStatus.NOT_MODIFIED]
    assert calls == ["plain"]
    assert [r.status for r in env.store.recent_fetches("plain")] == ["not_modified", "ok"]


def test_permanent_redirect_is_used_from_then_on_and_suggested(
    env_factory: object, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream.set("/new.xml", WIRE)
    moved = upstream.url("/redirect/301?to=/new.xml")
    temporary = upstream.url("/redirect/302?to=/new.xml")
    env = env_factory(  # type: ignore[operator]
        source_toml("moved", moved) + source_toml("temp", temporary)
    )
    env.pipeline.refresh_all()
    env.pipeline.refresh_all()
    assert len(upstream.requests_to("/redirect/301")) == 1
    assert len(upstream.requests_to("/redirect/302")) == 2
    status = env.store.source_status("moved")
    assert status is not None and status.moved_to == upstream.url("/new.xml")
    temp = env.store.source_status("temp")
    assert temp is not None and temp.moved_to is None
    from feeds.cli import main

    main(["--config", str(env.config_dir), "--database", env.store.url, "sources"])
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("moved "))
    assert f"moved to {upstream.url('/new.xml')}" in line
    assert f"url = '{upstream.url('/new.xml')}'" in line


def test_gone_source_is_disabled_until_its_config_changes(
    env_factory: object, upstream: Upstream
) -> None:
    sources = source_toml("old", upstream.url("/status/410"))
    env = env_factory(sources)  # type: ignore[operator]
    env.pipeline.refresh_all()
    assert env.state("old")[0] is SourceState.GONE
    env.pipeline.refresh_all()
    assert not env.pipeline.due(env.pipeline.config.sources[0])
    assert len(upstream.requests_to("/status/410")) == 1
    env.reload(sources.replace('title = "old"', 'title = "Old, retitled"'))
    assert env.state("old")[0] is SourceState.NEW
    env.pipeline.refresh_all()
    assert len(upstream.requests_to("/status/410")) == 2


def test_when_every_source_fails_at_once_none_is_marked_broken(
    env_factory: object, upstream: Upstream
) -> None:
    ports = [closed_port() for _ in range(3)]
    env = env_factory(  # type: ignore[operator]
        "".join(source_toml(f"s{n}", f"http://127.0.0.1:{p}/feed") for n, p in enumerate(ports))
    )
    for _ in range(2):
        outcomes = env.pipeline.refresh_all()
        assert all(o.status is FetchStatus.ERROR for o in outcomes)
        for n in range(3):
            state, failures, error = env.state(f"s{n}")
            assert (state, failures) == (SourceState.NEW, 0)
            assert error is not None and "not counted yet" in error


def test_network_failure_counts_when_another_upstream_answers(
    env_factory: object, upstream: Upstream
) -> None:
    upstream.set("/wire.xml", WIRE)
    env = env_factory(  # type: ignore[operator]
        source_toml("good", upstream.url("/wire.xml"))
        + source_toml("refused", f"http://127.0.0.1:{closed_port()}/feed")
    )
    env.pipeline.refresh_all()
    state, failures, error = env.state("refused")
    assert (state, failures) == (SourceState.ERROR, 1)
    assert error is not None and "refused" in error and "not counted" not in error


def test_retention_drops_old_entries_and_they_never_come_back(
    env_factory: object, upstream: Upstream
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    a, b, c, d = ((f"e{n}", f"Entry {n}", now - timedelta(hours=10 - n)) for n in range(4))
    upstream.set("/r.xml", rss(a, b, c))
    env = env_factory(source_toml("r", upstream.url("/r.xml"), max_items=2))  # type: ignore[operator]
    first = env.pipeline.refresh_all()[0]
    assert first.new == 3  # all in the latest fetch: kept even beyond max_items
    upstream.set("/r.xml", rss(d))
    env.pipeline.refresh_all()
    kept = {e.id for e in env.store.recent_entries(["r"], 10)}
    assert kept == {"e3", "e2"}
    assert env.store.tombstone_count("r") == 2
    upstream.set("/r.xml", rss(d, a))  # a removed entry reappears upstream
    again = env.pipeline.refresh_all()[0]
    assert (again.new, again.updated) == (0, 0)
    assert {e.id for e in env.store.recent_entries(["r"], 10)} == {"e3", "e2"}


def test_retry_after_schedules_the_next_attempt(env_factory: object, upstream: Upstream) -> None:
    env = env_factory(source_toml("busy", upstream.url("/status/429")))  # type: ignore[operator]
    before = datetime.now(UTC).replace(microsecond=0)
    env.pipeline.refresh_all()
    status = env.store.source_status("busy")
    assert status is not None and status.next_fetch is not None
    assert timedelta(seconds=119) <= status.next_fetch - before <= timedelta(seconds=122)


HOSTILE = {
    "drip": "/drip",
    "hang": "/hang",
    "bomb": "/bomb",
    "big": "/big",
    "missing": "/status/404",
    "broken": "/status/500",
    "loop": "/loop",
    "html": "/page.html",
    "noise": "/noise.bin",
    "empty": "/empty.xml",
}


def test_update_over_good_and_hostile_sources_is_bounded_and_explained(
    env_factory: object, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    upstream.set("/wire.xml", WIRE)
    upstream.set(
        "/page.html",
        b"<!doctype html><html><head><link rel='alternate' type='application/rss+xml' "
        b"href='/wire.xml'></head><body>Hello</body></html>",
        headers={"Content-Type": "text/html"},
    )
    upstream.set("/noise.bin", bytes(range(256)) * 40)
    upstream.set("/empty.xml", b"")
    sources = source_toml("good", upstream.url("/wire.xml")) + "".join(
        source_toml(name, upstream.url(path)) for name, path in HOSTILE.items()
    )
    env = env_factory(sources, deadline=2)  # type: ignore[operator]
    from feeds.cli import main

    started = time.monotonic()
    code = main(["--config", str(env.config_dir), "--database", env.store.url, "update"])
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < 15
    capsys.readouterr()
    main(["--config", str(env.config_dir), "--database", env.store.url, "sources"])
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["good"].split()[1] == "ok"
    for name in HOSTILE:
        assert lines[name].split()[1] == "error", lines[name]
    assert "deadline" in lines["drip"] and "deadline" in lines["hang"]
    assert "body exceeds the 10485760-byte cap" in lines["bomb"]
    assert "body exceeds the 10485760-byte cap" in lines["big"]
    assert "404" in lines["missing"] and "500" in lines["broken"]
    assert "redirect" in lines["loop"].lower()
    assert f"it points to the feed at {upstream.url('/wire.xml')}" in lines["html"]
    assert "not a feed" in lines["noise"] and "not a feed: empty body" in lines["empty"]
    document = env.store.get_document("all", feeds.types.Format.RSS)
    assert document is not None and b"Aid convoy reaches northern Gaza" in document.body


def test_metrics_count_fetches_in_prometheus_format(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    assert site.feeds("update", "--force") == 0
    response = client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = response.data.decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"# (HELP|TYPE) feeds_\w+ ", line), line
            continue
        name, value = line.rsplit(" ", 1)
        samples[name] = float(value)
    assert samples['feeds_source_fetches_total{source="wire",outcome="ok"}'] == 1
    assert samples['feeds_source_fetches_total{source="wire",outcome="not_modified"}'] == 1
    assert samples['feeds_source_fetches_total{source="down",outcome="error"}'] == 2
    assert samples['feeds_source_new_entries_total{source="wire"}'] == 3
    assert samples['feeds_source_up{source="down"}'] == 0
    assert samples['feeds_source_up{source="wire"}'] == 1
    assert samples['feeds_source_consecutive_failures{source="down"}'] == 2
    buckets = [
        v
        for k, v in samples.items()
        if k.startswith('feeds_source_fetch_duration_seconds_bucket{source="un"')
    ]
    assert buckets == sorted(buckets) and buckets[-1] == 2
    assert samples['feeds_source_fetch_duration_seconds_count{source="un"}'] == 2


def test_a_large_batch_parses_in_worker_processes_with_the_same_result(
    env_factory: object, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = feeds.pipeline.refresh.PROCESS_POOL_MIN_SOURCES
    for n in range(count):
        upstream.set(f"/w{n}.xml", WIRE.replace(b"wire-100", f"w{n}-100".encode()))
    sources = "".join(source_toml(f"w{n}", upstream.url(f"/w{n}.xml")) for n in range(count))
    env = env_factory(sources)  # type: ignore[operator]
    pools = []
    real_pool = feeds.pipeline.refresh.parse_pool

    def recording_pool(*args: object, **kwargs: object) -> object:
        pool = real_pool(*args, **kwargs)  # type: ignore[arg-type]
        pools.append(pool)
        return pool

    monkeypatch.setattr(feeds.pipeline.refresh, "parse_pool", recording_pool)
    outcomes = env.pipeline.refresh_all()
    assert len(pools) == 1  # the batch used worker processes
    assert [(o.status, o.new) for o in outcomes] == [(FetchStatus.OK, 3)] * count
    ids = {e.id for e in env.store.recent_entries(["w0", f"w{count - 1}"], 10)}
    assert ids == {
        "w0-1001",
        "w0-1002",
        "w0-1003",
        f"w{count - 1}-1001",
        f"w{count - 1}-1002",
        f"w{count - 1}-1003",
    }


class Ticking:
    """A clock that moves one minute per reading: every event gets its own time."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def test_single_refreshes_count_network_failures_only_when_others_answer(
    env_factory: object, upstream: Upstream
) -> None:
    """The scheduler's path (one source at a time): a DNS/connection failure is counted once
    another upstream has answered after it; while nothing answers it is never counted."""
    upstream.set("/wire.xml", WIRE)
    env = env_factory(  # type: ignore[operator]
        source_toml("good", upstream.url("/wire.xml"))
        + source_toml("refused", f"http://127.0.0.1:{closed_port()}/feed")
    )
    env.pipeline.clock = Ticking()
    good, refused = env.pipeline.config.sources
    env.pipeline.refresh(good)
    env.pipeline.refresh(refused)
    assert env.state("refused")[:2] == (SourceState.NEW, 0)  # nothing answered since: deferred
    history = []
    for _ in range(3):
        env.pipeline.refresh(good)
        env.pipeline.refresh(refused)
        history.append(env.state("refused")[:2])
    assert history == [(SourceState.ERROR, 1), (SourceState.ERROR, 2), (SourceState.ERROR, 3)]
    # our network goes down (nothing answers): counted at most once more, then never
    for _ in range(3):
        env.pipeline.refresh(refused)
    assert env.state("refused")[1] == 3


def test_a_permanent_redirect_to_something_that_is_not_a_feed_is_not_adopted(
    env_factory: object, upstream: Upstream
) -> None:
    upstream.set("/parked.html", b"<html><body>Domain for sale</body></html>")
    env = env_factory(  # type: ignore[operator]
        source_toml("moved", upstream.url("/redirect/301?to=/parked.html"))
    )
    env.pipeline.refresh_all()
    status = env.store.source_status("moved")
    assert status is not None and status.moved_to is None
    assert status.state is SourceState.ERROR and "not a feed" in (status.last_error or "")


def test_a_result_for_an_outdated_source_config_is_dropped(
    env_factory: object, upstream: Upstream
) -> None:
    upstream.set("/wire.xml", WIRE)
    env = env_factory(source_toml("w", upstream.url("/wire.xml")))  # type: ignore[operator]
    source = env.pipeline.config.sources[0]
    fetched = env.pipeline.refresher.fetch(source)
    # an editor changes the source while it is being fetched
    env.reload(source_toml("w", upstream.url("/wire.xml"), interval="2h"))
    assert isinstance(fetched, Fetched)
    outcome = env.pipeline.refresher.complete(fetched)
    assert (outcome.new, outcome.updated) == (0, 0)
    status = env.store.source_status("w")
    assert status is not None and status.state is SourceState.NEW and status.etag is None
    assert env.store.recent_entries(["w"], 10) == []


def test_a_parser_crash_is_recorded_on_the_source_with_backoff(
    env_factory: object, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream.set("/wire.xml", WIRE)
    env = env_factory(source_toml("w", upstream.url("/wire.xml")))  # type: ignore[operator]

    def crash(*args: object) -> object:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(feeds.pipeline.refresh, "parse_and_normalize", crash)
    (outcome,) = env.pipeline.refresh_all()
    assert outcome.status is FetchStatus.ERROR
    state, failures, error = env.state("w")
    assert (state, failures) == (SourceState.ERROR, 1)
    assert error is not None and "RecursionError" in error
    status = env.store.source_status("w")
    assert status is not None and status.next_fetch is not None


def test_an_article_file_broken_mid_edit_keeps_its_last_good_version(
    env_factory: object, upstream: Upstream
) -> None:
    env = env_factory("")  # type: ignore[operator]
    assert env.pipeline.sync_articles().count == 2
    path = env.config_dir / "articles" / "ports-reopen.md"
    path.write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    synced = env.pipeline.sync_articles()
    assert (synced.count, synced.removed, len(synced.problems)) == (1, 0, 1)
    assert len(env.store.articles()) == 2  # the last good version still publishes
    path.unlink()
    assert env.pipeline.sync_articles().removed == 1
    assert len(env.store.articles()) == 1


def test_a_missing_articles_directory_removes_nothing(
    env_factory: object, upstream: Upstream
) -> None:
    env = env_factory("")  # type: ignore[operator]
    env.pipeline.sync_articles()
    articles = env.config_dir / "articles"
    articles.rename(articles.with_name("elsewhere"))
    synced = env.pipeline.sync_articles()
    assert synced.problems and synced.removed == 0
    assert len(env.store.articles()) == 2


def test_a_refresh_overtaken_by_another_process_is_dropped(
    env_factory: object, upstream: Upstream
) -> None:
    upstream.set("/wire.xml", WIRE, etag='"v1"')
    env = env_factory(source_toml("w", upstream.url("/wire.xml")))  # type: ignore[operator]
    ticking = Ticking()  # one clock for both: every write gets its own time
    env.pipeline.clock = ticking
    env.pipeline.refresh_all()
    source = env.pipeline.config.sources[0]
    slow = env.pipeline.refresher.fetch(source)  # this process fetches (a 304)...
    other = Pipeline(env.pipeline.config, env.store, clock=ticking)  # ...and another one too
    upstream.set("/wire.xml", WIRE.replace(b"Aid convoy", b"Convoy"), etag='"v2"')
    other.refresh(source)
    other.close()
    assert isinstance(slow, Fetched)
    env.pipeline.refresher.complete(slow)
    status = env.store.source_status("w")
    assert status is not None and status.etag == '"v2"'  # the newer state stays
