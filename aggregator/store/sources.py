"""Sources' rows: syncing with feeds.yaml, leases for polling, and health records.

A poller claims due sources by writing a lease (owner, expiry, a fencing token that
grows with every claim) and commits before any HTTP request, so no row lock is held
during a fetch; its later write is refused when the token no longer matches.

Politeness is a database fact too: a source's live lease is a request in flight to its
host, so a claim takes a source only while its host has fewer than `per_host` of them,
and books the host's next start `host_gap` later in `hosts`, whichever poller claims.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import (
    Connection,
    Float,
    Integer,
    and_,
    bindparam,
    case,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from aggregator.errors import StoreError
from aggregator.model import PollResult, Site
from aggregator.store.tables import HOSTS, SOURCES

C, H = SOURCES.c, HOSTS.c
START_SPREAD = timedelta(
    seconds=30
)  # new sources start within this (or interval/10), not all at once
HOST_HORIZON_S = 1.0  # a claim books a host's next start at most this far ahead


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
    start_at: datetime | None = None  # the host's booked start: not before (host_gap)


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


def host_of(url: str) -> str:
    """The host politeness is counted on: the URL's host name, lower case."""
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""


def sync_sources(conn: Connection, site: Site, now: datetime, rng: random.Random) -> list[str]:
    """Make the rows match feeds.yaml: add new sources (spread out), update, deactivate removed.

    Returns the sources whose stored region changed (their stories need re-filing).
    """
    rows = {r.id: r for r in conn.execute(select(C.id, C.url, C.active, C.region, C.effective_url))}
    moved = [s.id for s in site.sources.values() if s.id in rows and rows[s.id].region != s.region]
    hosts: list[str] = []
    for src in site.sources.values():
        spread = min(START_SPREAD, src.interval / 10).total_seconds()
        row = rows.get(src.id)
        redirected = row.effective_url if row is not None and row.url == src.url else None
        host = host_of(redirected or src.url)
        hosts.append(host)
        values = {
            "url": src.url,
            "region": src.region,
            "name": src.title or "",
            "kind": src.type,
            "interval_s": src.interval.total_seconds(),
            "active": True,
            "host": host,
            "per_host": max(src.per_host, 1),
            "host_gap_s": src.host_gap.total_seconds(),
        }
        if row is None:
            # Pollers starting together each add it: the first one wins, the rest skip.
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            conn.execute(
                insert(SOURCES)
                .values(
                    id=src.id,
                    next_poll_at=now + timedelta(seconds=rng.uniform(0, spread)),
                    created_at=now,
                    **values,
                )
                .on_conflict_do_nothing(index_elements=[C.id])
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
    add_hosts(conn, hosts)
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
    not_since: datetime | None = None,
) -> list[Claim]:
    """Lease up to `limit` due sources atomically, within each host's limits.

    On PostgreSQL a claim first locks the `hosts` rows of due sources, skipping those
    another claim holds (SKIP LOCKED), so two pollers never both count a host as free
    and never wait for each other; then one statement leases the sources:
    `WITH due AS MATERIALIZED (SELECT id … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE
    sources … FROM due WHERE sources.id = due.id`, which can take no more than `n`
    rows. On SQLite the caller's BEGIN IMMEDIATE makes this one writer. `include_new`
    also takes sources never polled yet, whatever their start time (`poll --once` on
    a new database polls everything). `not_since` skips sources attempted at or after
    it: a pass (`poll --once`) takes each source once without listing the ids it did.
    """
    if limit <= 0:
        return []
    postgres = conn.dialect.name == "postgresql"
    now_s = now.timestamp()
    shape = Shape(bool(only), include_new, not_since is not None)
    params: dict[str, Any] = {"now": now, "now_s": now_s, "limit": limit}
    if only:
        params["only"] = list(only)
    if not_since is not None:
        params["not_since"] = not_since
    if postgres:
        hosts = list(conn.execute(_lock_hosts_statement(shape), params).scalars())
        if not hosts:
            return []
        params["hosts"] = hosts
    else:
        # First among the earliest due rows only (an index range, not every due row);
        # when host limits leave that short of `limit`, among them all.
        params["window"] = limit * 4 + 32
        ids = list(conn.execute(_pick_statement(shape, False, True), params).scalars())
        if len(ids) < limit:
            ids = list(conn.execute(_pick_statement(shape, False), params).scalars())
        if not ids:
            return []
        params["ids"] = ids
    expires = now + lease
    params.update(owner=owner, expires=expires)
    rows = conn.execute(_lease_statement(shape, postgres), params).all()
    starts = _book_hosts(conn, [(r.host, r.host_gap_s) for r in rows if r.host_gap_s > 0], now_s)
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
            start_at=starts.get(r.host) if r.host_gap_s > 0 else None,
        )
        for r in rows
    ]
    claims.sort(key=lambda c: c.source_id)
    return claims


