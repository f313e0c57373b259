"""The golden test: every fixture feed in tests/data/feeds, through parse and normalise.

tests/data/feeds/manifest.json states the true facts of each item (see README.md there);
each file goes through poller.work.digest_document exactly as a poll would send it.
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from aggregator.model import Article, Channel, DatePrecision, PollStatus, Source
from aggregator.normalise import Context
from aggregator.normalise.dates import parse_date
from aggregator.normalise.identity import title_key
from aggregator.normalise.urls import canonical
from aggregator.parse.encoding import canonical_encoding
from aggregator.poller.work import Job, Outcome, digest_document

FEEDS = Path(__file__).parent / "data" / "feeds"
MANIFEST: dict[str, Any] = json.loads((FEEDS / "manifest.json").read_text(encoding="utf-8"))
FILES: dict[str, dict[str, Any]] = {f["file"]: f for f in MANIFEST["files"]}
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"
CHANNELS = (
    Channel("farm", "三农", keywords=("山楂",), categories=("三农",)),
    Channel("gov", "政务", keywords=("会议",)),
)

# Where each file is served from. atom.xml sits at its rel="self" address, which is NOT
# its xml:base: relative links resolve as the manifest says only if xml:base is honoured.
SOURCE_URLS = {
    "rss20_utf8.xml": "http://www.feixian.example.cn/rss.xml",
    "rss20_gbk_naive.xml": "http://www.mengyinbao.example.cn/rss.xml",
    "rss20_gb2312_naive.xml": "http://www.yishuibao.example.cn/rss.xml",
    "atom.xml": "http://gov.example.cn/feixian/feed/atom.xml",
    "rss10.rdf": "http://www.lanlingtv.example.cn/rss/index.rdf",
    "nodate.xml": "http://www.pingyi.example.cn/rss.xml",
    "malformed.xml": "http://www.tancheng.example.cn/rss.xml",
    "html_instead.html": "http://www.yinan.example.cn/rss.xml",
    "empty_channel.xml": "http://www.linshu.example.cn/zcjd/rss.xml",
    "lying_encoding.xml": "http://www.junan.example.cn/rss.xml",
    "syndicated_a.xml": "http://www.feixian.example.cn/rss.xml",
    "syndicated_b.xml": "http://www.lyrb.example.cn/rss.xml",
}


def charset_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


@functools.cache
def digested(name: str) -> Outcome:
    spec = FILES[name]
    url = SOURCE_URLS[name]
    source = Source(id=Path(name).stem, url=url, region="linyi")
    job = Job(
        body=(FEEDS / name).read_bytes(),
        url=url,
        charset=charset_of(spec["content_type"]),
        source=source,
        context=Context(TZ, CHANNELS),
        now=NOW,
    )
    return digest_document(job)


def titles_of(item: dict[str, Any]) -> list[str]:
    return [item["title"], *item.get("title_alternatives", [])]


def links_of(item: dict[str, Any]) -> list[str]:
    return [item["link"], *item.get("link_alternatives", [])]


def find(articles: tuple[Article, ...], item: dict[str, Any]) -> Article | None:
    """The article for a manifest item, matched by title and link."""
    hits = [a for a in articles if a.title in titles_of(item) and a.link in links_of(item)]
    assert len(hits) <= 1, f"{item['title']!r} matched {len(hits)} articles"
    return hits[0] if hits else None


def by_guid(name: str, guid: str) -> Article:
    hits = [a for a in digested(name).articles if a.guid == guid]
    assert len(hits) == 1, f"{name}: {guid!r} found {len(hits)} times"
    return hits[0]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


ITEMS = [
    pytest.param(name, i, id=f"{name}[{i}]")
    for name, spec in FILES.items()
    for i in range(len(spec["items"]))
]


def test_manifest_covers_every_fixture():
    on_disk = {p.name for p in FEEDS.iterdir() if p.name not in ("manifest.json", "README.md")}
    assert on_disk == set(FILES)
    assert set(SOURCE_URLS) == set(FILES)


# ---------------------------------------------------------------- per file


def expected_status(spec: dict[str, Any]) -> PollStatus:
    if not spec["is_feed"]:
        return PollStatus.PARSE_ERROR
    if not spec["items"]:
        return PollStatus.EMPTY
    if canonical_encoding(spec["encoding"]) != canonical_encoding(spec["declared_encoding"]):
        return PollStatus.ENCODING_SUSPECT  # the declaration lies about the bytes
    return PollStatus.OK


@pytest.mark.parametrize("name", list(FILES))
def test_status(name):
    spec = FILES[name]
    out = digested(name)
    assert out.status is expected_status(spec), out.message
    if not spec["is_feed"]:
        assert "not a feed" in out.message
        assert out.articles == ()
    if out.status is PollStatus.EMPTY:
        assert out.articles == ()
        assert out.entries_seen == 0


@pytest.mark.parametrize("name", [n for n, s in FILES.items() if s["is_feed"]])
def test_feed_facts(name):
    spec = FILES[name]
    out = digested(name)
    assert out.feed_title == spec["feed_title"]
    assert out.ttl_minutes == spec.get("ttl")


@pytest.mark.parametrize("name", [n for n, s in FILES.items() if s["items"]])
def test_item_count_and_order(name):
    items = FILES[name]["items"]
    articles = digested(name).articles
    required = [item for item in items if not item.get("optional")]
    if len(required) == len(items):
        # Everything must be there, in document order.
        assert len(articles) == len(items)
        for article, item in zip(articles, items, strict=True):
            assert article.title in titles_of(item)
            assert article.link in links_of(item)
    else:
        assert len(required) <= len(articles) <= len(items)
        for item in required:
            assert find(articles, item) is not None, item["title"]


@pytest.mark.parametrize(("name", "index"), ITEMS)
def test_item(name, index):
    item = FILES[name]["items"][index]
    article = find(digested(name).articles, item)
    if article is None:
        assert item.get("optional"), f"missing: {item['title']!r}"
        pytest.skip("optional item lost, as the manifest allows")

    assert article.title in titles_of(item)
    assert article.link in links_of(item)
    assert article.canonical_link == canonical(item["link"])
    assert article.author == item["author"]
    if item.get("optional"):
        # A damaged item may lose what follows the damage, never gain anything.
        assert list(article.categories) == item["categories"][: len(article.categories)]
    else:
        assert list(article.categories) == item["categories"]

    if item["guid"] is not None:
        assert article.guid == item["guid"]
    else:  # RSS 1.0: none, or rdf:about, which is the link
        assert article.guid in (None, item["link"])

    if item["published"] is None:
        assert article.precision is DatePrecision.NONE
        assert article.published == NOW
    else:
        assert article.published == utc(item["published"])
        assert article.precision is DatePrecision.DATETIME
    assert article.published.tzinfo is not None
    assert article.published.utcoffset() == UTC.utcoffset(None)

    if "raw_date" in item:  # the date as written reads as the manifest's instant
        value, _ = parse_date(item["raw_date"], ZoneInfo(TZ), NOW)
        assert value == utc(item["published"])
    for text in item.get("summary_contains", []):
        assert text in article.summary
    for text in item.get("body_contains", []):
        assert text in article.content
    if "summary_prefix" in item:
        assert article.text.startswith(item["summary_prefix"])
        assert article.origin == item["summary_prefix"].partition(":")[2]


def fields(article: Article) -> list[str]:
    out = [
        article.title,
        article.link,
        article.summary,
        article.content,
        article.text,
        article.canonical_link,
        *article.categories,
        *(e.url for e in article.enclosures),
    ]
    out.extend(x for x in (article.author, article.guid, article.origin, article.image) if x)
    return out


BANNED = [
    pytest.param(name, text, id=f"{name}:{text}")
    for name, spec in FILES.items()
    for text in sorted({t for item in spec["items"] for t in item.get("must_not_contain", [])})
]


@pytest.mark.parametrize(("name", "banned"), BANNED)
def test_must_not_contain(name, banned):
    articles = digested(name).articles
    assert articles
    for article in articles:
        for value in fields(article):
            assert banned.lower() not in value.lower(), (article.title, value)


def test_html_kept_safe_in_hostile_item():
    article = by_guid("rss20_utf8.xml", "http://www.feixian.example.cn/news/2024/0507/1005.html")
    assert 'src="http://www.feixian.example.cn/uploads/2024/05/hall.jpg"' in article.summary
    assert "点击查看详情" in article.summary


def test_lying_encoding_gives_correct_chinese():
    out = digested("lying_encoding.xml")
    assert out.status is PollStatus.ENCODING_SUSPECT
    assert "gb18030" in out.message
    assert out.feed_title == "莒南县新闻网"
    assert [a.title for a in out.articles] == [
        i["title"] for i in FILES["lying_encoding.xml"]["items"]
    ]
    assert "鸡龙河湿地" in out.articles[2].summary


def test_gb2312_label_keeps_gbk_only_characters():
    out = digested("rss20_gb2312_naive.xml")
    text = " ".join(f"{a.title} {a.author or ''}" for a in out.articles)
    assert "镕" in text
    assert "喆" in text


def test_malformed_entities_mean_their_html_values():
    articles = digested("malformed.xml").articles
    assert "3公里 ，" in articles[0].text  # &nbsp;
    assert "会议强调……要" in articles[1].text  # &hellip;
    assert "&nbsp;" not in articles[0].text


def test_channels_applied():
    article = by_guid("rss20_gbk_naive.xml", "mybao-20181029-3302")  # category 三农
    assert "farm" in article.channels
    assert dict(article.channel_rules)["farm"] == "category:三农"


# ---------------------------------------------------------------- across files


@pytest.mark.parametrize("group", MANIFEST["syndicated"], ids=lambda g: g["group"])
def test_syndicated_copies_share_canonical_link(group):
    copies = [by_guid(c["file"], c["guid"]) for c in group["copies"]]
    assert len(copies) >= 2
    assert {a.canonical_link for a in copies} == {canonical(group["canonical_link"])}
    assert len({a.published for a in copies}) == 1
    assert len({title_key(a.title) for a in copies}) == 1


@pytest.mark.parametrize("pair", MANIFEST["distinct"], ids=lambda p: p["why"][:30])
def test_distinct_look_alikes_stay_apart(pair):
    articles = [by_guid(c["file"], c["guid"]) for c in pair["items"]]
    assert len({a.canonical_link for a in articles}) == len(articles)
    assert len({title_key(a.title) for a in articles}) == len(articles)
