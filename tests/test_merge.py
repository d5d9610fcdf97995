"""merge.py: selection, filters, de-duplication, ordering, limits. Pure, so no fixtures."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feeds.ids import item_id
from feeds.merge import in_mode, merge
from feeds.types import (
    Article,
    ContentMode,
    Entry,
    FeedSpec,
    ItemSource,
    LeftOut,
    LeftOutReason,
    Override,
    OverrideAction,
    Overrides,
    Site,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SITE = Site(
    title="Outlet",
    link="https://outlet.example/",
    base_url="https://feeds.outlet.example",
    description="d",
    language="en",
    articles_dir=Path("."),
)
SOURCES = {
    "wire": ItemSource("wire", "Wire", "https://wire.example/feed"),
    "un": ItemSource("un", "UN News", "https://un.example/rss"),
}


def art(slug: str, hours_ago: float, tags: tuple[str, ...] = ()) -> Article:
    when = NOW - timedelta(hours=hours_ago)
    return Article(
        slug=slug,
        title=f"Article {slug}",
        link=f"https://outlet.example/{slug}",
        published=when,
        updated=when,
        summary=f"About {slug}",
        content="<p>x</p>",
        tags=tags,
    )


def ent(source: str, n: str, hours_ago: float, link: str | None = None, title: str = "") -> Entry:
    when = NOW - timedelta(hours=hours_ago)
    return Entry(
        source_id=source,
        id=n,
        title=title or f"Entry {n}",
        link=link if link is not None else f"https://{source}.example/{n}",
        published=when,
        updated=when,
        summary="<p>Summary &amp; more</p>",
        content="<p>Full</p>",
    )


def spec(**kw: object) -> FeedSpec:
    base: dict[str, object] = {"name": "all", "title": "All", "local": True, "sources": ("*",)}
    base.update(kw)
    return FeedSpec(**base)  # type: ignore[arg-type]


def test_newest_first_and_limit() -> None:
    items = merge(
        spec(limit=3),
        SITE,
        [art("a", 5), art("b", 1)],
        [ent("wire", "1", 2), ent("un", "2", 0.5), ent("wire", "3", 9)],
        SOURCES,
        NOW,
    )
    assert [i.title for i in items] == ["Entry 2", "Article b", "Entry 1"]


def test_local_selection_by_tags_and_none() -> None:
    articles = [art("a", 1, ("gaza",)), art("b", 2, ("jordan",)), art("c", 3)]
    tagged = merge(spec(local=("gaza", "jordan"), sources=()), SITE, articles, [], SOURCES, NOW)
    assert [i.link.rsplit("/", 1)[1] for i in tagged] == ["a", "b"]
    assert merge(spec(local=False), SITE, articles, [], SOURCES, NOW) == []


def test_same_story_from_two_sources_appears_once_crediting_both() -> None:
    link = "https://story.example/x"
    items = merge(
        spec(),
        SITE,
        [],
        [ent("un", "b", 1, link=link), ent("wire", "a", 2, link=link)],
        SOURCES,
        NOW,
    )
    assert len(items) == 1
    assert [s.id for s in items[0].sources] == ["wire", "un"]  # first publisher first


def test_local_article_wins_over_upstream_copy() -> None:
    a = art("x", 3)
    items = merge(spec(), SITE, [a], [ent("wire", "1", 1, link=a.link)], SOURCES, NOW)
    assert [(i.id, i.sources) for i in items] == [(a.link, ())]


def test_filters_include_exclude_and_max_age() -> None:
    entries = [
        ent("wire", "1", 1, title="Aid convoy reaches Rafah"),
        ent("wire", "2", 2, title="Football: cup final"),
        ent("wire", "3", 30, title="Aid talks resume"),
    ]
    items = merge(
        spec(local=False, include=("aid",), exclude=("football",), max_age=timedelta(days=1)),
        SITE,
        [],
        entries,
        SOURCES,
        NOW,
    )
    assert [i.title for i in items] == ["Aid convoy reaches Rafah"]


def test_summary_mode_drops_content_and_summary_is_plain_text() -> None:
    full = merge(spec(content=ContentMode.SUMMARY), SITE, [], [ent("wire", "1", 1)], SOURCES, NOW)
    assert full[0].content  # merge gives every item in full; the mode makes the variant
    items = in_mode(full, ContentMode.SUMMARY)
    assert items[0].content == ""
    assert in_mode(full, ContentMode.FULL) == full
    assert items[0].summary == "Summary & more"


def test_deterministic_whatever_the_input_order() -> None:
    articles = [art(str(n), n % 7) for n in range(10)]
    entries = [ent("wire", str(n), n % 5) for n in range(30)] + [
        ent("un", str(n), n % 3) for n in range(30)
    ]
    expected = merge(spec(limit=25), SITE, articles, entries, SOURCES, NOW)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(articles)
        rng.shuffle(entries)
        assert merge(spec(limit=25), SITE, articles, entries, SOURCES, NOW) == expected


def test_item_ids_are_iris() -> None:
    assert item_id(SITE, "wire", "https://wire.example/1") == "https://wire.example/1"
    assert item_id(SITE, "wire", "urn:uuid:1234") == "urn:uuid:1234"
    assert item_id(SITE, "wire", "12345") == "tag:outlet.example,2026:wire/12345"
    assert item_id(SITE, "wire", "a b/c") == "tag:outlet.example,2026:wire/a%20b%2Fc"


# --------------------------------------------------------------------------- identity (issue 9)

SHOW = "https://pod.example/show"  # the page every episode of the podcast links to
PODCAST = {**SOURCES, "pod": ItemSource("pod", "The Podcast", "https://pod.example/feed.xml")}


def episodes(count: int, first_hours_ago: float = 1.0) -> list[Entry]:
    """A podcast's episodes, newest first: distinct guids, one shared link."""
    return [
        ent("pod", f"episode-{n}", first_hours_ago + count - n, link=SHOW, title=f"Episode {n}")
        for n in range(count, 0, -1)
    ]


