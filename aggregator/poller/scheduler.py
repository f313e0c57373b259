"""The poller: asks the store what is due, polls it within limits, logs each poll.

APScheduler ticks `Poller.tick` twice a second, and a poll that ends claims again
soon after; a claim takes as many due sources as there are free slots. When each
source is next due lives in the store (next_poll_at), so several pollers can share
one database.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from aggregator import observability as obs
from aggregator.fetch.client import Sessions
from aggregator.model import PollResult, PollStatus, Site
from aggregator.normalise import Context
from aggregator.poller.hosts import HostGate
from aggregator.poller.pipeline import Deps, poll_source
from aggregator.poller.pool import ParsePool
from aggregator.poller.retention import RETENTION_EVERY, RetentionReport, run_retention
from aggregator.poller.writer import PollWriter
from aggregator.store import Claim, IngestStats, LeaseLost, SourceUpdate, Store

log = logging.getLogger("aggregator.poll")

Listener = Callable[[PollResult, IngestStats], None]
HOST_WAIT_SECONDS = 0.25  # `poll --once`: how often to ask again while hosts are busy
REFILL_DELAY = (0.005, 0.03)  # after a poll ends, claim again this soon (random: pollers
# sharing a host take turns at its freed slots instead of the quickest taking them all)
TICK_SECONDS = 0.5  # claim what is due at least this often


def utcnow() -> datetime:
    return datetime.now(UTC)


class Poller:
    """Polls due sources with a global concurrency limit and per-host politeness."""

    def __init__(
        self,
        store: Store,
        site: Site,
        sessions: Sessions,
        pool: ParsePool,
        *,
        concurrency: int = 16,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        owner: str | None = None,
        lease: timedelta | None = None,
    ) -> None:
        self.store = store
        self.site = site
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self.lease = lease  # None: long enough for the slowest source (see _lease)
        self.deps = Deps(
            store=store,
            sessions=sessions,
            pool=pool,
            gate=HostGate(),
            context=Context(site.timezone, site.channels),
            clock=clock,
            rng=rng or random.Random(),
            writer=PollWriter(store),
        )
        self._running: set[asyncio.Task[None]] = set()
        self._claiming = asyncio.Lock()
        self._refill: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()  # refills, referenced till done
        self._backlog = False  # the last claim left due sources behind
        self._listeners: list[Listener] = []
        self._scheduler: AsyncIOScheduler | None = None
        self._lease_for: tuple[Site, float, timedelta] | None = None  # site, deadline, lease

    def on_poll(self, listener: Listener) -> None:
        """Call `listener(result, stats)` after every recorded poll (cache invalidation)."""
        self._listeners.append(listener)

    def apply(self, site: Site) -> None:
        """Use a new config from the next claim on."""
        self.site = site
        self.deps.context = Context(site.timezone, site.channels)

    # ------------------------------------------------------------ scheduling

    def start(
        self, tick_seconds: float = TICK_SECONDS, retention_every: timedelta = RETENTION_EVERY
    ) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=tick_seconds,
            jitter=tick_seconds / 2,  # pollers' ticks drift apart: each gets its turn
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="poll-tick",
            next_run_time=datetime.now(UTC),
        )
        self._scheduler.add_job(
            self.purge,
            "interval",
            seconds=retention_every.total_seconds(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            id="retention",
            next_run_time=datetime.now(UTC) + min(retention_every, timedelta(minutes=1)),
        )
        self._scheduler.start()

    async def purge(self) -> RetentionReport | None:
        """Delete articles past their source's keep_days (see poller.retention)."""
        try:
            return await run_retention(self.store, self.site, self.deps.clock())
        except Exception:
            log.exception("retention: the pass failed; the next one tries again")
            return None

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        for task in list(self._background):
            task.cancel()
        self._refill = None
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def tick(self) -> int:
        """Claim what is due and start polling it; returns how many polls started."""
        if self._claiming.locked():  # a refill is claiming right now: that is this tick
            return 0
        async with self._claiming:  # the scheduled tick and a refill never overlap
            free = self.concurrency - len(self._running)
            if free <= 0:
                self._backlog = True
                return 0
            now = self.deps.clock()
            try:
                claims = await self.store.call(
                    self.store.claim_due, now, free, self.owner, self._lease()
                )
                # Work left that this claim could not take (all slots used, or hosts at
                # their limit): claim again as soon as a poll ends, not at the next tick.
                self._backlog = len(claims) == free or bool(
                    await self.store.call(self.store.count_due, now)
                )
            except Exception:
                log.exception("poll: could not claim due sources")
                return 0
            for claim in claims:
                task = asyncio.create_task(self._poll(claim))
                self._running.add(task)
                task.add_done_callback(self._finished)
        lags = [(self.deps.clock() - c.due_at).total_seconds() for c in claims if c.due_at]
        if lags:
            obs.SCHEDULER_LAG.set(max(0.0, max(lags)))
        return len(claims)

    def _finished(self, task: asyncio.Task[None]) -> None:
        """A slot is free: with work waiting, claim again soon rather than at the next
        tick (a host at its per_host limit may have just got a request back)."""
        self._running.discard(task)
        if self._scheduler is None or self._refill is not None or not self._backlog:
            return
        loop = asyncio.get_running_loop()

        async def refill() -> None:
            await asyncio.sleep(self.deps.rng.uniform(*REFILL_DELAY))
            self._refill = None
            await self.tick()

        self._refill = task = loop.create_task(refill())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _lease(self) -> timedelta:
        if self.lease is not None:
            return self.lease
        site, deadline = self.site, self.deps.pool.deadline
        cached = self._lease_for
        if cached is not None and cached[0] is site and cached[1] == deadline:
            return cached[2]  # every claim asks: not a pass over every source each time
        longest = max((s.timeout for s in site.sources.values()), default=timedelta(seconds=20))
        lease = longest * 2 + timedelta(seconds=deadline + 30)
        self._lease_for = (site, deadline, lease)
        return lease

    async def _poll(self, claim: Claim) -> None:
        source = self.site.sources.get(claim.source_id)
        if source is None:  # removed from feeds.yaml since the claim
            await self.store.call(self.store.release, claim)
            return
        if claim.start_at is not None:  # the host's turn, booked by the claim (host_gap)
            wait = (claim.start_at - self.deps.clock()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
        try:
            result, stats = await poll_source(claim, source, self.deps)
        except LeaseLost as exc:
            log.warning("%s", exc)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug in one poll must not stop the scheduler; record it on the source.
            log.exception("poll: unexpected failure for %s", claim.source_id)
            result, stats = await self._record_crash(claim, source.interval, exc)
        try:
            obs.record_poll(result, stats, source)
        except Exception:
            log.exception("poll: could not log the poll of %s", claim.source_id)
        for listener in self._listeners:
            try:
                listener(result, stats)
            except Exception:
                log.exception("poll: listener failed")

    async def _record_crash(
        self, claim: Claim, interval: timedelta, exc: Exception
    ) -> tuple[PollResult, IngestStats]:
        now = self.deps.clock()
        result = PollResult(
            source_id=claim.source_id,
            status=PollStatus.ERROR,
            started=now,
            duration=0.0,
            message=f"unexpected {type(exc).__name__}: {str(exc)[:300]}",
            next_poll_at=now + interval,
            next_poll_reason="interval (after an internal error)",
        )
        try:
            await self.store.call(self.store.save_poll, claim, result, SourceUpdate(), ())
        except Exception:
            log.exception("poll: could not record the failure of %s", claim.source_id)
        return result, IngestStats()

    # ------------------------------------------------------------ one pass

    async def run_once(
        self,
        only: list[str] | None = None,
        progress: Callable[[PollResult, IngestStats], None] | None = None,
    ) -> list[tuple[PollResult, IngestStats]]:
        """Poll every due source once (all of them on a new database), then return."""
        done: list[tuple[PollResult, IngestStats]] = []

        def collect(result: PollResult, stats: IngestStats) -> None:
            done.append((result, stats))
            if progress is not None:
                progress(result, stats)

        self.on_poll(collect)
        give_up = time.monotonic() + self._lease().total_seconds()
        # A source attempted since the pass began was polled by it: the claim skips it by
        # its last_attempt_at, so no claim carries the list of ids still to do.
        since = self.deps.clock()
        ids = list(only or ())
        try:
            polled: set[str] = set()
            while True:
                now = self.deps.clock()
                free = self.concurrency - len(self._running)
                claims: list[Claim] = []
                # A claim reads every due row: take slots a few at a time, not one by one.
                if free >= max(1, self.concurrency // 4) or not self._running:
                    claims = await self.store.call(
                        self.store.claim_due, now, free, self.owner, self._lease(), ids, True, since
                    )
                fresh = [c for c in claims if c.source_id not in polled]
                for claim in claims:
                    if claim.source_id in polled:  # released unpolled (left feeds.yaml)
                        await self.store.call(self.store.release, claim)
                        continue
                    polled.add(claim.source_id)
                    task = asyncio.create_task(self._poll(claim))
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
                if not fresh and not self._running:
                    # Done, unless due sources wait for their host (a gap, or polls other
                    # pollers have in flight there): then wait for the host's turn.
                    if claims or time.monotonic() > give_up:
                        return done
                    if not await self.store.call(self.store.count_due, now, ids, True, since):
                        return done
                    await asyncio.sleep(HOST_WAIT_SECONDS)
                    continue
                if self._running:
                    await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._listeners.remove(collect)
