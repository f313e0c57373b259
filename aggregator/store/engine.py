"""Engines for SQLite (the embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from aggregator.errors import StoreError

log = logging.getLogger("aggregator.store")
WAL_AUTOCHECKPOINT = 20000  # pages (80 MB): SQLite's own checkpoint, only a safety net
CHECKPOINT_EVERY = 1.0  # seconds between the Checkpointer's checkpoints


def normalise_url(url: str) -> str:
    """Accept `postgresql://…` and plain file paths as well as full SQLAlchemy URLs."""
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


IDLE_IN_TX = "30s"  # PostgreSQL ends a session idle this long inside a transaction


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, future=True
        )

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
            # Our transactions never wait on the network: one idle this long belongs to a
            # frozen or partitioned process, and its locks would hold others up.
            with dbapi_conn.cursor() as cur:
                cur.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TX}'")
            dbapi_conn.commit()

        return engine
    raise StoreError(f"store: unsupported database URL {parsed.render_as_string()!r}")


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is too late).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA cache_size=-32000")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front so two writers never deadlock on upgrade.
        mode = "IMMEDIATE" if conn.get_execution_options().get("write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Checkpointer:
    """Copies SQLite's write-ahead log back into the database file every second, on a
    thread of its own.

    SQLite's own checkpoint runs inside the commit that fills the log past a threshold,
    so the store's one writer did it: a fifth of a busy writer's time. A PASSIVE
    checkpoint never waits for readers or the writer; the threshold stays as a safety
    net (WAL_AUTOCHECKPOINT) for a process that runs no Checkpointer.
    """

    def __init__(self, engine: Engine, every: float = CHECKPOINT_EVERY) -> None:
        self.engine = engine
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def run_once(self) -> tuple[int, int, int]:
        """One checkpoint: (busy, frames in the log, frames copied back)."""
        raw = self.engine.raw_connection()
        try:
            cur = raw.cursor()
            row = cur.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cur.close()
        finally:
            raw.close()
        busy, frames, done = row
        return int(busy), int(frames), int(done)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.run_once()
            except Exception as exc:  # a locked or vanished file: try again next time
                log.warning("sqlite checkpoint failed: %s", exc)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def create_schema(engine: Engine) -> None:
    """Create or migrate the schema to this code's revision (idempotent; see store.migrate)."""
    from aggregator.store import migrate

    migrate.upgrade(engine)