def test_podcast_episodes_sharing_one_link_are_distinct_items() -> None:
    feed = spec(local=False, limit=9)
    items = merge(feed, SITE, [], episodes(130), PODCAST, NOW)
    assert [i.title for i in items] == [f"Episode {n}" for n in range(130, 121, -1)]
    assert all(i.sources == (PODCAST["pod"],) for i in items)
    # A new episode arrives: it is on top, the oldest of the nine goes.
    new = ent("pod", "episode-131", 0.5, link=SHOW, title="Episode 131")
    items = merge(feed, SITE, [], [new, *episodes(130)], PODCAST, NOW)
    assert [i.title for i in items] == [f"Episode {n}" for n in range(131, 122, -1)]


def test_a_station_whose_stories_share_one_link_keeps_every_story() -> None:
    stories = [ent("un", f"story-{n}", n, link="https://un.example/") for n in range(15)]
    items = merge(spec(local=False), SITE, [], stories, PODCAST, NOW)
    assert [i.title for i in items] == [f"Entry story-{n}" for n in range(15)]


def test_a_link_shared_inside_one_source_merges_nothing_with_it() -> None:
    # The wire's story links to the show's page too: it is not one of the episodes.
    entries = [*episodes(2), ent("wire", "w1", 5, link=SHOW, title="Wire story")]
    items = merge(spec(local=False), SITE, [], entries, PODCAST, NOW)
    assert [(i.title, [s.id for s in i.sources]) for i in items] == [
        ("Episode 2", ["pod"]),
        ("Episode 1", ["pod"]),
        ("Wire story", ["wire"]),
    ]


def test_other_sources_still_merge_on_a_link_one_source_shares() -> None:
    entries = [
        *episodes(2),
        ent("wire", "w1", 5, link=SHOW, title="One story"),
        ent("un", "u1", 4, link=SHOW, title="One story, again"),
    ]
    items = merge(spec(local=False), SITE, [], entries, PODCAST, NOW)
    assert [(i.title, [s.id for s in i.sources]) for i in items] == [
        ("Episode 2", ["pod"]),
        ("Episode 1", ["pod"]),
        ("One story", ["wire", "un"]),
    ]


