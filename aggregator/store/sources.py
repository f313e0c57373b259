"""Sources' rows: syncing with feeds.yaml, leases for polling, and health records.

A poller claims due sources by writing a lease (owner, expiry, a fencing token that
grows with every claim) and commits before any HTTP request, so no row lock is held
during a fetch; its later write is refused when the token no longer matches.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, or_, select, update

from aggregator.errors import StoreError
from aggregator.model import PollResult, Site
from aggregator.store.tables import SOURCES

C = SOURCES.c
START_SPREAD = timedelta(
    seconds=30
)  # new sources start within this (or interval/10), not all at once


class LeaseLost(StoreError):
    """The lease expired and another poller took the source: this write is refused."""


@dataclass(frozen=True, slots=True)
class Claim:
    """A source this poller owns until `expires`, with what a conditional GET needs."""

    source_id: str
    url: str  # the effective URL: configured, or where a permanent redirect led
    token: int
    owner: str
    expires: datetime
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    failures: int
    entries_total: int
    entries_seen_last: int
    hint_floor_s: float | None = None
    due_at: datetime | None = None
    hint_reason: str | None = None
    seen_counts: tuple[int, ...] = ()  # entries found by recent polls (html layout drift)


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """What a poll changes on a source's row besides its health and articles."""

    validators: tuple[str | None, str | None, str | None] | None = None  # etag, lm, body hash
    effective_url: str | None = None  # set when a 301/308 moved the source
    feed_title: str | None = None
    site_link: str | None = None
    hint_floor_s: float | None = None  # the feed's own hint; 0 clears it
    hint_reason: str | None = None
    due_at: datetime | None = None
    gone: bool = False
    warnings: tuple[str, ...] = ()
    seen_counts: tuple[int, ...] | None = None


def sync_sources(conn: Connection, site: Site, now: datetime, rng: random.Random) -> list[str]:
    """Make the rows match feeds.yaml: add new sources (spread out), update, deactivate removed.

    Returns the sources whose stored region changed (their stories need re-filing).
    """
    rows = {r.id: r for r in conn.execute(select(C.id, C.url, C.active, C.region))}
    moved = [s.id for s in site.sources.values() if s.id in rows and rows[s.id].region != s.region]
    for src in site.sources.values():
        spread = min(START_SPREAD, src.interval / 10).total_seconds()
        values = {
            "url": src.url,
            "region": src.region,
            "name": src.title or "",
            "kind": src.type,
            "interval_s": src.interval.total_seconds(),
            "active": True,
        }
        row = rows.get(src.id)
        if row is None:
            conn.execute(
                SOURCES.insert().values(
                    id=src.id,
                    next_poll_at=now + timedelta(seconds=rng.uniform(0, spread)),
                    created_at=now,
                    **values,
                )
            )
        else:
            if row.url != src.url:
                # The admin edited the URL: forget the old redirect, validators, backoff and
                # a 410, and poll the new address soon (a gone source was due in 100 years).
                values.update(
                    effective_url=None,
                    etag=None,
                    last_modified=None,
                    body_hash=None,
                    gone=False,
                    consecutive_failures=0,
                    retry_after=None,
                    hint_floor_s=None,
                    hint_reason=None,
                    next_poll_at=now + timedelta(seconds=rng.uniform(0, spread)),
                    next_poll_reason="url changed in feeds.yaml",
                )
            conn.execute(SOURCES.update().where(C.id == src.id).values(**values))
    removed = [sid for sid, r in rows.items() if r.active and sid not in site.sources]
    if removed:
        conn.execute(SOURCES.update().where(C.id.in_(removed)).values(active=False))
    return moved


