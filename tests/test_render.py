"""feeds.render: RSS 2.0, Atom 1.0 and JSON Feed 1.1, checked on the bytes they produce.

Golden files live in tests/golden/render/; FEEDS_UPDATE_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import dataclasses
import html
import json
import locale
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import etree

from feeds.errors import FeedsError
from feeds.ids import iri
from feeds.render import (
    Renderer,
    document_url,
    feed_url,
    render,
    render_all,
    syndication,
)
from feeds.render.marks import ItemMarks, split_items
from feeds.types import (
    ContentMode,
    Enclosure,
    FeedSpec,
    Format,
    Image,
    Item,
    ItemSource,
    Page,
    Site,
)
from tests.validators import ATOM, CONTENT, DC, DCTERMS, FH, MEDIA, SY

GOLDEN = Path(__file__).parent / "golden" / "render"

NS = {"atom": ATOM, "content": CONTENT, "dc": DC, "dcterms": DCTERMS, "media": MEDIA}
ALL_NS = {**NS, "sy": SY, "fh": FH}

XML_NS = "http://www.w3.org/XML/1998/namespace"

SITE = Site(
    title="The Example Times",
    link="https://www.example.com/",
    base_url="https://feeds.example.com",
    description="News from Example & friends",
    language="en",
    articles_dir=Path("content"),
    copyright="© 2024 Example Media",
)
SPEC = FeedSpec(
    name="world",
    title="World",
    description="World news from The Example Times and partners",
    local=True,
    sources=("*",),
)

LOCAL = Item(
    id="https://www.example.com/2024/05/01/elections",
    title="“Historic” turnout & <early> results",
    link="https://www.example.com/2024/05/01/elections",
    published=datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
    updated=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    authors=("José Ñúñez", "Zoë O’Brien"),
    tags=("politics", "Europe"),
    summary="Voters “queued for hours” in Lyon & Lille.",
    content='<p>Turnout was high, <a href="https://www.example.com/data">data</a> show.</p>',
    image=Image(
        url="https://www.example.com/img/vote.jpg?w=1200&h=800",
        caption="Voters queue in Lyon.",
        credit="Jean Dupont/Reuters",
        width=1200,
        height=800,
        type="image/jpeg",
    ),
)
WIRE = Item(
    id="tag:wire.example.org,2024:story/42",
    title="Podcast: the week in ]]> markup",
    link="https://wire.example.org/story/42",
    published=datetime(2024, 5, 1, 7, 0, tzinfo=UTC),
    updated=datetime(2024, 5, 1, 10, 15, tzinfo=UTC),  # the newest change, not the first item
    authors=("Wire Staff",),
    tags=("audio",),
    summary="This week's episode.",
    content="<p>Listen below. Literal ]]&gt; text.</p>",
    enclosures=(
        Enclosure(url="https://wire.example.org/audio/42.mp3", type="audio/mpeg", length=123456),
        Enclosure(url="https://wire.example.org/audio/42.ogg", type="audio/ogg", length=99999),
    ),
    sources=(ItemSource(id="wire", title="Wire Service", url="https://wire.example.org/feed.xml"),),
)
PARTNER = Item(
    id="8f14e45f-ceea-467f-a0e6-4f1b2c3d5e6f",
    title="Partner piece",
    link="https://partner.example.net/a/12345",
    published=datetime(2024, 4, 30, 12, 0, tzinfo=UTC),
    updated=datetime(2024, 4, 30, 12, 0, tzinfo=UTC),
    summary="A summary-only item from a partner.",
    image=Image(url="https://partner.example.net/img/1.png", credit="Partner Photo"),
    sources=(
        ItemSource(id="partner", title="Partner Outlet", url="https://partner.example.net/rss"),
    ),
)
ARABIC = Item(
    id="https://www.example.com/ar/2024/04/29/news",
    title="أخبار العالم اليوم",
    link="https://www.example.com/ar/2024/04/29/news",
    published=datetime(2024, 4, 29, 6, 0, tzinfo=UTC),
    updated=datetime(2024, 4, 29, 6, 0, tzinfo=UTC),
    authors=("سارة أحمد",),
    tags=("سياسة",),
    summary="ملخص الخبر",
    content='<p dir="rtl">نص المقال</p>',
)
ITEMS = (LOCAL, WIRE, PARTNER, ARABIC)
NEWEST = "2024-05-01T10:15:00Z"
# The ids items are published under: an id that is not an IRI becomes one (Atom needs it).
PUBLISHED_IDS = [LOCAL.id, WIRE.id, "urn:uuid:" + PARTNER.id, ARABIC.id]


def rss_items(body: bytes) -> list[Any]:
    return etree.fromstring(body).findall("channel/item")


def atom_entries(body: bytes) -> list[Any]:
    return etree.fromstring(body).findall(f"{{{ATOM}}}entry")


# --------------------------------------------------------------------------- all formats


def test_feed_url() -> None:
    assert feed_url(SITE, SPEC, Format.RSS) == "https://feeds.example.com/feeds/world.rss"
    assert feed_url(SITE, SPEC, Format.ATOM) == "https://feeds.example.com/feeds/world.atom"
    assert feed_url(SITE, SPEC, Format.JSON) == "https://feeds.example.com/feeds/world.json"


def test_render_all_gives_rss_atom_json() -> None:
    rendered = render_all(SITE, SPEC, ITEMS)
    assert [r.format for r in rendered] == [Format.RSS, Format.ATOM, Format.JSON]
    for r in rendered:
        assert r.body == render(SITE, SPEC, ITEMS, r.format)


def test_byte_stable() -> None:
    first = render_all(SITE, SPEC, ITEMS)
    assert render_all(SITE, SPEC, list(ITEMS)) == first


def test_byte_stable_across_threads() -> None:
    expected = render_all(SITE, SPEC, ITEMS)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: render_all(SITE, SPEC, ITEMS), range(32)))
    assert all(result == expected for result in results)


def _story(n: int, **changes: Any) -> Item:
    return dataclasses.replace(
        WIRE,
        id=f"story-{n}",  # not an IRI: published as a tag: URI
        title=f"Story {n}: <b>&amp;</b> ]]> \x0b",
        link=f"https://wire.example.org/story/{n}",
        published=datetime(2024, 5, 2, n, 0, tzinfo=UTC),
        updated=datetime(2024, 5, 2, n, 30, tzinfo=UTC),
        **changes,
    )


def test_renderer_gives_the_bytes_of_render_all_whatever_it_remembers() -> None:
    renderer = Renderer()
    hub_site = dataclasses.replace(SITE, hub="https://hub.example.com/", icon="https://e.com/i.png")
    other_spec = dataclasses.replace(SPEC, title="World (renamed)")
    every = [
        (SITE, SPEC, list(ITEMS), Page()),
        (SITE, SPEC, [_story(1), *ITEMS], Page(ttl=timedelta(minutes=15))),  # one new on top
        (SITE, SPEC, [_story(2), _story(1), *ITEMS[:-1]], Page(prev_archive=1)),  # oldest out
        (SITE, SPEC, [_story(2, content="<p>Corrected.</p>"), _story(1)], Page()),  # changed
        (SITE, SPEC, [_story(1), _story(2)], Page()),  # reordered
        (SITE, other_spec, [_story(1), _story(2)], Page()),  # the feed's settings changed
        (hub_site, other_spec, [_story(1), _story(2), ARABIC], Page()),  # the site's changed
        (hub_site, other_spec, [], Page()),  # empty
        (hub_site, other_spec, [ARABIC], Page(number=2, prev_archive=1)),  # an archive page
        (hub_site, other_spec, [_story(1), ARABIC, PARTNER], Page()),
        # Ids that are not IRIs are published under the site's domain.
        (
            dataclasses.replace(hub_site, link="https://other.example/"),
            other_spec,
            [_story(1), ARABIC, PARTNER],
            Page(),
        ),
    ]
    for site, spec, items, page in every:
        assert renderer.render_all(site, spec, items, page) == render_all(site, spec, items, page)
    # Several feeds, each with its own memory.
    for n in range(3, 6):
        other = dataclasses.replace(SPEC, name=f"feed-{n}")
        items = [_story(n), *ITEMS]
        assert renderer.render_all(SITE, other, items) == render_all(SITE, other, items)
        assert renderer.render_all(SITE, SPEC, items) == render_all(SITE, SPEC, items)


def test_renderer_renders_only_the_items_it_has_not_seen() -> None:
    def every_format(count: int) -> dict[Format, int]:
        return {Format.RSS: count, Format.ATOM: count, Format.JSON: count}

    renderer = Renderer()
    assert renderer.rendered_afresh == {}
    renderer.render_all(SITE, SPEC, ITEMS)
    assert renderer.rendered_afresh == every_format(4)
    # One new item: only that item is rendered; the others are spliced from memory.
    items = [_story(1), *ITEMS[:2]]
    assert renderer.render_all(SITE, SPEC, items) == render_all(SITE, SPEC, items)
    assert renderer.rendered_afresh == every_format(1)
    # The same inputs again: nothing is rendered.
    assert renderer.render_all(SITE, SPEC, items) == render_all(SITE, SPEC, items)
    assert renderer.rendered_afresh == every_format(0)
    # New settings: the memory is dropped, everything is rendered.
    renamed = dataclasses.replace(SPEC, title="Renamed")
    renderer.render_all(SITE, renamed, [_story(1)])
    assert renderer.rendered_afresh == every_format(1)
    # Archive pages are rendered whole, and do not disturb the memory.
    renderer.render_all(SITE, renamed, items, Page(number=1))
    assert renderer.rendered_afresh == every_format(3)
    renderer.render_all(SITE, renamed, [_story(1)])
    assert renderer.rendered_afresh == every_format(0)


def test_never_touches_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> str:
        raise AssertionError("render called locale.setlocale")

    monkeypatch.setattr(locale, "setlocale", refuse)
    render_all(SITE, SPEC, ITEMS)
    render_all(SITE, SPEC, [])


def test_same_ids_in_every_format() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, ITEMS))
    expected = PUBLISHED_IDS
    assert [i.findtext("guid") for i in rss_items(rss)] == expected
    assert [e.findtext(f"{{{ATOM}}}id") for e in atom_entries(atom)] == expected
    assert [i["id"] for i in json.loads(jsonfeed)["items"]] == expected


@pytest.mark.parametrize("fmt", [Format.RSS, Format.ATOM])
def test_feedparser_reads_it_cleanly(fmt: Format) -> None:
    parsed = feedparser.parse(render(SITE, SPEC, ITEMS, fmt))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.title == "World"
    assert parsed.feed.link == SITE.link
    assert [e.id for e in parsed.entries] == PUBLISHED_IDS
    local, wire, partner, _ = parsed.entries
    assert local.title == LOCAL.title
    assert local.link == LOCAL.link
    assert [a.name for a in local.authors] == list(LOCAL.authors)
    assert [t.term for t in local.tags] == list(LOCAL.tags)
    assert LOCAL.content in local.content[0].value
    assert wire.enclosures[0].href == WIRE.enclosures[0].url
    assert wire.enclosures[0].type == "audio/mpeg"
    assert wire.enclosures[0].length == "123456"
    assert wire.link == WIRE.link
    assert "content" not in partner
    assert partner.summary == PARTNER.summary


# --------------------------------------------------------------------------- RSS 2.0


def test_rss_channel() -> None:
    body = render(SITE, SPEC, ITEMS, Format.RSS)
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    root = etree.fromstring(body)
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext("title") == "World"
    assert channel.findtext("link") == SITE.link  # the site, not the feed
    assert channel.findtext("description") == SPEC.description
    assert channel.findtext("language") == "en"
    assert channel.findtext("copyright") == SITE.copyright
    assert channel.findtext("lastBuildDate") == "Wed, 01 May 2024 10:15:00 GMT"
    assert channel.findtext("pubDate") == "Wed, 01 May 2024 10:15:00 GMT"  # the newest change
    [self_link] = channel.findall("atom:link", NS)
    assert self_link.attrib == {
        "href": "https://feeds.example.com/feeds/world.rss",
        "rel": "self",
        "type": "application/rss+xml",
    }


def test_rss_description_falls_back_to_site() -> None:
    spec = dataclasses.replace(SPEC, description="")
    channel = etree.fromstring(render(SITE, spec, ITEMS, Format.RSS)).find("channel")
    assert channel.findtext("description") == SITE.description


def test_rss_namespaces_declared_once_at_the_root() -> None:
    body = render(SITE, SPEC, ITEMS, Format.RSS)
    root = etree.fromstring(body)
    for prefix, uri in NS.items():
        assert root.nsmap[prefix] == uri
        assert body.count(f'xmlns:{prefix}="'.encode()) == 1
    assert body.count(b"xmlns") == 5  # no sy: or fh: unless used


def test_rss_items() -> None:
    local, wire, partner, arabic = rss_items(render(SITE, SPEC, ITEMS, Format.RSS))

    assert local.findtext("title") == LOCAL.title
    assert local.findtext("link") == LOCAL.link
    assert local.find("guid").get("isPermaLink") == "true"
    assert wire.find("guid").get("isPermaLink") == "false"  # a tag: URI
    assert partner.find("guid").get("isPermaLink") == "false"  # not a URL at all
    assert local.findtext("pubDate") == "Wed, 01 May 2024 08:00:00 GMT"
    assert local.findtext("dcterms:modified", namespaces=NS) == "2024-05-01T09:30:00Z"
    assert wire.findtext("dcterms:modified", namespaces=NS) == "2024-05-01T10:15:00Z"
    assert [c.text for c in local.findall("dc:creator", NS)] == list(LOCAL.authors)
    assert all(i.find("author") is None for i in (local, wire, partner, arabic))
    assert [c.text for c in local.findall("category")] == ["politics", "Europe"]
    # <description> is HTML to readers: the plain-text dek goes in escaped
    assert html.unescape(local.findtext("description")) == LOCAL.summary
    assert arabic.findtext("title") == ARABIC.title


def test_rss_content_gets_the_lead_image_figure() -> None:
    local = rss_items(render(SITE, SPEC, ITEMS, Format.RSS))[0]
    content = local.findtext("content:encoded", namespaces=NS)
    assert content == (
        '<figure><img src="https://www.example.com/img/vote.jpg?w=1200&amp;h=800" '
        'alt="Voters queue in Lyon." width="1200" height="800" />'
        "<figcaption>Voters queue in Lyon. <small>Jean Dupont/Reuters</small></figcaption>"
        "</figure>" + LOCAL.content
    )


def test_figure_not_added_when_content_already_shows_the_image() -> None:
    html = '<p><img src="https://www.example.com/img/vote.jpg?w=1200&amp;h=800"></p>'
    item = dataclasses.replace(LOCAL, content=html)
    for fmt in (Format.RSS, Format.ATOM, Format.JSON):
        body = render(SITE, SPEC, [item], fmt)
        assert b"figure" not in body
    rss = rss_items(render(SITE, SPEC, [item], Format.RSS))[0]
    assert rss.findtext("content:encoded", namespaces=NS) == html


def test_rss_media_content_with_caption_and_credit() -> None:
    body = render(SITE, SPEC, ITEMS, Format.RSS)
    assert b"media:group" not in body
    local, wire, partner, _ = rss_items(body)
    [media] = local.findall("media:content", NS)  # a direct child of <item>
    assert media.getparent() is local
    assert media.attrib == {
        "url": LOCAL.image.url if LOCAL.image else "",
        "medium": "image",
        "type": "image/jpeg",
        "width": "1200",
        "height": "800",
    }
    description = media.find("media:description", NS)
    assert description.text == "Voters queue in Lyon."
    assert description.get("type") == "plain"
    credit = media.find("media:credit", NS)
    assert credit.text == "Jean Dupont/Reuters"
    assert credit.attrib == {"role": "photographer", "scheme": "urn:ebu"}
    assert wire.find("media:content", NS) is None
    [partner_media] = partner.findall("media:content", NS)
    assert partner_media.attrib == {
        "url": "https://partner.example.net/img/1.png",
        "medium": "image",
    }
    assert partner_media.find("media:description", NS) is None
    assert partner_media.findtext("media:credit", namespaces=NS) == "Partner Photo"


def test_rss_one_enclosure_and_the_source() -> None:
    local, wire, partner, arabic = rss_items(render(SITE, SPEC, ITEMS, Format.RSS))
    [enclosure] = wire.findall("enclosure")  # a podcast's first episode file
    assert enclosure.attrib == {
        "url": "https://wire.example.org/audio/42.mp3",
        "length": "123456",
        "type": "audio/mpeg",
    }
    source = wire.find("source")
    assert source.text == "Wire Service"
    assert source.attrib == {"url": "https://wire.example.org/feed.xml"}
    assert partner.find("source").get("url") == "https://partner.example.net/rss"
    assert local.find("source") is None
    assert arabic.find("enclosure") is None  # no image, no enclosure


def test_rss_lead_image_is_the_enclosure_and_thumbnail() -> None:
    """The lead image is also the enclosure (length 0: its size is not known; its type its
    own, else its file name's) and media:thumbnail, after media:content, whose caption a
    reader taking the first image then shows."""
    local, _, partner, _ = rss_items(render(SITE, SPEC, ITEMS, Format.RSS))
    url = "https://www.example.com/img/vote.jpg?w=1200&h=800"
    [enclosure] = local.findall("enclosure")
    assert enclosure.attrib == {"url": url, "length": "0", "type": "image/jpeg"}
    [thumbnail] = local.findall("media:thumbnail", NS)
    assert thumbnail.attrib == {"url": url, "width": "1200", "height": "800"}
    children = list(local)
    assert children.index(local.find("media:content", NS)) < children.index(thumbnail)
    assert children.index(thumbnail) < children.index(enclosure)
    [enclosure] = partner.findall("enclosure")
    assert enclosure.attrib == {
        "url": "https://partner.example.net/img/1.png",
        "length": "0",
        "type": "image/png",  # from the file name
    }
    assert partner.find("media:thumbnail", NS).attrib == {"url": enclosure.get("url")}


def test_one_enclosure_rule_a_podcast_keeps_its_episode() -> None:
    """RSS allows one enclosure: an item with a media enclosure (a podcast episode) keeps it
    there, its lead image staying in media:content and media:thumbnail; Atom links both,
    JSON Feed attaches the episode and names the image."""
    image = Image(url="https://wire.example.org/img/42.webp", width=800, height=600)
    episode = dataclasses.replace(WIRE, image=image)
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, [episode]))
    [item] = rss_items(rss)
    assert [e.get("url") for e in item.findall("enclosure")] == [WIRE.enclosures[0].url]
    assert item.find("media:thumbnail", NS).get("url") == image.url
    assert item.find("media:content", NS).get("url") == image.url
    [entry] = atom_entries(atom)
    links = [
        (link.get("href"), link.get("type"), link.get("length"))
        for link in entry.findall("atom:link[@rel='enclosure']", NS)
    ]
    assert links == [
        (WIRE.enclosures[0].url, "audio/mpeg", "123456"),
        (WIRE.enclosures[1].url, "audio/ogg", "99999"),
        (image.url, "image/webp", "0"),
    ]
    [item_json] = json.loads(jsonfeed)["items"]
    assert item_json["image"] == image.url
    assert [a["url"] for a in item_json["attachments"]] == [e.url for e in WIRE.enclosures]


def test_an_image_enclosure_is_the_lead_image_once() -> None:
    """An upstream image enclosure that is the lead image is published once in each format;
    an unknown type is application/octet-stream."""
    image = Image(url="https://wire.example.org/img/photo")
    item = dataclasses.replace(
        WIRE, image=image, enclosures=(Enclosure(url=image.url, type="image/jpeg"),)
    )
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, [item]))
    [rss_item] = rss_items(rss)
    assert [e.get("type") for e in rss_item.findall("enclosure")] == ["image/jpeg"]
    assert "attachments" in json.loads(jsonfeed)["items"][0]
    [entry] = atom_entries(atom)
    assert len(entry.findall("atom:link[@rel='enclosure']", NS)) == 1
    bare = dataclasses.replace(WIRE, image=image, enclosures=())
    [rss_item] = rss_items(render(SITE, SPEC, [bare], Format.RSS))
    assert rss_item.find("enclosure").get("type") == "application/octet-stream"


def test_rss_summary_only_item_has_no_content_encoded() -> None:
    partner = rss_items(render(SITE, SPEC, ITEMS, Format.RSS))[2]
    assert partner.find("content:encoded", NS) is None
    assert partner.findtext("description") == PARTNER.summary


def test_rss_item_without_summary_has_its_title_as_description() -> None:
    """Every item has a <description> before its content:encoded (issue 9): without a dek,
    the title (escaped like a dek), never the content's HTML."""
    item = dataclasses.replace(WIRE, summary="")
    [rss] = rss_items(render(SITE, SPEC, [item], Format.RSS))
    assert rss.findtext("description") == html.escape(WIRE.title, quote=False)
    assert rss.findtext("content:encoded", namespaces=NS) == WIRE.content
    children = [child.tag for child in rss]
    assert children.index("description") < children.index(f"{{{CONTENT}}}encoded")


# --------------------------------------------------------------------------- Atom 1.0


def test_atom_feed() -> None:
    body = render(SITE, SPEC, ITEMS, Format.ATOM)
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n")
    root = etree.fromstring(body)
    assert root.tag == f"{{{ATOM}}}feed"
    assert root.get(f"{{{XML_NS}}}lang") == "en"
    assert root.findtext("atom:id", namespaces=NS) == feed_url(SITE, SPEC, Format.ATOM)
    assert root.findtext("atom:title", namespaces=NS) == "World"
    assert root.findtext("atom:subtitle", namespaces=NS) == SPEC.description
    assert root.findtext("atom:updated", namespaces=NS) == NEWEST
    assert root.findtext("atom:rights", namespaces=NS) == SITE.copyright
    assert root.findtext("atom:generator", namespaces=NS) == "feeds"
    assert root.findtext("atom:author/atom:name", namespaces=NS) == SITE.title
    links = [dict(link.attrib) for link in root.findall("atom:link", NS)]
    assert links == [
        {"href": SITE.link, "rel": "alternate", "type": "text/html"},
        {
            "href": "https://feeds.example.com/feeds/world.atom",
            "rel": "self",
            "type": "application/atom+xml",
        },
    ]


def test_atom_entry_links_keep_rel_type_and_length() -> None:
    local, wire, _, _ = atom_entries(render(SITE, SPEC, ITEMS, Format.ATOM))
    links = [dict(link.attrib) for link in wire.findall("atom:link", NS)]
    assert links == [
        {"rel": "alternate", "href": WIRE.link},
        {
            "rel": "enclosure",
            "href": "https://wire.example.org/audio/42.mp3",
            "type": "audio/mpeg",
            "length": "123456",
        },
        {
            "rel": "enclosure",
            "href": "https://wire.example.org/audio/42.ogg",
            "type": "audio/ogg",
            "length": "99999",
        },
    ]
    # The lead image is an enclosure too (its size is not known).
    assert [dict(link.attrib) for link in local.findall("atom:link", NS)] == [
        {"rel": "alternate", "href": LOCAL.link},
        {
            "rel": "enclosure",
            "href": "https://www.example.com/img/vote.jpg?w=1200&h=800",
            "type": "image/jpeg",
            "length": "0",
        },
    ]


def test_atom_entries() -> None:
    local, _, partner, arabic = atom_entries(render(SITE, SPEC, ITEMS, Format.ATOM))
    assert local.findtext("atom:title", namespaces=NS) == LOCAL.title
    assert local.findtext("atom:published", namespaces=NS) == "2024-05-01T08:00:00Z"
    assert local.findtext("atom:updated", namespaces=NS) == "2024-05-01T09:30:00Z"
    names = [a.findtext("atom:name", namespaces=NS) for a in local.findall("atom:author", NS)]
    assert names == list(LOCAL.authors)
    categories = [dict(c.attrib) for c in local.findall("atom:category", NS)]
    assert categories == [
        {"term": "politics", "label": "politics"},
        {"term": "Europe", "label": "Europe"},
    ]
    summary = local.find("atom:summary", NS)
    assert summary.get("type") == "text"
    assert summary.text == LOCAL.summary
    content = local.find("atom:content", NS)
    assert content.get("type") == "html"
    assert content.text.startswith("<figure><img ")
    assert content.text.endswith(LOCAL.content)
    assert partner.find("atom:content", NS) is None  # summary only
    assert arabic.findtext("atom:title", namespaces=NS) == ARABIC.title


def test_atom_source_for_aggregated_entries() -> None:
    local, wire, _, _ = atom_entries(render(SITE, SPEC, ITEMS, Format.ATOM))
    assert local.find("atom:source", NS) is None
    source = wire.find("atom:source", NS)
    assert source.findtext("atom:id", namespaces=NS) == "https://wire.example.org/feed.xml"
    assert source.findtext("atom:title", namespaces=NS) == "Wire Service"
    [link] = source.findall("atom:link", NS)
    assert link.attrib == {"rel": "self", "href": "https://wire.example.org/feed.xml"}
    assert source.findtext("atom:updated", namespaces=NS) == "2024-05-01T10:15:00Z"


def test_atom_entry_without_link_or_content_is_still_valid() -> None:
    item = Item(
        id="urn:uuid:3b241101-e2bb-4255-8caf-4136c566a962",
        title="",
        link="",
        published=datetime(2024, 1, 1, tzinfo=UTC),
        updated=datetime(2024, 1, 1, tzinfo=UTC),
        summary="A note without a title or a link.",
    )
    body = render(SITE, SPEC, [item], Format.ATOM)
    assert feedparser.parse(body).bozo == 0
    [entry] = atom_entries(body)
    assert entry.findtext("atom:title", namespaces=NS) == item.summary
    content = entry.find("atom:content", NS)
    assert (content.get("type"), content.text) == ("text", item.summary)
    assert entry.find("atom:link", NS) is None
    [rss] = rss_items(render(SITE, SPEC, [item], Format.RSS))
    assert rss.find("link") is None
    assert rss.find("guid").get("isPermaLink") == "false"


# --------------------------------------------------------------------------- JSON Feed 1.1


def test_json_feed() -> None:
    body = render(SITE, SPEC, ITEMS, Format.JSON)
    doc = json.loads(body.decode("utf-8"))
    assert list(doc) == [
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "language",
        "authors",
        "items",
    ]
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["home_page_url"] == SITE.link
    assert doc["feed_url"] == "https://feeds.example.com/feeds/world.json"
    assert doc["description"] == SPEC.description
    assert doc["authors"] == [{"name": SITE.title, "url": SITE.link}]
    for item in doc["items"]:
        assert {"id", "date_published", "date_modified"} <= item.keys()
        assert ("content_html" in item) != ("content_text" in item)

    local, wire, partner, arabic = doc["items"]
    assert local["url"] == LOCAL.link
    assert local["title"] == LOCAL.title
    assert local["summary"] == LOCAL.summary
    assert local["content_html"].endswith(LOCAL.content)
    assert local["image"] == "https://www.example.com/img/vote.jpg?w=1200&h=800"
    assert local["date_published"] == "2024-05-01T08:00:00Z"
    assert local["date_modified"] == "2024-05-01T09:30:00Z"
    assert local["authors"] == [{"name": "José Ñúñez"}, {"name": "Zoë O’Brien"}]
    assert local["tags"] == ["politics", "Europe"]
    assert "_source" not in local
    assert wire["attachments"] == [
        {
            "url": "https://wire.example.org/audio/42.mp3",
            "mime_type": "audio/mpeg",
            "size_in_bytes": 123456,
        },
        {
            "url": "https://wire.example.org/audio/42.ogg",
            "mime_type": "audio/ogg",
            "size_in_bytes": 99999,
        },
    ]
    assert wire["_source"] == {"title": "Wire Service", "url": "https://wire.example.org/feed.xml"}
    assert partner["content_text"] == PARTNER.summary
    assert "content_html" not in partner
    assert arabic["title"] == ARABIC.title
    # ensure_ascii=False: characters, not \\u escapes
    assert "“Historic”".encode() in body
    assert b"\\u" not in body


def test_summary_feed_has_no_content_html() -> None:
    spec = dataclasses.replace(SPEC, content=ContentMode.SUMMARY)
    items = [dataclasses.replace(item, content="") for item in ITEMS]
    doc = json.loads(render(SITE, spec, items, Format.JSON))
    assert all("content_html" not in i and i["content_text"] for i in doc["items"])


# --------------------------------------------------------------------------- edge cases


def test_empty_feed_is_valid_everywhere() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, []))
    channel = etree.fromstring(rss).find("channel")
    assert channel.findtext("lastBuildDate") == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert channel.findall("item") == []
    root = etree.fromstring(atom)
    assert root.findtext("atom:updated", namespaces=NS) == "1970-01-01T00:00:00Z"
    assert root.findall("atom:entry", NS) == []
    for body in (rss, atom):
        assert feedparser.parse(body).bozo == 0
    doc = json.loads(jsonfeed)
    assert doc["items"] == []
    assert doc["version"] == "https://jsonfeed.org/version/1.1"


