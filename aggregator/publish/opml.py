"""OPML 2.0 out (every feed we publish) and in (a feed reader's export). PURE.

Reading is hardened because an OPML file comes from anywhere: no DTD, no entities, no
network, no huge trees, and a declared encoding is honoured (GBK exports are common).
"""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]  # no stubs

from aggregator.errors import ParseError
from aggregator.model import Site
from aggregator.publish.meta import clean, utc

FORMATS = (("rss", "RSS"), ("atom", "Atom"), ("json", "JSON Feed"))
CHANNELS_TEXT = "频道 / Channels"
SOURCES_TEXT = "来源 / Sources"

_DECLARED = re.compile(
    rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["'][^>]*\?>"""
)
_BARE_AMPERSAND = re.compile(r"&(?!(?:[A-Za-z_][\w.-]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")
_PARSER_OPTIONS: dict[str, Any] = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_pis": True,
    "remove_comments": True,
}


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One subscription in an OPML file; `category` is its folder path, outermost first."""

    title: str | None
    xml_url: str
    html_url: str | None = None
    category: tuple[str, ...] = ()


# ---------------------------------------------------------------- export


def render_opml(site: Site, base_url: str, now: datetime) -> bytes:
    """Every feed of the site: the region tree (each with its channel feeds), channels, sources."""
    base = base_url.rstrip("/")
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = clean(site.title)
    etree.SubElement(head, "dateCreated").text = format_datetime(utc(now), usegmt=True)
    etree.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
    body = etree.SubElement(root, "body")

    for region in site.roots:
        _region_outline(body, site, base, region.id)

    channels = _folder(body, CHANNELS_TEXT)
    for channel in site.channels:
        _feed_outlines(
            channels,
            clean(channel.title),
            f"{base}/feeds/channel/{channel.id}",
            f"{base}/channel/{channel.id}",
        )

    sources = _folder(body, SOURCES_TEXT)
    for source in site.sources.values():
        outline = etree.SubElement(
            sources,
            "outline",
            text=clean(source.name),
            title=clean(source.name),
            type="rss",
            xmlUrl=f"{base}/feeds/source/{source.id}.rss",
            originalUrl=clean(source.url),
        )
        if source.type == "html":  # the original is a web page, not a feed
            outline.set("htmlUrl", clean(source.url))

    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def _region_outline(parent: Any, site: Site, base: str, region_id: str) -> None:
    """A region folder: its own feeds, its feed per channel, then its child regions."""
    region = site.regions[region_id]
    title = clean(region.title)
    folder = _folder(parent, title)
    html_url = f"{base}/region/{region.id}"
    _feed_outlines(folder, title, f"{base}/feeds/region/{region.id}", html_url)
    for channel in site.channels:
        _feed_outlines(
            folder,
            f"{title} · {clean(channel.title)}",
            f"{base}/feeds/region/{region.id}/{channel.id}",
            html_url,
        )
    for child in region.children:
        _region_outline(folder, site, base, child)


def _feed_outlines(parent: Any, title: str, path: str, html_url: str) -> None:
    for ext, label in FORMATS:
        text = f"{title} · {label}"
        etree.SubElement(
            parent,
            "outline",
            text=text,
            title=text,
            type="rss",
            xmlUrl=f"{path}.{ext}",
            htmlUrl=html_url,
        )


def _folder(parent: Any, text: str) -> Any:
    return etree.SubElement(parent, "outline", text=text, title=text)


# ---------------------------------------------------------------- import


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """Every feed in an OPML export, in document order, each URL once.

    Folders nest to any depth; attribute names are matched in any case (`xmlURL`,
    `XMLURL`); a title falls back from `title` to `text`, else None. Only http(s)
    feeds are kept (`feed://` is read as http). Raises ParseError when the bytes are
    not XML, have no <body> or declare entities (XXE and entity bombs are refused).
    """
    root = _parse_xml(data)
    body = next((el for el in root.iter() if _name(el) == "body"), None)
    if body is None:
        raise ParseError("opml: no <body> element")
    seen: set[str] = set()
    out: list[OpmlFeed] = []
    for feed in _walk(body, ()):
        if feed.xml_url not in seen:
            seen.add(feed.xml_url)
            out.append(feed)
    return out


def _walk(parent: Any, path: tuple[str, ...]) -> Iterator[OpmlFeed]:
    for el in parent:
        if _name(el) != "outline":
            continue
        attrs = {str(k).lower(): str(v).strip() for k, v in el.attrib.items()}
        title = attrs.get("title") or attrs.get("text") or None
        xml_url = _feed_url(attrs.get("xmlurl", ""))
        if xml_url:
            yield OpmlFeed(title, xml_url, attrs.get("htmlurl") or None, path)
        yield from _walk(el, (*path, title) if title else path)


def _feed_url(url: str) -> str:
    lowered = url.lower()
    if lowered.startswith("feed:"):
        rest = url[5:]
        url = rest if rest.lower().startswith(("http:", "https:")) else "http:" + rest
        lowered = url.lower()
    return url if lowered.startswith(("http://", "https://")) else ""


def _name(el: Any) -> str:
    """Lower-cased local name; '' for comments and other non-elements."""
    tag = el.tag
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _parse_xml(data: bytes) -> Any:
    """Strict parse; else repair what exports commonly get wrong and retry; recover last.

    The repairs: an encoding libxml2 lacks is decoded by Python's codecs, and a bare `&`
    (unescaped in a URL, the most common fault) is escaped rather than dropped, which
    recovery alone would do, silently changing the URL.
    """
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        first = exc
        text = _BARE_AMPERSAND.sub("&amp;", _decode(data))
        for recover in (False, True):
            with contextlib.suppress(etree.XMLSyntaxError):
                root = etree.fromstring(text, etree.XMLParser(recover=recover, **_PARSER_OPTIONS))
                if root is not None:
                    break
        else:
            raise ParseError(f"opml: not well-formed XML: {first}") from None
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.entities()):
        # Nothing was fetched or expanded past libxml2's limits, but no honest export
        # declares entities: refuse rather than guess what the file meant.
        raise ParseError("opml: entity declarations are not allowed")
    return root


def _decode(data: bytes) -> str:
    """The document as str with its XML declaration removed (lxml refuses str with one)."""
    match = _DECLARED.match(data)
    encoding = "utf-8"
    if match:
        with contextlib.suppress(LookupError):  # unknown to Python too: read it as UTF-8
            encoding = codecs.lookup(match[1].decode("ascii")).name
        data = data[match.end() :]
    return data.decode(encoding, errors="replace").lstrip("\ufeff")