def claim_due(
    conn: Connection,
    now: datetime,
    limit: int,
    owner: str,
    lease: timedelta,
    *,
    only: Sequence[str] = (),
    include_new: bool = False,
) -> list[Claim]:
    """Lease up to `limit` due sources atomically (SKIP LOCKED on PostgreSQL).

    `include_new` also takes sources never polled yet, whatever their start time
    (`poll --once` on a new database polls everything).
    """
    if limit <= 0:
        return []
    due = and_(
        C.active.is_(True),
        C.paused.is_(False),
        C.gone.is_(False),
        or_(C.next_poll_at <= now, C.last_attempt_at.is_(None))
        if include_new
        else C.next_poll_at <= now,
        or_(C.lease_expires.is_(None), C.lease_expires < now),
    )
    if only:
        due = and_(due, C.id.in_(list(only)))
    pick = select(C.id).where(due).order_by(C.next_poll_at, C.id).limit(limit)
    if conn.dialect.name == "postgresql":
        picked = pick.with_for_update(skip_locked=True).cte("due")
        where = C.id == picked.c.id
        stmt = SOURCES.update().where(where)
    else:  # SQLite: the caller's BEGIN IMMEDIATE makes this one writer at a time
        ids = list(conn.execute(pick).scalars())
        if not ids:
            return []
        stmt = SOURCES.update().where(C.id.in_(ids))
    expires = now + lease
    rows = conn.execute(
        stmt.values(
            lease_owner=owner, lease_token=C.lease_token + 1, lease_expires=expires
        ).returning(
            C.id,
            C.url,
            C.effective_url,
            C.lease_token,
            C.etag,
            C.last_modified,
            C.body_hash,
            C.consecutive_failures,
            C.entries_total,
            C.entries_seen_last,
            C.hint_floor_s,
            C.hint_reason,
            C.next_poll_at,
            C.seen_counts,
        )
    ).all()
    claims = [
        Claim(
            source_id=r.id,
            url=r.effective_url or r.url,
            token=r.lease_token,
            owner=owner,
            expires=expires,
            etag=r.etag,
            last_modified=r.last_modified,
            body_hash=r.body_hash,
            failures=r.consecutive_failures,
            entries_total=r.entries_total,
            entries_seen_last=r.entries_seen_last,
            hint_floor_s=r.hint_floor_s,
            hint_reason=r.hint_reason,
            due_at=r.next_poll_at,
            seen_counts=tuple(r.seen_counts or ()),
        )
        for r in rows
    ]
    claims.sort(key=lambda c: c.source_id)
    return claims


def finish_poll(
    conn: Connection, claim: Claim, result: PollResult, update_: SourceUpdate, new_entries: int
) -> None:
    """Record a poll's outcome and release the lease; refused if the lease was lost."""
    ok = result.status.is_success
    values: dict[str, Any] = {
        "status": result.status.value,
        "message": result.message[:2000] or None,
        "http_status": result.http_status,
        "last_attempt_at": result.started,
        "fetch_seconds": round(
            result.fetch_seconds if result.fetch_seconds is not None else result.duration, 4
        ),
        "bytes_last": result.bytes,
        "entries_new_last": new_entries,
        "entries_total": C.entries_total + new_entries,
        "next_poll_at": result.next_poll_at,
        "next_poll_reason": result.next_poll_reason,
        "retry_after": result.retry_after,
        "lease_owner": None,
        "lease_expires": None,
        "consecutive_failures": 0 if ok else C.consecutive_failures + 1,
        "warnings": list(update_.warnings) or None,
    }
    if ok:
        values["last_success_at"] = result.started
        if result.entries_seen or result.status.value == "ok":
            values["entries_seen_last"] = result.entries_seen
    if update_.validators is not None:
        values["etag"], values["last_modified"], values["body_hash"] = update_.validators
    if update_.effective_url:
        values["effective_url"] = update_.effective_url
    if update_.feed_title:
        values["feed_title"] = update_.feed_title[:300]
        values["name"] = case((C.name == "", update_.feed_title[:300]), else_=C.name)
    if update_.site_link:
        values["site_link"] = update_.site_link
    if update_.hint_floor_s is not None:
        values["hint_floor_s"] = update_.hint_floor_s
        values["hint_reason"] = update_.hint_reason
    if update_.gone:
        values["gone"] = True
    if update_.seen_counts is not None:
        values["seen_counts"] = list(update_.seen_counts)
    done = conn.execute(
        update(SOURCES)
        .where(C.id == claim.source_id, C.lease_token == claim.token, C.lease_owner == claim.owner)
        .values(**values)
    )
    if done.rowcount != 1:
        raise LeaseLost(f"store: lease on {claim.source_id!r} (token {claim.token}) was lost")


def health(conn: Connection) -> list[Any]:
    """Every source's row, active ones first, for /api/sources and `aggregator status`."""
    return list(conn.execute(select(SOURCES).order_by(C.active.desc(), C.id)))


def set_flags(conn: Connection, source_id: str, **flags: Any) -> bool:
    """Pause, resume, poll-now or clear backoff for one source; False if unknown."""
    done = conn.execute(SOURCES.update().where(C.id == source_id).values(**flags))
    return done.rowcount == 1
