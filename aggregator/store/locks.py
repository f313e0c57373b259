"""Transaction locks that let ingests on many pollers run side by side on PostgreSQL.

Matching a new copy to its story must see the committed copies of every other ingest
that could hold the same story. Instead of one lock for all ingest, an ingest locks
the keys it will match on (canonical link, title, …: `ingest.match_keys`) in sorted
order, so no two transactions ever wait on each other in a circle (the story rows it
recomputes are locked in id order by `ingest.refresh_stories`). Unrelated ingests
never wait; two pollers storing copies of one story take turns, and the second sees
the first's copies. Released at commit. SQLite has one writer, so this does nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection, func, select, text

INGEST_LOCK = 0x61676772  # shared by every ingest; taken alone by a very large batch
MAX_MATCH_LOCKS = 256  # more keys than this: take INGEST_LOCK exclusively instead


def lock_match_keys(conn: Connection, keys: Iterable[str]) -> None:
    """Lock these match keys until commit (blocking while another ingest holds one)."""
    if conn.dialect.name != "postgresql":
        return
    ids = sorted({lock_id(k) for k in keys})
    if len(ids) > MAX_MATCH_LOCKS:  # bounded lock table use: one big batch at a time
        conn.execute(select(func.pg_advisory_xact_lock(INGEST_LOCK)))
        return
    conn.execute(select(func.pg_advisory_xact_lock_shared(INGEST_LOCK)))
    if ids:
        conn.execute(
            text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:ids AS bigint[])) AS k"),
            {"ids": ids},
        )


def lock_id(key: str) -> int:
    """A stable signed 64-bit advisory lock id for a key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)
