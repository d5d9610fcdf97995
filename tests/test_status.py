"""/status and /status.json: each configured feed, its items per format, its last publish and
the items its documents left out for the byte budget."""

from __future__ import annotations

import json

import lxml.html
from flask.testing import FlaskClient

from feeds.store import Store
from feeds.types import Format
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
