"""What every feed format shares: FeedMeta and the per-item facts derived from Site. PURE."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from aggregator.model import Appearance, FeedItem, Site

LANGUAGE = "zh-CN"
GENERATOR = "aggregator"

# XML 1.0 forbids C0 controls other than tab/LF/CR, lone surrogates and U+FFFE/U+FFFF;
# lxml raises on them, so one stray byte in a source would otherwise break a whole feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Feed-level facts; every URL is already absolute (built from site.base_url by the caller)."""

    title: str
    subtitle: str
    self_url: str
    html_url: str
    updated: datetime
    next_url: str | None = None
    hub: str | None = None
    categories: tuple[str, ...] = ()
    feed_id: str = ""  # Atom id / JSON feed identity; self_url when empty


def clean(text: str) -> str:
    """Drop characters XML 1.0 cannot carry, so untrusted text never makes lxml raise."""
    return _NOT_XML.sub("", text)


def utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive value (a caller's bug) is taken as UTC, not rejected."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def is_web_url(url: str) -> bool:
    """Only http(s) links go into markup we write ourselves (no javascript: in a footer)."""
    return url.startswith(("https://", "http://"))


class Titles:
    """Region and channel titles looked up once per render, not once per item."""

    __slots__ = ("_channels", "_regions")

    def __init__(self, site: Site) -> None:
        self._channels = {c.id: clean(c.title) for c in site.channels}
        self._regions = {r.id: clean(r.title) for r in site.regions.values()}

    def tags(self, item: FeedItem) -> list[str]:
        """Channel titles then the region title, without duplicates; an unknown id stands in."""
        titles = [self._channels.get(c) or clean(c) for c in item.channels]
        titles.append(self._regions.get(item.region) or clean(item.region))
        return [t for t in dict.fromkeys(titles) if t]


def other_appearances(item: FeedItem) -> list[Appearance]:
    """Every copy of the story except the item's own, in stored order (the original first).

    A copy at the same URL still counts: another publisher carried the story.
    """
    if len(item.appearances) < 2:
        return []
    return [a for a in item.appearances if a.source_id != item.source_id]


def also_published_footer(others: list[Appearance]) -> str:
    """The RSS footer naming other publishers; every name and URL is HTML-escaped."""
    parts = []
    for a in others:
        name = html.escape(clean(a.source_name))
        if is_web_url(a.link):
            parts.append(f'<a href="{html.escape(clean(a.link))}">{name}</a>')
        else:
            parts.append(name)
    return '<p class="also">也发表于 / also published by: ' + ", ".join(parts) + "</p>"


def source_feed_url(site: Site, source_id: str) -> str:
    """Our own normalised feed of a source: the fallback when a source has no URL of its own."""
    return f"{site.base_url.rstrip('/')}/feeds/source/{source_id}.rss"


_IMAGE_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "avif": "image/avif",
    "svg": "image/svg+xml",
}


def image_type(url: str) -> str:
    """A MIME type for an image URL from its extension (RSS enclosures need one); JPEG if unsure."""
    path = url.split("?", 1)[0].split("#", 1)[0]
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _IMAGE_TYPES.get(ext, "image/jpeg")
