"""Polling throughput against the Python library `reader`, over one local universe.

    PYTHONPATH=. python bench/poll.py                        # 500 feeds × 50 entries
    PYTHONPATH=. python bench/poll.py --sources 50 --entries 10
    PYTHONPATH=. python bench/poll.py --latency --sources 2000   # feed latency during a poll

The feeds come from bench/sources.py, served by a process of their own. Three passes,
each timed from the first request to the last stored row:

- **first**: every feed fetched, parsed, normalised, sanitised, de-duplicated and stored
  into a fresh SQLite file;
- **304**: every source asked again with its validators; every answer is a 304;
- **200 same**: the server drops its validators and answers 200 with the same bytes.

`reader` (installed in the benchmark's environment, not a dependency: `pip install reader
sgmllib3k`) runs in a child process: `make_reader(path)`, `add_feed` for every URL, then
`update_feeds(workers=W, scheduled=False)` per pass (its docs' way to update in
parallel; `scheduled=False` so a pass updates every feed, not only those due). Without
reader its column is skipped with a note.

Ours runs in a child process too, as `aggregator poll --once` runs it: `open_parts` with
`Settings(workers, concurrency)`, JSON log lines to a file, then `Poller.run_once()` per
pass; before the second and third passes every source is made due (next_poll_at = now,
as the admin's "poll now" does), outside the timing. "main CPU" is the CPU time of the
poller's own process (its parser workers excluded): the per-poll overhead that bounds
the 304 rate.

`--latency` instead starts `aggregator run` over the sources and, from another process,
asks one cached feed (/feeds/region/linyi.atom) at a steady rate: while the first poll
runs (until every source was polled, or `--window` seconds), then against `aggregator
serve` alone on the same database, and prints p50/p99/max (bench/latency.py). `--split`
runs `serve` and `poll` as two processes instead of `run`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSES = (("first", True), ("304", True), ("200 same", False))


def set_mode(base: str, *, validators: bool) -> None:
    with urllib.request.urlopen(f"{base}/_bench/mode?validators={int(validators)}", timeout=30):
        pass


def statuses(base: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{base}/_bench/stats", timeout=30) as resp:
        counts: dict[str, int] = json.load(resp)["statuses"]
        return counts


def main_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def report(
    name: str, seconds: float, cpu: float, entries: int, before: dict[str, int], base: str
) -> None:
    after = statuses(base)
    answers = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    line = {"pass": name, "seconds": seconds, "cpu": cpu, "entries": entries, "answers": answers}
    print(json.dumps(line), flush=True)


# ------------------------------------------------------------------ reader (child)


def run_reader(base: str, count: int, workers: int, work: Path) -> None:
    from reader import make_reader

    r = make_reader(str(work / "reader.sqlite"))
    for n in range(count):
        r.add_feed(f"{base}/s/s{n:04d}.xml")
    for name, validators in PASSES:
        set_mode(base, validators=validators)
        before, cpu0, t0 = statuses(base), main_cpu(), time.perf_counter()
        r.update_feeds(workers=workers, scheduled=False)
        seconds, cpu = time.perf_counter() - t0, main_cpu() - cpu0
        report(name, seconds, cpu, r.get_entry_counts().total, before, base)
    r.close()


# ------------------------------------------------------------------ ours (child)


def write_config(base: str, count: int, concurrency: int, work: Path) -> Path:
    from tests.fleet import feeds_yaml

    path = work / "feeds.yaml"
    # One loopback host serves every feed: per_host as high as the polls in flight.
    path.write_text(feeds_yaml([(n, base, concurrency, "0s") for n in range(count)], interval="1h"))
    return path


async def run_ours(base: str, count: int, workers: int, concurrency: int, work: Path) -> None:
    from sqlalchemy import update

    from aggregator.config import load
    from aggregator.observability import setup_logging
    from aggregator.service import open_parts
    from aggregator.settings import Settings
    from aggregator.store.tables import SOURCES

    setup_logging("INFO", json=True)
    config_path = write_config(base, count, concurrency, work)
    db = str(work / "ours.sqlite")
    settings = Settings(config=str(config_path), db=db, workers=workers, concurrency=concurrency)
    async with open_parts(settings, load(config_path), poll=True) as parts:
        assert parts.poller is not None
        store = parts.store
        for i, (name, validators) in enumerate(PASSES):
            set_mode(base, validators=validators)
            if i:
                with store.engine.begin() as conn:
                    conn.execute(update(SOURCES).values(next_poll_at=parts.poller.deps.clock()))
            before, cpu0, t0 = statuses(base), main_cpu(), time.perf_counter()
            done = await parts.poller.run_once()
            seconds, cpu = time.perf_counter() - t0, main_cpu() - cpu0
            if len(done) != count:
                raise SystemExit(f"ours: {len(done)} of {count} sources polled in pass {name}")
            entries = (await store.call(store.counts))["entries"]
            report(name, seconds, cpu, entries, before, base)


# ------------------------------------------------------------------ the parent


def child(kind: str, args: argparse.Namespace, base: str, work: Path) -> list[dict[str, Any]]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", kind, "--base", base]
    cmd += ["--sources", str(args.sources), "--workers", str(args.workers)]
    cmd += ["--concurrency", str(args.concurrency), "--reader-workers", str(args.reader_workers)]
    cmd += ["--work", str(work)]
    with open(work / f"{kind}.log", "wb") as log:
        out = subprocess.run(
            cmd, stdout=subprocess.PIPE, stderr=log, env=_env(), check=False, text=True
        )
    if out.returncode:
        tail = (work / f"{kind}.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{kind} failed ({out.returncode}):\n{tail}")
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def _env() -> dict[str, str]:
    extra = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": str(ROOT) + (os.pathsep + extra if extra else "")}


def print_table(
    count: int, ours: list[dict[str, Any]], theirs: list[dict[str, Any]] | None
) -> None:
    """feeds/s per pass; entries/s counts the feeds' entries each pass went through."""
    print(
        f"{'pass':<9} {'':>6} {'feeds/s':>9} {'entries/s':>10} {'seconds':>8} "
        f"{'main CPU':>9} {'ms CPU/feed':>11}  answers"
    )
    entries = ours[0]["entries"]
    for i, (name, _) in enumerate(PASSES):
        rows = [("ours", ours[i])] + ([("reader", theirs[i])] if theirs else [])
        for who, r in rows:
            answers = ", ".join(f"{k}×{v}" for k, v in sorted(r["answers"].items()))
            print(
                f"{name:<9} {who:>6} {count / r['seconds']:>9.1f} "
                f"{r['entries'] / r['seconds']:>10.0f} {r['seconds']:>8.2f} "
                f"{r['cpu']:>8.2f}s {1000 * r['cpu'] / count:>11.2f}  {answers}"
            )
        if theirs:
            ratio = theirs[i]["seconds"] / ours[i]["seconds"]
            print(f"{name:<9} {'ratio':>6} {ratio:>8.2f}×  (ours / reader, feeds/s)")
    theirs_note = f", reader {theirs[0]['entries']}" if theirs else ""
    print(f"stored entries: ours {entries}{theirs_note}")


