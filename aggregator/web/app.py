"""The aiohttp application: built by one factory that the CLI and the tests both call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from aggregator.store.notify import ChangeListener
from aggregator.web import edge, hot
from aggregator.web.pages import JINJA, make_env
from aggregator.web.routes import setup_routes
from aggregator.web.runtime import RUNTIME, Runtime

log = logging.getLogger("aggregator.web")

CHANGE_CHECK_SECONDS = 1.0
CHANGE_CHECK_GAP = 0.05  # many notifications in a burst: one read per gap
CHANGES = web.AppKey("changes", ChangeListener)
MAX_REQUEST_BYTES = 64 * 1024
ACCESS_LOG_FORMAT = '%a "%r" %s %b %Tf "%{User-Agent}i"'


def make_app(runtime: Runtime) -> web.Application:
    app = web.Application(
        middlewares=[edge.edge],
        client_max_size=MAX_REQUEST_BYTES,
    )
    app[RUNTIME] = runtime
    app[JINJA] = make_env()
    setup_routes(app)
    app.cleanup_ctx.append(_watch_changes)
    return app


async def check_changes(rt: Runtime) -> int:
    """Drop renders of feeds the store's change log says have changed; returns how many."""
    seq, keys = await rt.store.call(rt.store.changes_since, rt.change_seq)
    rt.change_seq = seq
    return rt.cache.invalidate(keys) if keys else 0


async def _watch_changes(app: web.Application) -> AsyncIterator[None]:
    """Every server learns of new articles within a second, whoever stored them: at once
    when PostgreSQL notifies it (store.notify), else at the next one-second read."""
    rt = app[RUNTIME]
    rt.change_seq = await rt.store.call(rt.store.last_change)
    listener = app[CHANGES] = rt.store.change_listener()
    listener.start()

    async def loop() -> None:
        while True:
            await listener.wait(CHANGE_CHECK_SECONDS)
            try:
                await check_changes(rt)
            except Exception:
                log.exception("web: could not read the change log")
            await asyncio.sleep(CHANGE_CHECK_GAP)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await listener.close()


async def start_site(
    app: web.Application, host: str, port: int, *, access_log: bool = False, **limits: float
) -> web.AppRunner:
    """Listen with explicit limits: edge.SERVER_LIMITS, each overridable (tests shorten them),
    with cached feeds answered ahead of the router (web.hot).

    Access logging is off unless asked for (AGGREGATOR_ACCESS_LOG=1): aiohttp then formats
    a line per request (remote, request line, status, bytes, seconds, user agent) through
    the process's log handler, JSON or text like every other line.
    """
    options: dict[str, Any] = {**edge.SERVER_LIMITS, **limits}
    logger = None
    if access_log:
        logger = logging.getLogger("aiohttp.access")
        logger.setLevel(logging.INFO)
        options["access_log_format"] = ACCESS_LOG_FORMAT
    runner = hot.HotRunner(app, access_log=logger, shutdown_timeout=5, **options)
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=512, reuse_address=True)
    await site.start()
    return runner
