"""Render and issue 9: URLs published as valid URIs, every item with its text, distinct times.

Each test states the rule it checks on the bytes render produces; tests/test_validity.py runs
the validators over the same awkward inputs.
"""

from __future__ import annotations

import dataclasses
import html
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from feeds.render import Renderer, render, render_all
from feeds.types import Enclosure, Format, Image, Item, ItemSource
from feeds.urls import uri
from tests.test_render import ARABIC, ITEMS, LOCAL, NS, SITE, SPEC, WIRE, atom_entries, rss_items
from tests.validators import ATOM, CONTENT, uri_problem

WHEN = datetime(2024, 5, 3, 9, 0, tzinfo=UTC)

# Stored as they came upstream: an IRI, and a podcast's file names with [ ] ^ and a space.
ARTICLE_IRI = "https://www.example.com/ar/مقالة-اليوم"
EPISODE_URL = "https://cdn.pod.example/show/ep[12]^final cut.mp3?v=1|2"
EPISODE_PAGE = "https://pod.example/show/épisode-12"
COVER = "https://cdn.pod.example/art/cover[big].jpg"
SOURCE_FEED = "https://pod.example/فيد.xml"

EPISODE = Item(
    id="tag:pod.example,2024:episode-12",
    title="Episode 12",
    link=EPISODE_PAGE,
    published=WHEN,
    updated=WHEN,
    summary="The twelfth episode.",
    content=f'<p>Listen.</p><p><img src="{COVER}" alt="" /></p>',
    image=Image(url=COVER, caption="The cover"),
    enclosures=(Enclosure(url=EPISODE_URL, type="audio/mpeg", length=1000),),
    sources=(ItemSource(id="pod", title="The Podcast", url=SOURCE_FEED),),
)
IRI_ARTICLE = dataclasses.replace(
    ARABIC,
    id=ARTICLE_IRI,
    link=ARTICLE_IRI,
    published=WHEN - timedelta(hours=1),
    updated=WHEN - timedelta(hours=1),
)


def _documents(items: list[Item], site: Any = SITE) -> tuple[Any, Any, Any]:
    rss, atom, jsonfeed = (r.body for r in render_all(site, SPEC, items))
    return etree.fromstring(rss), etree.fromstring(atom), json.loads(jsonfeed)


# --------------------------------------------------------------------------- URIs


def test_every_url_of_an_item_is_published_as_a_uri_the_same_way_in_every_format() -> None:
    rss, atom, jsonfeed = _documents([EPISODE])
    link, enclosure, image, source = (
        uri(EPISODE_PAGE),
        uri(EPISODE_URL),
        uri(COVER),
        uri(SOURCE_FEED),
    )
    assert link == "https://pod.example/show/%C3%A9pisode-12"
    assert enclosure == "https://cdn.pod.example/show/ep%5B12%5D%5Efinal%20cut.mp3?v=1%7C2"
    assert image == "https://cdn.pod.example/art/cover%5Bbig%5D.jpg"
    assert source == "https://pod.example/%D9%81%D9%8A%D8%AF.xml"

    [item] = rss.findall("channel/item")
    assert item.findtext("link") == link
    assert item.find("enclosure").get("url") == enclosure
    assert item.find("media:content", NS).get("url") == image
    assert item.find("media:thumbnail", NS).get("url") == image
    assert item.find("source").get("url") == source

    [entry] = atom.findall(f"{{{ATOM}}}entry")
    hrefs = [(k.get("rel"), k.get("href")) for k in entry.findall(f"{{{ATOM}}}link")]
    # The episode, then the lead image (RSS's one enclosure is the episode).
    assert hrefs == [("alternate", link), ("enclosure", enclosure), ("enclosure", image)]
    assert entry.findtext("atom:source/atom:id", namespaces=NS) == source
    assert entry.find("atom:source/atom:link", NS).get("href") == source

    [published] = jsonfeed["items"]
    assert published["url"] == link
    assert published["image"] == image
    assert [a["url"] for a in published["attachments"]] == [enclosure]
    assert published["_source"]["url"] == source


