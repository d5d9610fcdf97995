"""A small in-process cache of stored documents, revalidated by ETag every few seconds.

Bounded: at most `max_entries` documents, the least recently used dropped first (a crawler
walking every archive page must not grow a web worker without limit).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from feeds.store import Store
from feeds.types import Document, Format, View

MAX_ENTRIES = 256
VIEW = "html"  # the key's format of a feed's HTML view

_Key = tuple[str, str, int, str]  # feed, variant, page, format
_Stored = TypeVar("_Stored", Document, View)


class DocumentCache:
    def __init__(self, store: Store, seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.store = store
        self.seconds = seconds
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[_Key, tuple[Document | View, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, feed: str, fmt: Format, page: int = 0, variant: str = "") -> Document | None:
        """A feed's current document (page 0) or archive page, as stored."""
        return self._get(
            (feed, variant, page, fmt.value),
            Document,
            lambda: self.store.document_etag(feed, fmt, page, variant),
            lambda: self.store.get_document(feed, fmt, page, variant),
        )

    def view(self, feed: str) -> View | None:
        """A feed's HTML view, as stored."""
        return self._get(
            (feed, "", 0, VIEW),
            View,
            lambda: self.store.view_etag(feed),
            lambda: self.store.get_view(feed),
        )

    def _get(
        self,
        key: _Key,
        kind: type[_Stored],
        stored_etag: Callable[[], str | None],
        load: Callable[[], _Stored | None],
    ) -> _Stored | None:
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
        if cached is not None:
            document, checked = cached
            assert isinstance(document, kind)
            if now - checked < self.seconds:
                return document
            if stored_etag() == document.etag:
                self._put(key, document, now)
                return document
        fresh = load()
        if fresh is None:
            with self._lock:
                self._entries.pop(key, None)
        else:
            self._put(key, fresh, now)
        return fresh

    def _put(self, key: _Key, document: Document | View, when: float) -> None:
        with self._lock:
            self._entries[key] = (document, when)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
