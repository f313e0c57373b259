"""`aggregator try SOURCE_ID`: fetch one source once, store nothing, show what it yields.

Made for tuning selectors: the same fetch (same address guard), parse and normalise code
as a poll, and with `--fulltext N` the same article extraction for the first N entries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from aggregator.errors import FetchError
from aggregator.fetch.client import Limits, NotModified, Sessions, fetch
from aggregator.model import Article, DatePrecision, FullText, PollStatus, Site
from aggregator.normalise import Context
from aggregator.normalise.fulltext import enrich
from aggregator.poller import drift
from aggregator.poller.fulltext import fetch_page
from aggregator.poller.hosts import HostGate
from aggregator.poller.pool import ParsePool
from aggregator.poller.work import Job

BODY_CHARS = 800  # of each extracted body shown


@dataclass
class Tried:
    """What one try of one source came to."""

    source_id: str
    url: str
    status: PollStatus
    message: str = ""
    http_status: int | None = None
    size: int = 0
    seconds: float = 0.0
    articles: tuple[Article, ...] = ()
    pages: list[tuple[Article, FullText]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status.is_success


async def try_source(
    site: Site, source_id: str, *, fulltext: int = 0, now: datetime | None = None
) -> Tried:
    """Fetch and read one source as a poll would, without a store."""
    source = site.sources[source_id]
    now = now or datetime.now(UTC)
    t0 = time.monotonic()
    sessions = Sessions()
    pool = ParsePool(0)
    gate = HostGate()
    try:
        session = sessions.get(source.allow_private_networks)
        limits = Limits(timeout=source.timeout.total_seconds(), max_bytes=source.max_bytes)
        try:
            got = await fetch(session, source.url, limits=limits)
        except FetchError as exc:
            took = time.monotonic() - t0
            return Tried(source.id, source.url, exc.status, exc.message, exc.http_status, 0, took)
        if isinstance(got, NotModified):  # no validators were sent; a server may still
            return Tried(source.id, got.url, PollStatus.NOT_MODIFIED, "answered 304", 304)
        context = Context(site.timezone, site.channels)
        outcome = await pool.run(Job(got.body, got.url, got.charset, source, context, now))
        status, message = outcome.status, outcome.message
        if source.html and (status.is_success or status is PollStatus.EMPTY):
            layout = drift.judge(outcome.entries_seen, (), source.html.item)
            if layout.status is not None:
                status, message = layout.status, layout.message
        tried = Tried(
            source.id,
            got.url,
            status,
            message,
            got.status,
            len(got.body),
            articles=outcome.articles,
        )
        tz = ZoneInfo(site.timezone)
        for article in outcome.articles[: max(fulltext, 0)]:
            page = await fetch_page(article.link, source, session, gate, pool, now)
            tried.pages.append((enrich(article, page, tz, now), page))
        tried.seconds = time.monotonic() - t0
        return tried
    finally:
        await sessions.close()
        await pool.close()


def render(console: Console, tried: Tried, timezone: str) -> None:
    """The entries as a table (date as read, date as stored), then any extracted bodies."""
    tz = ZoneInfo(timezone)
    head = f"{tried.source_id}: {tried.status.value}"
    if tried.http_status:
        head += f", HTTP {tried.http_status}"
    if tried.size:
        head += f", {tried.size} bytes"
    head += f", {tried.seconds:.2f}s"
    head += f", {len(tried.articles)} entries"
    console.print(head)
    if tried.message:
        console.print(f"  {tried.message}")
    if not tried.articles:
        return
    enriched = {a.key: a for a, _ in tried.pages}
    table = Table(show_lines=False)
    for col in ("#", "title", "link", "date as read", "date as stored"):
        table.add_column(col, overflow="fold")
    for n, article in enumerate(tried.articles, 1):
        shown = enriched.get(article.key, article)
        table.add_row(
            str(n),
            shown.title,
            shown.link,
            article.published_raw or "—",
            _stored(shown, tz),
        )
    console.print(table)
    for n, (article, page) in enumerate(tried.pages, 1):
        if not page.ok:
            console.print(Panel(f"[red]failed[/]: {page.message}", title=f"#{n} {article.link}"))
            continue
        facts = [
            f"author: {page.author or '—'}",
            f"来源: {page.origin or '—'}",
            f"date on the page: {page.published_raw or '—'}",
            f"canonical: {page.canonical or '—'}",
        ]
        if page.message:
            facts.append(f"note: {page.message}")
        text = page.text if len(page.text) <= BODY_CHARS else page.text[:BODY_CHARS] + " …"
        console.print(
            Panel(
                "\n".join(facts) + "\n\n" + text,
                title=f"#{n} {article.title}",
                subtitle=f"{len(page.text)} characters",
            )
        )


def _stored(article: Article, tz: ZoneInfo) -> str:
    local = article.published.astimezone(tz).strftime("%Y-%m-%d %H:%M %z")
    if article.precision is DatePrecision.DATE:
        return f"{local} (day only)"
    if article.precision is DatePrecision.NONE:
        return f"{local} (first seen)"
    return local
