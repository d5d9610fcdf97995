"""HTTP behaviour of the web app, on served responses."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import feedparser
import httpx
import lxml.html
import pytest
from flask import Response
from flask.testing import FlaskClient

from feeds import webserver as server
from feeds.store import Store
from feeds.types import Format
from feeds.web import create_app, state
from feeds.web.responses import not_modified
from tests.procfile import procfile_web, web_line
from tests.sites import Site

LM = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("inm", "ims", "expected"),
    [
        ('"a"', None, True),
        ('W/"a"', None, True),  # weak comparison for If-None-Match
        ('"b", "a"', None, True),
        ("*", None, True),
        ('"b"', None, False),
        ('"b"', "Fri, 20 Nov 2026 12:00:00 GMT", False),  # If-None-Match wins
        (None, "Fri, 20 Nov 2026 12:00:00 GMT", True),
        (None, "Fri, 20 Nov 2026 13:00:00 GMT", True),
        (None, "Fri, 20 Nov 2026 11:59:59 GMT", False),
        (None, "yesterday", False),
        (None, None, False),
        (None, "Sat, 21 Nov 2026 12:00:00 GMT", True),  # now
        (None, "Sat, 21 Nov 2026 12:00:01 GMT", False),  # later than now: ignored
        (None, "Fri, 31 Dec 9999 23:59:59 GMT", False),
    ],
)
def test_not_modified_rules(inm: str | None, ims: str | None, expected: bool) -> None:
    now = LM + timedelta(days=1)
    assert not_modified('"a"', LM, inm, ims, now) is expected


def test_a_date_in_the_future_gets_the_document(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    first = client.get("/feeds/ours.rss")
    served = first.headers["Last-Modified"]
    assert client.get("/feeds/ours.rss", headers={"If-Modified-Since": served}).status_code == 304
    future = client.get(
        "/feeds/ours.rss", headers={"If-Modified-Since": "Fri, 31 Dec 9999 23:59:59 GMT"}
    )
    assert future.status_code == 200 and future.data == first.data


def test_headers_of_a_served_feed(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    response = client.get("/feeds/ours.json")
    assert response.status_code == 200
    assert response.headers["Link"] == '<https://feeds.outlet.example/feeds/ours.json>; rel="self"'
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.headers["Last-Modified"].endswith(" GMT")


def test_headers_changed_after_the_view_are_sent(site: Site) -> None:
    """A stored document's response sends its headers as they are when it is served, so a
    hook (a future partner check, say) can still make a response private."""
    assert site.feeds("update") == 0
    app = create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db})

    @app.after_request
    def private(response: Response) -> Response:
        response.headers["Cache-Control"] = "private"
        response.headers.add("Vary", "Authorization")
        return response

    try:
        with app.test_client() as client:
            first = client.get("/feeds/ours.rss")
            again = client.get("/feeds/ours.rss", headers={"If-None-Match": first.headers["ETag"]})
    finally:
        state(app).store.close()
    for response in (first, again):
        assert response.headers["Cache-Control"] == "private"
        assert response.headers.getlist("Vary") == ["Accept, Accept-Encoding", "Authorization"]
    assert first.status_code == 200 and int(first.headers["Content-Length"]) == len(first.data)
    assert again.status_code == 304 and "Content-Type" not in again.headers


def test_configured_but_unpublished_feed_is_503_not_404(site: Site, client: FlaskClient) -> None:
    response = client.get("/feeds/everything.rss")
    assert response.status_code == 503
    assert response.headers["Retry-After"]


def test_invalid_config_keeps_serving_the_last_good_one(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    app_state = state(client.application)
    (site.config / "feeds.toml").write_text('[[feed]]\nname = "Bad Name"\n', encoding="utf-8")
    app_state.watcher.poll()  # what the web process does every few seconds
    response = client.get("/feeds/ours.rss")
    assert response.status_code == 200
    assert len(feedparser.parse(response.data).entries) == 2
    assert any("feeds.toml: feed[" in p for p in app_state.watcher.last_problems)
    assert b"feeds.toml: feed[" in client.get("/sources").data


def test_gunicorn_serves_the_app_factory_as_the_procfile_does(site: Site) -> None:
    """The Procfile's web: line, run for real on a free port."""
    assert site.feeds("update") == 0
    assert "python:feeds.webserver" in web_line()
    assert server.wsgi_app == "feeds.web:create_app()"
    with procfile_web(site) as base:
        response = httpx.get(f"{base}/feeds/ours.atom", timeout=2)
        assert response.status_code == 200
        assert feedparser.parse(response.content).bozo == 0
        again = httpx.get(
            f"{base}/feeds/ours.atom",
            headers={"If-None-Match": response.headers["ETag"]},
            timeout=2,
        )
        assert again.status_code == 304