def test_control_characters_are_stripped() -> None:
    controls = "".join(
        chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]
    )
    item = dataclasses.replace(
        LOCAL,
        title=f"Bad{controls}title",
        summary=f"sum{controls}mary",
        content=f"<p>con{controls}tent</p>",
        authors=(f"Ann{controls}a",),
        image=Image(url="https://www.example.com/i.jpg", caption=f"cap{controls}tion"),
    )
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, [item]))
    for body in (rss, atom, jsonfeed):
        assert not any(chr(c).encode() in body for c in range(0x00, 0x20) if c not in (9, 10, 13))
        assert not any(chr(c).encode() in body for c in range(0x7F, 0xA0))
    [rss_item] = rss_items(rss)
    assert rss_item.findtext("title") == "Badtitle"
    assert rss_item.findtext("description") == "summary"
    assert rss_item.findtext("dc:creator", namespaces=NS) == "Anna"
    [entry] = atom_entries(atom)
    assert entry.findtext("atom:title", namespaces=NS) == "Badtitle"
    assert json.loads(jsonfeed)["items"][0]["title"] == "Badtitle"
    assert feedparser.parse(rss).bozo == 0
    assert feedparser.parse(atom).bozo == 0


def _poisoned(value: Any) -> Any:
    """``value`` with characters XML refuses or discourages in every one of its strings."""
    if type(value) is str:
        return value[:1] + "\x01\x0b\ufffe\x7f\x9f" + value[1:]
    if isinstance(value, tuple):
        return tuple(_poisoned(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f.name for f in dataclasses.fields(value) if f.init]
        return dataclasses.replace(value, **{f: _poisoned(getattr(value, f)) for f in fields})
    return value


@pytest.mark.parametrize("page", [Page(ttl=timedelta(minutes=15), prev_archive=2), Page(number=2)])
def test_every_published_string_is_cleaned(page: Page) -> None:
    site = dataclasses.replace(
        SITE, hub="https://hub.example.com/", icon="https://www.example.com/i.png"
    )
    items = [*ITEMS, dataclasses.replace(WIRE, id="wire-42", language="fr")]
    expected = render_all(site, SPEC, items, page)
    poisoned = [_poisoned(item) for item in items]
    assert render_all(_poisoned(site), _poisoned(SPEC), poisoned, page) == expected


def test_items_are_found_whatever_the_layout() -> None:
    def document(marked: bool) -> Any:
        root = etree.Element("feed")
        etree.SubElement(root, "title").text = "<!--feeds:item--> is text here"
        marks = ItemMarks()
        marks.start(root)
        for n in range(3):
            item = etree.Element("entry")
            etree.SubElement(item, "title").text = f"entry {n}"
            if marked:
                marks.before_item()
            root.append(item)
        return root

    for indent in (None, "  ", "\t"):
        plain, marked = document(marked=False), document(marked=True)
        if indent is not None:
            etree.indent(plain, space=indent)
            etree.indent(marked, space=indent)
        expected = etree.tostring(plain)
        head, pieces, tail = split_items(etree.tostring(marked), 3, b"</entry>", b"</feed>")
        assert head + b"".join(pieces) + tail == expected
        assert [piece.strip() for piece in pieces] == [
            f"<entry><title>entry {n}</title></entry>".encode()
            if indent is None
            else f"<entry>\n{indent * 2}<title>entry {n}</title>\n{indent}</entry>".encode()
            for n in range(3)
        ]
    with pytest.raises(FeedsError):
        split_items(etree.tostring(document(marked=True)), 2, b"</entry>", b"</feed>")


def test_markup_and_cdata_end_survive_as_text() -> None:
    item = dataclasses.replace(
        WIRE,
        title="A & B <c> ]]> d",
        summary="x ]]> & y",
        content="<p>a ]]> b &amp; c</p>",
    )
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, [item]))
    for body in (rss, atom):
        assert b"<![CDATA[" not in body
        assert b"]]>" not in body
        assert b"A &amp; B &lt;c&gt; ]]&gt; d" in body
    [rss_item] = rss_items(rss)
    assert rss_item.findtext("title") == item.title
    assert html.unescape(rss_item.findtext("description")) == item.summary
    assert rss_item.findtext("content:encoded", namespaces=NS) == item.content
    [entry] = atom_entries(atom)
    assert entry.findtext("atom:title", namespaces=NS) == item.title
    assert entry.findtext("atom:content", namespaces=NS) == item.content
    assert json.loads(jsonfeed)["items"][0]["title"] == item.title
    assert feedparser.parse(rss).entries[0].title == item.title


