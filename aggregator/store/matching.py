"""Which stored story a new article is a copy of: exact identity first, then near-duplicates.

Exact: the same canonical link (tracking parameters, case, ports … ignored; a page's
`<link rel=canonical>` when the article page was fetched), or a guid that is a URI
(http(s) permalink, tag:, urn:) naming the same thing another copy's guid or link
names. Near-duplicates: the article's fingerprint keys (normalise.fingerprint) are
looked up in `story_bands` among copies published within the window of it, the
stories found most often are read back, and normalise.dedupe.judge decides against
the few copies of each that share the most keys with it (a story dozens of sites carry
is decided by its closest copies as well as by all of them). Every lookup goes through
an index and reads a number of rows bounded by the articles of the window, so the cost
per article does not grow with the store.

A story never takes a near-duplicate from a source that already has a copy in it: a
source publishing two alike articles means two articles.

Two copies stored at the same moment by two pollers would not see each other, so the
caller (store.ingest) first locks every key it will look up (`match_keys`) until its
transaction ends: on PostgreSQL an advisory lock per key (store.locks), so pollers in
other processes storing a copy with any key in common wait, and unrelated ingests do
not; on SQLite the write lock every writer holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, or_, select

from aggregator.model import Article, DatePrecision, Dedupe
from aggregator.normalise.dedupe import Copy, Verdict, judge
from aggregator.normalise.fingerprint import Fingerprint, fingerprint, normalised
from aggregator.normalise.identity import digest
from aggregator.normalise.urls import canonical
from aggregator.store import bulk
from aggregator.store.tables import ENTRIES, STORY_BANDS

E, B = ENTRIES.c, STORY_BANDS.c
CHUNK = 500
SPANS = 2000  # (key, window) pairs per candidate query: 8 000 parameters
MAX_CANDIDATES = 8  # stories judged per article, those sharing the most keys first
MAX_JUDGED = 3  # copies judged per candidate story, those sharing the most keys first
_URI_GUID = ("http://", "https://", "tag:", "urn:")

# Built once, lists as expanding parameters (no literal built per value per poll).
_BY_HASH = (
    select(E.id, E.story_id, E.link_hash, E.guid_hash)
    .where(
        or_(
            E.link_hash.in_(bindparam("hashes", expanding=True)),
            E.guid_hash.in_(bindparam("hashes", expanding=True)),
        )
    )
    .order_by(E.id)
)
_BY_HASH_PG = (
    f"SELECT id, story_id, link_hash, guid_hash FROM {ENTRIES.name} "
    "WHERE link_hash = ANY(CAST(%s AS text[])) OR guid_hash = ANY(CAST(%s AS text[])) ORDER BY id"
)
_COPIES_OF = select(E.id, E.story_id, E.source_id, E.title, E.text, E.published, E.precision).where(
    E.story_id.in_(bindparam("ids", expanding=True))
)


@dataclass(frozen=True, slots=True)
class Match:
    """The story an article joins, and why (stored as entries.merged_by)."""

    story_id: int
    entry_id: int  # the copy it was matched with
    rule: str  # link, guid or near-duplicate
    verdict: Verdict | None = None

    def explain(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "entry": self.entry_id}
        if self.verdict is not None:
            out.update(self.verdict.explain())
        return out


def guid_hash(a: Article) -> str | None:
    """A digest of a guid that names one thing everywhere (a URI), when it is the
    article's identity in its document (not one shared by every item)."""
    guid = (a.guid or "").strip()
    if not a.key.startswith("g") or not guid.lower().startswith(_URI_GUID):
        return None
    if guid.lower().startswith(("http://", "https://")):
        guid = canonical(guid)
    return digest(guid)


def link_hash(a: Article) -> str | None:
    return digest(a.canonical_link) if a.canonical_link else None


def match_keys(a: Article, fp: Fingerprint) -> list[str]:
    """Every key `match_stories` looks this article up by (links, guids, fingerprint
    keys): two ingests sharing none cannot match each other's copies. Add a key here for
    every new way of matching."""
    keys = [f"h:{h}" for h in (link_hash(a), guid_hash(a)) if h]
    keys += [f"b:{k}" for k in fp.keys]
    return keys


def match_stories(
    conn: Connection,
    source_id: str,
    new: Sequence[Article],
    prints: dict[str, Fingerprint],
    settings: Dedupe,
) -> dict[str, Match]:
    """Article key → the story it copies, for the new articles that copy one."""
    found = _exact(conn, new)
    rest = [a for a in new if a.key not in found and prints[a.key].keys]
    if rest:
        found.update(_near(conn, source_id, rest, prints, settings))
    return found


