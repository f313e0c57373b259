"""Wake every server the moment a poller commits new articles (PostgreSQL LISTEN/NOTIFY).

The change log (`feed_changes`) is the truth: each server reads it every second whatever
happens, so a lost notification or a dropped listening connection only costs that
second. On PostgreSQL a poller also sends a NOTIFY in the transaction that stores the
articles (delivered at commit), and each server keeps one connection listening, so
the read happens at once instead of up to a second later. On SQLite (one process or a
few on one machine) the one-second read is all there is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import Connection, Engine, func, select

log = logging.getLogger("aggregator.store")

CHANNEL = "aggregator_changes"
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)  # reconnecting after the listener lost its server


def notify(conn: Connection) -> None:
    """Tell listening servers the change log grew; sent when the transaction commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_notify(CHANNEL, "")))


class ChangeListener:
    """`await wait(timeout)` returns when a NOTIFY arrived or `timeout` passed."""

    def __init__(self, engine: Engine) -> None:
        self._conninfo: str | None = None
        if engine.dialect.name == "postgresql":
            url = engine.url.set(drivername="postgresql")
            self._conninfo = url.render_as_string(hide_password=False)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.listening = False  # a LISTEN connection is up (for tests and logs)

    def start(self) -> None:
        if self._conninfo is not None and self._task is None:
            self._task = asyncio.create_task(self._listen(self._conninfo))

    async def wait(self, timeout: float) -> None:
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that comes as the timeout fires, and the server's watcher would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        self._wake.clear()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self, conninfo: str) -> None:
        import psycopg

        failures = 0
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening, failures = True, 0
                    self._wake.set()  # anything committed while we were away
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("store: change listener lost its connection (%s); retrying", exc)
            self.listening = False
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])
            failures += 1
