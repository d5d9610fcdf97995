"""The API the CMS calls, against the served app on SQLite and PostgreSQL: the whole status
code table, hostile bodies, paging, the audit, idempotent and concurrent writes, overrides."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import feedparser
import pytest

from feeds.config import load_config
from feeds.pipeline import Pipeline
from feeds.store import Store
from tests.api import ARTICLE, Api, api_fixture  # noqa: F401  (the fixture)

TAKEN_BY_A_FILE = "ports-reopen"  # tests/fixtures/site/articles/ports-reopen.md


def titles(api: Api, feed: str = "ours") -> list[str]:
    response = api.http.get(f"/feeds/{feed}.rss")
    assert response.status_code == 200
    return [e.title for e in feedparser.parse(response.data).entries]


@pytest.fixture
def clock(api: Api) -> Iterator[Pipeline]:
    """A clock's pipeline, kept for the whole test as a clock keeps it."""
    with Store(api.site.db) as store, Pipeline(load_config(api.site.config), store) as pipeline:
        pipeline.follow_api_articles()  # a clock starts by publishing what is stored
        yield pipeline


def follow(pipeline: Pipeline) -> tuple[bool, list[str]]:
    """What a clock does every second: publish the articles API clients wrote."""
    return pipeline.follow_api_articles()


# --------------------------------------------------------------------------- the table


def test_the_status_code_table(api: Api) -> None:
    # 201 created, with where it lives, and it is given back as sent
    created = api.put("cranes", ARTICLE)
    assert created.status_code == 201, created.data
    assert created.headers["Location"] == "/api/articles/cranes"
    assert created.headers["X-Feeds-Write"] == "created"
    got = api.call("GET", "/api/articles/cranes")
    assert got.status_code == 200
    assert got.get_json() == {
        **ARTICLE,
        "slug": "cranes",
        "link": "https://outlet.example/cranes",
    }
    # 200: the same again changes nothing; something else replaces it whole
    again = api.put("cranes", ARTICLE)
    assert (again.status_code, again.headers["X-Feeds-Write"]) == (200, "unchanged")
    nulls = {"summary": None, "image": {**ARTICLE["image"], "caption": None}}  # type: ignore[dict-item]
    assert api.put("cranes", {**ARTICLE, **nulls}).headers["X-Feeds-Write"] == "replaced"
    assert "summary" not in api.call("GET", "/api/articles/cranes").get_json()
    replaced = api.put("cranes", {"title": "Cranes", "date": ARTICLE["date"]})
    assert (replaced.status_code, replaced.headers["X-Feeds-Write"]) == (200, "replaced")
    assert "image" not in api.call("GET", "/api/articles/cranes").get_json()
    # 401: no key, a wrong key, a disabled client's, a partner's; with a challenge
    for who in (None, "not-a-key", "off", "partner"):
        refused = api.call("GET", "/api/articles/cranes", who)
        assert refused.status_code == 401, who
        assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="feeds api"')
        assert "Authorization" in api.errors(refused)
    assert (
        'error="invalid_token"'
        in api.call("GET", "/api/articles", "off").headers["WWW-Authenticate"]
    )
    # a key in the query or as Basic is not taken by the API
    query = api.http.get(f"/api/articles?key={api.keys['cms']}")
    assert query.status_code == 401
    # 403: a client without the scope
    assert api.call("GET", "/api/articles/cranes", "desk").status_code == 403
    assert api.call("GET", "/api/overrides", "writer").status_code == 403
    assert "overrides" in api.errors(api.call("GET", "/api/overrides", "writer"))["Authorization"]
    # 409: an article file holds the slug
    conflict = api.put(TAKEN_BY_A_FILE, ARTICLE)
    assert conflict.status_code == 409
    assert "slug" in api.errors(conflict)
    assert api.call("DELETE", f"/api/articles/{TAKEN_BY_A_FILE}").status_code == 409
    assert api.call("GET", f"/api/articles/{TAKEN_BY_A_FILE}").status_code == 404
    # 415: not sent as JSON; 400: not JSON
    text = api.call("PUT", "/api/articles/x", data=b"title: x", content_type="text/plain")
    assert text.status_code == 415
    assert "Content-Type" in api.errors(text)
    broken = api.call("PUT", "/api/articles/x", data=b'{"title": ', content_type="application/json")
    assert broken.status_code == 400
    assert api.errors(broken)[""].startswith("the body is not JSON")
    # 413: over the limit (1 MB), whatever its Content-Length says or does not
    big = {**ARTICLE, "body": "x" * 1_000_001}
    assert api.put("big", big).status_code == 413
    # 422: one message per bad field
    bad = api.put(
        "bad",
        {
            "title": "",
            "date": "yesterday",
            "image": {"url": "ftp://x/y.jpg", "width": -1},
            "tags": "one",
            "colour": "red",
        },
    )
    assert bad.status_code == 422
    assert set(api.errors(bad)) == {"title", "date", "image.url", "image.width", "tags", "colour"}
    assert api.put("Not A Slug", ARTICLE).status_code == 422
    # 405 for a wrong method, with Allow; 404 for an unknown URL; both JSON
    wrong = api.call("POST", "/api/articles/cranes", body=ARTICLE)
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "PUT", "DELETE"}
    assert api.errors(wrong)
    assert api.call("PATCH", "/api/articles").status_code == 405
    assert api.errors(api.call("GET", "/api/nothing-here"))
    # 204 deleted, then 404
    assert api.call("DELETE", "/api/articles/cranes").status_code == 204
    assert api.call("GET", "/api/articles/cranes").status_code == 404
    assert api.call("DELETE", "/api/articles/cranes").status_code == 404


