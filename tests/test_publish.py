"""publish: typed items → RSS, Atom, JSON Feed and OPML, read back the way readers read them."""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import orjson
import pytest
from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs

from aggregator.errors import ParseError
from aggregator.model import Appearance, Channel, Enclosure, FeedItem, Region, Site, Source
from aggregator.publish import (
    FeedMeta,
    OpmlFeed,
    parse_opml,
    render_atom,
    render_json,
    render_opml,
    render_rss,
)

BASE = "https://news.example.org"
T0 = datetime(2024, 5, 1, 8, 30, 15, 123456, tzinfo=UTC)
T1 = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)
NOW = datetime(2024, 5, 2, 0, 0, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"

SITE = Site(
    title="临沂新闻聚合",
    base_url=BASE,
    channels=(Channel("politics", "时政"), Channel("economy", "经济")),
    regions={
        "shandong": Region("shandong", "山东", None, children=("linyi",)),
        "linyi": Region("linyi", "临沂市", "shandong", ("feixian",), ("linyi-daily",)),
        "feixian": Region("feixian", "费县", "linyi", (), ("feixian-news", "feixian-portal")),
    },
    sources={
        "linyi-daily": Source(
            "linyi-daily", "https://example.org/linyi/rss.xml", "linyi", "临沂日报"
        ),
        "feixian-news": Source("feixian-news", "https://example.org/feixian/atom.xml", "feixian"),
        "feixian-portal": Source(
            "feixian-portal", "https://example.org/feixian/list.html", "feixian", type="html"
        ),
    },
)

SYNDICATED = FeedItem(
    story_id=1,
    title="临沂市召开全市干部大会",
    link="https://example.org/linyi/2024/0501/1.html",
    summary="<p>会议强调<b>高质量发展</b>。</p>",
    content="<p>全文：会议强调高质量发展。</p>",
    author="张三",
    published=T0,
    updated=T1,
    categories=("会议",),
    channels=("politics", "economy"),
    region="linyi",
    source_id="linyi-daily",
    source_name="临沂日报",
    source_url="https://example.org/linyi/rss.xml",
    guid="tag:news.example.org,2024:story/1",
    appearances=(
        Appearance(
            "linyi-daily", "临沂日报", "linyi", "https://example.org/linyi/2024/0501/1.html", T0
        ),
        Appearance(
            "feixian-news", "费县新闻 & <融媒>", "feixian", "https://example.org/f/1?a=1&b=2", T1
        ),
        Appearance("dazhong", "大众日报", "shandong", "https://dzrb.example.com/1.html", T1),
    ),
    image="https://example.org/linyi/pic.png",
    enclosures=(Enclosure("https://example.org/linyi/1.mp3", "audio/mpeg", 1234),),
    origin="新华社",
)
SCRIPTY = FeedItem(
    story_id=2,
    title='<script>alert("x")</script> 费县 & 临沂',
    link="https://example.org/feixian/2.html",
    summary="<p>费县新闻</p>",
    content="",
    author=None,
    published=datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC),
    updated=datetime(2024, 4, 30, 23, 59, 59, tzinfo=UTC),
    categories=(),
    channels=(),
    region="feixian",
    source_id="feixian-news",
    source_name="feixian-news",
    source_url=None,
    guid="tag:news.example.org,2024:story/2",
)
CONTROL = FeedItem(
    story_id=3,
    title="费县\x01新闻\x0b速览\ufffe",
    link="https://example.org/feixian/3.html",
    summary="<p>一\x00二\x1f三</p>",
    content="",
    author="李\x08四",
    published=datetime(2024, 4, 29, 1, 2, 3, tzinfo=UTC),
    updated=datetime(2024, 4, 29, 1, 2, 3, tzinfo=UTC),
    categories=(),
    channels=("economy",),
    region="feixian",
    source_id="feixian-portal",
    source_name="费县\x02门户",
    source_url="https://example.org/feixian/list.html",
    guid="tag:news.example.org,2024:story/3",
)
ITEMS = (SYNDICATED, SCRIPTY, CONTROL)

Render = Callable[[FeedMeta, Sequence[FeedItem], Site], bytes]


