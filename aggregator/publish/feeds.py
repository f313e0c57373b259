"""RSS 2.0 and Atom 1.0 through feedgen. PURE: typed items in, UTF-8 XML bytes out.

Each format gets its own FeedGenerator, because feedgen maps one setter onto both formats
in ways that clash with what we put where (RSS carries the also-published footer in its
description, Atom carries related links instead). Every string from a source goes through
`clean` first; feedgen/lxml escape it. The only markup we build by hand is the footer, and
it escapes every value with html.escape.

Two feedgen habits to know: it reads the clock for default `updated` values (we always
set our own), and it switches the process locale to C around each RFC 822 date it formats
(harmless while feeds are rendered on one thread; a reason not to render in a thread pool).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.feed import FeedGenerator
from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs

from aggregator.model import FeedItem, Site
from aggregator.publish.meta import (
    GENERATOR,
    LANGUAGE,
    FeedMeta,
    Titles,
    also_published_footer,
    clean,
    image_type,
    is_web_url,
    other_appearances,
    source_feed_url,
    utc,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"


class _FeedLinks:
    """feedgen feed extension: atom:link rel="hub"/"next" in an RSS channel.

    feedgen writes only the self link into RSS; Atom's feed-level links work without help.
    """

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {}  # feedgen always maps the atom prefix in RSS; Atom's is the default namespace

    def extend_rss(self, rss: Any) -> Any:
        channel = rss[0]
        for rel, href in self.links:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=href, rel=rel)
        return rss

    def extend_atom(self, feed: Any) -> Any:
        return feed


class _EntryLinks:
    """feedgen entry extension: Atom entry links other than the alternate one.

    feedgen 1.0 drops rel, type, title and length from entry links (the loop variable is
    rebound to the new element before its attributes are read), so related and enclosure
    links are written here instead.
    """

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_rss(self, item: Any) -> Any:
        return item

    def extend_atom(self, entry: Any) -> Any:
        for attrs in self.links:
            # feedgen builds Atom without namespaces and sets xmlns as a plain attribute.
            etree.SubElement(entry, "link", attrs)
        return entry


def render_rss(meta: FeedMeta, items: Sequence[FeedItem], site: Site) -> bytes:
    """RSS 2.0 with content:encoded, dc:creator, <source> and RFC 5005 paging."""
    fg = _feed(meta, self_type=RSS_TYPE)
    fg.register_extension("links", _FeedLinks, None, atom=False, rss=True)
    fg.links.links = [
        (rel, clean(url)) for rel, url in (("hub", meta.hub), ("next", meta.next_url)) if url
    ]
    fg.load_extension("dc", atom=False, rss=True)
    titles = Titles(site)
    for item in items:
        fe = fg.add_entry(order="append")
        _common_entry(fe, item, titles, site)
        description = clean(item.summary)
        content = clean(item.content)
        others = other_appearances(item)
        if others:
            # Readers that show content:encoded skip the description: put the footer in both.
            footer = also_published_footer(others)
            description += footer
            content = content + footer if content else ""
        if description:
            fe.description(description, isSummary=True)
        if content:
            fe.content(content)
        if item.author:
            fe.dc.dc_creator(clean(item.author))
        # RSS has room for one enclosure: the first real one, else the image.
        if item.enclosures:
            enc = item.enclosures[0]
            fe.link(
                href=clean(enc.url),
                rel="enclosure",
                type=clean(enc.type or "application/octet-stream"),
                length=str(enc.length or 0),
            )
        elif item.image:
            fe.link(href=clean(item.image), rel="enclosure", type=image_type(item.image))
    return bytes(fg.rss_str(pretty=False))


def render_atom(meta: FeedMeta, items: Sequence[FeedItem], site: Site) -> bytes:
    """Atom 1.0 (RFC 4287) with related links to every other copy and RFC 5005 paging."""
    fg = _feed(meta, self_type=ATOM_TYPE)
    fg.id(clean(meta.feed_id or meta.self_url))
    fg.link(href=clean(meta.html_url), rel="alternate", type="text/html")
    if meta.hub:
        fg.link(href=clean(meta.hub), rel="hub")
    if meta.next_url:
        fg.link(href=clean(meta.next_url), rel="next", type=ATOM_TYPE)
    fg.register_extension("links", _FeedLinks, _EntryLinks, atom=True, rss=False)
    titles = Titles(site)
    for item in items:
        fe = fg.add_entry(order="append")
        _common_entry(fe, item, titles, site)
        fe.updated(utc(item.updated))
        if item.summary:
            fe.summary(clean(item.summary), type="html")
        if item.content:
            fe.content(clean(item.content), type="html")
        if item.author:
            fe.author(name=clean(item.author))
        fe.links.links = _atom_links(item)
    return bytes(fg.atom_str(pretty=False))


def _feed(meta: FeedMeta, *, self_type: str) -> FeedGenerator:
    """Feed-level fields both formats share; feedgen makes the last link added RSS's <link>."""
    fg = FeedGenerator()
    title = clean(meta.title) or GENERATOR  # feedgen refuses an empty title or description
    fg.title(title)
    fg.subtitle(clean(meta.subtitle) or title)
    fg.language(LANGUAGE)
    fg.generator(GENERATOR)
    fg.updated(utc(meta.updated))
    fg.link(href=clean(meta.self_url), rel="self", type=self_type)
    if self_type == RSS_TYPE:
        fg.link(href=clean(meta.html_url), rel="alternate")
    for term in meta.categories:
        fg.category(term=clean(term))
    return fg


def _common_entry(fe: Any, item: FeedItem, titles: Titles, site: Site) -> None:
    """Entry fields that map the same way onto RSS and Atom."""
    # feedgen refuses an empty id or title; the article link is the next-best for both.
    fe.guid(clean(item.guid) or clean(item.link), permalink=False)
    fe.title(clean(item.title) or clean(item.link))
    fe.link(href=clean(item.link), rel="alternate")
    fe.published(utc(item.published))
    tags = titles.tags(item)
    if tags:
        fe.category([{"term": tag} for tag in tags])
    fe.source(
        url=clean(item.source_url or source_feed_url(site, item.source_id)),
        title=clean(item.source_name),
    )


def _atom_links(item: FeedItem) -> list[dict[str, str]]:
    """rel="related" to every other web copy (titled with its source), then enclosures."""
    links = [
        {
            "href": clean(a.link),
            "rel": "related",
            "type": "text/html",
            "title": clean(a.source_name),
        }
        for a in other_appearances(item)
        if is_web_url(a.link)
    ]
    for enc in item.enclosures:
        link = {"href": clean(enc.url), "rel": "enclosure"}
        if enc.type:
            link["type"] = clean(enc.type)
        if enc.length:
            link["length"] = str(enc.length)
        links.append(link)
    if item.image and all(enc.url != item.image for enc in item.enclosures):
        links.append(
            {"href": clean(item.image), "rel": "enclosure", "type": image_type(item.image)}
        )
    return links
