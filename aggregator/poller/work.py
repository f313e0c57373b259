"""The CPU part of a poll, run in a worker process: bytes → parsed → normalised. PURE.

Two kinds of job: a source's document (`Job` → `Outcome`) and, for `fulltext: true`
sources, one article page (`ArticleJob` → `ArticleOutcome`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from aggregator.errors import ParseError
from aggregator.model import Article, PollStatus, Source
from aggregator.normalise import Context, normalise
from aggregator.normalise import text as T
from aggregator.normalise.fingerprint import fingerprint
from aggregator.normalise.terms import terms
from aggregator.parse import parse_document
from aggregator.parse.article import extract_article
from aggregator.parse.encoding import decode


@dataclass(frozen=True, slots=True)
class Job:
    body: bytes
    url: str
    charset: str | None
    source: Source
    context: Context
    now: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    status: PollStatus
    message: str = ""
    articles: tuple[Article, ...] = ()
    entries_seen: int = 0
    feed_title: str | None = None
    site_link: str | None = None
    ttl_minutes: int | None = None
    update_period: timedelta | None = None
    warnings: tuple[str, ...] = field(default=())


def digest_document(job: Job) -> Outcome:
    """Parse and normalise; every failure becomes an Outcome, never an exception."""
    try:
        raw = parse_document(job.body, job.url, job.source, job.charset)
        articles = [prepare(a) for a in normalise(raw, job.source, job.context, job.now)]
    except ParseError as exc:
        return Outcome(exc.status, exc.message)
    except RecursionError:
        return Outcome(PollStatus.PARSE_ERROR, "document nested too deeply to read")
    except Exception as exc:  # a parser bug must cost one poll, not the poller
        return Outcome(PollStatus.PARSE_ERROR, f"unexpected {type(exc).__name__}: {str(exc)[:300]}")
    warnings = raw.warnings
    if not raw.entries:
        status, message = PollStatus.EMPTY, "; ".join(("the document has no entries", *warnings))
    elif any(w.startswith("encoding:") for w in warnings):
        status, message = (
            PollStatus.ENCODING_SUSPECT,
            next(w for w in warnings if w.startswith("encoding:")),
        )
    else:
        status, message = PollStatus.OK, "; ".join(warnings)[:500]
    return Outcome(
        status=status,
        message=message,
        articles=tuple(articles),
        entries_seen=len(raw.entries),
        feed_title=raw.title,
        site_link=raw.link,
        ttl_minutes=raw.ttl_minutes,
        update_period=raw.update_period,
        warnings=warnings,
    )


def prepare(article: Article) -> Article:
    """The article with its fingerprint and search terms: the CPU-heavy part of storing
    it, done here on the parser's core instead of in the store's one writer."""
    return replace(
        article,
        printed=fingerprint(article.title, article.text),
        terms=terms(article.title, article.text),
    )


@dataclass(frozen=True, slots=True)
class ArticleJob:
    body: bytes
    url: str
    charset: str | None
    selector: str | None = None  # the source's fulltext_selector


@dataclass(frozen=True, slots=True)
class ArticleOutcome:
    ok: bool
    message: str = ""  # why not, or a warning
    body: str = ""  # sanitised HTML
    text: str = ""
    title: str | None = None
    author: str | None = None
    origin: str | None = None
    published_raw: str | None = None
    canonical: str | None = None
    method: str = ""


def digest_article(job: ArticleJob) -> ArticleOutcome:
    """Extract and sanitise one article page; every failure becomes an outcome."""
    try:
        page = extract_article(decode(job.body, job.charset, html=True), job.url, job.selector)
        body = T.sanitize(page.body, page.base)
        text = T.plain(body)
    except ParseError as exc:
        return ArticleOutcome(False, exc.message)
    except RecursionError:
        return ArticleOutcome(False, "page nested too deeply to read")
    except Exception as exc:  # an extractor bug must cost one page, not the poller
        return ArticleOutcome(False, f"unexpected {type(exc).__name__}: {str(exc)[:300]}")
    if not text:
        return ArticleOutcome(False, "no article text left after sanitising")
    return ArticleOutcome(
        ok=True,
        message="; ".join(page.warnings),
        body=body,
        text=text,
        title=T.clean_title(page.title) or None,
        author=T.clean_title(page.author) or None,
        origin=T.clean_title(page.origin)[:100] or None,
        published_raw=page.published_raw,
        canonical=page.canonical,
        method=page.method,
    )