def meta(path: str = "/feeds/region/shandong", ext: str = "rss", **kw: Any) -> FeedMeta:
    fields: dict[str, Any] = {
        "title": "山东 · 临沂新闻聚合",
        "subtitle": "山东及以下各地的新闻",
        "self_url": f"{BASE}{path}.{ext}",
        "html_url": f"{BASE}/region/shandong",
        "updated": T1,
        "next_url": f"{BASE}{path}.{ext}?before=1714550400000000-9",
        "hub": "https://hub.example.org/",
        "categories": ("山东",),
        "feed_id": f"{BASE}{path}",
    }
    fields.update(kw)
    return FeedMeta(**fields)


def parsed(data: bytes) -> Any:
    result = feedparser.parse(data)
    assert result.bozo == 0, result.get("bozo_exception")
    return result


def as_utc(struct: time.struct_time) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(struct), UTC)


def links(entry: Any, rel: str) -> list[dict[str, str]]:
    return [link for link in entry.links if link.get("rel") == rel]


# ---------------------------------------------------------------- RSS


def test_rss_feed_level() -> None:
    data = render_rss(meta(), ITEMS, SITE)
    feed = parsed(data)
    assert feed.version == "rss20"
    assert feed.feed.title == "山东 · 临沂新闻聚合"
    assert feed.feed.subtitle == "山东及以下各地的新闻"
    assert feed.feed.language == "zh-CN"
    assert feed.feed.link == f"{BASE}/region/shandong"
    assert feed.feed.generator == "aggregator"
    assert as_utc(feed.feed.updated_parsed) == T1
    assert links(feed.feed, "self")[0]["href"] == f"{BASE}/feeds/region/shandong.rss"
    assert links(feed.feed, "hub")[0]["href"] == "https://hub.example.org/"
    assert links(feed.feed, "next")[0]["href"] == meta().next_url
    assert [t.term for t in feed.feed.tags] == ["山东"]


def test_rss_items() -> None:
    feed = parsed(render_rss(meta(), ITEMS, SITE))
    first, second, third = feed.entries
    assert first.title == "临沂市召开全市干部大会"
    assert first.link == SYNDICATED.link
    assert first.id == SYNDICATED.guid
    assert first.guidislink is False
    assert as_utc(first.published_parsed) == T0.replace(microsecond=0)
    assert first.author == "张三"
    assert [t.term for t in first.tags] == ["时政", "经济", "临沂市"]
    assert first.source == {"href": "https://example.org/linyi/rss.xml", "title": "临沂日报"}
    assert first.content[0].value.startswith("<p>全文：会议强调高质量发展。</p>")
    assert first.enclosures == [
        {"href": "https://example.org/linyi/1.mp3", "type": "audio/mpeg", "length": "1234"}
    ]
    # A source with no URL of its own points at our normalised feed of it.
    assert second.source.href == f"{BASE}/feeds/source/feixian-news.rss"
    assert [t.term for t in second.tags] == ["费县"]
    assert "author" not in second
    assert third.title == "费县新闻速览"


def test_rss_guid_is_not_a_permalink_and_dates_are_utc() -> None:
    root = etree.fromstring(render_rss(meta(), ITEMS, SITE))
    guids = root.findall("channel/item/guid")
    assert [g.text for g in guids] == [i.guid for i in ITEMS]
    assert {g.get("isPermaLink") for g in guids} == {"false"}
    assert root.findtext("channel/item/pubDate") == "Wed, 01 May 2024 08:30:15 +0000"
    assert root.findtext("channel/lastBuildDate") == "Wed, 01 May 2024 09:00:00 +0000"


def test_rss_footer_names_other_copies_in_order_escaped() -> None:
    root = etree.fromstring(render_rss(meta(), ITEMS, SITE))
    description = root.findtext("channel/item/description")
    assert description == (
        "<p>会议强调<b>高质量发展</b>。</p>"
        '<p class="also">也发表于 / also published by: '
        '<a href="https://example.org/f/1?a=1&amp;b=2">费县新闻 &amp; &lt;融媒&gt;</a>, '
        '<a href="https://dzrb.example.com/1.html">大众日报</a></p>'
    )
    # Readers that prefer content:encoded see it too.
    content = root.findtext("channel/item/{http://purl.org/rss/1.0/modules/content/}encoded")
    assert content.endswith(description[len("<p>会议强调<b>高质量发展</b>。</p>") :])
    # Items with one appearance get no footer.
    assert "also" not in root.findall("channel/item")[1].findtext("description")