def test_a_local_article_absorbs_only_copies_of_its_own_story() -> None:
    a = art("show", 3)
    copy = ent("wire", "copy", 2, link=a.link)
    digest = [ent("pod", f"d{n}", n, link=a.link, title=f"Digest {n}") for n in (1, 4)]
    items = merge(spec(), SITE, [a], [copy, *digest], PODCAST, NOW)
    assert [(i.title, [s.id for s in i.sources]) for i in items] == [
        ("Digest 1", ["pod"]),
        ("Article show", []),
        ("Digest 4", ["pod"]),
    ]


def test_shared_links_keep_merge_deterministic() -> None:
    entries = [
        *episodes(20),
        *[ent("wire", f"w{n}", n % 4, link=f"https://story.example/{n}") for n in range(20)],
        *[ent("un", f"u{n}", n % 3, link=f"https://story.example/{n}") for n in range(10, 30)],
        *[ent("un", f"x{n}", 1, link=SHOW) for n in range(3)],
        *[ent("wire", f"s{n}", n, link="https://story.example/digest") for n in range(3)],
        ent("un", "digest", 2, link="https://story.example/digest"),
    ]
    articles = [art(str(n), n) for n in range(5)]
    expected = merge(spec(limit=100), SITE, articles, entries, PODCAST, NOW)
    assert len(expected) == 5 + 20 + 20 + 10 + 3 + 3 + 1  # stories 10-19 merged, nothing else
    rng = random.Random(9)
    for _ in range(5):
        rng.shuffle(entries)
        rng.shuffle(articles)
        assert merge(spec(limit=100), SITE, articles, entries, PODCAST, NOW) == expected


def test_no_two_items_of_a_feed_share_an_updated_time() -> None:
    """Undated entries of two sources fetched in the same second, or upstream stories stamped
    alike: each item shows its own modification time, a second apart, the newest kept."""
    same = NOW - timedelta(hours=1)
    entries = [ent(src, f"{src}-{n}", 1) for src in ("wire", "un") for n in range(3)]
    entries = [replace(e, published=same, updated=same) for e in entries]
    items = merge(spec(limit=10), SITE, [], entries, SOURCES, NOW)
    times = [i.updated for i in items]
    assert len(set(times)) == len(times) == 6
    assert min(times) == same and max(times) == same + timedelta(seconds=5)
    assert all(i.updated >= i.published for i in items)
    assert merge(spec(limit=10), SITE, [], list(reversed(entries)), SOURCES, NOW) == items


def test_a_link_shared_in_its_source_s_document_merges_nothing_even_alone_in_the_window() -> None:
    """Two shows of one network, every episode linking to the network's home page: with one
    episode of each among the candidates, they still stay two items (their documents said
    the link names many stories)."""
    home = "https://network.example/"
    wire = replace(ent("wire", "w-ep-9", 1, link=home), link_shared=True)
    un = replace(ent("un", "u-ep-4", 2, link=home), link_shared=True)
    items = merge(spec(limit=10), SITE, [], [wire, un], SOURCES, NOW)
    assert sorted(i.id.rsplit("/", 1)[-1] for i in items) == ["u-ep-4", "w-ep-9"]
    assert all(len(i.sources) == 1 for i in items)
    # without the flag, the same two entries are one story from two sources
    plain = [replace(wire, link_shared=False), replace(un, link_shared=False)]
    (one,) = merge(spec(limit=10), SITE, [], plain, SOURCES, NOW)
    assert [s.id for s in one.sources] == ["un", "wire"]


# --------------------------------------------------------------------------- overrides


def hide(item: str, by: str = "rania") -> Override:
    return Override(item=item, action=OverrideAction.HIDE, by=by, reason="legal", at=NOW)


