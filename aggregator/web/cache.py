"""Rendered feeds kept in memory until new articles reach them.

Entries are grouped by the feed key they were read from; a change to that key (from
this process's poller, or seen in the store's change log by any server) drops them.
Concurrent requests for the same cold entry render it once.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

import brotli  # type: ignore[import-untyped,unused-ignore]  # no stubs
from multidict import CIMultiDict, CIMultiDictProxy

from aggregator.web.middleware import SECURITY_HEADERS

MIN_COMPRESS = 1024  # smaller bodies gain less than the headers cost
BROTLI_QUALITY = 6  # near 11's size at a fraction of its time; renders run on the event loop
# Public reads (feeds, the JSON API) may be fetched from any site's scripts (see web.edge).
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "ETag, Last-Modified"}


@dataclass(frozen=True, slots=True)
class Variant:
    """One content coding of a rendered entry, with the headers it is always sent with."""

    body: bytes
    ok: CIMultiDictProxy[str]  # the 200's headers (Content-Type, -Encoding, ETag, caching)
    not_modified: CIMultiDictProxy[str]  # the 304's: the same, minus the body's own


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    content_type: str
    etag: str  # strong, from the bytes (which carry no render time)
    last_modified: datetime | None
    feed_key: str
    gzipped: bytes  # compressed once here, not per request; b"" when not worth it
    brotli: bytes = b""
    max_age: int = 60  # Cache-Control max-age, decided at render time
    # Built on first use, per (coding, cors): a cache hit copies them instead of building.
    _variants: dict[tuple[str | None, bool], Variant] = field(
        default_factory=dict, compare=False, repr=False
    )

    @staticmethod
    def make(
        body: bytes,
        content_type: str,
        last_modified: datetime | None,
        feed_key: str,
        max_age: int = 60,
        *,
        codings: Iterable[str] = ("gzip", "br"),
    ) -> Rendered:
        """Hash and compress once: every later answer from this entry reuses the bytes."""
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        gz = br = b""
        if len(body) >= MIN_COMPRESS:
            if "gzip" in codings:
                gz = gzip.compress(body, 6, mtime=0)
            if "br" in codings:
                br = brotli.compress(body, quality=BROTLI_QUALITY)
        if last_modified is not None:
            last_modified = last_modified.replace(microsecond=0)  # HTTP dates have seconds
        return Rendered(body, content_type, etag, last_modified, feed_key, gz, br, max_age)

    def encoded(self, coding: str | None) -> bytes | None:
        """The body in a content coding (gzip, br), or None when there is no such variant."""
        found = {"gzip": self.gzipped, "br": self.brotli}.get(coding or "")
        return found or None

    def variant(self, coding: str | None, cors: bool) -> Variant:
        """The body in `coding` (identity when there is no such variant) and its headers."""
        key = (coding, cors)
        found = self._variants.get(key)
        if found is None:
            found = self._variants[key] = self._build(coding, cors)
        return found

    def _build(self, coding: str | None, cors: bool) -> Variant:
        body = self.encoded(coding)
        if body is None:
            body, coding = self.body, None
        head: CIMultiDict[str] = CIMultiDict()
        # A compressed body is another representation, so it gets another strong ETag.
        head["ETag"] = self.etag if coding is None else f'{self.etag[:-1]}-{coding}"'
        head["Cache-Control"] = f"public, max-age={self.max_age}"
        head["Vary"] = "Accept-Encoding"
        if cors:
            head.extend(CORS)
        head.extend(SECURITY_HEADERS)  # what web.edge adds, here too for web.hot's answers
        if self.last_modified is not None:
            head["Last-Modified"] = format_datetime(self.last_modified, usegmt=True)
        not_modified = CIMultiDictProxy(head.copy())
        if coding is not None:
            head["Content-Encoding"] = coding
        head["Content-Type"] = self.content_type
        return Variant(body, CIMultiDictProxy(head), not_modified)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped) + len(self.brotli)


ANY_FEED = "*"  # the feed key of pages made from many feeds (the index): any change drops them


class RenderCache:
    def __init__(self, max_entries: int = 2000, max_bytes: int = 256 * 1024 * 1024) -> None:
        # Both bounds matter: clients choose limit, q and before, so entries vary in size.
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[str, Rendered] = OrderedDict()
        self._by_feed: dict[str, set[str]] = {}
        self._pending: dict[str, asyncio.Future[Rendered]] = {}
        self._versions: dict[str, int] = {}  # bumped per feed key on every invalidation
        self._epoch = 0  # bumped by clear()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Rendered | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
        return found

    async def get_or_render(
        self, key: str, feed_key: str, render: Callable[[], Awaitable[Rendered]]
    ) -> Rendered:
        found = self.get(key)
        if found is not None:
            return found
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        self.misses += 1
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        version = (self._epoch, self._versions.get(feed_key, 0))
        try:
            value = await render()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marks it retrieved when nobody else waits
            raise
        finally:
            self._pending.pop(key, None)
        future.set_result(value)
        # A change that landed while rendering may be missing from it: serve, don't keep.
        if version == (self._epoch, self._versions.get(feed_key, 0)):
            self._put(key, value)
        return value

    def _put(self, key: str, value: Rendered) -> None:
        replaced = self._entries.pop(key, None)
        if replaced is not None:
            self._bytes -= replaced.size
        self._entries[key] = value
        self._bytes += value.size
        self._by_feed.setdefault(value.feed_key, set()).add(key)
        while len(self._entries) > 1 and (
            len(self._entries) > self.max_entries or self._bytes > self.max_bytes
        ):
            old_key, old = self._entries.popitem(last=False)
            self._bytes -= old.size
            keys = self._by_feed.get(old.feed_key)
            if keys is not None:
                keys.discard(old_key)

    def invalidate(self, feed_keys: Iterable[str]) -> int:
        """Drop every render of these feeds; returns how many were dropped."""
        dropped = 0
        keys = set(feed_keys)
        if keys:
            keys.add(ANY_FEED)
        for fk in keys:
            self._versions[fk] = self._versions.get(fk, 0) + 1
            for key in self._by_feed.pop(fk, ()):
                gone = self._entries.pop(key, None)
                if gone is not None:
                    self._bytes -= gone.size
                    dropped += 1
        return dropped

    def clear(self) -> None:
        self._epoch += 1
        self._entries.clear()
        self._by_feed.clear()
        self._bytes = 0
