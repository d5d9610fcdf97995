"""Webhooks: events queued where the facts change, delivered from the database's outbox to
loopback receivers that record, fail, hang and answer slowly; checked as a receiver would."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feeds.cli import main
from feeds.config import load_config
from feeds.errors import ConfigError
from feeds.fetch import Fetcher
from feeds.pipeline import Pipeline
from feeds.store import Store
from feeds.times import rfc3339
from feeds.types import EventType, Webhook
from feeds.web import create_app, state
from tests.sites import source_toml, write_site
from tests.upstream import Upstream, make_fetch_settings

SECRET = "s3cret-for-tests-only"
NOW = datetime.now(UTC).replace(microsecond=0)
FEEDS = """
[[feed]]
name = "all"
title = "All"
sources = ["*"]
limit = 50

[[feed]]
name = "flaky"
title = "Flaky only"
sources = ["flaky"]
limit = 50
"""
ITEM_EVENTS = '["item.new", "item.updated", "item.hidden"]'
ALL_EVENTS = '["item.new", "item.updated", "item.hidden", "source.failing", "source.recovered"]'


# --------------------------------------------------------------------------- receivers


class Receiver:
    """A loopback webhook receiver. ``mode``: "ok" (204), "fail" (500), "hang" (answers
    nothing until released), or "slow" (204 after ``delay`` seconds). Every request is
    recorded when it arrives: (headers, raw body); ``accepted`` holds the bodies answered
    with a 2xx."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.delay = 0.3
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.accepted: list[bytes] = []  # bodies answered with a 2xx
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.received.append((headers, body))
                mode = receiver.mode
                if mode == "hang":
                    receiver.release.wait(60)
                    return
                if mode == "slow":
                    time.sleep(receiver.delay)
                self.send_response(500 if mode == "fail" else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if mode != "fail":
                    with receiver.lock:
                        receiver.accepted.append(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=abc123"

    def events(self) -> list[dict[str, Any]]:
        """The events received, verified the way a receiver does (signature over the raw
        body, in constant time), in arrival order."""
        with self.lock:
            received = list(self.received)
        out = []
        for headers, body in received:
            expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["x-feeds-signature"], expected)
            assert headers["content-type"] == "application/json"
            event = json.loads(body)
            assert headers["x-feeds-event-id"] == event["id"]
            assert headers["x-feeds-event"] == event["type"]
            out.append(event)
        return out

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def other() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


# --------------------------------------------------------------------------- a site


def rss(items: list[tuple[int, str]]) -> bytes:
    """A feed of entries (n, description); entry n is dated n minutes after a day ago."""
    body = "".join(
        f"<item><guid isPermaLink='false'>e{n}</guid><title>Entry {n}</title>"
        f"<link>https://wire.example/e{n}</link><description>{text}</description>"
        f"<pubDate>{(NOW - timedelta(days=1, minutes=-n)).strftime('%a, %d %b %Y %H:%M:%S GMT')}"
        "</pubDate></item>"
        for n, text in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>W</title>"
        f"<link>https://wire.example/</link><description>d</description>{body}</channel></rss>"
    ).encode()


def entries(first: int, last: int, text: str = "story") -> list[tuple[int, str]]:
    return [(n, text) for n in range(first, last)]


class Newsroom:
    """A site with two sources (``wire``, ``flaky``) on the loopback upstream, and webhooks."""

    def __init__(
        self, root: Path, upstream: Upstream, db: str, webhooks: str, deadline: float = 1
    ) -> None:
        self.upstream = upstream
        upstream.set("/w.xml", rss(entries(0, 3)))
        upstream.set("/f.xml", rss(entries(100, 102)))
        sources = source_toml("wire", upstream.url("/w.xml")) + source_toml(
            "flaky", upstream.url("/f.xml")
        )
        self.config = write_site(root, upstream, sources=sources, feeds=FEEDS, deadline=deadline)
        with (self.config / "site.toml").open("a", encoding="utf-8") as f:
            f.write(webhooks)
        self.db = db
        self.env = {"HOOK_SECRET": SECRET}
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.store = Store(db)
        self.pipeline = Pipeline(load_config(self.config, self.env), self.store)
        self.pipeline.clock = lambda: self.now

    def update(self) -> None:
        """Fetch every source and publish, without delivering."""
        self.pipeline.refresh_all()
        self.pipeline.publish_all()

    def deliver(self) -> int:
        return self.pipeline.deliver_webhooks()

    @property
    def hooks(self) -> tuple[Webhook, ...]:
        return self.pipeline.config.site.webhooks

    def close(self) -> None:
        self.pipeline.close()
        self.store.close()


def hook_toml(url: str, events: str = ALL_EVENTS, extra: str = "") -> str:
    return f'\n[[webhook]]\nurl = "{url}"\nevents = {events}\nsecret_env = "HOOK_SECRET"\n{extra}'


@pytest.fixture
def newsroom(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver
) -> Iterator[Newsroom]:
    room = Newsroom(tmp_path, upstream, db_url, hook_toml(receiver.url))
    yield room
    room.close()


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(type, item title or source id) of each event."""
    return [(e["type"], e["item"]["title"] if "item" in e else e["source"]["id"]) for e in events]


# --------------------------------------------------------------------------- config


def write_config(tmp_path: Path, upstream: Upstream, webhooks: str) -> Path:
    config = write_site(tmp_path, upstream, feeds=FEEDS.replace('["flaky"]', '["wire"]'))
    with (config / "site.toml").open("a", encoding="utf-8") as f:
        f.write(webhooks)
    return config


def test_config_reads_webhooks_and_keeps_the_secret_out_of_sight(
    tmp_path: Path, upstream: Upstream
) -> None:
    extra = 'feeds = ["flaky"]\n'
    config = write_config(tmp_path, upstream, hook_toml("https://cms.example/hook", extra=extra))
    (hook,) = load_config(config, {"HOOK_SECRET": SECRET}).site.webhooks
    assert hook.url == "https://cms.example/hook"
    assert hook.events == frozenset(EventType)
    assert hook.feeds == ("flaky",)
    assert hook.secret == SECRET
    assert SECRET not in repr(hook) and SECRET not in repr(
        load_config(config, {"HOOK_SECRET": SECRET})
    )


@pytest.mark.parametrize(
    ("table", "env", "expected"),
    [
        (
            'url = "https://cms.example/h"\nevents = ["item.nwe"]\n',
            {},
            "site.toml: webhook[1].events: unknown event 'item.nwe'; did you mean 'item.new'?",
        ),
        (
            'url = "https://cms.example/h"\nevents = ["item.new"]\nfeed = ["all"]\n',
            {},
            "site.toml: webhook[1].feed: unknown key; did you mean 'feeds'?",
        ),
        (
            'url = "https://cms.example/h"\nevents = ["item.new"]\nsecret_env = "HOOK_SECRET"\n',
            {},
            "site.toml: webhook[1].secret_env: the environment variable HOOK_SECRET is not set",
        ),
        (
            'url = "https://cms.example/h"\nevents = ["item.new"]\nfeeds = ["flakey"]\n',
            {},
            "site.toml: webhook[1].feeds: unknown feed 'flakey'; did you mean 'flaky'?",
        ),
        (
            'url = "cms.example/h"\nevents = ["item.new"]\n',
            {},
            "site.toml: webhook[1].url: not an absolute http(s) URL",
        ),
        (
            'url = "https://cms.example/h"\n',
            {},
            "site.toml: webhook[1].events: missing required key",
        ),
        (
            'url = "https://cms.example/h"\nevents = []\n',
            {},
            "site.toml: webhook[1].events: must name at least one event",
        ),
    ],
)
def test_config_problems_name_file_and_key(
    tmp_path: Path, upstream: Upstream, table: str, env: dict[str, str], expected: str
) -> None:
    config = write_site(tmp_path, upstream, feeds=FEEDS.replace('["flaky"]', '["wire"]'))
    with (config / "site.toml").open("a", encoding="utf-8") as f:
        f.write("\n[[webhook]]\n" + table)
    with pytest.raises(ConfigError) as raised:
        load_config(config, env)
    assert any(line.startswith(expected) for line in raised.value.problems), raised.value.problems


def test_check_names_a_missing_secret_variable(
    tmp_path: Path, upstream: Upstream, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, upstream, hook_toml("https://cms.example/h"))
    assert main(["--config", str(config), "check"]) != 0
    err = capsys.readouterr().err
    assert "site.toml: webhook[1].secret_env: the environment variable HOOK_SECRET" in err


def test_two_webhooks_with_one_url_are_a_problem(tmp_path: Path, upstream: Upstream) -> None:
    url = "https://cms.example/h"
    config = write_config(tmp_path, upstream, hook_toml(url) + hook_toml(url))
    with pytest.raises(ConfigError) as raised:
        load_config(config, {"HOOK_SECRET": "x"})
    assert raised.value.problems == ["site.toml: webhook[2].url: the same URL as another webhook"]


# --------------------------------------------------------------------------- item events


def test_new_updated_and_hidden_items_reach_the_receiver_signed(
    newsroom: Newsroom, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    newsroom.update()  # the feeds' first publish: a baseline, not news
    assert newsroom.deliver() == 0
    assert receiver.received == []

    newsroom.upstream.set("/w.xml", rss(entries(0, 5)))
    newsroom.now += timedelta(minutes=1)
    newsroom.update()
    assert newsroom.deliver() == 2
    events = receiver.events()
    assert kinds(events) == [("item.new", "Entry 3"), ("item.new", "Entry 4")]
    first = events[0]
    assert set(first) == {"id", "type", "time", "item"}
    assert first["item"] == {
        "id": "tag:outlet.example,2026:wire/e3",
        "feed": "all",
        "title": "Entry 3",
        "link": "https://wire.example/e3",
        "published": first["item"]["published"],
        "updated": first["item"]["updated"],
    }
    assert first["item"]["published"].endswith("Z")
    assert first["time"] == rfc3339(newsroom.now)

    # a correction: the entry's text changes, its modified date moves
    newsroom.upstream.set("/w.xml", rss([*entries(0, 4), (4, "corrected")]))
    newsroom.now += timedelta(minutes=1)
    newsroom.update()
    newsroom.deliver()
    assert kinds(receiver.events()[2:]) == [("item.updated", "Entry 4")]

    # nothing changed: nothing sent
    newsroom.now += timedelta(minutes=1)
    newsroom.update()
    assert newsroom.deliver() == 0
    assert len(receiver.received) == 3

    # an editor hides an item (from another process: the CLI), the clock follows
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    hide = ["--config", str(newsroom.config), "--database", newsroom.db, "hide"]
    assert main([*hide, "https://wire.example/e2", "--reason", "legal"]) == 0
    newsroom.pipeline.follow_overrides()
    newsroom.deliver()
    hidden = receiver.events()[3:]
    assert kinds(hidden) == [("item.hidden", "Entry 2")]
    assert hidden[0]["item"]["id"] == "tag:outlet.example,2026:wire/e2"
    assert len({e["id"] for e in receiver.events()}) == 4  # every event its own id

    # unhidden: back as it was, nothing to tell; hidden again: told again
    assert main([*hide[:-1], "unhide", "https://wire.example/e2"]) == 0
    newsroom.pipeline.follow_overrides()
    assert newsroom.deliver() == 0
    assert main([*hide, "https://wire.example/e2"]) == 0
    newsroom.pipeline.follow_overrides()
    assert newsroom.deliver() == 1
    assert kinds(receiver.events()[4:]) == [("item.hidden", "Entry 2")]


def test_the_feeds_filter_limits_item_events_not_source_events(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver
) -> None:
    room = Newsroom(
        tmp_path, upstream, db_url, hook_toml(receiver.url, extra='feeds = ["flaky"]\n')
    )
    try:
        room.update()
        upstream.set("/w.xml", rss(entries(0, 4)))  # new in "all" only
        upstream.set("/f.xml", rss(entries(100, 103)))  # new in "all" and "flaky"
        room.now += timedelta(minutes=1)
        room.update()
        room.deliver()
        assert kinds(receiver.events()) == [("item.new", "Entry 102")]
        assert receiver.events()[0]["item"]["feed"] == "flaky"
        upstream.set("/f.xml", b"", status=500)
        for _ in range(3):
            room.now += timedelta(hours=1)
            room.pipeline.refresh_all()
        room.deliver()
        assert kinds(receiver.events())[1:] == [("source.failing", "flaky")]
    finally:
        room.close()


# --------------------------------------------------------------------------- source events


def test_failing_and_recovered_fire_once_each(newsroom: Newsroom, receiver: Receiver) -> None:
    newsroom.update()
    flaky = newsroom.pipeline.config.source("flaky")
    assert flaky is not None
    newsroom.upstream.set("/f.xml", b"oops", status=500)
    for n in range(5):  # five failed fetches: failing once, at the third
        newsroom.now += timedelta(hours=1)
        newsroom.pipeline.refresh(flaky)
        newsroom.deliver()
        assert len(receiver.received) == (1 if n >= 2 else 0)
    (failing,) = receiver.events()
    assert failing["type"] == "source.failing"
    first_failure = newsroom.now - timedelta(hours=4)
    assert failing["source"] == {
        "id": "flaky",
        "url": newsroom.upstream.url("/f.xml"),
        "error": failing["source"]["error"],
        "since": rfc3339(first_failure),
    }
    assert "500" in failing["source"]["error"]

    newsroom.upstream.set("/f.xml", rss(entries(100, 102)))
    for _ in range(3):  # back, and staying up: recovered once
        newsroom.now += timedelta(hours=1)
        newsroom.pipeline.refresh(flaky)
        newsroom.deliver()
    assert kinds(receiver.events()) == [("source.failing", "flaky"), ("source.recovered", "flaky")]
    recovered = receiver.events()[1]["source"]
    assert recovered["since"] == failing["source"]["since"]
    assert "500" in recovered["error"]


def test_a_source_url_is_sent_without_credentials_or_secret_parameters(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver
) -> None:
    room = Newsroom(tmp_path, upstream, db_url, hook_toml(receiver.url))
    try:
        url = upstream.url("/status/500").replace("http://", "http://user:pw@") + "?api_key=K9&x=1"
        sources = source_toml("wire", upstream.url("/w.xml")) + source_toml("flaky", url)
        (room.config / "sources.toml").write_text(sources, encoding="utf-8")
        room.pipeline.reconfigure(load_config(room.config, room.env))
        for _ in range(3):
            room.now += timedelta(hours=1)
            room.pipeline.refresh_all()
        room.deliver()
        (event,) = receiver.events()
        assert event["source"]["url"] == upstream.url("/status/500") + "?x=1"
        assert b"K9" not in receiver.received[0][1] and b"pw@" not in receiver.received[0][1]
    finally:
        room.close()


# --------------------------------------------------------------------------- delivery


def queue_new_items(room: Newsroom, count: int) -> None:
    room.update()
    room.upstream.set("/w.xml", rss(entries(0, 3 + count)))
    room.now += timedelta(minutes=1)
    room.update()


def test_in_order_per_webhook_and_a_failing_one_holds_back_only_itself(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver, other: Receiver
) -> None:
    room = Newsroom(tmp_path, upstream, db_url, hook_toml(receiver.url) + hook_toml(other.url))
    try:
        queue_new_items(room, 4)
        receiver.mode = "fail"
        assert room.deliver() == 4  # the other webhook's four
        good = [e["id"] for e in other.events()]
        assert [e["item"]["title"] for e in other.events()] == [f"Entry {n}" for n in range(3, 7)]
        assert len(receiver.received) == 1  # its head failed: nothing after it was tried
        failing, fine = room.store.webhook_states(room.hooks)
        assert (failing.backlog, failing.attempts, fine.backlog) == (4, 1, 0)
        assert failing.last_error == "receiver answered HTTP 500 Internal Server Error"
        assert failing.next_attempt == room.now + timedelta(seconds=10)

        room.deliver()  # before its retry time: not tried
        assert len(receiver.received) == 1
        receiver.mode = "ok"
        room.now += timedelta(seconds=10)
        assert room.deliver() == 4
        ids = [e["id"] for e in receiver.events()]
        assert ids == [good[0], *good]  # the failed one again, then all in order
        failing, fine = room.store.webhook_states(room.hooks)
        assert (failing.backlog, failing.attempts, failing.delivered) == (0, 0, 4)
        assert failing.last_delivery == room.now
    finally:
        room.close()


def test_backoff_doubles_for_a_day_then_the_event_is_given_up(
    newsroom: Newsroom, receiver: Receiver
) -> None:
    queue_new_items(newsroom, 2)
    receiver.mode = "fail"
    (hook,) = newsroom.hooks
    start = newsroom.now
    gaps = []
    while True:
        newsroom.deliver()
        state_ = newsroom.store.webhook_state(hook)
        assert state_ is not None
        if state_.next_attempt is None:
            break
        gaps.append((state_.next_attempt - newsroom.now).total_seconds())
        newsroom.now = state_.next_attempt
    assert gaps[:5] == [10, 20, 40, 80, 160]
    assert max(gaps) == 3600
    assert newsroom.now - start <= timedelta(days=1)
    assert newsroom.now - start > timedelta(hours=23)
    (given_up,) = newsroom.store.given_up_events(hook)
    first = json.loads(receiver.received[0][1])
    assert given_up[:2] == (first["id"], "item.new")
    assert "HTTP 500" in given_up[3]
    assert len(receiver.received) == len(gaps) + 1  # one try per planned time, no more
    # the next event goes on
    receiver.mode = "ok"
    newsroom.deliver()
    last = json.loads(receiver.received[-1][1])
    assert last["item"]["title"] == "Entry 4"
    assert newsroom.store.webhook_states(newsroom.hooks)[0].given_up == 1


def test_a_hanging_receiver_times_out_and_holds_back_no_other_webhook(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver, other: Receiver
) -> None:
    room = Newsroom(tmp_path, upstream, db_url, hook_toml(receiver.url) + hook_toml(other.url))
    try:
        queue_new_items(room, 2)
        receiver.mode = "hang"
        other.mode = "slow"  # 0.3 s per answer: within the deadline
        seen: list[float] = []
        start = time.monotonic()
        watcher = threading.Thread(
            target=lambda: seen.append(_wait_for(lambda: len(other.received) == 2, start))
        )
        watcher.start()
        assert room.deliver() == 2
        elapsed = time.monotonic() - start
        watcher.join()
        assert elapsed < 5  # the fetch deadline of this site is 1 s
        assert seen[0] < 1.5  # the slow webhook was served while the other one hung
        hung = room.store.webhook_states(room.hooks)[0]
        assert hung.backlog == 2 and "deadline of 1s exceeded" in (hung.last_error or "")
    finally:
        room.close()


def _wait_for(condition: Any, start: float, timeout: float = 10) -> float:
    while not condition() and time.monotonic() - start < timeout:
        time.sleep(0.02)
    return time.monotonic() - start


def test_private_receivers_need_allow_private_addresses(receiver: Receiver) -> None:
    with Fetcher(make_fetch_settings(allow_private_addresses=False)) as fetcher:
        answer = fetcher.post(receiver.url, b"{}", [("Content-Type", "application/json")])
    assert not answer.ok and "non-public address" in (answer.error or "")
    assert receiver.received == []


def test_status_and_metrics_show_each_webhooks_backlog_and_last_error(
    newsroom: Newsroom, receiver: Receiver
) -> None:
    queue_new_items(newsroom, 3)
    receiver.mode = "fail"
    newsroom.deliver()
    os.environ["HOOK_SECRET"] = SECRET
    try:
        app = create_app({"FEEDS_CONFIG": str(newsroom.config), "DATABASE_URL": newsroom.db})
        client = app.test_client()
        data = client.get("/status.json").get_json()
        (hook,) = data["webhooks"]
        shown_url = receiver.url.removesuffix("?token=abc123")
        assert hook["url"] == shown_url
        assert hook["backlog"] == 3 and hook["attempts"] == 1
        assert hook["last_error"] == "receiver answered HTTP 500 Internal Server Error"
        assert hook["last_delivery"] is None
        page = client.get("/status").get_data(as_text=True)
        assert shown_url.replace("&", "&amp;") in page and "HTTP 500" in page
        metrics = client.get("/metrics").get_data(as_text=True)
        assert f'feeds_webhook_backlog{{webhook="{shown_url}"}} 3' in metrics
        assert f'feeds_webhook_failing{{webhook="{shown_url}"}} 1' in metrics
        for text in (json.dumps(data), page, metrics):
            assert SECRET not in text and "abc123" not in text
        state(app).store.close()
    finally:
        del os.environ["HOOK_SECRET"]


# --------------------------------------------------------------------------- a crash


def start_clock(room: Newsroom, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "feeds.cli", "--config", str(room.config)]
    with log.open("ab") as out:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [*command, "--database", room.db, "scheduler"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, HOOK_SECRET=SECRET),
        )


def test_kill_9_of_the_clock_loses_no_event(
    tmp_path: Path,
    upstream: Upstream,
    db_url: str,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Events in the outbox, the clock killed in the middle of a delivery; after a restart
    every event arrives (at least once), in order. While the delivery hangs, the clock goes
    on publishing (an editor's hide is published, and its event queued)."""
    newsroom = Newsroom(tmp_path, upstream, db_url, hook_toml(receiver.url), deadline=8)
    queue_new_items(newsroom, 5)
    (hook,) = newsroom.hooks
    queued = [e.id for e in newsroom.store.webhook_events(hook, 0, 100)]
    assert len(queued) == 5
    receiver.mode = "hang"
    log = tmp_path / "clock.log"
    clock = start_clock(newsroom, log)
    try:
        assert _wait_for(lambda: receiver.received, time.monotonic(), 30) < 30, log.read_text()
        hung = time.monotonic()  # the clock's POST now waits up to 8 s for an answer
        monkeypatch.setenv("HOOK_SECRET", SECRET)
        hide = ["--config", str(newsroom.config), "--database", newsroom.db, "hide"]
        assert main([*hide, "https://wire.example/e1"]) == 0

        def hidden_queued() -> bool:
            found = newsroom.store.webhook_events(hook, 0, 100)
            return any(e.type is EventType.ITEM_HIDDEN for e in found)

        assert _wait_for(hidden_queued, hung) < 6, log.read_text()
        assert len(receiver.received) == 1  # still the one hanging request
        clock.send_signal(signal.SIGKILL)
        clock.wait(10)
    finally:
        if clock.poll() is None:
            clock.kill()
            clock.wait(10)
    after_kill = [e.id for e in newsroom.store.webhook_events(hook, 0, 100)]
    assert after_kill[:5] == queued  # all still there (the killed clock may have added more)
    receiver.mode = "ok"
    receiver.release.set()
    clock = start_clock(newsroom, log)
    try:
        start = time.monotonic()

        def delivered() -> set[str]:  # answered with a 2xx: the hung request does not count
            return {json.loads(body)["id"] for body in receiver.accepted}

        _wait_for(lambda: set(after_kill) <= delivered(), start, 60)
        assert set(after_kill) <= delivered(), log.read_text()
    finally:
        clock.send_signal(signal.SIGTERM)
        clock.wait(30)
        newsroom.close()
    firsts: list[str] = []
    for body in receiver.accepted:
        event_id = json.loads(body)["id"]
        if event_id not in firsts:
            firsts.append(event_id)
    assert firsts[: len(after_kill)] == after_kill  # in order, each at least once


def test_a_new_webhook_is_not_sent_the_past_and_delivered_events_are_pruned(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver, other: Receiver
) -> None:
    room = Newsroom(tmp_path, upstream, db_url, hook_toml(receiver.url))
    try:
        queue_new_items(room, 2)
        assert room.deliver() == 2
        (hook,) = room.hooks
        assert room.store.webhook_events(hook, 0, 100) == []  # every webhook passed them
        with (room.config / "site.toml").open("a", encoding="utf-8") as f:
            f.write(hook_toml(other.url))
        room.pipeline.reconfigure(load_config(room.config, room.env))
        upstream.set("/w.xml", rss(entries(0, 6)))
        room.now += timedelta(minutes=1)
        room.update()
        assert room.deliver() == 2
        assert kinds(other.events()) == [("item.new", "Entry 5")]
        assert kinds(receiver.events())[2:] == [("item.new", "Entry 5")]
    finally:
        room.close()


def test_without_a_secret_events_go_unsigned(
    tmp_path: Path, upstream: Upstream, db_url: str, receiver: Receiver
) -> None:
    toml = f'\n[[webhook]]\nurl = "{receiver.url}"\nevents = ["item.new"]\n'
    room = Newsroom(tmp_path, upstream, db_url, toml)
    try:
        queue_new_items(room, 1)
        assert room.deliver() == 1
        ((headers, body),) = receiver.received
        assert "x-feeds-signature" not in headers
        assert headers["x-feeds-event-id"] == json.loads(body)["id"]
        assert json.loads(body)["item"]["title"] == "Entry 3"
    finally:
        room.close()