def pin(item: str, feed: str = "all", until: datetime | None = None, minutes: int = 0) -> Override:
    at = NOW - timedelta(minutes=minutes)
    return Override(
        item=item, action=OverrideAction.PIN, by="omar", reason="", at=at, feed=feed, until=until
    )


def test_overrides_hide_retitle_and_pin_by_id_published_id_or_link() -> None:
    entries = [ent("wire", str(n), hours_ago=n) for n in range(1, 8)]
    articles = [art("a", 0.5)]
    retitle = Override(
        item="https://wire.example/2",
        action=OverrideAction.RETITLE,
        by="o",
        reason="",
        at=NOW,
        value="Entry 2, corrected",
    )
    chosen = Overrides.for_feed(
        [
            hide(item_id(SITE, "wire", "1")),  # by published id
            hide("https://outlet.example/a"),  # a local article, by its link (its id)
            retitle,  # by link
            pin("https://wire.example/7", minutes=5),  # the oldest, pinned first
            pin("https://wire.example/6", minutes=1),  # pinned later: above the other pin
            pin("https://wire.example/5", feed="other"),  # another feed's pin
            pin("https://wire.example/4", until=NOW - timedelta(seconds=1)),  # ended
        ],
        "all",
        NOW,
    )
    explain: list[LeftOut] = []
    items = merge(spec(limit=4), SITE, articles, entries, SOURCES, NOW, None, chosen, explain)
    assert [i.title for i in items] == ["Entry 6", "Entry 7", "Entry 2, corrected", "Entry 3"]
    reasons = {(o.title, o.reason) for o in explain}
    assert ("Entry 1", LeftOutReason.HIDDEN) in reasons
    assert ("Article a", LeftOutReason.HIDDEN) in reasons
    assert {("Entry 4", LeftOutReason.LIMIT), ("Entry 5", LeftOutReason.LIMIT)} <= reasons
    hidden = next(o for o in explain if o.title == "Entry 1")
    assert hidden.detail == "hidden by rania at 2026-11-20T12:00:00Z: legal"


def test_a_pin_beats_filters_and_age_but_not_a_hide() -> None:
    old = ent("wire", "old", hours_ago=24 * 30, title="Sport results")
    fresh = ent("wire", "new", hours_ago=1, title="News")
    narrow = spec(exclude=("sport",), max_age=timedelta(days=7))
    pinned = Overrides.for_feed([pin("https://wire.example/old")], "all", NOW)
    assert [i.title for i in merge(narrow, SITE, [], [old, fresh], SOURCES, NOW)] == ["News"]
    items = merge(narrow, SITE, [], [old, fresh], SOURCES, NOW, None, pinned)
    assert [i.title for i in items] == ["Sport results", "News"]
    both = Overrides.for_feed(
        [pin("https://wire.example/old"), hide("https://wire.example/old")], "all", NOW
    )
    assert [i.title for i in merge(narrow, SITE, [], [old, fresh], SOURCES, NOW, None, both)] == [
        "News"
    ]


def test_explain_names_the_filter_the_duplicate_and_the_embargo() -> None:
    later = replace(art("later", 0), published=NOW + timedelta(hours=2))
    copy = ent("un", "copy", hours_ago=2, link="https://wire.example/1")
    explain: list[LeftOut] = []
    merge(
        spec(exclude=("entry 3",)),
        SITE,
        [later],
        [ent("wire", "1", 1), copy, ent("wire", "3", 3)],
        SOURCES,
        NOW,
        explain=explain,
    )
    found = {o.title: (o.reason, o.detail) for o in explain}
    assert found["Article later"] == (
        LeftOutReason.EMBARGOED,
        "scheduled for 2026-11-20T14:00:00Z",
    )
    assert found["Entry 3"] == (LeftOutReason.FILTER, "matches exclude pattern 'entry 3'")
    assert found["Entry 1"] == (
        LeftOutReason.DUPLICATE,
        f"the same story as {item_id(SITE, 'un', 'copy')}",
    )