def count_due(
    conn: Connection,
    now: datetime,
    only: Sequence[str] = (),
    include_new: bool = False,
    not_since: datetime | None = None,
) -> int:
    """How many sources are due and not leased, whatever their hosts' limits."""
    shape = Shape(bool(only), include_new, not_since is not None)
    stmt = select(func.count()).select_from(SOURCES).where(_due(shape))
    params = {"now": now, "only": list(only), "not_since": not_since}
    return int(conn.scalar(stmt, params) or 0)


class Shape(NamedTuple):
    """Which filters a claim has: its statements are built once per shape, with the
    values as parameters (building them took most of a claim's time)."""

    only: bool  # only the ids in the "only" parameter
    include_new: bool
    not_since: bool  # only sources not attempted since the "not_since" parameter


NOW: Any = bindparam("now", type_=C.next_poll_at.type)
NOW_S: Any = bindparam("now_s", type_=Float)
SINCE: Any = bindparam("not_since", type_=C.last_attempt_at.type)
ONLY: Any = bindparam("only", expanding=True)
RETURNED = (
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
    C.host,
    C.host_gap_s,
)


@functools.cache
def _pick_statement(shape: Shape, postgres: bool, windowed: bool = False) -> Any:
    """The ids to lease: the earliest due within their hosts' limits, at most "limit".

    `windowed` ranks only the "window" earliest due rows: a host's rows among them are
    its earliest, so their ranks are the same as among all due rows, and when this finds
    "limit" rows they are the very rows the whole query would pick.
    """
    hosts: Any = bindparam("hosts", expanding=True) if postgres else None
    allowed = _within_host_limits(shape, hosts, windowed)
    pick = select(C.id).where(C.id.in_(allowed))
    return pick.order_by(C.next_poll_at, C.id).limit(bindparam("limit", type_=Integer))


@functools.cache
def _lease_statement(shape: Shape, postgres: bool) -> Any:
    """Lease the picked sources (PostgreSQL: picked and leased in one statement)."""
    if postgres:
        due = (
            _pick_statement(shape, True)
            .with_for_update(skip_locked=True)
            .cte("due")
            .prefix_with("MATERIALIZED")
        )
        stmt = SOURCES.update().where(C.id == due.c.id)
    else:
        stmt = SOURCES.update().where(C.id.in_(bindparam("ids", expanding=True)))
    return stmt.values(
        lease_owner=bindparam("owner"),
        lease_token=C.lease_token + 1,
        lease_expires=bindparam("expires", type_=C.lease_expires.type),
    ).returning(*RETURNED)


def _due(shape: Shape) -> Any:
    due = and_(
        C.active.is_(True),
        C.paused.is_(False),
        C.gone.is_(False),
        or_(C.next_poll_at <= NOW, C.last_attempt_at.is_(None))
        if shape.include_new
        else C.next_poll_at <= NOW,
        or_(C.lease_expires.is_(None), C.lease_expires < NOW),
    )
    if shape.only:
        due = and_(due, C.id.in_(ONLY))
    if shape.not_since:
        due = and_(due, or_(C.last_attempt_at.is_(None), C.last_attempt_at < SINCE))
    return due


