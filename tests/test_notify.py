"""PostgreSQL NOTIFY wakes a server the moment another process stores articles; the
one-second read of the change log stays the fallback."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from aggregator.store import Store
from aggregator.web import app as web_app
from aggregator.web.app import make_app
from tests.factories import NOW, article, site_config, store_articles, web_runtime

pytestmark = pytest.mark.pg
FEED = "/feeds/region/feixian.json"


async def test_a_notification_drops_the_render_without_waiting_for_the_read(
    pg_url: str, aiohttp_client, monkeypatch
) -> None:
    monkeypatch.setattr(web_app, "CHANGE_CHECK_SECONDS", 3600)  # only NOTIFY can wake it
    server_store, poller_store = Store(pg_url), Store(pg_url)  # two processes, in effect
    try:
        poller_store.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
        server_store.configure(site_config().site)
        client = await aiohttp_client(make_app(web_runtime(server_store)))
        assert (await (await client.get(FEED)).json())["items"] == []  # now cached
        async with asyncio.timeout(20):
            while not client.app[web_app.CHANGES].listening:
                await asyncio.sleep(0.05)
        await asyncio.to_thread(store_articles, poller_store, "feixian-news", [article(n=1)])
        async with asyncio.timeout(20):  # generous: what matters is that it comes at all
            while not (await (await client.get(FEED)).json())["items"]:
                await asyncio.sleep(0.05)
    finally:
        server_store.close()
        poller_store.close()
