"""Feed latency while a first poll runs: `bench/poll.py --latency` (see its docstring).

`aggregator run` is started as a user starts it, on a fresh SQLite file and the
universe of bench/sources.py; another process (`--hammer`, an aiohttp client) asks
/feeds/region/linyi.atom at a steady rate, each request on its own schedule (an open
loop: a slow answer does not delay the next request), until its stdin closes, then
prints the latencies. Twice: from the moment the service answers until every source was
polled once (new sources start spread over 30 s, so the poll overlaps the whole window),
or for `--window` seconds; then `aggregator serve` alone on the same database (the
same articles, nothing polling) for as long, at most 30 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.poll import _env  # noqa: E402  (the children find the project, and PYTHONPATH)

FEED = "/feeds/region/linyi.atom"


async def hammer(url: str, rate: float) -> list[float]:
    """GET url `rate` times a second until stdin closes; the latencies in ms."""
    import aiohttp

    latencies: list[float] = []
    failures = 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)

    async def one(http: aiohttp.ClientSession) -> None:
        nonlocal failures
        t0 = time.perf_counter()
        try:
            async with http.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    failures += 1
        except aiohttp.ClientError:
            failures += 1
        latencies.append(1000 * (time.perf_counter() - t0))

    tasks = set()
    async with aiohttp.ClientSession() as http:
        start, i = time.perf_counter(), 0
        while not stop.is_set():
            task = asyncio.create_task(one(http))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
        await asyncio.gather(*tasks)
    print(json.dumps({"latencies": latencies, "failures": failures}), flush=True)
    return latencies


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def _measure(url: str, rate: float, until: object) -> tuple[list[float], int, float]:
    """Hammer `url` until `until()` is true; (latencies, failures, seconds)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--hammer", url, "--rate", str(rate)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    assert callable(until)
    while not until():
        time.sleep(0.2)
    seconds = time.monotonic() - t0
    out, _ = proc.communicate(timeout=120)
    got = json.loads(out.strip().splitlines()[-1])
    return got["latencies"], got["failures"], seconds


def latency(args: argparse.Namespace) -> None:
    from bench.poll import statuses, write_config
    from bench.sources import SourceServer
    from tests.fleet import free_port

    with tempfile.TemporaryDirectory() as tmp, SourceServer(args.sources, args.entries) as server:
        work = Path(tmp)
        config = write_config(server.base, args.sources, args.concurrency, work)
        db = str(work / "run.sqlite")

        def start(role: str) -> tuple[subprocess.Popen[bytes], str]:
            port = free_port()
            cmd = [sys.executable, "-m", "aggregator", role, "--config", str(config)]
            cmd += ["--db", db, "--port", str(port), "--no-watch"]
            if role == "run":
                cmd += ["--workers", str(args.workers), "--concurrency", str(args.concurrency)]
            with open(work / f"{role}.log", "wb") as log:
                proc = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL, env=_env())
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(base + FEED, timeout=5) as resp:
                        resp.read()
                        return proc, base
                except OSError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        proc.kill()
                        raise SystemExit((work / f"{role}.log").read_text()[-3000:]) from None
                    time.sleep(0.2)

        stop_at = time.monotonic() + args.window

        def polled() -> bool:
            done = sum(statuses(server.base).values()) >= args.sources
            return done or time.monotonic() > stop_at

        poller = None
        if args.split:  # the poller in a process of its own, beside the server
            service, base = start("serve")
            cmd = [sys.executable, "-m", "aggregator", "poll", "--config", str(config)]
            cmd += ["--db", db, "--no-watch", "--workers", str(args.workers)]
            cmd += ["--concurrency", str(args.concurrency)]
            with open(work / "poll.log", "wb") as log:
                poller = subprocess.Popen(cmd, stderr=log, stdout=subprocess.DEVNULL, env=_env())
        else:
            service, base = start("run")
        try:
            during = _measure(base + FEED, args.rate, polled)
            polls = sum(statuses(server.base).values())
        finally:
            for proc in (service, poller):
                if proc is not None:
                    proc.terminate()
                    proc.wait(30)
        # The same database, served with nothing polling.
        service, base = start("serve")
        try:
            end = time.monotonic() + min(during[2], 30)
            idle = _measure(base + FEED, args.rate, lambda: time.monotonic() > end)
        finally:
            service.terminate()
            service.wait(30)
        how = "serve` + `aggregator poll" if args.split else "run"
        print(
            f"{args.sources} feeds × {args.entries} entries; `aggregator {how} --workers "
            f"{args.workers} --concurrency {args.concurrency}` on SQLite; GET {FEED} at "
            f"{args.rate:g}/s from another process"
        )
        print(f"sources polled during the measured window: {polls} of {args.sources}")
        print(f"{'':<22} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
        for name, (lat, failed, _seconds) in (
            (f"first poll ({seconds_of(during)})", during),
            (f"serve alone ({seconds_of(idle)})", idle),
        ):
            print(
                f"{name:<22} {len(lat):>8} {failed:>6} {_pct(lat, 50):>7.1f} "
                f"{_pct(lat, 99):>7.1f} {max(lat, default=0):>7.1f}"
            )


def seconds_of(run: tuple[list[float], int, float]) -> str:
    return f"{run[2]:.0f}s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hammer", required=True)
    parser.add_argument("--rate", type=float, default=50.0)
    args = parser.parse_args()
    asyncio.run(hammer(args.hammer, args.rate))


if __name__ == "__main__":
    main()
