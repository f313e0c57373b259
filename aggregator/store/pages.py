"""Article pages fetched for `fulltext: true` sources, one row per entry.

The row is what makes "fetched once" true: a poll fetches only pages of stored entries
without one (or whose last try failed in a way worth retrying, up to MAX_TRIES). The
work list comes from the store, not from the poll's document, so pages left over by one
poll are fetched by the next even when the list page answers 304.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from aggregator.model import Article, DatePrecision, FullText
from aggregator.store.ingest import IngestStats, chunks, refresh_stories
from aggregator.store.matching import refresh_bands
from aggregator.store.tables import ARTICLE_PAGES, ENTRIES, SOURCES

P, E = ARTICLE_PAGES.c, ENTRIES.c
MAX_TRIES = 3


def needs_fetch(page: FullText | None) -> bool:
    """Whether an entry's page should be fetched (again)."""
    return page is None or (not page.ok and page.retry and page.tries < MAX_TRIES)


def pages_for(conn: Connection, source_id: str, keys: Sequence[str]) -> dict[str, FullText]:
    """The stored pages of these entries."""
    out: dict[str, FullText] = {}
    for part in chunks(list(keys)):
        rows = conn.execute(select(ARTICLE_PAGES).where(P.source_id == source_id, P.key.in_(part)))
        out.update((r.key, _page(r)) for r in rows)
    return out


def pages_at(conn: Connection, urls: Sequence[str]) -> dict[str, FullText]:
    """Pages already read well at these URLs, by any source."""
    out: dict[str, FullText] = {}
    for part in chunks(list(dict.fromkeys(urls))):
        rows = conn.execute(select(ARTICLE_PAGES).where(P.url.in_(part), P.ok.is_(True)))
        for r in rows:
            out.setdefault(r.url, _page(r))
    return out


def pages_wanted(
    conn: Connection, source_id: str, limit: int
) -> tuple[list[tuple[Article, FullText | None]], int]:
    """Up to `limit` entries whose page is still to fetch, newest first, and how many
    there are in all."""
    joined = ENTRIES.outerjoin(ARTICLE_PAGES, and_(P.source_id == E.source_id, P.key == E.key))
    wanted = and_(
        E.source_id == source_id,
        or_(P.key.is_(None), and_(P.ok.is_(False), P.retry.is_(True), P.tries < MAX_TRIES)),
    )
    total = int(conn.scalar(select(func.count()).select_from(joined).where(wanted)) or 0)
    if not total:
        return [], 0
    rows = conn.execute(
        select(
            E.key,
            E.link,
            E.title,
            E.summary,
            E.content,
            E.text,
            E.author,
            E.origin,
            E.categories,
            E.published,
            E.precision,
            E.content_hash,
            P.key.label("page_key"),
            P.tries,
            P.url,
            P.fetched_at,
        )
        .select_from(joined)
        .where(wanted)
        .order_by(E.published.desc(), E.id.desc())
        .limit(limit)
    )
    out: list[tuple[Article, FullText | None]] = []
    for r in rows:
        page = None
        if r.page_key is not None:
            page = FullText(url=r.url, fetched_at=r.fetched_at, ok=False, retry=True, tries=r.tries)
        out.append((_article(source_id, r), page))
    return out, total


def save_pages(
    conn: Connection,
    source_id: str,
    pages: dict[str, FullText],
    enriched: Sequence[Article],
    now: datetime,
    regions_of: Callable[[str], tuple[str, ...]],
    note: str | None,
) -> IngestStats:
    """Record fetched pages, write what they added to their entries, and note problems on
    the source's health (as a warning: the poll itself succeeded)."""
    for part in chunks(list(pages)):
        conn.execute(delete(ARTICLE_PAGES).where(P.source_id == source_id, P.key.in_(part)))
    if pages:
        conn.execute(insert(ARTICLE_PAGES), [_values(source_id, k, p) for k, p in pages.items()])
    stats = IngestStats()
    if enriched:
        # The page's body is what later copies will be compared with: index it.
        refresh_bands(conn, source_id, [(a, a.published) for a in enriched])
        conn.execute(
            update(ENTRIES).where(E.source_id == source_id, E.key == bindparam("_key")),
            [_enrichment(a, now) for a in enriched],
        )
        stories: set[int] = set()
        for part in chunks([a.key for a in enriched]):
            stories.update(
                conn.execute(
                    select(E.story_id).where(E.source_id == source_id, E.key.in_(part))
                ).scalars()
            )
        stats.updated = len(enriched)
        stats.changed_feeds = refresh_stories(conn, stories, now, regions_of)
    if note:
        _note(conn, source_id, note)
    return stats


def _note(conn: Connection, source_id: str, note: str) -> None:
    c = SOURCES.c
    row = conn.execute(select(c.warnings, c.message).where(c.id == source_id)).first()
    if row is None:
        return
    kept = [w for w in row.warnings or [] if not w.startswith("fulltext:")]
    message = f"{row.message}; {note}" if row.message else note
    conn.execute(
        SOURCES.update()
        .where(c.id == source_id)
        .values(warnings=[*kept, note][-20:], message=message[:2000])
    )


def _enrichment(a: Article, now: datetime) -> dict[str, Any]:
    return {
        "_key": a.key,
        "content": a.content,
        "text": a.text,
        "summary": a.summary,
        "author": a.author,
        "origin": a.origin,
        "published": a.published,
        "precision": a.precision.value,
        "page_canonical": a.page_canonical,
        "content_hash": a.content_hash,
        "updated_at": now,
    }


def _article(source_id: str, r: Any) -> Article:
    """The fields of a stored entry that merging with its page reads (normalise.fulltext)."""
    return Article(
        source_id=source_id,
        key=r.key,
        link=r.link,
        title=r.title,
        summary=r.summary or "",
        content=r.content or "",
        author=r.author,
        categories=tuple(r.categories or ()),
        published=r.published,
        precision=DatePrecision(r.precision),
        channels=(),
        content_hash=r.content_hash,
        origin=r.origin,
        text=r.text or "",
    )


def _page(r: Any) -> FullText:
    return FullText(
        url=r.url,
        fetched_at=r.fetched_at,
        ok=r.ok,
        message=r.message or "",
        retry=r.retry,
        tries=r.tries,
        body=r.body or "",
        text=r.text or "",
        author=r.author,
        origin=r.origin,
        published_raw=r.published_raw,
        canonical=r.canonical,
    )


def _values(source_id: str, key: str, p: FullText) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "key": key,
        "url": p.url,
        "ok": p.ok,
        "retry": p.retry,
        "tries": p.tries,
        "fetched_at": p.fetched_at,
        "message": p.message[:1000],
        "body": p.body,
        "text": p.text,
        "author": p.author[:200] if p.author else None,
        "origin": p.origin[:100] if p.origin else None,
        "published_raw": p.published_raw[:100] if p.published_raw else None,
        "canonical": p.canonical,
    }