@functools.cache
def _lock_hosts_statement(shape: Shape) -> Any:
    """Lock up to "limit" hosts with due sources, earliest due first, that no other claim
    holds now and whose next start is near (PostgreSQL; released at commit)."""
    due_hosts = (
        select(C.host, func.min(C.next_poll_at).label("first"))
        .where(_due(shape))
        .group_by(C.host)
        .subquery("due_hosts")
    )
    return (
        select(H.host)
        .join(due_hosts, due_hosts.c.host == H.host)
        .where(H.next_start_s <= NOW_S + HOST_HORIZON_S)
        .order_by(due_hosts.c.first, H.host)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(of=HOSTS, skip_locked=True)
    )


def add_hosts(conn: Connection, hosts: Sequence[str]) -> None:
    """Give every host a row (claims lock it); existing ones are left as they are."""
    if not hosts:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    rows = [{"host": h, "next_start_s": 0.0} for h in sorted(set(hosts))]
    conn.execute(insert(HOSTS).on_conflict_do_nothing(index_elements=[H.host]), rows)


def _within_host_limits(shape: Shape, hosts: Any = None, windowed: bool = False) -> Any:
    """Ids of due sources whose host can take one more request now.

    A host's live leases are its requests in flight: the k-th due source of a host is
    allowed while k + in flight <= per_host. With a host_gap, one per host per claim,
    and only when the host's next start is booked no further than HOST_HORIZON_S ahead.
    """
    busy = (
        select(C.host, func.count().label("n"))
        .where(C.lease_expires >= NOW)
        .group_by(C.host)
        .subquery("busy")
    )
    ranked = (
        select(
            C.id,
            C.host,
            C.per_host,
            C.host_gap_s,
            func.row_number()
            .over(partition_by=C.host, order_by=(C.next_poll_at, C.id))
            .label("rn"),
        )
        .where(
            _due(shape),
            C.host.in_(hosts) if hosts is not None else true(),
            C.id.in_(
                select(C.id)
                .where(_due(shape))
                .order_by(C.next_poll_at, C.id)
                .limit(bindparam("window", type_=Integer))
            )
            if windowed
            else true(),
        )
        .subquery("ranked")
    )
    R, B = ranked.c, busy.c
    return (
        select(R.id)
        .select_from(ranked.outerjoin(busy, B.host == R.host).outerjoin(HOSTS, H.host == R.host))
        .where(
            R.rn + func.coalesce(B.n, 0) <= R.per_host,
            or_(
                R.host_gap_s <= 0,
                and_(
                    R.rn == 1,
                    or_(H.next_start_s.is_(None), H.next_start_s <= NOW_S + HOST_HORIZON_S),
                ),
            ),
        )
    )


def _book_hosts(
    conn: Connection, picked: Sequence[tuple[str, float]], now_s: float
) -> dict[str, datetime]:
    """Book each host's next start `host_gap` after this one; returns when each may start."""
    if not picked:
        return {}
    gaps = dict(picked)
    booked = {
        r.host: r.next_start_s
        for r in conn.execute(select(H.host, H.next_start_s).where(H.host.in_(list(gaps))))
    }
    starts: dict[str, datetime] = {}
    rows = []
    for host, gap in gaps.items():
        start = max(now_s, booked.get(host) or 0.0)
        starts[host] = datetime.fromtimestamp(start, UTC)
        rows.append({"host": host, "next_start_s": start + gap})
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(HOSTS).values(rows)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[H.host], set_={"next_start_s": stmt.excluded.next_start_s}
        )
    )
    return starts


def _outcome(result: PollResult, update_: SourceUpdate) -> dict[str, Any]:
    """The columns every poll sets, as plain values (the failure count aside)."""
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
        "next_poll_at": result.next_poll_at,
        "next_poll_reason": result.next_poll_reason,
        "retry_after": result.retry_after,
        "lease_owner": None,
        "lease_expires": None,
        "warnings": list(update_.warnings) or None,
    }
    if ok:
        values["consecutive_failures"] = 0
        values["last_success_at"] = result.started
        if result.entries_seen or result.status.value == "ok":
            values["entries_seen_last"] = result.entries_seen
    if update_.validators is not None:
        values["etag"], values["last_modified"], values["body_hash"] = update_.validators
    return values


