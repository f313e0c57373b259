"""Article pages for `fulltext: true` sources: fetched once per entry, after the list.

A poll stores its list first, so new entries show at once with their summaries; then,
still inside the poll's task and bounded (MAX_PAGES per poll, a time budget, the poller's
per-host gate), it fetches the pages of stored entries that have none yet, extracts them
in the parser workers and stores what they add. The work list comes from the store, so
pages not reached (or worth a retry) are fetched by the next successful poll, even one
that got a 304. Entries already stored before `fulltext` was turned on are filled in the
same way, newest first, MAX_PAGES per poll.
A page that fails leaves its entry with the list's summary and adds a `fulltext:` warning
to the source's health; the poll's own status is not changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import aiohttp

from aggregator.errors import FetchError
from aggregator.fetch.client import Limits, NotModified, fetch
from aggregator.model import Article, FullText, PollStatus, Source
from aggregator.normalise.fulltext import apply_pages, enrich
from aggregator.poller.hosts import HostGate
from aggregator.poller.pool import ParsePool
from aggregator.poller.work import ArticleJob
from aggregator.store import IngestStats

if TYPE_CHECKING:
    from aggregator.poller.pipeline import Deps

log = logging.getLogger("aggregator.poll")

MAX_PAGES = 20  # article pages fetched per poll of one source
PAGE_MAX_BYTES = 5 * 1024 * 1024
MIN_BUDGET = 60.0  # seconds for one poll's pages, at least (3 timeouts when longer)
ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_RETRY = {PollStatus.TIMEOUT, PollStatus.CONNECTION, PollStatus.DNS}


@dataclass
class Report:
    attempted: int = 0
    failed: int = 0
    waiting: int = 0  # entries whose page is left for a later poll
    first_error: str = ""
    stats: IngestStats = field(default_factory=IngestStats)

    @property
    def note(self) -> str:
        """One line for the source's health, or '' when there is nothing to report."""
        parts = []
        if self.failed:
            parts.append(
                f"{self.failed} of {self.attempted} article pages failed ({self.first_error}); "
                "those entries keep the list's summary"
            )
        if self.waiting:
            parts.append(f"{self.waiting} more pages wait for the next polls")
        return "fulltext: " + "; ".join(parts) if parts else ""


async def with_pages(
    source: Source, articles: tuple[Article, ...], deps: Deps, now: datetime
) -> tuple[Article, ...]:
    """Articles merged with the pages already fetched for them, so a re-polled entry is
    stored as it was enriched and not taken for an edit that loses its body."""
    known = await deps.store.call(deps.store.pages_for, source.id, [a.key for a in articles])
    return apply_pages(articles, known, ZoneInfo(deps.context.timezone), now)


async def follow_up(source: Source, deps: Deps, session: aiohttp.ClientSession) -> Report:
    """Fetch, extract and store the pages of stored entries that have none yet."""
    wanted, total = await deps.store.call(deps.store.pages_wanted, source.id, MAX_PAGES * 2)
    now = deps.clock()
    # an entry without a page of its own is settled at once, so it never waits
    fetched = {
        a.key: FullText(a.link, now, ok=False, message="no article link of its own")
        for a, _ in wanted
        if not _fetchable(a, source)
    }
    todo = [(a, page) for a, page in wanted if _fetchable(a, source)][:MAX_PAGES]
    report = Report(waiting=max(0, total - len(fetched) - len(todo)))

    mine: set[str] = set()
    try:
        results, report.attempted, not_reached = await _fetch_all(todo, source, deps, session, mine)
        report.waiting += not_reached
        for article, page in results:
            fetched[article.key] = page
            if not page.ok:
                report.failed += 1
                report.first_error = report.first_error or page.message[:200]
        if not fetched:
            return report
        now = deps.clock()
        tz = ZoneInfo(deps.context.timezone)
        articles = {a.key: a for a, _ in wanted}
        enriched = [enrich(articles[k], page, tz, now) for k, page in fetched.items() if page.ok]
        report.stats = await deps.store.call(
            deps.store.save_pages, source.id, fetched, enriched, now, report.note or None
        )
        return report
    finally:
        for url in mine:  # stored now (or given up): later polls find them in the store
            deps.pages_in_flight.pop(url, None)


