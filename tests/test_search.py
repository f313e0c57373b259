"""Chinese search: bigram tokens, query phrases, and the index on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import delete, event

from aggregator.model import FeedQuery, FeedScope
from aggregator.store import Store, search
from aggregator.store.feeds import read_page
from aggregator.store.search import Phrase, fts5_query, index_tokens, parse_search, tsquery
from aggregator.store.tables import ENTRIES
from aggregator.web.app import make_app
from tests.conftest import _pg_schema_url, require_pg
from tests.factories import NOW, article, site_config, store_articles, web_runtime

GUID = "tag:news.example.org,2024:story/"
LINYI = FeedScope("region", region="linyi")


# ---------------------------------------------------------------- pure: tokens and queries


def test_cjk_runs_become_pairs_plus_their_last_character() -> None:
    assert index_tokens("费县山楂节", "") == ["费县", "县山", "山楂", "楂节", "节"]
    assert index_tokens("临沂", "G20峰会，ＲＳＳ订阅") == [
        "临沂",
        "沂",
        "g20",
        "峰会",
        "会",
        "rss",  # full-width letters are folded (NFKC) and lower-cased
        "订阅",
        "阅",
    ]
    assert index_tokens("！？", "  ") == []


@pytest.mark.parametrize(
    ("q", "phrases"),
    [
        ("费县", [Phrase(("费县",))]),
        ("县", [Phrase(("县",), prefix=True)]),
        ("乡村振兴", [Phrase(("乡村", "村振", "振兴"))]),
        ("乡村振兴 示范村", [Phrase(("乡村", "村振", "振兴")), Phrase(("示范", "范村"))]),
        ("费县，山楂", [Phrase(("费县",)), Phrase(("山楂",))]),  # punctuation splits words
        ('"山楂节"', [Phrase(("山楂", "楂节"))]),
        ("“山楂节”", [Phrase(("山楂", "楂节"))]),  # Chinese quotation marks
        ('"振兴 示范"', [Phrase(("振兴", "兴", "示范"))]),  # the gap is part of the phrase
        ("第3次", [Phrase(("第", "3", "次"), prefix=True)]),
        ("G20峰会", [Phrase(("g20", "峰会"))]),
        ("费县 费县", [Phrase(("费县",))]),
        ('"unclosed 山楂', [Phrase(("unclosed", "山楂"))]),
        ("！！ ……", []),
    ],
)
def test_parse_search(q, phrases) -> None:
    assert parse_search(q) == phrases


def test_query_text_for_each_database() -> None:
    phrases = parse_search('乡村振兴 "第3次"')
    assert fts5_query(phrases) == '"乡村 村振 振兴" AND "第 3 次" *'
    assert tsquery(phrases) == "('乡村' <-> '村振' <-> '振兴') & ('第' <-> '3' <-> '次':*)"


# ---------------------------------------------------------------- the index, both databases

ARTICLES = [
    # (source, n, title, text)
    ("feixian-news", 1, "费县山楂节开幕", "第3次乡村振兴 示范村建设现场会在费县召开"),
    ("feixian-news", 2, "临沂市召开全市经济工作会议", "会议部署明年重点项目。"),
    ("feixian-news", 3, "沂水蜜桃上市", "果农说今年山楂和蜜桃都丰收。"),
    ("mengyin-rb", 4, "蒙阴县举办乡村振兴示范村观摩", "各乡镇代表参加。"),
    ("mengyin-rb", 5, "G20峰会相关报道", "山楂节期间游客众多。"),
]


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    by_source: dict[str, list] = {}
    for source, n, title, body in ARTICLES:
        by_source.setdefault(source, []).append(
            article(source, n=n, title=title, text=body, summary=f"<p>{body}</p>")
        )
    for source, arts in by_source.items():
        store_articles(s, source, arts)
    yield s
    s.close()


def titles(store: Store, q: str, scope: FeedScope = LINYI, **kw) -> list[str]:
    items, _ = store.read_page(FeedQuery(scope, q=q, **kw), GUID)
    return [i.title for i in items]


SEARCHES = [
    ("费县", ["费县山楂节开幕"]),  # two characters, in the title and in the text
    ("临沂", ["临沂市召开全市经济工作会议"]),
    ("山楂", ["费县山楂节开幕", "沂水蜜桃上市", "G20峰会相关报道"]),
    ("楂", ["费县山楂节开幕", "沂水蜜桃上市", "G20峰会相关报道"]),  # one character
    ("节", ["费县山楂节开幕", "G20峰会相关报道"]),  # a run's last character
    ("乡村振兴 示范村", ["费县山楂节开幕", "蒙阴县举办乡村振兴示范村观摩"]),
    ("山楂 蜜桃", ["沂水蜜桃上市"]),  # several words: all of them
    ('"山楂节"', ["费县山楂节开幕", "G20峰会相关报道"]),
    ('"乡村振兴示范村"', ["蒙阴县举办乡村振兴示范村观摩"]),  # no gap in the phrase
    ('"乡村振兴 示范村"', ["费县山楂节开幕"]),  # the gap is there
    ("第3次", ["费县山楂节开幕"]),
    ("g20", ["G20峰会相关报道"]),
    ("Ｇ２０峰会", ["G20峰会相关报道"]),
    ("济南", []),
    ("！！", []),
]


def test_search_matches_words_of_any_length(store) -> None:
    wrong = {}
    for q, expected in SEARCHES:
        found = titles(store, q)
        if sorted(found) != sorted(expected):
            wrong[q] = found
    assert wrong == {}


def test_results_keep_the_feed_scope_and_newest_first(store) -> None:
    assert titles(store, "山楂", FeedScope("region", region="mengyin")) == ["G20峰会相关报道"]
    assert titles(store, "山楂", FeedScope("source", source="feixian-news")) == [
        "费县山楂节开幕",  # n=1 is an hour old, n=3 three hours
        "沂水蜜桃上市",
    ]
    assert titles(store, "山楂", FeedScope("channel", channel="economy")) == []


def test_paging_through_search_results(store) -> None:
    seen = []
    query = FeedQuery(LINYI, limit=1, q="山楂")
    while True:
        items, cursor = store.read_page(query, GUID)
        seen.extend(i.title for i in items)
        if cursor is None:
            break
        query = FeedQuery(LINYI, limit=1, q="山楂", before=cursor)
    assert seen == ["费县山楂节开幕", "沂水蜜桃上市", "G20峰会相关报道"]


def test_an_edit_is_reindexed_and_a_deleted_entry_leaves_the_index(store) -> None:
    edited = article(n=3, title="沂水蜜桃上市", text="今年苹果丰收。", content_hash="v2")
    store_articles(store, "feixian-news", [edited], NOW + timedelta(minutes=1))
    assert titles(store, "苹果") == ["沂水蜜桃上市"]
    assert "沂水蜜桃上市" not in titles(store, "山楂")
    apples = parse_search("苹果")
    with store.engine.connect() as conn:
        assert len(conn.execute(search.matching_entries(conn.dialect.name, apples)).all()) == 1
    with store.engine.connect() as conn, conn.begin():  # retention, or an admin, deletes it
        conn.execute(delete(ENTRIES).where(ENTRIES.c.title == "沂水蜜桃上市"))
    with store.engine.connect() as conn:
        assert conn.execute(search.matching_entries(conn.dialect.name, apples)).all() == []


# ---------------------------------------------------------------- from an index, not a scan


def _search_statement(conn, q: str):
    query = FeedQuery(LINYI, q=q)
    captured = []

    def grab(c, cursor, statement, parameters, context, executemany) -> None:
        if "feed_members" in statement and not captured:
            captured.append((statement, parameters))

    event.listen(conn, "before_cursor_execute", grab)
    read_page(conn, query, GUID)
    event.remove(conn, "before_cursor_execute", grab)
    return captured[0]


def test_sqlite_answers_from_the_fts5_index(sqlite_url) -> None:
    store = Store(sqlite_url)
    store.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    store_articles(store, "feixian-news", [article(n=1, title="费县山楂节开幕")])
    try:
        with store.engine.connect() as conn:
            statement, params = _search_statement(conn, "费县 山楂")
            plan = [r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
    finally:
        store.close()
    text_plan = "\n".join(plan)
    assert "entry_search VIRTUAL TABLE INDEX" in text_plan and ":M" in text_plan, text_plan
    assert "SEARCH entries USING INTEGER PRIMARY KEY" in text_plan, text_plan
    assert "SCAN entries" not in text_plan, text_plan
    assert "SEARCH feed_members USING" in text_plan, text_plan


@pytest.fixture
def pg_url():
    require_pg()
    yield from _pg_schema_url()


@pytest.mark.pg
def test_postgresql_answers_from_the_gin_index(pg_url) -> None:
    store = Store(pg_url)
    store.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    words = ["会议", "项目", "乡镇", "企业", "学校", "道路", "医院", "工作"]
    rng = random.Random(6)
    many = [
        article(n=i, title="".join(rng.choices(words, k=6)), text="".join(rng.choices(words, k=40)))
        for i in range(1, 400)
    ]
    store_articles(store, "feixian-news", [*many, article(n=400, title="费县山楂节开幕")])
    try:
        with store.engine.connect() as conn:
            # What autovacuum does in production: merge the GIN pending list, gather stats.
            conn.exec_driver_sql("SELECT gin_clean_pending_list('ix_entry_search_terms')")
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("SET enable_seqscan = off")  # a table this small fits a page
            statement, params = _search_statement(conn, "费县 山楂")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, params))
    finally:
        store.close()
    assert "Bitmap Index Scan on ix_entry_search_terms" in plan, plan


async def test_q_works_on_every_feed_url(store, aiohttp_client) -> None:
    client = await aiohttp_client(make_app(web_runtime(store)))
    for path in (
        "/feeds/region/linyi.json",
        "/feeds/channel/politics.json",
        "/feeds/region/feixian/politics.json",
        "/feeds/source/feixian-news.json",
    ):
        resp = await client.get(path, params={"q": "山楂"})
        assert resp.status == 200, path
        found = [i["title"] for i in (await resp.json(content_type=None))["items"]]
        assert "费县山楂节开幕" in found and "临沂市召开全市经济工作会议" not in found, path
    long = await client.get("/feeds/region/linyi.json", params={"q": "山" * 201})
    assert long.status == 400
