"""One story with everything an admin needs to see why it is shown as it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from aggregator.model import FeedItem
from aggregator.store.feeds import load_items
from aggregator.store.tables import ENTRIES, FEED_MEMBERS, SOURCES, STORIES

E, M, S, SRC = ENTRIES.c, FEED_MEMBERS.c, STORIES.c, SOURCES.c


@dataclass(frozen=True, slots=True)
class StoryRecord:
    item: FeedItem  # the story as feeds show it
    copies: list[Any]  # every copy with its source, in the order of item.appearances
    feed_keys: list[str]  # the feeds that hold it (see model.FeedScope.key)
    best_entry_id: int | None  # the copy whose title and body feeds show


def read_story(conn: Connection, story_id: int, guid_prefix: str) -> StoryRecord | None:
    items = load_items(conn, [story_id], guid_prefix)
    if not items:
        return None
    rows = list(
        conn.execute(
            select(
                E.id,
                E.source_id,
                E.key,
                E.guid,
                E.link,
                E.title,
                E.categories,
                E.channels,
                E.channel_rules,
                E.origin,
                E.published,
                E.precision,
                E.first_seen,
                E.merged_by,
                SRC.name,
                SRC.feed_title,
                SRC.region,
            )
            .select_from(ENTRIES.outerjoin(SOURCES, SRC.id == E.source_id))
            .where(E.story_id == story_id)
        )
    )
    order = {(a.source_id, a.link, a.published): i for i, a in enumerate(items[0].appearances)}
    rows.sort(key=lambda r: (order.get((r.source_id, r.link, r.published), len(order)), r.id))
    keys = conn.execute(select(M.feed_key).where(M.story_id == story_id)).scalars().all()
    best = conn.scalar(select(S.best_entry_id).where(S.id == story_id))
    return StoryRecord(items[0], rows, sorted(keys), best)
