"""The store on SQLite and PostgreSQL: idempotent ingest, stories, membership, leases."""

from __future__ import annotations

import importlib
import random
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from aggregator.model import (
    Article,
    Cursor,
    DatePrecision,
    FeedQuery,
    FeedScope,
    FullText,
    PollStatus,
)
from aggregator.store import LeaseLost, SourceUpdate, Store
from aggregator.store import pages as pages_module
from aggregator.store.tables import ENTRIES, SOURCES
from tests.factories import NOW, article, poll_result, site_config

ingest_module = importlib.import_module("aggregator.store.ingest")

GUID = "tag:news.example.org,2024:story/"
LEASE = timedelta(minutes=2)


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    yield s
    s.close()


def claim(store: Store, source_id: str, owner: str = "p1"):
    store.set_flags(source_id, next_poll_at=NOW - timedelta(seconds=1))  # "poll now"
    claims = store.claim_due(NOW, 1, owner, LEASE, only=[source_id], include_new=True)
    assert [c.source_id for c in claims] == [source_id]
    return claims[0]


def save(store: Store, source_id: str, articles, update: SourceUpdate | None = None):
    c = claim(store, source_id)
    return store.save_poll(c, poll_result(source_id), update or SourceUpdate(), articles, NOW)


def page(store: Store, scope: FeedScope, limit: int = 50, before: Cursor | None = None):
    return store.read_page(FeedQuery(scope, limit=limit, before=before), GUID)


def region(rid: str) -> FeedScope:
    return FeedScope("region", region=rid)


def test_same_entries_twice_are_stored_once(store: Store) -> None:
    arts = [article(n=i) for i in range(1, 4)]
    first = save(store, "feixian-news", arts)
    again = save(store, "feixian-news", arts)
    assert (first.new, again.new, again.updated, again.unchanged) == (3, 0, 0, 3)
    assert store.counts() == {"entries": 3, "stories": 3}


def test_an_edited_entry_is_updated_not_duplicated(store: Store) -> None:
    save(store, "feixian-news", [article(n=1)])
    edited = article(n=1, title="费县召开招商引资工作会议（更新）", content_hash="v2")
    stats = save(store, "feixian-news", [edited])
    assert (stats.new, stats.updated) == (0, 1)
    items, _ = page(store, region("feixian"))
    assert [i.title for i in items] == ["费县召开招商引资工作会议（更新）"]
    assert store.counts()["entries"] == 1


def test_region_feeds_roll_up_and_channels_follow(store: Store) -> None:
    save(store, "feixian-news", [article(n=1)])
    save(store, "mengyin-rb", [article("mengyin-rb", n=2, channels=("economy",))])
    for rid in ("shandong", "linyi"):
        assert len(page(store, region(rid))[0]) == 2
    assert [i.source_id for i in page(store, region("mengyin"))[0]] == ["mengyin-rb"]
    politics = page(store, FeedScope("channel", channel="politics"))[0]
    assert [i.source_id for i in politics] == ["feixian-news"]
    rc = page(store, FeedScope("region_channel", region="linyi", channel="economy"))[0]
    assert [i.source_id for i in rc] == ["mengyin-rb"]
    assert page(store, FeedScope("region_channel", region="feixian", channel="economy"))[0] == []
    assert len(page(store, FeedScope("source", source="mengyin-rb"))[0]) == 1


def syndicated_pair() -> tuple[Article, Article]:
    """A county's story and the city paper's copy of it, linking the same page."""
    original = article(n=1, link="http://www.feixian.example.cn/news/1.html")
    copy = article(
        "linyi-daily",
        n=1,
        key="gcopy",
        guid="lyrb-1",
        link="http://www.feixian.example.cn/news/1.html?utm_source=linyidaily&utm_medium=rss",
        canonical_link=original.canonical_link,
        published=original.published + timedelta(minutes=30),
        channels=("economy",),
    )
    return original, copy


def test_syndicated_copy_merges_into_one_story(store: Store) -> None:
    original, copy = syndicated_pair()
    save(store, "feixian-news", [original])
    save(store, "linyi-daily", [copy])
    items, _ = page(store, region("linyi"))
    assert len(items) == 1
    story = items[0]
    assert {a.source_id for a in story.appearances} == {"feixian-news", "linyi-daily"}
    assert story.published == original.published  # the earliest copy
    assert set(story.channels) == {"politics", "economy"}  # the union
    # The story is in the county's feeds because one copy is from the county.
    assert len(page(store, region("feixian"))[0]) == 1
    assert (
        len(page(store, FeedScope("region_channel", region="feixian", channel="economy"))[0]) == 1
    )