def _exact(conn: Connection, new: Sequence[Article]) -> dict[str, Match]:
    wanted: dict[str, list[Article]] = {}
    for a in new:
        for h in {link_hash(a), guid_hash(a)} - {None}:
            wanted.setdefault(str(h), []).append(a)
    found: dict[str, Match] = {}
    for part in _chunks(sorted(wanted)):
        for row in _by_hash(conn, part):
            for h in {row.link_hash, row.guid_hash} - {None}:
                for a in wanted.get(h, ()):
                    same_link = link_hash(a) == row.link_hash
                    rule = "link" if same_link else "guid"
                    old = found.get(a.key)
                    if old is None or (old.rule == "guid" and rule == "link"):
                        found[a.key] = Match(row.story_id, row.id, rule)
    return found


def _by_hash(conn: Connection, hashes: Sequence[str]) -> Any:
    """Entries with one of these link or guid digests, by id. On PostgreSQL as one text
    array (an expanding IN of a poll's hundred digests cost psycopg a few milliseconds)."""
    if conn.dialect.name == "postgresql":
        values = bulk.pg_texts(hashes)
        return conn.exec_driver_sql(_BY_HASH_PG, (values, values))
    return conn.execute(_BY_HASH, {"hashes": list(hashes)})


def _near(
    conn: Connection,
    source_id: str,
    articles: Sequence[Article],
    prints: dict[str, Fingerprint],
    settings: Dedupe,
) -> dict[str, Match]:
    window = settings.window
    stamp = bulk.time_param(conn)
    # (key, earliest and latest time of a copy within the article's window, article);
    # an article's window is formatted once, not once per key (18 keys an article).
    spans = [
        (k, lo, hi, n)
        for n, a in enumerate(articles)
        for lo, hi in ((stamp(a.published - window), stamp(a.published + window)),)
        for k in prints[a.key].keys
    ]
    hits: dict[str, Counter[int]] = {a.key: Counter() for a in articles}  # by story
    shared: dict[str, Counter[int]] = {a.key: Counter() for a in articles}  # by copy
    # A story that many sites carry has a key row per copy (thousands a poll): the
    # database counts the keys each copy shares with each article, one row per pair.
    for part in _chunks(spans, SPANS):
        for n, story_id, entry_id, count in _shared_keys(conn, part):
            key = articles[n].key
            hits[key][story_id] += count
            shared[key][entry_id] += count
    wanted = {a.key: [s for s, _ in hits[a.key].most_common(MAX_CANDIDATES)] for a in articles}
    copies = _copies(conn, {s for ids in wanted.values() for s in ids})
    found: dict[str, Match] = {}
    for a in articles:
        mine = Copy(a.title, prints[a.key], a.published, a.precision)
        best: Match | None = None
        for story_id in wanted[a.key]:
            stored = copies.get(story_id, [])
            if not stored or any(r.source_id == source_id for r in stored):
                continue
            # A story syndicated by many sites has many copies, all alike: judging the few
            # that share the most keys with this one decides as well as judging them all.
            closest = sorted(stored, key=lambda r: (-shared[a.key][r.id], r.id))[:MAX_JUDGED]
            for r in closest:
                verdict = judge(mine, r.copy(), window, settings.threshold)
                if verdict.same and (
                    best is None or best.verdict is None or verdict.score > best.verdict.score
                ):
                    best = Match(story_id, r.id, "near-duplicate", verdict)
        if best is not None:
            found[a.key] = best
    return found


@dataclass(frozen=True, slots=True)
class _Stored:
    id: int
    source_id: str
    title: str
    text: str
    published: datetime
    precision: DatePrecision

    def copy(self) -> Copy:
        return Copy(self.title, _normalised(self.title, self.text), self.published, self.precision)


@lru_cache(maxsize=4096)
def _normalised(title: str, text: str) -> Fingerprint:
    """A stored copy normalised for the judge: a syndicated story's copies are judged
    against every new copy of it, so each is normalised once per process, not per poll."""
    return normalised(title, text)


def _copies(conn: Connection, story_ids: Iterable[int]) -> dict[int, list[_Stored]]:
    """The copies of candidate stories."""
    out: dict[int, list[_Stored]] = {}
    for part in _chunks(sorted(story_ids)):
        rows = conn.execute(_COPIES_OF, {"ids": list(part)})
        for r in rows:
            stored = _Stored(
                r.id, r.source_id, r.title, r.text, r.published, DatePrecision(r.precision)
            )
            out.setdefault(r.story_id, []).append(stored)
    return out


