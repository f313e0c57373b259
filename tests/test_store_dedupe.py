"""Syndicated copies through the store, on SQLite and PostgreSQL: one story, every appearance."""

from __future__ import annotations

import importlib
import random
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from aggregator.model import Dedupe, FeedQuery, FeedScope, FullText, RawEntry, RawFeed
from aggregator.normalise import Context, normalise
from aggregator.normalise.fingerprint import fingerprint
from aggregator.normalise.identity import digest
from aggregator.store import Store, bulk
from aggregator.store.tables import ENTRIES, STORY_BANDS
from tests import test_store
from tests.factories import NOW, article, site_config
from tests.test_store import region, save

matching_module = importlib.import_module("aggregator.store.matching")
store = test_store.store  # the same fixture: a store on each database, sources synced
GUID = test_store.GUID
BODY = (
    "11月19日，费县召开全县安全生产暨森林防火工作会议，总结今年以来全县安全生产工作，"
    "部署冬春季安全防范和森林防火重点任务。会议指出，今年以来全县安全生产形势总体平稳，"
    "生产安全事故起数和死亡人数实现“双下降”。会议要求，各乡镇街道、各部门要坚持人民至上、"
    "生命至上，深入开展重大事故隐患专项排查整治，坚决防范遏制重特大事故发生。"
)
OTHER = (
    "11月18日，蒙山迎来今冬首场降雪，雪后的蒙山银装素裹，云雾缭绕，宛如一幅水墨画卷。"
    "不少游客和摄影爱好者慕名而来，登山赏雪，拍摄美景。景区工作人员提醒，雪后山路湿滑，"
    "游客要注意安全，听从工作人员指挥，文明有序游览。"
)
TITLE = "费县召开安全生产暨森林防火工作会议"


def items(store: Store, scope: FeedScope):
    return store.read_page(FeedQuery(scope, limit=100), GUID)[0]


def copy(source_id: str, n: int, title: str, text: str, minutes: float = 0, **kw):
    """An article of its source's own site whose summary and text are `text`, published
    `minutes` after NOW - n hours."""
    link = kw.pop("link", f"http://{source_id}.example.cn/news/{n}.html")
    base = article(source_id, n, title=title, summary=f"<p>{text}</p>", text=text, link=link)
    return replace(
        base,
        published=base.published + timedelta(minutes=minutes),
        content_hash=digest(source_id, str(n), title, text),
        **kw,
    )


def merged_by(store: Store, source_id: str):
    with store.engine.connect() as conn:
        return conn.scalar(select(ENTRIES.c.merged_by).where(ENTRIES.c.source_id == source_id))


def test_a_reprint_with_its_own_link_merges_across_sources_and_regions(store: Store) -> None:
    original = copy("feixian-news", 1, TITLE, BODY)
    reprint = copy(
        "linyi-daily",
        1,
        "【图】" + TITLE + " ",
        "来源：费县新闻网\u3000" + BODY[:90] + "……",
        minutes=45,
        link="http://www.linyi.example.cn/daily/2026/1127/8.html?utm_source=wx",
        guid="lyrb-8",
        channels=("economy",),
        origin="费县新闻网",
    )
    save(store, "feixian-news", [original])
    save(store, "linyi-daily", [reprint])
    for rid in ("shandong", "linyi", "feixian"):  # the county copy puts it in the county
        (story,) = items(store, region(rid))
        assert [a.source_id for a in story.appearances] == ["feixian-news", "linyi-daily"]
    assert items(store, region("mengyin")) == []
    assert story.published == original.published  # the earliest copy
    assert story.link == original.link  # the original publisher first
    assert set(story.channels) == {"politics", "economy"}  # the union
    assert [a.link for a in story.appearances][1].startswith("http://www.linyi.example.cn/")
    rc = items(store, FeedScope("region_channel", region="feixian", channel="economy"))
    assert len(rc) == 1  # the daily's channel, in the county of the other copy
    why = merged_by(store, "linyi-daily")
    assert why["rule"] == "near-duplicate" and why["score"] >= 0.8
    assert why["minutes_apart"] == 45.0
    assert merged_by(store, "feixian-news") is None  # it began the story