def test_right_to_left_site() -> None:
    site = dataclasses.replace(
        SITE, title="صحيفة المثال", description="أخبار من المثال", language="ar", copyright=""
    )
    spec = dataclasses.replace(SPEC, title="العالم", description="")
    rss, atom, jsonfeed = (r.body for r in render_all(site, spec, [ARABIC]))
    channel = etree.fromstring(rss).find("channel")
    assert channel.findtext("language") == "ar"
    assert channel.findtext("title") == "العالم"
    assert channel.findtext("description") == "أخبار من المثال"
    assert channel.find("copyright") is None
    assert etree.fromstring(atom).get(f"{{{XML_NS}}}lang") == "ar"
    assert json.loads(jsonfeed)["language"] == "ar"
    for body in (rss, atom, jsonfeed):
        assert "أخبار العالم اليوم".encode() in body  # UTF-8 characters, not references
        assert b"&#" not in body
    assert feedparser.parse(atom).feed.language == "ar"


def test_naive_and_offset_datetimes_come_out_in_utc() -> None:
    from datetime import timezone

    item = dataclasses.replace(
        LOCAL,
        published=datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        updated=datetime(2024, 5, 1, 9, 30),  # naive: taken as UTC, never as local time
    )
    [rss_item] = rss_items(render(SITE, SPEC, [item], Format.RSS))
    assert rss_item.findtext("pubDate") == "Wed, 01 May 2024 08:00:00 GMT"
    doc = json.loads(render(SITE, SPEC, [item], Format.JSON))
    assert doc["items"][0]["date_published"] == "2024-05-01T08:00:00Z"
    assert doc["items"][0]["date_modified"] == "2024-05-01T09:30:00Z"


