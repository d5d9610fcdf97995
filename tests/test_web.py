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
from lxml import etree

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
    app = create_app(
        {"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db, "CACHE_SECONDS": 0}
    )

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
    assert "'feeds.web:create_app()'" in web_line()
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
            f"/feeds/{name}.{ext}" for ext in ("rss", "atom", "json")
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
        "/static/feed.xsl",
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


# --------------------------------------------------------------------------- XSL stylesheet

PI = b'<?xml-stylesheet type="text/xsl" href="/static/feed.xsl"?>'


def test_the_stylesheet_is_served_as_xslt(client: FlaskClient) -> None:
    response = client.get("/static/feed.xsl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xsl; charset=utf-8"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age=" in response.headers["Cache-Control"]
    again = client.get("/static/feed.xsl", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    etree.XSLT(etree.fromstring(response.data))  # compiles as XSLT 1.0


def _transform(client: FlaskClient, document: bytes) -> lxml.html.HtmlElement:
    """Apply the stylesheet a served document names, as a browser does."""
    if PI not in document:  # until the renderer writes it
        declaration, rest = document.split(b"\n", 1)
        document = declaration + b"\n" + PI + b"\n" + rest
    tree = etree.ElementTree(etree.fromstring(document))
    pis = [
        node
        for node in tree.xpath("/processing-instruction('xml-stylesheet')")
        if 'type="text/xsl"' in node.text
    ]
    assert len(pis) == 1
    href = pis[0].get("href")
    stylesheet = client.get(href)
    assert stylesheet.status_code == 200
    transform = etree.XSLT(etree.fromstring(stylesheet.data))
    html = str(transform(tree))
    assert html.startswith("<!DOCTYPE html")
    return lxml.html.fromstring(html)


def _articles(page: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    articles: list[lxml.html.HtmlElement] = page.xpath("//main/article")
    assert all(a.get("dir") == "auto" for a in articles)
    return articles


@pytest.mark.parametrize("ext", ["rss", "atom"])
def test_stylesheet_turns_served_feeds_into_a_readable_page(
    site: Site, client: FlaskClient, ext: str
) -> None:
    assert site.feeds("update") == 0
    served = client.get(f"/feeds/everything.{ext}").data
    parsed = feedparser.parse(served)
    page = _transform(client, served)

    assert page.get("dir") == "auto"
    assert page.get("lang") == "en"
    about = page.xpath("//section[@class='about']")[0].text_content()
    assert "This is a web feed" in about and "feed reader" in about
    assert f"https://feeds.outlet.example/feeds/everything.{ext}" in about
    assert page.xpath("//h1")[0].text_content() == "Everything"
    assert "All our articles and every source" in page.text_content()

    articles = _articles(page)
    assert len(parsed.entries) >= 5
    assert len(articles) == len(parsed.entries)
    for article, entry in zip(articles, parsed.entries, strict=True):
        (link,) = article.xpath(".//h2/a")
        assert link.text_content() == entry.title
        assert link.get("href") == entry.link
        assert article.xpath(".//time")
        if entry.get("summary"):
            assert entry.summary in article.text_content()
    convoy = next(a for a in articles if "Aid convoy" in a.text_content())
    assert "Lina Sabbagh" in convoy.xpath(".//*[@class='author']")[0].text_content()
    # Arabic items (when the local article is there) keep their text; dir="auto" sets RTL
    for article, entry in zip(articles, parsed.entries, strict=True):
        if entry.title.startswith("الأردن"):
            assert article.xpath(".//h2/a")[0].text_content() == entry.title

    if ext == "rss" or b"<media:content" in served:  # Atom: once the renderer writes it
        (figure,) = convoy.xpath(".//figure")
        assert figure.xpath(".//img/@src") == ["https://wire.example/img/convoy-large.jpg"]
        assert figure.xpath(".//*[@class='caption']")[0].text == "Trucks wait at the crossing."
        assert figure.xpath(".//*[@class='credit']")[0].text == "Wire Photo/Omar Khalil"
        silos = next(a for a in articles if "grain silos" in a.text_content())
        assert "Photo: Maya Haddad/Outlet" in silos.xpath(".//figcaption")[0].text_content()


ATOM_WITH_MEDIA = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
  <title>Archive</title>
  <link rel="self" href="https://feeds.example/feeds/x/archive/2.atom"/>
  <link rel="current" href="https://feeds.example/feeds/x.atom"/>
  <link rel="prev-archive" href="https://feeds.example/feeds/x/archive/1.atom"/>
  <entry xml:lang="ar">
    <title>صورة</title>
    <link href="https://example.org/a"/>
    <updated>2026-11-19T09:00:00+02:00</updated>
    <media:content url="https://example.org/a.jpg" medium="image" width="4" height="3">
      <media:description>Caption A</media:description>
      <media:credit>Credit A</media:credit>
    </media:content>
  </entry>
  <entry>
    <title>Enclosed</title>
    <link rel="alternate" href="javascript:alert(1)"/>
    <link rel="enclosure" type="image/png" href="https://example.org/b.png"/>
    <published>2026-11-18T07:00:00Z</published>
    <updated>2026-11-19T07:00:00Z</updated>
    <summary type="text">Summary B</summary>
  </entry>
</feed>
"""


def test_stylesheet_shows_atom_images_archive_links_and_only_safe_urls(
    client: FlaskClient,
) -> None:
    page = _transform(client, ATOM_WITH_MEDIA.encode())
    first, second = _articles(page)
    assert first.get("lang") == "ar"
    assert first.xpath(".//img/@src") == ["https://example.org/a.jpg"]
    assert first.xpath(".//figcaption")[0].text_content() == "Caption A Credit A"
    assert first.xpath(".//time")[0].text_content() == "2026-11-19 09:00 +02:00"
    assert second.xpath(".//img/@src") == ["https://example.org/b.png"]
    assert second.xpath(".//time")[0].text_content() == "2026-11-18 07:00 UTC"  # published
    assert second.xpath(".//h2/a") == []  # a javascript: URL is not made a link
    assert second.xpath(".//h2")[0].text_content() == "Enclosed"
    assert "Summary B" in second.text_content()
    nav = page.xpath("//nav[@class='pages']")[0]
    assert [(a.text, a.get("href")) for a in nav.xpath("a")] == [
        ("Latest items", "https://feeds.example/feeds/x.atom"),
        ("Older items", "https://feeds.example/feeds/x/archive/1.atom"),
    ]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "application/rss+xml; charset=utf-8"),
        ("*/*", "application/rss+xml; charset=utf-8"),
        (
            "application/rss+xml, application/xml;q=0.9, */*;q=0.5",
            "application/rss+xml; charset=utf-8",
        ),
        ("application/atom+xml, text/html;q=0.5", "application/rss+xml; charset=utf-8"),
        # what Chromium and Firefox send when a person opens the URL
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8",
            "application/xml; charset=utf-8",
        ),
    ],
)
def test_browsers_get_the_feed_as_xml_readers_as_rss(
    site: Site, client: FlaskClient, accept: str | None, expected: str
) -> None:
    assert site.feeds("update") == 0
    headers = {"Accept": accept} if accept else {}
    response = client.get("/feeds/ours.rss", headers=headers)
    assert response.headers["Content-Type"] == expected
    assert response.headers["Vary"] == "Accept, Accept-Encoding"
    plain = client.get("/feeds/ours.rss")
    assert response.data == plain.data and response.headers["ETag"] == plain.headers["ETag"]
    json_doc = client.get("/feeds/ours.json", headers=headers)
    assert json_doc.headers["Content-Type"] == "application/feed+json; charset=utf-8"


def test_the_document_cache_is_bounded(site: Site, client: FlaskClient) -> None:
    from feeds.web.cache import DocumentCache

    assert site.feeds("update") == 0
    cache = DocumentCache(state(client.application).store, seconds=60, max_entries=2)
    for name in ("everything", "ours", "humanitarian"):
        assert cache.get(name, Format.RSS) is not None
    assert len(cache) == 2
    assert cache.get("nope", Format.RSS) is None and len(cache) == 2
