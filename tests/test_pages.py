"""Pages for people, search and the embeds, read as HTML over real HTTP (aiohttp_client).

Articles are stored through the store as the poller would store them (titles plain text,
summaries sanitised); what a browser makes of the pages is in test_browser.py.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import html as lxml_html

from aggregator.model import Cursor, FeedItem
from aggregator.normalise.text import sanitize
from aggregator.publish import encode_cursor
from aggregator.store import Store
from aggregator.web.app import make_app
from aggregator.web.runtime import Runtime
from aggregator.web.search import merge_pages
from tests.factories import NOW, article, site_config
from tests.test_store import save

HOSTILE_TITLE = '<script>document.title="pwned"</script>费县<img src=x onerror=alert(1)>'


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    s.sync_sources(site_config().site, NOW - timedelta(minutes=5), random.Random(1))
    yield s
    s.close()


@pytest.fixture
async def client(store, aiohttp_client):
    runtime = Runtime(config=site_config(), store=store, loaded_at=NOW)
    client = await aiohttp_client(make_app(runtime))
    client.runtime = runtime
    return client


async def page(client, path: str, status: int = 200):
    resp = await client.get(path)
    text = await resp.text()
    assert resp.status == status, text[:500]
    return resp, lxml_html.fromstring(text), text


def texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def stored(n: int, source: str = "feixian-news", **changes):
    """An article as normalise leaves it: its summary sanitised."""
    a = article(source, n=n, **changes)
    return replace(a, summary=sanitize(a.summary, a.link))


# ---------------------------------------------------------------- listing pages


async def test_region_page_shows_latest_articles_with_source_time_summary_and_copies(
    store, client
) -> None:
    original = stored(1, summary='<p>山楂<b>丰收</b></p><a href="/more.html">详情</a>')
    copy = replace(
        stored(1, "linyi-daily"),
        key="gcopy",
        guid="lyrb-1",
        link="http://www.linyi.example.cn/syn/1.html",
        published=original.published + timedelta(minutes=30),
    )
    save(store, "feixian-news", [original, stored(2)])
    save(store, "linyi-daily", [copy])
    _, doc, _ = await page(client, "/region/feixian")
    assert texts(doc, "//h1") == ["费县"]
    assert texts(doc, "//ol[@class='articles']/li/h3") == [
        "费县召开第1次招商引资工作会议",
        "费县召开第2次招商引资工作会议",
    ]
    first = doc.xpath("//ol[@class='articles']/li")[0]
    # Article links go to the original, not to a page of ours.
    assert first.xpath(".//h3/a/@href") == ["http://www.feixian.example.cn/news/1.html"]
    assert texts(first, ".//span[@class='source']") == ["费县新闻网"]
    # NOW - 1h is 11:00 UTC: 19:00 in Asia/Shanghai, the site's zone.
    assert texts(first, ".//time") == ["2026-11-27 19:00"]
    assert first.xpath(".//div[@class='summary']/p/b/text()") == ["丰收"]
    assert first.xpath(".//div[@class='summary']//a/@href") == [
        "http://www.feixian.example.cn/more.html"
    ]
    assert texts(first, ".//p[@class='also']") == ["也发表于：临沂日报"]
    assert first.xpath(".//p[@class='also']/a/@href") == ["http://www.linyi.example.cn/syn/1.html"]


async def test_pages_link_every_feed_for_auto_discovery(client) -> None:
    for path, feed in [
        ("/region/linyi", "/feeds/region/linyi"),
        ("/channel/politics", "/feeds/channel/politics"),
        ("/region/feixian/economy", "/feeds/region/feixian/economy"),
    ]:
        _, doc, _ = await page(client, path)
        alternates = doc.xpath("//head/link[@rel='alternate']")
        assert [(a.get("type"), a.get("href")) for a in alternates] == [
            ("application/rss+xml", f"http://news.example.org{feed}.rss"),
            ("application/atom+xml", f"http://news.example.org{feed}.atom"),
            ("application/feed+json", f"http://news.example.org{feed}.json"),
        ]


async def test_region_channel_page_marks_the_channel_and_titles_both(client) -> None:
    _, doc, _ = await page(client, "/region/feixian/politics")
    assert texts(doc, "//h1") == ["费县 · 时政"]
    assert texts(doc, "//nav[@class='channels']//a[@aria-current='page']") == ["时政"]
    assert texts(doc, "//nav[@class='trail']//a") == ["山东", "临沂市", "费县"]


async def test_paging_older_then_newer_walks_back_the_same_pages(store, client) -> None:
    save(store, "feixian-news", [stored(n) for n in range(1, 71)])
    pages: list[list[str]] = []
    path: str | None = "/region/feixian?limit=20"
    hrefs: list[str] = []
    while path:
        hrefs.append(path)
        _, doc, _ = await page(client, path)
        pages.append(texts(doc, "//ol[@class='articles']/li/h3"))
        older = doc.xpath("//nav[@class='pager']/a[@rel='next']/@href")
        path = older[0] if older else None
    assert [len(p) for p in pages] == [20, 20, 20, 10]
    every = [t for p in pages for t in p]
    assert len(every) == len(set(every)) == 70  # no overlap, nothing skipped
    assert all(parse_qs(urlsplit(h).query).get("limit") == ["20"] for h in hrefs[1:])

    # Newer links from the last page lead back through the same pages.
    back = [pages[-1]]
    _, doc, _ = await page(client, hrefs[-1])
    while newer := doc.xpath("//nav[@class='pager']/a[@rel='prev']/@href"):
        _, doc, _ = await page(client, newer[0])
        back.append(texts(doc, "//ol[@class='articles']/li/h3"))
    assert back == pages[::-1]
    assert texts(doc, "//h2[@id='latest-h']") == ["最新文章"]


async def test_newer_page_is_the_one_just_above_while_articles_arrive(store, client) -> None:
    save(store, "feixian-news", [stored(n) for n in range(1, 41)])
    _, doc, _ = await page(client, "/region/feixian?limit=10")
    first_page = texts(doc, "//ol[@class='articles']/li/h3")
    _, second, _ = await page(client, doc.xpath("//a[@rel='next']/@href")[0])
    # Two newer articles arrive; "newer" from page two still shows what was above it.
    save(store, "feixian-news", [stored(n, published=NOW + timedelta(minutes=n)) for n in (91, 92)])
    client.runtime.cache.clear()
    _, doc, _ = await page(client, second.xpath("//a[@rel='prev']/@href")[0])
    assert texts(doc, "//ol[@class='articles']/li/h3") == first_page
    # …and that page, no longer the first, links the first page too.
    assert doc.xpath("//nav[@class='pager']/a[text()='最新']/@href") == ["/region/feixian?limit=10"]


async def test_past_the_last_page_says_so_and_links_the_newest(store, client) -> None:
    save(store, "feixian-news", [stored(1)])
    old = Cursor(NOW - timedelta(days=400), 1)
    _, doc, _ = await page(client, f"/region/feixian?before={encode_cursor(old)}")
    assert "没有更早的文章了" in texts(doc, "//p[@class='empty']")[0]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/region/nowhere", 404),
        ("/channel/sport", 404),
        ("/region/linyi/sport", 404),
        ("/region/linyi?before=garbage", 400),
        ("/region/linyi?limit=0", 400),
        ("/region/linyi?limit=1&limit=2", 400),
        ("/region/linyi?after=garbage", 400),
        ("/region/linyi?after=1-9223372036854775808", 400),
        ("/region/linyi?before=1-99999999999999999999", 400),
        ("/region/linyi?after=1-1&before=1-1", 400),
    ],
)
async def test_bad_page_urls_answer_a_readable_page(client, path, status) -> None:
    resp, doc, _ = await page(client, path, status)
    assert resp.content_type == "text/html"
    assert texts(doc, "//h1") == [{404: "找不到这个页面", 400: "地址中的参数有误"}[status]]
    assert "frame-ancestors 'self'" in resp.headers["Content-Security-Policy"]


async def test_everything_from_a_source_is_escaped(store, client) -> None:
    evil = stored(
        1,
        title=HOSTILE_TITLE,
        summary='<p onclick="x()">摘要<script>alert(2)</script></p>',
    )
    copy = replace(stored(5, "mengyin-rb"), title="另一条", key="m5", guid="m5")
    save(store, "feixian-news", [evil])
    save(store, "mengyin-rb", [copy])
    for path in ("/", "/region/feixian", "/search?q=费县", "/embed/region/feixian?summary=1"):
        _, doc, text = await page(client, path)
        assert not doc.xpath("//script | //img[not(@src)] | //@*[starts-with(name(), 'on')]")
        # The title is there, as text.
        assert any(HOSTILE_TITLE in t for t in texts(doc, "//a")), path
        assert "&lt;script&gt;" in text and "<script" not in text


# ---------------------------------------------------------------- index


async def test_index_has_the_region_tree_and_channels_with_feeds_and_headlines(
    store, client
) -> None:
    save(store, "feixian-news", [stored(n) for n in range(1, 8)])
    _, doc, _ = await page(client, "/")
    tree = doc.xpath("//section[@aria-labelledby='regions-h']/ul[@class='regions']")[0]
    # Nested: 山东 > 临沂市 > the counties.
    assert texts(tree, "./li/h3") == ["山东"]
    assert texts(tree, "./li/ul/li/h3") == ["临沂市"]
    assert texts(tree, "./li/ul/li/ul/li/h3") == ["费县", "蒙阴县", "兰陵县"]
    feixian = tree.xpath(".//li[h3/a[@href='/region/feixian']]")[0]
    assert feixian.xpath(".//span[@class='subscribe']/a/@href") == [
        f"http://news.example.org/feeds/region/feixian.{f}" for f in ("rss", "atom", "json")
    ]
    assert len(feixian.xpath("./ul[@class='headlines']/li")) == 5
    assert texts(doc, "//li[h3/a[@href='/region/mengyin']]/p[@class='empty']") == ["暂无文章"]
    channels = doc.xpath("//section[@aria-labelledby='channels-h']/ul/li")
    assert [texts(c, "./h3")[0] for c in channels] == ["时政", "经济"]
    politics = channels[0]
    assert len(politics.xpath(".//span[@class='subscribe']/a")) == 3
    assert len(politics.xpath("./ul[@class='headlines']/li")) == 5


async def test_pages_are_accessible_by_structure(store, client) -> None:
    """lang, one h1, no skipped heading level, landmarks, a skip link, every field labelled."""
    save(store, "feixian-news", [stored(n) for n in range(1, 4)])
    for path in ("/", "/region/feixian", "/channel/politics", "/search?q=费县", "/search"):
        _, doc, _ = await page(client, path)
        assert doc.get("lang") == "zh-CN"
        levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert levels.count(1) == 1 and levels[0] == 1, path
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (path, levels)
        assert doc.xpath("//header") and doc.xpath("//main[@id='main']") and doc.xpath("//footer")
        assert doc.xpath("//body/a[1]/@href") == ["#main"]
        for field in doc.xpath("//input[not(@type='hidden')] | //select"):
            assert doc.xpath(f"//label[@for='{field.get('id')}']"), (path, field.get("name"))
        assert 'name="viewport"' in lxml_html.tostring(doc).decode()


async def test_pages_have_a_strict_csp_and_no_script(store, client) -> None:
    save(store, "feixian-news", [stored(1)])
    for path in ("/", "/region/feixian", "/channel/politics", "/search?q=x", "/sources"):
        resp, doc, text = await page(client, path)
        csp = resp.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'self'" in csp
        assert "script-src" not in csp and "unsafe-inline" not in csp
        assert resp.headers["X-Frame-Options"] == "SAMEORIGIN"
        assert not doc.xpath("//script | //*[@style] | //style")
        assert not re.search(r"\son[a-z]+=", text)


# ---------------------------------------------------------------- search


async def test_search_page_finds_across_regions_and_highlights(store, client) -> None:
    save(store, "feixian-news", [stored(1, title="费县山楂丰收", text="山楂")])
    save(store, "mengyin-rb", [stored(2, "mengyin-rb", key="m2", title="蒙阴蜜桃上市", text="")])
    save(store, "linyi-daily", [stored(3, "linyi-daily", key="l3", title="临沂山楂节开幕")])
    _, doc, _ = await page(client, "/search?q=山楂")
    assert texts(doc, "//h1") == ["搜索“山楂”"]
    assert texts(doc, "//ol[@class='articles']/li/h3") == ["费县山楂丰收", "临沂山楂节开幕"]
    assert doc.xpath("//ol[@class='articles']//h3//mark/text()") == ["山楂", "山楂"]
    assert doc.xpath("//input[@id='q']/@value") == ["山楂"]
    # One region and below only.
    _, doc, _ = await page(client, "/search?q=山楂&region=feixian")
    assert texts(doc, "//ol[@class='articles']/li/h3") == ["费县山楂丰收"]
    assert doc.xpath("//select[@id='region']/option[@selected]/@value") == ["feixian"]
    _, doc, _ = await page(client, "/search?q=苹果")
    assert "没有找到" in texts(doc, "//p[@class='empty']")[0]


async def test_search_pages_through_results(store, client) -> None:
    save(store, "feixian-news", [stored(n) for n in range(1, 46)])
    seen: list[str] = []
    path: str | None = "/search?q=招商"
    while path:
        _, doc, _ = await page(client, path)
        seen += texts(doc, "//ol[@class='articles']/li/h3")
        older = doc.xpath("//nav[@class='pager']/a[@rel='next']/@href")
        path = older[0] if older else None
        if older:
            assert parse_qs(urlsplit(older[0]).query)["q"] == ["招商"]
    assert len(seen) == len(set(seen)) == 45
    assert doc.xpath("//nav[@class='pager']/a[text()='最新']/@href") == [
        "/search?q=%E6%8B%9B%E5%95%86"
    ]


async def test_search_without_words_shows_the_form(client) -> None:
    _, doc, _ = await page(client, "/search")
    assert texts(doc, "//h1") == ["搜索新闻"]
    assert doc.xpath("//form[@role='search']//label[@for='q']")
    assert not doc.xpath("//section[@aria-labelledby='results-h']")
    _, doc, _ = await page(client, "/search?q=%20%20")
    assert texts(doc, "//h1") == ["搜索新闻"]


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("q=" + "长" * 201, "搜索词太长"),
        ("q=费县&before=garbage", "翻页链接无效"),
        ("q=费县&q=临沂", "重复出现"),
        ("q=费县&region=nowhere", "所选地区不存在"),
        ("q=费县&limit=9999", "每页条数"),
    ],
)
async def test_a_bad_search_is_a_friendly_400(client, query, says) -> None:
    resp, doc, _ = await page(client, "/search?" + query, 400)
    assert resp.content_type == "text/html"
    message = texts(doc, "//section[@role='alert']/p")[0]
    assert says in message
    assert texts(doc, "//h1") == ["搜索新闻"]  # the refused words are not the heading
    assert doc.xpath("//input[@id='q']")  # the form is there to try again


def _item(story_id: int, minutes: int) -> FeedItem:
    when = NOW - timedelta(minutes=minutes)
    return FeedItem(
        story_id, f"t{story_id}", "http://x/", "", "", None, when, when, (), (), "r", "s", "s",
        None, f"g{story_id}",
    )  # fmt: skip


def test_merging_pages_of_several_trees_keeps_order_and_each_story_once() -> None:
    a = ([_item(1, 1), _item(3, 3), _item(5, 5)], Cursor(NOW - timedelta(minutes=5), 5))
    b = ([_item(2, 2), _item(3, 3), _item(4, 4)], None)
    items, cursor = merge_pages([a, b], 3)
    assert [i.story_id for i in items] == [1, 2, 3]
    assert cursor == Cursor(NOW - timedelta(minutes=3), 3)
    items, cursor = merge_pages([([_item(1, 1)], None), ([_item(2, 2)], None)], 3)
    assert [i.story_id for i in items] == [1, 2] and cursor is None
    only = ([_item(1, 1)], None)
    assert merge_pages([only], 3) == only


# ---------------------------------------------------------------- embedding


async def test_embed_page_shows_headlines_with_options(store, client) -> None:
    save(store, "feixian-news", [stored(n) for n in range(1, 8)])
    resp, doc, _ = await page(client, "/embed/region/feixian")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "default-src 'none'" in csp
    assert "X-Frame-Options" not in resp.headers
    assert doc.get("class") == "theme-light" and doc.get("lang") == "zh-CN"
    links = doc.xpath("//ol[@class='headlines']/li/a")
    assert len(links) == 7  # all there are; at most 10 by default
    assert {a.get("target") for a in links} == {"_blank"}
    assert {a.get("rel") for a in links} == {"noopener noreferrer"}
    assert not doc.xpath("//p[@class='summary'] | //script")

    _, doc, _ = await page(client, "/embed/region/feixian?limit=3&summary=1&theme=dark&target=_top")
    assert doc.get("class") == "theme-dark"
    assert len(doc.xpath("//ol/li")) == 3
    assert texts(doc, "//p[@class='summary']") == ["摘要 1", "摘要 2", "摘要 3"]
    assert {a.get("target") for a in doc.xpath("//a")} == {"_top"}
    assert doc.xpath("//h1/a/@href") == ["http://news.example.org/region/feixian"]

    for path in ("/embed/channel/politics", "/embed/region/linyi/politics"):
        _, doc, _ = await page(client, path)
        assert len(doc.xpath("//ol/li")) == 7


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("limit=0", 400),
        ("limit=51", 400),
        ("limit=abc", 400),
        ("summary=yes", 400),
        ("theme=blue", 400),
        ("target=_parent", 400),
        ("target=javascript:alert(1)", 400),
        ("theme=dark&theme=light", 400),
        ("utm_source=host", 200),  # unknown parameters are the host's business
    ],
)
async def test_embed_options_are_validated(client, query, status) -> None:
    resp, doc, _ = await page(client, "/embed/region/feixian?" + query, status)
    # Error pages may be framed too: the host shows why instead of a refused frame.
    assert "frame-ancestors *" in resp.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in resp.headers
    assert not doc.xpath(
        "//a[starts-with(@href, 'javascript')] | //a[@target='javascript:alert(1)']"
    )


async def test_unknown_embed_is_a_404(client) -> None:
    await page(client, "/embed/region/nowhere", 404)
    await page(client, "/embed/channel/sport", 404)


async def settled(client) -> None:
    """Wait until the app's change watcher has read the store's change log to its end, so
    a notification of the save above cannot drop a render in the middle of the test."""
    rt = client.runtime
    last = await rt.store.call(rt.store.last_change)
    for _ in range(200):
        if rt.change_seq >= last:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the change watcher never caught up")


async def test_embed_is_cached_until_new_articles_reach_its_feed(store, client) -> None:
    save(store, "feixian-news", [stored(1)])
    await settled(client)
    cache = client.runtime.cache
    first, _, _ = await page(client, "/embed/region/feixian?limit=5")
    hits = cache.hits
    again, _, _ = await page(client, "/embed/region/feixian?limit=5")
    assert cache.hits == hits + 1 and again.headers["ETag"] == first.headers["ETag"]
    resp = await client.get(
        "/embed/region/feixian?limit=5", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert resp.status == 304
    stats = save(store, "feixian-news", [stored(9, published=NOW)])
    cache.invalidate(stats.changed_feeds)
    _, doc, _ = await page(client, "/embed/region/feixian?limit=5")
    assert texts(doc, "//ol/li/a")[0] == "费县召开第9次招商引资工作会议"


async def test_region_and_channel_pages_show_both_snippets_escaped(client) -> None:
    for path, embed, feed in [
        ("/region/feixian", "/embed/region/feixian", "/feeds/region/feixian.json"),
        ("/channel/politics", "/embed/channel/politics", "/feeds/channel/politics.json"),
    ]:
        _, doc, text = await page(client, path)
        iframe, script = [
            c.text_content() for c in doc.xpath("//section[@class='embed-help']//pre/code")
        ]
        assert iframe.startswith(f'<iframe src="http://news.example.org{embed}?limit=10"')
        assert '<script src="http://news.example.org/embed.js"' in script
        assert f'data-feed="http://news.example.org{feed}"' in script
        target = re.search(r'data-target="([^"]+)"', script)[1]
        assert f'<div id="{target}"></div>' in script
        assert "&lt;iframe" in text and "&lt;script" in text  # shown, not run
        assert doc.xpath("//details[@class='preview']/iframe/@src") == [f"{embed}?limit=10"]


async def test_embed_js_is_served_with_the_site_time_zone(client) -> None:
    resp = await client.get("/embed.js")
    body = await resp.text()
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert 'var TIMEZONE = "Asia/Shanghai";' in body
    assert "innerHTML" not in body.replace("never innerHTML", "")
    assert body.lstrip().startswith("/*") and "(function () {" in body
    again = await client.get("/embed.js", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304
