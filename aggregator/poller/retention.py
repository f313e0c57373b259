"""The retention pass: every source's old articles, a batch at a time, with pauses.

Run by the poller's scheduler every RETENTION_EVERY (one poller at a time when several
share a database) and by `aggregator db purge`. See store.retention for what a batch
deletes and what it keeps.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator import observability as obs
from aggregator.model import Site
from aggregator.store import Store
from aggregator.store.retention import BATCH

log = logging.getLogger("aggregator.retention")

RETENTION_EVERY = timedelta(hours=1)
PAUSE_SECONDS = 0.1  # between two batches: ingest and readers get the database between


@dataclass(slots=True)
class RetentionReport:
    entries: int = 0
    sources: int = 0  # sources that lost articles
    tombstones: int = 0  # expired
    changes: int = 0  # change-log rows trimmed
    skipped: bool = False  # another poller was running a pass


async def run_retention(
    store: Store, site: Site, now: datetime, *, pause: float = PAUSE_SECONDS
) -> RetentionReport:
    """Delete what is older than each source's keep_days (the defaults' for sources no
    longer configured); returns what was done."""
    report = RetentionReport()
    turn = store.retention_turn()
    allowed = await asyncio.to_thread(turn.__enter__)
    try:
        if not allowed:
            report.skipped = True
            return report
        for source_id in await store.call(store.source_ids):
            source = site.sources.get(source_id)
            keep = source.keep_days if source is not None else site.defaults.keep_days
            cutoff = now - timedelta(days=keep)
            lost = 0
            while True:
                deleted = await store.call(store.purge_batch, source_id, cutoff, now)
                lost += deleted
                if deleted < BATCH:
                    break
                await asyncio.sleep(pause)
            if lost:
                report.entries += lost
                report.sources += 1
                await asyncio.sleep(pause)
        report.tombstones = await _drain(store.expire_tombstones, store, now, pause)
        report.changes = await _drain(store.trim_changes, store, now, pause)
    finally:
        await asyncio.to_thread(turn.__exit__, None, None, None)
    obs.RETENTION.labels("entries").inc(report.entries)
    obs.RETENTION.labels("tombstones").inc(report.tombstones)
    log.info(
        "retention: %d entries of %d sources deleted, %d tombstones expired, "
        "%d change-log rows trimmed",
        report.entries,
        report.sources,
        report.tombstones,
        report.changes,
        extra={"event": "retention", "entries": report.entries, "sources": report.sources},
    )
    return report


async def _drain(step: Callable[[datetime], int], store: Store, now: datetime, pause: float) -> int:
    total = 0
    while True:
        done = await store.call(step, now)
        total += done
        if done < BATCH:
            return total
        await asyncio.sleep(pause)
