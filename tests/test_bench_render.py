"""bench/render.py at toy size on both databases: it fills a store, renders every feed of
the table through the server's path and prints the table (nothing is timed here)."""

from __future__ import annotations

import pytest

from tests.benches import run_bench
from tests.conftest import PG_URL, require_pg


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_render_bench_renders_every_feed_and_prints_its_table(db: str) -> None:
    if db == "postgresql":
        require_pg()
    out = run_bench("render.py", "--sizes", "300,600", "--db", db, "--pg", PG_URL)
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith(db)]
    assert [r[1] for r in rows] == ["300", "600"]
    assert rows[0][10] == "1.00×"  # the smallest size is the baseline
    assert all({"MET", "MISSED"} & set(r) for r in rows)
