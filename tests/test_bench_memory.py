"""bench/memory.py at toy size, so the benchmark does not rot (figures are not checked)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_memory_bench_runs_and_prints_its_table():
    out = subprocess.run(
        [
            sys.executable,
            "bench/memory.py",
            "--stored",
            "0",
            "300",
            "--sources",
            "16",
            "--per-source",
            "2",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert "peak MB" in lines[1]
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == ["0", "300"]
    for r in rows:
        assert float(r[4]) > 20  # a real process's resident memory, in MB
