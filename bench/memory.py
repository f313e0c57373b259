"""Resident memory of `aggregator run` after a full poll of 2 000 sources, over a big store.

    PYTHONPATH=. python bench/memory.py                        # 10k and 1M stored, SQLite
    PYTHONPATH=. python bench/memory.py --stored 1000 --sources 50 --per-source 5   # smoke

For each store size: a fresh SQLite file is filled with that many synthetic stored
articles (bench.dedupe's bulk fill: entries, stories, fingerprint keys, feed rows), then
`python -m aggregator run` is started on it as a user would, over SOURCES feeds served
from this process by tests.fleet on 8 loopback hosts (PER_SOURCE new articles each).
Once every source has been polled and stored, the region's feeds, 200 source feeds and
the admin pages are requested, so the render cache holds what readers ask for, and the
resident set (VmRSS) and its peak (VmHWM) are read from /proc: of the service process,
and of its parser processes, which the kernel accounts apart.

The target is the service process under 300 MB with 1M stored; the smallest store size
of the run is the baseline the others are compared with (memory must not grow with
the store: nothing reads the whole store into memory).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from aggregator.config import load_text
from aggregator.store import Store
from bench.dedupe import NOW, fill
from bench.scale import children
from tests.fleet import Farm, feeds_yaml, spawn, wait_until_serving
from tests.origin import Origin

HOSTS = 8
MB = 1024 * 1024


def memory_of(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in bytes; zeros once it has gone."""
    found = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in found:
                found[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return found["VmRSS"], found["VmHWM"]


def polled(db: Path) -> int:
    """Sources whose first poll is stored (read beside the service, as an admin would)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        row = conn.execute("SELECT count(*) FROM sources WHERE last_attempt_at IS NOT NULL")
        return int(row.fetchone()[0])


async def run(stored: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    origins = [Origin() for _ in range(HOSTS)]
    for i, o in enumerate(origins):
        await o.start(f"127.0.0.{i + 1}")
    per = max(1, args.sources // HOSTS)
    farms = [Farm(o, per, first=i * per) for i, o in enumerate(origins)]
    rows = []
    for farm in farms:
        farm.build(args.per_source)
        base = farm.origin.url("").rstrip("/")
        rows += [(n, base, 32, "0s") for n in range(farm.first, farm.first + per)]
    total = per * HOSTS
    config = work / f"feeds-{stored}.yaml"
    config.write_text(feeds_yaml(rows, interval="6h"), "utf-8")
    db = work / f"store-{stored}.db"
    url = f"sqlite:///{db}"
    site = load_text(config.read_text("utf-8"), str(config)).site
    store = Store(url)
    try:
        store.sync_sources(site, NOW - timedelta(days=800), random.Random(1))
        fill_s = fill(store, stored, site) if stored else 0.0
    finally:
        store.close()

    proc = await spawn("run", config, url, work, "--workers", str(args.workers))
    try:
        await wait_until_serving(proc, deadline=120)
        rss_idle = memory_of(proc.process.pid)[0]
        started = time.monotonic()
        while polled(db) < total:
            if proc.process.returncode is not None:
                raise RuntimeError(f"run exited: {proc.log.read_text()[-2000:]}")
            await asyncio.sleep(0.5)
        poll_s = time.monotonic() - started
        await asyncio.sleep(2)  # the last polls' stores and the cache invalidations
        base = f"http://127.0.0.1:{proc.port}"
        async with aiohttp.ClientSession() as http:
            paths = [f"/feeds/region/linyi.{kind}" for kind in ("atom", "rss", "json")]
            paths += [f"/feeds/source/{sid}.atom" for sid in list(site.sources)[:200]]
            paths += ["/", "/sources", "/api/sources"]
            for path in paths:
                async with http.get(base + path) as resp:
                    await resp.read()
        rss, peak = memory_of(proc.process.pid)
        workers = [p for p in children([proc.process.pid]) if p != proc.process.pid]
        worker_rss = sum(memory_of(p)[0] for p in workers)
        return {
            "stored": stored,
            "fill_s": fill_s,
            "sources": total,
            "new": total * args.per_source,
            "poll_s": poll_s,
            "idle": rss_idle,
            "rss": rss,
            "peak": peak,
            "workers": len(workers),
            "worker_rss": worker_rss,
        }
    finally:
        await proc.stop()
        for o in origins:
            await o.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stored", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--per-source", type=int, default=20, help="new articles per feed")
    parser.add_argument("--workers", type=int, default=2, help="parser processes")
    args = parser.parse_args()
    print(
        f"`aggregator run` (SQLite, --workers {args.workers}) over {args.sources} sources "
        f"x {args.per_source} new articles; MB = 2^20 bytes"
    )
    print(
        f"{'stored':>10} {'fill s':>7} {'poll s':>7} {'idle MB':>8} {'after MB':>9} "
        f"{'peak MB':>8} {'x base':>7} {'workers MB':>11}"
    )
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="memory-bench-") as tmp:
        for stored in args.stored:
            r = await run(stored, args, Path(tmp))
            results.append(r)
            base = results[0]
            print(
                f"{r['stored']:>10,} {r['fill_s']:>7.0f} {r['poll_s']:>7.1f} "
                f"{r['idle'] / MB:>8.0f} {r['rss'] / MB:>9.0f} {r['peak'] / MB:>8.0f} "
                f"{r['rss'] / base['rss']:>7.2f} "
                f"{r['worker_rss'] / MB:>8.0f} ({r['workers']})",
                flush=True,
            )
            for f in Path(tmp).glob("store-*.db*"):
                f.unlink()


if __name__ == "__main__":
    asyncio.run(main())
