"""The CPU part of a poll, run in a worker process: bytes → parsed → normalised. PURE."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aggregator.errors import ParseError
from aggregator.model import Article, PollStatus, Source
from aggregator.normalise import Context, normalise
from aggregator.parse import parse_document


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
        articles = normalise(raw, job.source, job.context, job.now)
    except ParseError as exc:
        return Outcome(exc.status, exc.message)
    except RecursionError:
        return Outcome(PollStatus.PARSE_ERROR, "document nested too deeply to read")
    except Exception as exc:  # a parser bug must cost one poll, not the poller
        return Outcome(PollStatus.PARSE_ERROR, f"unexpected {type(exc).__name__}: {str(exc)[:300]}")
    warnings = raw.warnings
    if not raw.entries:
        status, message = PollStatus.EMPTY, "the document has no entries"
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
