"""De-duplication benchmark: precision and recall on the labelled set, ingest cost by store size.

Usage (from the repository root, with the project installed):

    python bench/dedupe.py                          # 10k and 1M stored, SQLite and PostgreSQL
    python bench/dedupe.py --sizes 10000 --db sqlite   # a quick look
    python bench/dedupe.py --pg postgresql://postgres@127.0.0.1:5432/test

1. Precision and recall: every pair of tests/data/dedupe/pairs.jsonl goes through the
   matcher's pure part (shared lookup keys, then normalise.dedupe.judge), as the test
   tests/test_dedupe_pairs.py does.
2. Ingest cost: a fresh store is filled with N synthetic stored articles (bulk inserts
   straight into entries, stories, story_bands and feed_members, spread back in time at
   about 10 000 a week, so every size has the same number of articles in the 7-day
   window and the rest only makes the tables and indexes bigger). The newest stored
   articles are real texts (side a of the labelled pairs). Then new articles (side b of
   the pairs, a third of them copies, the rest look-alikes or fresh) are saved through
   the real path, Store.save_poll, in polls of 25, and the time per article is printed,
   with the part spent finding copies (store.matching) and, separately, normalising
   with the channel rules (normalise, which runs before the store).

The 1M case fills about 18M lookup keys: minutes per database. The machine is shared:
run it once by hand and keep the figures in bench/README.md.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from aggregator.config import load_text
from aggregator.model import (
    Article,
    DatePrecision,
    PollResult,
    PollStatus,
    RawEntry,
    RawFeed,
    Site,
)
from aggregator.normalise import Context, normalise
from aggregator.normalise.dedupe import Copy, judge
from aggregator.normalise.fingerprint import fingerprint
from aggregator.normalise.identity import digest
from aggregator.store import SourceUpdate, Store
from aggregator.store.tables import STORY_BANDS

ingest_module = importlib.import_module("aggregator.store.ingest")
ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "data" / "dedupe" / "pairs.jsonl"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PER_WEEK = 10_000  # stored articles per week of history, whatever the size
# The PostgreSQL the store benchmarks use unless --pg says otherwise (the tests' server).
PG_DEFAULT = os.environ.get("AGGREGATOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
POLL = 25  # new articles per save_poll, as one poll of a busy source brings
COUNTIES = [
    "feixian",
    "mengyin",
    "lanling",
    "yishui",
    "pingyi",
    "junan",
    "tancheng",
    "yinan",
    "linshu",
    "lanshan",
    "luozhuang",
    "hedong",
]
KINDS = ["news", "gov", "tv", "rb"]
CHANNELS = ["politics", "economy", "livelihood", "culture", "rural", "photo"]
FILLER_CHARS = "县乡镇村发展建设工作会议项目企业群众服务安全生产农业旅游文化教育医疗就业乡村振兴"


def load_pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in PAIRS.read_text("utf-8").splitlines()]


def _copy(side: dict[str, Any]) -> Copy:
    published = datetime.fromisoformat(side["published"].replace("Z", "+00:00"))
    fp = fingerprint(side["title"], side["text"])
    return Copy(side["title"], fp, published, DatePrecision(side["precision"]))


def quality(pairs: list[dict[str, Any]]) -> str:
    tp = fp = fn = tn = 0
    wrong: list[str] = []
    for p in pairs:
        a, b = _copy(p["a"]), _copy(p["b"])
        merged = bool(set(a.fp.keys) & set(b.fp.keys)) and judge(a, b).same
        if merged and p["label"]:
            tp += 1
        elif merged:
            fp += 1
            wrong.append(f"  wrongly merged: {p['id']} ({p['note']})")
        elif p["label"]:
            fn += 1
            wrong.append(f"  missed: {p['id']} ({p['note']})")
        else:
            tn += 1
    lines = [
        f"labelled pairs: {len(pairs)} ({tp + fn} copies, {fp + tn} look-alikes)",
        f"precision {tp / max(1, tp + fp):.4f}  recall {tp / max(1, tp + fn):.4f}"
        f"  (tp {tp}, fp {fp}, fn {fn}, tn {tn}; targets 0.995 and 0.95)",
        *wrong,
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- the store


def site() -> Site:
    lines = [
        "site: {title: bench, base_url: 'http://bench.example.org'}",
        "channels:",
        *(f"  - {{id: {c}, title: {c}, keywords: [会议, 项目]}}" for c in CHANNELS),
        "regions:",
        "  - id: shandong",
        "    title: 山东",
        "    sources: [{id: province, url: 'http://p.example.cn/rss'}]",
        "    regions:",
        "      - id: linyi",
        "        title: 临沂市",
        "        sources: [{id: city, url: 'http://c.example.cn/rss'}]",
        "        regions:",
    ]
    for county in COUNTIES:
        lines += [
            f"          - id: {county}",
            f"            title: {county}",
            "            sources:",
        ]
        lines += [
            f"              - {{id: {county}-{k}, url: 'http://{county}.example.cn/{k}.xml'}}"
            for k in KINDS
        ]
    return load_text("\n".join(lines) + "\n", "bench.yaml").site


def sources(s: Site) -> list[tuple[str, tuple[str, ...]]]:
    return [(sid, s.ancestors(src.region)) for sid, src in s.sources.items()]


def _ts(d: datetime, dialect: str) -> Any:
    """A time as the store writes it: naive UTC text on SQLite, aware on PostgreSQL."""
    return d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else d


def filler_rows(n: int, s: Site, dialect: str, seed: int = 7) -> Iterator[dict[str, list[tuple]]]:
    """Synthetic stored articles, newest first, in chunks of rows per table."""
    rng = random.Random(seed)
    srcs = sources(s)
    step = timedelta(weeks=1) / PER_WEEK
    chunk: dict[str, list[tuple]] = {"entries": [], "stories": [], "bands": [], "members": []}
    seen = _ts(NOW, dialect)
    for i in range(1, n + 1):
        sid, regions = srcs[i % len(srcs)]
        channel = CHANNELS[i % len(CHANNELS)]
        published = _ts(NOW - timedelta(days=1) - step * i, dialect)
        text = "".join(rng.choice(FILLER_CHARS) for _ in range(160))
        title = text[:18]
        link = f"http://{sid}.example.cn/{i}.html"
        chunk["entries"].append(
            (
                i,
                sid,
                "g" + digest(sid, str(i)),
                i,
                f"{sid}-{i}",
                link,
                digest(link),
                title,
                digest(title),
                text[:60],
                text,
                f'["{channel}"]',
                f'{{"{channel}": "keyword:会议 in title"}}',
                published,
                "datetime",
                seen,
                seen,
                digest(str(i)),
            )
        )
        chunk["stories"].append((i, published, seen, i, 1))
        chunk["bands"].extend((rng.getrandbits(63), published, i, i) for _ in range(18))
        keys = [f"s:{sid}", f"c:{channel}"]
        keys += [f"r:{r}" for r in regions] + [f"rc:{r}:{channel}" for r in regions]
        chunk["members"].extend((k, i, published) for k in keys)
        if i % 20_000 == 0 or i == n:
            yield chunk
            chunk = {"entries": [], "stories": [], "bands": [], "members": []}


ENTRY_COLS = (
    "id, source_id, key, story_id, guid, link, link_hash, title, title_hash, summary, "
    "text, channels, channel_rules, published, precision, first_seen, updated_at, "
    "content_hash"
)
FILL_SQL = {
    "entries": f"INSERT INTO entries ({ENTRY_COLS}, content, categories, enclosures) "
    f"VALUES ({', '.join(['?'] * 18)}, '', '[]', '[]')",
    "stories": "INSERT INTO stories (id, published, updated_at, best_entry_id, copies) "
    "VALUES (?, ?, ?, ?, ?)",
    "bands": "INSERT INTO story_bands (band_key, published, entry_id, story_id) "
    "VALUES (?, ?, ?, ?)",
    "members": "INSERT INTO feed_members (feed_key, story_id, published) VALUES (?, ?, ?)",
}
COPY_SQL = {
    "entries": f"COPY entries ({ENTRY_COLS}, content, categories, enclosures) FROM STDIN",
    "stories": "COPY stories (id, published, updated_at, best_entry_id, copies) FROM STDIN",
    "bands": "COPY story_bands (band_key, published, entry_id, story_id) FROM STDIN",
    "members": "COPY feed_members (feed_key, story_id, published) FROM STDIN",
}


def fill(store: Store, n: int, s: Site) -> float:
    """Bulk-insert n synthetic articles; returns seconds taken."""
    t0 = time.perf_counter()
    dialect = store.dialect
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "sqlite":
            cur.execute("PRAGMA synchronous=OFF")
            for chunk in filler_rows(n, s, dialect):
                cur.execute("BEGIN")  # the store's connections run in autocommit mode
                for table, rows in chunk.items():
                    cur.executemany(FILL_SQL[table], rows)
                cur.execute("COMMIT")
                _progress(chunk, n)
        else:
            for chunk in filler_rows(n, s, dialect):
                for table, rows in chunk.items():
                    extra = ("", "[]", "[]") if table == "entries" else ()
                    with cur.copy(COPY_SQL[table]) as copy:
                        for row in rows:
                            copy.write_row(row + extra)
                raw.commit()
                _progress(chunk, n)
            cur.execute("SELECT setval('entries_id_seq', %s)", (n,))
            cur.execute("SELECT setval('stories_id_seq', %s)", (n,))
            raw.commit()
            cur.execute("ANALYZE")  # what autovacuum does on a server that has run a while
            raw.commit()
    finally:
        raw.close()
    print(file=sys.stderr)
    return time.perf_counter() - t0


def _progress(chunk: dict[str, list[tuple]], n: int) -> None:
    done = chunk["entries"][-1][0]
    print(f"\r  filled {done:,}/{n:,}", end="", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- new articles


def as_article(side: dict[str, Any], source_id: str, n: int, when: datetime) -> Article:
    title, text = side["title"], side["text"]
    link = f"http://{source_id}.example.cn/bench/{n}.html"
    return Article(
        source_id=source_id,
        key="g" + digest(source_id, "bench", str(n)),
        link=link,
        title=title,
        summary=f"<p>{text[:300]}</p>",
        content="",
        author=None,
        categories=(),
        published=when,
        precision=DatePrecision(side["precision"]),
        channels=(),
        content_hash=digest(title, text),
        guid=f"{source_id}-bench-{n}",
        canonical_link=link,
        text=text,
    )


def workload(pairs: list[dict[str, Any]], s: Site) -> tuple[list[Article], list[list[Article]]]:
    """Real stored articles (side a) and the new ones to ingest (side b), in polls of one
    source each."""
    rng = random.Random(3)
    srcs = [sid for sid in s.sources if sid.endswith(("-news", "-gov"))]
    order = list(range(len(pairs)))
    rng.shuffle(order)
    stored: list[Article] = []
    polls: list[list[Article]] = []
    for i, n in enumerate(order):
        p = pairs[n]
        a = datetime.fromisoformat(p["a"]["published"].replace("Z", "+00:00"))
        b = datetime.fromisoformat(p["b"]["published"].replace("Z", "+00:00"))
        when = NOW - timedelta(minutes=rng.randint(60, 60 * 24 * 3))
        src_b = srcs[(i // POLL) % len(srcs)]
        src_a = rng.choice([x for x in srcs if x != src_b])
        stored.append(as_article(p["a"], src_a, n, when))
        if i % POLL == 0:
            polls.append([])
        polls[-1].append(as_article(p["b"], src_b, n, when + (b - a)))
    return stored, polls


@contextmanager
def timed_matching() -> Iterator[list[float]]:
    spent: list[float] = []
    real = ingest_module.match_stories

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    ingest_module.match_stories = wrapper  # type: ignore[assignment]
    try:
        yield spent
    finally:
        ingest_module.match_stories = real  # type: ignore[assignment]


def save(store: Store, articles: list[Article]) -> float:
    """Store one poll's articles through the real path; seconds spent in save_poll."""
    source_id = articles[0].source_id
    store.set_flags(source_id, next_poll_at=NOW - timedelta(seconds=1))
    (claim,) = store.claim_due(
        NOW, 1, "bench", timedelta(minutes=5), only=[source_id], include_new=True
    )
    result = PollResult(source_id, PollStatus.OK, NOW, 0.0, next_poll_at=NOW + timedelta(hours=1))
    t0 = time.perf_counter()
    store.save_poll(claim, result, SourceUpdate(), articles, NOW)
    return time.perf_counter() - t0


