"""Re-filing stored articles after feeds.yaml changed: moved sources, new channel rules.

Both walk the stored rows in batches, one transaction each, so a large store is
re-filed without one long lock; each batch rewrites the feed membership of the stories
it touched with `ingest.refresh_stories` (which also logs the changed feeds, so every
server drops its stale renders). Running one twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from aggregator.model import Site
from aggregator.normalise.channels import classify
from aggregator.normalise.text import plain
from aggregator.store.ingest import refresh_stories
from aggregator.store.tables import ENTRIES, SOURCES

E, C = ENTRIES.c, SOURCES.c
BATCH = 500

RegionsOf = Callable[[str], tuple[str, ...]]


@dataclass(slots=True)
class Refiled:
    """What a pass changed: entries read and re-classified, stories re-filed, feeds touched."""

    entries: int = 0
    changed: int = 0
    stories: int = 0
    feeds: set[str] = field(default_factory=set)

    def add(self, other: Refiled) -> None:
        self.entries += other.entries
        self.changed += other.changed
        self.stories += other.stories
        self.feeds |= other.feeds


def story_batch(conn: Connection, source_ids: Sequence[str], after: int, limit: int) -> list[int]:
    """The next `limit` story ids above `after` that hold a copy from these sources."""
    return list(
        conn.execute(
            select(E.story_id)
            .where(E.source_id.in_(list(source_ids)), E.story_id > after)
            .group_by(E.story_id)
            .order_by(E.story_id)
            .limit(limit)
        ).scalars()
    )


def refile_batch(
    conn: Connection,
    source_ids: Sequence[str],
    after: int,
    limit: int,
    now: datetime,
    regions_of: RegionsOf,
) -> tuple[list[int], Refiled]:
    """Re-file the next batch of these sources' stories; returns their ids and the result."""
    ids = story_batch(conn, source_ids, after, limit)
    return ids, refile_stories(conn, ids, now, regions_of)


def refile_stories(
    conn: Connection, story_ids: Sequence[int], now: datetime, regions_of: RegionsOf
) -> Refiled:
    """Rewrite these stories' feed membership from their copies' current regions."""
    feeds = refresh_stories(conn, story_ids, now, regions_of) if story_ids else set()
    return Refiled(stories=len(story_ids), feeds=feeds)


def reclassify_batch(
    conn: Connection,
    after: int,
    limit: int,
    site: Site,
    now: datetime,
    regions_of: RegionsOf,
) -> tuple[int | None, Refiled]:
    """Apply the channel rules in force to the next entries above id `after`.

    Returns the last id read (None when there were no more) and what changed. A source
    no longer in feeds.yaml keeps the channels its own `channels:` gave it, as long as
    those channels still exist.
    """
    rows = conn.execute(
        select(
            E.id,
            E.source_id,
            E.story_id,
            E.title,
            E.summary,
            E.categories,
            E.channels,
            E.channel_rules,
        )
        .where(E.id > after)
        .order_by(E.id)
        .limit(limit)
    ).all()
    if not rows:
        return None, Refiled()
    known = {c.id for c in site.channels}
    changes: list[dict[str, Any]] = []
    stories: set[int] = set()
    for row in rows:
        source = site.sources.get(row.source_id)
        own = (
            source.channels
            if source is not None
            else tuple(
                c for c, why in (row.channel_rules or {}).items() if why == "source" and c in known
            )
        )
        summary = plain(row.summary)
        rules = classify(row.title, tuple(row.categories or ()), own, site.channels, summary)
        if list(rules) != list(row.channels or ()) or rules != (row.channel_rules or {}):
            changes.append({"_id": row.id, "channels": list(rules), "channel_rules": rules})
            stories.add(row.story_id)
    if changes:
        conn.execute(update(ENTRIES).where(E.id == bindparam("_id")), changes)
    done = refile_stories(conn, sorted(stories), now, regions_of)
    done.entries, done.changed = len(rows), len(changes)
    return rows[-1].id, done


def bring_forward(
    conn: Connection, source_id: str, interval: timedelta, now: datetime
) -> datetime | None:
    """After an interval was shortened, poll no later than last attempt + the new interval.

    A source that is failing (backing off, or told to wait by Retry-After) keeps its
    schedule. Returns the new next poll time, or None when nothing changed.
    """
    row = conn.execute(
        select(C.next_poll_at, C.last_attempt_at, C.consecutive_failures, C.retry_after).where(
            C.id == source_id
        )
    ).first()
    if row is None or row.last_attempt_at is None or row.consecutive_failures:
        return None
    if row.retry_after is not None and row.retry_after > now:
        return None
    target: datetime = max(row.last_attempt_at + interval, now)
    if target >= row.next_poll_at:
        return None
    conn.execute(
        update(SOURCES)
        .where(C.id == source_id)
        .values(next_poll_at=target, next_poll_reason="interval shortened in feeds.yaml")
    )
    return target