# --------------------------------------------------------------------------- pages, hub, ttl, icons

RICH_SITE = dataclasses.replace(
    SITE,
    hub="https://hub.example.com/",
    icon="https://www.example.com/icon-512.png",
    logo="https://www.example.com/logo-wide.png",
)
ARABIC_AR = dataclasses.replace(ARABIC, language="ar")
RICH_ITEMS = (LOCAL, WIRE, PARTNER, ARABIC_AR)
ARCHIVE = Page(number=6, prev_archive=5, next_archive=7)


def channel_links(body: bytes) -> list[dict[str, str]]:
    channel = etree.fromstring(body).find("channel")
    return [dict(link.attrib) for link in channel.findall("atom:link", NS)]


def feed_links(body: bytes) -> list[dict[str, str]]:
    return [dict(link.attrib) for link in etree.fromstring(body).findall("atom:link", NS)]


@pytest.mark.parametrize("page", [Page(), ARCHIVE])
def test_xml_documents_need_no_stylesheet(page: Page) -> None:
    """No XSLT: browsers are removing it; a browser opening a feed gets its HTML view."""
    for r in render_all(RICH_SITE, SPEC, RICH_ITEMS, page):
        assert b"xml-stylesheet" not in r.body
        assert b"xsl" not in r.body.lower()
        if r.format is not Format.JSON:
            assert r.body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<")
            assert feedparser.parse(r.body).bozo == 0


