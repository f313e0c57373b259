"""HTTP as feed readers and embedding sites meet it: validators, 304s, codings, HEAD, CORS,
the render cache (no database work for an unchanged feed), and limits against abuse."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace

import aiohttp
import brotli
import feedparser
import pytest
from sqlalchemy import event

from aggregator.model import FeedScope
from aggregator.service import open_parts
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web import app as web_app
from aggregator.web.app import check_changes, make_app, start_site
from aggregator.web.cache import RenderCache, Rendered
from aggregator.web.feeds import choose_encoding, max_age
from tests.factories import NOW, article, site_config, store_articles, web_runtime

FEED = "/feeds/region/linyi.rss"
PATHS = [f"/feeds/region/linyi.{f}" for f in ("rss", "atom", "json")]


@pytest.fixture
def store(sqlite_url):
    s = Store(sqlite_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    # Long bodies, so every format is worth compressing.
    store_articles(s, "feixian-news", [article(n=i, summary="<p>临沂" * 300) for i in range(1, 6)])
    store_articles(s, "mengyin-rb", [article("mengyin-rb", n=9)])
    yield s
    s.close()


@pytest.fixture
async def served(store, aiohttp_client):
    rt = web_runtime(store)
    client = await aiohttp_client(make_app(rt))
    return rt, client


class StatementCounter:
    """Counts SQL statements other than the change-log watcher's."""

    def __init__(self, store: Store) -> None:
        self.count = 0
        event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args) -> None:
        if "feed_changes" not in statement:
            self.count += 1


# ---------------------------------------------------------------- validators and 304


@pytest.mark.parametrize("path", PATHS)
async def test_304_by_etag_with_no_body(served, path) -> None:
    _, client = served
    first = await client.get(path)
    assert first.status == 200
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = await client.get(path, headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Vary"] == "Accept-Encoding"
    listed = await client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
    assert listed.status == 304  # If-None-Match compares weakly, and takes a list
    assert (await client.get(path, headers={"If-None-Match": '"other"'})).status == 200


async def test_304_by_date_and_last_modified_is_the_newest_entry(served) -> None:
    _, client = served
    first = await client.get(FEED)
    # The newest entry was stored (and so last changed) at NOW.
    assert first.headers["Last-Modified"] == format_datetime(NOW, usegmt=True)
    since = first.headers["Last-Modified"]
    assert (await client.get(FEED, headers={"If-Modified-Since": since})).status == 304
    earlier = format_datetime(NOW - timedelta(seconds=1), usegmt=True)
    assert (await client.get(FEED, headers={"If-Modified-Since": earlier})).status == 200
    assert (await client.get(FEED, headers={"If-Modified-Since": "yesterday"})).status == 200
    # If-None-Match wins over If-Modified-Since when both are sent.
    both = {"If-Modified-Since": since, "If-None-Match": '"stale"'}
    assert (await client.get(FEED, headers=both)).status == 200
    # A date ahead of our clock is ignored: it would keep a copy "current" for ever.
    future = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    assert (await client.get(FEED, headers={"If-Modified-Since": future})).status == 200


async def test_a_405_says_which_methods_are_allowed(served) -> None:
    _, client = served
    resp = await client.post(FEED)
    assert resp.status == 405
    assert "GET" in resp.headers["Allow"]
    assert (await resp.json())["status"] == 405


async def test_etag_comes_from_the_entries_not_the_render(served) -> None:
    rt, client = served
    tags = {}
    for path in PATHS:
        tags[path] = (await client.get(path)).headers["ETag"]
    rt.cache.clear()
    time.sleep(1.1)  # a render time in the bytes would now differ
    for path in PATHS:
        assert (await client.get(path)).headers["ETag"] == tags[path]
    assert len(set(tags.values())) == 3


async def test_a_new_entry_changes_the_etag_and_the_change_log_drops_the_render(
    served, store
) -> None:
    rt, client = served
    etag = (await client.get(FEED)).headers["ETag"]
    county = (await client.get("/feeds/region/mengyin.rss")).headers["ETag"]
    later = NOW + timedelta(minutes=5)
    stats = store_articles(store, "feixian-news", [article(n=50, published=later)], later)
    assert "r:linyi" in stats.changed_feeds and "r:mengyin" not in stats.changed_feeds
    assert await check_changes(rt) >= 1  # what every server does each second
    fresh = await client.get(FEED, headers={"If-None-Match": etag})
    assert fresh.status == 200 and fresh.headers["ETag"] != etag
    assert "费县召开第50次" in await fresh.text()
    counter = StatementCounter(store)
    unchanged = await client.get("/feeds/region/mengyin.rss", headers={"If-None-Match": county})
    assert unchanged.status == 304 and counter.count == 0  # still cached: not invalidated


# ---------------------------------------------------------------- codings and HEAD


@pytest.mark.parametrize("path", PATHS)
async def test_gzip_and_brotli_carry_the_same_feed(served, path) -> None:
    _, client = served
    plain = await (await client.get(path, headers={"Accept-Encoding": "identity"})).read()
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        url = str(client.make_url(path))
        async with raw.get(url, headers={"Accept-Encoding": "gzip"}) as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert resp.headers["Vary"] == "Accept-Encoding"
            gz_tag = resp.headers["ETag"]
            assert gzip.decompress(await resp.read()) == plain
        async with raw.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}) as resp:
            assert resp.headers["Content-Encoding"] == "br"
            br_body = await resp.read()
            assert brotli.decompress(br_body) == plain
            br_tag = resp.headers["ETag"]
            assert len(br_body) < len(plain) / 4
        async with raw.get(url, headers={"Accept-Encoding": "br", "If-None-Match": gz_tag}) as resp:
            assert resp.status == 304  # a copy in any coding is current
            assert resp.headers["ETag"] == br_tag
    assert len({gz_tag, br_tag}) == 2  # each representation has its own strong ETag


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("gzip, deflate, br", "br"),
        ("br;q=0.5, gzip;q=0.9", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0", None),
        ("*", "br"),
        ("*;q=0.1, br;q=0", "gzip"),
        ("gzip;q=bogus", None),
        ("BR", "br"),
    ],
)
def test_choose_encoding(header, coding) -> None:
    assert choose_encoding(header) == coding


