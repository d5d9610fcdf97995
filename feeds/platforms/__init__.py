"""The platforms' feed rules (Google News, MSN, Flipboard, Apple News, SmartNews), checked
on the published documents: what ``feeds check --platform NAME`` prints.

Pure: a feed's stored document bodies and the time in, violations out. Each violation names
the feed, the item (its guid, else its link; ``-`` for the feed as a whole) and the rule
broken, with what the platform asks for. Standard library only (``xml.etree``).

- ``published``: the RSS document read into what the rules look at;
- ``rules``: the kinds of rule (sizes, counts, required elements, title lengths, https,
  images and their sizes, dates), each made from a platform's numbers;
- ``catalog``: the five platforms, their rules and the documentation they are written from.

The element rules read the RSS document, the one to give every platform (Flipboard takes
RSS only); the size rules measure every format the platform takes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from feeds.platforms.catalog import PLATFORMS, Platform
from feeds.platforms.published import read_rss
from feeds.platforms.rules import FEED, Documents
from feeds.types import Format

__all__ = ["PLATFORMS", "Platform", "Violation", "check_feed"]


@dataclass(frozen=True)
class Violation:
    feed: str
    item: str  # the item's guid (else its link), or "-" for the feed as a whole
    rule: str  # the rule's id: "feed-size", "title-length"
    message: str  # what is wrong, and what the platform asks for

    def __str__(self) -> str:
        return f"{self.feed}: {self.item}: {self.message}"


def check_feed(
    platform: Platform, feed: str, bodies: Mapping[Format, bytes], now: datetime
) -> list[Violation]:
    """What in one feed's published documents (``bodies``, by format) breaks ``platform``'s
    rules at ``now``, in the order of its rules."""
    rss = bodies.get(Format.RSS)
    if rss is None:
        return [Violation(feed, FEED, "published", "not published yet (run feeds update)")]
    try:
        published = read_rss(rss)
    except ValueError as e:
        return [Violation(feed, FEED, "readable", f"the RSS document cannot be read: {e}")]
    documents = Documents(
        rss=published, sizes={fmt: len(body) for fmt, body in bodies.items()}, now=now
    )
    return [
        Violation(feed, where, rule.id, what)
        for rule in platform.rules
        for where, what in rule.problems(documents)
    ]