# --------------------------------------------------------------------------- WebSub, archives


def _add_hub(site: Site, client: FlaskClient, hub: str) -> None:
    """An editor adds a WebSub hub to site.toml (after the feeds were published without one);
    the web process re-reads the config."""
    path = site.config / "site.toml"
    path.write_text(f"hub = {hub!r}\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert state(client.application).watcher.poll() is not None


def test_current_feeds_name_their_websub_hub_in_one_link_header(
    site: Site, client: FlaskClient
) -> None:
    assert site.feeds("update") == 0
    _add_hub(site, client, "https://hub.example/")
    for ext in ("rss", "atom", "json"):
        response = client.get(f"/feeds/ours.{ext}")
        assert response.status_code == 200
        assert response.headers.getlist("Link") == [
            f'<https://feeds.outlet.example/feeds/ours.{ext}>; rel="self", '
            '<https://hub.example/>; rel="hub"'
        ]
        assert response.headers["Cache-Control"] == (
            "public, max-age=300, stale-while-revalidate=600"
        )
        assert response.headers["Vary"] == "Accept, Accept-Encoding"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    # and on a 304, so a revalidating subscriber learns about the hub too
    etag = client.get("/feeds/ours.atom").headers["ETag"]
    again = client.get("/feeds/ours.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert 'rel="hub"' in again.headers["Link"]


def _put_archive(site: Site, number: int, bodies: dict[Format, bytes]) -> None:
    with Store(site.db) as store:
        store.write_archive_page("ours", number, 1, 10 * number, bodies, datetime.now(UTC))


def test_archive_pages_are_cached_for_a_day(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    _add_hub(site, client, "https://hub.example/")
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel/></rss>\n'
    _put_archive(site, 1, {Format.RSS: body, Format.JSON: b'{"items": []}\n'})

    response = client.get("/feeds/ours/archive/1.rss")
    assert response.status_code == 200
    assert response.data == body
    assert response.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    assert response.headers["Cache-Control"] == "public, max-age=86400"
    # self is the archive page; the hub is for subscriptions, not archives
    assert response.headers["Link"] == (
        '<https://feeds.outlet.example/feeds/ours/archive/1.rss>; rel="self"'
    )
    assert response.headers["Vary"] == "Accept, Accept-Encoding"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Last-Modified"].endswith(" GMT")
    etag = response.headers["ETag"]

    again = client.get("/feeds/ours/archive/1.rss", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["Cache-Control"] == "public, max-age=86400"
    since = client.get(
        "/feeds/ours/archive/1.rss",
        headers={"If-Modified-Since": response.headers["Last-Modified"]},
    )
    assert since.status_code == 304

    gz = client.get("/feeds/ours/archive/1.rss", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gz.data) == body
    assert gz.headers["ETag"] != etag
    assert (
        client.get(
            "/feeds/ours/archive/1.rss",
            headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]},
        ).status_code
        == 304
    )

    head = client.head("/feeds/ours/archive/1.rss")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["ETag"] == etag

    js = client.get("/feeds/ours/archive/1.json")
    assert js.headers["Content-Type"] == "application/feed+json; charset=utf-8"


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/ours/archive/2.rss",  # no such page
        "/feeds/ours/archive/1.atom",  # that page exists in another format only
        "/feeds/ours/archive/0.rss",  # pages are numbered from 1
        "/feeds/ours/archive/-1.rss",
        "/feeds/ours/archive/1.html",
        "/feeds/unknown/archive/1.rss",
        "/feeds/ours/archive/one.rss",
    ],
)
def test_missing_archive_pages_are_404_not_503(site: Site, client: FlaskClient, path: str) -> None:
    assert site.feeds("update") == 0
    _put_archive(site, 1, {Format.RSS: b"<rss/>"})
    assert client.get(path).status_code == 404
    assert client.head(path).status_code == 404


