"""Retention on SQLite and PostgreSQL: old articles go in small batches and stay gone;
stories, feed membership, the search index and the change log follow."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from aggregator.model import FeedQuery, FeedScope, FullText
from aggregator.normalise.fingerprint import fingerprint
from aggregator.poller import retention as poller_retention
from aggregator.poller.retention import run_retention
from aggregator.store import Store
from aggregator.store import retention as store_retention
from aggregator.store.tables import (
    ARTICLE_PAGES,
    FEED_CHANGES,
    FEED_MEMBERS,
    STORIES,
    STORY_BANDS,
    TOMBSTONES,
)
from tests.factories import NOW, article, site_config, store_articles

GUID = "tag:news.example.org,2024:story/"
OLD = NOW - timedelta(days=100)  # past the default keep_days: 90


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    yield s
    s.close()


def count(store: Store, table) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def search_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(text("SELECT count(*) FROM entry_search")) or 0)


def titles(store: Store, scope: FeedScope, q: str | None = None) -> list[str]:
    items, _ = store.read_page(FeedQuery(scope, limit=100, q=q), GUID)
    return [i.title for i in items]


FEIXIAN = FeedScope("region", region="feixian")


async def test_old_articles_go_and_take_their_stories_members_and_index_rows(store) -> None:
    old = [article(n=n, published=OLD - timedelta(hours=n)) for n in range(1, 4)]
    fresh = article(n=9, published=NOW - timedelta(days=1), title="费县山楂节开幕式隆重举行")
    store_articles(store, "feixian-news", [*old, fresh])
    assert count(store, STORIES) == 4 and search_rows(store) == 4
    seq = store.last_change()

    report = await run_retention(store, site_config().site, NOW, pause=0)

    assert (report.entries, report.sources) == (3, 1)
    assert store.counts() == {"entries": 1, "stories": 1}
    assert titles(store, FEIXIAN) == [fresh.title]
    assert titles(store, FEIXIAN, q="山楂") == [fresh.title]
    assert search_rows(store) == 1
    with store.engine.connect() as conn:
        members = set(conn.execute(select(FEED_MEMBERS.c.story_id)).scalars())
        assert members == set(conn.execute(select(STORIES.c.id)).scalars())
    assert count(store, TOMBSTONES) == 3
    fresh_keys = len(fingerprint(fresh.title, fresh.text).keys)
    assert count(store, STORY_BANDS) == fresh_keys > 0  # near-duplicate keys of the rest only
    _, changed = store.changes_since(seq)
    assert "r:feixian" in changed  # every server drops its renders of the region


async def test_their_fetched_article_pages_go_too(store) -> None:
    old, fresh = article(n=1, published=OLD), article(n=2)
    store_articles(store, "feixian-news", [old, fresh])
    page = FullText(url=old.link, fetched_at=NOW, ok=True, body="<p>正文</p>", text="正文")
    store.save_pages("feixian-news", {old.key: page, fresh.key: page}, [], NOW)
    assert count(store, ARTICLE_PAGES) == 2
    await run_retention(store, site_config().site, NOW, pause=0)
    with store.engine.connect() as conn:
        assert list(conn.execute(select(ARTICLE_PAGES.c.key)).scalars()) == [fresh.key]


async def test_a_later_poll_does_not_bring_them_back(store) -> None:
    old = article(n=1, published=OLD)
    store_articles(store, "feixian-news", [old])
    await run_retention(store, site_config().site, NOW, pause=0)
    stats = store_articles(store, "feixian-news", [old, article(n=2)], NOW + timedelta(hours=1))
    assert stats.new == 1  # only the new one
    assert titles(store, FEIXIAN) == [article(n=2).title]
    # Another source carrying the same story is not affected by this source's tombstone.
    copy = replace(old, source_id="feixian-syn", published=NOW - timedelta(hours=1))
    assert store_articles(store, "feixian-syn", [copy], NOW + timedelta(hours=2)).new == 1


async def test_a_story_keeps_the_copies_younger_than_their_sources_keep_days(store) -> None:
    site = site_config().site
    short = replace(site.sources["feixian-news"], keep_days=7)
    site = replace(site, sources={**site.sources, "feixian-news": short})
    mine = article(n=1, published=NOW - timedelta(days=10))
    theirs = replace(mine, source_id="linyi-daily", key="other")  # the same story elsewhere
    store_articles(store, "feixian-news", [mine])
    store_articles(store, "linyi-daily", [theirs])
    assert store.counts() == {"entries": 2, "stories": 1}

    await run_retention(store, site, NOW, pause=0)

    assert store.counts() == {"entries": 1, "stories": 1}
    (item,) = store.read_page(FeedQuery(FeedScope("region", region="linyi"), limit=10), GUID)[0]
    assert [a.source_id for a in item.appearances] == ["linyi-daily"]
    assert titles(store, FEIXIAN) == []  # no copy from 费县 left: out of its feed


async def test_deletes_in_small_batches(store, monkeypatch) -> None:
    monkeypatch.setattr(store_retention, "BATCH", 3)
    monkeypatch.setattr(poller_retention, "BATCH", 3)
    calls = []
    purge = store.purge_batch

    def counted(*args):
        done = purge(*args)
        calls.append(done)
        return done

    monkeypatch.setattr(store, "purge_batch", counted)
    store_articles(store, "feixian-news", [article(n=n, published=OLD) for n in range(1, 11)])
    report = await run_retention(store, site_config().site, NOW, pause=0)
    assert report.entries == 10
    assert [c for c in calls if c] == [3, 3, 3, 1]  # one short transaction each


def test_tombstones_expire_and_the_change_log_is_trimmed_but_never_emptied(store) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            TOMBSTONES.insert(),
            [
                {"source_id": "s", "key": "old", "deleted_at": NOW - timedelta(days=500)},
                {"source_id": "s", "key": "new", "deleted_at": NOW - timedelta(days=5)},
            ],
        )
        conn.execute(
            FEED_CHANGES.insert(),
            [{"feed_key": f"k{i}", "at": NOW - timedelta(days=3)} for i in range(3)],
        )
    assert store.expire_tombstones(NOW) == 1
    with store.engine.connect() as conn:
        assert list(conn.execute(select(TOMBSTONES.c.key)).scalars()) == ["new"]
    newest = store.last_change()
    assert store.trim_changes(NOW) == 2
    assert store.last_change() == newest  # SQLite would otherwise hand its seq out again


@pytest.mark.pg
async def test_one_retention_pass_at_a_time_across_pollers(pg_url: str) -> None:
    first, second = Store(pg_url), Store(pg_url)
    try:
        with first.retention_turn() as mine:
            assert mine
            report = await run_retention(second, site_config().site, NOW, pause=0)
            assert report.skipped
        assert not (await run_retention(second, site_config().site, NOW, pause=0)).skipped
    finally:
        first.close()
        second.close()
