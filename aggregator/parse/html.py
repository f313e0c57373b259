"""A list page of headlines → RawFeed, by the CSS selectors in feeds.yaml. PURE.

`selector@attr` reads an attribute instead of the text (config.schema.split_selector
splits it, the same way `check` does). Links stay as written: normalise resolves them against the
page (or its `<base href>`).
"""

from __future__ import annotations

from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from aggregator.config.schema import split_selector
from aggregator.errors import ParseError
from aggregator.model import HtmlRules, RawEntry, RawFeed
from aggregator.parse.encoding import Decoded

MAX_ITEMS = 500


def _pick(
    node: LexborNode, rule: str | None, default_attr: str | None = None, *, html: bool = False
) -> str | None:
    if not rule:
        return None
    sel, attr = split_selector(rule)
    attr = attr or default_attr
    target = node.css_first(sel)
    if target is None:
        return None
    if attr:
        value = target.attributes.get(attr)
        return value.strip() if value else None
    if html:
        return target.html
    text = target.text(separator=" ", strip=True)
    return text or None


def read_page(doc: Decoded, url: str) -> tuple[LexborHTMLParser, str]:
    """The parsed page and the URL its relative links resolve against (`<base href>`)."""
    if not doc.text.strip():
        raise ParseError("empty page")
    tree = LexborHTMLParser(doc.text)
    base_tag = tree.css_first("base[href]")
    href = (base_tag.attributes.get("href") or "").strip() if base_tag is not None else ""
    return tree, urljoin(url, href) if href else url


def parse_list_page(doc: Decoded, url: str, rules: HtmlRules) -> RawFeed:
    """Every item the `item` selector finds, with title, link and the optional fields."""
    tree, base = read_page(doc, url)
    title_node = tree.css_first("title")
    entries: list[RawEntry] = []
    items = tree.css(rules.item)
    for node in items[:MAX_ITEMS]:
        link = _pick(node, rules.link, "href")
        title = _full_title(node, rules.title)
        if not title and not link:
            continue
        entries.append(
            RawEntry(
                link=link,
                title=_escape(title),
                summary=_pick(node, rules.summary, html=True),
                author=_pick(node, rules.author),
                published_raw=_pick(node, rules.date),
                image=_pick(node, rules.image, "src"),
                base=base,
            )
        )
    warnings = [f"encoding: {doc.note}"] if doc.suspect else []
    if items and not entries:
        warnings.append(
            f"{len(items)} elements matched the item selector, but none had a title or link"
        )
    return RawFeed(
        parser="html",
        format="html",
        title=title_node.text(strip=True) if title_node is not None else None,
        link=url,
        entries=tuple(entries),
        warnings=tuple(warnings),
        encoding=doc.encoding,
    )


def _full_title(node: LexborNode, rule: str) -> str | None:
    """The title's text, or its `title` attribute when the text is cut short with …"""
    text = _pick(node, rule)
    sel, attr = split_selector(rule)
    if attr or text is None or not text.rstrip().endswith(("…", "...", "..")):
        return text
    target = node.css_first(sel)
    full = (target.attributes.get("title") or "").strip() if target is not None else ""
    stem = text.rstrip().rstrip(".…").rstrip()
    return full if full.startswith(stem) and len(full) > len(stem) else text


def _escape(text: str | None) -> str | None:
    if text is None:
        return None
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