def add_bands(
    conn: Connection,
    entries: Iterable[tuple[int, int, datetime, Fingerprint]],
) -> None:
    """Index copies' fingerprint keys: (entry id, story id, published, fingerprint)."""
    rows = [
        (k, published, entry_id, story_id)
        for entry_id, story_id, published, fp in entries
        for k in fp.keys
    ]
    # A key row of an entry id SQLite reuses after rows were deleted by hand must not
    # stop a poll from being stored.
    bulk.insert(
        conn,
        STORY_BANDS,
        ("band_key", "published", "entry_id", "story_id"),
        rows,
        on_conflict="DO NOTHING",
    )


def drop_bands(conn: Connection, stored: Iterable[tuple[int, str, str, datetime]]) -> None:
    """Remove the fingerprint keys of copies about to be deleted: (entry id, title, text,
    published), as stored. Found through the primary key, as `refresh_bands` does."""
    for entry_id, title, text, published in stored:
        keys = fingerprint(title, text).keys
        if keys:
            conn.execute(
                delete(STORY_BANDS).where(
                    B.band_key.in_(keys), B.published == published, B.entry_id == entry_id
                )
            )


def refresh_bands(
    conn: Connection, source_id: str, changed: Sequence[tuple[Article, datetime]]
) -> None:
    """Re-index copies whose title or text is about to change (an edit, a fetched article
    page): (article, publish time it will have). Call it before the entries are updated:
    the keys of what is stored now are removed, those of the articles added."""
    by_key = {a.key: (a, published) for a, published in changed}
    for part in _chunks(sorted(by_key)):
        rows = conn.execute(
            select(E.id, E.key, E.story_id, E.title, E.text, E.published).where(
                E.source_id == source_id, E.key.in_(part)
            )
        ).all()
        for r in rows:
            old = fingerprint(r.title, r.text).keys
            if old:
                conn.execute(
                    delete(STORY_BANDS).where(
                        B.band_key.in_(old), B.published == r.published, B.entry_id == r.id
                    )
                )
        add_bands(
            conn,
            [
                (r.id, r.story_id, by_key[r.key][1], a.fingerprinted())
                for r in rows
                if (a := by_key[r.key][0])
            ],
        )


def _shared_keys(
    conn: Connection, spans: Sequence[tuple[int, Any, Any, int]]
) -> list[tuple[int, int, int, int]]:
    """(article, story, copy, keys in common) for spans (key, first, last, article): the
    key rows of copies published first..last (times as `bulk.time_param` gives them),
    counted per article and copy. An index range scan of story_bands per span."""
    b = STORY_BANDS.name
    if conn.dialect.name == "postgresql":
        # The lateral subquery with OFFSET 0 is not flattened into a join, so PostgreSQL
        # cannot choose to hash the whole table (which it did once its statistics said
        # the table was small): each span is its own range scan of the primary key.
        sql = (
            "SELECT q.a, c.story_id, c.entry_id, count(*) FROM unnest(CAST(%s AS bigint[]), "
            "CAST(%s AS timestamptz[]), CAST(%s AS timestamptz[]), CAST(%s AS integer[])) "
            f"AS q(k, lo, hi, a) CROSS JOIN LATERAL (SELECT story_id, entry_id FROM {b} "
            "WHERE band_key = q.k AND published >= q.lo AND published <= q.hi OFFSET 0) AS c "
            "GROUP BY q.a, c.story_id, c.entry_id"
        )
        k, lo, hi, a = zip(*spans, strict=True)
        params: tuple[Any, ...] = (
            bulk.pg_ints(k),
            bulk.pg_times(lo),
            bulk.pg_times(hi),
            bulk.pg_ints(a),
        )
    else:
        marks = ", ".join(["(?, ?, ?, ?)"] * len(spans))
        sql = (
            f"WITH q(k, lo, hi, a) AS (VALUES {marks}) "
            f"SELECT q.a, {b}.story_id, {b}.entry_id, count(*) FROM {b} JOIN q "
            f"ON {b}.band_key = q.k AND {b}.published >= q.lo AND {b}.published <= q.hi "
            f"GROUP BY q.a, {b}.story_id, {b}.entry_id"
        )
        params = tuple(v for span in spans for v in span)
    return [tuple(r) for r in conn.exec_driver_sql(sql, params)]


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
