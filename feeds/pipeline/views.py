"""Publishing the feeds' HTML views (``feeds.render.html``) beside their documents.

A public feed's view shows the items of its RSS document (after the byte budget); it is
rendered again only when the site, the feed's settings or those items changed, and stored
only when its bytes did (so its ETag holds and browsers get 304s). A partners feed has no
public page: its view, if it had one while it was public, is removed.

A publish asks for the view's change (``change``) before its write transaction, stores it
with the feed's documents in that transaction, and tells the publisher (``stored``) once
the transaction is committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from feeds.render.html import render_view
from feeds.types import FeedSpec, Item, Site

log = logging.getLogger(__name__)

_Inputs = tuple[Site, FeedSpec, tuple[Item, ...]] | None  # None: a feed with no view


@dataclass(frozen=True)
class ViewChange:
    """A feed's view to store (``body``), or to remove (``body`` None), and what it shows."""

    feed: str
    inputs: _Inputs
    body: bytes | None
    items: int


class ViewPublisher:
    """Renders the views of one publisher's feeds; remembers what each was made of, so that
    a publish which changed nothing the page shows costs nothing."""

    def __init__(self) -> None:
        self._made_of: dict[str, _Inputs] = {}

    def forget(self) -> None:
        """Render every view again at its next publish (the config changed)."""
        self._made_of.clear()

    def change(self, site: Site, spec: FeedSpec, items: Sequence[Item]) -> ViewChange | None:
        """The view of ``spec`` showing ``items``, rendered, unless it is made of what the
        stored one was made of (None)."""
        inputs: _Inputs = (site, spec, tuple(items)) if spec.public else None
        if spec.name in self._made_of and self._made_of[spec.name] == inputs:
            return None
        body = None if inputs is None else render_view(site, spec, items)
        return ViewChange(spec.name, inputs, body, len(items))

    def stored(self, change: ViewChange, changed: bool) -> None:
        """``change`` is in the database (committed); ``changed``: its bytes were new."""
        self._made_of[change.feed] = change.inputs
        if changed:
            log.info("published %s (html view), %d items", change.feed, change.items)
