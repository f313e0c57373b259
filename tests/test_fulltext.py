"""`fulltext: true` end to end: a county list page and its article pages served on
loopback, polled into a real store (SQLite and PostgreSQL).

Each article page is fetched once across polls; a failed page keeps the list's summary
and shows in the source's health without failing the poll; the page fills in the date,
author and 来源 the list lacks; a re-poll does not wipe the body.
"""

from __future__ import annotations

import asyncio
import textwrap
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from aggregator.model import PollStatus
from aggregator.poller import fulltext
from aggregator.service import open_parts
from aggregator.settings import Settings
from aggregator.store.tables import ARTICLE_PAGES, ENTRIES, SOURCES
from tests.factories import site_config

HTML = Path(__file__).parent / "data" / "html"

SITE = """\
site: {title: 临沂新闻聚合, base_url: "http://news.example.org", timezone: Asia/Shanghai}
defaults: {interval: 1m, timeout: 5s, allow_private_networks: true, per_host: 2, host_gap: 0s}
regions:
  - id: feixian
    title: 费县
    sources:
      - id: feixian-portal
        title: 费县人民政府
        url: "{origin}/col/col1021/index.html"
        type: html
        html: {item: "ul.news li", title: a, link: "a@href", date: span.date, summary: p}
        fulltext: true
      - id: mengyin-rb
        url: "{origin}/mengyin/rss.xml"
        fulltext: true
"""