def test_a_story_many_sites_carry_gathers_every_copy(store: Store, monkeypatch) -> None:
    """Past MAX_JUDGED copies, a new copy is judged against the closest few and still joins."""
    monkeypatch.setattr(matching_module, "MAX_JUDGED", 2)
    sources = ["feixian-news", "feixian-syn", "feixian-gov", "mengyin-rb", "lanling-tv",
               "linyi-daily"]  # fmt: skip
    for i, sid in enumerate(sources):
        body = BODY if i % 2 else "来源：临沂日报 " + BODY + f"（编辑：{sid}）"
        save(store, sid, [copy(sid, 1, TITLE, body, minutes=10 * i)])
    (story,) = items(store, region("shandong"))
    assert sorted(a.source_id for a in story.appearances) == sorted(sources)
    assert merged_by(store, "linyi-daily")["rule"] == "near-duplicate"


def test_region_roll_up_of_a_story_the_city_paper_took_from_a_county(store: Store) -> None:
    save(store, "mengyin-rb", [copy("mengyin-rb", 1, "蒙山雪后美如画", OTHER)])
    save(store, "linyi-daily", [copy("linyi-daily", 1, "蒙山雪后美如画", "来源：蒙阴报 " + OTHER)])
    save(store, "feixian-news", [copy("feixian-news", 2, TITLE, BODY)])
    assert len(items(store, region("mengyin"))) == 1
    assert [i.title for i in items(store, region("feixian"))] == [TITLE]
    linyi = items(store, region("linyi"))
    assert len(linyi) == 2 and len({i.story_id for i in linyi}) == 2
    assert store.counts() == {"entries": 3, "stories": 2}


def test_look_alikes_from_other_sources_stay_apart(store: Store) -> None:
    save(
        store,
        "feixian-news",
        [
            copy(
                "feixian-news",
                1,
                "通知",
                "因线路检修，11月28日8:00至12:00城区部分路段停电，请提前做好准备。",
            ),
            copy("feixian-news", 2, "沂蒙红色故事（一）", "编者按：本报推出系列报道。" + OTHER),
            copy("feixian-news", 3, "费县第十届山楂文化旅游节开幕", BODY),
        ],
    )
    save(
        store,
        "mengyin-rb",
        [
            copy(
                "mengyin-rb",
                1,
                "通知",
                "定于12月1日上午9时在县政府第一会议室召开全县冬季安全生产工作会议。",
            ),
            copy("mengyin-rb", 2, "沂蒙红色故事（二）", "编者按：本报推出系列报道。" + OTHER),
            copy("mengyin-rb", 3, "费县第九届山楂文化旅游节开幕", BODY),
        ],
    )
    assert store.counts() == {"entries": 6, "stories": 6}
    assert all(len(i.appearances) == 1 for i in items(store, region("linyi")))


def test_one_source_never_merges_its_own_alike_articles(store: Store) -> None:
    first = copy("feixian-news", 1, TITLE, BODY)
    again = copy("feixian-news", 2, TITLE, BODY, minutes=60)  # another guid, another link
    save(store, "feixian-news", [first])
    save(store, "feixian-news", [again])
    assert store.counts() == {"entries": 2, "stories": 2}
    # … and a third source's copy joins one of them, not both.
    save(store, "mengyin-rb", [copy("mengyin-rb", 1, TITLE, BODY, minutes=70)])
    assert store.counts() == {"entries": 3, "stories": 2}


def test_a_source_giving_every_item_one_link_is_not_collapsed(store: Store) -> None:
    source = site_config().site.sources["feixian-syn"]
    raw = RawFeed(
        "rss20",
        entries=tuple(
            RawEntry(
                title=f"费县新闻第{i}条：{t}",
                link="http://www.feixian.example.cn/index.html",
                summary=text,
                published_raw=f"2026-11-27 0{i}:00",
            )
            for i, (t, text) in enumerate(
                [
                    ("安全会议", BODY),
                    ("蒙山雪景", OTHER),
                    ("冬季征兵", "兰陵县冬季征兵体检工作圆满完成。"),
                ],
                1,
            )
        ),
    )
    articles = normalise(raw, source, Context("Asia/Shanghai"), NOW)
    assert len({a.key for a in articles}) == 3
    assert all(a.canonical_link == "" for a in articles)  # the shared link is no identity
    save(store, "feixian-syn", articles)
    home = copy(
        "feixian-news", 9, "费县首页", OTHER[:30], link="http://www.feixian.example.cn/index.html"
    )
    save(store, "feixian-news", [home])
    assert store.counts() == {"entries": 4, "stories": 4}


