"""Ingest benchmark: articles per second through the real ingest path, SQLite and PostgreSQL.

Usage (from the repository root, with the project installed):

    PYTHONPATH=. python bench/ingest.py                       # 200 feeds × 50, both databases
    PYTHONPATH=. python bench/ingest.py --feeds 40 --db sqlite --profile

The feeds are bench/sources.py's (CJK RSS, 50 entries, one in ten a copy of a shared
city story, so matching has copies to find). Each is parsed, normalised and prepared
(fingerprint, search terms) first, as a parser process does (not timed: that is
bench/parse.py's figure), then every feed's
articles are stored through `Store.save_poll`, one poll per feed as the poller stores
it: claim row, entries, stories, fingerprint keys, search index, feed membership and the
change log, in one transaction per poll. Printed: articles/s and ms per article.

The baseline, run on the same database in the same invocation: the same entries rows
written by one bare `executemany` INSERT per poll (no matching, no stories, no index),
the floor an ingest could reach on that database; "ratio" is ours/baseline.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.config import load_text  # noqa: E402
from aggregator.model import Article, PollResult, PollStatus, Site  # noqa: E402
from aggregator.normalise import Context, normalise  # noqa: E402
from aggregator.parse import parse_document  # noqa: E402
from aggregator.poller.work import prepare  # noqa: E402
from aggregator.store import SourceUpdate, Store  # noqa: E402
from aggregator.store.ingest import _entry_values  # noqa: E402
from aggregator.store.tables import ENTRIES, STORIES  # noqa: E402
from bench.dedupe import PG_DEFAULT, database  # noqa: E402
from bench.sources import render, shared_stories  # noqa: E402
from tests.fleet import source_id  # noqa: E402

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
TARGET = 5000  # articles/s, issue 8
COUNTIES = ["feixian", "mengyin", "lanling", "yishui", "pingyi", "junan", "tancheng", "yinan"]


def site(feeds: int) -> Site:
    lines = [
        "site: {title: bench, base_url: 'http://bench.example.org'}",
        "channels:",
        "  - {id: politics, title: 时政, keywords: [会议, 干部]}",
        "  - {id: economy, title: 经济, keywords: [企业, 项目]}",
        "regions:",
        "  - id: linyi",
        "    title: 临沂市",
        "    regions:",
    ]
    for c, county in enumerate(COUNTIES):
        lines += [f"      - id: {county}", f"        title: {county}", "        sources:"]
        lines += [
            f"          - {{id: {source_id(n)}, url: 'http://www.county{n}.example.cn/rss.xml'}}"
            for n in range(feeds)
            if n % len(COUNTIES) == c
        ]
    return load_text("\n".join(lines) + "\n", "bench.yaml").site


def articles_of(s: Site, feeds: int, entries: int) -> list[list[Article]]:
    """Every feed parsed and normalised, as a parser process hands it to the store."""
    shared = shared_stories()
    ctx = Context("Asia/Shanghai", s.channels)
    out = []
    for n in range(feeds):
        src = s.sources[source_id(n)]
        raw = parse_document(render(n, entries, NOW, shared), src.url, src)
        out.append([prepare(a) for a in normalise(raw, src, ctx, NOW)])
    return out


def ours(url: str, s: Site, polls: Sequence[Sequence[Article]], profile: bool) -> float:
    """Seconds spent in save_poll for every poll."""
    store = Store(url)
    try:
        store.configure(s)
        store.sync_sources(s, NOW - timedelta(days=1), random.Random(1))
        claims = {
            c.source_id: c
            for c in store.claim_due(NOW, len(polls), "bench", timedelta(hours=1), include_new=True)
        }
        prof = cProfile.Profile() if profile else None
        total = 0.0
        for arts in polls:
            sid = arts[0].source_id
            result = PollResult(sid, PollStatus.OK, NOW, 0.0, next_poll_at=NOW + timedelta(hours=1))
            t0 = time.perf_counter()
            if prof is not None:
                prof.enable()
            store.save_poll(claims[sid], result, SourceUpdate(), arts, NOW)
            if prof is not None:
                prof.disable()
            total += time.perf_counter() - t0
        stored = store.counts()["entries"]
        if stored != sum(len(a) for a in polls):
            raise SystemExit(f"ours: {stored} entries stored of {sum(len(a) for a in polls)}")
        if prof is not None:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return total
    finally:
        store.close()


def baseline(url: str, s: Site, polls: Sequence[Sequence[Article]]) -> float:
    """Seconds to write the same entries rows with one bare executemany per poll."""
    store = Store(url)
    try:
        store.sync_sources(s, NOW - timedelta(days=1), random.Random(1))
        total = 0.0
        with store.engine.connect() as conn:
            story = conn.execute(
                insert(STORIES)
                .values(published=NOW, updated_at=NOW, copies=1)
                .returning(STORIES.c.id)
            ).scalar_one()
            conn.commit()
            for arts in polls:
                t0 = time.perf_counter()
                rows = [_entry_values(a, story, NOW, NOW) for a in arts]
                with conn.begin():
                    conn.execute(insert(ENTRIES), rows)
                total += time.perf_counter() - t0
        return total
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--feeds", type=int, default=200)
    p.add_argument("--entries", type=int, default=50)
    p.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    p.add_argument("--pg", default=PG_DEFAULT)
    p.add_argument("--profile", action="store_true", help="cProfile of our ingest")
    args = p.parse_args(argv)

    s = site(args.feeds)
    t0 = time.perf_counter()
    polls = [arts for arts in articles_of(s, args.feeds, args.entries) if arts]
    count = sum(len(a) for a in polls)
    print(
        f"{args.feeds} feeds × {args.entries} entries: {count} articles "
        f"(parsed and normalised in {time.perf_counter() - t0:.1f}s, not timed)"
    )
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"{'database':<12}{'':<10}{'art/s':>9}{'ms/art':>9}{'seconds':>9}")
    for kind in kinds:
        with database(kind, args.pg, len(polls)) as url:
            mine = ours(url, s, polls, args.profile)
        with database(kind, args.pg, len(polls)) as url:
            base = baseline(url, s, polls)
        for name, secs in (("ours", mine), ("baseline", base)):
            print(
                f"{kind:<12}{name:<10}{count / secs:>9,.0f}{secs / count * 1000:>9.3f}{secs:>9.2f}"
            )
        verdict = "MET" if count / mine >= TARGET else "MISSED"
        print(
            f"{kind:<12}{'ratio':<10}{base / mine:>8.2f}×  (ours / baseline, art/s); "
            f"target {TARGET:,} art/s: {verdict}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