ITEM = '<li><a href="{href}">{title}</a>{date}<p>{summary}</p></li>'
ITEMS = [
    ("/art/2018/10/29/art_1021_251.html", "费县召开全县招商引资工作推进会议", "",
     "全县招商引资工作推进会议召开。"),  # no date in the list: the page has one
    ("../../art/broken.html", "费县启动冬季清洁取暖工程", '<span class="date">2018-10-30</span>',
     "费县启动冬季清洁取暖工程，惠及群众两万余户。"),
    ("/art/gone.html", "费县新增省级美丽乡村示范村五个",
     '<span class="date">2018-10-28 10:00</span>', "费县新增省级美丽乡村示范村五个。"),
]  # fmt: skip
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>蒙阴报</title><link>{origin}/</link>
<item><title>蒙阴蜜桃产业园获评省级现代农业产业园</title><link>{origin}/xwzx/3306.html</link>
<guid isPermaLink="false">mengyin-3306</guid><pubDate>Mon, 29 Oct 2018 09:26:00 +0800</pubDate>
<description>蒙阴蜜桃产业园成功入选。</description></item>
</channel></rss>"""


def list_page(items: list[tuple[str, str, str, str]]) -> bytes:
    lis = "\n".join(ITEM.format(href=h, title=t, date=d, summary=s) for h, t, d, s in items)
    page = (HTML / "feixian_list.html").read_text("utf-8")
    start, end = (
        page.index('<ul class="news">'),
        page.index("</ul>", page.index('<ul class="news">')),
    )
    return (page[:start] + '<ul class="news">\n' + lis + "\n" + page[end:]).encode()


@asynccontextmanager
async def service(origin, db_url: str):
    base = origin.url("").rstrip("/")
    origin.set("/col/col1021/index.html", body=list_page(ITEMS), content_type="text/html")
    article = (HTML / "feixian_article.html").read_bytes()
    origin.set("/art/2018/10/29/art_1021_251.html", body=article, content_type="text/html")
    origin.set("/art/broken.html", status=500, body=b"Internal Server Error")
    origin.set("/art/gone.html", status=404, body=b"Not Found")
    origin.set("/mengyin/rss.xml", body=FEED.replace("{origin}", base).encode())
    gbk = (HTML / "mengyin_article.gbk.html").read_bytes()
    origin.set("/xwzx/3306.html", body=gbk, content_type="text/html")  # no charset
    config = site_config(base, textwrap.dedent(SITE))
    async with open_parts(Settings(db=db_url, workers=0), config, poll=True) as parts:
        yield parts


def rows(parts, table, **where):
    with parts.store.engine.connect() as conn:
        stmt = select(table)
        for col, value in where.items():
            stmt = stmt.where(table.c[col] == value)
        return {r.key if "key" in r._fields else r.id: r for r in conn.execute(stmt)}


def by_title(parts, source_id):
    return {r.title: r for r in rows(parts, ENTRIES, source_id=source_id).values()}


async def poll_again(parts, *ids):
    for sid in ids:
        parts.store.set_flags(sid, next_poll_at=datetime.now(UTC))
    return {r.source_id: (r, s) for r, s in await parts.poller.run_once(list(ids))}


async def test_pages_are_fetched_once_and_fill_in_what_the_list_lacks(origin, db_url) -> None:
    async with service(origin, db_url) as parts:
        results = {r.source_id: (r, s) for r, s in await parts.poller.run_once()}
        result, stats = results["feixian-portal"]
        assert result.status is PollStatus.OK  # page failures do not fail the poll
        assert stats.new == 3
        entries = by_title(parts, "feixian-portal")

        good = entries["费县召开全县招商引资工作推进会议"]
        assert "前三季度新签约过亿元项目28个" in good.text
        assert "<p>" in good.content and "责任编辑" not in good.content
        assert good.summary == "<p>全县招商引资工作推进会议召开。</p>"  # the list's own
        assert (good.author, good.origin) == ("记者 王建华", "临沂日报")
        # the list gave no date; the page's naive Shanghai time is used
        assert good.published == datetime(2018, 10, 29, 1, 26, tzinfo=UTC)
        assert good.precision == "datetime"
        assert good.page_canonical == (
            "http://www.feixian.example.cn/art/2018/10/29/art_1021_251.html"
        )

        # a feed source with fulltext: the GBK page (no HTTP charset) is read right
        (rb,) = by_title(parts, "mengyin-rb").values()
        assert "带动3.6万户果农户均增收1.2万元" in rb.text
        assert (rb.author, rb.origin) == ("记者 李明 通讯员 赵刚", "蒙阴报")

        # second poll with one new item: only the new page is fetched
        new_item = ("/art/2018/10/29/art_1021_251.html?id=9", "费县举办秋季人才招聘会", "",
                    "秋季人才招聘会举办。")  # fmt: skip
        origin.set_body("/col/col1021/index.html", list_page([new_item, *ITEMS]))
        again = await poll_again(parts, "feixian-portal", "mengyin-rb")
        assert again["feixian-portal"][1].new == 1
        assert again["mengyin-rb"][0].status is PollStatus.NOT_MODIFIED
        assert origin.requests["/art/2018/10/29/art_1021_251.html"] == 2  # once per entry
        assert origin.requests["/xwzx/3306.html"] == 1
        assert origin.requests["/art/gone.html"] == 1  # 404: not tried again
        entries = by_title(parts, "feixian-portal")
        assert "前三季度新签约过亿元项目28个" in entries["费县召开全县招商引资工作推进会议"].text
        assert entries["费县举办秋季人才招聘会"].text.startswith("10月29日上午")


async def test_a_failed_page_keeps_the_summary_and_shows_in_health(origin, db_url) -> None:
    async with service(origin, db_url) as parts:
        results = {r.source_id: (r, s) for r, s in await parts.poller.run_once()}
        result, _ = results["feixian-portal"]
        assert result.status is PollStatus.OK
        assert "fulltext: 2 of 3 article pages failed (http_error: HTTP 500)" in result.message
        entries = by_title(parts, "feixian-portal")
        broken = entries["费县启动冬季清洁取暖工程"]
        assert broken.content == ""
        assert broken.summary == "<p>费县启动冬季清洁取暖工程，惠及群众两万余户。</p>"
        health = rows(parts, SOURCES)["feixian-portal"]
        assert health.status == "ok"
        assert any(w.startswith("fulltext: 2 of 3") for w in health.warnings)
        assert "fulltext:" in health.message
        pages = {p.url.rsplit("/", 1)[-1]: p for p in rows(parts, ARTICLE_PAGES).values()}
        assert (pages["broken.html"].ok, pages["broken.html"].retry) == (False, True)
        assert (pages["gone.html"].ok, pages["gone.html"].retry) == (False, False)

        # the 500 is tried again on the next poll, even though the list is unchanged
        origin.set("/art/broken.html", body=(HTML / "feixian_article.html").read_bytes(),
                   content_type="text/html")  # fmt: skip
        again = await poll_again(parts, "feixian-portal")
        assert again["feixian-portal"][0].status is PollStatus.NOT_MODIFIED
        assert origin.requests["/art/broken.html"] == 2
        assert origin.requests["/art/gone.html"] == 1
        fixed = by_title(parts, "feixian-portal")["费县启动冬季清洁取暖工程"]
        assert "前三季度新签约过亿元项目28个" in fixed.text
        # the list's date (a day) stays; the page's time on that day would refine it,
        # but this page is dated the day before
        assert fixed.precision == "date"
        pages = {p.url.rsplit("/", 1)[-1]: p for p in rows(parts, ARTICLE_PAGES).values()}
        assert (pages["broken.html"].ok, pages["broken.html"].tries) == (True, 2)


async def test_article_fetches_are_guarded_too(origin, db_url) -> None:
    """A list on an allowed host whose links point at a private address: the pages are
    refused (each source's own setting applies to its article pages)."""
    async with service(origin, db_url) as parts:
        source = parts.runtime.site.sources["feixian-portal"]
        from dataclasses import replace

        from aggregator.poller import fulltext

        await parts.poller.run_once(["feixian-portal"])
        guarded = replace(source, allow_private_networks=False)
        with parts.store.engine.begin() as conn:
            conn.execute(ARTICLE_PAGES.delete())
        session = parts.sessions.get(False)
        report = await fulltext.follow_up(guarded, parts.poller.deps, session)
        assert report.failed == report.attempted == 3
        assert report.first_error.startswith("blocked: refused to connect to 127.0.0.1")


SHARED = """\
site: {title: T, base_url: "http://news.example.org", timezone: Asia/Shanghai}
defaults: {interval: 1m, timeout: 5s, allow_private_networks: true, host_gap: 0s}
regions:
  - id: feixian
    title: 费县
    sources:
      - id: feixian-portal
        url: "{origin}/col/col1021/index.html"
        type: html
        html: {item: "ul.news li", title: a, link: "a@href"}
        fulltext: true
      - id: linyi-daily
        url: "{origin}/lyrb/rss.xml"
        fulltext: true
      - id: feixian-guarded
        url: "{origin}/col/col1021/index.html?copy=1"
        type: html
        html: {item: "ul.news li", title: a, link: "a@href"}
        allow_private_networks: false
"""
REPUBLISHED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>临沂日报</title><link>{origin}/</link>
<item><title>费县召开全县招商引资工作推进会议</title><guid>lyrb-1</guid>
<link>{origin}/art/2018/10/29/art_1021_251.html</link>
<description>来源:费县人民政府</description></item>
</channel></rss>"""


async def test_a_page_two_sources_link_is_fetched_once_and_refusals_are_blocked(
    origin, db_url
) -> None:
    base = origin.url("").rstrip("/")
    origin.set("/col/col1021/index.html", body=list_page(ITEMS[:1]), content_type="text/html")
    origin.set("/lyrb/rss.xml", body=REPUBLISHED.replace("{origin}", base).encode())
    origin.set("/art/2018/10/29/art_1021_251.html", content_type="text/html",
               body=(HTML / "feixian_article.html").read_bytes())  # fmt: skip
    config = site_config(base, textwrap.dedent(SHARED))
    async with open_parts(Settings(db=db_url, workers=0), config, poll=True) as parts:
        results = {r.source_id: r for r, _ in await parts.poller.run_once()}
        assert origin.requests["/art/2018/10/29/art_1021_251.html"] == 1
        for sid in ("feixian-portal", "linyi-daily"):
            assert results[sid].status is PollStatus.OK, results[sid].message
            (entry,) = by_title(parts, sid).values()
            assert "前三季度新签约过亿元项目28个" in entry.text, sid
        # a source that does not allow private networks is refused, and says why
        blocked = results["feixian-guarded"]
        assert blocked.status is PollStatus.BLOCKED
        assert "refused to connect to 127.0.0.1: a loopback address" in blocked.message
        health = rows(parts, SOURCES)["feixian-guarded"]
        assert (health.status, health.consecutive_failures) == ("blocked", 1)
        assert "allow_private_networks" in health.message


async def test_a_poll_whose_store_read_overlaps_another_polls_save_still_shares_the_page(
    origin, db_url, monkeypatch
) -> None:
    """Two sources list one story, and their follow-ups overlap: linyi-daily is fetching
    the page when feixian-portal looks for it. Any read of the store feixian-portal makes
    then is taken before linyi-daily saves the page and answered only after linyi-daily
    has dropped its claim on it. The page is still fetched once, and both entries get it:
    a poll claims a page before it reads the store, so it never misses both."""
    path = "/art/2018/10/29/art_1021_251.html"
    base = origin.url("").rstrip("/")
    origin.set("/col/col1021/index.html", body=list_page(ITEMS[:1]), content_type="text/html")
    origin.set("/lyrb/rss.xml", body=REPUBLISHED.replace("{origin}", base).encode())
    origin.set(path, status=503, body=b"busy")  # the first polls store the lists only
    config = site_config(base, textwrap.dedent(SHARED))
    async with open_parts(Settings(db=db_url, workers=0), config, poll=True) as parts:
        await parts.poller.run_once(["feixian-portal", "linyi-daily"])
        origin.set(path, body=(HTML / "feixian_article.html").read_bytes(),
                   content_type="text/html")  # fmt: skip
        origin.requests.clear()

        store, deps = parts.store, parts.poller.deps
        second_knows_its_work, first_done = asyncio.Event(), asyncio.Event()
        reads: list[asyncio.Future[object]] = []
        real_call = store.call

        async def call(fn, *args, **kwargs):
            if fn == store.save_pages and args[0] == "linyi-daily":
                await second_knows_its_work.wait()
                await asyncio.gather(*reads)  # a read the other poll started is taken first
            job = asyncio.ensure_future(real_call(fn, *args, **kwargs))
            late = fn == store.pages_at and second_knows_its_work.is_set()
            if fn == store.pages_at:
                reads.append(job)
            out = await job
            if late:
                await first_done.wait()  # ... and answered after the save
            if fn == store.pages_wanted and args[0] == "feixian-portal":
                second_knows_its_work.set()
            return out

        monkeypatch.setattr(store, "call", call)
        sources = parts.runtime.site.sources
        session = parts.sessions.get(True)
        first = asyncio.create_task(fulltext.follow_up(sources["linyi-daily"], deps, session))
        for _ in range(500):
            if origin.url(path) in deps.pages_in_flight:
                break
            await asyncio.sleep(0.01)
        second = asyncio.create_task(fulltext.follow_up(sources["feixian-portal"], deps, session))
        reports = [await first]
        first_done.set()
        reports.append(await second)

        assert origin.requests[path] == 1
        assert [(r.attempted, r.failed) for r in reports] == [(1, 0), (1, 0)]
        for sid in ("feixian-portal", "linyi-daily"):
            (entry,) = by_title(parts, sid).values()
            assert "前三季度新签约过亿元项目28个" in entry.text, sid
        assert not deps.pages_in_flight
