"""Storing a source's articles: idempotent upserts, story matching, feed membership.

Runs inside the caller's transaction so a source's validators are saved with its
articles or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, bindparam, delete, func, select, update

from aggregator.model import Article, DatePrecision, Dedupe
from aggregator.normalise.identity import title_key
from aggregator.store import bulk, search
from aggregator.store.locks import lock_match_keys
from aggregator.store.matching import (
    add_bands,
    guid_hash,
    link_hash,
    match_keys,
    match_stories,
    refresh_bands,
)
from aggregator.store.membership import feed_keys
from aggregator.store.retention import tombstoned
from aggregator.store.tables import ENTRIES, FEED_CHANGES, FEED_MEMBERS, STORIES

CHUNK = 500

MEMBERS, CHANGES = FEED_MEMBERS, FEED_CHANGES
E, S, M = ENTRIES.c, STORIES.c, MEMBERS.c

T = TypeVar("T")

# Statements built once: a list of values goes in as one expanding parameter, so
# SQLAlchemy neither builds nor coerces a literal per value on every poll.
_EXISTING = select(E.id, E.key, E.story_id, E.content_hash, E.published, E.precision).where(
    E.source_id == bindparam("source"), E.key.in_(bindparam("keys", expanding=True))
)
_FEEDS_OF = select(M.feed_key).where(M.story_id.in_(bindparam("ids", expanding=True)))
_COPIES = select(
    E.id,
    E.story_id,
    E.source_id,
    E.channels,
    E.published,
    E.updated_at,
    (func.length(E.content) + func.length(E.summary)).label("richness"),
).where(E.story_id.in_(bindparam("ids", expanding=True)))
_UNLIST = delete(MEMBERS).where(M.story_id.in_(bindparam("ids", expanding=True)))


@dataclass(slots=True)
class IngestStats:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_feeds: set[str] = field(default_factory=set)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ingest(
    conn: Connection,
    source_id: str,
    articles: Sequence[Article],
    now: datetime,
    regions_of: Callable[[str], tuple[str, ...]],
    dedupe: Dedupe | None = None,
) -> IngestStats:
    """Insert new articles, update edited ones, and refresh the stories they belong to.

    A new article joins the story it is a copy of (store.matching), else starts one.
    """
    stats = IngestStats()
    by_key = {a.key: a for a in articles}
    existing: dict[str, Any] = {}
    for part in chunks(list(by_key)):
        for row in conn.execute(_EXISTING, {"source": source_id, "keys": list(part)}):
            existing[row.key] = row

    new = [a for k, a in by_key.items() if k not in existing]
    if new:  # entries retention deleted stay deleted (store.retention)
        gone = tombstoned(conn, source_id, [a.key for a in new])
        new = [a for a in new if a.key not in gone]
    edited = [
        (existing[k], a)
        for k, a in by_key.items()
        if k in existing and existing[k].content_hash != a.content_hash
    ]
    stats.unchanged = len(by_key) - len(new) - len(edited)
    affected: set[int] = set()
    fresh: dict[int, Fresh] = {}  # stories this poll started: their one copy is known
    indexed: list[tuple[int, Article]] = []  # (entry id, article) for the search index

    if new:
        prints = {a.key: a.fingerprinted() for a in new}
        lock_match_keys(conn, (k for a in new for k in match_keys(a, prints[a.key])))
        matches = match_stories(conn, source_id, new, prints, dedupe or Dedupe())
        story_of = {key: m.story_id for key, m in matches.items()}
        unmatched = [a for a in new if a.key not in story_of]
        if unmatched:
            # Any new story will do for any unmatched article: refresh_stories below
            # sets each story's times and copies from the entries it ends up with.
            started = bulk.insert(
                conn,
                STORIES,
                ("published", "updated_at", "copies"),
                [(a.published, now, 1) for a in unmatched],
                returning=("id",),
            )
            story_of.update(zip((a.key for a in unmatched), (r[0] for r in started), strict=True))
        rows = []
        for a in new:
            v = _entry_values(a, story_of[a.key], now, now)
            v["merged_by"] = matches[a.key].explain() if a.key in matches else None
            rows.append(tuple(v[c] for c in ENTRY_COLUMNS))
        id_of = dict(
            (key, eid)
            for eid, key in bulk.insert(conn, ENTRIES, ENTRY_COLUMNS, rows, returning=("id", "key"))
        )
        entry_ids = [id_of[a.key] for a in new]
        indexed.extend(zip(entry_ids, new, strict=True))
        add_bands(
            conn,
            [
                (entry_id, story_of[a.key], a.published, prints[a.key])
                for a, entry_id in zip(new, entry_ids, strict=True)
            ],
        )
        affected.update(story_of.values())
        fresh = {
            story_of[a.key]: Fresh(id_of[a.key], a.source_id, a.channels, a.published)
            for a in unmatched
        }
        stats.new = len(new)

    if edited:
        params = []
        for row, a in edited:
            values = _entry_values(a, row.story_id, now, None)
            if _keeps_published(row, a):
                values["published"] = row.published
                values["precision"] = row.precision
            values["_id"] = row.id
            params.append(values)
            affected.add(row.story_id)
            indexed.append((row.id, a))
        changed = [(a, v["published"]) for (_, a), v in zip(edited, params, strict=True)]
        refresh_bands(conn, source_id, changed)  # before the update: it reads the old text
        stmt = update(ENTRIES).where(E.id == bindparam("_id"))
        conn.execute(stmt, params)
        stats.updated = len(edited)

    search.index_entries(
        conn, ((eid, search.entry_terms(a.title, a.text, a.terms)) for eid, a in indexed)
    )
    if affected:
        stats.changed_feeds = refresh_stories(conn, affected, now, regions_of, fresh)
    return stats


# Every column of a new entry, in the order `bulk.insert` writes them.
ENTRY_COLUMNS = (
    "source_id", "key", "story_id", "guid", "link", "link_hash", "guid_hash", "title",
    "title_hash", "summary", "content", "text", "author", "categories", "channels",
    "channel_rules", "origin", "image", "enclosures", "published", "precision", "updated_at",
    "content_hash", "page_canonical", "first_seen", "merged_by",
)  # fmt: skip


def _keeps_published(row: Any, a: Article) -> bool:
    """A re-polled entry without a real time keeps the time it was first given."""
    if a.precision is DatePrecision.DATETIME:
        return False
    return bool(
        row.precision == a.precision.value and abs(row.published - a.published) < timedelta(days=1)
    )


def _entry_values(
    a: Article, story_id: int, now: datetime, first_seen: datetime | None
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "source_id": a.source_id,
        "key": a.key,
        "story_id": story_id,
        "guid": a.guid,
        "link": a.link,
        "link_hash": link_hash(a),
        "guid_hash": guid_hash(a),
        "title": a.title,
        "title_hash": _title_hash(a.title),
        "summary": a.summary,
        "content": a.content,
        "text": a.text,
        "author": a.author,
        "categories": list(a.categories),
        "channels": list(a.channels),
        "channel_rules": dict(a.channel_rules),
        "origin": a.origin,
        "image": a.image,
        "enclosures": [[e.url, e.type, e.length] for e in a.enclosures],
        "published": a.published,
        "precision": a.precision.value,
        "updated_at": now,
        "content_hash": a.content_hash,
        "page_canonical": a.page_canonical,
    }
    if first_seen is not None:
        values["first_seen"] = first_seen
    return values


def _title_hash(title: str) -> str | None:
    key = title_key(title)
    return key or None


@dataclass(frozen=True, slots=True)
class Fresh:
    """The one copy of a story started in this transaction (no other writer can see it)."""

    entry_id: int
    source_id: str
    channels: Sequence[str]
    published: datetime


def refresh_stories(
    conn: Connection,
    story_ids: Iterable[int],
    now: datetime,
    regions_of: Callable[[str], tuple[str, ...]],
    fresh: Mapping[int, Fresh] | None = None,
) -> set[str]:
    """Recompute stories from their copies and rewrite their feed membership.

    Stories in `fresh` are set from the copy given, without reading or locking anything:
    most new articles start a story of their own. Returns the keys of every feed whose
    content changed (before or after).
    """
    fresh = fresh or {}
    ids = sorted(set(story_ids) - fresh.keys())
    _lock_stories(conn, ids)
    changed: set[str] = set()
    story_updates: list[tuple[int, datetime, datetime, int, int]] = []
    members: list[tuple[str, int, datetime]] = []
    for sid, f in fresh.items():
        story_updates.append((sid, f.published, now, f.entry_id, 1))
        for key in feed_keys(((f.source_id, f.channels),), regions_of):
            members.append((key, sid, f.published))
            changed.add(key)
    for part in chunks(ids):
        ids_ = {"ids": list(part)}
        changed.update(conn.execute(_FEEDS_OF, ids_).scalars())
        copies: dict[int, list[Any]] = {}
        found = conn.execute(_COPIES, ids_)
        for row in found:
            copies.setdefault(row.story_id, []).append(row)
        for sid, rows_ in copies.items():
            published = min(r.published for r in rows_)
            best = max(rows_, key=lambda r: (r.richness or 0, -r.published.timestamp(), -r.id))
            updated = max(max(r.updated_at for r in rows_), now)
            story_updates.append(
                (sid, published, updated, best.id, len({r.source_id for r in rows_}))
            )
            for key in feed_keys(((r.source_id, r.channels or ()) for r in rows_), regions_of):
                members.append((key, sid, published))
                changed.add(key)
        conn.execute(_UNLIST, ids_)
    bulk.update(
        conn, STORIES, "id", ("published", "updated_at", "best_entry_id", "copies"), story_updates
    )
    bulk.insert(conn, MEMBERS, ("feed_key", "story_id", "published"), members)
    bulk.insert(conn, CHANGES, ("feed_key", "at"), [(k, now) for k in sorted(changed)])
    return changed


def _lock_stories(conn: Connection, ids: Sequence[int]) -> None:
    """Hold these stories until commit, so two writers (one source's pages, another's
    ingest) refresh a story one after the other, each reading the other's committed
    copies, and never both rewrite its feed rows. In id order: no deadlock."""
    if conn.dialect.name != "postgresql":
        return  # SQLite has one writer at a time
    for part in chunks(ids):
        conn.execute(select(S.id).where(S.id.in_(part)).order_by(S.id).with_for_update()).all()
