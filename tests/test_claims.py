"""Claims on SQLite and PostgreSQL: never more than asked, never one source twice, and the
per-host limits held across pollers by the database (in-flight leases, booked starts)."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from aggregator.config import load_text
from aggregator.model import PollStatus
from aggregator.store import SourceUpdate, Store
from aggregator.store.tables import HOSTS, SOURCES
from tests.factories import NOW, poll_result

LEASE = timedelta(minutes=2)


def site(*hosts: tuple[str, int, int, str], timeout: str | None = None):
    """Sources on hosts: (host, how many, per_host, host_gap), each with `timeout` if given."""
    lines = [
        "site: {title: t, base_url: http://news.example.org}",
        "defaults: {interval: 1m}",
        "regions:",
        "  - id: r",
        "    title: R",
        "    sources:",
    ]
    for host, count, per_host, gap in hosts:
        for i in range(count):
            lines += [
                f"      - id: {host.split('.')[0]}-{i:02d}",
                f"        url: http://{host}/feed{i}.xml",
                f"        per_host: {per_host}",
                f"        host_gap: {gap}",
            ]
            lines += [f"        timeout: {timeout}"] if timeout else []
    return load_text("\n".join(lines) + "\n", "feeds.yaml").site


def open_store(url: str, *hosts: tuple[str, int, int, str]) -> Store:
    store = Store(url)
    store.sync_sources(site(*hosts), NOW - timedelta(hours=1), random.Random(1))
    return store


def hosts_of(claims) -> list[str]:
    return sorted(c.source_id.split("-")[0] for c in claims)


def test_a_claim_takes_no_more_than_asked_and_never_a_leased_source(db_url: str) -> None:
    store = open_store(db_url, *((f"h{i}.example.cn", 3, 2, "0s") for i in range(10)))
    try:
        first = store.claim_due(NOW, 7, "p1", LEASE)
        second = store.claim_due(NOW, 100, "p2", LEASE)
        assert len(first) == 7
        ids = [c.source_id for c in first + second]
        assert len(ids) == len(set(ids)) == 20  # two per host (per_host 2), once each
        assert store.claim_due(NOW, 100, "p3", LEASE) == []
    finally:
        store.close()


def test_per_host_limit_holds_across_pollers(db_url: str) -> None:
    store = open_store(db_url, ("a.example.cn", 5, 2, "0s"), ("b.example.cn", 2, 1, "0s"))
    try:
        p1 = store.claim_due(NOW, 100, "p1", LEASE)
        assert hosts_of(p1) == ["a", "a", "b"]
        assert store.claim_due(NOW, 100, "p2", LEASE) == []  # both hosts at their limit
        done = next(c for c in p1 if c.source_id.startswith("a"))
        store.save_poll(done, poll_result(done.source_id, started=NOW), SourceUpdate(), ())
        assert hosts_of(store.claim_due(NOW, 100, "p2", LEASE)) == ["a"]  # one slot came back
        # A poller that died frees its host when its leases expire.
        later = NOW + LEASE + timedelta(seconds=1)
        assert hosts_of(store.claim_due(later, 100, "p3", LEASE)) == ["a", "a", "b"]
    finally:
        store.close()


def test_host_gap_books_each_start_for_every_poller(db_url: str) -> None:
    store = open_store(db_url, ("c.example.cn", 4, 4, "5s"))
    try:
        first = store.claim_due(NOW, 100, "p1", LEASE)
        assert len(first) == 1 and first[0].start_at == NOW  # one start per claim
        soon = store.claim_due(NOW + timedelta(seconds=0.5), 100, "p2", LEASE)
        assert soon == []  # the next start is booked 5 s after the first
        later = store.claim_due(NOW + timedelta(seconds=4.5), 100, "p2", LEASE)
        assert [c.start_at for c in later] == [NOW + timedelta(seconds=5)]  # waits its turn
        with store.engine.connect() as conn:
            booked = conn.scalar(select(HOSTS.c.next_start_s))
        assert booked == (NOW + timedelta(seconds=10)).timestamp()
    finally:
        store.close()


def test_a_moved_source_is_counted_on_its_new_host(db_url: str) -> None:
    store = open_store(db_url, ("d.example.cn", 1, 1, "0s"))
    try:
        (claim,) = store.claim_due(NOW, 1, "p1", LEASE)
        update = SourceUpdate(effective_url="https://www.d.example.cn/rss.xml")
        store.save_poll(claim, poll_result(claim.source_id, started=NOW), update, ())
        with store.engine.connect() as conn:
            assert conn.scalar(select(SOURCES.c.host)) == "www.d.example.cn"
    finally:
        store.close()


@pytest.mark.pg
def test_claim_is_one_materialised_cte_with_skip_locked(pg_url: str) -> None:
    store = open_store(pg_url, ("e.example.cn", 3, 3, "0s"))
    seen: list[str] = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    try:
        assert len(store.claim_due(NOW, 2, "p1", LEASE)) == 2
    finally:
        store.close()
    (sql,) = [s for s in seen if s.lstrip().startswith("WITH")]
    assert sql.lstrip().startswith("WITH due AS MATERIALIZED")
    assert "FOR UPDATE SKIP LOCKED" in sql and "FROM due WHERE sources.id = due.id" in sql


@pytest.mark.pg
def test_concurrent_claims_share_the_sources_and_the_host_limits(pg_url: str) -> None:
    hosts = [(f"f{i}.example.cn", 8, 3, "0s") for i in range(6)]
    stores = [open_store(pg_url, *hosts) for _ in range(4)]
    got: list[list] = [[] for _ in stores]
    start = threading.Barrier(len(stores))

    def poller(n: int) -> None:
        start.wait()
        for _ in range(5):
            got[n].extend(stores[n].claim_due(NOW, 4, f"p{n}", LEASE))

    threads = [threading.Thread(target=poller, args=(n,)) for n in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    claims = [c for found in got for c in found]
    ids = [c.source_id for c in claims]
    assert len(ids) == len(set(ids)) == 18  # every host filled to per_host 3, no source twice
    assert {h: hosts_of(claims).count(h) for h in set(hosts_of(claims))} == {
        f"f{i}": 3 for i in range(6)
    }


async def test_poll_once_waits_for_each_hosts_turn(origin, sqlite_url: str) -> None:
    """A host_gap longer than a claim books ahead: `poll --once` waits for the host."""
    import asyncio

    from aggregator.fetch.client import Sessions
    from aggregator.poller.pool import ParsePool
    from aggregator.poller.scheduler import Poller
    from tests import faults as f

    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def answer(request):
        starts.append(loop.time())
        return await f.feed(f.rss(f.headlines(1)))(request)

    text = "\n".join(
        [
            "site: {title: t, base_url: http://news.example.org}",
            "defaults: {interval: 10m, allow_private_networks: true, per_host: 3, host_gap: 1.2s}",
            "regions:",
            "  - id: r",
            "    title: R",
            "    sources:",
            *(f"      - {{id: g{i}, url: '{origin.url(f'/g{i}.xml')}'}}" for i in range(3)),
        ]
    )
    for i in range(3):
        origin.set(f"/g{i}.xml", handler=answer)
    site = load_text(text + "\n", "feeds.yaml").site
    store = Store(sqlite_url)
    session, pool = Sessions(), ParsePool(0)
    try:
        store.sync_sources(site, NOW, random.Random(1))
        done = await Poller(store, site, session, pool).run_once()
        assert sorted(r.source_id for r, _ in done) == ["g0", "g1", "g2"]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert len(starts) == 3 and min(gaps) >= 1.1, gaps  # never sooner than the gap
    finally:
        await session.close()
        await pool.close()
        store.close()


def test_polls_recorded_in_a_batch_refuse_only_the_lost_lease(db_url: str) -> None:
    store = open_store(db_url, ("f.example.cn", 3, 3, "0s"))
    try:
        claims = store.claim_due(NOW, 3, "p1", LEASE)
        later = NOW + LEASE + timedelta(seconds=1)
        (stolen,) = store.claim_due(later, 1, "p2", LEASE)  # p1's lease on one ran out
        validators = ('"e"', None, "hash")
        statuses = [PollStatus.ERROR] + [PollStatus.NOT_MODIFIED] * 2  # two shapes of row
        polls = [
            (c, poll_result(c.source_id, s, started=NOW), SourceUpdate(validators=validators))
            for c, s in zip(claims, statuses, strict=True)
        ]
        recorded = store.finish_polls(polls)
        assert recorded == [c.source_id != stolen.source_id for c in claims]
        with store.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(SOURCES))}
        for c, status in zip(claims, statuses, strict=True):
            row = rows[c.source_id]
            if c.source_id == stolen.source_id:
                assert (row.lease_owner, row.etag) == ("p2", None)
                continue
            assert (row.lease_owner, row.etag, row.body_hash) == (None, '"e"', "hash")
            assert row.status == status.value
            assert row.consecutive_failures == (1 if status is PollStatus.ERROR else 0)
    finally:
        store.close()


async def test_the_lease_follows_the_config_it_was_computed_for(sqlite_url: str) -> None:
    """The lease is cached per config: a reload with a slower source lengthens it."""
    from aggregator.fetch.client import Sessions
    from aggregator.poller.pool import ParsePool
    from aggregator.poller.scheduler import Poller

    first = site(("a.example.cn", 2, 1, "0s"))
    slower = site(("b.example.cn", 1, 1, "0s"), timeout="2m")
    store, sessions, pool = Store(sqlite_url), Sessions(), ParsePool(0)
    try:
        poller = Poller(store, first, sessions, pool)
        before = poller._lease()
        assert poller._lease() == before
        poller.apply(slower)
        assert poller._lease() == before + 2 * (
            timedelta(minutes=2) - max(s.timeout for s in first.sources.values())
        )
    finally:
        await sessions.close()
        await pool.close()
        store.close()
