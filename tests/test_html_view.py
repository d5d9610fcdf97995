"""The browser view of a feed, and the pages in the site's language: served bytes only.

A public feed's HTML view is rendered by the clock when it publishes (here `feeds update`)
and served at /feeds/NAME, and at /feeds/NAME.rss|.atom|.json to a browser whose Accept
prefers text/html; feed readers keep getting the feed. No XSLT anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import lxml.html
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from feeds.types import Format
from feeds.web import create_app, state
from tests.partners import PARTNER_FEEDS_TOML, add_partners, bearer
from tests.sites import Site

CHROMIUM = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PUBLIC_FEEDS = ("everything", "ours", "humanitarian")
EXTENSIONS = ("rss", "atom", "json")
TRANSLATIONS = Path(__file__).resolve().parent.parent / "feeds" / "translations"


@contextmanager
def web(site: Site) -> Iterator[FlaskClient]:
    """A web app on ``site`` as its config files are now."""
    app = create_app({"FEEDS_CONFIG": str(site.config), "DATABASE_URL": site.db})
    try:
        with app.test_client() as client:
            yield client
    finally:
        state(app).store.close()


def speak(site: Site, language: str) -> None:
    path = site.config / "site.toml"
    text = path.read_text(encoding="utf-8").replace('language = "en"', f'language = "{language}"')
    path.write_text(text, encoding="utf-8")


def page(body: bytes) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(body.decode("utf-8"))


def json_items(client: FlaskClient, name: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads(client.get(f"/feeds/{name}.json").data)["items"]
    return items


# --------------------------------------------------------------------------- the view


def test_every_public_feed_has_one_view_for_all_three_formats(
    site: Site, client: FlaskClient
) -> None:
    assert site.feeds("update") == 0
    for name in PUBLIC_FEEDS:
        view = client.get(f"/feeds/{name}")
        assert view.status_code == 200
        assert view.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "Accept" in view.headers["Vary"]
        assert view.headers["ETag"].startswith('"')
        assert (
            f'<https://feeds.outlet.example/feeds/{name}.rss>; rel="alternate"'
            in (view.headers["Link"])
        )
        for ext in EXTENSIONS:
            opened = client.get(f"/feeds/{name}.{ext}", headers={"Accept": CHROMIUM})
            assert opened.status_code == 200
            assert opened.headers["Content-Type"] == "text/html; charset=utf-8"
            assert opened.data == view.data
            assert opened.headers["ETag"] == view.headers["ETag"]
            assert opened.headers["Vary"] == "Accept, Accept-Encoding"

        doc = page(view.data)
        assert doc.get("lang") == "en" and doc.get("dir") == "ltr"
        addresses = [i.get("value") for i in doc.xpath("//section[@id='subscribe']//input")]
        assert addresses == [f"https://feeds.outlet.example/feeds/{name}.{e}" for e in EXTENSIONS]
        about = doc.xpath("//section[@id='subscribe']")[0].text_content()
        assert "feed reader" in about
        assert len(doc.xpath("//section[@id='subscribe']//button")) == 3
        # the items as subscribers see them: those of the feed, in its order, with its links
        items = json_items(client, name)
        articles = doc.xpath("//main/article")
        assert len(articles) == len(items) > 0
        for article, item in zip(articles, items, strict=True):
            (heading,) = article.xpath("./h2")
            assert heading.text_content() == item["title"]
            assert heading.xpath("./a/@href") == [item["url"]]
            assert article.xpath(".//time/@datetime") == [
                str(item["date_published"]).replace("+00:00", "Z")
            ]


def test_the_view_shows_dates_authors_images_and_summaries(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    doc = page(client.get("/feeds/everything").data)
    assert doc.xpath("//h1")[0].text_content() == "Everything"
    assert "All our articles and every source" in doc.xpath("//header")[0].text_content()
    convoy = next(a for a in doc.xpath("//main/article") if "Aid convoy" in a.text_content())
    meta = convoy.xpath(".//p[@class='meta']")[0].text_content()
    assert "Lina Sabbagh" in meta and "UTC" in meta and "2026" in meta
    assert "Wire Service" in meta  # credited to its source
    (figure,) = convoy.xpath(".//figure")
    assert figure.xpath(".//img/@src") == ["https://wire.example/img/convoy-large.jpg"]
    caption = figure.xpath(".//figcaption")[0]
    assert "Trucks wait at the crossing." in caption.text_content()
    assert caption.xpath("./small")[0].text == "Wire Photo/Omar Khalil"
    silos = next(a for a in doc.xpath("//main/article") if "grain silos" in a.text_content())
    assert "Photo: Maya Haddad/Outlet" in silos.xpath(".//figcaption")[0].text_content()
    assert "Families of the blast’s victims want the silos kept" in silos.text_content()
    time = silos.xpath(".//time")[0]
    assert time.get("datetime") == "2026-11-19T07:00:00Z"
    assert time.text == "November 19, 2026, 07:00 UTC"
    # an Arabic article in an English feed says so, and takes its own direction
    water = next(a for a in doc.xpath("//main/article") if "الأردن" in a.text_content())
    assert water.get("lang") == "ar" and water.get("dir") == "rtl"


def test_the_view_changes_with_the_feed_and_answers_304_meanwhile(
    site: Site, client: FlaskClient
) -> None:
    assert site.feeds("update") == 0
    first = client.get("/feeds/ours")
    etag = first.headers["ETag"]
    assert client.get("/feeds/ours", headers={"If-None-Match": etag}).status_code == 304
    since = {"If-Modified-Since": first.headers["Last-Modified"]}
    assert client.get("/feeds/ours", headers=since).status_code == 304
    browser = {"Accept": CHROMIUM, "If-None-Match": etag}
    assert client.get("/feeds/ours.atom", headers=browser).status_code == 304
    gz = client.get("/feeds/ours", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gz.headers["ETag"] != etag

    assert site.feeds("update") == 0  # nothing changed: the same bytes
    assert client.get("/feeds/ours").headers["ETag"] == etag

    (site.config / "articles" / "new-story.md").write_text(
        "---\ntitle: A brand new story\ndate: 2026-11-21T08:00:00+00:00\n"
        "summary: Fresh news.\n---\nBody.\n",
        encoding="utf-8",
    )
    assert site.feeds("update") == 0
    after = client.get("/feeds/ours", headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["ETag"] != etag
    titles = [h.text_content() for h in page(after.data).xpath("//main/article/h2")]
    assert titles[0] == "A brand new story"
    assert titles[1:] == [h.text_content() for h in page(first.data).xpath("//main/article/h2")]


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        ("*/*", False),
        ("application/rss+xml, application/xml;q=0.9, */*;q=0.5", False),
        ("application/atom+xml, text/html;q=0.5", False),  # a reader that takes pages too
        ("text/html, application/rss+xml", False),  # equal: the feed
        ("text/html;q=0.9, application/xml", False),
        ("application/json, text/html;q=0.8", False),
        ("text/*, */*", False),  # wildcards count for neither
        ("text/html", True),
        ("application/xhtml+xml", True),
        (CHROMIUM, True),
        (FIREFOX, True),
        ("text/html, application/rss+xml;q=0.9, */*;q=0.1", True),
    ],
)
def test_the_accept_rule(site: Site, client: FlaskClient, accept: str | None, html: bool) -> None:
    assert site.feeds("update") == 0
    headers = {"Accept": accept} if accept else {}
    view = client.get("/feeds/ours").data
    for fmt in Format:
        response = client.get(f"/feeds/ours.{fmt.value}", headers=headers)
        assert response.status_code == 200
        if html:
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert response.data == view
        else:
            assert response.headers["Content-Type"] == fmt.content_type
            assert response.data == client.get(f"/feeds/ours.{fmt.value}").data
            assert b"<html" not in response.data


def test_no_xslt_is_served_anywhere(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    for name in PUBLIC_FEEDS:
        for ext in EXTENSIONS:
            for accept in (None, CHROMIUM):
                headers = {"Accept": accept} if accept else {}
                body = client.get(f"/feeds/{name}.{ext}", headers=headers).data
                assert b"xml-stylesheet" not in body and b"xsl" not in body.lower()
    for path in ("/", "/sources", "/status", "/feeds/everything"):
        assert b"xsl" not in client.get(path).data.lower()
    assert client.get("/static/feed.xsl").status_code == 404


def test_a_partners_feed_has_no_public_page(
    site: Site, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = add_partners(
        site, capsys, PARTNER_FEEDS_TOML, [("p1", '["private-wire", "everything"]', "full", True)]
    )
    key = keys["p1"]
    assert client.get("/feeds/private-wire").status_code == 404
    assert client.get("/feeds/private-wire", headers=bearer(key)).status_code == 404
    assert client.get("/feeds/private-wire.rss", headers={"Accept": CHROMIUM}).status_code == 401
    keyed = client.get("/feeds/private-wire.rss", headers={"Accept": CHROMIUM, **bearer(key)})
    assert keyed.status_code == 200
    assert keyed.headers["Content-Type"] == "application/xml; charset=utf-8"  # the feed itself
    assert keyed.data.startswith(b"<?xml")
    # a partner reading a public feed in a browser gets its own variant, not the public page
    variant = client.get("/feeds/everything.rss", headers={"Accept": CHROMIUM, **bearer(key)})
    assert variant.data.startswith(b"<?xml")
    assert "private" in variant.headers["Cache-Control"]
    index = client.get("/").data
    assert b"private-wire" not in index and b"/feeds/everything" in index


def test_a_feed_made_partners_only_loses_its_page(
    site: Site, client: FlaskClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert site.feeds("update") == 0
    assert client.get("/feeds/ours").status_code == 200
    feeds = (site.config / "feeds.toml").read_text(encoding="utf-8")
    made_private = feeds.replace('name = "ours"\n', 'name = "ours"\naccess = "partners"\n')
    add_partners(site, capsys, made_private, [("p1", '["ours"]', "full", True)])
    with web(site) as fresh:
        assert fresh.get("/feeds/ours").status_code == 404
        assert fresh.get("/feeds/ours.rss", headers={"Accept": CHROMIUM}).status_code == 401


def test_a_configured_feed_not_yet_published_says_so(site: Site, client: FlaskClient) -> None:
    response = client.get("/feeds/ours")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert client.get("/feeds/nope").status_code == 404


# --------------------------------------------------------------------------- languages


def test_an_arabic_site_reads_right_to_left_in_arabic(site: Site) -> None:
    speak(site, "ar")
    assert site.feeds("update") == 0
    with web(site) as client:
        for path, arabic in [
            ("/", "الخلاصات"),
            ("/sources", "المصادر"),
            ("/status", "المصادر المتعثرة"),
            ("/feeds/everything", "اشترك في هذه الخلاصة"),
        ]:
            response = client.get(path)
            assert response.status_code == 200, path
            doc = page(response.data)
            assert doc.get("lang") == "ar" and doc.get("dir") == "rtl", path
            assert arabic in doc.text_content(), path
            assert "Subscribe" not in doc.text_content() and "Sources and" not in (
                doc.text_content()
            )
        view = page(client.get("/feeds/everything").data)
        buttons = view.xpath("//section[@id='subscribe']//button")
        assert [b.text for b in buttons] == ["انسخ"] * 3
        silos = next(a for a in view.xpath("//main/article") if "grain silos" in a.text_content())
        assert silos.xpath(".//time")[0].text == "19 نوفمبر 2026، 07:00 UTC"
        # a status line with a number: Arabic plural forms
        status = page(client.get("/status").data).text_content()
        assert "إخفاق" in status  # the broken upstream's failures in a row


def test_an_english_site_reads_left_to_right_in_english(site: Site, client: FlaskClient) -> None:
    assert site.feeds("update") == 0
    for path in ("/", "/sources", "/status", "/feeds/ours"):
        doc = page(client.get(path).data)
        assert doc.get("lang") == "en" and doc.get("dir") == "ltr"
    assert "Sources and their health" in page(client.get("/").data).text_content()


def test_a_language_without_a_catalog_keeps_english_text_in_its_direction(site: Site) -> None:
    speak(site, "he")
    assert site.feeds("update") == 0
    with web(site) as client:
        doc = page(client.get("/feeds/ours").data)
        assert doc.get("lang") == "he" and doc.get("dir") == "rtl"
        assert "Subscribe to this feed" in doc.text_content()


def test_quotes_in_an_arabic_article_stay_as_typed(site: Site) -> None:
    speak(site, "ar")
    typed = "قال الوزير \"سنعيد فتح الميناء\" وأضاف 'قريبًا' و«غدًا»."
    (site.config / "articles" / "quotes-ar.md").write_text(
        f"---\ntitle: 'عنوان \"مقتبس\"'\ndate: 2026-11-21T08:00:00+03:00\n---\n{typed}\n",
        encoding="utf-8",
    )
    assert site.feeds("update") == 0
    with web(site) as client:
        item = next(i for i in json_items(client, "ours") if "مقتبس" in str(i["title"]))
        assert item["title"] == 'عنوان "مقتبس"'
        assert f"<p>{typed}</p>" in str(item["content_html"]).replace("&quot;", '"')
        assert "“" not in str(item["content_html"]) and "‘" not in str(item["content_html"])
        view = page(client.get("/feeds/ours").data)
        titles = [h.text_content() for h in view.xpath("//main/article/h2")]
        assert 'عنوان "مقتبس"' in titles
        assert typed in view.text_content()  # the first paragraph is the summary


# --------------------------------------------------------------------------- catalogs


def compiled(catalog: Catalog) -> dict[object, object]:
    """{msgid: msgstr} of a catalog, plural forms as tuples (a .mo reads them as lists)."""

    def value(v: object) -> object:
        return tuple(v) if isinstance(v, list | tuple) else v

    return {value(m.id): value(m.string) for m in catalog if m.id}


@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_message_is_translated_and_compiled(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        po = read_po(f)
    with (folder / "messages.mo").open("rb") as f:
        mo = read_mo(f)
    with (TRANSLATIONS / "messages.pot").open("rb") as f:
        pot = read_po(f)
    assert {m.id for m in pot if m.id} == {m.id for m in po if m.id}  # make translations ran
    untranslated = [m.id for m in po if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []
    assert compiled(po) == compiled(mo)
    if language == "ar":
        plural = next(m for m in po if isinstance(m.id, tuple))
        assert len(plural.string) == 6  # Arabic has six plural forms
