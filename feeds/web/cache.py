"""A small in-process cache of stored documents, validated against the database on every use.

Readers never see a feed go backwards: a worker serves its copy only once it knows the
database holds no newer one, so once any worker has served a version, none serves an older
one. Knowing is cheap: on SQLite, the database's change counter (Store.change_counter, a few
microseconds) says nothing at all was committed since the copy was last checked; when it
moved, or on PostgreSQL, one indexed query of the stored ETag (Store.current_etag, through a
connection kept for these checks: one round trip on PostgreSQL). The bytes are loaded only
when the ETag changed.

Shared: requests for one document that arrive while a check of it runs wait for the next
check and share its answer. The answer a request gets always comes from a query that started
after the request arrived (so the rule above holds), and a busy worker makes one query per
round trip rather than one per request.

Bounded: at most `max_entries` documents, the least recently used dropped first (a crawler
walking every archive page must not grow a web worker without limit).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

from feeds.store import Store
from feeds.types import Document, Format, View

MAX_ENTRIES = 256
VIEW = "html"  # the key's format of a feed's HTML view

_Key = tuple[str, str, int, str]  # feed, variant, page, format
_Stored = TypeVar("_Stored", Document, View)


class _Check:
    """One query of a document's stored ETag, and the requests waiting for its answer."""

    __slots__ = ("done", "error", "etag")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.etag: str | None = None
        self.error: BaseException | None = None


class DocumentCache:
    def __init__(self, store: Store, max_entries: int = MAX_ENTRIES) -> None:
        self.store = store
        self.max_entries = max_entries
        self._lock = threading.Lock()
        # each copy with the change counter read before it was last known current
        self._entries: OrderedDict[_Key, tuple[Document | View, int | None]] = OrderedDict()
        self._next: dict[_Key, _Check] = {}  # per document, the check not yet started
        # one check at a time (they share one connection); one waiting here still takes joiners
        self._checking = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, feed: str, fmt: Format, page: int = 0, variant: str = "") -> Document | None:
        """A feed's current document (page 0) or archive page, as stored now."""
        return self._get(
            (feed, variant, page, fmt.value),
            Document,
            lambda: self.store.current_etag(feed, fmt.value, page, variant),
            lambda: self.store.get_document(feed, fmt, page, variant),
        )

    def view(self, feed: str) -> View | None:
        """A feed's HTML view, as stored now."""
        return self._get(
            (feed, "", 0, VIEW),
            View,
            lambda: self.store.current_etag(feed, VIEW),
            lambda: self.store.get_view(feed),
        )

    def _get(
        self,
        key: _Key,
        kind: type[_Stored],
        stored_etag: Callable[[], str | None],
        load: Callable[[], _Stored | None],
    ) -> _Stored | None:
        counter = self.store.change_counter()  # read before the database is: see above
        with self._lock:
            cached = self._entries.get(key)
            if cached is not None:
                self._entries.move_to_end(key)
        if cached is not None:
            document, checked = cached
            assert isinstance(document, kind)
            if counter is not None and counter == checked:
                return document  # nothing committed since this copy was known current
            if self._shared_check(key, stored_etag) == document.etag:
                self._put(key, document, counter)
                return document
        fresh = load()
        if fresh is None:
            with self._lock:
                self._entries.pop(key, None)
        else:
            self._put(key, fresh, counter)
        return fresh

    def _shared_check(self, key: _Key, stored_etag: Callable[[], str | None]) -> str | None:
        """The document's stored ETag, from a query started after this call was made: the
        first caller makes it; those who arrive before it starts wait and share it."""
        with self._lock:
            check = self._next.get(key)
            leading = check is None
            if check is None:
                check = self._next[key] = _Check()
        if not leading:
            check.done.wait()
            if check.error is not None:
                raise check.error
            return check.etag
        try:
            with self._checking:
                with self._lock:  # started: whoever comes now waits for the next one
                    del self._next[key]
                check.etag = stored_etag()
        except BaseException as e:
            check.error = e
            raise
        finally:
            with self._lock:
                if self._next.get(key) is check:  # interrupted before it started
                    del self._next[key]
            check.done.set()
        return check.etag

    def _put(self, key: _Key, document: Document | View, counter: int | None) -> None:
        with self._lock:
            self._entries[key] = (document, counter)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
