"""The fast reader (parse.fast, lxml) against feedparser: same articles, or it refuses.

Every feed fixture of the project and a set of generated feeds go through both readers
(tests.feeddiff.compare normalises both and compares the Article tuples). The fast
reader must agree wherever it accepts, and must accept most of them: a reader that
refused everything would pass the first check and be useless.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.errors import ParseError
from aggregator.model import Source
from aggregator.parse import parse_document
from aggregator.parse.encoding import decode
from aggregator.parse.fast import Unsupported, read
from aggregator.parse.feed import parse_feed
from tests.feeddiff import compare

ROOT = Path(__file__).parent.parent
FEEDS = Path(__file__).parent / "data" / "feeds"
SAMPLES = ROOT / "aggregator" / "demo" / "samples"
MANIFEST = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
CHARSETS = {
    f["file"]: next(
        (
            p.split("=", 1)[1].strip()
            for p in f["content_type"].split(";")[1:]
            if p.strip().lower().startswith("charset=")
        ),
        None,
    )
    for f in MANIFEST["files"]
}
FIXTURES = sorted(
    [p for p in FEEDS.iterdir() if p.suffix in (".xml", ".rdf")]
    + [p for p in SAMPLES.iterdir() if p.suffix in (".xml", ".rdf")]
)
URL = "http://www.feixian.example.cn/news/rss.xml"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixtures_read_the_same(path: Path) -> None:
    verdict = compare(path.read_bytes(), URL, CHARSETS.get(path.name))
    assert verdict.difference == ""


def test_fast_reader_accepts_the_well_formed_fixtures() -> None:
    accepted = {
        p.name for p in FIXTURES if compare(p.read_bytes(), URL, CHARSETS.get(p.name)).accepted
    }
    # malformed.xml (undefined entities) and lying_encoding.xml are for feedparser.
    assert "malformed.xml" not in accepted
    assert len(accepted) >= len(FIXTURES) - 2, sorted(accepted)


# ---------------------------------------------------------------- generated cases

RSS_HEAD = """<?xml version="1.0" encoding="{enc}"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:media="http://search.yahoo.com/mrss/"
 xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"{extra}>