def test_document_url() -> None:
    assert document_url(SITE, SPEC, Format.RSS) == feed_url(SITE, SPEC, Format.RSS)
    assert document_url(SITE, SPEC, Format.ATOM, ARCHIVE) == (
        "https://feeds.example.com/feeds/world/archive/6.atom"
    )


def test_current_document_links_to_hub_and_prev_archive() -> None:
    page = Page(prev_archive=6, next_archive=99)  # next_archive means nothing here
    rss, atom, jsonfeed = (r.body for r in render_all(RICH_SITE, SPEC, ITEMS, page))
    assert channel_links(rss) == [
        {"href": "https://feeds.example.com/feeds/world.rss", "rel": "self",
         "type": "application/rss+xml"},
        {"href": "https://hub.example.com/", "rel": "hub"},
        {"href": "https://feeds.example.com/feeds/world/archive/6.rss", "rel": "prev-archive"},
    ]  # fmt: skip
    assert feed_links(atom) == [
        {"href": SITE.link, "rel": "alternate", "type": "text/html"},
        {"href": "https://feeds.example.com/feeds/world.atom", "rel": "self",
         "type": "application/atom+xml"},
        {"href": "https://hub.example.com/", "rel": "hub"},
        {"href": "https://feeds.example.com/feeds/world/archive/6.atom", "rel": "prev-archive",
         "type": "application/atom+xml"},
    ]  # fmt: skip
    for body in (rss, atom):
        assert b"fh:archive" not in body
        assert b"purl.org/syndication/history" not in body
    doc = json.loads(jsonfeed)
    assert doc["next_url"] == "https://feeds.example.com/feeds/world/archive/6.json"
    assert doc["hubs"] == [{"type": "WebSub", "url": "https://hub.example.com/"}]
    assert "_archive" not in doc


