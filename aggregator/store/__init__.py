"""The Store facade: every database operation the service performs, one method each.

Methods are synchronous and run one transaction each; async code awaits them through
`Store.call`, which runs them on the store's own threads (one thread on SQLite: one
writer at a time, as SQLite wants).
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import DBAPIError

from aggregator.model import Article, Cursor, FeedItem, FeedQuery, FullText, PollResult, Site
from aggregator.store import feeds, migrate, pages, paging, refile, retention, sources
from aggregator.store.engine import Checkpointer, make_engine
from aggregator.store.explain import StoryRecord, read_story
from aggregator.store.ingest import IngestStats, ingest
from aggregator.store.notify import ChangeListener, notify
from aggregator.store.refile import Refiled
from aggregator.store.sources import Claim, LeaseLost, SourceUpdate
from aggregator.store.tables import ENTRIES, FEED_CHANGES, SOURCES, STORIES

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])
READERS = 2  # threads for reads, beside the writers'


def reading(fn: F) -> F:
    """Marks a method that only reads: `Store.call` runs it on the readers' threads, so a
    feed request never queues behind polls' writes (one writer thread on SQLite, where
    WAL lets readers run beside the writer)."""
    fn._store_reads = True  # type: ignore[attr-defined]
    return fn


__all__ = ["Claim", "IngestStats", "LeaseLost", "Refiled", "SourceUpdate", "Store", "StoryRecord"]


class Store:
    """One database (SQLite file or PostgreSQL) shared by pollers and servers."""

    def __init__(self, url: str, *, create: bool = True) -> None:
        """Open a database; an empty one gets the schema when `create`, an older or
        newer schema is refused (StoreError says what to run)."""
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        try:
            migrate.ensure(self.engine, create=create)
        except Exception:
            self.engine.dispose()
            raise
        threads = 1 if self.dialect == "sqlite" else 4
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="store")
        self._readers = ThreadPoolExecutor(READERS, thread_name_prefix="store-read")
        self._regions: dict[str, tuple[str, ...]] = {}
        self._site: Site | None = None
        self.checkpointer = Checkpointer(self.engine) if self.dialect == "sqlite" else None

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.engine.dispose()

    async def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a store method on the store's threads (the readers' for `reading` ones)."""
        loop = asyncio.get_running_loop()
        pool = self._readers if getattr(fn, "_store_reads", False) else self._executor
        return await loop.run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    def _write(self) -> Any:
        return self.engine.connect().execution_options(write=True)

    # ---------------------------------------------------------------- config

    def configure(self, site: Site) -> None:
        """Use this config's region tree for feed membership from now on."""
        stored = self._stored_regions()
        regions = {
            sid: site.ancestors(region) if region in site.regions else (region,)
            for sid, region in stored.items()
            if region
        }
        regions.update({s.id: site.ancestors(s.region) for s in site.sources.values()})
        self._regions = regions
        self._site = site

    def _stored_regions(self) -> dict[str, str]:
        with self.engine.connect() as conn:
            return {r.id: r.region for r in conn.execute(select(sources.C.id, sources.C.region))}

    def regions_of(self, source_id: str) -> tuple[str, ...]:
        return self._regions.get(source_id, ())

    def sync_sources(
        self, site: Site, now: datetime, rng: random.Random | None = None
    ) -> list[str]:
        """Make the sources' rows match the config; returns those whose region changed."""
        with self._write() as conn, conn.begin():
            moved = sources.sync_sources(conn, site, now, rng or random.Random())
        self.configure(site)
        return moved

    def refile_sources(
        self, source_ids: Sequence[str], now: datetime, batch: int = refile.BATCH
    ) -> Refiled:
        """Recompute the feed membership of every story these sources have a copy of.

        One transaction per batch of stories; run after `configure` gave them new regions.
        """
        done, after = Refiled(), 0
        while source_ids:
            ids, part = self._retrying(
                functools.partial(
                    refile.refile_batch,
                    source_ids=source_ids,
                    after=after,
                    limit=batch,
                    now=now,
                    regions_of=self.regions_of,
                )
            )
            if not ids:
                break
            done.add(part)
            after = ids[-1]
        return done

    def reclassify(
        self,
        site: Site,
        now: datetime,
        batch: int = refile.BATCH,
        progress: Callable[[Refiled], None] | None = None,
    ) -> Refiled:
        """Apply the channel rules of `site` to every stored entry, a batch at a time."""
        done, after = Refiled(), 0
        while True:
            last, part = self._retrying(
                functools.partial(
                    refile.reclassify_batch,
                    after=after,
                    limit=batch,
                    site=site,
                    now=now,
                    regions_of=self.regions_of,
                )
            )
            if last is None:
                return done
            done.add(part)
            after = last
            if progress is not None:
                progress(part)

    def _retrying(self, work: Callable[[Connection], R], attempts: int = 3) -> R:
        """Run `work` in a write transaction, again when a concurrent writer made it fail.

        Re-filing rewrites rows a poll may be writing at the same moment (PostgreSQL can
        refuse one of the two); the work is idempotent, so it is simply done again.
        """
        for attempt in range(attempts):
            try:
                with self._write() as conn, conn.begin():
                    return work(conn)
            except DBAPIError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def bring_forward(self, source_id: str, interval: timedelta, now: datetime) -> bool:
        """Poll sooner after an interval was shortened (see refile.bring_forward)."""
        with self._write() as conn, conn.begin():
            return refile.bring_forward(conn, source_id, interval, now) is not None

    # ---------------------------------------------------------------- polling

    def claim_due(
        self,
        now: datetime,
        limit: int,
        owner: str,
        lease: timedelta,
        only: Sequence[str] = (),
        include_new: bool = False,
        not_since: datetime | None = None,
    ) -> list[Claim]:
        with self._write() as conn, conn.begin():
            return sources.claim_due(
                conn,
                now,
                limit,
                owner,
                lease,
                only=only,
                include_new=include_new,
                not_since=not_since,
            )

    def count_due(
        self,
        now: datetime,
        only: Sequence[str] = (),
        include_new: bool = False,
        not_since: datetime | None = None,
    ) -> int:
        with self.engine.connect() as conn:
            return sources.count_due(conn, now, only, include_new, not_since)

    def save_poll(
        self,
        claim: Claim,
        result: PollResult,
        update: SourceUpdate,
        articles: Sequence[Article] = (),
        now: datetime | None = None,
    ) -> IngestStats:
        """Store a poll's articles and its source's new state in one transaction."""
        now = now or result.started
        with self._write() as conn, conn.begin():
            # The row is written first: it checks the lease and locks the source.
            sources.finish_poll(conn, claim, result, update, 0)
            stats = IngestStats()
            if articles:
                dedupe = self._site.dedupe if self._site is not None else None
                stats = ingest(conn, claim.source_id, articles, now, self.regions_of, dedupe)
                if stats.new:
                    conn.execute(
                        SOURCES.update()
                        .where(sources.C.id == claim.source_id)
                        .values(
                            entries_new_last=stats.new,
                            entries_total=sources.C.entries_total + stats.new,
                        )
                    )
                if stats.changed_feeds:
                    notify(conn)  # servers listening read the change log at once
            return stats

    def finish_polls(self, polls: Sequence[tuple[Claim, PollResult, SourceUpdate]]) -> list[bool]:
        """Record polls that stored no articles (304, same bytes, failures) in one
        transaction; each is True when recorded, False when its lease was lost."""
        with self._write() as conn, conn.begin():
            return sources.finish_polls(conn, polls)

    def pages_for(self, source_id: str, keys: Sequence[str]) -> dict[str, FullText]:
        """The article pages already fetched for these entries (fulltext sources)."""
        with self.engine.connect() as conn:
            return pages.pages_for(conn, source_id, keys)

    def pages_at(self, urls: Sequence[str]) -> dict[str, FullText]:
        """Pages already read well at these URLs, by any source."""
        with self.engine.connect() as conn:
            return pages.pages_at(conn, urls)

    def pages_wanted(
        self, source_id: str, limit: int
    ) -> tuple[list[tuple[Article, FullText | None]], int]:
        """Stored entries whose article page is still to fetch (newest first), and how many."""
        with self.engine.connect() as conn:
            return pages.pages_wanted(conn, source_id, limit)

    def save_pages(
        self,
        source_id: str,
        fetched: dict[str, FullText],
        articles: Sequence[Article],
        now: datetime,
        note: str | None = None,
    ) -> IngestStats:
        """Record fetched article pages and the articles they enriched, in one transaction."""
        with self._write() as conn, conn.begin():
            stats = pages.save_pages(conn, source_id, fetched, articles, now, self.regions_of, note)
            if stats.changed_feeds:
                notify(conn)
            return stats

    def release(self, claim: Claim) -> None:
        """Give a lease back without recording a poll (shutdown)."""
        with self._write() as conn, conn.begin():
            conn.execute(
                SOURCES.update()
                .where(sources.C.id == claim.source_id, sources.C.lease_token == claim.token)
                .values(lease_owner=None, lease_expires=None)
            )

    def set_flags(self, source_id: str, **flags: Any) -> bool:
        with self._write() as conn, conn.begin():
            return sources.set_flags(conn, source_id, **flags)

    def source(self, source_id: str) -> Any | None:
        """One source's row (as in `health`), or None when the id is unknown."""
        with self.engine.connect() as conn:
            return conn.execute(select(SOURCES).where(SOURCES.c.id == source_id)).first()

    # ---------------------------------------------------------------- retention

    def source_ids(self) -> list[str]:
        """Every source with a row, configured or not (their articles age too)."""
        return list(self._stored_regions())

    def purge_batch(self, source_id: str, cutoff: datetime, now: datetime) -> int:
        """One short transaction of retention (store.retention.purge_batch)."""
        with self._write() as conn, conn.begin():
            deleted, changed = retention.purge_batch(conn, source_id, cutoff, now, self.regions_of)
            if changed:
                notify(conn)
            return deleted

    def expire_tombstones(self, now: datetime) -> int:
        with self._write() as conn, conn.begin():
            return retention.expire_tombstones(conn, now)

    def trim_changes(self, now: datetime) -> int:
        with self._write() as conn, conn.begin():
            return retention.trim_changes(conn, now)

    def retention_turn(self) -> Any:
        """A context manager: True when this process may run a retention pass now."""
        return retention.one_at_a_time(self.engine)

    # ---------------------------------------------------------------- reading

    @reading
    def read_page(self, query: FeedQuery, guid_prefix: str) -> tuple[list[FeedItem], Cursor | None]:
        with self.engine.connect() as conn:
            return feeds.read_page(conn, query, guid_prefix)

    @reading
    def newer_page(self, feed_key: str, first: Cursor, size: int) -> Cursor | None:
        """The cursor of the page just newer than one starting at `first` (None: the first)."""
        with self.engine.connect() as conn:
            return paging.newer_page(conn, feed_key, first, size)

    @reading
    def story(self, story_id: int, guid_prefix: str) -> StoryRecord | None:
        """One story, its copies and its feeds (GET /api/articles/{id})."""
        with self.engine.connect() as conn:
            return read_story(conn, story_id, guid_prefix)

    @reading
    def health(self) -> list[Any]:
        with self.engine.connect() as conn:
            return sources.health(conn)

    def change_listener(self) -> ChangeListener:
        """What a server waits on between two reads of the change log (store.notify)."""
        return ChangeListener(self.engine)

    @reading
    def last_change(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.max(FEED_CHANGES.c.seq))) or 0)

    @reading
    def changes_since(self, seq: int) -> tuple[int, set[str]]:
        """Feeds changed after `seq`, and the newest seq seen."""
        with self.engine.connect() as conn:
            return _changes_since(conn, seq)

    @reading
    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                "entries": int(conn.scalar(select(func.count()).select_from(ENTRIES)) or 0),
                "stories": int(conn.scalar(select(func.count()).select_from(STORIES)) or 0),
            }


def _changes_since(conn: Connection, seq: int) -> tuple[int, set[str]]:
    c = FEED_CHANGES.c
    rows = conn.execute(
        select(c.seq, c.feed_key).where(c.seq > seq).order_by(c.seq).limit(10000)
    ).all()
    if not rows:
        return seq, set()
    return rows[-1].seq, {r.feed_key for r in rows}
