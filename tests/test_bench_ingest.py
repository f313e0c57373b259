"""bench/ingest.py at toy size on both databases: it stores every article through the real
path and prints its table (performance itself is measured by hand; nothing is timed)."""

from __future__ import annotations

import pytest

from tests.benches import run_bench
from tests.conftest import PG_URL, require_pg


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_ingest_bench_stores_every_article_and_prints_its_table(db: str) -> None:
    if db == "postgresql":
        require_pg()
    out = run_bench("ingest.py", "--feeds", "4", "--entries", "6", "--db", db, "--pg", PG_URL)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 feeds × 6 entries: 24 articles" in out.stdout
    lines = {tuple(line.split()[:2]) for line in out.stdout.splitlines() if line.startswith(db)}
    assert {(db, "ours"), (db, "baseline"), (db, "ratio")} <= lines