def test_same_title_at_the_same_time_merges_but_not_short_titles(store: Store) -> None:
    a = article(n=1, link="http://a.example.cn/1.html")
    b = article(
        "mengyin-rb",
        n=1,
        key="other",
        link="http://b.example.cn/9.html",
        canonical_link="https://b.example.cn/9.html",
        title="  费县召开第1次招商引资工作会议　",
    )
    save(store, "feixian-news", [a, article(n=2, title="通知", link="http://a.example.cn/2.html")])
    save(
        store,
        "mengyin-rb",
        [b, article("mengyin-rb", n=2, key="o2", title="通知", link="http://b.example.cn/2.html")],
    )
    titles = sorted(i.title for i in page(store, region("linyi"))[0])
    assert titles.count("通知") == 2  # too short to merge on
    assert len(titles) == 3


def test_paging_never_overlaps_or_skips(store: Store) -> None:
    save(store, "feixian-news", [article(n=i) for i in range(1, 12)])
    seen: list[int] = []
    cursor = None
    while True:
        items, cursor = page(store, region("linyi"), limit=4, before=cursor)
        seen.extend(i.story_id for i in items)
        if cursor is None:
            break
    assert len(seen) == 11 == len(set(seen))
    dates = [i.published for i in page(store, region("linyi"))[0]]
    assert dates == sorted(dates, reverse=True)


def test_two_sources_saving_pages_of_one_story_take_turns(store: Store) -> None:
    """Both copies of a story get their article page saved at the same moment (two polls
    on PostgreSQL's store threads): the second save waits for the first, then rewrites
    the story's feed rows from both copies instead of failing on the first's rows."""
    if store.dialect != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    original, copy = syndicated_pair()
    save(store, "feixian-news", [original])
    save(store, "linyi-daily", [copy])

    def with_page(a: Article) -> tuple[dict[str, FullText], list[Article]]:
        body, words = f"<p>{a.source_id} 全文</p>", f"{a.source_id} 全文"
        page_ = FullText(a.link, NOW, ok=True, body=body, text=words)
        return {a.key: page_}, [replace(a, content=body, text=words, content_hash="page")]

    # The connection closes (rolling back, releasing its locks) before the pool is joined,
    # so a failing check cannot leave the second save waiting forever.
    with ThreadPoolExecutor(1) as pool, store.engine.connect() as first:
        held = first.begin()
        holder = first.scalar(text("SELECT pg_backend_pid()"))
        pages_module.save_pages(first, "feixian-news", *with_page(original), NOW,
                                store.regions_of, None)  # fmt: skip
        second = pool.submit(store.save_pages, "linyi-daily", *with_page(copy), NOW)
        wait_until_blocked(store, holder, second)
        held.commit()
        second.result()  # it used to fail: duplicate key in feed_members

    for scope in (region("feixian"), region("linyi"), FeedScope("source", source="linyi-daily")):
        (story,), _ = page(store, scope)
        assert {a.source_id for a in story.appearances} == {"feixian-news", "linyi-daily"}
    with store.engine.connect() as conn:
        texts = dict(conn.execute(select(ENTRIES.c.source_id, ENTRIES.c.text)).all())
    assert texts == {"feixian-news": "feixian-news 全文", "linyi-daily": "linyi-daily 全文"}


def wait_until_blocked(store: Store, holder: int, work: Future[object]) -> None:
    """Until another connection waits for a lock `holder` has (or `work` is done)."""
    blocked = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    deadline = time.monotonic() + 120  # a loaded machine takes its time to get there
    with store.engine.connect() as conn:
        while time.monotonic() < deadline:
            if work.done() or conn.scalar(blocked, {"pid": holder}):
                return
            time.sleep(0.01)
    raise AssertionError("the second save neither waited nor finished")


def test_validators_are_saved_with_the_articles_or_not_at_all(store: Store, monkeypatch) -> None:
    c = claim(store, "feixian-news")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    # Fail after the entries are inserted, inside the same transaction.
    monkeypatch.setattr(ingest_module, "refresh_stories", boom)
    with pytest.raises(RuntimeError):
        store.save_poll(
            c,
            poll_result("feixian-news"),
            SourceUpdate(validators=('"v1"', None, "h1")),
            [article()],
            NOW,
        )
    with store.engine.connect() as conn:
        row = conn.execute(
            select(SOURCES.c.etag, SOURCES.c.status).where(SOURCES.c.id == "feixian-news")
        ).one()
        assert row.etag is None and row.status is None
        assert conn.scalar(select(ENTRIES.c.id)) is None