async def _fetch_all(
    todo: list[tuple[Article, FullText | None]],
    source: Source,
    deps: Deps,
    session: aiohttp.ClientSession,
    mine: set[str],
) -> tuple[list[tuple[Article, FullText]], int, int]:
    """Get pages within the source's per-host limit and a time budget: the results, how
    many were attempted, and how many the budget left for later.

    A page (a story two sources list) is read once: one that another poll is getting
    (`deps.pages_in_flight`) is awaited; one another source already stored is taken from
    the store; only the rest are fetched. The URLs this poll claims are added to `mine`,
    for the caller to drop once they are stored."""
    if not todo:
        return [], 0, 0
    slots = asyncio.Semaphore(max(1, source.per_host))
    stored: set[str] = set()  # pages found in the store, not fetched

    async def get(url: str, lookup: asyncio.Future[dict[str, FullText]]) -> FullText:
        page = (await lookup).get(url)
        if page is not None:
            stored.add(url)
            return replace(page, fetched_at=deps.clock())
        async with slots:
            return await fetch_page(url, source, session, deps.gate, deps.pool, deps.clock())

    # Claimed before the store is read, with no await in between: another poll either
    # shares a claim or, once it is dropped (after the save commits), finds the page
    # stored. Reading the store first would leave a gap where it does neither.
    links = dict.fromkeys(a.link for a, _ in todo)
    claims = [url for url in links if url not in deps.pages_in_flight]
    if claims:
        lookup = asyncio.ensure_future(deps.store.call(deps.store.pages_at, claims))
        for url in claims:
            deps.pages_in_flight[url] = asyncio.ensure_future(get(url, lookup))
            mine.add(url)
    running = {a.link: deps.pages_in_flight[a.link] for a, _ in todo}

    async def one(article: Article, previous: FullText | None) -> tuple[Article, FullText]:
        page = await asyncio.shield(running[article.link])
        if previous is not None:
            page = replace(page, tries=previous.tries + 1)
        return article, page

    tasks = [asyncio.create_task(one(a, page)) for a, page in todo]
    # bounded, and well within the interval so the next poll never overlaps this one
    budget = min(
        max(MIN_BUDGET, source.timeout.total_seconds() * 3), source.interval.total_seconds() / 2
    )
    done, pending = await asyncio.wait(tasks, timeout=budget)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    results = []
    errors: list[BaseException] = []
    for task in tasks:
        if task not in done:
            continue
        exc = task.exception()
        if exc is not None:
            if not any(exc is seen for seen in errors):  # pages sharing one failure: once
                errors.append(exc)
                log.error("fulltext: unexpected failure", exc_info=exc)
            continue
        results.append(task.result())
    attempted = len(done) - sum(1 for a, _ in results if a.link in stored)
    return results, attempted, len(pending)


async def fetch_page(
    url: str,
    source: Source,
    session: aiohttp.ClientSession,
    gate: HostGate,
    pool: ParsePool,
    now: datetime,
) -> FullText:
    """Fetch and extract one article page; failures are results, never exceptions."""
    started = now
    limits = Limits(
        timeout=source.timeout.total_seconds(), max_bytes=min(source.max_bytes, PAGE_MAX_BYTES)
    )
    try:
        async with gate.acquire(url, source.per_host, source.host_gap.total_seconds()):
            got = await fetch(session, url, limits=limits, accept=ACCEPT_HTML)
    except FetchError as exc:
        retry = exc.status in _RETRY or (exc.http_status or 0) >= 500 or exc.http_status == 429
        message = f"{exc.status.value}: {exc.message}"
        return FullText(url, started, ok=False, message=message, retry=retry)
    if isinstance(got, NotModified):
        return FullText(url, started, ok=False, message="answered 304", retry=True)
    outcome = await pool.run(ArticleJob(got.body, got.url, got.charset, source.fulltext_selector))
    if not outcome.ok:
        return FullText(url, started, ok=False, message=outcome.message)
    return FullText(
        url=url,
        fetched_at=started,
        ok=True,
        message=outcome.message,
        body=outcome.body,
        text=outcome.text,
        author=outcome.author,
        origin=outcome.origin,
        published_raw=outcome.published_raw,
        canonical=outcome.canonical,
    )


def _fetchable(article: Article, source: Source) -> bool:
    """An entry with a page of its own (not the list page it came from)."""
    return article.link.startswith(("http://", "https://")) and article.link != source.url