async def test_head_has_the_headers_and_no_body(served) -> None:
    _, client = served
    get = await client.get(FEED, headers={"Accept-Encoding": "br"})
    head = await client.head(FEED, headers={"Accept-Encoding": "br"})
    assert head.status == 200
    assert await head.read() == b""
    for name in ("ETag", "Last-Modified", "Content-Type", "Cache-Control", "Content-Encoding"):
        assert head.headers[name] == get.headers[name]
    etag = get.headers["ETag"]
    assert (await client.head(FEED, headers={"If-None-Match": etag})).status == 304


# ---------------------------------------------------------------- the render cache


async def test_an_unchanged_cached_feed_costs_no_database_query(served, store) -> None:
    _, client = served
    counter = StatementCounter(store)
    first = await client.get(FEED)
    assert counter.count > 0
    counter.count = 0
    await client.get(FEED)
    await client.get(FEED, headers={"If-None-Match": first.headers["ETag"]})
    await client.get(FEED, headers={"Accept-Encoding": "gzip"})
    await client.head(FEED)
    assert counter.count == 0


async def test_concurrent_requests_for_a_cold_feed_render_it_once(served, store) -> None:
    _, client = served
    calls = []
    read_page = store.read_page

    def slow_read_page(*args, **kwargs):
        calls.append(args)
        time.sleep(0.2)  # keeps the render in flight while the others arrive
        return read_page(*args, **kwargs)

    store.read_page = slow_read_page
    responses = await asyncio.gather(*(client.get(FEED) for _ in range(12)))
    assert {r.status for r in responses} == {200}
    assert len({r.headers["ETag"] for r in responses}) == 1
    assert len(calls) == 1


def test_max_age_follows_the_fastest_source_of_the_feed() -> None:
    text = site_config().site  # every source 1m: the floor of 60 s
    rt = SimpleNamespace(site=text)
    assert max_age(rt.site, FeedScope("region", region="linyi")) == 60
    config = site_config(
        text="""\
site: {title: t, base_url: http://news.example.org}
defaults: {interval: 2h}
channels: [{id: politics, title: 时政}]
regions:
  - id: linyi
    title: 临沂市
    sources: [{id: slow, url: http://a.example/1.xml}]
    regions:
      - id: feixian
        title: 费县
        sources: [{id: fast, url: http://a.example/2.xml, interval: 10m}]
"""
    )
    rt = SimpleNamespace(site=config.site)
    assert max_age(rt.site, FeedScope("source", source="slow")) == 900  # capped at 15 minutes
    assert max_age(rt.site, FeedScope("source", source="fast")) == 150  # a quarter of 10 minutes
    assert max_age(rt.site, FeedScope("region", region="linyi")) == 150
    assert max_age(rt.site, FeedScope("channel", channel="politics")) == 150


