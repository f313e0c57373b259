"""Polls per second with 1, 2 and 4 `aggregator poll` processes sharing one PostgreSQL.

    PYTHONPATH=. python bench/scale.py                      # 2 000 sources; 1, 2, 4 pollers
    PYTHONPATH=. python bench/scale.py --pollers 1 2 --seconds 15 --sources 1000
    PYTHONPATH=. python bench/scale.py --delay 0.2 --concurrency 16   # sources 200 ms away

For each poller count: a fresh schema (dropped after), the pollers started as processes
as a user would (`python -m aggregator poll --workers W --concurrency C`), and 2 000
feeds served from this process by tests.fleet on 8 loopback hosts (127.0.0.1-8,
per_host 32, no gap). Two figures:

- first pass: from start until every source was polled once (every feed fetched,
  parsed and its two articles stored: ingest-heavy);
- steady state: every source due every 2 s (more than the pollers can do, so they
  never idle), 2 % of polls finding one new article, the others a 304.

Prints polls per second and the ratio to one poller in the same run, with where the
CPU went during the steady window: the pollers (with their parser processes), the
PostgreSQL server processes, and this process (the feeds' server), as a share of the
machine's cores, and what PostgreSQL's busy backends were waiting on (pg_stat_activity).
The machine is shared: run it briefly, and read the ratios rather than the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg

from tests.fleet import Farm, feeds_yaml, spawn
from tests.origin import Origin

HOSTS = 8
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def children(pids: list[int]) -> list[int]:
    """The pids and every process below them (parser workers)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parent[int(entry.name)] = int(fields[1])
            except OSError:
                continue
    found, todo = set(pids), list(pids)
    while todo:
        p = todo.pop()
        for child, ppid in parent.items():
            if ppid == p and child not in found:
                found.add(child)
                todo.append(child)
    return sorted(found)


def postgres_pids() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


async def sample_waits(dsn: str, stop: asyncio.Event) -> Counter[str]:
    """What active backends of this database wait on, sampled every 0.2 s."""
    seen: Counter[str] = Counter()
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            cur = await conn.execute(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU') FROM "
                "pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"
            )
            for (what,) in await cur.fetchall():
                seen[what] += 1
            seen["(samples)"] += 1
            await asyncio.sleep(0.2)
    return seen


def ensure_database(url: str) -> None:
    """Create the benchmark's database when it does not exist yet."""
    from urllib.parse import urlsplit

    name = urlsplit(url).path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


