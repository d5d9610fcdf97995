"""A small in-process cache of stored documents, revalidated by ETag every few seconds."""

from __future__ import annotations

import threading
import time

from feeds.store import Store
from feeds.types import Document, Format


class DocumentCache:
    def __init__(self, store: Store, seconds: float) -> None:
        self.store = store
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, Format], tuple[Document, float]] = {}

    def get(self, feed: str, fmt: Format) -> Document | None:
        key = (feed, fmt)
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(key)
        if cached is not None:
            document, checked = cached
            if now - checked < self.seconds:
                return document
            if self.store.document_etag(feed, fmt) == document.etag:
                with self._lock:
                    self._entries[key] = (document, now)
                return document
        fresh = self.store.get_document(feed, fmt)
        with self._lock:
            if fresh is None:
                self._entries.pop(key, None)
            else:
                self._entries[key] = (fresh, now)
        return fresh
