"""bench/serve.py at toy size: every code path of the benchmark runs and prints its table.

The load comes from the benchmark's in-process aiohttp client (no wrk needed); nginx joins
when it is installed and is reported as not installed otherwise. No figure is judged here.
"""

from __future__ import annotations

import pytest

from tests.benches import run_bench

pytestmark = pytest.mark.slow


def test_the_serving_benchmark_prints_its_table() -> None:
    args = ["--load", "aiohttp", "--duration", "0.3", "--connections", "4", "--articles", "50"]
    done = run_bench("serve.py", *args, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "ours/bare" in out and "ours/nginx" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("atom", "rss", "json"))]
    cases = {(row[0], row[1]) for row in rows if not row[1].endswith(":")}  # not the verdicts
    assert cases == {(f, c) for f in ("atom", "rss", "json") for c in ("200", "304", "gzip", "br")}
    assert "304: ours" in out and "worst p99" in out