def test_archive_page() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(RICH_SITE, SPEC, ITEMS, ARCHIVE))
    base = "https://feeds.example.com/feeds/world"
    channel = etree.fromstring(rss).find("channel")
    [archive] = channel.findall("fh:archive", ALL_NS)
    assert len(archive) == 0 and archive.text is None
    assert channel.findtext("link") == SITE.link
    assert channel_links(rss) == [
        {"href": f"{base}/archive/6.rss", "rel": "self", "type": "application/rss+xml"},
        {"href": f"{base}.rss", "rel": "current"},
        {"href": f"{base}/archive/5.rss", "rel": "prev-archive"},
        {"href": f"{base}/archive/7.rss", "rel": "next-archive"},
    ]
    root = etree.fromstring(atom)
    assert root.findtext("atom:id", namespaces=NS) == f"{base}.atom"  # the same logical feed
    assert len(root.findall("fh:archive", ALL_NS)) == 1
    assert [(link["rel"], link["href"]) for link in feed_links(atom)] == [
        ("alternate", SITE.link),
        ("self", f"{base}/archive/6.atom"),
        ("current", f"{base}.atom"),
        ("prev-archive", f"{base}/archive/5.atom"),
        ("next-archive", f"{base}/archive/7.atom"),
    ]
    for body in (rss, atom):
        assert b"hub.example.com" not in body  # subscribe to the current document only
        assert feedparser.parse(body).bozo == 0
    doc = json.loads(jsonfeed)
    assert doc["feed_url"] == f"{base}.json"
    assert doc["home_page_url"] == SITE.link
    assert doc["next_url"] == f"{base}/archive/5.json"
    assert doc["_archive"] == {"current": f"{base}.json", "page": 6}
    assert "hubs" not in doc


