"""A list entry plus what its article page gave → the article to store. PURE.

The list wins where it says something; the page fills what the list lacks: the body,
the author, the 来源 publisher, and the date (or the time of day when the list gives only
the day). The same merge runs on every poll with the stored page, so a re-polled entry
hashes the same as the stored one and is not seen as edited.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

from aggregator.model import Article, DatePrecision, FullText
from aggregator.normalise import content_hash
from aggregator.normalise import text as T
from aggregator.normalise.dates import parse_date, settle

MAX_TEXT = 20000


def enrich(article: Article, page: FullText | None, tz: tzinfo, now: datetime) -> Article:
    """The article with its page's body and facts; unchanged when the page failed."""
    if page is None or not page.ok:
        return article
    content, text = article.content, article.text
    if page.body and len(page.text) > len(T.plain(article.content)):
        content, text = page.body, page.text[:MAX_TEXT]
    summary = article.summary or T.escape(T.excerpt(page.text))
    author = article.author or (page.author[:200] if page.author else None)
    published, precision = _date(article, page, tz, now)
    return replace(
        article,
        content=content,
        text=text,
        summary=summary,
        author=author,
        origin=article.origin or page.origin,
        published=published,
        precision=precision,
        page_canonical=page.canonical,
        printed=None,  # the text may have changed: the store fingerprints it again
        terms=None,
        content_hash=content_hash(
            article.title,
            article.link,
            summary,
            content,
            author,
            article.categories,
            published,
            precision,
        ),
    )


def _date(
    article: Article, page: FullText, tz: tzinfo, now: datetime
) -> tuple[datetime, DatePrecision]:
    """The page's date when the list gave none, or its time when the list gave the day."""
    if article.precision is DatePrecision.DATETIME or not page.published_raw:
        return article.published, article.precision
    value, precision = parse_date(page.published_raw, tz, now)
    if value is None:
        return article.published, article.precision
    if article.precision is DatePrecision.DATE:
        same_day = value.astimezone(tz).date() == article.published.astimezone(tz).date()
        if precision is not DatePrecision.DATETIME or not same_day:
            return article.published, article.precision
    return settle(value, precision, now, tz)


def apply_pages(
    articles: tuple[Article, ...], pages: dict[str, FullText], tz: tzinfo, now: datetime
) -> tuple[Article, ...]:
    """Every article merged with its stored page, where there is one."""
    return tuple(enrich(a, pages.get(a.key), tz, now) for a in articles)
