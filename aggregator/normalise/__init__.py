"""RawFeed → Articles: every cleaning step in order. PURE (`now` is passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aggregator.model import Article, Channel, DatePrecision, Enclosure, RawEntry, RawFeed, Source
from aggregator.normalise import text as T
from aggregator.normalise.channels import classify
from aggregator.normalise.dates import parse_date, settle
from aggregator.normalise.identity import digest, entry_key, shared_values
from aggregator.normalise.urls import absolute, canonical, clean_link


@dataclass(frozen=True, slots=True)
class Context:
    """What normalising needs from the site: small, so it is cheap to send to a worker."""

    timezone: str
    channels: tuple[Channel, ...] = ()


def normalise(raw: RawFeed, source: Source, ctx: Context, now: datetime) -> list[Article]:
    """Clean every entry of a parsed document; entries with nothing to show are dropped."""
    tz = ZoneInfo(ctx.timezone)
    fallback_link = clean_link(raw.link, source.url) or source.url
    bases = [e.base or source.url for e in raw.entries]
    links = [clean_link(e.link, b) for e, b in zip(raw.entries, bases, strict=True)]
    canon = [canonical(x) if x else None for x in links]
    bad_guids = shared_values(e.guid for e in raw.entries)
    bad_links = shared_values(canon)
    out: list[Article] = []
    seen: set[str] = set()
    for entry, base, link, canon_link in zip(raw.entries, bases, links, canon, strict=True):
        article = _article(
            entry,
            base,
            link,
            None if canon_link in bad_links else canon_link,
            None if entry.guid in bad_guids else entry.guid,
            fallback_link,
            source,
            ctx,
            tz,
            now,
        )
        if article is not None and article.key not in seen:
            seen.add(article.key)
            out.append(article)
    return out


def _article(
    entry: RawEntry,
    base: str,
    link: str | None,
    canon_link: str | None,
    guid: str | None,
    fallback_link: str,
    source: Source,
    ctx: Context,
    tz: ZoneInfo,
    now: datetime,
) -> Article | None:
    summary = T.sanitize(entry.summary, base, T.MAX_SUMMARY_HTML)
    content = T.sanitize(entry.content, base)
    if content == summary:
        content = ""
    body_text = T.plain(content or summary)
    title = T.clean_title(entry.title) or T.excerpt(body_text, 60)
    if not title:
        return None
    if not summary and content:
        summary = T.escape(T.excerpt(body_text))
    published, precision = parse_date(entry.published_raw or entry.updated_raw, tz, now)
    published, precision = settle(published, precision, now, tz)
    categories = tuple(dict.fromkeys(c[:100] for c in entry.categories))[:20]
    # Without content, body_text already is the summary's text: don't strip it twice.
    summary_text = T.plain(summary) if content else body_text
    channels = classify(title, categories, source.channels, ctx.channels, summary_text)
    author = T.clean_title(entry.author)[:200] or None
    final_link = link or fallback_link
    key = entry_key(
        guid, canon_link, f"{title}\x1f{body_text[:500]}\x1f{entry.published_raw or ''}"
    )
    return Article(
        source_id=source.id,
        key=key,
        link=final_link,
        title=title,
        summary=summary,
        content=content,
        author=author,
        categories=categories,
        published=published,
        precision=precision,
        channels=tuple(channels),
        channel_rules=tuple(channels.items()),
        content_hash=content_hash(
            title, final_link, summary, content, author, categories, published, precision
        ),
        guid=entry.guid,
        canonical_link=canon_link or "",  # empty: no link of its own, or one shared by all
        origin=T.find_origin(summary_text or body_text),
        image=absolute(entry.image, base),
        enclosures=tuple(
            Enclosure(url, e.type, e.length)
            for e in entry.enclosures
            if (url := absolute(e.url, base)) is not None
        )[:10],
        text=body_text[:20000],
        published_raw=entry.published_raw or entry.updated_raw,
    )


def content_hash(
    title: str,
    link: str,
    summary: str,
    content: str,
    author: str | None,
    categories: tuple[str, ...],
    published: datetime,
    precision: DatePrecision,
) -> str:
    """Changes when anything a reader sees changes; a time only counts when it is exact
    (a date-only or first-seen time moves between polls)."""
    dated = published.isoformat() if precision is DatePrecision.DATETIME else ""
    return digest(title, link, summary, content, author, "\x1e".join(categories), dated)
