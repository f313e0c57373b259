"""WebSub: tell the hub which feeds changed, so subscribers hear of new articles at once.

Pings start where articles are stored. The poller that ingested a source's articles
knows which feeds they changed (`IngestStats.changed_feeds`), and every change is
stored by exactly one poller, so a deployment of several pollers and servers pings the
hub once per change; servers never ping.

A ping is a form-encoded POST of `hub.mode=publish` and `hub.url=<feed URL>` for every
format (RSS, Atom, JSON Feed) of every changed feed. Changes are collected until they
pause for a moment (longer than servers take to notice them in the change log, so the
hub fetches the new content); several URLs go in one POST (`hub.url` repeated, as
PubSubHubbub 0.3/0.4 hubs accept; a hub that refuses that gets one URL per POST from
then on), and POSTs are spaced out. None of it runs in the poller's way, and failures
are logged, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import get_args

import aiohttp
from prometheus_client import Counter

from aggregator import __version__
from aggregator.model import FeedFormat, FeedScope, Site

log = logging.getLogger("aggregator.websub")

PING_DELAY = 2.0  # seconds without changes before a round is sent; servers notice within 1 s
PING_MAX_WAIT = 10.0  # a round is sent at the latest this long after its first change
PING_GAP = 1.0  # least seconds between two POSTs to the hub
URLS_PER_PING = 20
TIMEOUT = 10.0
FORMATS: tuple[str, ...] = get_args(FeedFormat)

PINGS = Counter("aggregator_websub_pings_total", "WebSub publish requests by outcome", ["outcome"])


def scope_of_key(site: Site, key: str) -> FeedScope | None:
    """The feed a membership key names (the inverse of FeedScope.key), if the config has it."""
    kind, _, rest = key.partition(":")
    if kind == "r" and rest in site.regions:
        return FeedScope("region", region=rest)
    if kind == "c" and site.channel(rest) is not None:
        return FeedScope("channel", channel=rest)
    if kind == "rc":
        region, _, channel = rest.partition(":")
        if region in site.regions and site.channel(channel) is not None:
            return FeedScope("region_channel", region=region, channel=channel)
    if kind == "s" and rest in site.sources:
        return FeedScope("source", source=rest)
    return None


def feed_urls(site: Site, keys: Iterable[str]) -> list[str]:
    """Every format's URL of every feed named by `keys`, in a stable order."""
    base = site.base_url.rstrip("/")
    urls: list[str] = []
    for key in sorted(set(keys)):
        scope = scope_of_key(site, key)
        if scope is not None:
            urls.extend(f"{base}{scope.path}.{fmt}" for fmt in FORMATS)
    return urls


class HubPinger:
    """Collects changed feed keys and pings site.hub about them in the background."""

    def __init__(
        self,
        site: Callable[[], Site],
        *,
        delay: float | None = None,
        gap: float | None = None,
        per_ping: int | None = None,
        timeout: float | None = None,
    ) -> None:
        self._site = site  # read at each round, so a reloaded config's hub is used
        # None: this module's constants, looked up now (tests shorten them).
        self.delay = PING_DELAY if delay is None else delay
        self.gap = PING_GAP if gap is None else gap
        self.per_ping = URLS_PER_PING if per_ping is None else per_ping
        self.timeout = TIMEOUT if timeout is None else timeout
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._last_post = 0.0

    def notify(self, feed_keys: Iterable[str]) -> None:
        """Note feeds that changed; returns at once (a poll listener must not wait)."""
        keys = set(feed_keys)
        if keys and self._site().hub and not self._closing.is_set():
            self._pending |= keys
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="websub")

    async def close(self, timeout: float = 15.0) -> None:
        """Send what is pending (for at most `timeout` seconds), then stop."""
        self._closing.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout)
            except TimeoutError:
                log.warning("websub: gave up on %d pending feeds at shutdown", len(self._pending))
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            await self._gather()
            keys, self._pending = self._pending, set()
            if keys:
                try:
                    await self._send(keys)
                except Exception:
                    log.exception("websub: pinging the hub failed")
            if self._closing.is_set() and not self._pending:
                return

    async def _gather(self) -> None:
        """Wait until changes stop coming for `delay` seconds (at most PING_MAX_WAIT), or close.

        A round of polls ends source by source; one ping per feed for the whole round is
        kinder to the hub than one per source.
        """
        deadline = time.monotonic() + max(PING_MAX_WAIT, self.delay)
        while not self._closing.is_set():
            self._wake.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), min(self.delay, left))
            if not self._wake.is_set():  # quiet for `delay`: send
                return
        self._wake.clear()

    async def _send(self, keys: set[str]) -> None:
        site = self._site()
        if not site.hub:
            return
        urls = feed_urls(site, keys)
        i = 0
        while i < len(urls):
            batch = urls[i : i + self.per_ping]
            status = await self._post(site.hub, batch)
            if status is not None and 400 <= status < 500 and len(batch) > 1:
                log.warning("websub: hub %s refused %d URLs in one ping; sending one each",
                            site.hub, len(batch))  # fmt: skip
                self.per_ping = 1
                continue
            i += len(batch)

    async def _post(self, hub: str, urls: list[str]) -> int | None:
        """One publish POST; its status, or None when the hub could not be reached."""
        wait = self._last_post + self.gap - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_post = time.monotonic()
        form = [("hub.mode", "publish"), *(("hub.url", url) for url in urls)]
        try:
            async with self._client().post(hub, data=form) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            PINGS.labels(outcome="error").inc()
            log.warning("websub: could not ping %s: %s: %s", hub, type(exc).__name__, exc)
            return None
        if 200 <= status < 300:
            PINGS.labels(outcome="ok").inc()
            log.info("websub: pinged %s for %d feed URLs", hub, len(urls))
        else:
            PINGS.labels(outcome="refused").inc()
            log.warning("websub: hub %s answered %d to a ping of %d URLs", hub, status, len(urls))
        return status

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": f"aggregator/{__version__} (WebSub publisher)"},
            )
        return self._session