# --------------------------------------------------------------------------- pages, HEAD


def test_index_lists_every_feed_with_autodiscovery(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "\n\n" not in html  # no stray blank lines from the template tags
    doc = lxml.html.fromstring(html)
    alternates = doc.xpath("//head/link[@rel='alternate']")
    expected = [
        (f"/feeds/{name}.{ext}", Format(ext).content_type.split(";")[0])
        for name in ("everything", "ours", "humanitarian")
        for ext in ("rss", "atom", "json")
    ]
    assert [(link.get("href"), link.get("type")) for link in alternates] == expected
    for name in ("everything", "ours", "humanitarian"):
        (item,) = doc.xpath(f"//li[@id='feed-{name}']")
        assert [a.get("href") for a in item.xpath(".//a")] == [
            f"/feeds/{name}",  # its HTML view, then the feed in each format
            *(f"/feeds/{name}.{ext}" for ext in ("rss", "atom", "json")),
        ]
    assert doc.xpath("//a[@href='/sources']")
    assert "not published yet" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/sources",
        "/sources.json",
        "/healthz",
        "/feeds/ours.rss",
        "/feeds/ours.atom",
        "/feeds/ours.json",
        "/feeds/ours/archive/1.atom",
        "/feeds/ours",
    ],
)
def test_head_answers_every_route_like_get(site: Site, client: FlaskClient, path: str) -> None:
    assert site.feeds("update") == 0
    _put_archive(site, 1, {Format.ATOM: b"<feed xmlns='http://www.w3.org/2005/Atom'/>"})
    get = client.get(path)
    head = client.head(path)
    assert get.status_code == head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    for name in ("ETag", "Cache-Control", "Link", "Last-Modified"):
        assert head.headers.get(name) == get.headers.get(name)


def test_the_document_cache_is_bounded(site: Site, client: FlaskClient) -> None:
    from feeds.web.cache import DocumentCache

    assert site.feeds("update") == 0
    cache = DocumentCache(state(client.application).store, max_entries=2)
    for name in ("everything", "ours", "humanitarian"):
        assert cache.get(name, Format.RSS) is not None
    assert len(cache) == 2
    assert cache.get("nope", Format.RSS) is None and len(cache) == 2


def test_the_document_cache_serves_a_new_version_at_once(site: Site, client: FlaskClient) -> None:
    """Written by another process's store, a new document is what the next read gets: the
    cache never serves a copy older than the database's (readers never go backwards)."""
    from feeds.web.cache import DocumentCache

    assert site.feeds("update") == 0
    cache = DocumentCache(state(client.application).store)
    first = cache.get("ours", Format.RSS)
    assert first is not None and cache.get("ours", Format.RSS) is first  # kept while current
    with Store(site.db) as writer:
        for n in range(3):
            body = f"<rss version='2.0'><!-- {n} --></rss>".encode()
            assert writer.put_document("ours", Format.RSS, body, datetime.now(UTC))
            served = cache.get("ours", Format.RSS)
            assert served is not None and served.body == body
        writer.delete_documents(keep=[])
    assert cache.get("ours", Format.RSS) is None
