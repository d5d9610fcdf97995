"""The kinds of rule platforms publish for feeds, each made from its numbers and words.

A rule looks at one feed's published documents (``Documents``) and yields a problem for each
place that breaks it: ``(where, what)``, where ``where`` is an item's key or ``-`` for the
feed as a whole, and ``what`` says what is wrong and what the platform asks for. Pure
functions of the documents and the time they are checked at.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from feeds.platforms.published import PublishedFeed, PublishedImage, PublishedItem
from feeds.types import Format

__all__ = [
    "Documents",
    "Problem",
    "Rule",
    "channel_has",
    "channel_text_at_most",
    "document_size",
    "guid_permalink",
    "https_urls",
    "image_present",
    "image_size",
    "item_count",
    "item_has",
    "item_size",
    "language_with_region",
    "publication_age",
    "title_length",
]

Problem = tuple[str, str]  # (item key or "-", what is wrong)
FEED = "-"  # where a problem of the feed as a whole is


@dataclass(frozen=True)
class Documents:
    """One feed's published documents as the rules see them: its RSS document read, the size
    of each format, and when they are checked."""

    rss: PublishedFeed
    sizes: Mapping[Format, int]
    now: datetime


@dataclass(frozen=True)
class Rule:
    id: str  # a short name: "feed-size", "title-length"
    requirement: str  # what the platform asks, in a few words
    check: Callable[[Documents], Iterable[Problem]]

    def problems(self, documents: Documents) -> list[Problem]:
        return list(self.check(documents))


FORMAT_NAMES = {Format.RSS: "RSS", Format.ATOM: "Atom", Format.JSON: "JSON Feed"}

_CHANNEL: dict[str, Callable[[PublishedFeed], str | None]] = {
    "title": lambda f: f.title,
    "link": lambda f: f.link,
    "description": lambda f: f.description,
    "language": lambda f: f.language,
    "pubDate": lambda f: f.pub_date,
}
_ITEM: dict[str, Callable[[PublishedItem], str | None]] = {
    "title": lambda i: i.title,
    "link": lambda i: i.link,
    "guid": lambda i: i.guid,
    "description": lambda i: i.description,
    "pubDate": lambda i: i.pub_date,
    "content:encoded": lambda i: i.content,
    "dc:creator": lambda i: " ".join(i.creators),
}
_ITEM_FIX = {
    "content:encoded": 'the full text: content = "full" in feeds.toml',
    "dc:creator": "an author",
    "description": "a summary",
}
_REGION = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?-([A-Za-z]{2}|[0-9]{3})(-|$)")


def _missing(value: str | None) -> bool:
    return value is None or not value.strip()


# --------------------------------------------------------------------------- the feed


def document_size(rule_id: str, limit: int, formats: Iterable[Format], says: str) -> Rule:
    """Each document of ``formats`` is at most ``limit`` bytes."""
    kinds = tuple(formats)

    def check(documents: Documents) -> Iterator[Problem]:
        for fmt in kinds:
            size = documents.sizes.get(fmt)
            if size is not None and size > limit:
                name = FORMAT_NAMES[fmt]
                yield FEED, f"the {name} document is {size:,} bytes ({says}: set max_bytes)"

    return Rule(rule_id, f"documents of at most {limit:,} bytes", check)


def item_count(
    rule_id: str, *, least: int | None = None, most: int | None = None, says: str
) -> Rule:
    """The RSS document holds at least ``least`` and at most ``most`` items."""

    def check(documents: Documents) -> Iterator[Problem]:
        count = len(documents.rss.items)
        if most is not None and count > most:
            yield FEED, f"{count} items ({says}: set limit = {most})"
        if least is not None and count < least:
            yield FEED, f"{count} items ({says})"

    bounds = [f"at least {least}" if least else "", f"at most {most}" if most else ""]
    return Rule(rule_id, " and ".join(b for b in bounds if b) + " items", check)


def channel_has(rule_id: str, names: Iterable[str], says: str) -> Rule:
    """The channel has each of ``names`` (title, link, description, language, pubDate)."""
    wanted = tuple(names)

    def check(documents: Documents) -> Iterator[Problem]:
        for name in wanted:
            if _missing(_CHANNEL[name](documents.rss)):
                yield FEED, f"the channel has no <{name}> ({says})"

    return Rule(rule_id, "a channel with " + ", ".join(f"<{n}>" for n in wanted), check)


def channel_text_at_most(rule_id: str, name: str, most: int, says: str) -> Rule:
    """The channel's ``name`` is at most ``most`` characters."""

    def check(documents: Documents) -> Iterator[Problem]:
        text = (_CHANNEL[name](documents.rss) or "").strip()
        if len(text) > most:
            yield FEED, f"the channel's <{name}> has {len(text)} characters ({says})"

    return Rule(rule_id, f"a channel <{name}> of at most {most} characters", check)