async def run(count: int, args: argparse.Namespace, work: Path) -> dict[str, float]:
    schema = f"bench_scale_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.db, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in args.db else "?"
    url = f"{args.db}{sep}options=-csearch_path%3D{schema}"
    origins = [Origin() for _ in range(HOSTS)]
    for i, o in enumerate(origins):
        await o.start(f"127.0.0.{i + 1}")
    per = args.sources // HOSTS
    farms = [Farm(o, per, first=i * per) for i, o in enumerate(origins)]
    sources = []
    for farm in farms:
        farm.build()
        for n in range(farm.first, farm.first + per):
            farm.origin.routes[farm.path(n)].delay = args.delay
        base = farm.origin.url("").rstrip("/")
        sources += [(n, base, 32, "0s") for n in range(farm.first, farm.first + per)]
    config = work / f"feeds-{count}.yaml"
    config.write_text(feeds_yaml(sources, interval="2s"), "utf-8")
    upgrade = await spawn("db upgrade", config, url, work)
    await upgrade.process.wait()
    total = per * HOSTS

    def requests() -> int:
        return sum(sum(o.requests.values()) for o in origins)

    def polled_all() -> bool:
        return all(len(o.requests) >= per for o in origins)

    procs = []
    try:
        started = time.monotonic()
        extra = ("--workers", str(args.workers), "--concurrency", str(args.concurrency))
        for _ in range(count):
            procs.append(await spawn("poll", config, url, work, *extra))
        while not polled_all():
            await asyncio.sleep(0.1)
        first_pass = time.monotonic() - started

        rng = random.Random(count)
        stop = asyncio.Event()

        async def publisher() -> None:
            while not stop.is_set():
                # about 2 % of the polls of the last 0.1 s will find a new article
                rate = max(1, round(0.02 * window_rate[0] * 0.1))
                for _ in range(rate):
                    farm = rng.choice(farms)
                    farm.publish(rng.randrange(farm.first, farm.first + per))
                await asyncio.sleep(0.1)

        window_rate = [total / 2.0]
        pub = asyncio.create_task(publisher())
        await asyncio.sleep(3)  # settle into the steady state
        pids = children([p.pid for p in procs])
        pg = postgres_pids()
        cpu0 = (cpu_seconds(pids), cpu_seconds(pg), resource.getrusage(resource.RUSAGE_SELF))
        n0, t0 = requests(), time.monotonic()
        waits = asyncio.create_task(sample_waits(url, stop))
        await asyncio.sleep(args.seconds)
        n1, t1 = requests(), time.monotonic()
        cpu1 = (cpu_seconds(pids), cpu_seconds(pg), resource.getrusage(resource.RUSAGE_SELF))
        stop.set()
        await pub
        seen = await waits
        span = t1 - t0
        me = (cpu1[2].ru_utime + cpu1[2].ru_stime) - (cpu0[2].ru_utime + cpu0[2].ru_stime)
        samples = seen.pop("(samples)", 1)
        return {
            "first_pass_s": first_pass,
            "first_pass_rate": total / first_pass,
            "steady_rate": (n1 - n0) / span,
            "cpu_pollers": (cpu1[0] - cpu0[0]) / span,
            "cpu_postgres": (cpu1[1] - cpu0[1]) / span,
            "cpu_feeds": me / span,
            "pg_active": sum(seen.values()) / samples,
            "pg_waits": ", ".join(f"{k} {v / samples:.1f}" for k, v in seen.most_common(4)),
        }
    finally:
        for p in procs:
            await p.stop()
        for o in origins:
            await o.close()
        with psycopg.connect(args.db, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default="postgresql://postgres@127.0.0.1:5432/aggregator_bench",
        help="a database of its own (created if missing): advisory locks and "
        "pg_stat_activity are per database, so others' work there would blur the figures",
    )
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--pollers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=15.0, help="steady-state window")
    parser.add_argument("--workers", type=int, default=1, help="parser processes per poller")
    parser.add_argument("--concurrency", type=int, default=32, help="polls in flight per poller")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds each feed takes to answer (a WAN)"
    )
    args = parser.parse_args()
    ensure_database(args.db)
    print(
        f"{args.sources} sources on {HOSTS} hosts, {os.cpu_count()} cores; pollers with "
        f"--workers {args.workers} --concurrency {args.concurrency}; feeds answer in "
        f"{args.delay:g}s"
    )
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.pollers:
            results[count] = r = await run(count, args, Path(tmp))
            base = results[args.pollers[0]]
            first_x = r["first_pass_rate"] / base["first_pass_rate"]
            steady_x = r["steady_rate"] / base["steady_rate"]
            print(
                f"{count} poller(s): first pass {r['first_pass_s']:.1f}s "
                f"({r['first_pass_rate']:.0f} polls/s, x{first_x:.2f}); "
                f"steady {r['steady_rate']:.0f} polls/s (x{steady_x:.2f}); "
                f"CPU cores: pollers {r['cpu_pollers']:.2f}, postgres {r['cpu_postgres']:.2f}, "
                f"feeds server {r['cpu_feeds']:.2f}; postgres busy backends {r['pg_active']:.1f} "
                f"({r['pg_waits'] or 'none'})",
                flush=True,
            )


if __name__ == "__main__":
    asyncio.run(main())
