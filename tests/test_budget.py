"""The byte budget (feeds.toml ``max_bytes``): a document that would exceed it leaves out its
oldest items, each format on its own; the counts reach the store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feeds.render import fit, render, render_all
from feeds.store import Store
from feeds.types import FeedSpec, Format, Item, Page
from tests.sites import Site
from tests.test_render import ITEMS, SITE, SPEC, WIRE
from tests.validators import validate

BASE = datetime(2024, 5, 2, tzinfo=UTC)


def stories(count: int, words: int = 200) -> list[Item]:
    """``count`` stories, newest first, each with ``words`` words of content."""
    return [
        dataclasses.replace(
            WIRE,
            id=f"https://wire.example.org/story/{n}",
            title=f"Story {n}",
            link=f"https://wire.example.org/story/{n}",
            published=BASE - timedelta(hours=n),
            updated=BASE - timedelta(hours=n),
            content="<p>" + " ".join(f"word{n}" for _ in range(words)) + "</p>",
        )
        for n in range(count)
    ]


def test_documents_within_the_budget_are_kept_as_they_are() -> None:
    rendered = render_all(SITE, SPEC, ITEMS)
    assert fit(SITE, SPEC, ITEMS, Page(), rendered) == (rendered, {})
    assert SPEC.max_bytes == 2_000_000


def test_a_document_over_the_budget_leaves_out_its_oldest_items_each_format_on_its_own() -> None:
    items = stories(40)
    page = Page(prev_archive=2, ttl=timedelta(minutes=15))
    rendered = render_all(SITE, SPEC, items, page)
    sizes = {r.format: len(r.body) for r in rendered}
    budget = min(sizes.values()) - 1000  # every format is over
    assert all(size > budget for size in sizes.values())
    fitted, omitted = fit(SITE, SPEC, items, page, rendered, budget)
    assert [r.format for r in fitted] == [Format.RSS, Format.ATOM, Format.JSON]
    assert set(omitted) == set(Format)
    for r in fitted:
        kept = len(items) - omitted[r.format]
        assert 0 < kept < len(items)
        # Exactly the document of the newest items that fit, and not one more.
        assert r.body == render(SITE, SPEC, items[:kept], r.format, page)
        assert len(r.body) <= budget
        assert len(render(SITE, SPEC, items[: kept + 1], r.format, page)) > budget
    # Each format on its own: the largest leaves out the most.
    largest = max(sizes, key=lambda fmt: sizes[fmt])
    assert omitted[largest] == max(omitted.values())
    for r in fitted:  # each on its own: the formats hold different numbers of items
        assert validate([(r.format.value, r.body)]) == []
    # Byte-stable.
    assert fit(SITE, SPEC, items, page, rendered, budget) == (fitted, omitted)


def test_the_feed_budget_is_the_default_and_only_the_formats_over_it_change() -> None:
    items = stories(30)
    rendered = render_all(SITE, SPEC, items)
    sizes = {r.format: len(r.body) for r in rendered}
    smallest = min(sizes, key=lambda fmt: sizes[fmt])
    spec = dataclasses.replace(SPEC, max_bytes=sizes[smallest] + 10)
    fitted, omitted = fit(SITE, spec, items, Page(), rendered)
    assert set(omitted) == set(Format) - {smallest}
    assert [r for r in fitted if r.format is smallest] == [
        r for r in rendered if r.format is smallest
    ]
    assert all(len(r.body) <= spec.max_bytes for r in fitted)


def test_a_budget_too_small_for_any_item_publishes_the_feed_without_items() -> None:
    items = stories(3)
    rendered = render_all(SITE, SPEC, items)
    fitted, omitted = fit(SITE, SPEC, items, Page(), rendered, 100)
    assert omitted == {fmt: 3 for fmt in Format}
    assert [r.body for r in fitted] == [r.body for r in render_all(SITE, SPEC, [])]


def write_long_articles(articles: Path, count: int) -> None:
    """``count`` local articles of about 2,500 characters each, a day apart."""
    for n in range(count):
        body = "\n\n".join(f"Paragraph {k} of story {n}, " + "and so on, " * 20 for k in range(10))
        (articles / f"long-{n}.md").write_text(
            f"---\ntitle: Long story number {n}\ndate: 2026-11-{n + 1:02d}T09:00:00+00:00\n"
            f"author: A Reporter\n---\n{body}\n",
            encoding="utf-8",
        )


@pytest.mark.parametrize("budget", [15_000, 25_000])
def test_publishing_stores_trimmed_documents_and_what_they_left_out(
    site: Site, budget: int
) -> None:
    """Through `feeds update`: the documents of a feed with a small budget fit it, say how
    many items they left out, and are valid; the other feeds leave nothing out."""
    write_long_articles(site.config / "articles", 12)
    feeds_toml = site.config / "feeds.toml"
    text = feeds_toml.read_text(encoding="utf-8")
    assert '[[feed]]\nname = "everything"' in text
    feeds_toml.write_text(
        text.replace(
            '[[feed]]\nname = "everything"',
            f'[[feed]]\nname = "everything"\nmax_bytes = {budget}',
        ),
        encoding="utf-8",
    )
    assert site.feeds("update") == 0
    with Store(site.db) as store:
        everything = {fmt: store.get_document("everything", fmt) for fmt in Format}
        ours = {fmt: store.get_document("ours", fmt) for fmt in Format}
    assert all(d is not None for d in (*everything.values(), *ours.values()))
    assert all(len(d.body) <= budget for d in everything.values() if d)
    assert all(d.omitted > 0 for d in everything.values() if d)
    assert all(d.omitted == 0 and len(d.body) > budget for d in ours.values() if d)
    for fmt, d in everything.items():
        assert d is not None and validate([(fmt.value, d.body)]) == []
    # The same inputs again: the same bytes, nothing stored anew.
    assert site.feeds("update", "--force") == 0
    with Store(site.db) as store:
        again = {fmt: store.get_document("everything", fmt) for fmt in Format}
    assert {f: d.etag for f, d in again.items() if d} == {
        f: d.etag for f, d in everything.items() if d
    }
    assert {f: d.omitted for f, d in again.items() if d} == {
        f: d.omitted for f, d in everything.items() if d
    }


def test_fit_is_the_feeds_own_spec_default() -> None:
    assert FeedSpec(name="x", title="X").max_bytes == 2_000_000
