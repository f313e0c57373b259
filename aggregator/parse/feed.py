"""feedparser → RawFeed: the one place feedparser's quirks stop. PURE.

Encoding is decided before feedparser sees the bytes (see parse.encoding), and dates
are handed on as the raw strings: feedparser reads zone-less times as UTC and invents
fields for formats it does not know, so normalise.dates reads them instead.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import feedparser

from aggregator.errors import ParseError
from aggregator.model import Enclosure, PollStatus, RawEntry, RawFeed
from aggregator.parse.encoding import Decoded
from aggregator.parse.fast import read as fast_read

_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_HTML_START = re.compile(r"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<body)", re.I | re.S)

_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.I | re.S)
_ENTITY = re.compile(r"<!ENTITY\s+(%\s+)?[^\s>]+\s+(SYSTEM|PUBLIC|\"[^\"]*\"|'[^']*')", re.I)
_NAMED_REF = re.compile(r"&[A-Za-z_][\w.-]*;|%[A-Za-z_][\w.-]*;")
_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")

_PERIODS = {
    "hourly": timedelta(hours=1),
    "daily": timedelta(days=1),
    "weekly": timedelta(weeks=1),
    "monthly": timedelta(days=30),
    "yearly": timedelta(days=365),
}


def dangerous_entities(text: str) -> str | None:
    """Why a document's DTD is refused, or None: external entities (XXE), entities built
    from other entities (billion laughs), or too many of them. Plain ones such as
    `<!ENTITY nbsp "&#160;">` are left to feedparser, which never fetches anything."""
    m = _DOCTYPE_SUBSET.search(text[:65536])
    if not m:
        return None
    decls = _ENTITY.findall(m.group(1))
    if len(decls) > 64:
        return "the document declares too many XML entities"
    for _param, value in decls:
        if value.upper() in ("SYSTEM", "PUBLIC"):
            return "the document declares an external XML entity (XXE)"
        if _NAMED_REF.search(value):
            return "the document declares nested XML entities (entity expansion attack)"
    return None


def looks_like_html(text: str) -> bool:
    return bool(_HTML_START.match(text[:4096]))


def feed_bytes(doc: Decoded) -> bytes:
    """The document as both readers get it: UTF-8, declared so; refused first when its
    DTD is dangerous."""
    refusal = dangerous_entities(doc.text)
    if refusal:
        raise ParseError(f"refused: {refusal}")
    return _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", doc.text, count=1).encode("utf-8")


def parse_feed(doc: Decoded, url: str, *, fast: bool = True) -> RawFeed:
    """Read RSS 0.9x/1.0/2.0 or Atom text; raise ParseError when nothing can be read.

    Well-formed documents of the usual shapes are read by parse.fast (lxml), the rest by
    feedparser; both give the same entries (`fast=False` forces feedparser, for tests)."""
    data = feed_bytes(doc)
    warnings: list[str] = []
    if doc.suspect:
        warnings.append(f"encoding: {doc.note}")
    read: tuple[str, Any, list[Any]] | None = None
    if fast:
        try:
            read = fast_read(data, url)
        except Exception:  # Unsupported, or a bug there: feedparser reads it as before
            read = None
    if read is not None:
        version, feed, raw_entries = read
        parser = "lxml"
    else:
        version, feed, raw_entries = _feedparser(data, url, doc, warnings)
        parser = "feedparser"
    if not version and not raw_entries:
        if looks_like_html(doc.text):
            raise ParseError("not a feed: the URL answered an HTML page")
        if not doc.text.strip():
            raise ParseError("empty document", PollStatus.EMPTY)
        raise ParseError("not a feed: no RSS or Atom element found")

    entries: list[RawEntry] = []
    for raw in raw_entries:
        try:
            entries.append(_entry(raw))
        except Exception as exc:  # one odd entry must not cost the others
            warnings.append(f"entry skipped: {_describe(exc)}")
    return RawFeed(
        format=version or "unknown",
        title=_clean_str(feed.get("title")),
        link=feed.get("link"),
        entries=tuple(entries),
        ttl_minutes=_int(feed.get("ttl")),
        update_period=_update_period(feed),
        warnings=tuple(warnings),
        encoding=doc.encoding,
        parser=parser,
    )


def _feedparser(
    data: bytes, url: str, doc: Decoded, warnings: list[str]
) -> tuple[str, Any, list[Any]]:
    result = feedparser.parse(
        io.BytesIO(data),
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": url,
        },
        sanitize_html=False,  # nh3 sanitises in normalise.text, faster and stricter
        resolve_relative_uris=True,
    )
    version: str = result.get("version") or ""
    raw_entries = result.get("entries") or []
    if result.get("bozo"):
        exc = result.get("bozo_exception")
        if not raw_entries and not version:
            if looks_like_html(doc.text):
                raise ParseError("not a feed: the URL answered an HTML page")
            raise ParseError(f"not a feed: {_describe(exc)}")
        warnings.append(f"ill-formed XML, read leniently: {_describe(exc)}")
    return version, result.get("feed") or {}, raw_entries


def _entry(e: Any) -> RawEntry:
    title = e.get("title")
    if title is not None and (e.get("title_detail") or {}).get("type") == "text/plain":
        # Plain-text titles are already unescaped; protect them from tag stripping later.
        title = _escape_text(title)
    content = ""
    for part in e.get("content") or []:
        if part.get("value") and (part.get("type") or "text/html") in _HTML_TYPES:
            content = part["value"]
            break
        if part.get("value") and not content:
            content = _escape_text(part["value"])
    summary = e.get("summary")
    if summary and (e.get("summary_detail") or {}).get("type") == "text/plain":
        summary = _escape_text(summary)
    enclosures = tuple(
        Enclosure(str(enc["href"]), enc.get("type") or None, _int(enc.get("length")))
        for enc in e.get("enclosures") or []
        if enc.get("href")
    )
    image = None
    for media in (e.get("media_content") or []) + (e.get("media_thumbnail") or []):
        kind = media.get("medium") or (media.get("type") or "image/").split("/")[0]
        if media.get("url") and kind == "image":
            image = media["url"]
            break
    if image is None:
        image = next((x.url for x in enclosures if (x.type or "").startswith("image/")), None)
    published = e.get("published") or e.get("created")
    updated = e.get("updated")  # also where feedparser puts dc:date
    return RawEntry(
        guid=_clean_str(e.get("id")),
        link=_clean_str(e.get("link")),
        title=title,
        summary=summary,
        content=content or None,
        author=_clean_str(e.get("author")),
        categories=tuple(
            t["term"].strip() for t in e.get("tags") or [] if t.get("term") and t["term"].strip()
        ),
        published_raw=_clean_str(published),
        updated_raw=_clean_str(updated),
        enclosures=enclosures,
        image=image,
        base=(e.get("title_detail") or {}).get("base")
        or (e.get("summary_detail") or {}).get("base"),
    )


def _escape_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clean_str(v: Any) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _int(v: Any) -> int | None:
    try:
        return int(str(v).strip())
    except (TypeError, ValueError):
        return None


def _update_period(feed: Any) -> timedelta | None:
    period = _PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period is None:
        return None
    freq = _int(feed.get("sy_updatefrequency")) or 1
    return period / max(freq, 1)


def _describe(exc: object) -> str:
    if exc is None:
        return "unknown problem"
    text = str(exc).strip() or type(exc).__name__
    return text[:300]