def test_rss_footer_keeps_unsafe_links_out() -> None:
    hostile = Appearance("x", 'X"台<', "feixian", "javascript:alert(1)", T1)
    item = _replace(SYNDICATED, appearances=(*SYNDICATED.appearances[:1], hostile))
    description = etree.fromstring(render_rss(meta(), [item], SITE)).findtext(
        "channel/item/description"
    )
    assert "javascript:" not in description
    assert description.endswith("also published by: X&quot;台&lt;</p>")


def test_rss_enclosure_falls_back_to_image() -> None:
    item = _replace(SYNDICATED, enclosures=())
    entry = parsed(render_rss(meta(), [item], SITE)).entries[0]
    assert entry.enclosures[0]["href"] == "https://example.org/linyi/pic.png"
    assert entry.enclosures[0]["type"] == "image/png"


# ---------------------------------------------------------------- Atom


def test_atom_feed_level() -> None:
    feed = parsed(render_atom(meta(ext="atom"), ITEMS, SITE))
    assert feed.version == "atom10"
    assert feed.feed.id == f"{BASE}/feeds/region/shandong"
    assert feed.feed.title == "山东 · 临沂新闻聚合"
    assert feed.feed.subtitle == "山东及以下各地的新闻"
    assert feed.feed.language == "zh-CN"
    assert feed.feed.generator == "aggregator"
    assert as_utc(feed.feed.updated_parsed) == T1
    assert links(feed.feed, "alternate")[0]["href"] == f"{BASE}/region/shandong"
    assert links(feed.feed, "self")[0]["href"] == f"{BASE}/feeds/region/shandong.atom"
    assert links(feed.feed, "hub")[0]["href"] == "https://hub.example.org/"
    assert links(feed.feed, "next")[0]["href"] == meta(ext="atom").next_url


def test_atom_entries() -> None:
    feed = parsed(render_atom(meta(ext="atom"), ITEMS, SITE))
    first, second, _ = feed.entries
    assert first.id == SYNDICATED.guid
    assert first.link == SYNDICATED.link
    assert as_utc(first.published_parsed) == T0.replace(microsecond=0)
    assert as_utc(first.updated_parsed) == T1
    assert first.author == "张三"
    assert first.summary == "<p>会议强调<b>高质量发展</b>。</p>"
    assert first.content[0].value == "<p>全文：会议强调高质量发展。</p>"
    assert [t.term for t in first.tags] == ["时政", "经济", "临沂市"]
    assert first.source.title == "临沂日报"
    assert first.source.link == "https://example.org/linyi/rss.xml"
    assert [(link["href"], link["title"]) for link in links(first, "related")] == [
        ("https://example.org/f/1?a=1&b=2", "费县新闻 & <融媒>"),
        ("https://dzrb.example.com/1.html", "大众日报"),
    ]
    assert [link["href"] for link in links(first, "enclosure")] == [
        "https://example.org/linyi/1.mp3",
        "https://example.org/linyi/pic.png",
    ]
    assert links(second, "related") == []
    assert "content" not in second


def test_atom_dates_keep_utc_offset() -> None:
    root = etree.fromstring(render_atom(meta(ext="atom"), ITEMS, SITE))
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}published") == "2024-05-01T08:30:15.123456+00:00"
    assert entry.findtext(f"{ATOM}updated") == "2024-05-01T09:00:00+00:00"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"


