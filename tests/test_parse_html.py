"""`type: html` sources: county list pages through parse and normalise, as a poll runs them.

Fixtures in tests/data/html (see README.md there): a UTF-8 list (费县人民政府, `ul.news li`,
relative, root-relative, `../` and absolute links, six date forms, one item with no date)
and a GBK list (蒙阴新闻网, a table, `<base href>`, `<meta charset=gb2312>` past byte 1024,
served without a charset).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from aggregator.model import DatePrecision, HtmlRules, PollStatus, Source
from aggregator.normalise import Context
from aggregator.parse.encoding import decode
from aggregator.parse.html import parse_list_page
from aggregator.poller.work import Job, digest_document

HTML = Path(__file__).parent / "data" / "html"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
UL = HtmlRules(item="ul.news li", title="a", link="a@href", date="span.date", summary="p")
TABLE = HtmlRules(item="table.list tr.item", title="td.bt a", link="td.bt a@href", date="td.sj")


def source(url: str, rules: HtmlRules, sid: str = "portal") -> Source:
    return Source(id=sid, url=url, region="feixian", type="html", html=rules)


def digest(name: str, url: str, rules: HtmlRules, charset: str | None = None):
    body = (HTML / name).read_bytes()
    job = Job(body, url, charset, source(url, rules), Context("Asia/Shanghai"), NOW)
    return digest_document(job)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_utf8_list_page() -> None:
    url = "http://www.feixian.example.cn/col/col1021/index.html"
    out = digest("feixian_list.html", url, UL)
    assert out.status is PollStatus.OK, out.message
    assert out.entries_seen == 6
    got = [(a.title, a.link, a.published, a.precision, a.published_raw) for a in out.articles]
    DT, DATE, NONE = DatePrecision.DATETIME, DatePrecision.DATE, DatePrecision.NONE
    assert got == [
        ("费县召开全县招商引资工作推进会议",
         "http://www.feixian.example.cn/art/2018/10/29/art_1021_251.html",
         utc(2018, 10, 29, 1, 26), DT, "2018-10-29 09:26"),
        ("探沂镇木业企业开拓东南亚市场",
         "http://www.feixian.example.cn/art/2018/10/28/art_1021_250.html",
         utc(2018, 10, 28, 15, 59, 59), DATE, "2018-10-28"),  # the day's end in Shanghai
        ("费县山楂喜获丰收 果农笑开颜",
         "http://www.feixian.example.cn/col/col1021/art_1021_249.html",
         utc(2018, 10, 27, 15, 59, 59), DATE, "[2018-10-27]"),
        ("临沂市“沂蒙红”农产品推介会在费县举行",
         "http://www.linyi.example.cn/art/2018/10/26/art_5_99.html",  # utm_* removed
         utc(2018, 10, 26, 15, 59, 59), DATE, "2018年10月26日"),
        ("马庄镇：党建引领激活乡村振兴“一池春水”",
         "http://www.feixian.example.cn/art/2018/10/25/art_1021_248.html",
         NOW, NONE, None),  # no date: first seen
        ("费县举办2018年秋季人才招聘会 & 就业政策咨询",
         "http://www.feixian.example.cn/art/2018/10/25/art_1021_247.html",
         utc(2026, 10, 25, 8, 40), DT, "10-25 16:40"),  # year-less: the latest past one
    ]  # fmt: skip
    first = out.articles[0]
    assert (
        first.summary == "<p>10月29日上午，全县招商引资工作推进会议召开，会议总结前三季度工作。</p>"
    )
    assert out.articles[2].summary == ""  # no <p> in that item
    assert out.feed_title == "费县要闻_费县人民政府"
    # the sidebar's 热点排行 and 频道推荐 links are not items
    assert not any("打造现代木业" in a.title or "沂蒙精神" in a.title for a in out.articles)


def test_gbk_list_page_with_meta_charset_past_1024_bytes_and_base_href() -> None:
    raw = (HTML / "mengyin_list.gbk.html").read_bytes()
    assert raw.find(b"charset=gb2312") > 1024
    doc = decode(raw, None, html=True)
    assert (doc.encoding, doc.declared, doc.suspect) == ("gb18030", "gb18030", False)

    out = digest("mengyin_list.gbk.html", "http://www.mengyin.example.cn/xwzx/list.html", TABLE)
    assert out.status is PollStatus.OK, out.message
    got = [(a.title, a.link, a.published) for a in out.articles]
    assert got == [
        ("蒙阴蜜桃产业园获评省级现代农业产业园",
         "http://www.mengyin.example.cn/xwzx/2018/1029/3306.html", utc(2018, 10, 29, 1, 26)),
        ("岱崮镇：“崮乡”旅游带富一方百姓",
         "http://www.mengyin.example.cn/xwzx/2018/1028/3305.html", utc(2018, 10, 28, 15, 59, 59)),
        ("野店镇开展冬季供暖安全大检查",
         "http://www.mengyin.example.cn/xzdt/2018/1027/3301.html", utc(2018, 10, 27, 7, 7)),
        ("蒙阴县召开干部作风建设大会",
         "http://www.mengyin.example.cn/xwzx/2018/1026/3299.html", utc(2018, 10, 26, 0, 30)),
    ]  # fmt: skip


def test_http_charset_is_used_when_the_page_declares_nothing() -> None:
    page = (
        "<html><body><ul class=news><li><a href='/1.html'>郯城县召开全县经济工作会议</a></li></ul>"
    )
    doc = decode(page.encode("gbk"), "gbk", html=True)
    feed = parse_list_page(doc, "http://tc.example.cn/list.html", UL)
    assert feed.entries[0].title == "郯城县召开全县经济工作会议"


def test_relative_links_resolve_against_the_page_not_the_site() -> None:
    page = """<ul class="news">
      <li><a href="content/7.html">甲乙丙丁戊</a></li>
      <li><a href="../other/8.html">己庚辛壬癸</a></li>
      <li><a href="/root/9.html">子丑寅卯辰</a></li>
      <li><a href="//cdn.example.cn/10.html">巳午未申酉</a></li>
    </ul>"""
    out = digest_inline(page, "http://ys.example.cn/portal/list/index.html", UL)
    assert [a.link for a in out.articles] == [
        "http://ys.example.cn/portal/list/content/7.html",
        "http://ys.example.cn/portal/other/8.html",
        "http://ys.example.cn/root/9.html",
        "http://cdn.example.cn/10.html",
    ]


def digest_inline(page: str, url: str, rules: HtmlRules):
    job = Job(page.encode(), url, "utf-8", source(url, rules), Context("Asia/Shanghai"), NOW)
    return digest_document(job)


def test_optional_image_and_author_and_a_title_cut_short() -> None:
    rules = HtmlRules(
        item="div.item",
        title="h3 a",
        link="h3 a@href",
        date="span.time",
        summary="div.desc",
        image="img@src",
        author="span.author",
    )
    page = """<div class="list">
      <div class="item"><img src="/pic/1.jpg"><h3><a href="1.html"
         title="兰陵县召开2026年度安全生产述职会议暨第四季度安全生产工作推进会">兰陵县召开2026年度安全生产述职会议暨第四...</a></h3>
        <div class="desc">会议听取了各乡镇安全生产工作情况汇报。</div>
        <span class="author">记者 王磊</span><span class="time">2026/11/25 15:23</span></div>
      <div class="item"><h3><a href="2.html">兰陵蔬菜远销海外</a></h3></div>
    </div>"""
    out = digest_inline(page, "http://ll.example.cn/portal/list.html", rules)
    first, second = out.articles
    assert first.title == "兰陵县召开2026年度安全生产述职会议暨第四季度安全生产工作推进会"
    assert first.image == "http://ll.example.cn/pic/1.jpg"
    assert first.author == "记者 王磊"
    assert first.published == utc(2026, 11, 25, 7, 23)
    assert (second.image, second.author, second.precision) == (None, None, DatePrecision.NONE)


def test_items_without_title_or_link_are_reported() -> None:
    page = "<ul class='news'><li><span class='date'>2026-11-01</span></li><li></li></ul>"
    out = digest_inline(page, "http://ll.example.cn/list.html", UL)
    assert out.status is PollStatus.EMPTY
    assert "2 elements matched the item selector, but none had a title or link" in out.message