def test_the_lead_image_is_not_repeated_when_the_content_holds_its_stored_url() -> None:
    rss, atom, jsonfeed = _documents([EPISODE])
    for content in (
        rss.find("channel/item").findtext("content:encoded", namespaces=NS),
        atom.find(f"{{{ATOM}}}entry").findtext(f"{{{ATOM}}}content"),
        jsonfeed["items"][0]["content_html"],
    ):
        assert "<figure>" not in content
        assert content.count("cover[big].jpg") == 1  # the content's HTML is left as it came


def test_the_sites_urls_are_published_as_uris() -> None:
    site = dataclasses.replace(
        SITE,
        link="https://مثال.example/أخبار",
        base_url="https://feeds.example.com/ملخص",
        hub="https://hub.example.com/^hub",
        icon="https://www.example.com/icon[1].png",
        logo="",
    )
    for fmt in Format:
        body = render(site, SPEC, ITEMS, fmt).decode()
        assert "مثال" not in body.split("<entry>")[0].split('"items"')[0]  # the head
        assert "xn--mgbh0fb.example" in body  # the IDN host in its ASCII form
        assert "https://feeds.example.com/%D9%85%D9%84%D8%AE%D8%B5/feeds/world." in body
        assert "https://hub.example.com/%5Ehub" in body
        assert "https://www.example.com/icon%5B1%5D.png" in body
    # Ids that are not IRIs are minted under the outlet's host as configured, not encoded,
    # and the Atom author named after the host (a site without a title) reads as configured.
    untitled = dataclasses.replace(site, title="")
    _, atom, jsonfeed = _documents([dataclasses.replace(WIRE, id="story-1")], untitled)
    assert jsonfeed["items"][0]["id"] == "tag:مثال.example,2026:item/story-1"
    assert atom.findtext("atom:author/atom:name", namespaces=NS) == "مثال.example"


def test_an_iri_link_is_encoded_while_the_id_it_gave_stays() -> None:
    """A local article's id is its link: the link is published as a URI, the id as it always
    was (readers know the item by it), so the RSS guid is no longer a permalink."""
    rss, atom, jsonfeed = _documents([IRI_ARTICLE])
    encoded = uri(ARTICLE_IRI)
    [item] = rss.findall("channel/item")
    assert item.findtext("link") == encoded
    assert item.findtext("guid") == ARTICLE_IRI
    assert item.find("guid").get("isPermaLink") == "false"
    assert atom.find(f"{{{ATOM}}}entry").findtext(f"{{{ATOM}}}id") == ARTICLE_IRI
    assert jsonfeed["items"][0]["id"] == ARTICLE_IRI
    assert jsonfeed["items"][0]["url"] == encoded


def test_an_id_loses_only_what_no_iri_may_hold() -> None:
    caret = "https://wire.example.org/story^42"
    item = dataclasses.replace(WIRE, id=caret, link=caret)
    rss, atom, jsonfeed = _documents([item])
    published = "https://wire.example.org/story%5E42"
    [rss_item] = rss.findall("channel/item")
    assert rss_item.findtext("guid") == published
    assert rss_item.find("guid").get("isPermaLink") == "true"  # still the link, encoded alike
    assert rss_item.findtext("link") == published
    assert atom.find(f"{{{ATOM}}}entry").findtext(f"{{{ATOM}}}id") == published
    assert jsonfeed["items"][0]["id"] == published


@pytest.mark.parametrize("fmt", list(Format))
def test_published_urls_are_valid_uris(fmt: Format) -> None:
    body = render(SITE, SPEC, [EPISODE, IRI_ARTICLE], fmt)
    if fmt is Format.JSON:
        doc = json.loads(body)
        urls = [doc["home_page_url"], doc["feed_url"]]
        for item in doc["items"]:
            urls += [item["url"], item.get("image", "")]
            urls += [a["url"] for a in item.get("attachments", [])]
    else:
        root = etree.fromstring(body)
        urls = [el.get(name) for el in root.iter() for name in ("href", "url") if el.get(name)]
        urls += [el.text for el in root.iter("link")]
    assert urls
    assert [u for u in urls if u and uri_problem(u)] == []


