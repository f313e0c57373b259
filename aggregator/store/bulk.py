"""Many rows in one statement, for ingest's hot writes (entries, keys, index, membership).

SQLAlchemy's Core spends tens of microseconds of Python per row and column on bind
processing; a poll writes over a thousand rows (18 fingerprint keys per article alone),
so that was most of an ingest's time. Here values are converted to what the driver
takes once per column kind (times as the store keeps them, JSON with orjson), and rows
go out as multi-row `INSERT … VALUES (…), (…)` statements of at most `MAX_PARAMS`
parameters: one round trip per chunk on either database. Reads stay SQLAlchemy's, so a
value written here reads back exactly as one written through the ORM types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, TableClause
from sqlalchemy.dialects.postgresql import TSVECTOR

from aggregator.store.tables import UTCDateTime

MAX_PARAMS = 30000  # below SQLite's 32766 variables and PostgreSQL's 65535 parameters

Convert = Callable[[Any], Any]


def _sqlite_time(value: datetime | None) -> str | None:
    """Naive UTC text, as SQLAlchemy's SQLite DateTime writes it (and reads it back)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _same(value: Any) -> Any:
    return value


@lru_cache(maxsize=64)
def _plan(
    table: TableClause, columns: tuple[str, ...], dialect: str
) -> tuple[tuple[Convert, ...], str]:
    """Per column: the converter, and the placeholder of one row (JSONB is cast on PG)."""
    pg = dialect == "postgresql"
    mark = "%s" if pg else "?"
    converts: list[Convert] = []
    marks: list[str] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            converts.append(_pg_time if pg else _sqlite_time)
            marks.append(mark)
        elif isinstance(kind, JSON):
            converts.append(_json_text)
            marks.append("CAST(%s AS JSONB)" if pg else mark)
        elif isinstance(kind, TSVECTOR):
            converts.append(_same)
            marks.append("CAST(%s AS tsvector)")
        else:
            converts.append(_same)
            marks.append(mark)
    return tuple(converts), "(" + ", ".join(marks) + ")"


def insert(
    conn: Connection,
    table: TableClause,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: Sequence[str] = (),
    on_conflict: str = "",
) -> list[tuple[Any, ...]]:
    """Insert rows (values in `columns` order); the `returning` columns of every row
    inserted, in no particular order (return a key with the id to match them up).

    `on_conflict` is the SQL after ON CONFLICT (`DO NOTHING`, `(id) DO UPDATE SET …`):
    a constant of the caller's, never a value."""
    if not rows:
        return []
    cols = tuple(columns)
    converts, one = _plan(table, cols, conn.dialect.name)
    head = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
    tail = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    if returning:
        tail += " RETURNING " + ", ".join(returning)
    per = max(1, MAX_PARAMS // len(cols))
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        params: list[Any] = []
        for row in part:
            params.extend(c(v) for c, v in zip(converts, row, strict=True))
        sql = head + ", ".join([one] * len(part)) + tail
        result = conn.exec_driver_sql(sql, tuple(params))
        if returning:
            out.extend(tuple(r) for r in result)
    return out