<channel><title>费县新闻网</title><link>http://www.feixian.example.cn/</link>
<ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency>
"""


def rss(items: str, enc: str = "utf-8", extra: str = "") -> bytes:
    doc = RSS_HEAD.format(enc=enc, extra=extra) + items + "</channel></rss>"
    return doc.encode("gb18030" if enc.lower() in ("gbk", "gb2312", "gb18030") else "utf-8")


def atom(entries: str, base: str = "http://gov.example.cn/feixian/") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{base}">'
        '<title type="text">沂水县人民政府</title><id>tag:gov.example.cn,2024:feed</id>'
        '<link rel="self" href="http://gov.example.cn/atom.xml"/>'
        f"<updated>2024-05-01T10:00:00+08:00</updated>{entries}</feed>"
    ).encode()


ITEM = "<item><title>{t}</title><link>{link}</link><guid>{guid}</guid>{more}</item>"

CASES: dict[str, bytes] = {
    "gbk naive dates": rss(
        ITEM.format(
            t="蒙阴县召开会议",
            link="http://www.mengyin.example.cn/1.html",
            guid="http://www.mengyin.example.cn/1.html",
            more="<pubDate>2018-10-29 09:26</pubDate><author>蒙阴报</author>",
        )
        + ITEM.format(
            t="镕喆",
            link="/2.html",
            guid="2",
            more="<pubDate>2024年05月01日 10:00</pubDate>",
        ),
        enc="gbk",
    ),
    "cdata and html": rss(
        ITEM.format(
            t="<![CDATA[山楂<b>丰收</b>]]>",
            link="http://x.example.cn/a?x=1&amp;utm_source=rss",
            guid="a1",
            more="<description><![CDATA[<p>来源：费县新闻网</p><img src='/i.jpg' alt='x'>"
            "<script>alert(1)</script><a href='javascript:x'>a</a>]]></description>"
            "<content:encoded><![CDATA[<div><p>全文</p><img alt='b' src='b.png'></div>]]>"
            "</content:encoded>",
        )
    ),
    "entities in titles": rss(
        ITEM.format(
            t="AT&amp;amp;T &#38; &lt;b&gt;粗&lt;/b&gt; 5 &gt; 3", link="/e1", guid="e1", more=""
        )
        + ITEM.format(t="  &#x4E34;沂\u3000 ", link="/e2", guid="e2", more="")
        + ITEM.format(t="caf\u00c3\u00a9 \u0080 &amp;nbsp;", link="/e3", guid="e3", more="")
    ),
    "enclosures and media": rss(
        ITEM.format(
            t="图片新闻",
            link="/p1.html",
            guid="p1",
            more='<enclosure url="/p1.jpg" type="Image/JPEG" length="1234"/>'
            '<enclosure url="http://x.example.cn/a.mp3" type="audio/mpeg" length="x"/>'
            '<media:content url="http://x.example.cn/m.jpg" medium="image"/>'
            '<media:thumbnail url="http://x.example.cn/t.jpg"/>',
        )
        + ITEM.format(
            t="视频",
            link="/p2.html",
            guid="p2",
            more='<media:group><media:content url="/v.mp4" type="video/mp4"/>'
            '<media:content url="/v.jpg" type="image/jpeg"/></media:group>'
            "<media:thumbnail>thumb.png</media:thumbnail>",
        )
    ),
    "empty fields and duplicate guids": rss(
        ITEM.format(t="", link="", guid="dup", more="<description></description>")
        + ITEM.format(t="有标题", link="", guid="dup", more="<description> </description>")
        + ITEM.format(t="第三", link="/3.html", guid="", more="<category></category>")
        + "<item><description>只有摘要，没有标题。</description></item>"
        + "<item></item>"
    ),
    "guid flavours": rss(
        '<item><title>a</title><guid isPermaLink="false">123</guid></item>'
        '<item><title>b</title><guid isPermaLink="True">rel/456</guid></item>'
        "<item><title>c</title><guid>rel/789</guid><link>/other</link></item>"
        "<item><link>/first</link><title>d</title><guid>http://x.example.cn/g</guid></item>"
    ),
    "descriptions and content": rss(
        "<item><title>t1</title><description>one</description><description>two</description></item>"
        "<item><title>t2</title><content:encoded>&lt;p&gt;c&lt;/p&gt;</content:encoded>"
        "<description>d</description></item>"
        "<item><title>t3</title><dc:description>plain &amp; simple</dc:description></item>"
        "<item><title>t4</title><description>a &lt; b and c &gt; d</description></item>"
    ),
    "authors categories dates": rss(
        "<item><title>t</title><link>/t</link><dc:creator>张三</dc:creator>"
        "<author>li@example.cn (李四)</author><category domain='x'>三农</category>"
        "<category>三农</category><dc:subject>政务</dc:subject><category>  </category>"
        "<pubDate>Wed, 01 May 2024 10:00:00 +0800</pubDate><dc:date>2024-05-02</dc:date>"
        "</item>"
        "<item><title>u</title><link>/u</link><dc:date>2016/6/29 15:07:41</dc:date></item>"
    ),
    "source and odd names": rss(
        '<item><title>t</title><link>/t</link><source url="http://lyrb.example.cn/">临沂日报</source>'
        "<comments>/c</comments><slash:comments>3</slash:comments><PubDate>2024-05-01</PubDate>"
        "</item>",
        extra=' xmlns:slash="http://purl.org/rss/1.0/modules/slash/"',
    ),
    "rdf": (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        '<channel rdf:about="http://lanling.example.cn/"><title>兰陵</title>'
        "<link>http://lanling.example.cn/</link><items><rdf:Seq>"
        '<rdf:li rdf:resource="http://lanling.example.cn/1"/></rdf:Seq></items></channel>'
        '<item rdf:about="http://lanling.example.cn/1"><title>一</title>'
        "<link>http://lanling.example.cn/1</link><dc:date>2024-05-01T10:00+08:00</dc:date>"
        "<dc:subject>文旅</dc:subject><dc:creator>兰陵台</dc:creator></item>"
        '<item rdf:about="http://lanling.example.cn/2"><title>二</title>'
        "<description>&lt;p&gt;x&lt;/p&gt;</description></item></rdf:RDF>"
    ).encode(),
    "atom types and bases": atom(
        '<entry><title type="html">&lt;b&gt;加粗&lt;/b&gt; &amp;amp;</title>'
        '<link href="html/2024/1.html"/><id>tag:gov.example.cn,2024:1</id>'
        "<updated>2024-05-01T10:00:00+08:00</updated>"
        '<summary type="html">&lt;a href="rel.html"&gt;链接&lt;/a&gt;</summary>'
        "<author><name>县政府办</name><email>gov@example.cn</email></author></entry>"
        '<entry xml:base="http://other.example.cn/dir/"><title type="text">1 &lt; 2 &amp; 3</title>'
        '<link rel="alternate" type="text/html" href="../x.html"/>'
        '<link rel="enclosure" href="a.pdf" length="10"/>'
        "<id>urn:uuid:2</id><published>2024-05-01T02:00:00Z</published>"
        '<content type="html" xml:base="/c/">&lt;img src="p.png" alt="p"&gt;</content>'
        '<category term="政务" label="Gov"/><category term="政务"/></entry>'
        "<entry><title>只有内容</title><id>3</id>"
        '<content type="text">a &amp; b &lt;c&gt;</content></entry>'
        '<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title>'
        "<id>4</id></entry>"
    ),
    "atom entry without link or title": atom(
        "<entry><id>http://gov.example.cn/feixian/9.html</id>"
        '<summary type="html">&lt;p&gt;&lt;a href="r.html"&gt;r&lt;/a&gt;&lt;/p&gt;'
        "</summary></entry>"
        '<entry><id>tag:x,1</id><content type="html">&lt;a href="q.html"&gt;q&lt;/a&gt;'
        "</content></entry>"
    ),
    "atom 0.3": (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>旧</title>'
        '<link rel="alternate" type="text/html" href="http://old.example.cn/"/>'
        '<entry><title>a &amp;amp; b</title><link rel="alternate" type="text/html"'
        ' href="http://old.example.cn/1"/><id>tag:old,1</id><issued>2004-01-01T00:00:00Z</issued>'
        "<modified>2004-01-02T00:00:00Z</modified>"
        '<content type="text/html" mode="escaped">&lt;p&gt;x&lt;/p&gt;</content></entry></feed>'
    ).encode(),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_cases_read_the_same(name: str) -> None:
    verdict = compare(CASES[name], URL)
    assert verdict.difference == ""


def test_fast_reader_accepts_most_generated_cases() -> None:
    refused = {name for name, body in CASES.items() if not compare(body, URL).accepted}
    assert refused == set()


def test_refusals_fall_back_to_feedparser() -> None:
    source = Source(id="s", url=URL, region="r")
    ill = rss("<item><title>a&nbsp;b</title><link>/a</link></item>")
    assert parse_document(ill, URL, source).parser == "feedparser"
    good = rss("<item><title>ab</title><link>/a</link></item>")
    assert parse_document(good, URL, source).parser == "lxml"
    with pytest.raises(Unsupported):
        read(ill, URL)
    with pytest.raises(Unsupported):  # any DTD, even a harmless one
        read(b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss version="2.0"/>', URL)
    with pytest.raises(Unsupported):
        read(b"<html><body>not a feed</body></html>", URL)


def test_dangerous_entities_are_still_refused_before_either_reader() -> None:
    doc = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss/>'
    with pytest.raises(ParseError, match="XXE"):
        parse_feed(decode(doc), URL)


# ---------------------------------------------------------------- random feeds

TOKENS = [
    *"临沂 ab<>&;\"'/=\u3000\u00e9\u0093\u00c3\u00a9#?.:",
    *("&amp;", "]]", "<b>", "</b>", "<p>", "</p>", "<b/>", "<br />", "<!--c-->", "\n", "  "),
    *("&nbsp;", "&#160;", "&#x80;", "\x85", "&foo;", "http://x.example.cn/a?b=1&c=2"),
    *('<img src="p.jpg" alt="x">', '<a href="rel/x.html" title="t">', "</a>", "<A HREF='x'>"),
    *('<source type="Video/MP4" src="v.mp4">', "<img src=x>"),
]
TEXT = st.lists(st.sampled_from(TOKENS), max_size=10).map("".join)
XHTML_BITS = st.lists(
    st.sampled_from(
        [
            *("<b>粗</b>", '<a href="rel/x.html" title="t">链接</a>', "<br/>", " ", "\n"),
            *('<img src="p.jpg" alt="图"/>', "<p>段<i>落</i></p>", "a &amp; b &lt; c"),
            *('<span class="x" style="c">s</span>', "<div>inner</div>", "<!-- c -->"),
        ]
    ),
    max_size=6,
).map("".join)
XHTML = st.sampled_from(
    [
        '<div xmlns="http://www.w3.org/1999/xhtml">{}</div>',
        '<div xmlns="http://www.w3.org/1999/xhtml">{0}</div><div xmlns="http://www.w3.org/1999/xhtml">{0}</div>',
        '<p xmlns="http://www.w3.org/1999/xhtml">{}</p>',
        '<x:div xmlns:x="http://www.w3.org/1999/xhtml">{}</x:div>',  # children in Atom's namespace
    ]
).flatmap(lambda wrap: XHTML_BITS.map(wrap.format))
RSS_NAMES = st.sampled_from(
    (
        *("title", "link", "guid", "description", "pubDate", "author", "category"),
        *("dc:creator", "content:encoded", "dc:date", "dc:subject", "comments", "source"),
        *("enclosure", "media:content", "media:thumbnail", "dc:title", "summary", "Title"),
        "PUBDATE",
    )
)
ATOM_NAMES = st.sampled_from(
    (
        *("title", "summary", "content", "id", "link", "author", "category", "published"),
        *("updated", "dc:creator"),
    )
)


def _escape(s: str, quote: bool = False) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return s.replace('"', "&quot;") if quote else s


@st.composite
def random_feed(draw: st.DrawFn) -> bytes:
    """RSS or Atom entries made of random elements, in random order and number, holding
    text with markup, entities, CJK, C1 controls, CDATA, types and xml:base."""
    is_atom = draw(st.booleans())
    items = []
    for _ in range(draw(st.integers(0, 3))):
        parts = []
        for _ in range(draw(st.integers(0, 7))):
            name = draw(ATOM_NAMES if is_atom else RSS_NAMES)
            value = draw(TEXT)
            attrs = ""
            if name in ("enclosure", "media:content", "media:thumbnail"):
                kind = draw(st.sampled_from(["image/jpeg", "Image/PNG", "audio/mpeg", ""]))
                attrs = f' url="{_escape(draw(TEXT), quote=True)}" type="{kind}"'
            kind = ""
            if name in ("title", "summary", "content", "description") and draw(st.booleans()):
                kind = draw(st.sampled_from(["html", "text", "text/html", "text/plain", "xhtml"]))
                attrs += f' type="{kind}"'
            if draw(st.integers(0, 5)) == 0:
                base = draw(st.sampled_from(["/sub/", "http://o.example.cn/d/", "x/"]))
                attrs += f' xml:base="{base}"'
            if name == "guid" and draw(st.booleans()):
                attrs += f' isPermaLink="{draw(st.sampled_from(["false", "true", "True"]))}"'
            if name == "link" and is_atom:
                rel = draw(st.sampled_from(["alternate", "enclosure", "self", "related"]))
                parts.append(f'<link href="{_escape(value, quote=True)}" rel="{rel}"/>')
            elif name == "author" and is_atom:
                email = "<email>e@x.cn</email>" if draw(st.booleans()) else ""
                parts.append(f"<author><name>{_escape(value)}</name>{email}</author>")
            elif kind == "xhtml" and draw(st.booleans()):
                parts.append(f"<{name}{attrs}>{draw(XHTML)}</{name}>")
            else:
                cdata = draw(st.booleans()) and "]]>" not in value
                body = f"<![CDATA[{value}]]>" if cdata else _escape(value)
                parts.append(f"<{name}{attrs}>{body}</{name}>")
        tag = "entry" if is_atom else "item"
        items.append(f"<{tag}>{''.join(parts)}</{tag}>")
    if is_atom:
        return atom("".join(items)).replace(
            b"<feed ", b'<feed xmlns:dc="http://purl.org/dc/elements/1.1/" ', 1
        )
    return rss("".join(items))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_feed())
def test_random_feeds_read_the_same(body: bytes) -> None:
    verdict = compare(body, URL)
    assert verdict.difference == ""
    # XHTML is read fast unless its markup is odd (elements named like feed elements).
    assert verdict.accepted or b'type="xhtml"' in body
