"""normalise.text: sanitised HTML, plain text, titles, excerpts and 来源 lines."""

from __future__ import annotations

import pytest

from aggregator.normalise import text as T

BASE = "http://www.feixian.example.cn/news/2024/0510/1001.html"

HOSTILE = (
    '<p onclick="steal()">即日起，患者可在一个窗口办理预约。</p>'
    "<script>alert(1)</script>"
    "<style>p { display: none }</style>"
    '<iframe src="http://evil.example.cn/">框内文字</iframe>'
    '<img src="/uploads/hall.jpg" onerror="alert(2)" alt="服务大厅">'
    '<p><a href="javascript:alert(3)" onmouseover="x()">点击查看详情</a></p>'
    '<p><a href="JaVaScRiPt:alert(4)">再看</a><img src="data:image/png;base64,AAAA"></p>'
    '<p><a href="../0509/1002.html">上一篇</a></p>'
)


@pytest.fixture(scope="module")
def cleaned() -> str:
    return T.sanitize(HOSTILE, BASE)


@pytest.mark.parametrize(
    "gone",
    [
        "<script",
        "alert(1)",
        "<style",
        "display: none",
        "<iframe",
        "框内文字",
        "onclick",
        "onerror",
        "onmouseover",
        "javascript:",
        "JaVaScRiPt",
        "data:",
    ],
)
def test_sanitize_removes(cleaned, gone):
    assert gone not in cleaned


@pytest.mark.parametrize(
    "kept",
    [
        "<p>即日起，患者可在一个窗口办理预约。</p>",
        '<img src="http://www.feixian.example.cn/uploads/hall.jpg" alt="服务大厅">',
        'href="http://www.feixian.example.cn/news/2024/0509/1002.html"',
        "点击查看详情",  # the link text stays, its javascript: href does not
        "上一篇",
    ],
)
def test_sanitize_keeps(cleaned, kept):
    assert kept in cleaned


def test_sanitize_marks_links_nofollow(cleaned):
    assert 'rel="noopener noreferrer nofollow"' in cleaned


@pytest.mark.parametrize("markup", [None, "", "<script>x()</script>"])
def test_sanitize_nothing_left(markup):
    assert T.sanitize(markup, BASE) == ""


def test_sanitize_drops_xml_illegal_characters():
    assert T.sanitize("<p>a\x00b\x0bc</p>", BASE) == "<p>abc</p>"


@pytest.mark.parametrize("limit", [10, 45, 60, 100, 148, 500])
def test_sanitize_caps_output_without_leaving_a_tag_open(limit):
    markup = (
        "<p>" + "中" * 40 + '<a href="http://x.example.cn/' + "a" * 40 + '">链接</a></p><p>尾</p>'
    )
    out = T.sanitize(markup, BASE, limit)
    assert len(out) <= limit
    # whatever was cut is clean HTML again: sanitising it changes nothing
    assert T.sanitize(out, BASE, limit) == out
    assert out.count("<p>") == out.count("</p>")
    assert out.count("<a ") == out.count("</a>")


def test_sanitize_default_caps():
    big = "<p>" + "字" * (T.MAX_SUMMARY_HTML + 100) + "</p>"
    assert len(T.sanitize(big, BASE, T.MAX_SUMMARY_HTML)) <= T.MAX_SUMMARY_HTML


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        ("<p>第一段</p><p>第二段</p>", "第一段\n第二段"),
        ("一行<br>二行<br/>三行", "一行\n二行\n三行"),
        ("<div>甲</div><div>乙</div>", "甲\n乙"),
        ("<ul><li>一</li><li>二</li></ul>", "一\n二"),
        ("<h1>标题</h1>正文", "标题\n正文"),
        ("山楂&amp;蜜桃 &lt;b&gt; &#8220;引&#x201d;", "山楂&蜜桃 <b> “引”"),
        ("<p>a&nbsp;&nbsp;b</p>", "a b"),
        ("  多个   空格\u3000\u3000全角\t制表 ", "多个 空格 全角 制表"),
        ("<p> 甲 </p>\n\n\n<p> 乙 </p>", "甲\n乙"),
        ("<script>bad()</script><style>p{}</style>正文", "正文"),
        ("a < b", "a < b"),
        ("&amp;lt;", "&lt;"),  # decoded once, not twice
        ("", ""),
        (None, ""),
    ],
)
def test_plain(markup, expected):
    assert T.plain(markup) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("  费县&#8220;山楂&amp;蜜桃&#8221;产销对接会举行 ", "费县“山楂&蜜桃”产销对接会举行"),
        ("<b>费县</b>召开<em>会议</em>", "费县召开会议"),
        ("A &lt;b&gt; C", "A <b> C"),
        ("&amp;amp;", "&amp;"),
        ("第一行\n第二行", "第一行 第二行"),
        ("\u3000费县第三届山楂文化节\u3000", "费县第三届山楂文化节"),
        (None, ""),
    ],
)
def test_clean_title(title, expected):
    assert T.clean_title(title) == expected


def test_clean_title_capped():
    assert len(T.clean_title("字" * 1000)) == T.MAX_TITLE


def test_excerpt_cuts_at_chinese_sentence_end():
    text = "费县召开招商引资工作推进会议。" * 6 + "会议要求各乡镇街道紧盯在谈项目抓好签约转化" * 5
    out = T.excerpt(text, 60)
    assert out.endswith("。")
    assert len(out) <= 60
    assert text.startswith(out)


@pytest.mark.parametrize("stop", ["！", "？", "；"])
def test_excerpt_other_stops(stop):
    text = "甲" * 40 + stop + "乙" * 100
    assert T.excerpt(text, 60) == "甲" * 40 + stop


def test_excerpt_without_a_sentence_end_gets_an_ellipsis():
    out = T.excerpt("无标点" * 50, 60)
    assert out == ("无标点" * 20) + "…"


def test_excerpt_short_text_unchanged():
    assert T.excerpt("短讯。\n第二行", 60) == "短讯。 第二行"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("来源:临沂日报 5月12日，费县第三届山楂文化节开幕。", "临沂日报"),
        ("来源：费县新闻网 作者:张三", "费县新闻网"),
        ("来源： 临沂日报", "临沂日报"),
        ("（来源：沂南县融媒体中心）正文", "沂南县融媒体中心"),
        ("稿源:大众日报，记者 王五", "大众日报"),
        ("本报讯 记者 李华报道", None),
        ("", None),
    ],
)
def test_find_origin(text, expected):
    assert T.find_origin(text) == expected
