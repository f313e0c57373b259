"""A poller over two loopback hosts with a clock the test moves: the fault tests' bench.

A healthy source on 127.0.0.1 finds one more article on every request; the faulty
sources of a test live on 127.0.0.2 (another host to the per-host gate). Every round
polls whatever is due, always including the healthy source, so each test can check
that a fault never kept the healthy source from delivering in the same round.
"""

from __future__ import annotations

import random
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult

from aggregator.config import LoadedConfig, load_text
from aggregator.fetch.client import Sessions
from aggregator.model import PollResult, PollStatus
from aggregator.poller.pool import ParsePool, Work
from aggregator.poller.scheduler import Poller
from aggregator.poller.work import digest_document
from aggregator.store import IngestStats, Store
from tests.faults import growing
from tests.origin import Origin

SITE = """\
site:
  title: 临沂新闻聚合
  base_url: http://news.example.org
  timezone: Asia/Shanghai
defaults:
  interval: 1m
  timeout: 5s
  allow_private_networks: true
  per_host: 1
  host_gap: 0s
regions:
  - id: linyi
    title: 临沂市
    sources:
      - id: healthy
        title: 沂南新闻网
        url: {healthy}/healthy.xml
"""


def source(sid: str, url: str, **extra: Any) -> str:
    """One more source entry for the site's `sources:` list."""
    lines = [f"      - id: {sid}", f"        url: {url}"]
    lines += [f"        {key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


class NoDNS(AbstractResolver):
    """No name resolves (tests use IP addresses; `.invalid` names must fail, offline)."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        raise OSError(socket.EAI_NONAME, f"Name or service not known: {host}")

    async def close(self) -> None:
        return None


@dataclass
class Round:
    """One `run_once`: each source's result, and the order in which they finished."""

    results: dict[str, tuple[PollResult, IngestStats]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)

    def __getitem__(self, source_id: str) -> PollResult:
        return self.results[source_id][0]

    def new(self, source_id: str) -> int:
        return self.results[source_id][1].new

    def assert_healthy_delivered(self) -> None:
        result, stats = self.results["healthy"]
        assert result.status is PollStatus.OK, result.message
        assert stats.new >= 1


class Harness:
    def __init__(self, healthy: Origin, faults: Origin, db_url: str) -> None:
        self.healthy, self.faults, self.db_url = healthy, faults, db_url
        healthy.set("/healthy.xml", handler=growing())
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.store: Store | None = None
        self.poller: Poller | None = None
        self.session: Any = None
        self.pool: ParsePool | None = None
        self.config: LoadedConfig | None = None

    def site_text(self, sources: str) -> str:
        text = SITE.replace("{healthy}", self.healthy.url("").rstrip("/"))
        return text + sources.replace("{faults}", self.faults.url("").rstrip("/"))

    async def open(
        self,
        sources: str = "",
        *,
        workers: int = 0,
        deadline: float = 30.0,
        work: Work = digest_document,
        concurrency: int = 8,
    ) -> Harness:
        self.config = load_text(self.site_text(sources), "feeds.yaml")
        self.session = Sessions(resolver=NoDNS())
        self.pool = ParsePool(workers, deadline=deadline, work=work)
        await self.pool.start()
        self._concurrency = concurrency
        self._connect()
        return self

    def _connect(self) -> None:
        assert self.config is not None and self.pool is not None
        self.store = Store(self.db_url)
        self.store.sync_sources(self.config.site, self.now, random.Random(1))
        self.poller = Poller(
            self.store,
            self.config.site,
            self.session,
            self.pool,
            concurrency=self._concurrency,
            clock=lambda: self.now,
            rng=random.Random(2),
        )

    def reconfigure(self, sources: str) -> None:
        """The admin edits feeds.yaml: the store and poller take the new file."""
        assert self.store is not None and self.poller is not None
        self.config = load_text(self.site_text(sources), "feeds.yaml")
        self.store.sync_sources(self.config.site, self.now, random.Random(3))
        self.poller.apply(self.config.site)

    def restart(self) -> None:
        """A new process on the same database: a fresh Store and Poller."""
        assert self.store is not None
        self.store.close()
        self._connect()

    async def round(self) -> Round:
        """Poll everything due now; the healthy source is made due every time."""
        assert self.store is not None and self.poller is not None
        self.store.set_flags("healthy", next_poll_at=self.now)
        out = Round()

        def seen(result: PollResult, stats: IngestStats) -> None:
            out.results[result.source_id] = (result, stats)
            out.order.append(result.source_id)

        await self.poller.run_once(progress=seen)
        return out

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def advance_to(self, source_id: str) -> None:
        """Move the clock to when `source_id` is next due."""
        self.now = self.row(source_id).next_poll_at

    def row(self, source_id: str) -> Any:
        assert self.store is not None
        return next(r for r in self.store.health() if r.id == source_id)

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
        if self.pool is not None:
            await self.pool.close()
        if self.store is not None:
            self.store.close()
