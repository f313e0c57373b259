"""Cached feeds answered ahead of the router (web.hot): the same answers as the full path,
and the full path whenever the cache or the config no longer holds."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from aggregator.store import Store
from aggregator.web import feeds
from aggregator.web.app import check_changes, make_app, start_site
from aggregator.web.hot import cached_feeds_first
from tests.factories import NOW, article, site_config, store_articles, web_runtime

FEED = "/feeds/region/linyi.atom"


@pytest.fixture
def store(sqlite_url):
    s = Store(sqlite_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    store_articles(s, "feixian-news", [article(n=i, summary="<p>临沂" * 300) for i in range(1, 4)])
    yield s
    s.close()


@pytest.fixture
def routed(monkeypatch):
    """Counts the feed requests that reached the feed handler through the router."""
    calls: list[str] = []
    target_of = feeds.target_of

    def counted(request, site, memo):
        calls.append(request.raw_path)
        return target_of(request, site, memo)

    monkeypatch.setattr(feeds, "target_of", counted)
    return calls


def head(resp) -> dict[str, str]:
    return {k: v for k, v in resp.headers.items() if k != "Date"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept-Encoding": "gzip"}, {"Accept-Encoding": "br, gzip"}],
    ids=["identity", "gzip", "br"],
)
async def test_a_repeat_is_answered_from_the_cache_exactly_as_the_router_answered(
    store, aiohttp_client, routed, headers
) -> None:
    client = await aiohttp_client(make_app(web_runtime(store)))
    first = await client.get(FEED, headers=headers, auto_decompress=False)
    first_body = await first.read()
    second = await client.get(FEED, headers=headers, auto_decompress=False)
    assert routed == [FEED]  # the repeat never reached the router
    assert second.status == first.status == 200
    assert head(second) == head(first)
    assert await second.read() == first_body
    # The headers the edge middleware adds on the full path are there on the short one.
    assert second.headers["X-Content-Type-Options"] == "nosniff"
    assert second.headers["Access-Control-Allow-Origin"] == "*"
    # Revalidation and HEAD take the short path too, with the full path's headers.
    etag = first.headers["ETag"]
    again = await client.get(FEED, headers={**headers, "If-None-Match": etag})
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == etag and again.headers["X-Content-Type-Options"] == "nosniff"
    only_head = await client.head(FEED, headers=headers)
    assert only_head.status == 200 and await only_head.read() == b""
    assert only_head.headers["ETag"] == etag
    assert routed == [FEED]


async def test_the_router_answers_again_once_the_render_or_the_config_is_gone(
    store, aiohttp_client, routed
) -> None:
    rt = web_runtime(store)
    client = await aiohttp_client(make_app(rt))
    before = await (await client.get(FEED)).text()
    # New articles drop the render: the next request renders them through the router.
    await check_changes(rt)
    store_articles(store, "feixian-news", [article(n=7, title="费县新闻第七条")], NOW)
    assert await check_changes(rt) > 0
    after = await (await client.get(FEED)).text()
    assert "费县新闻第七条" in after and after != before
    assert routed == [FEED, FEED]
    await client.get(FEED)
    assert routed == [FEED, FEED]
    # A reloaded config: what was parsed under the old one is not trusted.
    rt.config = site_config()
    assert (await client.get(FEED)).status == 200
    assert routed == [FEED, FEED, FEED]


async def test_other_methods_and_paths_go_the_full_way(store, aiohttp_client, routed) -> None:
    client = await aiohttp_client(make_app(web_runtime(store)))
    await client.get(FEED)
    posted = await client.post(FEED)
    assert posted.status == 405 and (await posted.json())["status"] == 405
    assert posted.headers["Allow"] == "GET,HEAD"
    preflight = await client.options(FEED, headers={"Origin": "https://a.example"})
    assert preflight.status == 204
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    # Another query is another feed: parsed and rendered through the router.
    assert (await client.get(FEED + "?limit=2")).status == 200
    assert (await client.get(FEED + "?limit=zero")).status == 400
    assert routed == [FEED, FEED + "?limit=2", FEED + "?limit=zero"]


async def test_a_request_for_what_is_not_cached_is_handed_on(store) -> None:
    rt = web_runtime(store)
    handed: list[str] = []

    async def app_handler(request: web.BaseRequest) -> web.StreamResponse:
        handed.append(request.path)
        return web.Response(status=418)

    handler = cached_feeds_first(app_handler, rt)
    for path in (FEED, "/", "/feeds.opml"):
        assert (await handler(make_mocked_request("GET", path))).status == 418
    assert handed == [FEED, "/", "/feeds.opml"]


async def test_the_service_server_answers_repeats_ahead_of_the_router(store, routed) -> None:
    import aiohttp

    runner = await start_site(make_app(web_runtime(store)), "127.0.0.1", 0)
    try:
        port = runner.addresses[0][1]
        async with aiohttp.ClientSession() as session:
            for _ in range(3):
                async with session.get(f"http://127.0.0.1:{port}{FEED}") as resp:
                    assert resp.status == 200
        assert routed == [FEED]
    finally:
        await runner.cleanup()
