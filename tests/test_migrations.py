"""Migrations on SQLite and PostgreSQL: the migrated schema is the models', every revision
upgrades from the one before with data in place, and the service refuses a schema that
is older or newer than its code with what to run."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from aggregator.cli import main
from aggregator.errors import StoreError
from aggregator.store import Store, migrate
from aggregator.store.engine import make_engine
from aggregator.store.tables import SEARCH_METADATA, Base
from tests.factories import NOW, article, site_config, store_articles

NEXT = str(Path(__file__).parent / "migrations_next")


def schema_diff(url: str) -> list[object]:
    """What autogenerate would write to make the database match the models (empty: equal)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"

            def include(name: str | None, kind: str, parent: object) -> bool:
                # FTS5 keeps entry_search and its shadow tables out of SQLAlchemy's sight.
                return not (sqlite and kind == "table" and (name or "").startswith("entry_search"))

            context = MigrationContext.configure(
                conn, opts={"include_name": include, "compare_type": True}
            )
            metadata = [Base.metadata] if sqlite else [Base.metadata, SEARCH_METADATA]
            return list(compare_metadata(context, metadata))  # type: ignore[arg-type]
    finally:
        engine.dispose()


def revision_of(url: str) -> migrate.Schema:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return migrate.inspect_schema(conn)
    finally:
        engine.dispose()


@pytest.fixture
def next_revision(monkeypatch: pytest.MonkeyPatch) -> str:
    """Code one revision ahead of the package (tests/migrations_next)."""
    monkeypatch.setattr(migrate, "EXTRA_VERSIONS", [NEXT])
    return "test_next"


def test_the_test_revision_follows_the_package_head() -> None:
    script = ScriptDirectory.from_config(migrate.config())
    assert script.get_current_head() == "0001"
    assert len(list(script.walk_revisions())) == 1  # one initial revision: nothing released


def test_migrated_schema_equals_the_models(db_url: str) -> None:
    assert revision_of(db_url).state == "empty"
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert revision_of(db_url).state == "current"
    assert schema_diff(db_url) == []
    engine = make_engine(db_url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            found = dict(conn.execute(text("SELECT name, type FROM sqlite_master")).all())
            assert found["entry_search"] == "table"  # the FTS5 virtual table
            assert found["entry_search_delete"] == "trigger"
        else:
            indexes = {i["name"] for i in inspect(conn).get_indexes("entry_search")}
            assert "ix_entry_search_terms" in indexes
    engine.dispose()
    # Running it again changes nothing.
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert schema_diff(db_url) == []


def test_every_revision_goes_down_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        script = ScriptDirectory.from_config(migrate.config())
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        for rev in revisions:
            migrate.upgrade(engine, rev)
        migrate.downgrade(engine, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {migrate.VERSION_TABLE}
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    assert schema_diff(db_url) == []


def test_upgrade_from_the_previous_revision_keeps_the_data(
    db_url: str, next_revision: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0001")  # the database as the previous release left it
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(migrate, "EXTRA_VERSIONS", [])
        old = Store(db_url, create=False)
        old.sync_sources(site_config().site, NOW)
        store_articles(old, "feixian-news", [article(n=1), article(n=2)])
        old.close()

    # The new code refuses the old schema and says what to run …
    refusal = r"revision 0001, this code needs test_next: run `aggregator db upgrade`"
    with pytest.raises(StoreError, match=refusal):
        Store(db_url)
    # … which migrates it, keeping every row.
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert "from revision 0001 to test_next" in capsys.readouterr().out
    store = Store(db_url, create=False)
    try:
        assert store.counts() == {"entries": 2, "stories": 2}
        with store.engine.connect() as conn:
            assert "note" in {c["name"] for c in inspect(conn).get_columns("hosts")}
    finally:
        store.close()
    # And back down to the previous revision.
    engine = make_engine(db_url)
    migrate.downgrade(engine, "0001")
    engine.dispose()
    assert revision_of(db_url).revision == "0001"


def test_a_schema_newer_than_the_code_is_refused(db_url: str, next_revision: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    engine.dispose()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(migrate, "EXTRA_VERSIONS", [])
        with pytest.raises(StoreError, match="revision test_next, which this code does not know"):
            Store(db_url)
        assert main(["db", "upgrade", "--db", db_url]) == 1


def test_an_empty_database_is_created_only_when_asked(db_url: str) -> None:
    with pytest.raises(StoreError, match=r"no schema .* run `aggregator db upgrade`"):
        Store(db_url, create=False)
    Store(db_url).close()  # run, serve and poll create it
    Store(db_url, create=False).close()


def test_tables_without_migration_history_are_refused(sqlite_url: str) -> None:
    path = sqlite_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE sources (id TEXT PRIMARY KEY)")
    with pytest.raises(StoreError, match="no migration history"):
        Store(sqlite_url)


@pytest.mark.pg
def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            Store(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert revision_of(pg_url).state == "current"
