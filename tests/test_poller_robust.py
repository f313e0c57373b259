"""The poller is never hurt by a source: killed parsers, crashing polls, host politeness.

No assertion here measures time: a killed parser is shown by its status and its dead
process, a responsive event loop by requests answered while the parser spun, and the
per-host limit by the most requests the origin ever saw at once.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import aiohttp

from aggregator.model import PollStatus
from aggregator.poller import scheduler
from aggregator.poller.hosts import HostGate
from aggregator.poller.pool import ParsePool
from tests import faults as f
from tests.harness import source

SPIN = f.rss(f.headlines(2)).replace(b"<channel>", b"<channel><!-- SPIN -->")


async def test_a_cpu_bound_parse_is_killed_and_the_loop_keeps_answering(harness) -> None:
    harness.faults.set("/crafted.xml", body=SPIN)
    await harness.open(
        source("crafted", "{faults}/crafted.xml"),
        workers=2,
        deadline=1.0,
        work=f.spin_on_marker,
    )
    assert harness.pool is not None
    pids = {w.process.pid for w in harness.pool._workers}
    answered = 0
    polling = asyncio.create_task(harness.round())

    async def keep_asking() -> None:
        nonlocal answered
        async with aiohttp.ClientSession() as client:
            while not polling.done():
                async with client.get(harness.healthy.url("/feeds/atom.xml")) as resp:
                    assert resp.status == 200
                    answered += 1
                await asyncio.sleep(0.02)

    asker = asyncio.create_task(keep_asking())
    r = await polling
    await asker
    r.assert_healthy_delivered()
    result = r["crafted"]
    assert result.status is PollStatus.PARSE_ERROR
    assert "longer than 1s" in result.message and "stopped" in result.message
    # The event loop served requests while the parser spun in its process.
    assert answered >= 1
    # The spinning worker was killed and replaced; the pool still parses.
    killed = [w for w in pids if w not in {x.process.pid for x in harness.pool._workers}]
    assert len(killed) == 1 and len(harness.pool._workers) == 2
    harness.advance(minutes=2)
    again = await harness.round()
    again.assert_healthy_delivered()
    assert again["crafted"].status is PollStatus.PARSE_ERROR  # killed again, no harm done


async def test_an_exception_in_one_poll_never_stops_the_scheduler(harness, monkeypatch) -> None:
    harness.faults.set("/fine.xml", body=f.rss(f.headlines(2)))
    real = scheduler.poll_source

    async def buggy(claim, source, deps):
        if claim.source_id == "crash":
            raise RuntimeError("a bug in one poll")
        return await real(claim, source, deps)

    monkeypatch.setattr(scheduler, "poll_source", buggy)
    await harness.open(source("crash", "{faults}/fine.xml"))
    assert harness.poller is not None and harness.store is not None
    for _ in range(2):  # the scheduler's own path: tick() claims and starts tasks
        harness.store.set_flags("healthy", next_poll_at=harness.now)
        harness.store.set_flags("crash", next_poll_at=harness.now)
        started = await harness.poller.tick()
        assert started == 2
        await asyncio.gather(*harness.poller._running)
        harness.advance(minutes=2)
    crash, healthy = harness.row("crash"), harness.row("healthy")
    assert crash.status == "error" and "RuntimeError: a bug in one poll" in crash.message
    assert crash.consecutive_failures == 2 and crash.lease_owner is None
    assert healthy.status == "ok" and healthy.entries_total >= 4
    assert crash.next_poll_at > harness.now - timedelta(minutes=2)  # still scheduled


async def test_the_running_scheduler_survives_crashing_polls(harness, monkeypatch) -> None:
    real = scheduler.poll_source
    polls: list[str] = []

    async def buggy(claim, source, deps):
        polls.append(claim.source_id)
        if claim.source_id == "crash":
            raise ValueError("boom")
        return await real(claim, source, deps)

    monkeypatch.setattr(scheduler, "poll_source", buggy)
    harness.faults.set("/fine.xml", body=f.rss(f.headlines(2)))
    await harness.open(source("crash", "{faults}/fine.xml"))
    assert harness.poller is not None and harness.store is not None
    harness.poller.start(tick_seconds=0.05)
    try:
        for round_ in (1, 2, 3):
            for sid in ("healthy", "crash"):
                harness.store.set_flags(sid, next_poll_at=harness.now)
            async with asyncio.timeout(30):
                while polls.count("healthy") < round_ or polls.count("crash") < round_:
                    await asyncio.sleep(0.02)
                while harness.poller._running:
                    await asyncio.sleep(0.02)
    finally:
        await harness.poller.stop()
    assert harness.row("healthy").status == "ok"
    assert harness.row("crash").status == "error"


async def test_one_request_at_a_time_per_host_and_a_global_limit(harness) -> None:
    slow = f.rss(f.headlines(2))

    async def answer(request):
        await f.pause(request, 0.1)
        return await f.feed(slow)(request)

    for i in range(4):
        harness.faults.set(f"/polite{i}.xml", handler=answer)
    await harness.open("".join(source(f"polite{i}", f"{{faults}}/polite{i}.xml") for i in range(4)))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert all(r[f"polite{i}"].status is PollStatus.OK for i in range(4))
    assert harness.faults.max_in_flight_total == 1  # per_host: 1 on the faults host

    harness.faults.max_in_flight_total = 0
    await harness.close()
    await harness.open(
        "".join(source(f"polite{i}", f"{{faults}}/polite{i}.xml", per_host=8) for i in range(4)),
        concurrency=2,
    )
    harness.advance(minutes=5)
    r = await harness.round()
    assert all(r[f"polite{i}"].status.is_success for i in range(4))
    assert harness.faults.max_in_flight_total <= 2  # the global limit


async def test_host_gate_spaces_starts_by_the_gap_and_keeps_hosts_apart() -> None:
    gate = HostGate()
    loop = asyncio.get_running_loop()
    entered: list[float] = []

    async def use(url: str) -> None:
        async with gate.acquire(url, 1, 0.2):
            entered.append(loop.time())

    await asyncio.gather(*(use(f"http://a.example.cn/{i}") for i in range(3)))
    gaps = [b - a for a, b in itertools.pairwise(entered)]
    assert all(g >= 0.19 for g in gaps), gaps  # never sooner than the gap (a lower bound)

    inside = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with gate.acquire("http://b.example.cn/x", 1, 0):
            inside.set()
            await release.wait()

    holder = asyncio.create_task(hold())
    await inside.wait()
    async with gate.acquire("http://c.example.cn/y", 1, 0):
        other_host_got_in = not release.is_set()  # while b's slot is still held
    release.set()
    await holder
    assert other_host_got_in


async def test_parser_processes_yield_the_cpu_to_the_server() -> None:
    """Workers run niced, so a first poll's parsing cannot starve the web server."""
    import os
    from datetime import UTC, datetime

    from aggregator.model import Source
    from aggregator.normalise import Context
    from aggregator.poller.pool import NICE
    from aggregator.poller.work import Job

    pool = ParsePool(1, deadline=30.0, work=f.report_niceness)
    try:
        src = Source(id="s", url="http://x.example.cn/rss.xml", region="r")
        job = Job(b"", src.url, None, src, Context("Asia/Shanghai"), datetime.now(UTC))
        outcome = await pool.run(job)
        assert int(outcome.message) == min(os.nice(0) + NICE, 19)
    finally:
        await pool.close()


