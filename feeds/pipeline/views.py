"""Publishing the feeds' HTML views (``feeds.render.html``) beside their documents.

A public feed's view shows the items of its RSS document (after the byte budget); it is
rendered again only when the site, the feed's settings or those items changed, and stored
only when its bytes did (so its ETag holds and browsers get 304s). A partners feed has no
public page: its view, if it had one while it was public, is removed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from feeds.render.html import render_view
from feeds.store import Store
from feeds.types import FeedSpec, Item, Site

log = logging.getLogger(__name__)

_Inputs = tuple[Site, FeedSpec, tuple[Item, ...]] | None  # None: a feed with no view


class ViewPublisher:
    """Renders and stores the views of one publisher's feeds; remembers what each was made
    of, so that a publish which changed nothing the page shows costs nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._made_of: dict[str, _Inputs] = {}

    def forget(self) -> None:
        """Render every view again at its next publish (the config changed)."""
        self._made_of.clear()

    def publish(self, site: Site, spec: FeedSpec, items: Sequence[Item], now: datetime) -> bool:
        """Store the view of ``spec`` showing ``items``; returns whether its bytes changed."""
        inputs: _Inputs = (site, spec, tuple(items)) if spec.public else None
        if spec.name in self._made_of and self._made_of[spec.name] == inputs:
            return False
        if inputs is None:
            changed = self.store.drop_view(spec.name)
        else:
            changed = self.store.put_view(spec.name, render_view(site, spec, items), now)
        self._made_of[spec.name] = inputs
        if changed:
            log.info("published %s (html view), %d items", spec.name, len(items))
        return changed