def test_a_source_is_never_claimed_twice_and_stale_writes_are_refused(store: Store) -> None:
    first = store.claim_due(NOW, 100, "p1", LEASE, include_new=True)
    assert len(first) == len(site_config().site.sources)
    assert store.claim_due(NOW, 100, "p2", LEASE, include_new=True) == []
    # p1 dies; after its lease expires p2 takes the source over …
    later = NOW + LEASE + timedelta(seconds=1)
    taken = store.claim_due(later, 1, "p2", LEASE, only=["feixian-news"], include_new=True)
    assert [c.source_id for c in taken] == ["feixian-news"]
    assert taken[0].token > next(c for c in first if c.source_id == "feixian-news").token
    # … and p1's late write is refused, storing nothing.
    stale = next(c for c in first if c.source_id == "feixian-news")
    with pytest.raises(LeaseLost):
        store.save_poll(stale, poll_result("feixian-news"), SourceUpdate(), [article()], NOW)
    assert store.counts()["entries"] == 0
    store.save_poll(taken[0], poll_result("feixian-news"), SourceUpdate(), [article()], later)
    assert store.counts()["entries"] == 1


def test_undated_entries_keep_their_first_seen_time(store: Store) -> None:
    undated = article(n=1, precision=DatePrecision.NONE, published=NOW)
    save(store, "feixian-news", [undated])
    later = replace(undated, published=NOW + timedelta(hours=3), content_hash="edited")
    save(store, "feixian-news", [later])
    (item,), _ = page(store, region("feixian"))
    assert item.published == NOW


def test_health_records_failures_and_backoff_reasons(store: Store) -> None:
    c = claim(store, "lanling-down")
    result = poll_result("lanling-down", PollStatus.HTTP_ERROR, http_status=500, message="HTTP 500",
                         next_poll_reason="backoff after 1 failure")  # fmt: skip
    store.save_poll(c, result, SourceUpdate(), (), NOW)
    row = next(r for r in store.health() if r.id == "lanling-down")
    assert (row.status, row.http_status, row.consecutive_failures) == ("http_error", 500, 1)
    assert row.last_success_at is None and row.next_poll_reason.startswith("backoff")


def test_removed_sources_stay_with_their_articles(store: Store) -> None:
    save(store, "feixian-news", [article(n=1)])
    site = site_config().site
    smaller = replace(site, sources={k: v for k, v in site.sources.items() if k != "feixian-news"})
    store.sync_sources(smaller, NOW, random.Random(1))
    assert len(page(store, region("feixian"))[0]) == 1
    row = next(r for r in store.health() if r.id == "feixian-news")
    assert row.active is False
    assert store.claim_due(NOW + timedelta(days=1), 100, "p", LEASE, only=["feixian-news"]) == []


def test_feed_read_is_an_index_range_scan(sqlite_url: str) -> None:
    s = Store(sqlite_url)
    try:
        from aggregator.store.feeds import read_page

        with s.engine.connect() as conn:
            captured: list[str] = []
            from sqlalchemy import event

            @event.listens_for(conn, "before_cursor_execute")
            def grab(c, cursor, statement, params, context, executemany):
                if "feed_members" in statement and not captured:
                    captured.append(statement)
                    plan = cursor.execute("EXPLAIN QUERY PLAN " + statement, params).fetchall()
                    captured.append(" | ".join(str(r[-1]) for r in plan))

            read_page(conn, FeedQuery(region("linyi"), limit=10), GUID)
        plan = captured[1]
        assert "ix_feed_members_order" in plan or "PRIMARY KEY" in plan
        assert "TEMP B-TREE" not in plan, plan
    finally:
        s.close()


def test_sqlite_log_is_copied_back_by_the_store_not_the_writer(sqlite_url: str) -> None:
    """SQLite checkpoints run on the store's own thread; the writer's threshold is only a
    safety net far above a poll's writes."""
    from aggregator.store.engine import WAL_AUTOCHECKPOINT

    s = Store(sqlite_url)
    try:
        assert s.checkpointer is not None and s.checkpointer._thread.is_alive()
        s.sync_sources(site_config().site, NOW, random.Random(1))
        save(s, "feixian-news", [article("feixian-news", n) for n in range(20)])
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT
        busy, log, copied = s.checkpointer.run_once()
        assert busy == 0 and log > 0 and copied == log
    finally:
        s.close()
    assert not s.checkpointer._thread.is_alive()