def passes(args: argparse.Namespace) -> None:
    from bench.sources import SourceServer

    have_reader = importlib.util.find_spec("reader") is not None
    with tempfile.TemporaryDirectory() as tmp, SourceServer(args.sources, args.entries) as server:
        work = Path(tmp)
        print(
            f"{args.sources} feeds × {args.entries} entries on loopback ({os.cpu_count()} cores); "
            f"ours: --workers {args.workers} --concurrency {args.concurrency}, SQLite; "
            f"reader: update_feeds(workers={args.reader_workers}, scheduled=False)",
            flush=True,
        )
        theirs = None
        if have_reader and not args.no_reader:
            (work / "reader").mkdir()
            theirs = child("reader", args, server.base, work / "reader")
        else:
            print(
                "note: `reader` is not installed here (pip install reader sgmllib3k): "
                "its column is skipped"
            )
        (work / "ours").mkdir()
        ours = child("ours", args, server.base, work / "ours")
        print_table(args.sources, ours, theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="our parser processes")
    parser.add_argument("--concurrency", type=int, default=16, help="our polls in flight")
    parser.add_argument("--reader-workers", type=int, default=16, help="reader's threads")
    parser.add_argument("--no-reader", action="store_true", help="skip reader")
    parser.add_argument("--latency", action="store_true", help="feed latency during a poll")
    parser.add_argument("--rate", type=float, default=50.0, help="--latency: requests/s")
    parser.add_argument(
        "--window", type=float, default=60.0, help="--latency: seconds measured during the poll"
    )
    parser.add_argument(
        "--split", action="store_true", help="--latency: `serve` and `poll` processes, not `run`"
    )
    parser.add_argument("--child", choices=["reader", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "reader":
        run_reader(args.base, args.sources, args.reader_workers, args.work)
    elif args.child == "ours":
        asyncio.run(run_ours(args.base, args.sources, args.workers, args.concurrency, args.work))
    elif args.latency:
        from bench.latency import latency

        latency(args)
    else:
        passes(args)


if __name__ == "__main__":
    main()