def test_oldest_archive_page_has_no_prev_archive() -> None:
    page = Page(number=1, next_archive=2)
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, ITEMS, page))
    assert [link["rel"] for link in channel_links(rss)] == ["self", "current", "next-archive"]
    assert [link["rel"] for link in feed_links(atom)] == [
        "alternate",
        "self",
        "current",
        "next-archive",
    ]
    assert "next_url" not in json.loads(jsonfeed)


def test_negative_page_number_is_refused() -> None:
    with pytest.raises(FeedsError):
        render(SITE, SPEC, ITEMS, Format.RSS, Page(number=-1))


@pytest.mark.parametrize(
    ("ttl", "minutes", "period", "frequency"),
    [
        (timedelta(minutes=15), "15", "hourly", "4"),
        (timedelta(hours=2), "120", "daily", "12"),
        (timedelta(minutes=60), "60", "hourly", "1"),
        (timedelta(seconds=30), "1", "hourly", "60"),
        (timedelta(minutes=13, seconds=59), "13", "hourly", "4"),
        (timedelta(minutes=7), "7", "weekly", "1440"),
        (timedelta(days=1), "1440", "daily", "1"),
        (timedelta(days=3), "4320", "monthly", "10"),
    ],
)
def test_ttl_and_syndication(ttl: timedelta, minutes: str, period: str, frequency: str) -> None:
    body = render(SITE, SPEC, ITEMS, Format.RSS, Page(ttl=ttl))
    channel = etree.fromstring(body).find("channel")
    assert channel.findtext("ttl") == minutes
    assert channel.findtext("sy:updatePeriod", namespaces=ALL_NS) == period
    assert channel.findtext("sy:updateFrequency", namespaces=ALL_NS) == frequency
    assert body.count(b'xmlns:sy="') == 1


def test_no_ttl_no_syndication() -> None:
    body = render(SITE, SPEC, ITEMS, Format.RSS)
    assert b"<ttl>" not in body and b"syndication" not in body


