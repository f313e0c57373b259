"""normalise.urls: absolute links, tracking parameters, the canonical identity form."""

from __future__ import annotations

import pytest

from aggregator.normalise.urls import absolute, canonical, clean_link, strip_tracking

BASE = "http://www.feixian.example.cn/news/2024/0510/index.html"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("1001.html", BASE, "http://www.feixian.example.cn/news/2024/0510/1001.html"),
        ("../0509/1002.html", BASE, "http://www.feixian.example.cn/news/2024/0509/1002.html"),
        ("../../../x.html", BASE, "http://www.feixian.example.cn/x.html"),
        ("/root.html", BASE, "http://www.feixian.example.cn/root.html"),
        ("//cdn.example.cn/img/1.jpg", BASE, "http://cdn.example.cn/img/1.jpg"),
        ("//cdn.example.cn/img/1.jpg", "https://x.example.cn/", "https://cdn.example.cn/img/1.jpg"),
        ("?id=5", BASE, "http://www.feixian.example.cn/news/2024/0510/index.html?id=5"),
        ("https://other.example.cn/a", BASE, "https://other.example.cn/a"),
        ("HTTPS://other.example.cn/a", BASE, "HTTPS://other.example.cn/a"),
        ("http://x.example.cn/a", None, "http://x.example.cn/a"),
        (
            "html/2024/1.html",
            "http://gov.example.cn/feixian/",
            "http://gov.example.cn/feixian/html/2024/1.html",
        ),
        # whitespace: as browsers treat it
        ("  http://x.example.cn/a.html\n", BASE, "http://x.example.cn/a.html"),
        ("http://x.example.cn/news/\n  2024/a.html", BASE, "http://x.example.cn/news/2024/a.html"),
        ("http://x.example.cn/new\ts/a\r\n.html", BASE, "http://x.example.cn/news/a.html"),
        ("http://x.example.cn/a b.html", BASE, "http://x.example.cn/a%20b.html"),
        ("\u3000/root.html\u3000", BASE, "http://www.feixian.example.cn/root.html"),
    ],
)
def test_absolute(url, base, expected):
    assert absolute(url, base) == expected


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)",
        "JavaScript:void(0)",
        " javascript:alert(1)",
        "java\nscript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "mailto:editor@feixian.example.cn",
        "ftp://files.example.cn/a.doc",
        "tel:05395000000",
        "https://",
        "http://[::1",
    ],
)
def test_absolute_refuses(url):
    assert absolute(url, BASE) is None


def test_relative_without_base_is_refused():
    assert absolute("a.html", None) is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://x.example.cn/show.php?utm_source=x&utm_medium=rss&id=5",
            "http://x.example.cn/show.php?id=5",
        ),
        ("http://x.example.cn/a?b=2&fbclid=IwAR0&a=1", "http://x.example.cn/a?b=2&a=1"),
        ("http://x.example.cn/a?spm=a2c4g.11186623&id=1", "http://x.example.cn/a?id=1"),
        ("http://x.example.cn/a?UTM_Campaign=x&gclid=1", "http://x.example.cn/a"),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=2&idx=1&from=timeline&isappinstalled=0",
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=2&idx=1",
        ),
        (
            "https://mp.weixin.qq.com/s?__biz=MzA&from=groupmessage",
            "https://mp.weixin.qq.com/s?__biz=MzA",
        ),
        # `from` with other values selects content: kept
        ("http://x.example.cn/list?from=2&page=3", "http://x.example.cn/list?from=2&page=3"),
        ("http://x.example.cn/a?from=rss", "http://x.example.cn/a?from=rss"),
        # other parameters keep their order and spelling
        (
            "http://x.example.cn/a?z=1&utm_x=2&a=%E4%B8%AD&q=a+b#frag",
            "http://x.example.cn/a?z=1&a=%E4%B8%AD&q=a+b#frag",
        ),
        ("http://x.example.cn/a?flag&utm_source=x", "http://x.example.cn/a?flag"),
        # GBK-encoded values (common on county sites) are not re-encoded
        ("http://x.example.cn/s.asp?kw=%D6%D0&utm_source=a", "http://x.example.cn/s.asp?kw=%D6%D0"),
        # nothing to strip: the very same string
        ("http://x.example.cn/a?id=5&b=a%20b", "http://x.example.cn/a?id=5&b=a%20b"),
        ("http://x.example.cn/a", "http://x.example.cn/a"),
    ],
)
def test_strip_tracking(url, expected):
    assert strip_tracking(url) == expected


def test_clean_link_resolves_and_strips_but_keeps_fragment():
    got = clean_link("../0511/1098.html?utm_source=lyrb#comments", BASE)
    assert got == "http://www.feixian.example.cn/news/2024/0511/1098.html#comments"
    assert clean_link("javascript:void(0)", BASE) is None
    assert clean_link(None, BASE) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("HTTP://WWW.Feixian.Example.CN/news/1.html", "http://feixian.example.cn/news/1.html"),
        ("http://feixian.example.cn:80/news/1.html", "http://feixian.example.cn/news/1.html"),
        ("https://feixian.example.cn:443/news/1.html", "http://feixian.example.cn/news/1.html"),
        ("http://feixian.example.cn/news/1.html#comments", "http://feixian.example.cn/news/1.html"),
        ("http://feixian.example.cn/news/", "http://feixian.example.cn/news"),
        ("http://feixian.example.cn", "http://feixian.example.cn/"),
        ("http://www.feixian.example.cn/a", "http://feixian.example.cn/a"),
        ("http://feixian.example.cn/a?b=2&a=1", "http://feixian.example.cn/a?a=1&b=2"),
        ("http://feixian.example.cn/a?a=1&utm_source=x", "http://feixian.example.cn/a?a=1"),
        ("http://feixian.example.cn/a", "https://feixian.example.cn/a"),
        ("http://feixian.example.cn./a", "http://feixian.example.cn/a"),
        ("http://x.example.cn/s?q=a%20b", "http://x.example.cn/s?q=a+b"),
        ("http://x.example.cn/s?q=%E4%B8%AD", "http://x.example.cn/s?q=中"),
    ],
)
def test_canonical_equal(a, b):
    assert canonical(a) == canonical(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://feixian.example.cn/News/1.html", "http://feixian.example.cn/news/1.html"),
        ("http://feixian.example.cn:8080/a", "http://feixian.example.cn/a"),
        ("https://feixian.example.cn:80/a", "https://feixian.example.cn/a"),
        ("http://feixian.example.cn/a?id=1", "http://feixian.example.cn/a?id=2"),
        ("http://feixian.example.cn/a?from=1", "http://feixian.example.cn/a"),
        ("http://lanshan.example.cn/a", "http://feixian.example.cn/a"),
        # two GBK search words must not collapse into one
        ("http://x.example.cn/s.asp?kw=%D6%D0", "http://x.example.cn/s.asp?kw=%C4%E3"),
    ],
)
def test_canonical_different(a, b):
    assert canonical(a) != canonical(b)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTP://WWW.Feixian.Example.CN:80/news/1.html/?b=2&utm_source=x&a=1#c",
            "https://feixian.example.cn/news/1.html?a=1&b=2",
        ),
        ("http://feixian.example.cn", "https://feixian.example.cn/"),
        ("http://x.example.cn:8080/a", "https://x.example.cn:8080/a"),
    ],
)
def test_canonical_form(url, expected):
    assert canonical(url) == expected
    assert canonical(expected) == expected  # idempotent
