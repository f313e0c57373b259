"""WebSub: hub and self links in every format, and pings for exactly the feeds that changed.

A local test hub (a path on the in-process origin) records every publish POST.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from datetime import UTC, datetime, timedelta

import feedparser
import pytest
from aiohttp import web

from aggregator.model import FeedScope
from aggregator.poller import websub
from aggregator.poller.websub import HubPinger, feed_urls, scope_of_key
from aggregator.service import open_parts
from aggregator.settings import Settings
from aggregator.store import Store
from aggregator.web.app import make_app
from tests.factories import NOW, SITE_YAML, article, site_config, store_articles, web_runtime

HUB_YAML = SITE_YAML.replace(
    "  timezone: Asia/Shanghai\n", "  timezone: Asia/Shanghai\n  hub: {origin}/hub\n"
)


class Hub:
    """Records publish pings; answers `status`, or 400 to a batch when `single_only`."""

    def __init__(self, status: int = 204, single_only: bool = False) -> None:
        self.posts: list[list[str]] = []
        self.status = status
        self.single_only = single_only

    async def __call__(self, request: web.Request) -> web.Response:
        form = await request.post()
        assert request.method == "POST"
        assert request.content_type == "application/x-www-form-urlencoded"
        assert form.getall("hub.mode") == ["publish"]
        urls = [str(u) for u in form.getall("hub.url")]
        if self.single_only and len(urls) > 1:
            return web.Response(status=400, text="one hub.url at a time")
        self.posts.append(urls)
        return web.Response(status=self.status)

    @property
    def urls(self) -> list[str]:
        return [u for post in self.posts for u in post]


@pytest.fixture
def fast_pings(monkeypatch):
    monkeypatch.setattr(websub, "PING_DELAY", 0.05)
    monkeypatch.setattr(websub, "PING_GAP", 0.0)


# ---------------------------------------------------------------- links in the feeds


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
async def test_feeds_name_the_hub_and_themselves(sqlite_url, aiohttp_client, fmt) -> None:
    config = site_config("http://origin.example", HUB_YAML)
    store = Store(sqlite_url)
    store.sync_sources(config.site, NOW - timedelta(minutes=5), random.Random(1))
    store_articles(store, "feixian-news", [article(n=1)])
    try:
        client = await aiohttp_client(make_app(web_runtime(store, config)))
        body = await (await client.get(f"/feeds/region/feixian.{fmt}")).read()
    finally:
        store.close()
    self_url = f"http://news.example.org/feeds/region/feixian.{fmt}"
    if fmt == "json":
        data = json.loads(body)
        assert data["hubs"] == [{"type": "WebSub", "url": "http://origin.example/hub"}]
        assert data["feed_url"] == self_url
    else:
        links = {x.rel: x.href for x in feedparser.parse(body).feed.links}
        assert links["hub"] == "http://origin.example/hub"
        assert links["self"] == self_url


# ---------------------------------------------------------------- pings from the poller


async def poll_round(origin, db_url: str, only: list[str] | None = None):
    """One `poll --once` round through the real wiring; leaving it flushes the pings."""
    config = site_config(origin.url("").rstrip("/"), HUB_YAML)
    async with open_parts(Settings(db=db_url, workers=0), config, poll=True) as parts:
        results = await parts.poller.run_once(only)
        return config.site, {k for _, stats in results for k in stats.changed_feeds}


async def test_the_hub_hears_of_exactly_the_feeds_that_changed(origin, db_url, fast_pings) -> None:
    hub = Hub()
    origin.set("/hub", handler=hub)
    origin.set("/down", status=500, body=b"down")
    site, changed = await poll_round(origin, db_url)
    assert changed and {"r:feixian", "s:feixian-news", "r:shandong"} <= changed
    # Polls that end after a round was sent start another: a feed may be pinged again.
    assert set(hub.urls) == set(feed_urls(site, changed))
    assert all(len(post) <= websub.URLS_PER_PING for post in hub.posts)
    assert {u.rsplit(".", 1)[1] for u in hub.urls} == {"rss", "atom", "json"}

    hub.posts.clear()  # nothing new at the sources: no pings
    for sid in site.sources:
        await asyncio.to_thread(_due_now, db_url, sid)
    _, changed = await poll_round(origin, db_url)
    assert changed == set() and hub.posts == []

    path = "/feeds/rss20_utf8.xml"  # one new item at 费县新闻网
    item = (
        "<item><title>费县新建产业园项目开工</title>"
        "<link>http://www.feixian.example.cn/news/new.html</link>"
        "<pubDate>Thu, 26 Nov 2026 10:00:00 +0800</pubDate></item>"
    )
    origin.set_body(path, origin.routes[path].body.replace(b"<item>", item.encode() + b"<item>", 1))
    await asyncio.to_thread(_due_now, db_url, "feixian-news")
    _, changed = await poll_round(origin, db_url, ["feixian-news"])
    assert "s:mengyin-rb" not in changed and "r:mengyin" not in changed
    expected = feed_urls(site, changed)
    assert sorted(hub.urls) == sorted(expected)
    base = "http://news.example.org/feeds"
    for url in (f"{base}/source/feixian-news.atom", f"{base}/region/linyi.rss",
                f"{base}/region/feixian/economy.json"):  # fmt: skip
        assert url in expected


def _due_now(db_url: str, source_id: str) -> None:
    store = Store(db_url)
    try:
        store.set_flags(source_id, next_poll_at=datetime.now(UTC) - timedelta(seconds=1))
    finally:
        store.close()


async def test_pings_wait_for_nobody_and_failures_are_logged(origin, caplog) -> None:
    site = site_config(origin.url("").rstrip("/"), HUB_YAML).site

    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(status=204)

    origin.set("/hub", handler=hang)
    pinger = HubPinger(lambda: site, delay=0, gap=0, timeout=0.2)
    pinger.start()
    pinger.notify({"r:linyi"})  # returns at once although the hub hangs
    with caplog.at_level(logging.WARNING, logger="aggregator.websub"):
        await pinger.close()
    assert "could not ping" in caplog.text

    caplog.clear()
    origin.set("/hub", status=500, body=b"hub trouble")
    pinger = HubPinger(lambda: site, delay=0, gap=0)
    pinger.start()
    pinger.notify({"r:linyi", "c:politics"})
    with caplog.at_level(logging.WARNING, logger="aggregator.websub"):
        await pinger.close()
    assert "answered 500" in caplog.text


async def test_a_hub_that_takes_one_url_at_a_time_gets_one_each(origin) -> None:
    site = site_config(origin.url("").rstrip("/"), HUB_YAML).site
    hub = Hub(single_only=True)
    origin.set("/hub", handler=hub)
    pinger = HubPinger(lambda: site, delay=0, gap=0)
    pinger.start()
    pinger.notify({"r:linyi", "s:mengyin-rb"})
    await pinger.close()
    assert all(len(post) == 1 for post in hub.posts)
    assert sorted(hub.urls) == sorted(feed_urls(site, {"r:linyi", "s:mengyin-rb"}))


async def test_no_hub_means_no_pings(origin) -> None:
    site = site_config(origin.url("").rstrip("/")).site  # no hub in feeds.yaml
    pinger = HubPinger(lambda: site, delay=0, gap=0)
    pinger.start()
    pinger.notify({"r:linyi"})
    await pinger.close()
    assert origin.requests == {}


def test_feed_keys_map_back_to_feeds_in_the_config() -> None:
    site = site_config().site
    for scope in (
        FeedScope("region", region="linyi"),
        FeedScope("channel", channel="politics"),
        FeedScope("region_channel", region="feixian", channel="economy"),
        FeedScope("source", source="mengyin-rb"),
    ):
        assert scope_of_key(site, scope.key) == scope
    for gone in ("r:nowhere", "c:sport", "rc:linyi:sport", "s:removed", "x:linyi", ""):
        assert scope_of_key(site, gone) is None
    assert feed_urls(site, {"r:feixian", "r:nowhere"}) == [
        "http://news.example.org/feeds/region/feixian.rss",
        "http://news.example.org/feeds/region/feixian.atom",
        "http://news.example.org/feeds/region/feixian.json",
    ]