def finish_poll(
    conn: Connection, claim: Claim, result: PollResult, update_: SourceUpdate, new_entries: int
) -> None:
    """Record a poll's outcome and release the lease; refused if the lease was lost."""
    values = _outcome(result, update_)
    values["entries_new_last"] = new_entries
    values["entries_total"] = C.entries_total + new_entries
    if not result.status.is_success:
        values["consecutive_failures"] = C.consecutive_failures + 1
    if update_.effective_url:
        values["effective_url"] = update_.effective_url
        values["host"] = host_of(update_.effective_url)
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
    if update_.effective_url:
        add_hosts(conn, [host_of(update_.effective_url)])


def _simple(update_: SourceUpdate) -> bool:
    """Nothing but the outcome and validators to write (every 304 and same-bytes poll)."""
    return update_ == SourceUpdate(validators=update_.validators, warnings=update_.warnings)


def finish_polls(
    conn: Connection, polls: Sequence[tuple[Claim, PollResult, SourceUpdate]]
) -> list[bool]:
    """Record polls that stored no articles: one executemany per shape of row, so a batch
    of 304s costs one statement. Each is True when recorded, False when its lease was lost.

    Which leases still hold is read first, in one statement that locks the rows
    (PostgreSQL: FOR UPDATE; SQLite: the caller's BEGIN IMMEDIATE makes this the one
    writer), so only rows whose update must match are written: no savepoint per batch
    to roll back when one lease was lost."""
    if not polls:
        return []
    held = _leases_held(conn, [c for c, _, _ in polls])
    recorded = [(c.source_id, c.token, c.owner) in held for c, _, _ in polls]
    shapes: dict[tuple[bool, tuple[str, ...]], list[dict[str, Any]]] = {}
    for i, (claim, result, update_) in enumerate(polls):
        if not recorded[i]:
            continue
        if not _simple(update_):
            finish_poll(conn, claim, result, update_, 0)  # its lease holds: it cannot fail
            continue
        row = _outcome(result, update_)
        row["entries_new_last"] = 0
        key = (result.status.is_success, tuple(sorted(row)))
        row.update(_id=claim.source_id, _token=claim.token, _owner=claim.owner)
        shapes.setdefault(key, []).append(row)
    for (ok, _), rows in shapes.items():
        done = conn.execute(_finish_statement(ok), rows)
        if done.rowcount != len(rows):  # the rows are locked: only a bug gets here
            raise StoreError(f"store: recorded {done.rowcount} of {len(rows)} polls")
    return recorded


def _leases_held(conn: Connection, claims: Sequence[Claim]) -> set[tuple[str, int, str]]:
    """(id, token, owner) of these claims' rows as they stand, locked till commit."""
    stmt = _leases_statement(conn.dialect.name == "postgresql")
    rows = conn.execute(stmt, {"ids": [c.source_id for c in claims]})
    return {(r.id, r.lease_token, r.lease_owner) for r in rows}


@functools.cache
def _leases_statement(postgres: bool) -> Any:
    stmt = select(C.id, C.lease_token, C.lease_owner).where(
        C.id.in_(bindparam("ids", expanding=True))
    )
    return stmt.with_for_update() if postgres else stmt


@functools.cache
def _finish_statement(ok: bool) -> Any:
    """The UPDATE a batch's rows of one shape go through (built once: statements built
    per batch cost their cache key each time)."""
    stmt = update(SOURCES).where(
        C.id == bindparam("_id"),
        C.lease_token == bindparam("_token"),
        C.lease_owner == bindparam("_owner"),
    )
    if not ok:
        stmt = stmt.values(consecutive_failures=C.consecutive_failures + 1)
    return stmt


def health(conn: Connection) -> list[Any]:
    """Every source's row, active ones first, for /api/sources and `aggregator status`."""
    return list(conn.execute(select(SOURCES).order_by(C.active.desc(), C.id)))


def set_flags(conn: Connection, source_id: str, **flags: Any) -> bool:
    """Pause, resume, poll-now or clear backoff for one source; False if unknown."""
    done = conn.execute(SOURCES.update().where(C.id == source_id).values(**flags))
    return done.rowcount == 1