def run_size(url: str, n: int, pairs: list[dict[str, Any]]) -> dict[str, Any]:
    s = site()
    store = Store(url)
    try:
        store.sync_sources(s, NOW - timedelta(days=800), random.Random(1))
        filled = fill(store, n, s)
        stored, polls = workload(pairs, s)
        for sid in dict.fromkeys(a.source_id for a in stored):  # the real recent articles
            save(store, [a for a in stored if a.source_id == sid])
        save(store, polls[0])  # warm the caches once
        count, total = 0, 0.0
        with timed_matching() as spent:
            for poll in polls[1:]:
                total += save(store, poll)
                count += len(poll)
        with store.engine.connect() as conn:
            bands = conn.scalar(select(func.count()).select_from(STORY_BANDS))
        counts = store.counts()
        return {
            "stored": n,
            "fill_s": filled,
            "articles": count,
            "ms_per_article": total / count * 1000,
            "match_ms_per_article": sum(spent) / count * 1000,
            "entries": counts["entries"],
            "stories": counts["stories"],
            "bands": bands,
        }
    finally:
        store.close()


def classify_cost(pairs: list[dict[str, Any]]) -> float:
    """ms per article to normalise a document of them with channel rules (store size plays
    no part: it runs before the store)."""
    s = site()
    source = next(iter(s.sources.values()))
    entries = tuple(
        RawEntry(
            guid=f"g{i}",
            link=f"http://x.example.cn/{i}.html",
            title=p["b"]["title"],
            summary=p["b"]["text"],
            categories=("时政要闻",),
            published_raw=p["b"]["published"],
        )
        for i, p in enumerate(pairs)
    )
    raw = RawFeed("rss20", entries=entries)
    ctx = Context("Asia/Shanghai", s.channels)
    normalise(raw, source, ctx, NOW)
    t0 = time.perf_counter()
    normalise(raw, source, ctx, NOW)
    return (time.perf_counter() - t0) / len(entries) * 1000


@contextmanager
def database(kind: str, pg: str, n: int) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dedupe-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    import psycopg

    schema = f"bench_{n}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        sep = "&" if "?" in pg else "?"
        yield f"{pg}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="stored articles, comma separated")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default=PG_DEFAULT)
    args = parser.parse_args()
    pairs = load_pairs()
    print(quality(pairs))
    print(f"normalise with channel rules: {classify_cost(pairs):.3f} ms/article")
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    out = io.StringIO()
    print(
        f"{'database':<11} {'stored':>10} {'fill':>8} {'new':>5} {'ingest ms/art':>14} "
        f"{'matching ms/art':>16} {'lookup keys':>12}",
        file=out,
    )
    for kind in kinds:
        for n in (int(x) for x in args.sizes.split(",")):
            with database(kind, args.pg, n) as url:
                r = run_size(url, n, pairs)
            line = (
                f"{kind:<11} {r['stored']:>10,} {r['fill_s']:>7.0f}s {r['articles']:>5} "
                f"{r['ms_per_article']:>14.2f} {r['match_ms_per_article']:>16.2f} {r['bands']:>12,}"
            )
            print(line, flush=True)
            print(line, file=out)
    print()
    print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
