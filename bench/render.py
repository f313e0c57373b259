"""Cold render of merged feeds with 10k and 1M articles stored, SQLite and PostgreSQL.

Usage (from the repository root, with the project installed):

    PYTHONPATH=. python bench/render.py                                  # 10k and 1M, both
    PYTHONPATH=. python bench/render.py --sizes 10000,100000 --db sqlite # a quick look

For each database and size: a fresh store is filled with that many synthetic articles
(bench.dedupe's bulk fill: entries, stories, fingerprint keys and feed rows, about
10 000 a week back in time), then opened again as a freshly started server opens it (no
render cached, new connections), and feeds are rendered through the server's own path,
`web.feeds.render` (the page from `feed_members`, its stories and copies, feedgen or
orjson), with no render cache in front:

- **first**: the very first request, the province feed as Atom, on the fresh store;
- **region / county / channel**: every feed of that kind in Atom, RSS and JSON, each
  rendered once with nothing cached (median and worst, ms; the worst moves with
  whatever else the machine runs, so the verdict is judged on the median of them all).

The baseline is the smallest size of the run on the same database: rendering must not
grow with the store (every read is an index range scan bounded by the page). Targets
(issue 8): under 50 ms at 1M, and within 2× of the same render at 10k.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.config import LoadedConfig  # noqa: E402
from aggregator.model import FeedQuery, FeedScope  # noqa: E402
from aggregator.store import Store  # noqa: E402
from aggregator.web.feeds import render  # noqa: E402
from aggregator.web.runtime import Runtime  # noqa: E402
from bench.dedupe import CHANNELS, COUNTIES, NOW, PG_DEFAULT, database, fill, site  # noqa: E402

TARGET_MS = 50.0
TARGET_RATIO = 2.0
FORMATS = ("atom", "rss", "json")
KINDS = ("region", "county", "channel")  # the table's columns: see scopes()


def config() -> LoadedConfig:
    """bench.dedupe's site (province > city > 12 counties × 4 sources, 6 channels)."""
    return LoadedConfig(site=site(), path="bench.yaml", sha256="0" * 64, summary="bench")


def scopes() -> dict[str, list[FeedScope]]:
    return {
        "region": [FeedScope("region", region=r) for r in ("shandong", "linyi")],
        "county": [FeedScope("region", region=r) for r in COUNTIES],
        "channel": [FeedScope("channel", channel=c) for c in CHANNELS],
    }


async def timed(rt: Runtime, scope: FeedScope, fmt: str) -> float:
    t0 = time.perf_counter()
    rendered = await render(rt, rt.site, FeedQuery(scope), fmt)
    took = (time.perf_counter() - t0) * 1000
    if not rendered.body:
        raise SystemExit(f"{scope.key}.{fmt}: an empty render")
    return took


async def measure(url: str, cfg: LoadedConfig) -> dict[str, Any]:
    store = Store(url)
    try:
        rt = Runtime(config=cfg, store=store, loaded_at=NOW)
        first = await timed(rt, FeedScope("region", region="shandong"), "atom")
        out: dict[str, Any] = {"first": first}
        for kind, feeds in scopes().items():
            out[kind] = [await timed(rt, sc, fmt) for sc in feeds for fmt in FORMATS]
        return out
    finally:
        store.close()


def run_size(url: str, n: int, cfg: LoadedConfig) -> dict[str, Any]:
    store = Store(url)
    try:
        store.configure(cfg.site)
        store.sync_sources(cfg.site, NOW - timedelta(days=800), random.Random(1))
        fill_s = fill(store, n, cfg.site)
    finally:
        store.close()
    result = asyncio.run(measure(url, cfg))
    result.update(stored=n, fill_s=fill_s)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="10000,1000000", help="stored articles, comma separated")
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--pg", default=PG_DEFAULT)
    args = p.parse_args(argv)
    cfg = config()
    sizes = sorted(int(x) for x in args.sizes.split(","))
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    head = f"{'database':<11}{'stored':>11}{'fill s':>8}{'first':>8}"
    head += "".join(f"{k + ' med':>12}{'max':>7}" for k in KINDS)
    print("cold renders through web.feeds.render, no render cache; ms")
    print(head + f"{'x base':>8}  verdict")
    for kind in kinds:
        base: float | None = None
        for n in sizes:
            with database(kind, args.pg, n) as url:
                r = run_size(url, n, cfg)
            every = [ms for k in KINDS for ms in r[k]]
            median = statistics.median(every)
            region = statistics.median(r["region"])
            base = base if base is not None else region
            ratio = region / base
            line = f"{kind:<11}{n:>11,}{r['fill_s']:>8.0f}{r['first']:>8.1f}"
            for k in KINDS:
                line += f"{statistics.median(r[k]):>12.1f}{max(r[k]):>7.1f}"
            met = median < TARGET_MS and ratio <= TARGET_RATIO
            verdict = "MET" if met else "MISSED"
            print(
                line + f"{ratio:>7.2f}×  {verdict} (median {median:.1f} ms < {TARGET_MS:.0f}, "
                f"region median within {TARGET_RATIO:.0f}× of {sizes[0]:,})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
