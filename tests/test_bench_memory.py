"""bench/memory.py at toy size, so the benchmark does not rot (figures are not checked)."""

import pytest

from tests.benches import run_bench


@pytest.mark.slow
def test_memory_bench_runs_and_prints_its_table():
    args = ["--stored", "0", "300", "--sources", "16", "--per-source", "2", "--workers", "1"]
    out = run_bench("memory.py", *args, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert "peak MB" in lines[1]
    rows = [line.split() for line in lines[2:]]
    assert [r[0] for r in rows] == ["0", "300"]
    for r in rows:
        assert float(r[4]) > 20  # a real process's resident memory, in MB