def test_a_uri_guid_names_the_same_story(store: Store) -> None:
    original = copy("feixian-news", 1, TITLE, BODY)
    reprint = copy(
        "linyi-daily",
        1,
        "县里开会部署冬季工作",
        "详见原文。",
        minutes=300,
        link="http://www.linyi.example.cn/daily/8.html",
        guid=original.link.replace("http://www.", "HTTPS://"),  # canonically the same
    )
    save(store, "feixian-news", [original])
    save(store, "linyi-daily", [reprint])
    assert store.counts()["stories"] == 1
    assert merged_by(store, "linyi-daily")["rule"] == "guid"


def test_the_same_canonical_link_merges_whatever_the_text(store: Store) -> None:
    original = copy("feixian-news", 1, TITLE, BODY)
    tracked = copy(
        "linyi-daily", 1, "另一个标题", OTHER, minutes=600, link=original.link + "?utm_medium=rss"
    )
    assert tracked.canonical_link == original.canonical_link
    save(store, "feixian-news", [original])
    save(store, "linyi-daily", [tracked])
    assert store.counts()["stories"] == 1
    assert merged_by(store, "linyi-daily")["rule"] == "link"


def test_the_window_comes_from_the_config(store: Store) -> None:
    late = copy("linyi-daily", 1, TITLE, BODY, minutes=60 * 24 * 8, link="http://l.example.cn/1")
    save(store, "feixian-news", [copy("feixian-news", 1, TITLE, BODY)])
    save(store, "linyi-daily", [late])
    assert store.counts()["stories"] == 2
    site = site_config().site
    store.sync_sources(replace(site, dedupe=Dedupe(window=timedelta(days=10))), NOW)
    save(store, "mengyin-rb", [copy("mengyin-rb", 1, TITLE, BODY, minutes=60 * 24 * 9)])
    assert store.counts()["stories"] == 2  # joined one of them: ten days reach both


def test_an_edited_copy_is_found_by_its_new_text(store: Store) -> None:
    first = copy("feixian-news", 1, TITLE, "简讯。")
    save(store, "feixian-news", [first])
    edited = replace(first, summary=f"<p>{BODY}</p>", text=BODY, content_hash="edited")
    assert save(store, "feixian-news", [edited]).updated == 1
    with store.engine.connect() as conn:
        keys = set(conn.scalars(select(STORY_BANDS.c.band_key)))
    assert keys == set(fingerprint(TITLE, BODY).keys)  # the old keys went, the new came
    save(store, "linyi-daily", [copy("linyi-daily", 1, "【图】" + TITLE, BODY, minutes=90)])
    assert store.counts()["stories"] == 1


def test_a_fetched_article_page_is_indexed_for_later_copies(store: Store) -> None:
    listed = copy("feixian-syn", 1, TITLE, "")  # a list page gives the title alone
    save(store, "feixian-syn", [listed])
    page = FullText(url=listed.link, fetched_at=NOW, ok=True, body=f"<p>{BODY}</p>", text=BODY)
    enriched = replace(listed, content=f"<p>{BODY}</p>", text=BODY, content_hash="page")
    store.save_pages("feixian-syn", {listed.key: page}, [enriched], NOW)
    with store.engine.connect() as conn:
        keys = set(conn.scalars(select(STORY_BANDS.c.band_key)))
    assert keys == set(fingerprint(TITLE, BODY).keys)
    # A copy under another title is found by the page's body.
    retitled = copy("linyi-daily", 1, "县里部署冬春季安全防范工作", BODY, minutes=120)
    save(store, "linyi-daily", [retitled])
    assert store.counts()["stories"] == 1
    assert merged_by(store, "linyi-daily")["body_similarity"] == 1.0


def test_the_publisher_a_来源_line_names_comes_first(store: Store) -> None:
    daily = copy("linyi-daily", 1, TITLE, BODY, minutes=30)  # published later …
    county = copy("feixian-news", 1, TITLE, "来源：临沂日报社 " + BODY, origin="临沂日报社")
    save(store, "feixian-news", [county])
    save(store, "linyi-daily", [daily])
    (story,) = items(store, region("linyi"))
    assert story.source_id == "linyi-daily" and story.link == daily.link  # … but is the original
    assert story.origin == "临沂日报社"
    assert story.published == county.published