def test_every_write_is_recorded(api: Api) -> None:
    assert api.put("a", ARTICLE).status_code == 201
    assert api.put("a", ARTICLE, who="writer").status_code == 200
    assert api.put("a", {**ARTICLE, "title": "A"}).status_code == 200
    assert api.call("DELETE", "/api/articles/a", "writer").status_code == 204
    assert api.put(TAKEN_BY_A_FILE, ARTICLE).status_code == 409  # refused: not a write
    with Store(api.site.db) as store:
        log = store.api_write_log()
    assert [(r.client, r.slug, r.action) for r in reversed(log)] == [
        ("cms", "a", "created"),
        ("writer", "a", "unchanged"),
        ("cms", "a", "replaced"),
        ("writer", "a", "deleted"),
    ]
    assert all(abs(r.at - datetime.now(UTC)) < timedelta(minutes=1) for r in log)


HOSTILE: list[object] = [
    None,
    [],
    "a string",
    12,
    {"title": None, "date": None},
    {"title": ["x"], "date": {"y": 1}},
    {"title": "x", "date": 20261120},
    {"title": "x\u0000y", "date": ARTICLE["date"]},
    {"title": "x\ud800", "date": ARTICLE["date"]},
    {"title": "x", "date": ARTICLE["date"], "body": {"md": "x"}},
    {"title": "x", "date": ARTICLE["date"], "image": "https://x.example/a.jpg"},
    {"title": "x", "date": ARTICLE["date"], "image": {"url": ["u"], "width": 1e400}},
    {"title": "x", "date": ARTICLE["date"], "image": {"url": "u", "height": True}},
    {"title": "x", "date": ARTICLE["date"], "author": [1, None]},
    {"title": "x", "date": ARTICLE["date"], "language": "x" * 10_000},
    {"title": "x", "date": ARTICLE["date"], "link": "javascript:alert(1)"},
    {"title": "x", "date": ARTICLE["date"], "slug": "another"},
]
HOSTILE_BYTES = [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"title": NaN, "date": Infinity}',
    b'{"title": "x", "date": "2026-01-01T00:00:00Z", "image": {"url": "u", "width": '
    + b"9" * 5000
    + b"}}",
    b"\xff\xfe{}",
    b"",
    b'{"a": 1, "a": 2',
]


