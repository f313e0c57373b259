"""Reading feeds: one index range scan over feed_members, then the page's stories.

With `q`, the stories are limited to those the search index (store.search) matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from aggregator.model import Appearance, Cursor, Enclosure, FeedItem, FeedQuery
from aggregator.normalise.text import same_publisher
from aggregator.store import search
from aggregator.store.tables import ENTRIES, FEED_MEMBERS, SOURCES, STORIES

E, S, M, SRC = ENTRIES.c, STORIES.c, FEED_MEMBERS.c, SOURCES.c


def read_page(
    conn: Connection, query: FeedQuery, guid_prefix: str
) -> tuple[list[FeedItem], Cursor | None]:
    """The stories of one feed page, newest first, and the cursor of the next page."""
    stmt = select(M.story_id, M.published).where(M.feed_key == query.scope.key)
    if query.before is not None:
        b = query.before
        stmt = stmt.where(
            or_(
                M.published < b.published, and_(M.published == b.published, M.story_id < b.story_id)
            )
        )
    if query.q:
        phrases = search.parse_search(query.q)
        if not phrases:  # only punctuation: nothing can match
            return [], None
        stmt = stmt.where(M.story_id.in_(search.matching_stories(conn.dialect.name, phrases)))
    stmt = stmt.order_by(M.published.desc(), M.story_id.desc()).limit(query.limit + 1)
    picked = conn.execute(stmt).all()
    more = len(picked) > query.limit
    picked = picked[: query.limit]
    items = load_items(conn, [r.story_id for r in picked], guid_prefix)
    next_cursor = Cursor(picked[-1].published, picked[-1].story_id) if more and picked else None
    return items, next_cursor


def load_items(conn: Connection, story_ids: Sequence[int], guid_prefix: str) -> list[FeedItem]:
    """Stories with their best copy and every appearance, in the order given."""
    if not story_ids:
        return []
    stories = {
        r.id: r
        for r in conn.execute(
            select(S.id, S.published, S.updated_at, S.best_entry_id).where(S.id.in_(story_ids))
        )
    }
    copies: dict[int, list[Any]] = {}
    rows = conn.execute(
        select(
            E.id,
            E.story_id,
            E.source_id,
            E.link,
            E.title,
            E.summary,
            E.content,
            E.author,
            E.categories,
            E.channels,
            E.published,
            E.image,
            E.enclosures,
            E.origin,
            SRC.name,
            SRC.feed_title,
            SRC.region,
            SRC.url.label("source_url"),
            SRC.site_link,
        )
        .select_from(ENTRIES.outerjoin(SOURCES, SRC.id == E.source_id))
        .where(E.story_id.in_(story_ids))
    )
    for row in rows:
        copies.setdefault(row.story_id, []).append(row)
    items = []
    for sid in story_ids:
        story = stories.get(sid)
        rows_ = copies.get(sid)
        if story is None or not rows_:
            continue
        items.append(_item(story, rows_, guid_prefix))
    return items


def _name(row: Any) -> str:
    return str(row.name or row.feed_title or row.source_id)


def _item(story: Any, rows: list[Any], guid_prefix: str) -> FeedItem:
    best = next((r for r in rows if r.id == story.best_entry_id), rows[0])
    origins = list(dict.fromkeys(o for o in (best.origin, *(r.origin for r in rows)) if o))
    ordered = sorted(rows, key=lambda r: (_not_origin(r, origins), r.published, r.id))
    channels = tuple(dict.fromkeys(c for r in ordered for c in (r.channels or ())))
    categories = tuple(dict.fromkeys(c for r in ordered for c in (r.categories or ())))
    first = ordered[0]
    return FeedItem(
        story_id=story.id,
        title=best.title,
        link=first.link,
        summary=best.summary,
        content=best.content,
        author=best.author,
        published=story.published,
        updated=max(story.updated_at, story.published),
        categories=categories,
        channels=channels,
        region=first.region or "",
        source_id=first.source_id,
        source_name=_name(first),
        source_url=first.site_link or first.source_url,
        guid=f"{guid_prefix}{story.id}",
        appearances=tuple(
            Appearance(
                source_id=r.source_id,
                source_name=_name(r),
                region=r.region or "",
                link=r.link,
                published=r.published,
                source_url=r.site_link or r.source_url,
            )
            for r in ordered
        ),
        image=best.image,
        enclosures=tuple(Enclosure(*e) for e in (best.enclosures or ())),
        origin=origins[0] if origins else None,
    )


def _not_origin(row: Any, origins: Sequence[str]) -> bool:
    """False for a copy from the publisher a 来源 line names, so it sorts first."""
    return not any(
        same_publisher(o, row.name) or same_publisher(o, row.feed_title) for o in origins
    )


def newest(conn: Connection, key: str) -> datetime | None:
    return conn.scalar(
        select(M.published).where(M.feed_key == key).order_by(M.published.desc()).limit(1)
    )
