"""JSON Feed 1.1 (https://jsonfeed.org/version/1.1) with orjson. PURE.

Items carry an `_aggregator` extension object (JSON Feed's rule: keys starting with an
underscore are extensions readers ignore) with the ids behind the titles and every
appearance of a syndicated story, for programs that want more than a reader shows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import orjson

from aggregator.model import FeedItem, Site
from aggregator.publish.meta import LANGUAGE, FeedMeta, Titles, clean, utc

VERSION = "https://jsonfeed.org/version/1.1"
SUMMARY_CHARS = 200

# Block-level tags separate words; inline ones must vanish without a space, or CJK text
# like 临<b>沂</b> would read "临 沂".
_BLOCK_TAG = re.compile(
    r"<(?:br|hr|/?(?:p|div|li|ul|ol|h[1-6]|tr|td|th|blockquote|figure))\b[^>]*>", re.I
)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def render_json(meta: FeedMeta, items: Sequence[FeedItem], site: Site) -> bytes:
    """The feed as UTF-8 JSON; dates are RFC 3339 in UTC with a Z."""
    feed: dict[str, Any] = {
        "version": VERSION,
        "title": clean(meta.title),
        "home_page_url": meta.html_url,
        "feed_url": meta.self_url,
        "description": clean(meta.subtitle),
        "language": LANGUAGE,
    }
    if meta.next_url:
        feed["next_url"] = meta.next_url
    if meta.hub:
        feed["hubs"] = [{"type": "WebSub", "url": meta.hub}]
    titles = Titles(site)
    feed["items"] = [_item(item, titles) for item in items]
    return orjson.dumps(feed, option=orjson.OPT_UTC_Z)


def _item(item: FeedItem, titles: Titles) -> dict[str, Any]:
    """One JSON Feed item; optional members are left out rather than set to null."""
    out: dict[str, Any] = {
        "id": clean(item.guid) or item.link,  # the same fallback as RSS and Atom
        "url": item.link,
        "title": clean(item.title),
        "content_html": clean(item.content or item.summary),
    }
    summary = plain_summary(item.summary)
    if summary:
        out["summary"] = summary
    out["date_published"] = utc(item.published)
    out["date_modified"] = utc(item.updated)
    if item.author:
        out["authors"] = [{"name": clean(item.author)}]
    tags = titles.tags(item)
    if tags:
        out["tags"] = tags
    if item.image:
        out["image"] = item.image
    if item.enclosures:
        attachments = []
        for enc in item.enclosures:
            attachment: dict[str, Any] = {
                "url": enc.url,
                "mime_type": enc.type or "application/octet-stream",
            }
            if enc.length:
                attachment["size_in_bytes"] = enc.length
            attachments.append(attachment)
        out["attachments"] = attachments
    out["_aggregator"] = {
        "source": {"id": item.source_id, "name": clean(item.source_name), "url": item.source_url},
        "region": item.region,
        "channels": list(item.channels),
        "appearances": [
            {
                "source": a.source_id,
                "name": clean(a.source_name),
                "region": a.region,
                "url": a.link,
                "date_published": utc(a.published),
            }
            for a in item.appearances
        ],
        "origin": clean(item.origin) if item.origin else None,
    }
    return out


def plain_summary(summary_html: str, limit: int = SUMMARY_CHARS) -> str:
    """Plain text of sanitised summary HTML, cut at `limit` characters with an ellipsis."""
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", summary_html))
    text = _SPACE.sub(" ", html.unescape(text)).strip()
    text = clean(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
