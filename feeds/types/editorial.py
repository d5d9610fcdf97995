"""The editors' desk: overrides of what merge would publish, their audit trail, and why a
candidate was left out of a feed (``feeds preview --explain``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class OverrideAction(enum.StrEnum):
    HIDE = "hide"  # left out of every feed, variant, format and archive page
    PIN = "pin"  # first in one feed (``feed``), until ``until`` or for good
    RETITLE = "retitle"  # published under ``value`` as its title, everywhere


@dataclass(frozen=True)
class Override:
    """An override in force. ``item`` is an item's published id or its link, as the editor
    gave it; ``feed`` is "" except for pins."""

    item: str
    action: OverrideAction
    by: str
    reason: str
    at: datetime
    feed: str = ""
    value: str = ""  # the new title of a retitle
    until: datetime | None = None  # a pin's end


@dataclass(frozen=True)
class OverrideRecord:
    """One override command, as the audit trail keeps it: ``action`` is an OverrideAction's
    value, or "unhide", "unpin", "unretitle"."""

    id: int
    at: datetime
    action: str
    item: str
    by: str
    reason: str
    feed: str = ""
    value: str = ""
    until: datetime | None = None


@dataclass(frozen=True)
class Overrides:
    """The overrides merge applies to one feed at one time, by item key (id or link)."""

    hidden: dict[str, Override] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    pins: dict[str, Override] = field(default_factory=dict)  # this feed's, in force now

    def __bool__(self) -> bool:
        return bool(self.hidden or self.titles or self.pins)

    @classmethod
    def for_feed(cls, overrides: list[Override], feed: str, now: datetime) -> Overrides:
        hidden, titles, pins = {}, {}, {}
        for o in overrides:
            if o.action is OverrideAction.HIDE:
                hidden[o.item] = o
            elif o.action is OverrideAction.RETITLE:
                titles[o.item] = o.value
            elif o.feed == feed and (o.until is None or o.until > now):
                pins[o.item] = o
        return cls(hidden, titles, pins)


class LeftOutReason(enum.StrEnum):
    FILTER = "filter"  # an include/exclude pattern of the feed
    AGE = "age"  # older than the feed's max_age
    DUPLICATE = "duplicate"  # the same item as another (same id, or the same story's link)
    HIDDEN = "hidden"  # an editor hid it
    EMBARGOED = "embargoed"  # a local article dated in the future
    LIMIT = "limit"  # beyond the feed's limit
    BUDGET = "budget"  # beyond the feed's byte budget (max_bytes)
    RIGHTS = "rights"  # not left out, but published without the text its source's rights keep


@dataclass(frozen=True)
class LeftOut:
    """A candidate a feed leaves out, and why (``detail`` says which filter, which item…)."""

    id: str
    title: str
    link: str
    published: datetime
    reason: LeftOutReason
    detail: str
    source: str = ""  # the source's id; "" for a local article
