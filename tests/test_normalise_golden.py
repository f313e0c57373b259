"""Golden output of the normalise stage: every field of every Article, byte for byte.

tests/data/normalise_golden.json was written by the code as it stood before normalise
was optimised; any speed-up must leave it unchanged. It covers every fixture in
tests/data/feeds and tests/data/html, the demo samples, the feeds bench/parse.py and
bench/sources.py generate (each feed through both readers), and the pure helpers
(dates, links, sanitising) on hostile and odd inputs, including the truncation path.

Only when a change of output is intended, rewrite it and review the diff:
`PYTHONPATH=. python tests/test_normalise_golden.py --write`.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from aggregator.demo.server import CHARSETS, SAMPLES, TYPES  # noqa: E402
from aggregator.errors import ParseError  # noqa: E402
from aggregator.model import Channel, HtmlRules, RawFeed, Source  # noqa: E402
from aggregator.normalise import Context, normalise  # noqa: E402
from aggregator.normalise import text as T  # noqa: E402
from aggregator.normalise.dates import parse_date, settle  # noqa: E402
from aggregator.normalise.urls import absolute, canonical, clean_link, strip_tracking  # noqa: E402
from aggregator.parse.encoding import decode  # noqa: E402
from aggregator.parse.feed import parse_feed  # noqa: E402
from aggregator.parse.html import parse_list_page  # noqa: E402
from aggregator.poller.work import ArticleJob, digest_article  # noqa: E402
from tests.test_parse_fixtures import SOURCE_URLS  # noqa: E402

GOLDEN = ROOT / "tests" / "data" / "normalise_golden.json"
DATA = ROOT / "tests" / "data"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ORIGIN = "http://127.0.0.1:8765"
CHANNELS = (
    Channel("farm", "三农", keywords=("山楂", "农业"), categories=("三农",)),
    Channel("gov", "时政", keywords=("会议", "书记"), exclude=("广告",)),
    Channel("econ", "经济", keywords=("招商", "项目"), match=("title", "categories", "summary")),
    Channel("meet", "会议", words=("会议", "召开"), match=("title", "summary")),
    Channel("culture", "文旅", categories=("文化", "旅游"), keywords=("景区",)),
)
CONTEXT = Context("Asia/Shanghai", CHANNELS)
FEED_URLS = SOURCE_URLS  # where each fixture is served from, as the fixture tests say
UL = HtmlRules(item="ul.news li", title="a", link="a@href", date="span.date", summary="p")
TABLE = HtmlRules(item="table.list tr.item", title="td.bt a", link="td.bt a@href", date="td.sj")
LISTS = {
    "feixian_list.html": ("http://www.feixian.example.cn/col/col1021/index.html", UL),
    "mengyin_list.gbk.html": ("http://www.mengyin.example.cn/xwzx/list.html", TABLE),
}
ARTICLES = {
    "feixian_article.html": "http://www.feixian.example.cn/art/2018/10/29/art_1021_251.html",
    "mengyin_article.gbk.html": "http://www.mengyin.example.cn/xwzx/2018/1029/3306.html",
}
PORTAL = HtmlRules(item="ul.news li", title="a", link="a@href", date="span.date")

DATES = [
    "Wed, 01 May 2024 08:00:00 +0800",
    "Wed, 1 May 2024 08:00:00 +0800",
    "wed, 01 may 2024 08:00:00 +0800",
    "Wed, 01 May 2024 08:00 +0800",
    "Wed, 01 May 2024 08:00:00 GMT",
    "Wed, 01 May 2024 08:00:00 UT",
    "Wed, 01 May 2024 08:00:00 Z",
    "Wed, 01 May 2024 08:00:00 EST",
    "Wed, 01 May 2024 08:00:00 CST",
    "Wed, 01 May 2024 08:00:00 -0000",
    "Wed, 01 May 2024 08:00:00 +0000",
    "Wed, 01 May 2024 08:00:00 -0530",
    "Wed, 01 May 2024 08:00:00 +2400",
    "Wed, 01 May 2024 08:00:00 +9999",
    "Wed, 01 May 2024 08:00:00",
    "Wed, 01 May 24 08:00:00 +0800",
    "Wed, 01 May 99 08:00:00 +0800",
    "Wed, 01 May 0024 08:00:00 +0800",
    "Thu, 01 May 2024 08:00:00 +0800",
    "Xyz, 01 May 2024 08:00:00 +0800",
    "01 May 2024 08:00:00 +0800",
    "Wed,01 May 2024 08:00:00 +0800",
    "Wed, 01 May 2024  08:00:00  +0800",
    " Wed, 01 May 2024 08:00:00 +0800 ",
    "Wed, 01 May 2024 08:00:00 +0800 (CST)",
    "Wed, 01 Mai 2024 08:00:00 +0800",
    "Wed, 31 Feb 2024 08:00:00 +0800",
    "Wed, 00 May 2024 08:00:00 +0800",
    "Wed, 01 May 2024 24:00:00 +0800",
    "Wed, 01 May 2024 23:59:60 +0800",
    "Wed, 01 May 2024 8:5:3 +0800",
    "Wed, 01 May 2024 08:00:00.5 +0800",
    "Wed, 01 Jun 2024 08:00:00 +08:00",
    "Wed, 01 Dec 2026 12:30:00 +0000",
    "Fri, 27 Nov 2026 12:59:00 +0000",
    "Fri, 27 Nov 2026 13:30:00 +0000",
    "Sun, 29 Feb 2032 08:00:00 +0800",
    "Wed, 01 May 2024 08:00:00 +0800\n",
    "Wed, ０１ May 2024 08:00:00 +0800",
    "发布时间：Wed, 01 May 2024 08:00:00 +0800",
    "[Wed, 01 May 2024 08:00:00 +0800]",
    "Wed, 01 May 2024",
    "May 2024",
    "2024-05-01T08:00:00+08:00",
    "2024-05-01T08:00:00Z",
    "2024-05-01 08:00:00",
    "2024-05-01",
    "2024/5/1 8:00",
    "2024年5月1日 08时00分",
    "2024年05月01日",
    "2024-05-01T08:00:00.123+08:00",
    "2018-10-29 09:26 北京时间",
    "10月29日",
    "10-29 09:26",
    "02月29日",
    "3分钟前",
    "2小时前",
    "5天前",
    "昨天 14:00",
    "前天",
    "刚刚",
    "just now",
    "",
    "   ",
    "nonsense",
    "Mon",
    "abc 2024",
]
URLS = [
    "/uploads/2024/05/1.jpg",
    "uploads/1.jpg",
    "../a/b.html",
    "./c.html",
    "//cdn.example.cn/x.png",
    "?page=2",
    "#top",
    "",
    "   ",
    "http://WWW.Example.CN:80/a/b/?utm_source=rss&id=3&from=timeline#frag",
    "https://www.example.cn:443/a//?b=2&a=1&a=0",
    "https://example.cn:8443/x/",
    "HTTPS://Example.cn./x.html?spm=1.2&q=%E4%B8%AD%E6%96%87",
    "http://www.example.cn/s?kw=%D6%D0%CE%C4&from=list",
    "http://www.example.cn/s?kw=中文&x=a+b&y=a%20b",
    "http://www.example.cn/s?&&a=&=b&c",
    "http://www.example.cn/s?",
    "http://www.example.cn/s#",
    "http://www.example.cn/a/./b/../c.html",
    "http://www.example.cn/a b c.html",
    "http://www.example.cn/a\n   b.html",
    "http://www.example.\ncn/x.html",
    "\thttp://www.example.cn/tab.html",
    "http://www.example.cn/p;params?q=1",
    "http://user:pw@www.example.cn/x",
    "http://[::1]:8080/x",
    "http://[::1/x",
    "http://www.example.cn:99999/x",
    "http://www.example.cn:abc/x",
    "http:///nohost",
    "http:relative.html",
    "https:",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "mailto:a@example.cn",
    "ftp://ftp.example.cn/f",
    "vbscript:msgbox(1)",
    "http://www.example.cn/x?fbclid=1&gclid=2&_ga=3&mc_cid=4&keep=5",
    "http://www.example.cn/x?UTM_Medium=a&Keep=B&from=SingleMessage&from=list",
    "http://www.example.cn/x?utm%5Fsource=a&a%3Db=c",
    "http://www.example.cn/x?a=%ZZ&b=%",
    "http://www.example.cn/%7Euser/",
    "http://www.example.cn" + "/p" * 300,
    "http://中文.example.cn/x",
    "http://xn--fiq228c.example.cn/x",
    "\u3000http://www.example.cn/full-width-space.html\u3000",
]
BASES = [
    "http://www.feixian.example.cn/news/2024/05/01/1.html",
    "http://www.feixian.example.cn/",
    "https://gov.example.cn/feixian/feed/",
    "",
    None,
    "javascript:alert(1)",
]
MARKUP = [
    "<p>plain</p>",
    "<script>alert(1)</script><p>after</p>",
    "<img src=x onerror=alert(1)>",
    "<img src='javascript:alert(1)' alt=a>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='/rel.html' target=_blank rel=opener onclick=1 title=t>rel</a>",
    "<a href='mailto:a@example.cn'>mail</a>",
    "<a href='data:text/html,x'>data</a>",
    "<a href='//cdn.example.cn/x'>proto-relative</a>",
    "<iframe src='http://evil.example/'>inside</iframe>text",
    "<svg><script>alert(1)</script></svg>svg",
    "<math><mi>x</mi></math>math",
    "<style>p{color:red}</style><p style='color:red' class=c id=i>styled</p>",
    "<form action=/x><input name=a><button>b</button></form>form",
    "<!-- comment --><p>c</p><!--[if IE]><script>x</script><![endif]-->",
    "<object data=x></object><embed src=x><noscript>ns</noscript><template>t</template>",
    "<video src='/v.mp4' poster='/p.jpg' controls autoplay></video>",
    "<audio src='a.mp3' controls><source src='a.ogg' type='audio/ogg'></audio>",
    "<table><tr><td colspan=2 rowspan=3 width=5>td</td><th colspan=1>th</th></tr></table>",
    "<time datetime='2024-05-01'>t</time><abbr title=x>a</abbr>",
    "<p>unclosed <b>bold <i>italic",
    "</p></div>stray closers<p>",
    "<<p>>double<</p>>",
    '<p a="unterminated>text</p>',
    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &nbsp; &#x4e2d; &#20013; &bogus;",
    "a\x00b\x08c\x0bd\x1fe\ufffef\uffffg",
    "<h1>h</h1><h6>h6</h6><section>s</section><article>a</article><br><br/>",
    "<p>\u3000\u3000全角空格\u00a0不换行</p>\n\n\n<p>  多   空格  </p>",
    "<ul><li>一</li><li>二</li></ul><ol><li>三</li></ol><dl><dt>d</dt><dd>e</dd></dl>",
    "<head><title>head title</title></head><body><p>body</p></body>",
    '<IMG SRC="/A.JPG" ALT="upper">',
    "<img src=' /spaced name.jpg ' alt=sp>",
    "<img src='/wrapped\n   /path.jpg'>",
    "<a href='http://evil.example/?utm_source=x'>tracked</a>",
    "<p>来源：费县新闻网</p><p>正文。</p>",
    "<div><div><div><p>" * 50 + "deep" + "</p></div></div></div>" * 50,
    "x" * 70000,
    "<p>" + "段落文字。" * 5000 + "</p>",
    "<p><a href='/a'>" + "链" * 40000 + "</a></p>",
    "",
]


def _or_error(fn: Callable[[str], str], arg: str) -> str:
    """fn(arg), or the name of what it raised (a raise is behaviour too)."""
    try:
        return fn(arg)
    except Exception as exc:
        return f"raised {type(exc).__name__}"


def _short(text: str) -> str:
    """A long output as its length and digest, so the golden file stays readable."""
    if len(text) <= 2000:
        return text
    return f"{len(text)} chars, blake2b {hashlib.blake2b(text.encode()).hexdigest()[:32]}"


# Filled in by poller.work.prepare after normalise (tests/test_fingerprint.py checks them).
_PREPARED = ("printed", "terms")


def _article(a: Any) -> dict[str, Any]:
    out = dataclasses.asdict(a)
    for name in _PREPARED:
        out.pop(name, None)
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    raise TypeError(type(value))


def _normalised(raw: RawFeed, source: Source, ctx: Context = CONTEXT) -> list[dict[str, Any]]:
    return [_article(a) for a in normalise(raw, source, ctx, NOW)]


def _both_readers(body: bytes, url: str, charset: str | None) -> Iterator[tuple[str, Any]]:
    """(reader, parsed feed or the parse error) for the fast reader and feedparser."""
    for reader, fast in (("fast", True), ("feedparser", False)):
        try:
            yield reader, parse_feed(decode(body, charset), url, fast=fast)
        except ParseError as exc:
            yield reader, f"ParseError: {exc.message}"


def _feed_cases(name: str, body: bytes, url: str, charset: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    source = Source(id=Path(name).stem, url=url, region="linyi", channels=("local",))
    for reader, raw in _both_readers(body, url, charset):
        out[f"{name} [{reader}]"] = raw if isinstance(raw, str) else _normalised(raw, source)
    return out


def _charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def feeds() -> dict[str, Any]:
    """Every document through parse and normalise, keyed by where it came from."""
    from bench.parse import CONTEXT as BENCH_CONTEXT
    from bench.parse import SOURCE as BENCH_SOURCE
    from bench.parse import URL as BENCH_URL
    from bench.parse import make_feed
    from bench.sources import render, shared_stories

    manifest = json.loads((DATA / "feeds" / "manifest.json").read_text(encoding="utf-8"))
    types = {f["file"]: f["content_type"] for f in manifest["files"]}
    out: dict[str, Any] = {}
    for name, url in FEED_URLS.items():
        body = (DATA / "feeds" / name).read_bytes()
        out.update(_feed_cases(f"feeds/{name}", body, url, _charset(types[name])))
    for name, (url, rules) in LISTS.items():
        source = Source(id="list", url=url, region="linyi", type="html", html=rules)
        raw = parse_list_page(
            decode((DATA / "html" / name).read_bytes(), None, html=True), url, rules
        )
        out[f"html/{name}"] = _normalised(raw, source)
    for path in sorted(SAMPLES.iterdir()):
        if path.suffix not in (".xml", ".rdf") and path.name != "feixian-portal.html":
            continue
        body = path.read_bytes().replace(b"{origin}", ORIGIN.encode())
        url = f"{ORIGIN}/{path.name}"
        if path.suffix == ".html":
            source = Source(id="portal", url=url, region="feixian", type="html", html=PORTAL)
            raw = parse_list_page(decode(body, "utf-8", html=True), url, PORTAL)
            out[f"demo/{path.name}"] = _normalised(raw, source)
        else:
            charset = _charset(CHARSETS.get(path.name) or TYPES[path.suffix])
            out.update(_feed_cases(f"demo/{path.name}", body, url, charset))
    for reader, raw in _both_readers(make_feed(50), BENCH_URL, None):
        assert not isinstance(raw, str)
        out[f"bench/parse.py [{reader}]"] = _normalised(raw, BENCH_SOURCE, BENCH_CONTEXT)
    shared = shared_stories()
    for n in (0, 1, 7):
        body = render(n, 30, NOW, shared)
        out.update(
            _feed_cases(f"bench/sources.py render({n})", body, f"http://s{n}.example/", None)
        )
    return out


def articles() -> dict[str, Any]:
    """Article pages through extraction and sanitising (digest_article)."""
    out: dict[str, Any] = {}
    pages = [(DATA / "html" / n, url) for n, url in ARTICLES.items()]
    pages += [(p, f"{ORIGIN}/{p.name}") for p in sorted(SAMPLES.glob("art-*.html"))]
    for path, url in pages:
        body = path.read_bytes().replace(b"{origin}", ORIGIN.encode())
        out[path.name] = dataclasses.asdict(digest_article(ArticleJob(body, url, None)))
    return out


def _raw_strings(
    pick: Callable[[Any], list[str | None]],
) -> list[str]:
    """Strings of every parsed fixture entry that `pick` chooses, in a stable order."""
    found: dict[str, None] = {}
    for name, url in FEED_URLS.items():
        for _, raw in _both_readers((DATA / "feeds" / name).read_bytes(), url, None):
            if not isinstance(raw, str):
                for entry in raw.entries:
                    found.update(dict.fromkeys(s for s in pick(entry) if s))
    return list(found)


def helpers() -> dict[str, Any]:
    """The pure helpers on odd inputs, where fast paths would most likely go wrong."""
    dates = DATES + _raw_strings(lambda e: [e.published_raw, e.updated_raw])
    urls = URLS + _raw_strings(lambda e: [e.link, e.image, *(x.url for x in e.enclosures)])
    out: dict[str, Any] = {"dates": {}, "urls": {}, "markup": {}}
    for zone in ("Asia/Shanghai", "UTC", "America/New_York"):
        tz = ZoneInfo(zone)
        for raw in dates:
            value, precision = parse_date(raw, tz, NOW)
            settled = settle(value, precision, NOW, tz)
            out["dates"][f"{zone} {raw!r}"] = [
                value.isoformat() if value else None,
                precision.value,
                settled[0].isoformat(),
                settled[1].value,
            ]
    for base in BASES:
        for url in urls:
            link = clean_link(url, base)
            out["urls"][f"{base!r} {url!r}"] = [
                absolute(url, base),
                link,
                canonical(link) if link else None,
                _or_error(canonical, url),
                _or_error(strip_tracking, url),
            ]
    for base in BASES[:4]:
        for i, markup in enumerate(MARKUP):
            key = f"{base!r} #{i} {markup[:60]!r}"
            out["markup"][key] = [
                _short(T.sanitize(markup, base)),
                _short(T.sanitize(markup, base, T.MAX_SUMMARY_HTML)),
                _short(T.sanitize(markup, base, 50)),
                _short(T.plain(markup)),
                _short(T.clean_title(markup)),
            ]
    return out


def compute() -> dict[str, Any]:
    result = {"feeds": feeds(), "articles": articles(), "helpers": helpers()}
    # Through JSON and back, so tuples and lists, datetimes and strings compare alike.
    loaded: dict[str, Any] = json.loads(json.dumps(result, default=_jsonable, ensure_ascii=False))
    return loaded


@pytest.fixture(scope="module")
def computed() -> dict[str, Any]:
    return compute()


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("part", ["feeds", "articles", "helpers"])
def test_same_keys(part: str, computed: dict[str, Any], golden: dict[str, Any]) -> None:
    assert list(computed[part]) == list(golden[part])


def test_feeds_have_articles(golden: dict[str, Any]) -> None:
    """The golden file is not vacuous: most documents yield articles."""
    lists = [v for v in golden["feeds"].values() if isinstance(v, list)]
    assert sum(len(v) for v in lists) > 300
    assert sum(1 for v in lists if v) >= 25


@pytest.mark.parametrize("part", ["feeds", "articles", "helpers"])
def test_unchanged(part: str, computed: dict[str, Any], golden: dict[str, Any]) -> None:
    for key, expected in golden[part].items():
        got = computed[part].get(key)
        if isinstance(expected, list) and isinstance(got, list) and len(got) == len(expected):
            for i, (g, e) in enumerate(zip(got, expected, strict=True)):
                assert g == e, f"{part}: {key} [{i}]"
        assert got == expected, f"{part}: {key}"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(__doc__)
    text = json.dumps(compute(), ensure_ascii=False, indent=1, sort_keys=False)
    GOLDEN.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN} ({len(text) / 1024:.0f} KB)")
