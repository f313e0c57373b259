"""bench/ingest.py at toy size on both databases: it stores every article through the real
path and prints its table (performance itself is measured by hand; nothing is timed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PG_URL, require_pg

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_ingest_bench_stores_every_article_and_prints_its_table(db: str) -> None:
    if db == "postgresql":
        require_pg()
    out = subprocess.run(
        [sys.executable, "bench/ingest.py", "--feeds", "4", "--entries", "6", "--db", db,
         "--pg", PG_URL],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "4 feeds × 6 entries: 24 articles" in out.stdout
    lines = {tuple(line.split()[:2]) for line in out.stdout.splitlines() if line.startswith(db)}
    assert {(db, "ours"), (db, "baseline"), (db, "ratio")} <= lines