def test_hostile_bodies_get_a_4xx_naming_the_field_never_a_500(api: Api, clock: Pipeline) -> None:
    for body in HOSTILE:
        response = api.call(
            "PUT", "/api/articles/hostile", data=_dumps(body), content_type="application/json"
        )
        assert 400 <= response.status_code < 500, (body, response.status_code)
        assert api.errors(response)
    for raw in HOSTILE_BYTES:
        response = api.call("PUT", "/api/articles/h", data=raw, content_type="application/json")
        assert response.status_code in (400, 422), raw[:40]
        assert api.errors(response)
    nul = api.put("nul", {"title": "x\u0000y", "date": ARTICLE["date"]})
    assert api.errors(nul) == {"title": "holds control characters or unpaired surrogates"}
    for command in ({"action": "hide"}, {"action": "pin", "item": "x", "until": "1000000000w"}):
        response = api.call("POST", "/api/overrides", body=command)
        assert response.status_code == 422
    assert api.call("GET", "/api/articles/hostile").status_code == 404  # nothing stored
    # the calendar's ends are taken as in files (the nearest time that can be stored)
    for n, date in enumerate(("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00")):
        assert api.put(f"edge-{n}", {"title": f"Edge {n}", "date": date}).status_code == 201
    assert follow(clock)[0] is True
    assert "Edge 0" in titles(api)


def _dumps(value: object) -> str:
    import json

    return json.dumps(value)


def test_articles_are_listed_a_page_at_a_time(api: Api) -> None:
    slugs = [f"story-{n}" for n in range(7)]
    for slug in reversed(slugs):
        assert api.put(slug, {**ARTICLE, "title": slug}).status_code == 201
    seen: list[str] = []
    path = "/api/articles?limit=3"
    pages = 0
    while path:
        page = api.call("GET", path)
        assert page.status_code == 200
        data = page.get_json()
        seen += [a["slug"] for a in data["articles"]]
        assert all(a["link"] == f"https://outlet.example/{a['slug']}" for a in data["articles"])
        pages += 1
        if data["next_cursor"] is None:
            assert "Link" not in page.headers
            break
        path = page.headers["Link"].split(">")[0].lstrip("<")
        assert f"cursor={data['next_cursor']}" in path
    assert (seen, pages) == (slugs, 3)  # by slug; the file articles are not the API's
    assert api.call("GET", "/api/articles").get_json()["articles"][0]["slug"] == "story-0"
    for limit in ("0", "201", "x", "-1"):
        refused = api.call("GET", f"/api/articles?limit={limit}")
        assert refused.status_code == 422
        assert "limit" in api.errors(refused)


# --------------------------------------------------------------------------- publishing


def test_a_clock_publishes_what_the_api_stored_and_the_same_put_changes_nothing(
    api: Api, clock: Pipeline
) -> None:
    assert follow(clock) == (False, [])  # nothing written yet
    assert api.put("cranes", ARTICLE).status_code == 201
    assert "Port of Beirut: the new cranes" not in titles(api)  # the web process stores only
    changed, published = follow(clock)
    assert changed and "ours.rss" in published
    assert titles(api)[0] == "Port of Beirut: the new cranes"
    etag = api.http.get("/feeds/ours.rss").headers["ETag"]
    assert api.put("cranes", ARTICLE).headers["X-Feeds-Write"] == "unchanged"
    assert follow(clock)[0] is False
    assert api.http.get("/feeds/ours.rss").headers["ETag"] == etag
    assert api.call("DELETE", "/api/articles/cranes").status_code == 204
    assert "ours.rss" in follow(clock)[1]
    assert "Port of Beirut: the new cranes" not in titles(api)


def test_a_future_date_holds_the_article_back(api: Api, clock: Pipeline) -> None:
    soon = datetime.now(UTC) + timedelta(hours=2)
    assert api.put("later", {**ARTICLE, "date": soon.isoformat()}).status_code == 201
    assert follow(clock)[0] is True
    assert "Port of Beirut: the new cranes" not in titles(api)
    clock.clock = lambda: soon + timedelta(minutes=1)
    clock.publish_all()
    assert titles(api)[0] == "Port of Beirut: the new cranes"


def test_a_file_cannot_take_an_api_articles_slug(api: Api) -> None:
    assert api.put("cranes", ARTICLE).status_code == 201
    (api.site.config / "articles" / "cranes.md").write_text(
        '---\ntitle: "From a file"\ndate: 2026-11-21T08:00:00+02:00\n---\nText.\n',
        encoding="utf-8",
    )
    with Store(api.site.db) as store, Pipeline(load_config(api.site.config), store) as pipeline:
        synced = pipeline.sync_articles()
        pipeline.publish_all()
    assert any(
        "cranes.md: slug: 'cranes' belongs to an article pushed" in p for p in synced.problems
    )
    assert "Port of Beirut: the new cranes" in titles(api)
    assert "From a file" not in titles(api)
    assert api.call("GET", "/api/articles/cranes").get_json()["title"] == ARTICLE["title"]


