"""An in-process origin server for tests: fixture feeds with validators, and faults.

Files under tests/data/feeds are served at /feeds/<name> with the Content-Type the
manifest gives, ETag and Last-Modified, and 304 on a matching conditional request.
Tests add behaviours per path with `origin.set(path, ...)`: a status, a body, headers,
a delay, a redirect. Every request is counted per path, with concurrency.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

FEEDS = Path(__file__).parent / "data" / "feeds"
LAST_MODIFIED = "Wed, 01 May 2024 00:00:00 GMT"


@dataclass
class Behaviour:
    status: int = 200
    body: bytes | None = None
    content_type: str = "application/rss+xml; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    validators: bool = True  # send ETag/Last-Modified and answer 304
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]] | None = None


class Origin:
    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.requests: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        self.in_flight_total = 0  # across every path: what per-host politeness limits
        self.max_in_flight_total = 0
        self.server: TestServer | None = None
        manifest = json.loads((FEEDS / "manifest.json").read_text("utf-8"))
        for entry in manifest["files"]:
            body = (FEEDS / entry["file"]).read_bytes()
            self.routes[f"/feeds/{entry['file']}"] = Behaviour(
                body=body, content_type=entry["content_type"]
            )

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    def set(self, path: str, **kwargs: Any) -> Behaviour:
        behaviour = Behaviour(**kwargs)
        self.routes[path] = behaviour
        return behaviour

    def set_body(self, path: str, body: bytes) -> None:
        """Change the bytes a path serves (a new ETag follows from them)."""
        self.routes[path].body = body

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests[path] += 1
        if request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
            self.conditional[path] += 1
        self.in_flight[path] += 1
        self.max_in_flight[path] = max(self.max_in_flight[path], self.in_flight[path])
        self.in_flight_total += 1
        self.max_in_flight_total = max(self.max_in_flight_total, self.in_flight_total)
        try:
            return await self._answer(request, path)
        finally:
            self.in_flight[path] -= 1
            self.in_flight_total -= 1

    async def _answer(self, request: web.Request, path: str) -> web.StreamResponse:
        b = self.routes.get(path)
        if b is None:
            return web.Response(status=404, text="not found")
        if b.delay:
            await asyncio.sleep(b.delay)
        if b.handler is not None:
            return await b.handler(request)
        headers = dict(b.headers)
        if b.status != 200 or b.body is None:
            return web.Response(status=b.status, body=b.body or b"", headers=headers)
        if b.validators:
            etag = '"' + hashlib.sha1(b.body).hexdigest()[:16] + '"'
            headers.update({"ETag": etag, "Last-Modified": LAST_MODIFIED})
            if request.headers.get("If-None-Match") == etag:
                return web.Response(status=304, headers=headers)
        headers["Content-Type"] = b.content_type
        return web.Response(body=b.body, headers=headers)

    async def start(self, host: str = "127.0.0.1") -> None:
        """Listen on loopback; another 127.x address is another host to the poller."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.server = TestServer(app, host=host)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
