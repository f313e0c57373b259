"""Both feed readers on one document: do they give the same articles? Used by
tests/test_parse_fast.py and scripts/parse_diff.py (which runs it over a corpus)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aggregator.errors import ParseError
from aggregator.model import Article, Channel, RawFeed, Source
from aggregator.normalise import Context, normalise
from aggregator.parse.encoding import decode
from aggregator.parse.fast import Unsupported, read
from aggregator.parse.feed import feed_bytes, parse_feed

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CONTEXT = Context(
    "Asia/Shanghai",
    (
        Channel("farm", "三农", keywords=("山楂",), categories=("三农",)),
        Channel("gov", "政务", keywords=("会议",)),
    ),
)


@dataclass(frozen=True, slots=True)
class Verdict:
    accepted: bool  # the fast reader read it (else feedparser did)
    difference: str = ""  # empty when both readers agree


def _run(body: bytes, url: str, charset: str | None, fast: bool) -> RawFeed | str:
    try:
        return parse_feed(decode(body, charset), url, fast=fast)
    except ParseError as exc:
        return f"ParseError({exc.message})"


def _articles(raw: RawFeed, url: str) -> list[Article]:
    return normalise(raw, Source(id="s", url=url, region="r"), CONTEXT, NOW)


def compare(body: bytes, url: str, charset: str | None = None) -> Verdict:
    """Read `body` with feedparser alone and with the fast reader first."""
    try:  # parse_feed hides a crash of the fast reader behind feedparser: show it here
        read(feed_bytes(decode(body, charset)), url)
    except (Unsupported, ParseError):
        pass
    except Exception as exc:
        return Verdict(False, f"the fast reader crashed: {exc!r}")
    slow = _run(body, url, charset, fast=False)
    quick = _run(body, url, charset, fast=True)
    if isinstance(quick, str) or quick.parser != "lxml":
        return Verdict(False, "" if quick == slow or not isinstance(quick, str) else quick)
    if isinstance(slow, str):
        return Verdict(True, f"feedparser failed: {slow}")
    for field in ("title", "link", "ttl_minutes", "update_period", "warnings", "encoding"):
        a, b = getattr(slow, field), getattr(quick, field)
        if a != b:
            return Verdict(True, f"feed {field}: feedparser {a!r} fast {b!r}")
    if len(slow.entries) != len(quick.entries):
        return Verdict(True, f"entries: feedparser {len(slow.entries)} fast {len(quick.entries)}")
    a_articles, b_articles = _articles(slow, url), _articles(quick, url)
    if len(a_articles) != len(b_articles):
        return Verdict(True, f"articles: feedparser {len(a_articles)} fast {len(b_articles)}")
    for i, (a, b) in enumerate(zip(a_articles, b_articles, strict=True)):
        if a != b:
            diff = [
                f"{f}: feedparser {getattr(a, f)!r} fast {getattr(b, f)!r}"
                for f in a.__slots__
                if getattr(a, f) != getattr(b, f)
            ]
            return Verdict(True, f"article {i}: " + "; ".join(diff))
    return Verdict(True)
