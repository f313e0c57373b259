"""One poll of one source, read top to bottom: fetch → parse → normalise → store.

Every failure becomes a PollResult on the source's health record; nothing here lets
one source's trouble reach another's poll.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aggregator.errors import FetchError
from aggregator.fetch import policy
from aggregator.fetch.client import Limits, NotModified, Sessions, fetch
from aggregator.model import Article, FullText, PollResult, PollStatus, Source
from aggregator.normalise import Context
from aggregator.poller import drift, fulltext
from aggregator.poller.hosts import HostGate
from aggregator.poller.pool import ParsePool
from aggregator.poller.work import Job
from aggregator.poller.writer import PollWriter
from aggregator.store import Claim, IngestStats, SourceUpdate, Store


@dataclass
class Deps:
    """What a poll needs from the process: injected, so tests can swap any of it."""

    store: Store
    sessions: Sessions  # guarded, or open for sources that allow private networks
    pool: ParsePool
    gate: HostGate
    context: Context
    clock: Callable[[], datetime]
    rng: random.Random
    # article pages being fetched, by URL, so two sources listing one story share a fetch
    pages_in_flight: dict[str, asyncio.Future[FullText]] = field(default_factory=dict)
    # records polls that stored nothing in batches; None: a transaction per poll
    writer: PollWriter | None = None


async def poll_source(claim: Claim, source: Source, deps: Deps) -> tuple[PollResult, IngestStats]:
    """Poll once and record the outcome; returns what was recorded."""
    started = deps.clock()
    t0 = time.monotonic()
    update = SourceUpdate()
    articles: tuple[Article, ...] = ()
    status, message, http_status, size, seen = PollStatus.OK, "", None, 0, 0
    retry_after: timedelta | None = None
    stored_hint = _stored_hint(claim)
    hint = stored_hint
    fetch_seconds: float | None = None
    session = deps.sessions.get(source.allow_private_networks)
    try:
        async with deps.gate.acquire(claim.url, source.per_host, source.host_gap.total_seconds()):
            limits = Limits.within(source.timeout.total_seconds(), source.max_bytes)
            t_fetch = time.monotonic()
            try:
                got = await fetch(
                    session,
                    claim.url,
                    etag=claim.etag,
                    last_modified=claim.last_modified,
                    limits=limits,
                )
            finally:
                fetch_seconds = time.monotonic() - t_fetch
    except FetchError as exc:
        status, message, http_status, size = (
            exc.status,
            exc.message,
            exc.http_status,
            exc.bytes_read,
        )
        if exc.retry_after is not None:
            retry_after = timedelta(seconds=exc.retry_after)
        update = SourceUpdate(gone=exc.status is PollStatus.GONE)
    else:
        headers = {k.lower(): v for k, v in got.headers}
        cache_hint = policy.cache_hint(headers, started)
        # The feed's own hint (ttl, sy:updatePeriod) stays true while its bytes do.
        hint = policy.longest(cache_hint, stored_hint)
        if isinstance(got, NotModified):
            status, http_status = PollStatus.NOT_MODIFIED, 304
            update = SourceUpdate(effective_url=got.permanent_url)
        else:
            http_status, size = got.status, len(got.body)
            body_hash = hashlib.sha256(got.body).hexdigest()
            validators = (got.etag, got.last_modified, body_hash)
            if body_hash == claim.body_hash:
                status, message = PollStatus.UNCHANGED, "same bytes as last time; not parsed"
                update = SourceUpdate(validators=validators, effective_url=got.permanent_url)
            else:
                job = Job(got.body, got.url, got.charset, source, deps.context, started)
                outcome = await deps.pool.run(job)
                status, message, seen = outcome.status, outcome.message, outcome.entries_seen
                layout = None
                if source.html is not None and (status.is_success or status is PollStatus.EMPTY):
                    layout = drift.judge(seen, claim.seen_counts, source.html.item)
                    if layout.status is not None:
                        status = layout.status
                        message = "; ".join(m for m in (layout.message, message) if m)
                if status.is_success:
                    articles = outcome.articles
                    if source.fulltext and articles:
                        articles = await fulltext.with_pages(source, articles, deps, started)
                    feed_hint = policy.feed_hint(outcome.ttl_minutes, outcome.update_period)
                    hint = policy.longest(cache_hint, feed_hint)
                    update = SourceUpdate(
                        # on drift, parse again next time, so the warning stays until fixed
                        validators=None if status is PollStatus.SELECTOR_DRIFT else validators,
                        effective_url=got.permanent_url,
                        feed_title=outcome.feed_title,
                        site_link=outcome.site_link,
                        hint_floor_s=feed_hint.floor.total_seconds() if feed_hint else 0.0,
                        hint_reason=feed_hint.why if feed_hint else None,
                        warnings=outcome.warnings,
                        seen_counts=layout.counts if layout else None,
                    )
                else:
                    update = SourceUpdate(
                        effective_url=got.permanent_url, warnings=outcome.warnings
                    )
    ok = status.is_success
    next_at, reason = policy.next_poll(
        started,
        source.interval,
        ok=ok,
        failures=0 if ok else claim.failures + 1,
        retry_after=retry_after,
        hint_floor=hint,
        gone=update.gone,
        rng=deps.rng,
    )
    result = PollResult(
        source_id=claim.source_id,
        status=status,
        started=started,
        duration=time.monotonic() - t0,
        message=message,
        http_status=http_status,
        bytes=size,
        entries_seen=seen,
        next_poll_at=next_at,
        next_poll_reason=reason,
        retry_after=started + retry_after if retry_after is not None else None,
        fetch_seconds=fetch_seconds,
    )
    if articles or deps.writer is None:
        stats = await deps.store.call(
            deps.store.save_poll, claim, result, update, articles, started
        )
    else:  # a 304, the same bytes, a failure: written with the others that end meanwhile
        await deps.writer.finish(claim, result, update)
        stats = IngestStats()
    if source.fulltext and status.is_success:
        report = await fulltext.follow_up(source, deps, session)
        stats.changed_feeds |= report.stats.changed_feeds
        stats.updated += report.stats.updated
        if report.note:
            result = replace(result, message="; ".join(m for m in (message, report.note) if m))
    return result, stats


def _stored_hint(claim: Claim) -> policy.Hint | None:
    """The feed's own hint as the last parsed body gave it."""
    if not claim.hint_floor_s:
        return None
    return policy.Hint(timedelta(seconds=claim.hint_floor_s), claim.hint_reason or "ttl")