# ---------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    "path",
    [
        FEED,
        "/feeds/source/feixian-news.json",
        "/feeds/region/nowhere.rss",  # errors too, so a script can read the message
        "/feeds/region/linyi.rss?limit=0",
        "/feeds.opml",
        "/api/sources",
        "/api/config",
        "/healthz",
    ],
)
async def test_cors_is_open_on_feeds_and_the_json_api(served, path) -> None:
    _, client = served
    resp = await client.get(path, headers={"Origin": "https://county.example.cn"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in resp.headers.get("Access-Control-Expose-Headers", "")


async def test_cors_preflight_allows_conditional_reads_only(served) -> None:
    _, client = served
    ask = {
        "Origin": "https://county.example.cn",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match",
    }
    resp = await client.options(FEED, headers=ask)
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in resp.headers["Access-Control-Allow-Headers"]
    methods = resp.headers["Access-Control-Allow-Methods"]
    assert "GET" in methods and "POST" not in methods
    assert "Authorization" not in resp.headers["Access-Control-Allow-Headers"]
    assert (await client.options("/api/sources", headers=ask)).status == 204
    assert (await client.options("/api/no-such-thing", headers=ask)).status == 404
    page = await client.get("/")
    assert "Access-Control-Allow-Origin" not in page.headers  # pages are not an API


# ---------------------------------------------------------------- hostile clients


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_links_come_from_base_url_never_from_request_headers(served, fmt) -> None:
    _, client = served
    hostile = {
        "Host": "evil.example",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "Forwarded": "for=1.2.3.4;host=evil.example;proto=https",
    }
    for path in (f"/feeds/region/linyi.{fmt}?limit=2", f"/feeds/channel/politics.{fmt}?limit=1"):
        resp = await client.get(path, headers=hostile)
        body = await resp.read()
        assert resp.status == 200 and b"evil" not in body
        if fmt == "json":
            data = json.loads(body)
            links = [data["feed_url"], data["home_page_url"], data["next_url"]]
        else:
            parsed = feedparser.parse(body)
            links = [link.href for link in parsed.feed.links]
            assert {"self", "next"} <= {link.rel for link in parsed.feed.links}
        assert links and all(x.startswith("http://news.example.org/") for x in links), links


async def test_overlong_query_is_a_400(served) -> None:
    _, client = served
    resp = await client.get(FEED + "?x=" + "a" * 5000)
    assert resp.status == 400
    assert "query string" in (await resp.json())["error"]
    line = await client.get(FEED + "?x=" + "a" * 9000)  # longer than the request line limit
    assert line.status == 400


@pytest.fixture
async def live_site(store):
    """The app on a real socket with short timeouts, as `aggregator serve` runs it."""
    runner = await start_site(make_app(web_runtime(store)), "127.0.0.1", 0, keepalive_timeout=0.3)
    yield runner.addresses[0][1]
    await runner.cleanup()


async def test_slow_request_heads_and_idle_connections_are_cut(live_site) -> None:
    port = live_site
    # A client that drips its request head (slowloris) is closed without an answer.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")

    async def drip() -> None:
        for _ in range(400):
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.025)

    dripping = asyncio.create_task(drip())
    try:
        assert await asyncio.wait_for(reader.read(), 10) == b""
    finally:
        dripping.cancel()
        writer.close()
    # An idle keep-alive connection is closed after its request was answered.
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 10)  # returns at close, not before
    assert answer.startswith(b"HTTP/1.1 200")
    writer.close()


async def test_the_access_log_is_off_unless_asked_for(store, caplog) -> None:
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    for access_log in (False, True):
        runner = await start_site(
            make_app(web_runtime(store)), "127.0.0.1", 0, access_log=access_log
        )
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            resp = await session.get(f"http://127.0.0.1:{port}{FEED}")
            assert resp.status == 200
            resp.release()
        await runner.cleanup()
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert len(lines) == 1 and f'"GET {FEED} HTTP/1.1" 200' in lines[0]


async def test_the_render_cache_is_bounded_in_bytes_as_well_as_entries() -> None:
    cache = RenderCache(max_entries=100, max_bytes=5000)

    async def render(n: int) -> Rendered:
        return Rendered.make(bytes([n]) * 1500, "text/plain", None, f"r:{n % 2}")

    for n in range(6):
        await cache.get_or_render(f"k{n}", f"r:{n % 2}", lambda n=n: render(n))
    kept = [k for k in (f"k{n}" for n in range(6)) if cache.get(k) is not None]
    assert kept == ["k3", "k4", "k5"]  # the oldest went first (1500 bytes + compressed)
    assert cache.invalidate(["r:1"]) == 2  # k3 and k5
    assert cache.get("k4") is not None and cache.get("k5") is None


async def test_the_polling_process_drops_renders_as_soon_as_articles_are_stored(
    origin, sqlite_url, aiohttp_client, monkeypatch
) -> None:
    monkeypatch.setattr(web_app, "CHANGE_CHECK_SECONDS", 3600)  # the change log stays unread
    config = site_config(origin.url("").rstrip("/"))
    origin.set("/down", status=500, body=b"down")
    async with open_parts(Settings(db=sqlite_url, workers=0), config, poll=True) as parts:
        await parts.poller.run_once(["feixian-news"])
        client = await aiohttp_client(make_app(parts.runtime))
        path = "/feeds/region/feixian.atom"
        etag = (await client.get(path)).headers["ETag"]
        feed = "/feeds/rss20_utf8.xml"
        item = (
            "<item><title>费县新建产业园项目开工</title>"
            "<link>http://www.feixian.example.cn/news/new.html</link>"
            "<pubDate>Thu, 26 Nov 2026 10:00:00 +0800</pubDate></item>"
        )
        body = origin.routes[feed].body.replace(b"<item>", item.encode() + b"<item>", 1)
        origin.set_body(feed, body)
        parts.store.set_flags("feixian-news", next_poll_at=NOW - timedelta(days=1))
        await parts.poller.run_once(["feixian-news"])
        # No change-log check: the poller's listener dropped the render itself.
        fresh = await client.get(path, headers={"If-None-Match": etag})
        assert fresh.status == 200 and "费县新建产业园项目开工" in await fresh.text()
