"""Paging (RFC 5005) while articles keep arriving: a property test, and the links in feeds."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from sqlalchemy import delete

from aggregator.model import FeedQuery, FeedScope
from aggregator.publish import next_page_url, parse_query
from aggregator.store import Store
from aggregator.store.tables import ENTRIES, FEED_CHANGES, FEED_MEMBERS, STORIES, STORY_BANDS
from aggregator.web.app import make_app
from tests.factories import NOW, article, site_config, store_articles, web_runtime

GUID = "tag:news.example.org,2024:story/"
LINYI = FeedScope("region", region="linyi")
SELF = "http://news.example.org/feeds/region/linyi.atom"
SOURCES = ("feixian-news", "mengyin-rb")


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    yield s
    s.close()


def _empty(store: Store) -> None:
    with store.engine.connect() as conn, conn.begin():
        # entry_search follows entries
        for table in (FEED_MEMBERS, FEED_CHANGES, ENTRIES, STORIES, STORY_BANDS):
            conn.execute(delete(table))


# Minutes before NOW: equal values give equal times, so ties are broken by story id.
minutes = st.integers(min_value=0, max_value=40)
arrival = st.one_of(
    st.tuples(st.just("new"), st.integers(min_value=-10, max_value=50)),  # newer, between, older
    st.tuples(st.just("copy_later"), st.integers(0, 10_000), st.integers(1, 30)),
    st.tuples(st.just("copy_earlier"), st.integers(0, 10_000), st.integers(1, 30)),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial=st.lists(minutes, min_size=1, max_size=18),
    limit=st.integers(min_value=1, max_value=6),
    arrivals=st.lists(st.lists(arrival, max_size=3), max_size=8),
)
def test_pages_cover_every_entry_once_while_articles_arrive(
    store, initial, limit, arrivals
) -> None:
    """Every story there when paging began is seen; none twice unless it moved older.

    New stories and copies arrive between page requests: newer than everything, between
    pages, and older than the cursor (late arrivals). A copy dated earlier than its story
    moves the story older (a story shows at its earliest time); only such a story may be
    met twice, and none is ever skipped.
    """
    _empty(store)
    originals = []
    clock = NOW
    for n, m in enumerate(initial, start=1):
        originals.append(article(SOURCES[n % 2], n=n, published=NOW - timedelta(minutes=m)))
    for source in SOURCES:
        store_articles(store, source, [a for a in originals if a.source_id == source], clock)
    everything, _ = store.read_page(FeedQuery(LINYI, limit=500), GUID)
    existed = {i.story_id for i in everything}
    assert len(existed) == len(initial)

    seen: list[int] = []
    moved: set[int] = set()
    query = parse_query(LINYI, {"limit": str(limit)})
    batches = iter(arrivals)
    copies = 0
    while True:
        items, cursor = store.read_page(query, GUID)
        assert len(items) <= limit
        seen.extend(i.story_id for i in items)
        for kind, *args in next(batches, []):
            clock += timedelta(seconds=1)
            if kind == "new":
                n = len(originals) + 1
                new = article(SOURCES[n % 2], n=n, published=NOW - timedelta(minutes=args[0]))
                originals.append(new)
                store_articles(store, new.source_id, [new], clock)
                continue
            original = originals[args[0] % len(originals)]
            copies += 1
            shift = timedelta(minutes=args[1])
            copy = replace(
                original,
                source_id="linyi-daily",
                key=f"copy{copies}",
                guid=f"copy-{copies}",
                link=original.link + "?utm_source=linyidaily",
                published=original.published + (shift if kind == "copy_later" else -shift),
            )
            stats = store_articles(store, "linyi-daily", [copy], clock)
            assert stats.new == 1
            if kind == "copy_earlier":
                moved.add(_story_of(store, original))
        if cursor is None:
            break
        # Follow the next link as a reader would: through its URL.
        link = next_page_url(SELF, query, cursor)
        query = parse_query(LINYI, MultiDict(parse_qsl(urlsplit(link).query)))

    assert existed <= set(seen), "a story was skipped"
    twice = {sid for sid in seen if seen.count(sid) > 1}
    assert twice <= moved, "pages overlap"


def _story_of(store: Store, original) -> int:
    from sqlalchemy import select

    with store.engine.connect() as conn:
        return conn.scalar(
            select(ENTRIES.c.story_id).where(
                ENTRIES.c.source_id == original.source_id, ENTRIES.c.key == original.key
            )
        )


# ---------------------------------------------------------------- links in every format


@pytest.fixture
async def client(store, aiohttp_client):
    store_articles(store, "feixian-news", [article(n=i) for i in range(1, 8)])
    return await aiohttp_client(make_app(web_runtime(store)))


def _next_link(body: bytes, fmt: str) -> str | None:
    if fmt == "json":
        return json.loads(body).get("next_url")
    links = [x.href for x in feedparser.parse(body).feed.get("links", []) if x.rel == "next"]
    return links[0] if links else None


def _ids(body: bytes, fmt: str) -> list[str]:
    if fmt == "json":
        return [i["id"] for i in json.loads(body)["items"]]
    return [e.id for e in feedparser.parse(body).entries]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_every_format_links_its_next_page_to_the_end(client, fmt) -> None:
    path = f"/feeds/region/linyi.{fmt}?limit=3&q=费县"
    pages = []
    while path:
        resp = await client.get(path)
        assert resp.status == 200
        body = await resp.read()
        pages.append(_ids(body, fmt))
        link = _next_link(body, fmt)
        if link is None:
            break
        assert link.startswith(f"http://news.example.org/feeds/region/linyi.{fmt}?limit=3&q=")
        path = link.removeprefix("http://news.example.org")
    assert [len(p) for p in pages] == [3, 3, 1]
    flat = [i for p in pages for i in p]
    assert len(set(flat)) == 7
