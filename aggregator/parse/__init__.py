"""Bytes → RawFeed, dispatched on the source's type. PURE."""

from __future__ import annotations

from aggregator.errors import ParseError
from aggregator.model import RawFeed, Source
from aggregator.parse.encoding import decode
from aggregator.parse.feed import parse_feed
from aggregator.parse.html import parse_list_page


def parse_document(body: bytes, url: str, source: Source, charset: str | None = None) -> RawFeed:
    """Read a fetched document the way its source is configured."""
    if source.type == "html":
        if source.html is None:
            raise ParseError("html source without selectors")
        return parse_list_page(decode(body, charset, html=True), url, source.html)
    return parse_feed(decode(body, charset), url)
