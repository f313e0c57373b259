"""Wiring a running process: store, parser pool, client session, poller, web server.

`run` is all of it, `serve` the web server alone, `poll` the poller alone. Each piece
has one owner here, opened in order and closed in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from asyncio import Task
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aggregator.config import LoadedConfig
from aggregator.config.watch import watch
from aggregator.fetch.client import Sessions
from aggregator.poller.pool import ParsePool
from aggregator.poller.scheduler import Poller
from aggregator.poller.websub import HubPinger
from aggregator.reload import Reloader
from aggregator.settings import Settings
from aggregator.store import IngestStats, Store
from aggregator.web.app import make_app, start_site
from aggregator.web.runtime import Runtime

log = logging.getLogger("aggregator")
SWITCH_INTERVAL = 0.001  # seconds; see serve_forever
GC_THRESHOLDS = (5000, 20, 20)  # Python: (700, 10, 10); see settle_gc


@dataclass
class Parts:
    store: Store
    runtime: Runtime
    poller: Poller | None = None
    sessions: Sessions | None = None
    pool: ParsePool | None = None


@contextlib.asynccontextmanager
async def open_parts(
    settings: Settings, config: LoadedConfig, *, poll: bool
) -> AsyncIterator[Parts]:
    """Open the store (and, to poll, the pool, session and poller); close them all after."""
    now = datetime.now(UTC)
    store = await asyncio.to_thread(Store, settings.db)
    try:
        if poll:
            moved = await store.call(store.sync_sources, config.site, now)
            if moved:  # feeds.yaml moved sources while the service was stopped
                done = await store.call(store.refile_sources, moved, now)
                log.info("config: re-filed %d stories of moved sources %s", done.stories, moved)
        else:
            await store.call(store.configure, config.site)
        runtime = Runtime(
            config=config,
            store=store,
            loaded_at=now,
            polling=poll,
            admin_token=settings.admin_token,
        )
        if not poll:
            runtime.reloader = Reloader(runtime)
            yield Parts(store, runtime)
            return
        pool = ParsePool(settings.workers)
        await pool.start()
        sessions = Sessions()
        try:
            lease = settings.lease_seconds
            poller = Poller(
                store,
                config.site,
                sessions,
                pool,
                concurrency=settings.concurrency,
                lease=timedelta(seconds=lease) if lease else None,
            )
            runtime.reloader = Reloader(runtime, poller)

            def invalidate(_result: object, stats: IngestStats) -> None:
                if stats.changed_feeds:
                    runtime.cache.invalidate(stats.changed_feeds)

            poller.on_poll(invalidate)
            # The poller that stored the articles pings the hub: once per change, however
            # many processes share the database (see poller.websub).
            pinger = HubPinger(lambda: runtime.site)
            poller.on_poll(lambda _result, stats: pinger.notify(stats.changed_feeds))
            pinger.start()
            try:
                yield Parts(store, runtime, poller, sessions, pool)
            finally:
                await pinger.close()
        finally:
            await sessions.close()
            await pool.close()
    finally:
        await asyncio.to_thread(store.close)


async def serve_forever(settings: Settings, config: LoadedConfig, *, web: bool, poll: bool) -> None:
    """Run until SIGINT/SIGTERM: the roles asked for, sharing one store."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if web and poll:
        # Ingest runs on the store's thread in this process: the event loop waits for the
        # GIL at most this long (Python's default is 5 ms) to answer a request.
        sys.setswitchinterval(SWITCH_INTERVAL)
    async with open_parts(settings, config, poll=poll) as parts:
        settle_gc()
        reloader = parts.runtime.reloader
        assert reloader is not None
        background = _reload_triggers(settings, reloader, stop)
        runner = None
        if web:
            app = make_app(parts.runtime)
            runner = await start_site(
                app, settings.host, settings.port, access_log=settings.access_log
            )
            log.info("serving on http://%s:%s/ (%s)", settings.host, settings.port, config.summary)
        if parts.poller is not None:
            parts.poller.start()
            log.info("polling %d sources", len(config.site.sources))
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if parts.poller is not None:
                await parts.poller.stop()
            if runner is not None:
                await runner.cleanup()


def settle_gc() -> None:
    """Move what the process loaded to start (modules, the config, the store's compiled
    statements: over a hundred thousand objects) out of the cyclic collector's reach. It
    lives as long as the process, and every full collection walked it: pauses of 70 to
    130 ms of the event loop, ten a minute during a first poll (bench/poll.py --latency).
    Young collections run less often too: a poll allocates thousands of short-lived
    containers (rows, articles), and at Python's 700 they cost 0.7 s a minute."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def _reload_triggers(
    settings: Settings, reloader: Reloader, stop: asyncio.Event
) -> set[Task[object]]:
    """SIGHUP and (unless turned off) changes to the file reload the config."""
    tasks: set[Task[object]] = set()

    def spawn(reason: str) -> None:
        task = asyncio.create_task(reloader.reload(reason))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    with contextlib.suppress(NotImplementedError, AttributeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, spawn, "SIGHUP")
    if settings.watch_config:
        watcher = asyncio.create_task(watch(reloader.path, lambda: reloader.reload("watch"), stop))
        tasks.add(watcher)
        log.info("watching %s for changes (SIGHUP also reloads it)", reloader.path)
    return tasks