def test_candidates_are_found_by_an_index_range_scan(sqlite_url: str) -> None:
    s = Store(sqlite_url)
    try:
        s.sync_sources(site_config().site, NOW, random.Random(1))
        save(s, "feixian-news", [copy("feixian-news", 1, TITLE, BODY)])
        plans: list[str] = []

        @event.listens_for(s.engine, "before_cursor_execute")
        def grab(conn, cursor, statement, params, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")) and "FROM" in statement:
                rows = cursor.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
                plans.append(" | ".join(str(r[-1]) for r in rows))

        save(s, "mengyin-rb", [copy("mengyin-rb", 1, TITLE, BODY)])
        event.remove(s.engine, "before_cursor_execute", grab)
        assert any("SEARCH story_bands USING" in p for p in plans), plans
        for plan in plans:  # nothing in storing a poll reads a whole table
            assert "SCAN entries" not in plan and "SCAN story_bands" not in plan, plan
            assert "SCAN stories" not in plan and "SCAN feed_members" not in plan, plan
        with s.engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(STORY_BANDS)) == 2 * 18
    finally:
        s.close()


@pytest.mark.pg
def test_candidates_are_found_by_an_index_range_scan_on_postgresql(pg_url: str) -> None:
    """With statistics saying story_bands is small, a plain join of the poll's keys to it
    was planned as a hash of the whole table: a cost that grows with the store."""
    s = Store(pg_url)
    try:
        s.sync_sources(site_config().site, NOW, random.Random(1))
        save(s, "feixian-news", [copy("feixian-news", 1, TITLE, BODY)])
        # Other stories' keys, each carried by 25 copies (syndication), as in bench/ingest.py.
        rng = random.Random(5)
        keys = [rng.getrandbits(62) for _ in range(2000)]
        filler = [(keys[i % 2000], NOW, 10_000 + i, 10_000 + i // 18) for i in range(50_000)]
        with s.engine.begin() as conn:
            cols = ("band_key", "published", "entry_id", "story_id")
            bulk.insert(conn, STORY_BANDS, cols, filler)
        with s.engine.connect() as conn:
            conn.execute(text("ANALYZE story_bands"))
            conn.commit()
        plans: list[str] = []

        @event.listens_for(s.engine, "before_cursor_execute")
        def grab(conn, cursor, statement, params, context, executemany):
            if "FROM story_bands" in statement and "GROUP BY" in statement:
                cursor.execute("EXPLAIN " + statement, params)
                plans.append(" | ".join(r[0] for r in cursor.fetchall()))

        rng = random.Random(6)  # a first poll: 50 articles, 900 keys to look up
        poll = [copy("mengyin-rb", 1, TITLE, BODY)]
        poll += [
            copy("mengyin-rb", n, f"第{n}条消息", "".join(rng.choice(BODY) for _ in range(120)))
            for n in range(2, 51)
        ]
        save(s, "mengyin-rb", poll)
        event.remove(s.engine, "before_cursor_execute", grab)
        assert plans and all("story_bands_pkey" in p for p in plans), plans
        assert not any("Seq Scan on story_bands" in p for p in plans), plans
        assert s.counts()["stories"] == 50  # and the copy was merged
    finally:
        s.close()


WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"


@pytest.mark.pg
def test_two_pollers_storing_copies_at_once_still_merge_them() -> None:
    """The second poller waits for the first one's copy instead of missing it."""
    from tests.conftest import _pg_schema_url, require_pg

    require_pg()
    urls = _pg_schema_url()
    url = next(urls)
    first, second = Store(url), Store(url)
    try:
        first.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
        second.configure(site_config().site)
        ingest_module = importlib.import_module("aggregator.store.ingest")
        done = threading.Event()
        with first.engine.connect() as conn, conn.begin():
            ingest_module.ingest(
                conn, "feixian-news", [copy("feixian-news", 1, TITLE, BODY)], NOW, first.regions_of
            )
            worker = threading.Thread(
                target=lambda: (
                    save(
                        second,
                        "linyi-daily",
                        [copy("linyi-daily", 1, "【图】" + TITLE, BODY, minutes=5)],
                    ),
                    done.set(),
                )
            )
            worker.start()
            for _ in range(600):  # until the second poller waits for the matching lock
                with first.engine.connect() as probe:
                    waiting = probe.scalar(text(WAITING))
                if waiting or done.wait(0.05):
                    break
            assert waiting and not done.is_set()
        worker.join(30)
        assert done.is_set()
        assert first.counts() == {"entries": 2, "stories": 1}
    finally:
        first.close()
        second.close()
        next(urls, None)
