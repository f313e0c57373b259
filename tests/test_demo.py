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
            portal = feedparser.parse(
                await (await client.get("/feeds/source/feixian-portal.atom")).read()
            )
            titles = {e.title: e for e in portal.entries}
            entry = titles["费县薛庄镇：冬闲变冬忙 大棚里种出“致富果”"]  # from title=, not cut
            body = entry.content[0].value
            assert "建成高标准冬暖式大棚460个" in body
            assert "责任编辑" not in body and "相关新闻" not in body and "分享到" not in body
            assert entry.author == "记者 刘晓宁"
    finally:
        await runner.cleanup()


def test_the_demo_config_is_a_real_file_that_reloads(tmp_path) -> None:
    from aggregator.config import load

    config = demo_config("http://127.0.0.1:45678", "http://127.0.0.1:8080", str(tmp_path))
    assert config.path == str(tmp_path / "feeds.yaml")
    again = load(config.path)  # what a reload reads: valid, the same bytes
    assert again.sha256 == config.sha256
    assert all(s.url.startswith("http://127.0.0.1:45678/") for s in again.site.sources.values())
