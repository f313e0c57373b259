"""Shared fixtures: databases (SQLite and PostgreSQL), a fixture-feed origin server, sites.

Store tests run on both databases. PostgreSQL is at AGGREGATOR_TEST_PG_URL (default
postgresql://postgres@127.0.0.1:5432/test); each test gets its own schema, dropped after.
When no server answers the PostgreSQL variants skip with a reason, unless
AGGREGATOR_REQUIRE_PG=1 (set by .ci/run), which turns that into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PG_URL = os.environ.get("AGGREGATOR_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
DATA = Path(__file__).parent / "data"

_pg_state: dict[str, str | None] = {}


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    if "why" not in _pg_state:
        try:
            import psycopg

            with psycopg.connect(PG_URL, connect_timeout=3) as conn:
                conn.execute("select 1")
            _pg_state["why"] = None
        except Exception as exc:  # any failure means: not here
            _pg_state["why"] = f"PostgreSQL at {PG_URL} is unreachable: {exc}".splitlines()[0]
    return _pg_state["why"]


def require_pg() -> None:
    why = pg_unavailable()
    if why is None:
        return
    if os.environ.get("AGGREGATOR_REQUIRE_PG") == "1":
        pytest.fail(why + " (AGGREGATOR_REQUIRE_PG=1)")
    pytest.skip(why)


def _pg_schema_url() -> Iterator[str]:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: an SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    require_pg()
    yield from _pg_schema_url()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema of its own, for tests marked `pg` that need no SQLite twin."""
    require_pg()
    yield from _pg_schema_url()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
async def origin() -> Any:
    from tests.origin import Origin

    server = Origin()
    await server.start()
    yield server
    await server.close()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """`main()` installs log handlers on the (captured) stderr; take them away after."""
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
async def faults() -> Any:
    """A second origin on 127.0.0.2: another host, for sources that misbehave."""
    from tests.origin import Origin

    server = Origin()
    await server.start("127.0.0.2")
    yield server
    await server.close()


@pytest.fixture
async def harness(origin, faults, sqlite_url) -> Any:
    """A poller with a healthy source and a test's faulty ones (see tests/harness.py)."""
    from tests.harness import Harness

    bench = Harness(origin, faults, sqlite_url)
    yield bench
    await bench.close()


@pytest.fixture
def aiohttp_client(aiohttp_client: Any) -> Any:
    """pytest-aiohttp's client, with our applications served as `aggregator serve` serves
    them: cached feeds answered ahead of the router (web.hot), so every test of a feed
    asked for twice covers that path too."""
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from aggregator.web.hot import HotRunner
    from aggregator.web.runtime import RUNTIME

    class Served(TestServer):
        async def _make_runner(self, **kwargs: Any) -> HotRunner:
            return HotRunner(self.app, **kwargs)

    async def client(app: Any, **kwargs: Any) -> Any:
        if isinstance(app, web.Application) and RUNTIME in app:
            app = Served(app)
        return await aiohttp_client(app, **kwargs)

    return client
