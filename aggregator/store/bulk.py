"""Many rows in one statement, for ingest's hot writes (entries, keys, index, membership).

SQLAlchemy's Core spends tens of microseconds of Python per row and column on bind
processing; a poll writes over a thousand rows (18 fingerprint keys per article alone),
so that was most of an ingest's time. Here values are converted to what the driver
takes once per column kind (times as the store keeps them, JSON with orjson), and rows
go out as multi-row `INSERT … VALUES (…), (…)` statements of at most `MAX_PARAMS`
parameters on SQLite, one `unnest` of an array per column on PostgreSQL: one round trip
per chunk on either database. Reads stay SQLAlchemy's, so a
value written here reads back exactly as one written through the ORM types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, Dialect, TableClause
from sqlalchemy.dialects.postgresql import TSVECTOR

from aggregator.store.tables import UTCDateTime

MAX_PARAMS = 30000  # below SQLite's 32766 variables
PG_ROWS = 5000  # rows per statement on PostgreSQL (arrays: no limit but memory)

Convert = Callable[[Any], Any]


@lru_cache(maxsize=4096)  # an article's time goes out once per fingerprint key
def _sqlite_time(value: datetime | None) -> str | None:
    """Naive UTC text, as SQLAlchemy's SQLite DateTime writes it (and reads it back)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def time_param(conn: Connection) -> Callable[[datetime], Any]:
    """How this database's driver takes and gives back a stored time: naive UTC text on
    SQLite (which compares as text, in time order), an aware datetime on PostgreSQL."""
    return _sqlite_time if conn.dialect.name == "sqlite" else _pg_time


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


@lru_cache(maxsize=64)
def _sqlite_plan(
    table: TableClause, columns: tuple[str, ...]
) -> tuple[tuple[tuple[int, Convert], ...], str]:
    """The columns whose values need converting (position, converter); and the
    placeholders of one row."""
    converts: list[tuple[int, Convert]] = []
    for i, name in enumerate(columns):
        kind = table.c[name].type
        if isinstance(kind, UTCDateTime):
            converts.append((i, _sqlite_time))
        elif isinstance(kind, JSON):
            converts.append((i, _json_text))
    return tuple(converts), "(" + ", ".join("?" * len(columns)) + ")"


# Arrays go to PostgreSQL as array literals built here (`{1,NULL}`, `{"a","b\"c"}`): psycopg
# adapts a list element by element in Python (a few microseconds each, and over 10 for an
# aware datetime), which for a poll's thousands of values cost more than the INSERT.


