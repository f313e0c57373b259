"""Politeness per host within one process: `per_host` in flight, `host_gap` between starts.

Across pollers the database holds the same limits (store.sources.claim_due counts a
host's live leases and books its next start); this gate keeps a process's own
requests to a host spaced as they actually start.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@functools.lru_cache(maxsize=8192)
def _host(url: str) -> str:
    """A URL's host, lower case; cached, as the same sources' URLs come back every poll."""
    return (urlsplit(url).hostname or "").lower()


class HostGate:
    """Shared by every poll of a process; `acquire(url, per_host, gap)` waits its turn."""

    def __init__(self) -> None:
        self._hosts: dict[str, _Host] = {}

    @asynccontextmanager
    async def acquire(self, url: str, per_host: int, gap: float) -> AsyncIterator[None]:
        host = _host(url)
        entry = self._hosts.get(host)
        if entry is None:
            entry = self._hosts[host] = _Host(asyncio.Semaphore(max(per_host, 1)))
        async with entry.slots:
            async with entry.lock:
                wait = entry.next_start - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                entry.next_start = time.monotonic() + gap
            yield
