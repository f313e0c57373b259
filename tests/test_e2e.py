"""From a feeds.yaml to every published format, through real HTTP on both ends.

An in-process origin serves the fixture feeds (RSS 2.0 UTF-8 and GBK, Atom, RSS 1.0,
malformed XML, a syndicated pair, a 500); the service polls them into a real store and
its web app is read back with feedparser.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import feedparser
import pytest

from aggregator.model import PollStatus
from aggregator.service import open_parts
from aggregator.settings import Settings
from aggregator.web.app import check_changes, make_app
from tests.factories import site_config

FORMATS = ("rss", "atom", "json")


@asynccontextmanager
async def service(origin, db_url: str, workers: int = 0):
    origin.set("/down", status=500, body=b"Internal Server Error")
    config = site_config(origin.url("").rstrip("/"))
    settings = Settings(db=db_url, workers=workers, concurrency=8)
    async with open_parts(settings, config, poll=True) as parts:
        yield parts


def parse(body: bytes, fmt: str) -> list[dict]:
    """Entries of a feed in any of our formats, as (title, link, published, id)."""
    if fmt == "json":
        data = json.loads(body)
        assert data["version"] == "https://jsonfeed.org/version/1.1"
        return [
            {"title": i["title"], "link": i["url"], "id": i["id"], "published": i["date_published"],
             "ext": i["_aggregator"]}
            for i in data["items"]
        ]  # fmt: skip
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return [
        {"title": e.title, "link": e.link, "id": e.id, "published": e.get("published")}
        for e in parsed.entries
    ]


@pytest.fixture
async def polled(origin, db_url, aiohttp_client):
    async with service(origin, db_url) as parts:
        results = await parts.poller.run_once()
        client = await aiohttp_client(make_app(parts.runtime))
        yield parts, {r.source_id: (r, s) for r, s in results}, client


async def test_every_source_is_polled_and_failures_stay_local(polled) -> None:
    parts, results, _ = polled
    assert set(results) == set(parts.runtime.site.sources)
    status = {sid: r.status for sid, (r, _) in results.items()}
    assert status["lanling-down"] is PollStatus.HTTP_ERROR
    assert results["lanling-down"][0].http_status == 500
    for sid in ("feixian-news", "feixian-gov", "mengyin-rb", "lanling-tv", "linyi-daily"):
        assert status[sid] is PollStatus.OK, (sid, results[sid][0].message)
        assert results[sid][1].new > 0
    assert status["lanling-bad"] in (PollStatus.OK, PollStatus.PARSE_ERROR)


@pytest.mark.parametrize("fmt", FORMATS)
async def test_region_feed_rolls_up_counties_in_every_format(polled, fmt) -> None:
    _, _, client = polled
    resp = await client.get(f"/feeds/region/linyi.{fmt}")
    assert resp.status == 200
    entries = parse(await resp.read(), fmt)
    links = {e["link"] for e in entries}
    assert any("feixian" in x for x in links) and any("mengyin" in x for x in links)
    assert len({e["id"] for e in entries}) == len(entries)
    county = parse(await (await client.get(f"/feeds/region/mengyin.{fmt}")).read(), fmt)
    assert county and all(e["id"] in {x["id"] for x in entries} for e in county)
    assert len(county) < len(entries)


async def test_feed_metadata(polled) -> None:
    _, _, client = polled
    atom = feedparser.parse(await (await client.get("/feeds/region/linyi.atom")).read())
    assert atom.feed.title.startswith("临沂市")
    assert atom.feed.get("language") == "zh-CN" or atom.feed.get("xml_lang") == "zh-CN"
    self_links = [link.href for link in atom.feed.links if link.rel == "self"]
    assert self_links == ["http://news.example.org/feeds/region/linyi.atom"]
    rss = feedparser.parse(await (await client.get("/feeds/region/linyi.rss")).read())
    assert rss.feed.language == "zh-CN"
    entry = rss.entries[0]
    assert entry.source.title and entry.link.startswith("http")


async def test_syndicated_story_shows_once_with_every_appearance(polled) -> None:
    _, _, client = polled
    items = parse(await (await client.get("/feeds/region/linyi.json")).read(), "json")
    merged = [i for i in items if len(i["ext"]["appearances"]) > 1]
    assert merged, "the syndicated pair should have merged"
    for item in merged:
        sources = [a["source"] for a in item["ext"]["appearances"]]
        assert "linyi-daily" in sources and len(set(sources)) == len(sources)
        assert "utm_" not in item["link"]
    titles = [i["title"] for i in items]
    assert len(titles) == len(set(titles))


async def test_gbk_source_with_naive_dates_is_read_in_shanghai_time(polled) -> None:
    _, _, client = polled
    items = parse(await (await client.get("/feeds/source/mengyin-rb.json")).read(), "json")
    assert all("\ufffd" not in i["title"] for i in items)
    published = {i["published"] for i in items}
    assert "2018-10-29T01:26:00Z" in published  # "2018-10-29 09:26" in Asia/Shanghai


async def test_channel_and_region_channel_feeds(polled) -> None:
    _, _, client = polled
    politics = parse(await (await client.get("/feeds/channel/politics.json")).read(), "json")
    assert politics and all("politics" in i["ext"]["channels"] for i in politics)
    gov = [i for i in politics if i["ext"]["source"]["id"] == "feixian-gov"]
    assert gov, "a source's own channels always apply"
    rc = parse(await (await client.get("/feeds/region/feixian/politics.json")).read(), "json")
    assert {i["id"] for i in rc} <= {i["id"] for i in politics}
    assert all(
        i["ext"]["region"] in ("feixian",)
        or any(a["region"] == "feixian" for a in i["ext"]["appearances"])
        for i in rc
    )


async def test_limit_and_next_page(polled) -> None:
    _, _, client = polled
    first = feedparser.parse(await (await client.get("/feeds/region/linyi.atom?limit=3")).read())
    assert len(first.entries) == 3
    nxt = [link.href for link in first.feed.links if link.rel == "next"]
    assert nxt and nxt[0].startswith("http://news.example.org/feeds/region/linyi.atom?")
    path = nxt[0].removeprefix("http://news.example.org")
    second = feedparser.parse(await (await client.get(path)).read())
    assert second.entries
    assert not {e.id for e in first.entries} & {e.id for e in second.entries}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/region/nowhere.rss", 404),
        ("/feeds/channel/sport.atom", 404),
        ("/feeds/source/nope.json", 404),
        ("/feeds/region/linyi/sport.rss", 404),
        ("/feeds/region/linyi.xml", 404),
        ("/region/nowhere", 404),
        ("/feeds/region/linyi.rss?limit=0", 400),
        ("/feeds/region/linyi.rss?limit=501", 400),
        ("/feeds/region/linyi.rss?limit=ten", 400),
        ("/feeds/region/linyi.rss?before=garbage", 400),
        ("/feeds/region/linyi.rss?before=1-9223372036854775808", 400),
        ("/feeds/region/linyi.rss?before=99999999999999999999-1", 400),
        ("/feeds/region/linyi.rss?limit=5&limit=6", 400),
    ],
)
async def test_bad_requests_get_404_or_400_never_500(polled, path, status) -> None:
    _, _, client = polled
    resp = await client.get(path)
    assert resp.status == status
    if path.startswith("/feeds/"):
        assert (await resp.json())["error"]
    else:  # pages answer with a page a person can read
        assert "找不到这个页面" in await resp.text()


async def test_second_poll_uses_conditional_get_and_stores_nothing_twice(origin, db_url) -> None:
    async with service(origin, db_url) as parts:
        await parts.poller.run_once()
        before = parts.store.counts()
        for sid in parts.runtime.site.sources:
            parts.store.set_flags(sid, next_poll_at=datetime.now(UTC))
        results = await parts.poller.run_once()
        status = {r.source_id: r.status for r, _ in results}
        assert status["feixian-news"] is PollStatus.NOT_MODIFIED
        assert origin.conditional["/feeds/rss20_utf8.xml"] == 1
        assert parts.store.counts() == before


async def test_changed_body_with_new_item_is_ingested_and_invalidates_the_cache(
    origin, db_url, aiohttp_client
) -> None:
    async with service(origin, db_url) as parts:
        await parts.poller.run_once()
        client = await aiohttp_client(make_app(parts.runtime))
        first = await client.get("/feeds/source/feixian-news.rss")
        etag = first.headers["ETag"]
        assert (
            await client.get("/feeds/source/feixian-news.rss", headers={"If-None-Match": etag})
        ).status == 304
        path = "/feeds/rss20_utf8.xml"
        body = origin.routes[path].body
        item = (
            "<item><title>费县新建产业园项目开工</title>"
            "<link>http://www.feixian.example.cn/news/new.html</link>"
            "<pubDate>Thu, 26 Nov 2026 10:00:00 +0800</pubDate></item>"
        )
        origin.set_body(path, body.replace(b"<item>", item.encode() + b"<item>", 1))
        parts.store.set_flags("feixian-news", next_poll_at=datetime.now(UTC))
        results = await parts.poller.run_once(["feixian-news"])
        assert results[0][1].new == 1
        await check_changes(parts.runtime)
        again = await client.get("/feeds/source/feixian-news.rss", headers={"If-None-Match": etag})
        assert again.status == 200
        assert "费县新建产业园项目开工" in await again.text()


async def test_health_api_opml_index_and_healthz(polled) -> None:
    _, _, client = polled
    sources = (await (await client.get("/api/sources")).json())["sources"]
    down = next(s for s in sources if s["id"] == "lanling-down")
    assert (
        down["status"] == "http_error"
        and down["http_status"] == 500
        and down["consecutive_failures"] == 1
    )
    ok = next(s for s in sources if s["id"] == "feixian-news")
    assert ok["entries_stored"] > 0 and ok["last_success"] and ok["next_poll"]
    opml = await (await client.get("/feeds.opml")).text()
    assert "http://news.example.org/feeds/region/feixian.rss" in opml
    index = await client.get("/")
    html = await index.text()
    assert index.status == 200 and 'rel="alternate"' in html and "/feeds/region/linyi.atom" in html
    assert "<script" not in html
    assert (await (await client.get("/healthz")).json())["ok"] is True
    page = await (await client.get("/region/feixian")).text()
    assert "费县" in page and "application/atom+xml" in page


async def test_parsing_in_worker_processes(origin, sqlite_url) -> None:
    async with service(origin, sqlite_url, workers=1) as parts:
        results = await parts.poller.run_once(["feixian-news", "mengyin-rb"])
        assert {r.status for r, _ in results} == {PollStatus.OK}
        assert sum(s.new for _, s in results) > 5
