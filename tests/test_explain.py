"""GET /api/articles/{id}: a story's copies, channel rules and why the copies merged."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from aggregator.store import SourceUpdate
from aggregator.web.app import make_app
from tests.factories import article, poll_result
from tests.test_e2e import service

BODY = (
    "5月12日，费县第三届山楂文化节在薛庄镇开幕。文化节期间将举办山楂产品展销、乡村旅游推介等"
    "系列活动，持续至6月底。"
)


@pytest.fixture
async def app(origin, db_url, aiohttp_client):
    async with service(origin, db_url) as parts:
        await parts.poller.run_once()
        yield parts, await aiohttp_client(make_app(parts.runtime))


async def feed_items(client, path: str) -> list[dict]:
    resp = await client.get(path)
    assert resp.status == 200
    return json.loads(await resp.read())["items"]


async def explain(client, item: dict) -> dict:
    story_id = item["id"].rsplit("/", 1)[1]
    resp = await client.get(f"/api/articles/{story_id}")
    assert resp.status == 200 and resp.content_type == "application/json"
    return await resp.json()


async def test_a_syndicated_story_explains_its_copies_and_rules(app) -> None:
    _, client = app
    items = await feed_items(client, "/feeds/region/linyi.json")
    (item,) = [i for i in items if "山楂文化节" in i["title"]]
    got = await explain(client, item)
    assert got["title"].startswith("费县第三届山楂文化节") and got["link"] == item["url"]
    copies = {c["source"]: c for c in got["copies"]}
    assert list(copies) == ["feixian-syn", "linyi-daily"]  # the original first
    assert copies["feixian-syn"]["merged"] is None
    assert copies["linyi-daily"]["merged"] == {
        "rule": "link",
        "entry": copies["feixian-syn"]["entry"],
    }
    assert copies["linyi-daily"]["origin"] == "费县新闻网"
    assert copies["linyi-daily"]["region"] == "linyi"
    assert sum(c["shown"] for c in got["copies"]) == 1
    # The fixture's categories 文旅/山楂 put it into no configured channel; the region's do.
    assert got["regions"] == ["feixian", "linyi"]
    assert "http://news.example.org/feeds/region/feixian.json" in got["feeds"]
    assert "http://news.example.org/feeds/source/linyi-daily.json" in got["feeds"]


async def test_channel_rules_are_shown_per_copy(app) -> None:
    _, client = app
    items = await feed_items(client, "/feeds/channel/politics.json")
    assert items
    for item in items:
        got = await explain(client, item)
        by = got["channels"]["politics"]["by"]
        assert got["channels"]["politics"]["title"] == "时政"
        assert by and all(b["rule"] for b in by)
        sources = {c["source"]: c for c in got["copies"]}
        for b in by:
            assert sources[b["source"]]["channels"]["politics"] == b["rule"]
    rules = {
        b["rule"]
        for item in items
        for b in (await explain(client, item))["channels"]["politics"]["by"]
    }
    assert "source" in rules  # feixian-gov lists politics itself
    assert any(r.startswith("keyword:会议 in title") for r in rules)


async def test_a_near_duplicate_shows_its_score(app) -> None:
    parts, client = app
    store = parts.runtime.store
    items = await feed_items(client, "/feeds/source/feixian-syn.json")
    (orig,) = [i for i in items if "山楂文化节" in i["title"]]
    first = await explain(client, orig)
    published = datetime.fromisoformat(first["published"].replace("Z", "+00:00"))
    title = "【图】费县第三届山楂文化节在薛庄镇开幕"
    copy = replace(
        article("mengyin-rb", 77, title=title, link="http://m.example.cn/77.html"),
        summary=f"<p>来源：费县新闻网 {BODY}</p>",
        text="来源：费县新闻网 " + BODY,
        published=published + timedelta(hours=2),
        channels=("economy",),
        channel_rules=(("economy", "keyword:产品 in summary"),),
    )
    store.set_flags("mengyin-rb", next_poll_at=published)
    (claim,) = store.claim_due(
        published + timedelta(days=1),
        1,
        "t",
        timedelta(minutes=1),
        only=["mengyin-rb"],
        include_new=True,
    )
    store.save_poll(claim, poll_result("mengyin-rb"), SourceUpdate(), [copy], published)
    got = await explain(client, orig)
    mine = next(c for c in got["copies"] if c["source"] == "mengyin-rb")
    assert mine["merged"]["rule"] == "near-duplicate"
    assert mine["merged"]["score"] >= 0.8 and mine["merged"]["minutes_apart"] == 120.0
    assert got["channels"]["economy"]["by"] == [
        {"entry": mine["entry"], "source": "mengyin-rb", "rule": "keyword:产品 in summary"}
    ]
    assert "mengyin" in got["regions"]
    # Every format shows the story once, with the new copy among its appearances.
    items = await feed_items(client, "/feeds/region/linyi.json")
    (one,) = [i for i in items if "山楂文化节" in i["title"]]
    assert [a["source"] for a in one["_aggregator"]["appearances"]] == [
        "feixian-syn",
        "linyi-daily",
        "mengyin-rb",
    ]
    atom = (await (await client.get("/feeds/region/linyi.atom")).read()).decode()
    assert atom.count("山楂文化节在薛庄镇开幕</title>") == 1
    assert 'href="http://m.example.cn/77.html" rel="related"' in atom
    rss = (await (await client.get("/feeds/region/linyi.rss")).read()).decode()
    assert "http://m.example.cn/77.html" in rss  # the also-published footer
    # … and the county feed of the new copy holds it too.
    mengyin = await feed_items(client, "/feeds/region/mengyin.json")
    assert any("山楂文化节" in i["title"] for i in mengyin)


async def test_the_config_in_force_shows_channel_rules_and_dedupe(app) -> None:
    _, client = app
    got = await (await client.get("/api/config")).json()
    assert got["dedupe"] == {"window_s": 7 * 86400.0, "threshold": 0.8}
    politics = next(c for c in got["channels"] if c["id"] == "politics")
    assert politics["match"] == ["title", "categories"] and politics["words"] == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/articles/abc", 400),
        ("/api/articles/-1", 400),
        ("/api/articles/1.5", 400),
        ("/api/articles/%EF%BC%91", 400),  # a full-width digit
        ("/api/articles/99999999999999999999", 400),
        ("/api/articles/0", 404),
        ("/api/articles/987654", 404),
    ],
)
async def test_bad_and_unknown_ids(app, path, status) -> None:
    _, client = app
    resp = await client.get(path)
    assert resp.status == status
    assert "error" in await resp.json()