def language_with_region(rule_id: str, says: str) -> Rule:
    """The channel's language names a region too (``en-GB``, not ``en``)."""

    def check(documents: Documents) -> Iterator[Problem]:
        language = (documents.rss.language or "").strip()
        if language and not _REGION.match(language):
            yield (
                FEED,
                (
                    f"the channel's language {language!r} names no region ({says}: "
                    "set language in site.toml, e.g. 'en-GB')"
                ),
            )

    return Rule(rule_id, "a language with its region (en-GB)", check)


def https_urls(rule_id: str, says: str) -> Rule:
    """The feed's own URL, items' links and images are https."""

    def check(documents: Documents) -> Iterator[Problem]:
        rss = documents.rss
        if rss.self_link and not _https(rss.self_link):
            yield (
                FEED,
                (
                    f"the feed's URL {rss.self_link} is not https ({says}: "
                    "set base_url or FEEDS_BASE_URL)"
                ),
            )
        for item in rss.items:
            urls = [item.link or "", *(image.url for image in item.images)]
            for url in dict.fromkeys(u.strip() for u in urls if u.strip()):
                if not _https(url):
                    yield item.key, f"{url} is not https ({says})"

    return Rule(rule_id, "https URLs", check)


def _https(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not parts.username


# --------------------------------------------------------------------------- items


def item_has(rule_id: str, names: Iterable[str], says: str) -> Rule:
    """Every item has each of ``names`` (title, link, guid, description, pubDate,
    content:encoded, dc:creator)."""
    wanted = tuple(names)

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            for name in wanted:
                if _missing(_ITEM[name](item)):
                    fix = f": it needs {_ITEM_FIX[name]}" if name in _ITEM_FIX else ""
                    yield item.key, f"no <{name}> ({says}{fix})"

    return Rule(rule_id, "items with " + ", ".join(f"<{n}>" for n in wanted), check)


def item_size(rule_id: str, limit: int, says: str) -> Rule:
    """Every item is at most ``limit`` bytes as published."""

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            if item.size > limit:
                yield item.key, f"the item is {item.size:,} bytes ({says})"

    return Rule(rule_id, f"items of at most {limit:,} bytes", check)


def guid_permalink(rule_id: str, says: str) -> Rule:
    """A guid that is not a full URL says isPermaLink="false"."""

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            guid = item.guid or ""
            if guid and item.guid_is_permalink and not re.match(r"https?://", guid):
                yield item.key, f'<guid> is not a full URL but says isPermaLink="true" ({says})'

    return Rule(rule_id, 'isPermaLink="false" on a guid that is not a URL', check)


def title_length(
    rule_id: str, *, least: int | None = None, most: int | None = None, says: str
) -> Rule:
    """Every item's title has more than ``least`` and at most ``most`` characters."""

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            length = len((item.title or "").strip())
            if (least is not None and length <= least) or (most is not None and length > most):
                yield item.key, f"the title has {length} characters ({says})"

    bounds = [f"more than {least}" if least else "", f"at most {most}" if most else ""]
    return Rule(rule_id, "titles of " + " and ".join(b for b in bounds if b) + " characters", check)


def publication_age(rule_id: str, days: int, says: str) -> Rule:
    """Every item was published in the past, less than ``days`` days ago."""

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            published = item.published
            if published is None:
                continue  # a missing or unreadable pubDate is another rule's
            if published > documents.now:
                yield item.key, f"published in the future ({says})"
            elif documents.now - published >= timedelta(days=days):
                age = (documents.now - published).days
                yield item.key, f"published {age} days ago ({says})"

    return Rule(rule_id, f"items published less than {days} days ago", check)


def image_present(rule_id: str, says: str) -> Rule:
    """Every item has an image (media:content, media:thumbnail or an image enclosure)."""

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            if not item.images:
                yield item.key, f"no image ({says})"

    return Rule(rule_id, "an image per item", check)


def image_size(
    rule_id: str,
    *,
    smallest_side: int | None = None,
    largest_side: int | None = None,
    says: str,
) -> Rule:
    """Where an item's images have a known width and height, one of them has its smaller
    side at least ``smallest_side`` and its larger side at least ``largest_side``."""

    def big_enough(image: PublishedImage) -> bool:
        sides = sorted((image.width or 0, image.height or 0))
        return (smallest_side is None or sides[0] >= smallest_side) and (
            largest_side is None or sides[1] >= largest_side
        )

    def check(documents: Documents) -> Iterator[Problem]:
        for item in documents.rss.items:
            known = _sized(item)
            if known and not any(big_enough(image) for image in known):
                best = max(known, key=lambda i: (i.width or 0) * (i.height or 0))
                yield item.key, f"the image is {best.width}×{best.height} px ({says})"

    side = f"a smallest side of {smallest_side}" if smallest_side else ""
    side = side or f"a largest side of {largest_side}"
    return Rule(rule_id, f"images with {side} px or more, where sizes are known", check)


def _sized(item: PublishedItem) -> list[PublishedImage]:
    return [image for image in item.images if image.width and image.height]