def test_the_service_keeps_its_startup_objects_out_of_the_collector() -> None:
    """Full collections walking the process's modules and config paused the event loop
    for up to 130 ms during a first poll; `serve_forever` settles them first."""
    import gc

    from aggregator.service import GC_THRESHOLDS, settle_gc

    before = gc.get_threshold()
    try:
        settle_gc()
        assert gc.get_freeze_count() > 10_000  # the modules imported to get here, at least
        assert gc.get_threshold() == GC_THRESHOLDS and GC_THRESHOLDS[0] > before[0]
        assert gc.get_count()[0] < 100  # and the young generation starts empty
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


async def test_pool_answers_after_a_killed_job() -> None:
    from datetime import UTC, datetime

    from aggregator.model import Source
    from aggregator.normalise import Context
    from aggregator.poller.work import Job

    pool = ParsePool(1, deadline=1.0, work=f.spin_on_marker)
    await pool.start()
    try:
        src = Source(id="s", url="http://x.example.cn/rss.xml", region="r")
        ctx, now = Context("Asia/Shanghai"), datetime.now(UTC)
        ok = await pool.run(Job(f.rss(f.headlines(2)), src.url, None, src, ctx, now))
        assert ok.status is PollStatus.OK and ok.entries_seen == 2
        bad = await pool.run(Job(SPIN, src.url, None, src, ctx, now))
        assert bad.status is PollStatus.PARSE_ERROR and "longer than" in bad.message
        crash = SPIN.replace(b"SPIN", b"CRASH")
        died = await pool.run(Job(crash, src.url, None, src, ctx, now))
        assert died.status is PollStatus.PARSE_ERROR and "died" in died.message
        again = await pool.run(Job(f.rss(f.headlines(3)), src.url, None, src, ctx, now))
        assert again.entries_seen == 3
    finally:
        await pool.close()
