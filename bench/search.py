"""How fast search answers from the bigram index, against the LIKE scan it replaced.

    PYTHONPATH=. python bench/search.py          # from the repository root: 20 000 articles
    PYTHONPATH=. python bench/search.py --n 50000 --db postgresql://postgres@127.0.0.1:5432/test

Fills a fresh store (on PostgreSQL: a schema of its own, dropped after) with generated
county news, then times a page of search results (limit 50) for rare, common and
two-character words, and the same query as a LIKE scan over titles and texts. Prints
milliseconds per query and the ingest time per article with the index written.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select

from aggregator.model import Article, FeedQuery, FeedScope
from aggregator.store import Store
from aggregator.store.tables import ENTRIES, FEED_MEMBERS
from tests.factories import NOW, article, site_config, store_articles

COUNTIES = ["feixian", "mengyin", "lanling", "yishui", "pingyi", "junan"]
NAMES = {
    "feixian": "费县",
    "mengyin": "蒙阴",
    "lanling": "兰陵",
    "yishui": "沂水",
    "pingyi": "平邑",
    "junan": "莒南",
}
_PAIRS = (
    "召开会议项目企业乡村振兴示范学校医院道路农民增收蜜桃樱桃旅游"
    "文化干部党委招商产业民生就业养老社区街道工作部署推进建设发展"
)
WORDS = [_PAIRS[i : i + 2] for i in range(0, len(_PAIRS), 2)]  # two-character words
QUERIES = ["山楂", "费县", "临沂", "乡村振兴", "会议 项目", '"山楂节"', "楂"]


def site_yaml() -> str:
    lines = [
        "site: {title: bench, base_url: http://bench.example}",
        "regions:",
        "  - id: linyi",
        "    title: 临沂市",
        "    regions:",
    ]
    for c in COUNTIES:
        lines += [
            f"      - id: {c}",
            f"        title: {NAMES[c]}",
            "        sources:",
            f"          - {{id: {c}-news, url: http://{c}.example/rss.xml}}",
        ]
    return "\n".join(lines) + "\n"


def make_article(rng: random.Random, county: str, n: int) -> Article:
    title = NAMES[county] + "".join(rng.choices(WORDS, k=rng.randint(4, 9)))
    if rng.random() < 0.01:
        title += "山楂节"
    body = "。".join("".join(rng.choices(WORDS, k=12)) for _ in range(rng.randint(5, 20)))
    if rng.random() < 0.3:
        body = "临沂" + body
    return article(
        f"{county}-news",
        n=n,
        link=f"http://{county}.example/news/{n}.html",
        title=title,
        summary=f"<p>{body[:80]}</p>",
        text=body,
        published=NOW - timedelta(minutes=n),
        channels=(),
    )


def fill(store: Store, n: int) -> float:
    """Store `n` articles, 200 per poll; the seconds spent storing."""
    rng = random.Random(1)
    spent = 0.0
    per_batch = 200
    now = NOW
    for start in range(0, n, per_batch):
        county = COUNTIES[(start // per_batch) % len(COUNTIES)]
        arts = [make_article(rng, county, i) for i in range(start, min(n, start + per_batch))]
        now += timedelta(seconds=1)
        began = time.perf_counter()
        store_articles(store, f"{county}-news", arts, now)
        spent += time.perf_counter() - began
    return spent


def timed(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm
    began = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - began) / repeat * 1000


def like_scan(store: Store, q: str) -> None:
    words = [w for w in q.replace('"', " ").split() if w]
    cond = and_(*(or_(ENTRIES.c.title.contains(w), ENTRIES.c.text.contains(w)) for w in words))
    m = FEED_MEMBERS.c
    stmt = (
        select(m.story_id)
        .where(m.feed_key == "r:linyi", m.story_id.in_(select(ENTRIES.c.story_id).where(cond)))
        .order_by(m.published.desc(), m.story_id.desc())
        .limit(51)
    )
    with store.engine.connect() as conn:
        conn.execute(stmt).all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--db", default=None, help="PostgreSQL URL (default: temporary SQLite)")
    args = parser.parse_args()
    cleanup = None
    if args.db:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.db, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = f"{args.db}{'&' if '?' in args.db else '?'}options=-csearch_path%3D{schema}"

        def cleanup() -> None:
            with psycopg.connect(args.db, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    else:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
    store = Store(url)
    try:
        store.sync_sources(site_config(text=site_yaml()).site, NOW, random.Random(1))
        spent = fill(store, args.n)
        if store.dialect == "postgresql":
            with store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT gin_clean_pending_list('ix_entry_search_terms')")
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
        print(f"{store.dialect}: {args.n} articles, ingest {spent / args.n * 1000:.2f} ms/article")
        print(f"{'query':<14}{'hits':>6}{'index ms':>10}{'LIKE ms':>10}")
        scope = FeedScope("region", region="linyi")
        for q in QUERIES:
            query = FeedQuery(scope, limit=50, q=q)
            hits = len(store.read_page(query, "g")[0])
            index_ms = timed(lambda q=query: store.read_page(q, "g"))  # type: ignore[misc]
            like_ms = timed(lambda q=q: like_scan(store, q), repeat=2)  # type: ignore[misc]
            print(f"{q:<14}{hits:>6}{index_ms:>10.1f}{like_ms:>10.1f}")
    finally:
        store.close()
        if cleanup is not None:
            cleanup()


if __name__ == "__main__":
    main()