def test_non_utc_input_is_published_as_utc() -> None:
    from zoneinfo import ZoneInfo

    shanghai = datetime(2024, 5, 1, 16, 30, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    item = _replace(SCRIPTY, published=shanghai, updated=shanghai)
    root = etree.fromstring(render_atom(meta(ext="atom"), [item], SITE))
    assert root.findtext(f"{ATOM}entry/{ATOM}published") == "2024-05-01T08:30:15+00:00"


# ---------------------------------------------------------------- both XML formats


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_untrusted_text_is_escaped(render: Render) -> None:
    data = render(meta(), ITEMS, SITE)
    assert b"<script" not in data
    assert b"<\xe8\x9e\x8d" not in data  # "<融" from a source name, never raw
    titles = [e.title for e in parsed(data).entries]
    assert titles[1] == '<script>alert("x")</script> 费县 & 临沂'


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_control_characters_are_dropped(render: Render) -> None:
    entry = parsed(render(meta(), [CONTROL], SITE)).entries[0]
    assert entry.title == "费县新闻速览"
    assert entry.summary == "<p>一二三</p>"
    assert entry.author == "李四"
    assert entry.source.title == "费县门户"


@pytest.mark.parametrize("render", [render_rss, render_atom, render_json])
def test_output_is_deterministic(render: Render) -> None:
    assert render(meta(), ITEMS, SITE) == render(meta(), ITEMS, SITE)


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_empty_feed_without_paging_or_hub(render: Render) -> None:
    feed = parsed(render(meta(next_url=None, hub=None, categories=()), [], SITE))
    assert feed.entries == []
    assert {link["rel"] for link in feed.feed.links} == {"self", "alternate"}


@pytest.mark.parametrize("render", [render_rss, render_atom, render_json])
def test_empty_titles_do_not_break_a_feed(render: Render) -> None:
    untitled = _replace(SCRIPTY, title="\x01", guid="")
    data = render(meta(title="", subtitle=""), [untitled], SITE)
    if render is render_json:
        assert orjson.loads(data)["items"][0]["id"] == SCRIPTY.link
    else:
        entry = parsed(data).entries[0]
        assert entry.title == SCRIPTY.link
        assert entry.id == SCRIPTY.link


@pytest.mark.parametrize("render", [render_rss, render_atom])
def test_guids_stable_across_formats_and_pages(render: Render) -> None:
    ids = [e.id for e in parsed(render(meta(), ITEMS, SITE)).entries]
    again = [e.id for e in parsed(render(meta(), ITEMS[1:], SITE)).entries]
    assert ids == [i.guid for i in ITEMS]
    assert again == ids[1:]


# ---------------------------------------------------------------- JSON Feed


def test_json_feed_shape() -> None:
    feed = orjson.loads(render_json(meta(ext="json"), ITEMS, SITE))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "山东 · 临沂新闻聚合"
    assert feed["home_page_url"] == f"{BASE}/region/shandong"
    assert feed["feed_url"] == f"{BASE}/feeds/region/shandong.json"
    assert feed["description"] == "山东及以下各地的新闻"
    assert feed["language"] == "zh-CN"
    assert feed["next_url"] == meta(ext="json").next_url
    assert feed["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
    allowed = {
        "id", "url", "external_url", "title", "content_html", "content_text", "summary",
        "image", "banner_image", "date_published", "date_modified", "authors", "tags",
        "language", "attachments",
    }  # fmt: skip
    for item in feed["items"]:
        assert isinstance(item["id"], str)
        assert "content_html" in item or "content_text" in item
        assert {k for k in item if not k.startswith("_")} <= allowed
        assert None not in item.values()
        for key in ("date_published", "date_modified"):
            assert item[key].endswith("Z")
            assert datetime.fromisoformat(item[key]).tzinfo is not None


def test_json_items() -> None:
    first, second, third = orjson.loads(render_json(meta(ext="json"), ITEMS, SITE))["items"]
    assert first["id"] == SYNDICATED.guid
    assert first["url"] == SYNDICATED.link
    assert first["title"] == "临沂市召开全市干部大会"
    assert first["content_html"] == SYNDICATED.content
    assert first["summary"] == "会议强调高质量发展。"
    assert datetime.fromisoformat(first["date_published"]) == T0
    assert datetime.fromisoformat(first["date_modified"]) == T1
    assert first["authors"] == [{"name": "张三"}]
    assert first["tags"] == ["时政", "经济", "临沂市"]
    assert first["image"] == "https://example.org/linyi/pic.png"
    assert first["attachments"] == [
        {"url": "https://example.org/linyi/1.mp3", "mime_type": "audio/mpeg", "size_in_bytes": 1234}
    ]
    assert first["_aggregator"] == {
        "source": {
            "id": "linyi-daily",
            "name": "临沂日报",
            "url": "https://example.org/linyi/rss.xml",
        },
        "region": "linyi",
        "channels": ["politics", "economy"],
        "appearances": [
            {
                "source": "linyi-daily",
                "name": "临沂日报",
                "region": "linyi",
                "url": "https://example.org/linyi/2024/0501/1.html",
                "date_published": "2024-05-01T08:30:15.123456Z",
            },
            {
                "source": "feixian-news",
                "name": "费县新闻 & <融媒>",
                "region": "feixian",
                "url": "https://example.org/f/1?a=1&b=2",
                "date_published": "2024-05-01T09:00:00Z",
            },
            {
                "source": "dazhong",
                "name": "大众日报",
                "region": "shandong",
                "url": "https://dzrb.example.com/1.html",
                "date_published": "2024-05-01T09:00:00Z",
            },
        ],
        "origin": "新华社",
    }
    # No content: the summary stands in; no author, no tags beyond the region.
    assert second["content_html"] == "<p>费县新闻</p>"
    assert second["title"] == '<script>alert("x")</script> 费县 & 临沂'
    assert "authors" not in second
    assert third["title"] == "费县新闻速览"


def test_json_summary_is_short_plain_text() -> None:
    long = _replace(SCRIPTY, summary="<p>" + "临沂" * 300 + "</p><p>第二段</p>")
    summary = orjson.loads(render_json(meta(), [long], SITE))["items"][0]["summary"]
    assert len(summary) == 200
    assert summary.endswith("…")
    assert "<" not in summary
    both = _replace(SCRIPTY, summary="<p>甲 &amp; 乙</p><p>丙</p>")
    assert orjson.loads(render_json(meta(), [both], SITE))["items"][0]["summary"] == "甲 & 乙 丙"


def test_json_without_paging_or_hub() -> None:
    feed = orjson.loads(render_json(meta(next_url=None, hub=None), [], SITE))
    assert "next_url" not in feed
    assert "hubs" not in feed
    assert feed["items"] == []


# ---------------------------------------------------------------- OPML out


def test_opml_export_nests_regions_and_lists_every_feed() -> None:
    root = etree.fromstring(render_opml(SITE, BASE + "/", NOW))
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "临沂新闻聚合"
    assert parsedate_to_datetime(root.findtext("head/dateCreated")) == NOW

    body = root.find("body")
    shandong = body.find("outline[@text='山东']")
    linyi = shandong.find("outline[@text='临沂市']")
    feixian = linyi.find("outline[@text='费县']")
    assert feixian is not None
    assert feixian.find("outline[@text='费县 · RSS']").get("xmlUrl") == (
        f"{BASE}/feeds/region/feixian.rss"
    )
    assert linyi.find("outline[@text='临沂市 · 时政 · Atom']").get("xmlUrl") == (
        f"{BASE}/feeds/region/linyi/politics.atom"
    )

    xml_urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    expected = {
        f"{BASE}/feeds/{path}.{ext}"
        for ext in ("rss", "atom", "json")
        for path in [
            *(f"region/{r}" for r in SITE.regions),
            *(f"channel/{c.id}" for c in SITE.channels),
            *(f"region/{r}/{c.id}" for r in SITE.regions for c in SITE.channels),
        ]
    } | {f"{BASE}/feeds/source/{s}.rss" for s in SITE.sources}
    assert set(xml_urls) == expected
    assert len(xml_urls) == len(expected)
    for outline in root.iter("outline"):
        for attr in ("xmlUrl", "htmlUrl"):
            if outline.get(attr):
                assert outline.get(attr).startswith("https://"), outline.attrib
        if outline.get("xmlUrl"):
            assert outline.get("type") == "rss"
            assert "//feeds" not in outline.get("xmlUrl")

    channels = body.find("outline[@text='频道 / Channels']")
    assert [o.get("xmlUrl") for o in channels][:3] == [
        f"{BASE}/feeds/channel/politics.{ext}" for ext in ("rss", "atom", "json")
    ]
    sources = body.find("outline[@text='来源 / Sources']")
    portal = sources.find("outline[@text='feixian-portal']")
    assert portal.get("htmlUrl") == "https://example.org/feixian/list.html"
    assert sources.find("outline[@text='临沂日报']").get("originalUrl") == (
        "https://example.org/linyi/rss.xml"
    )


def test_opml_export_reads_back() -> None:
    feeds = parse_opml(render_opml(SITE, BASE, NOW))
    by_url = {f.xml_url: f for f in feeds}
    feixian = by_url[f"{BASE}/feeds/region/feixian.json"]
    assert feixian.category == ("山东", "临沂市", "费县")
    assert feixian.title == "费县 · JSON Feed"
    assert by_url[f"{BASE}/feeds/source/linyi-daily.rss"].category == ("来源 / Sources",)


# ---------------------------------------------------------------- OPML in

READER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<!-- exported by SomeReader -->
<opml version="1.0">
  <head><title>My feeds</title></head>
  <body>
    <outline text="News" title="News">
      <outline text="Linyi Daily" title="临沂日报" type="rss"
               xmlUrl="https://example.org/linyi/rss.xml" htmlUrl="https://example.org/linyi/"/>
      <outline text="Local">
        <outline TEXT="Feixian" XMLURL=" https://example.org/feixian/atom.xml " HTMLURL=""/>
        <outline xmlurl="https://example.org/untitled.xml"/>
      </outline>
    </outline>
    <outline title="Podcasts"><outline text="Pod" xmlUrl="feed://pod.example.com/rss"/></outline>
    <outline text="Top" type="rss" xmlUrl="https://example.org/linyi/rss.xml"/>
    <outline text="Local file" xmlUrl="file:///etc/passwd"/>
    <outline text="Empty folder"/>
  </body>
</opml>
""".encode()


def test_parse_reader_export() -> None:
    assert parse_opml(READER_EXPORT) == [
        OpmlFeed(
            "临沂日报", "https://example.org/linyi/rss.xml", "https://example.org/linyi/", ("News",)
        ),
        OpmlFeed("Feixian", "https://example.org/feixian/atom.xml", None, ("News", "Local")),
        OpmlFeed(None, "https://example.org/untitled.xml", None, ("News", "Local")),
        OpmlFeed("Pod", "http://pod.example.com/rss", None, ("Podcasts",)),
    ]


def test_parse_declared_gbk() -> None:
    text = (
        '<?xml version="1.0" encoding="GBK"?>'
        '<opml version="2.0"><body><outline text="地方">'
        '<outline text="费县新闻" xmlUrl="https://example.org/f.xml"/>'
        "</outline></body></opml>"
    )
    assert parse_opml(text.encode("gbk")) == [
        OpmlFeed("费县新闻", "https://example.org/f.xml", None, ("地方",))
    ]


def test_parse_encoding_libxml_does_not_know_falls_back() -> None:
    data = (
        '<?xml version="1.0" encoding="x-no-such-charset"?>'
        '<opml><body><outline text="临沂" xmlUrl="https://example.org/l.xml"/></body></opml>'
    ).encode()
    assert parse_opml(data) == [OpmlFeed("临沂", "https://example.org/l.xml")]


def test_parse_escapes_a_bare_ampersand_instead_of_dropping_it() -> None:
    data = b'<opml><body><outline text="A & B" xmlUrl="https://e.org/?a=1&b=2"/></body></opml>'
    assert parse_opml(data) == [OpmlFeed("A & B", "https://e.org/?a=1&b=2")]


def test_parse_refuses_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    data = f"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY e SYSTEM "file://{secret}"><!ENTITY p SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><head><title>&e;</title></head><body>
<outline text="&e;&p;" xmlUrl="https://example.org/x.xml"/>
<outline text="t">&e;&p;</outline>
</body></opml>""".encode()
    with pytest.raises(ParseError, match="entity") as caught:
        parse_opml(data)
    assert "TOP-SECRET-VALUE" not in str(caught.value)


def test_parse_refuses_entity_bombs() -> None:
    lol = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    data = (
        f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY l0 "lol">{lol}]>'
        '<opml><body><outline text="&l9;" xmlUrl="https://example.org/x.xml"/></body></opml>'
    ).encode()
    with pytest.raises(ParseError):
        parse_opml(data)


def test_parse_accepts_a_doctype_without_entities() -> None:
    data = b'<!DOCTYPE opml><opml><body><outline xmlUrl="https://e.org/x"/></body></opml>'
    assert parse_opml(data) == [OpmlFeed(None, "https://e.org/x")]


@pytest.mark.parametrize(
    "data", [b"", b"not xml at all", b"<html><p>hello</p></html>", b"\xff\xfe\x00<"]
)
def test_parse_rejects_what_is_not_opml(data: bytes) -> None:
    with pytest.raises(ParseError):
        parse_opml(data)


# ---------------------------------------------------------------- helpers


def _replace(item: FeedItem, **changes: Any) -> FeedItem:
    from dataclasses import replace

    return replace(item, **changes)
