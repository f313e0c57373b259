"""parse.article: the body of a county article page, without the page around it.

tests/data/html/feixian_article.html (UTF-8, a div layout with `#zoom`) and
mengyin_article.gbk.html (GBK, an old table layout, a two-paragraph body next to longer
related-news blurbs) carry everything a county page puts around a story: navigation,
当前位置, a 来源/date/reporter line, 分享到, 责任编辑, 打印/关闭, 上一篇/下一篇, 相关新闻,
热点排行 and 频道推荐. None of it may reach the body.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.errors import ParseError
from aggregator.parse.article import _author, extract_article
from aggregator.parse.encoding import decode
from aggregator.poller.work import ArticleJob, digest_article

HTML = Path(__file__).parent / "data" / "html"
FEIXIAN = "http://www.feixian.example.cn/art/2018/10/29/art_1021_251.html?from=list"
MENGYIN = "http://www.mengyin.example.cn/xwzx/2018/1029/3306.html"

# Words and headlines of the blocks around the body, on either page.
FURNITURE = [
    "打印", "关闭", "分享到", "微信", "责任编辑", "相关新闻", "热点排行", "频道推荐", "上一篇",
    "下一篇", "当前位置", "您现在的位置", "首页", "版权所有", "ICP", "浏览次数", "点击数", "来源",
    "字体", "加入收藏", "费县全力打造现代木业产业集群", "费县签约12个重点项目", "沂蒙精神代代传",
    "146项高频事项", "探沂镇木业企业开拓东南亚市场", "蒙阴蜜桃喜获丰收", "第十届蜜桃采摘节",
    "果香四溢", "光伏扶贫电站", "岱崮地貌旅游区",
]  # fmt: skip


def article(name: str, url: str, selector: str | None = None):
    return digest_article(ArticleJob((HTML / name).read_bytes(), url, None, selector))


def test_utf8_article_body_and_facts() -> None:
    out = article("feixian_article.html", FEIXIAN)
    assert out.ok, out.message
    assert out.text.startswith("10月29日上午，全县招商引资工作推进会议在县行政中心召开。")
    assert "前三季度新签约过亿元项目28个，总投资156.3亿元" in out.text
    assert out.text.endswith("县直有关部门主要负责同志参加会议。")
    assert "会议现场" in out.text  # the photo caption is part of the story
    assert '<img src="http://www.feixian.example.cn/picture/0/1810291026123456789.jpg"' in out.body
    leaked = [w for w in FURNITURE if w in out.text]
    assert not leaked, leaked
    assert "script" not in out.body and "style=" not in out.body
    assert (out.origin, out.author, out.published_raw) == (
        "临沂日报",
        "记者 王建华",
        "2018-10-29 09:26",
    )
    assert out.canonical == "http://www.feixian.example.cn/art/2018/10/29/art_1021_251.html"
    assert out.title == "费县召开全县招商引资工作推进会议"


def test_gbk_table_layout_with_a_short_body() -> None:
    out = article("mengyin_article.gbk.html", MENGYIN)
    assert out.ok, out.message
    assert out.text == (
        "日前，省农业农村厅公布第二批省级现代农业产业园名单，蒙阴蜜桃产业园成功入选，"
        "获得省级财政奖补资金3000万元。\n"
        "蒙阴蜜桃产业园规划面积30万亩，覆盖野店、岱崮、坦埠等6个乡镇，已培育蜜桃加工、"
        "冷链物流企业42家，带动3.6万户果农户均增收1.2万元。"
    )
    assert (out.origin, out.author, out.published_raw) == (
        "蒙阴报",
        "记者 李明 通讯员 赵刚",
        "2018年10月29日 09:26",
    )
    assert out.canonical is None


def test_a_wide_fulltext_selector_wins_and_is_still_cleaned() -> None:
    out = article("feixian_article.html", FEIXIAN, "div.article")
    assert out.ok and out.method == "selector"
    assert out.text.startswith("10月29日上午")
    leaked = [w for w in FURNITURE if w in out.text]
    assert not leaked, leaked
    assert "费县召开全县招商引资工作推进会议" not in out.text  # the headline is not the body


def test_a_selector_that_matches_nothing_falls_back_with_a_warning() -> None:
    out = article("feixian_article.html", FEIXIAN, "div#gone")
    assert out.ok and out.method == "auto"
    assert "fulltext_selector 'div#gone' matched nothing" in out.message
    assert out.text.startswith("10月29日上午")


def test_br_separated_body_without_paragraphs() -> None:
    page = """<html><head><meta charset="gbk"><title>临沭县新闻</title></head><body>
      <div class="nav"><a href="/">首页</a> <a href="/a/">要闻</a> <a href="/b/">乡镇</a></div>
      <h1>临沭县柳编产品出口额突破十亿元</h1>
      <div class="info">发布日期：2026-11-20　来源：临沭县融媒体中心</div>
      <div id="content">
      　　今年以来，临沭县柳编企业积极开拓国际市场，产品远销欧美、日韩等40多个国家和地区。<br>
      　　截至10月底，全县柳编产品出口额达10.3亿元，同比增长12%，
      带动3万余名群众在家门口就业。<br>
      <strong>（记者 刘洋）</strong></div>
      <div class="tool">【<a href="javascript:window.print()">打印</a>】
        【<a href="javascript:window.close()">关闭</a>】</div>
    </body></html>"""
    out = digest_article(ArticleJob(page.encode("gbk"), "http://ls.example.cn/a/1.html", None))
    assert out.ok, out.message
    assert out.text.startswith("今年以来，临沭县柳编企业积极开拓国际市场")
    assert "带动3万余名群众在家门口就业" in out.text
    assert not any(w in out.text for w in ("打印", "关闭", "首页", "来源"))
    assert (out.origin, out.author, out.published_raw) == (
        "临沭县融媒体中心",
        "记者 刘洋",
        "2026-11-20",
    )


def test_meta_tags_give_date_and_origin() -> None:
    page = """<html><head><meta charset="utf-8">
      <meta name="PubDate" content="2026-11-18 10:05">
      <meta name="ContentSource" content="大众日报">
      <link rel="canonical" href="/art/2026/11/18/art_1_2.html">
      </head><body><div class="TRS_Editor">
      <p>沂南县今年新建改建农村公路120公里，打通群众出行“最后一公里”，
      全县行政村通硬化路率达到100%。</p>
      <p>下一步，沂南县将持续推进“四好农村路”建设。</p></div></body></html>"""
    out = digest_article(ArticleJob(page.encode(), "http://yn.example.cn/art/2.html", None))
    assert out.ok
    assert (out.published_raw, out.origin) == ("2026-11-18 10:05", "大众日报")
    assert out.canonical == "http://yn.example.cn/art/2026/11/18/art_1_2.html"


@pytest.mark.parametrize(
    "page",
    [
        b"",
        b"<html><body></body></html>",
        "<html><body><div class='nav'><a href='/'>首页</a> <a href='/x'>要闻</a></div>"
        "<ul><li><a href='/1'>相关新闻一</a></li><li><a href='/2'>相关新闻二</a></li></ul>"
        "</body></html>".encode(),
        "<html><body><p>短</p></body></html>".encode(),
    ],
)
def test_pages_without_an_article_fail_cleanly(page: bytes) -> None:
    out = digest_article(ArticleJob(page, "http://x.example.cn/1.html", None))
    assert not out.ok and out.message
    with pytest.raises(ParseError):
        extract_article(decode(page, None, html=True), "http://x.example.cn/1.html")


def test_hostile_markup_is_sanitised() -> None:
    page = """<html><body><div id="zoom"><p onclick="steal()">费县今年新增城镇就业岗位5200个，
      城镇登记失业率控制在3%以内。<script>alert(1)</script></p>
      <p><a href="javascript:alert(2)">点这里</a>全县发放创业担保贷款2.1亿元，扶持创业1100人。</p>
      <iframe src="http://evil.example/"></iframe></div></body></html>"""
    out = digest_article(ArticleJob(page.encode(), "http://fx.example.cn/1.html", None))
    assert out.ok
    for bad in ("onclick", "script", "alert", "javascript:", "iframe", "evil"):
        assert bad not in out.body


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("作者：记者 王建华\n发布时间：2018-10-29", "记者 王建华"),
        ("作者：王建华 发布时间：2018-10-29", "王建华"),
        ("记者 李明 通讯员 赵刚　点击数：1024", "记者 李明 通讯员 赵刚"),
        ("(记者 黄明华 通讯员 沈红)", "记者 黄明华 通讯员 沈红"),
        ("（记者黄明华）", "记者黄明华"),
        ("本报记者 张三 报道", "记者 张三"),
        ("记者在现场看到，志愿者正在提供服务。", None),
        ("来源：蒙阴报 2018-10-29", None),
    ],
)
def test_reporter_credits(text: str, author: str | None) -> None:
    assert _author(text) == author


def test_deeply_nested_page_is_read_without_blowing_up() -> None:
    sentence = "费县坚持把招商引资作为经济工作的一号工程，围绕木业开展精准招商。"
    page = "<html><body>" + f"<div>{sentence}" * 2000 + "</div>" * 2000 + "</body></html>"
    out = digest_article(ArticleJob(page.encode(), "http://fx.example.cn/1.html", None))
    assert out.ok and sentence in out.text
