"""Untrusted markup → safe HTML and plain text. PURE.

Everything from a source is hostile until cleaned here: nh3 keeps a small set of
tags, drops scripts, event attributes, iframes and non-http(s) URLs, and relative
links are made absolute so they still work inside a reader.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

import nh3

from aggregator.normalise.urls import absolute
from aggregator.parse.article import ORIGIN_LINE

MAX_TITLE = 500
MAX_SUMMARY_HTML = 64 * 1024
MAX_CONTENT_HTML = 1024 * 1024
SUMMARY_CHARS = 240  # excerpt length when a source gives only a body

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
    "video",
    "audio",
    "source",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "time": {"datetime"},
    "abbr": {"title"},
}
_URL_ATTRS = {"href", "src", "poster"}
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "svg",
    "math",
    "form",
    "button",
    "select",
    "textarea",
}
# The "<" of a block tag (the name is only looked ahead at): a literal replacement runs
# in C, where one naming the match calls back into Python once per tag.
_BLOCK = re.compile(r"<(?=/?(?:p|div|br|li|tr|h[1-6]|blockquote|section|article|table)\b)", re.I)
_WS = re.compile(r"[ \t\r\f\v\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _url_filter(base: str | None) -> Callable[[str, str, str], str | None]:
    def keep(tag: str, attr: str, value: str) -> str | None:
        if attr in _URL_ATTRS:
            return absolute(value, base)
        return value

    return keep


def sanitize(markup: str | None, base: str | None, limit: int = MAX_CONTENT_HTML) -> str:
    """Safe HTML for readers, with links made absolute against `base`."""
    if not markup:
        return ""
    markup = _XML_ILLEGAL.sub("", markup[: limit * 2])
    cleaned = _clean(markup, base)
    whole, cut = cleaned, limit
    while len(cleaned) > limit:
        # A cut can end inside a tag or an attribute: clean the cut text again, so every
        # tag is closed and no half-written attribute swallows the markup that follows.
        cleaned = _clean(whole[: max(cut, 0)], base)
        cut -= len(cleaned) - limit
    return cleaned


def _clean(markup: str, base: str | None) -> str:
    return _cleaner(base).clean(markup).strip()


@lru_cache(maxsize=256)
def _cleaner(base: str | None) -> nh3.Cleaner:
    """The sanitiser for one base. nh3.clean() builds its whole configuration on every
    call (about two thirds of its cost); a Cleaner is built once and reused. The URL
    filter depends on the base, and a feed's entries nearly always share one."""
    return nh3.Cleaner(
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        clean_content_tags=_DROP_WITH_CONTENT,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_url_filter(base),
        strip_comments=True,
    )


# Text only: every tag goes, and with these their content too. Built once, as above.
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags=_DROP_WITH_CONTENT | {"head", "title"})


def plain(markup: str | None) -> str:
    """Text of an HTML fragment: tags gone, entities decoded, whitespace collapsed."""
    if not markup:
        return ""
    markup = _XML_ILLEGAL.sub("", markup)
    if "<" in markup:
        markup = _BLOCK.sub("\n<", markup)
        markup = _TEXT_ONLY.clean(markup)
    text = html.unescape(markup) if "&" in markup else markup
    text = _WS.sub(" ", text)
    return _BLANK_LINES.sub("\n", text).strip()


def clean_title(title: str | None) -> str:
    """A title as one line of plain text."""
    text = plain(title).replace("\n", " ")
    return text[:MAX_TITLE]


def excerpt(text: str, chars: int = SUMMARY_CHARS) -> str:
    """The start of a text, cut at a sentence end where one is near (CJK-aware)."""
    text = text.replace("\n", " ").strip()
    if len(text) <= chars:
        return text
    cut = text[:chars]
    for stop in ("。", "！", "？", ". ", "；"):
        at = cut.rfind(stop)
        if at >= chars // 2:
            return cut[: at + len(stop)].strip()
    return cut.rstrip() + "…"


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def find_origin(text: str) -> str | None:
    """The publisher named by a 来源 line near the start of a text."""
    m = ORIGIN_LINE.search(text[:400])
    return m.group(1) if m else None


_PUBLISHER_NOISE = re.compile(r"[\W_]+")
_PUBLISHER_SUFFIX = re.compile(
    r"(?:报业集团|社|编辑部|融媒体中心|新闻中心|客户端|官方网站|官网|网站|网|"
    r"微信公众号|公众号|微信|微博|头条号|app)$"
)
MIN_PUBLISHER_CHARS = 4  # a shorter name (临沂) is part of too many others


def publisher_key(name: str) -> str:
    """A publisher's name without width, case, punctuation or a trailing 社/网/客户端 …"""
    key = _PUBLISHER_NOISE.sub("", unicodedata.normalize("NFKC", name)).casefold()
    while (shorter := _PUBLISHER_SUFFIX.sub("", key)) != key and shorter:
        key = shorter
    return key


def same_publisher(origin: str | None, name: str | None) -> bool:
    """Whether a 来源 line names this publisher: 临沂日报社 is 临沂日报, 大众日报客户端 is
    大众日报, 费县新闻网 is 费县新闻; 临沂日报 is not 临沂晚报, and 临沂 names nobody."""
    if not origin or not name:
        return False
    a, b = publisher_key(origin), publisher_key(name)
    if not a or not b:
        return False
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return a == b or (len(shorter) >= MIN_PUBLISHER_CHARS and shorter in longer)