def test_syndication_frequency_is_always_whole_and_positive() -> None:
    for minutes in [*range(1, 3000), 10079, 10081, 43201, 10**6]:
        period, frequency = syndication(minutes)
        assert period in {"hourly", "daily", "weekly", "monthly", "yearly"}
        assert isinstance(frequency, int) and frequency >= 1


def test_logo_and_icon() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(RICH_SITE, SPEC, ITEMS))
    channel = etree.fromstring(rss).find("channel")
    image = channel.find("image")
    assert image.findtext("url") == RICH_SITE.logo
    assert image.findtext("title") == channel.findtext("title")
    assert image.findtext("link") == channel.findtext("link")
    root = etree.fromstring(atom)
    assert root.findtext("atom:logo", namespaces=NS) == RICH_SITE.logo
    assert root.findtext("atom:icon", namespaces=NS) == RICH_SITE.icon
    doc = json.loads(jsonfeed)
    assert (doc["icon"], doc["favicon"]) == (RICH_SITE.icon, RICH_SITE.icon)


@pytest.mark.parametrize("which", ["icon", "logo"])
def test_one_image_serves_both_roles(which: str) -> None:
    url = f"https://www.example.com/{which}.png"
    site = dataclasses.replace(SITE, **{which: url})
    rss, atom, jsonfeed = (r.body for r in render_all(site, SPEC, ITEMS))
    assert etree.fromstring(rss).findtext("channel/image/url") == url
    root = etree.fromstring(atom)
    assert root.findtext("atom:logo", namespaces=NS) == url
    assert root.findtext("atom:icon", namespaces=NS) == url
    assert json.loads(jsonfeed)["icon"] == url


def test_no_images_without_logo_or_icon() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, ITEMS))
    assert b"<image>" not in rss
    assert b"<logo>" not in atom and b"<icon>" not in atom
    assert "icon" not in json.loads(jsonfeed)


def test_item_language() -> None:
    rss, atom, jsonfeed = (r.body for r in render_all(SITE, SPEC, RICH_ITEMS))
    rss_all = rss_items(rss)
    assert rss_all[3].findtext("dc:language", namespaces=NS) == "ar"
    assert all(i.find("dc:language", NS) is None for i in rss_all[:3])
    entries = atom_entries(atom)
    assert entries[3].get(f"{{{XML_NS}}}lang") == "ar"
    assert all(e.get(f"{{{XML_NS}}}lang") is None for e in entries[:3])
    items = json.loads(jsonfeed)["items"]
    assert items[3]["language"] == "ar"
    assert all("language" not in i for i in items[:3])
    assert "أخبار العالم اليوم".encode() in atom and b"&#" not in atom
    parsed = feedparser.parse(atom)
    assert parsed.entries[3].title == ARABIC.title


def test_media_title_is_the_item_title() -> None:
    local = rss_items(render(SITE, SPEC, ITEMS, Format.RSS))[0]
    media = local.find("media:content", NS)
    title = media.find("media:title", NS)
    assert (title.text, title.get("type")) == (LOCAL.title, "plain")
    assert [_local_name(c.tag) for c in media] == ["title", "description", "credit"]


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def test_item_ids_become_iris() -> None:
    assert iri(SITE, "https://a.example/x") == "https://a.example/x"
    assert iri(SITE, "tag:a.example,2024:1") == "tag:a.example,2024:1"
    assert iri(SITE, "8F14E45F-CEEA-467F-A0E6-4F1B2C3D5E6F") == (
        "urn:uuid:8f14e45f-ceea-467f-a0e6-4f1b2c3d5e6f"
    )
    assert iri(SITE, "42") == "tag:www.example.com,2026:item/42"
    assert iri(SITE, "a b/c") == "tag:www.example.com,2026:item/a%20b%2Fc"


def test_page_and_site_extras_stay_byte_stable() -> None:
    page = Page(number=3, prev_archive=2, next_archive=4, ttl=timedelta(minutes=15))
    first = render_all(RICH_SITE, SPEC, RICH_ITEMS, page)
    assert render_all(RICH_SITE, SPEC, list(RICH_ITEMS), page) == first


# --------------------------------------------------------------------------- golden files


GOLDEN_CASES = {
    "world": (SITE, Page()),
    "world-current": (RICH_SITE, Page(prev_archive=6, ttl=timedelta(minutes=15))),
    "world-archive-6": (RICH_SITE, Page(number=6, prev_archive=5, next_archive=7)),
}


@pytest.mark.parametrize("case", list(GOLDEN_CASES))
@pytest.mark.parametrize("fmt", [Format.RSS, Format.ATOM, Format.JSON])
def test_golden(fmt: Format, case: str) -> None:
    site, page = GOLDEN_CASES[case]
    items = ITEMS if case == "world" else RICH_ITEMS
    body = render(site, SPEC, items, fmt, page)
    path = GOLDEN / f"{case}.{fmt.value}"
    if os.environ.get("FEEDS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    assert path.exists(), f"{path} is missing: run with FEEDS_UPDATE_GOLDEN=1"
    assert body == path.read_bytes()


def test_text_that_looks_like_markup_never_becomes_markup_in_rss() -> None:
    """The dek is plain text (entities already decoded upstream); readers read RSS
    <description> as HTML, so it must reach them escaped, never as a live tag."""
    item = dataclasses.replace(LOCAL, summary='<img src=x onerror="alert(1)"> & more')
    body = render(SITE, SPEC, [item], Format.RSS)
    parsed = feedparser.parse(body)
    assert "<img" not in parsed.entries[0].summary
    assert "&lt;img" in parsed.entries[0].summary


def test_a_story_from_several_sources_credits_each() -> None:
    two = (
        ItemSource("wire", "Wire Service", "https://wire.example/feed"),
        ItemSource("un", "UN News", "https://un.example/rss"),
    )
    item = dataclasses.replace(LOCAL, sources=two)
    for fmt in Format:
        text = render(SITE, SPEC, [item], fmt).decode()
        assert "Reported by: Wire Service, UN News" in text
    feed = json.loads(render(SITE, SPEC, [item], Format.JSON))
    assert [s["title"] for s in feed["items"][0]["_sources"]] == ["Wire Service", "UN News"]