def pg_ints(values: Sequence[int | None]) -> str:
    """An integer array literal."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def pg_texts(values: Sequence[str | None]) -> str:
    """A text array literal: every element quoted, backslashes and quotes escaped."""
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"


def pg_times(values: Sequence[datetime | None]) -> str:
    """A timestamptz array literal of aware times (ISO 8601 with the offset)."""
    return "{" + ",".join("NULL" if v is None else _pg_time_text(v) for v in values) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=4096)  # an article's time goes out once per fingerprint key
def _pg_time_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return value.isoformat()


def _pg_floats(values: Sequence[float | None]) -> str:
    return "{" + ",".join("NULL" if v is None else repr(float(v)) for v in values) + "}"


def _pg_bools(values: Sequence[bool | None]) -> str:
    return "{" + ",".join("NULL" if v is None else ("t" if v else "f") for v in values) + "}"


def _json_texts(values: Sequence[Any]) -> str:
    return pg_texts([_json_text(v) for v in values])


@lru_cache(maxsize=64)
def _pg_arrays(
    table: TableClause, columns: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[Callable[[Sequence[Any]], str], ...], tuple[str, ...], tuple[str, ...]]:
    """Per column the function making its array literal, the typed placeholder taking it
    (`CAST(%s AS bigint[])`), and its value in `unnest(…) AS u(c0, c1, …)` (JSON and
    tsvector go as text, cast there)."""
    arrays: list[Callable[[Sequence[Any]], str]] = []
    casts: list[str] = []
    picks: list[str] = []
    for i, name in enumerate(columns):
        kind = table.c[name].type
        picks.append(f"u.c{i}")
        if isinstance(kind, JSON | TSVECTOR):
            arrays.append(_json_texts if isinstance(kind, JSON) else pg_texts)
            casts.append("CAST(%s AS text[])")
            picks[-1] = f"CAST(u.c{i} AS {'JSONB' if isinstance(kind, JSON) else 'tsvector'})"
        elif isinstance(kind, UTCDateTime):
            arrays.append(pg_times)
            casts.append("CAST(%s AS timestamptz[])")
        else:
            python = kind.python_type
            arrays.append(
                _pg_bools if python is bool
                else pg_ints if python is int
                else _pg_floats if python is float
                else pg_texts
            )  # fmt: skip
            casts.append(f"CAST(%s AS {kind.compile(dialect=dialect)}[])")
    return tuple(arrays), tuple(casts), tuple(picks)


@lru_cache(maxsize=64)
def _pg_plan(
    table: TableClause, columns: tuple[str, ...], dialect: Dialect
) -> tuple[tuple[Callable[[Sequence[Any]], str], ...], str]:
    """The columns' array makers (`_pg_arrays`); and `INSERT … SELECT … FROM
    unnest(%s, …)`: one array parameter per column, so the statement is short and the
    same for any number of rows (a VALUES list of thousands of placeholders costs psycopg
    more to parse than to send)."""
    arrays, casts, picks = _pg_arrays(table, columns, dialect)
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(picks)} "
        f"FROM unnest({', '.join(casts)}) AS u({aliases})"
    )
    return arrays, sql


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
    tail = f" ON CONFLICT {on_conflict}" if on_conflict else ""
    if returning:
        tail += " RETURNING " + ", ".join(returning)
    if conn.dialect.name == "postgresql":
        return _insert_pg(conn, table, cols, rows, tail)
    return _insert_sqlite(conn, table, cols, rows, tail)


def update(
    conn: Connection,
    table: TableClause,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set `columns` of the rows whose `key` column has the given value: rows are
    (key value, *column values). One statement per chunk on PostgreSQL (`UPDATE … FROM
    unnest(…)`), one prepared statement run per row on SQLite (no round trips there)."""
    if not rows:
        return
    cols = (key, *columns)
    if conn.dialect.name == "postgresql":
        arrays, casts, picks = _pg_arrays(table, cols, conn.dialect)
        sets = ", ".join(f"{c} = {pick}" for c, pick in zip(columns, picks[1:], strict=True))
        aliases = ", ".join(f"c{i}" for i in range(len(cols)))
        sql = (
            f"UPDATE {table.name} SET {sets} FROM unnest({', '.join(casts)}) AS u({aliases}) "
            f"WHERE {table.name}.{key} = u.c0"
        )
        for start in range(0, len(rows), PG_ROWS):
            part = rows[start : start + PG_ROWS]
            conn.exec_driver_sql(
                sql, tuple(array([row[i] for row in part]) for i, array in enumerate(arrays))
            )
        return
    converts, _ = _sqlite_plan(table, cols)
    sets = ", ".join(f"{c} = ?" for c in columns)
    params = []
    for row in rows:
        values = _sqlite_values(row, converts)
        params.append((*values[1:], values[0]))
    conn.exec_driver_sql(f"UPDATE {table.name} SET {sets} WHERE {key} = ?", params)


def _insert_pg(
    conn: Connection,
    table: TableClause,
    cols: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    tail: str,
) -> list[tuple[Any, ...]]:
    arrays, sql = _pg_plan(table, cols, conn.dialect)
    out: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), PG_ROWS):
        part = rows[start : start + PG_ROWS]
        params = tuple(array([row[i] for row in part]) for i, array in enumerate(arrays))
        result = conn.exec_driver_sql(sql + tail, params)
        if result.returns_rows:
            out.extend(tuple(r) for r in result)
    return out


def _insert_sqlite(
    conn: Connection,
    table: TableClause,
    cols: tuple[str, ...],
    rows: Sequence[Sequence[Any]],
    tail: str,
) -> list[tuple[Any, ...]]:
    converts, one = _sqlite_plan(table, cols)
    head = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
    out: list[tuple[Any, ...]] = []
    per = max(1, MAX_PARAMS // len(cols))
    for start in range(0, len(rows), per):
        part = rows[start : start + per]
        params: list[Any] = []
        for row in part:
            params += _sqlite_values(row, converts)
        sql = head + ", ".join([one] * len(part)) + tail
        result = conn.exec_driver_sql(sql, tuple(params))
        if result.returns_rows:
            out.extend(tuple(r) for r in result)
    return out


def _sqlite_values(row: Sequence[Any], converts: Sequence[tuple[int, Convert]]) -> list[Any]:
    """A row's values as SQLite's driver takes them (`_sqlite_plan`'s converters applied)."""
    values = list(row)
    for i, convert in converts:
        values[i] = convert(values[i])
    return values