def test_concurrent_puts_of_one_slug_the_last_wins_whole(api: Api, clock: Pipeline) -> None:
    bodies = [
        {**ARTICLE, "title": f"Version {n}", "body": f"Text of version {n}. " * 200}
        for n in range(8)
    ]
    start = threading.Barrier(len(bodies))
    codes: list[int] = []

    def put(body: dict[str, object]) -> None:
        with api.app.test_client() as http:
            start.wait()
            response = http.put(
                "/api/articles/race",
                json=body,
                headers={"Authorization": f"Bearer {api.keys['cms']}"},
            )
            codes.append(response.status_code)

    threads = [threading.Thread(target=put, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200] * 7 + [201]
    final = api.call("GET", "/api/articles/race").get_json()
    winner = next(b for b in bodies if b["title"] == final["title"])
    assert final == {**winner, "slug": "race", "link": "https://outlet.example/race"}
    with Store(api.site.db) as store:
        log = store.api_write_log()
    assert [r.action for r in log][-1] == "created"
    assert len(log) == 8
    follow(clock)
    feed = feedparser.parse(api.http.get("/feeds/ours.rss").data)
    entry = next(e for e in feed.entries if e.link == "https://outlet.example/race")
    number = final["title"].split()[-1]
    assert entry.title == final["title"]
    assert f"Text of version {number}." in entry.content[0].value
    assert entry.content[0].value.count("Text of version") == 200  # whole, not mixed


# --------------------------------------------------------------------------- overrides


def test_overrides_go_through_the_desk(api: Api, clock: Pipeline) -> None:
    assert api.put("cranes", ARTICLE).status_code == 201
    follow(clock)
    link = "https://outlet.example/cranes"
    hidden = api.call(
        "POST", "/api/overrides", "desk", {"action": "hide", "item": link, "by": "Nour"}
    )
    assert hidden.status_code == 201
    assert hidden.get_json()["by"] == "Nour (api:desk)"
    clock.follow_overrides()
    assert "Port of Beirut: the new cranes" not in titles(api)
    listed = api.call("GET", "/api/overrides", "desk").get_json()
    assert [(o["action"], o["item"]) for o in listed["overrides"]] == [("hide", link)]
    assert listed["log"][0]["by"] == "Nour (api:desk)"
    pin = {"action": "pin", "item": link, "feed": "ours", "until": "6h", "reason": "lead"}
    assert api.call("POST", "/api/overrides", "desk", pin).status_code == 201
    unhide = {"action": "unhide", "item": link}
    assert api.call("POST", "/api/overrides", "desk", unhide).status_code == 200
    again = api.call("POST", "/api/overrides", "desk", unhide)
    assert again.status_code == 404
    assert "item" in api.errors(again)
    for bad, field in (
        ({"action": "pin", "item": link, "feed": "nope"}, "feed"),
        ({"action": "pin", "item": link, "feed": "ours", "until": "2001-01-01T00:00Z"}, "until"),
        ({"action": "retitle", "item": link}, "title"),
        ({"action": "hide", "item": link, "feed": "ours"}, "feed"),
        ({"action": "explode", "item": link}, "action"),
        ({"action": "hide", "item": link, "extra": 1}, "extra"),
    ):
        refused = api.call("POST", "/api/overrides", "desk", bad)
        assert refused.status_code == 422, bad
        assert field in api.errors(refused), bad
    # the CLI sees the API's commands in the same trail
    assert api.site.feeds("overrides") == 0


@pytest.mark.parametrize("limit", [10_000])
def test_the_size_limit_is_a_setting(api: Api, limit: int) -> None:
    api.app.config["API_MAX_BYTES"] = limit
    assert api.put("small", {**ARTICLE, "body": "x" * (limit - 600)}).status_code == 201
    over = api.put("large", {**ARTICLE, "body": "x" * limit})
    assert over.status_code == 413
    assert str(limit) in api.errors(over)[""]