def test_urls_already_valid_are_published_byte_for_byte() -> None:
    item = dataclasses.replace(
        WIRE, link="https://wire.example.org/a%20b?x=%5B1%5D&y=(2)#frag", enclosures=()
    )
    rss, _, jsonfeed = _documents([item])
    assert rss.find("channel/item").findtext("link") == item.link
    assert jsonfeed["items"][0]["url"] == item.link


def test_the_renderer_memory_gives_the_same_encoded_bytes() -> None:
    renderer = Renderer()
    items = [EPISODE, IRI_ARTICLE, *ITEMS]
    assert renderer.render_all(SITE, SPEC, items) == render_all(SITE, SPEC, items)
    assert renderer.render_all(SITE, SPEC, items[1:]) == render_all(SITE, SPEC, items[1:])


# --------------------------------------------------------------------------- text in every item

TITLE_ONLY = Item(
    id="tag:wire.example.org,2024:flash-1",
    title="Flash: ceasefire <announced> & holding",
    link="https://wire.example.org/flash/1",
    published=WHEN,
    updated=WHEN,
)


def test_an_rss_item_without_a_dek_has_its_title_as_description() -> None:
    rss, _, _ = _documents([TITLE_ONLY])
    [item] = rss.findall("channel/item")
    assert item.findtext("description") == html.escape(TITLE_ONLY.title, quote=False)
    assert item.find(f"{{{CONTENT}}}encoded") is None


def test_every_rss_item_has_a_description_before_its_content() -> None:
    items = [dataclasses.replace(i, summary="") for i in ITEMS]
    for item in rss_items(render(SITE, SPEC, items, Format.RSS)):
        tags = [child.tag for child in item]
        assert "description" in tags
        if f"{{{CONTENT}}}encoded" in tags:
            assert tags.index("description") < tags.index(f"{{{CONTENT}}}encoded")


def test_an_atom_entry_without_text_has_its_title_as_summary() -> None:
    [entry] = atom_entries(render(SITE, SPEC, [TITLE_ONLY], Format.ATOM))
    summary = entry.find("atom:summary", NS)
    assert (summary.get("type"), summary.text) == ("text", TITLE_ONLY.title)
    assert entry.find("atom:content", NS) is None
    # With content and no summary: the content is the text, no summary is made up.
    [entry] = atom_entries(
        render(SITE, SPEC, [dataclasses.replace(LOCAL, summary="")], Format.ATOM)
    )
    assert entry.find("atom:summary", NS) is None
    assert entry.find("atom:content", NS) is not None


def test_every_atom_entry_has_a_summary_or_content() -> None:
    variants = [
        TITLE_ONLY,
        dataclasses.replace(TITLE_ONLY, id="urn:x:2", link=""),
        dataclasses.replace(TITLE_ONLY, id="urn:x:3", title="", summary=""),
        dataclasses.replace(LOCAL, summary=""),
        dataclasses.replace(LOCAL, content=""),
    ]
    for entry in atom_entries(render(SITE, SPEC, variants, Format.ATOM)):
        assert (
            entry.find("atom:summary", NS) is not None or entry.find("atom:content", NS) is not None
        )


def test_distinct_times_stay_distinct_in_every_format() -> None:
    """Undated upstream entries get distinct times (normalize); render must keep them apart,
    to the second, in every format."""
    items = [
        dataclasses.replace(TITLE_ONLY, id=f"urn:x:{n}", updated=WHEN - timedelta(seconds=n))
        for n in range(5)
    ]
    _, atom, jsonfeed = _documents(items)
    updated = [e.findtext(f"{{{ATOM}}}updated") for e in atom.findall(f"{{{ATOM}}}entry")]
    assert len(set(updated)) == 5
    assert len({i["date_modified"] for i in jsonfeed["items"]}) == 5
