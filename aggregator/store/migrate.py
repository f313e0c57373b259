"""Schema migrations: Alembic, configured in code, for SQLite and PostgreSQL alike.

The migrations ship inside the package (aggregator/store/migrations), so an installed
aggregator can upgrade its database with no alembic.ini: `aggregator db upgrade`.
A process that finds an empty database creates the schema itself (so `aggregator run`
just works on a new SQLite file); one that finds an older schema refuses to start and
says to run `aggregator db upgrade`; one that finds a newer schema (written by newer
code) refuses too. Upgrades take a lock, so processes starting together migrate once.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, inspect, select

from aggregator.errors import StoreError
from aggregator.store.tables import TABLE_ENTRY_SEARCH

SCRIPT_LOCATION = "aggregator.store:migrations"
MIGRATE_LOCK = 0x6167676D  # PostgreSQL advisory lock held while a schema is upgraded
VERSION_TABLE = "alembic_version"
# Further revision folders besides the package's own (the tests add a next revision).
EXTRA_VERSIONS: list[str] = []

# Alembic's own lines ("Context impl …", "Running upgrade …") are not for service logs;
# `aggregator db upgrade` prints what it did.
logging.getLogger("alembic").setLevel(logging.WARNING)

State = Literal["empty", "current", "behind", "ahead", "unversioned"]


@dataclass(frozen=True, slots=True)
class Schema:
    """Where a database stands against this code's migrations."""

    state: State
    revision: str | None  # the database's, None when it has none
    head: str  # this code's


def include_name(name: str | None, kind: str, parents: Any) -> bool:
    """What autogenerate compares: not the search index (an FTS5 table and its shadow
    tables on SQLite, a tsvector table on PostgreSQL), which revisions write by hand."""
    return not (kind == "table" and (name or "").startswith(TABLE_ENTRY_SEARCH))


def config(connection: Connection | None = None) -> Config:
    """An Alembic Config built in code; `connection` is the one env.py migrates."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("path_separator", "os")
    if EXTRA_VERSIONS:
        folders = [str(Path(__file__).parent / "migrations" / "versions"), *EXTRA_VERSIONS]
        cfg.set_main_option("version_locations", os.pathsep.join(folders))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    found = ScriptDirectory.from_config(config()).get_current_head()
    if found is None:  # pragma: no cover - the package always ships a first revision
        raise StoreError("store: no schema migrations found in the package")
    return found


def inspect_schema(conn: Connection) -> Schema:
    """Compare the database's revision with this code's head."""
    latest = head()
    tables = set(inspect(conn).get_table_names())
    if VERSION_TABLE not in tables:
        return Schema("unversioned" if tables else "empty", None, latest)
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision is None:
        return Schema("empty" if tables == {VERSION_TABLE} else "unversioned", None, latest)
    if revision == latest:
        return Schema("current", revision, latest)
    script = ScriptDirectory.from_config(config())
    try:
        known = script.get_revision(revision) is not None
    except Exception:  # an id this code has never heard of
        known = False
    return Schema("behind" if known else "ahead", revision, latest)


def upgrade(engine: Engine, revision: str = "head") -> Schema:
    """Apply migrations up to `revision` in one transaction; returns where it ends."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(MIGRATE_LOCK)))
        before = inspect_schema(conn)
        if before.state == "unversioned":
            raise StoreError(_refusal(before))
        if before.state == "ahead":
            raise StoreError(_refusal(before))
        command.upgrade(config(conn), revision)
        return inspect_schema(conn)


def downgrade(engine: Engine, revision: str) -> None:
    """Step back to `revision` ("base": nothing); for tests and for undoing a bad upgrade."""
    with engine.connect().execution_options(write=True) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(MIGRATE_LOCK)))
        command.downgrade(config(conn), revision)


def ensure(engine: Engine, *, create: bool) -> Schema:
    """Check the schema at start-up: create it on an empty database (when `create`),
    refuse an older or newer one with what to do."""
    with engine.connect() as conn:
        found = inspect_schema(conn)
    if found.state == "empty" and create:
        found = upgrade(engine)
    if found.state != "current":
        raise StoreError(_refusal(found))
    return found


def _refusal(found: Schema) -> str:
    if found.state == "behind":
        return (
            f"store: database schema is at revision {found.revision}, this code needs "
            f"{found.head}: run `aggregator db upgrade`"
        )
    if found.state == "ahead":
        return (
            f"store: database schema is at revision {found.revision}, which this code does "
            f"not know (it needs {found.head}): a newer aggregator migrated it; run that one"
        )
    if found.state == "unversioned":
        return (
            "store: the database has tables but no migration history (made by a development "
            "version before migrations existed): use a new database, or drop its tables"
        )
    return (
        f"store: the database has no schema (this code needs {found.head}): "
        "run `aggregator db upgrade`"
    )
