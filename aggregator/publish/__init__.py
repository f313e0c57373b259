"""⑥ Publish: typed feed items in, feed bytes out. PURE: no I/O, no clock (`now` is passed in).

- query.parse_query: request parameters → FeedQuery, or BadParameter (a 400)
- feeds.render_rss / render_atom: RSS 2.0 / Atom 1.0
- jsonfeed.render_json: JSON Feed 1.1
- opml.render_opml / parse_opml: OPML 2.0 out and in
"""

from __future__ import annotations

from aggregator.publish.feeds import render_atom, render_rss
from aggregator.publish.jsonfeed import render_json
from aggregator.publish.meta import FeedMeta
from aggregator.publish.opml import OpmlFeed, parse_opml, render_opml
from aggregator.publish.query import decode_cursor, encode_cursor, next_page_url, parse_query

__all__ = [
    "FeedMeta",
    "OpmlFeed",
    "decode_cursor",
    "encode_cursor",
    "next_page_url",
    "parse_opml",
    "parse_query",
    "render_atom",
    "render_json",
    "render_opml",
    "render_rss",
]
