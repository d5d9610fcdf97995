"""Editorial overrides: the ones in force, every command in the audit trail, and the archive
pages a hide or an unhide makes stale.

Every command is one write transaction: the override, its line in the audit trail and the
stale marks change together. The trail's growing id is the generation a clock watches to
publish within seconds (``override_generation``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Connection

from feeds.ids import entry_key, item_id
from feeds.store.archives import mark_stale
from feeds.store.codec import entry_from_row, override_from_row, override_record_from_row
from feeds.store.engine import Database
from feeds.store.schema import entries, override_log, overrides
from feeds.types import Entry, Override, OverrideAction, OverrideRecord, Site


class OverridesMixin(Database):
    """Store overrides and their audit trail."""

    def add_override(self, override: Override, item_ids: Iterable[str] = ()) -> None:
        """Put ``override`` in force (replacing one of the same item, action and feed) and
        record it. A hide marks stale the archive pages holding ``item_ids`` (the item's ids
        found by ``item_ids_for``) or the key itself."""
        o = override
        key = _key(o.item, o.action, o.feed)
        with self._write() as conn:
            conn.execute(overrides.delete().where(key))
            conn.execute(
                overrides.insert().values(
                    item=o.item,
                    action=o.action.value,
                    feed=o.feed,
                    value=o.value,
                    until=o.until,
                    by=o.by,
                    reason=o.reason,
                    at=o.at,
                )
            )
            _log(conn, o.action.value, o.item, o.feed, o.value, o.until, o.by, o.reason, o.at)
            if o.action is OverrideAction.HIDE:
                mark_stale(conn, [o.item, *item_ids])

    def remove_override(
        self,
        item: str,
        action: OverrideAction,
        *,
        by: str,
        reason: str,
        now: datetime,
        feed: str = "",
        item_ids: Iterable[str] = (),
    ) -> bool:
        """End an override (unhide, unpin, unretitle) and record it; False (and nothing
        recorded) when none was in force."""
        with self._write() as conn:
            gone = conn.execute(overrides.delete().where(_key(item, action, feed))).rowcount
            if not gone:
                return False
            _log(conn, f"un{action.value}", item, feed, "", None, by, reason, now)
            if action is OverrideAction.HIDE:
                mark_stale(conn, [item, *item_ids])
            return True

    def overrides(self) -> list[Override]:
        """Every override in force (expired pins too: merge leaves them out), oldest first."""
        with self._read() as conn:
            rows = conn.execute(sa.select(overrides).order_by(overrides.c.at, overrides.c.item))
            return [override_from_row(r) for r in rows]

    def override_log(self, limit: int = 100) -> list[OverrideRecord]:
        """The newest ``limit`` override commands, newest first."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(override_log).order_by(override_log.c.id.desc()).limit(limit)
            )
            return [override_record_from_row(r) for r in rows]

    def override_generation(self) -> int:
        """The id of the newest override command (0 before the first): it grows with each."""
        with self._read() as conn:
            top = conn.execute(sa.select(sa.func.max(override_log.c.id))).scalar_one_or_none()
            return int(top or 0)

    def item_ids_for(self, key: str, site: Site) -> set[str]:
        """The ids of the items an editor's ``key`` (a published id or a link) names, as merge
        identifies them: the key itself (a local article's id is its link) and the item id of
        every stored entry with that link or upstream id, or that a minted tag: id stands
        for."""
        where = (entries.c.link == key) | (entries.c.id == key)
        minted = entry_key(site, key)
        if minted is not None:
            where = where | ((entries.c.source_id == minted[0]) & (entries.c.id == minted[1]))
        with self._read() as conn:
            rows = conn.execute(sa.select(entries.c.source_id, entries.c.id).where(where))
            return {key} | {item_id(site, r.source_id, r.id) for r in rows}

    def entries_named(
        self, source_ids: Iterable[str], keys: Iterable[str], site: Site
    ) -> list[Entry]:
        """The stored entries of these sources that ``keys`` name (by link, upstream id, or
        the item id minted for them), however old: the entries pinned to a feed."""
        ids, keys = list(dict.fromkeys(source_ids)), list(keys)
        if not ids or not keys:
            return []
        where = entries.c.link.in_(keys) | entries.c.id.in_(keys)
        for key in keys:
            minted = entry_key(site, key)
            if minted is not None:
                where = where | ((entries.c.source_id == minted[0]) & (entries.c.id == minted[1]))
        with self._read() as conn:
            rows = conn.execute(sa.select(entries).where(entries.c.source_id.in_(ids), where))
            return [entry_from_row(r) for r in rows]


def _key(item: str, action: OverrideAction, feed: str) -> sa.ColumnElement[bool]:
    return (
        (overrides.c.item == item)
        & (overrides.c.action == action.value)
        & (overrides.c.feed == feed)
    )


def _log(
    conn: Connection,
    action: str,
    item: str,
    feed: str,
    value: str,
    until: datetime | None,
    by: str,
    reason: str,
    at: datetime,
) -> None:
    conn.execute(
        override_log.insert().values(
            at=at,
            action=action,
            item=item,
            feed=feed,
            value=value,
            until=until,
            by=by,
            reason=reason,
        )
    )
