"""Retention: articles older than their source's `keep_days` go, in small transactions.

Each batch deletes at most BATCH entries of one source and commits, so readers (who
never wait on writers, on either database) and ingest (which waits at most for one
batch on the same source) are never held up. A deleted entry leaves a tombstone
(source, entry key, when) that ingest consults, so a feed still listing an old article
does not bring it back as new; tombstones are dropped TOMBSTONE_DAYS after deletion,
long after any feed stops listing the article. Stories losing their last copy go
with it; the others are recomputed from the copies left (time, best copy, feed
membership); the search index follows the entries (a cascade on PostgreSQL, a
trigger on SQLite), and so do their fetched article pages; and every feed that
changed is written to the change log, so servers drop their renders. The change log
itself is trimmed after CHANGES_KEPT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, delete, exists, func, insert, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from aggregator.store.tables import (
    ARTICLE_PAGES,
    ENTRIES,
    FEED_CHANGES,
    SOURCES,
    STORIES,
    TOMBSTONES,
)

BATCH = 500  # entries per transaction
TOMBSTONE_DAYS = 400  # a tombstone outlives any feed that could still list its article
CHANGES_KEPT = timedelta(days=1)  # servers read the log every second; a day is plenty
RETENTION_LOCK = 0x61676770  # PostgreSQL session lock: one retention pass at a time

E, T = ENTRIES.c, TOMBSTONES.c
_TOMBSTONED = select(T.key).where(
    T.source_id == bindparam("source"), T.key.in_(bindparam("keys", expanding=True))
)


def tombstoned(conn: Connection, source_id: str, keys: Sequence[str]) -> set[str]:
    """Which of these entry keys retention deleted from this source."""
    found: set[str] = set()
    for i in range(0, len(keys), BATCH):
        part = list(keys[i : i + BATCH])
        found.update(conn.execute(_TOMBSTONED, {"source": source_id, "keys": part}).scalars())
    return found


def purge_batch(
    conn: Connection,
    source_id: str,
    cutoff: datetime,
    now: datetime,
    regions_of: Callable[[str], tuple[str, ...]],
) -> tuple[int, set[str]]:
    """Delete up to BATCH of a source's entries published before `cutoff`, leaving
    tombstones; returns how many, and the feeds that changed."""
    from aggregator.store.ingest import refresh_stories  # ingest imports this module
    from aggregator.store.matching import drop_bands

    if conn.dialect.name == "postgresql":
        # An ingest of this source holds its row for its whole transaction: take turns.
        conn.execute(select(SOURCES.c.id).where(SOURCES.c.id == source_id).with_for_update())
    rows = conn.execute(
        select(E.id, E.key, E.story_id, E.title, E.text, E.published)
        .where(E.source_id == source_id, E.published < cutoff)
        .order_by(E.published, E.id)
        .limit(BATCH)
    ).all()
    if not rows:
        return 0, set()
    stones = [{"source_id": source_id, "key": r.key, "deleted_at": now} for r in rows]
    if conn.dialect.name == "postgresql":
        conn.execute(pg_insert(TOMBSTONES).on_conflict_do_nothing(), stones)
    else:
        conn.execute(insert(TOMBSTONES).prefix_with("OR IGNORE"), stones)
    drop_bands(conn, [(r.id, r.title, r.text, r.published) for r in rows])  # near-dup keys
    conn.execute(delete(ENTRIES).where(E.id.in_([r.id for r in rows])))
    pages = ARTICLE_PAGES.c  # their fetched article pages (fulltext sources) go too
    conn.execute(
        delete(ARTICLE_PAGES).where(
            pages.source_id == source_id, pages.key.in_([r.key for r in rows])
        )
    )
    stories = sorted({r.story_id for r in rows})
    changed = refresh_stories(conn, stories, now, regions_of)
    orphan = ~exists().where(E.story_id == STORIES.c.id)
    conn.execute(delete(STORIES).where(STORIES.c.id.in_(stories), orphan))
    return len(rows), changed


def expire_tombstones(conn: Connection, now: datetime) -> int:
    """Drop up to BATCH tombstones older than TOMBSTONE_DAYS; returns how many."""
    old = conn.execute(
        select(T.source_id, T.key)
        .where(T.deleted_at < now - timedelta(days=TOMBSTONE_DAYS))
        .order_by(T.deleted_at)
        .limit(BATCH)
    ).all()
    if old:
        pairs = [(r.source_id, r.key) for r in old]
        conn.execute(delete(TOMBSTONES).where(tuple_(T.source_id, T.key).in_(pairs)))
    return len(old)


def trim_changes(conn: Connection, now: datetime) -> int:
    """Drop up to BATCH change-log rows older than CHANGES_KEPT, always keeping the newest
    (SQLite would hand its seq out again, and servers would miss changes)."""
    c = FEED_CHANGES.c
    newest = conn.scalar(select(func.max(c.seq)))
    if newest is None:
        return 0
    seqs = list(
        conn.execute(
            select(c.seq)
            .where(c.seq < newest, c.at < now - CHANGES_KEPT)
            .order_by(c.seq)
            .limit(BATCH)
        ).scalars()
    )
    if seqs:
        conn.execute(delete(FEED_CHANGES).where(c.seq.in_(seqs)))
    return len(seqs)


@contextmanager
def one_at_a_time(engine: Engine) -> Iterator[bool]:
    """True when this process may run a retention pass: on PostgreSQL, while no other
    poller runs one (a session lock, freed if the process dies); always on SQLite."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as guard:
        got = bool(guard.scalar(select(func.pg_try_advisory_lock(RETENTION_LOCK))))
        guard.commit()
        try:
            yield got
        finally:
            if got:
                guard.execute(select(func.pg_advisory_unlock(RETENTION_LOCK)))
                guard.commit()
