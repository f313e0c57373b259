"""Paging backwards: where the page just newer than a given one starts.

Feeds page forwards with `before=` (older entries); an HTML page also links the page
just newer than the one shown, found here by one ascending scan of the same index.
"""

from __future__ import annotations

from sqlalchemy import Connection, and_, or_, select

from aggregator.model import Cursor
from aggregator.store.tables import FEED_MEMBERS

M = FEED_MEMBERS.c


def newer_page(conn: Connection, feed_key: str, first: Cursor, size: int) -> Cursor | None:
    """The `before` cursor of the `size` entries just newer than `first`; None: the first page.

    The newer page shows the `size` entries nearest above `first`, so its cursor is the
    entry just above those; when there are not that many, the newer page is the first.
    """
    newer = or_(
        M.published > first.published,
        and_(M.published == first.published, M.story_id > first.story_id),
    )
    rows = conn.execute(
        select(M.story_id, M.published)
        .where(M.feed_key == feed_key, newer)
        .order_by(M.published.asc(), M.story_id.asc())
        .offset(size)
        .limit(1)
    ).all()
    return Cursor(rows[0].published, rows[0].story_id) if rows else None
