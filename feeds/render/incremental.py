"""``render_all`` with a memory: a rebuild renders only the items it has not seen.

After one new entry, a feed of fifty items is rebuilt by rendering one item and splicing the
remembered bytes of the other forty-nine (see ``document``); the bytes are exactly those of
``render_all``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from feeds.render.common import CURRENT
from feeds.render.document import Rendering, Spliced
from feeds.types import FeedSpec, Format, Item, Page, Rendered, Site

__all__ = ["Renderer"]

_Memory = dict[Format, Mapping[Item, bytes]]  # each format's item bytes of one document


class Renderer:
    """``render_all`` with a memory: the bytes of every item of each feed's last current
    document are kept, and a rebuild renders only the items it has not seen (after one new
    entry, one item instead of fifty). The bytes are exactly those of ``render_all``.

    The memory holds one document per feed and variant, is dropped when the site or the
    feed's settings change, and is not used for archive pages (each is rendered once). One
    renderer may be shared by threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[tuple[Site, FeedSpec], _Memory]] = {}
        self._fresh: Mapping[Format, int] = MappingProxyType({})

    @property
    def rendered_afresh(self) -> Mapping[Format, int]:
        """How many items each format of the last ``render_all`` rendered, rather than took
        from memory (with several threads, the call that finished last)."""
        return self._fresh

    def render_all(
        self,
        site: Site,
        spec: FeedSpec,
        items: Sequence[Item],
        page: Page = CURRENT,
        *,
        variant: str = "",
    ) -> list[Rendered]:
        """The same as ``feeds.render.render_all``, remembering the current document's items
        (of each ``variant`` of the feed apart)."""
        rendering = Rendering(site, spec, items, page)
        results: dict[Format, Spliced]
        if page.is_archive:
            results = rendering.render_all({})
        else:
            with self._lock:
                context, known = self._last.get((spec.name, variant), (None, {}))
                results = rendering.render_all(known if context == (site, spec) else {})
                memory: _Memory = {fmt: result.pieces for fmt, result in results.items()}
                self._last[spec.name, variant] = ((site, spec), memory)
        self._fresh = MappingProxyType({fmt: result.fresh for fmt, result in results.items()})
        return [Rendered(format=fmt, body=result.body) for fmt, result in results.items()]
