"""/status, /status.json and their /metrics: each configured feed, its items per format, its
last publish and the items its documents left out for the byte budget; the config and article
problems; the failing sources; the clocks' heartbeats."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import lxml.html
from flask.testing import FlaskClient

from feeds.store import Store
from feeds.times import rfc3339, utcnow
from feeds.types import ClockBeat, Format, Problem, ProblemChanges, split_problems
from feeds.web import state
from tests.sites import Site
from tests.test_budget import write_long_articles


def status(client: FlaskClient) -> dict[str, dict[str, object]]:
    response = client.get("/status.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return {feed["name"]: feed for feed in response.get_json()["feeds"]}


def test_status_before_anything_is_published(site: Site, client: FlaskClient) -> None:
    feeds = status(client)
    assert list(feeds) == ["everything", "ours", "humanitarian"]  # as configured
    for feed in feeds.values():
        assert feed["published"] is None
        assert feed["max_bytes"] == 2_000_000
        for fmt in ("rss", "atom", "json"):
            assert feed["formats"][fmt]["items"] is None  # type: ignore[index]
    page = client.get("/status")
    assert page.status_code == 200
    assert "not published yet" in page.get_data(as_text=True)


def test_status_after_publishing(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    feeds = status(client)
    with Store(site.db) as store:
        documents = {(d.feed, d.format): d for d in store.current_documents()}
    assert {name for name, _ in documents} == {"everything", "ours", "humanitarian"}
    ours = feeds["ours"]
    formats = ours["formats"]
    assert isinstance(formats, dict)
    assert {fmt: formats[fmt]["items"] for fmt in formats} == {"rss": 2, "atom": 2, "json": 2}
    assert {fmt: formats[fmt]["omitted"] for fmt in formats} == {"rss": 0, "atom": 0, "json": 0}
    rss = documents[("ours", Format.RSS)]
    assert formats["rss"]["bytes"] == len(rss.body)
    assert formats["rss"]["url"] == "/feeds/ours.rss"
    assert ours["published"] == max(
        documents[("ours", fmt)].last_modified for fmt in Format
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ours["omitted"] == 0
    everything = feeds["everything"]["formats"]
    assert isinstance(everything, dict)
    assert everything["json"]["items"] == len(
        json.loads(documents[("everything", Format.JSON)].body)["items"]
    )
    page = lxml.html.fromstring(client.get("/status").get_data(as_text=True))
    row = page.get_element_by_id("ours-rss")
    assert row.find_class("omitted")[0].text_content() == "none"


def test_status_says_what_the_byte_budget_left_out(site: Site, client: FlaskClient) -> None:
    write_long_articles(site.config / "articles", 12)
    feeds_toml = site.config / "feeds.toml"
    text = feeds_toml.read_text(encoding="utf-8")
    feeds_toml.write_text(
        text.replace('name = "ours"', 'name = "ours"\nmax_bytes = 20000'), encoding="utf-8"
    )
    assert site.feeds("update") == 0
    ours = status(client)["ours"]
    assert ours["max_bytes"] == 20_000
    formats = ours["formats"]
    assert isinstance(formats, dict)
    with Store(site.db) as store:
        documents = {d.format.value: d for d in store.current_documents() if d.feed == "ours"}
    for fmt, shown in formats.items():
        assert shown["omitted"] == documents[fmt].omitted > 0
        assert shown["items"] + shown["omitted"] == 14  # 12 long articles and the 2 fixtures
        assert shown["bytes"] <= 20_000
    assert ours["omitted"] == sum(f["omitted"] for f in formats.values())
    page = lxml.html.fromstring(client.get("/status").get_data(as_text=True))
    cell = page.get_element_by_id("ours-json").find_class("omitted")[0].text_content()
    assert cell == f"{formats['json']['omitted']} oldest items left out"


# --------------------------------------------------------------------------- the editors' desk

HALF_SAVED = """---
title: "Half-saved"
date: tomorrow morning
subhead: "An editor's key that does not exist"
---
The body.
"""

FIXED = """---
title: "Saved at last"
date: 2026-11-20T08:00:00+02:00
---
The body.
"""


def desk(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/status.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def page(client: FlaskClient) -> lxml.html.HtmlElement:
    response = client.get("/status")
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def metrics(client: FlaskClient) -> dict[str, float]:
    samples = {}
    for line in client.get("/metrics").get_data(as_text=True).splitlines():
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def rows(table: lxml.html.HtmlElement) -> list[list[str]]:
    return [[cell.text_content().strip() for cell in tr.iter("td")] for tr in table.iter("tr")][1:]


def test_a_bad_article_file_shows_with_file_key_and_message_until_fixed(
    site: Site, client: FlaskClient
) -> None:
    bad = (site.config / "articles").resolve() / "half-saved.md"
    bad.write_text(HALF_SAVED, encoding="utf-8")
    assert site.feeds("update") == 0
    problems = desk(client)["article_problems"]
    assert [(p["file"], p["key"], p["message"]) for p in problems] == [
        (str(bad), "date", "not an ISO 8601 date and time: 'tomorrow morning'"),
        (str(bad), "subhead", "unknown key"),
    ]
    since = problems[0]["since"]
    assert since and since.endswith("Z")
    assert rows(page(client).get_element_by_id("article-problems")) == [
        [str(bad), "date", "not an ISO 8601 date and time: 'tomorrow morning'", since],
        [str(bad), "subhead", "unknown key", since],
    ]
    assert metrics(client)["feeds_article_problems"] == 2
    assert metrics(client)["feeds_config_problems"] == 0

    bad.write_text(FIXED, encoding="utf-8")
    assert site.feeds("update") == 0
    assert desk(client)["article_problems"] == []
    html = page(client)
    assert html.get_element_by_id("no-problems").text_content().startswith("None")
    assert html.get_element_by_id("article-problems", None) is None
    assert metrics(client)["feeds_article_problems"] == 0


def test_config_problems_show_as_file_key_and_message(site: Site, client: FlaskClient) -> None:
    desk(client)  # the web process has read the good config
    feeds_toml = site.config / "feeds.toml"
    feeds_toml.write_text(
        feeds_toml.read_text(encoding="utf-8") + '\n[[feed]]\nname = "broken"\nlimit = "many"\n',
        encoding="utf-8",
    )
    state(client.application).watcher.poll()  # at once, rather than within 5 seconds
    problems = desk(client)["config_problems"]
    expected = [
        ["feeds.toml", "feed[broken].title", "missing required key"],
        ["feeds.toml", "feed[broken].limit", "must be an integer, not a string"],
        ["feeds.toml", "feed[broken]", "selects nothing: set local and/or sources"],
    ]
    assert [[p["file"], p["key"], p["message"]] for p in problems] == expected
    assert rows(page(client).get_element_by_id("config-problems")) == expected
    assert metrics(client)["feeds_config_problems"] == 3


def test_a_failing_source_shows_since_when_and_its_next_attempt(
    site: Site, client: FlaskClient
) -> None:
    assert site.feeds("update") == 0
    assert site.feeds("update", "--force") == 0  # fails again: still failing since the first
    failing = desk(client)["failing_sources"]
    assert [s["id"] for s in failing] == ["down"]  # the loopback upstream answering 500
    down = failing[0]
    with Store(site.db) as store:
        status = store.source_status("down")
        fetches = store.recent_fetches("down")
    assert status is not None and status.next_fetch is not None and len(fetches) == 2
    assert down["state"] == "error"
    assert down["failures"] == 2
    assert down["last_http_status"] == 500
    assert down["last_success"] is None
    assert down["since"] == rfc3339(min(f.at for f in fetches))
    assert down["next_attempt"] == rfc3339(status.next_fetch)
    assert down["last_error"] == status.last_error and "500" in down["last_error"]
    assert down["partners_only"] is False
    cells = rows(page(client).get_element_by_id("failing-sources"))
    assert len(cells) == 1
    assert cells[0][0].endswith("down") and cells[0][1] == "error (2 failures in a row)"
    assert cells[0][4].startswith("HTTP 500: ")
    assert metrics(client)["feeds_sources_failing"] == 1


def test_no_failing_source_before_any_fetch(site: Site, client: FlaskClient) -> None:
    assert desk(client)["failing_sources"] == []
    assert page(client).get_element_by_id("no-failing-sources") is not None
    assert metrics(client)["feeds_sources_failing"] == 0


def test_the_clock_heartbeat_shows_and_goes_stale(site: Site, client: FlaskClient) -> None:
    clock = desk(client)["clock"]
    assert clock["running"] is False and clock["active"] is None
    assert clock["warning"].startswith("No clock is running")
    assert "No clock is running" in page(client).get_element_by_id("clock-warning").text_content()
    assert metrics(client)["feeds_clock_up"] == 0
    assert metrics(client)["feeds_clock_heartbeat_age_seconds"] == float("inf")

    now = utcnow()
    started = now - timedelta(hours=1)
    with Store(site.db) as store:
        store.clock_heartbeat("a", "clock-host-a", 101, started, now, active=True)
        store.clock_heartbeat("b", "clock-host-b", 202, started, now, active=False)
    clock = desk(client)["clock"]
    assert clock["running"] is True and clock["warning"] is None
    assert clock["heartbeat_seconds"] == 5 and clock["stale_after_seconds"] == 15
    active = clock["active"]
    assert (active["host"], active["pid"], active["active"], active["stale"]) == (
        "clock-host-a",
        101,
        True,
        False,
    )
    assert active["heartbeat"] == rfc3339(now) and active["started"] == rfc3339(started)
    assert 0 <= active["age_seconds"] < 15
    assert [c["host"] for c in clock["standbys"]] == ["clock-host-b"] and clock["stopped"] == []
    html = page(client)
    assert html.get_element_by_id("clock-warning", None) is None
    assert "clock-host-a" in html.get_element_by_id("clock-active").text_content()
    assert "clock-host-b" in html.get_element_by_id("clock-standbys").text_content()
    assert metrics(client)["feeds_clock_up"] == 1
    assert metrics(client)["feeds_clock_standbys"] == 1
    assert metrics(client)["feeds_clock_heartbeat_age_seconds"] < 15

    # the heartbeats stop (injected times: a minute ago)
    then = now - timedelta(seconds=60)
    with Store(site.db) as store:
        store.clock_heartbeat("a", "clock-host-a", 101, started, then, active=True)
        store.clock_heartbeat("b", "clock-host-b", 202, started, then, active=False)
    clock = desk(client)["clock"]
    assert clock["running"] is False
    assert clock["warning"].startswith(
        f"No clock is running: the last heartbeat was at {rfc3339(then)}"
    )
    assert clock["active"]["stale"] is True and clock["active"]["age_seconds"] >= 60
    assert [c["host"] for c in clock["stopped"]] == ["clock-host-b"] and clock["standbys"] == []
    warning = page(client).get_element_by_id("clock-warning").text_content()
    assert warning.startswith("No clock is running: the last heartbeat was at")
    assert metrics(client)["feeds_clock_up"] == 0
    assert metrics(client)["feeds_clock_heartbeat_age_seconds"] >= 60


def test_item_counts_follow_each_publish(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    assert status(client)["ours"]["formats"]["json"]["items"] == 2  # type: ignore[index]
    (site.config / "articles" / "saved.md").write_text(FIXED, encoding="utf-8")
    assert site.feeds("update") == 0
    formats = status(client)["ours"]["formats"]
    assert {fmt: formats[fmt]["items"] for fmt in formats} == {"rss": 3, "atom": 3, "json": 3}  # type: ignore[index]


def test_stored_problems_keep_their_time_and_say_what_changed(db_url: str) -> None:
    t0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    date = Problem("a.md", "date", "missing required key")
    image = Problem("a.md", "image.url", "must be a non-empty string")
    with Store(db_url) as store:
        changes = store.store_problems("articles", [date, image], t0)
        assert changes == ProblemChanges((replace(date, since=t0), replace(image, since=t0)), ())
        assert store.problems("articles") == [replace(date, since=t0), replace(image, since=t0)]
        t1 = t0 + timedelta(minutes=1)
        assert store.store_problems("articles", [image, date], t1) == ProblemChanges()
        retyped = Problem("a.md", "date", "needs a UTC offset")
        changes = store.store_problems("articles", [retyped], t1)
        assert changes == ProblemChanges((replace(retyped, since=t1),), (replace(image, since=t0),))
        assert store.problems("articles") == [replace(retyped, since=t1)]
        assert store.problems("other") == []
        assert store.store_problems("articles", [], t1).fixed == (replace(retyped, since=t1),)
        assert store.problems("articles") == []


def test_clock_rows_are_written_read_and_removed(db_url: str) -> None:
    t0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with Store(db_url) as store:
        beat = store.clock_heartbeat("h:1:0", "h", 1, t0, t0, active=True)
        assert beat == ClockBeat("h:1:0", "h", 1, t0, t0, True)
        store.clock_heartbeat("g:2:0", "g", 2, t0, t0 + timedelta(seconds=5), active=False)
        assert [c.id for c in store.clocks()] == ["g:2:0", "h:1:0"]  # newest heartbeat first
        # a clock silent for a day is forgotten at the next heartbeat of another
        store.clock_heartbeat("g:2:0", "g", 2, t0, t0 + timedelta(days=1, seconds=1), False)
        assert [c.id for c in store.clocks()] == ["g:2:0"]
        store.clock_stopped("g:2:0")
        assert store.clocks() == []


def test_problem_lines_split_into_file_key_and_message() -> None:
    line = "/srv/articles/a: b.md: date: not an ISO 8601 date and time: 'x'; tags: must be a list"
    assert split_problems(line, ["/srv/articles/a: b.md"]) == [
        Problem("/srv/articles/a: b.md", "date", "not an ISO 8601 date and time: 'x'"),
        Problem("/srv/articles/a: b.md", "tags", "must be a list"),
    ]
    assert split_problems("a.md: not valid UTF-8 (byte 3)") == [
        Problem("a.md", "", "not valid UTF-8 (byte 3)")
    ]
    assert split_problems("a.md: front matter: invalid YAML at line 2, column 1: x") == [
        Problem("a.md", "front matter", "invalid YAML at line 2, column 1: x")
    ]
    assert split_problems("feeds.toml: feed[My feed].limit: must be an integer") == [
        Problem("feeds.toml", "feed[My feed].limit", "must be an integer")
    ]
    assert str(Problem("a.md", "", "cannot read: gone")) == "a.md: cannot read: gone"


def test_overrides_in_force_show_with_who_when_and_why(site: Site, client: FlaskClient) -> None:
    assert client.get("/status.json").get_json()["overrides"] == []
    assert "no-overrides" in client.get("/status").get_data(as_text=True)
    link = "https://wire.example/2026/11/water-deal"
    assert site.feeds("hide", link, "--by", "rania", "--reason", "court order") == 0
    assert site.feeds("pin", link, "--feed", "everything", "--until", "1h", "--by", "omar") == 0
    assert site.feeds("pin", link, "--feed", "ours", "--by", "omar") == 0
    assert site.feeds("unpin", link, "--feed", "ours", "--by", "omar") == 0
    shown = client.get("/status.json").get_json()["overrides"]
    assert [(o["action"], o["feed"], o["by"], o["reason"]) for o in shown] == [
        ("hide", None, "rania", "court order"),
        ("pin", "everything", "omar", ""),
    ]
    assert shown[1]["until"] is not None and shown[0]["until"] is None
    page = client.get("/status").get_data(as_text=True)
    assert "overrides-in-force" in page and "court order" in page
    assert "pinned first in <code>everything</code> until " in page
