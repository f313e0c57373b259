"""`aggregator demo`: bundled samples served on loopback give full merged feeds at once."""

from __future__ import annotations

import feedparser

from aggregator.demo import demo_config, start_samples
from aggregator.service import open_parts
from aggregator.settings import Settings
from aggregator.web.app import make_app


async def test_demo_samples_poll_into_merged_feeds(sqlite_url, aiohttp_client) -> None:
    runner, origin = await start_samples()
    try:
        config = demo_config(origin, "http://127.0.0.1:8080")
        kinds = {s.id for s in config.site.sources.values()}
        assert {"feixian-news", "yishui-gov", "lanling-tv", "mengyin-rb", "linyi-daily"} <= kinds
        async with open_parts(Settings(db=sqlite_url, workers=0), config, poll=True) as parts:
            results = await parts.poller.run_once()
            assert all(r.status.value == "ok" for r, _ in results), [
                (r.source_id, r.message) for r, _ in results
            ]
            client = await aiohttp_client(make_app(parts.runtime))
            atom = feedparser.parse(
                await (await client.get("/feeds/region/linyi.atom?limit=200")).read()
            )
            assert not atom.bozo and len(atom.entries) >= 40
            related = [e for e in atom.entries if any(link.rel == "related" for link in e.links)]
            assert related, "the syndicated stories are merged, with the copies as related links"
            titles = [e.title for e in atom.entries]
            assert len(titles) == len(set(titles))
            gbk = feedparser.parse(await (await client.get("/feeds/source/mengyin-rb.rss")).read())
            assert gbk.entries and all("\ufffd" not in e.title for e in gbk.entries)
    finally:
        await runner.cleanup()
