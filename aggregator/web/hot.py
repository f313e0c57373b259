"""Feeds already rendered are answered before aiohttp's router and middleware.

Feed readers revalidate or fetch the same few URLs all day, and for those the answer is
bytes in the render cache. Through the edge middleware and the feed handler such a
request cost 80 µs of CPU against 57 for a bare aiohttp handler sending the same bytes
(bench/serve.py; 52 µs on this path). So the server's request handler first looks the
request's raw path up in what `web.feeds.target_of` has already parsed under the config
in force; if its render is cached, `web.feeds.respond` answers it with the headers the
full path would add (security and CORS headers are part of a cached variant). Anything
else (a first request, a render dropped by new articles, a reloaded config, another
method) goes the full way, which fills the memo and the cache for the next one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from aggregator.web.edge import READ_METHODS
from aggregator.web.feeds import remembered, respond
from aggregator.web.runtime import RUNTIME, Runtime

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def cached_feeds_first(handle: RequestHandler, rt: Runtime) -> RequestHandler:
    """`handle` (the application's request handler) behind a lookup of cached feeds."""

    async def handler(request: web.BaseRequest) -> web.StreamResponse:
        if request.method in READ_METHODS:
            target = remembered(rt.feed_targets, request.raw_path, rt.config.site)
            if target is not None:
                rendered = rt.cache.get(target.key)
                if rendered is not None:
                    return respond(request, rendered)
        return await handle(request)

    return handler


class HotRunner(web.AppRunner):
    """An AppRunner whose server looks cached feeds up before the application's handler
    (`app.start_site` and the tests' servers run the application through it)."""

    async def setup(self) -> None:
        await super().setup()
        server = self.server
        assert server is not None  # set up by now
        server.request_handler = cached_feeds_first(server.request_handler, self.app[RUNTIME])
