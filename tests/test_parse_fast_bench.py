"""bench/parse.py at toy size: it runs, the fast reader accepts its feed, it prints its table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parent.parent / "bench" / "parse.py"


def test_bench_parse_prints_its_table() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH), "--entries", "3", "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "feed: 3 entries" in out
    for row in ("feedparser", "fast (lxml)", "feedparser + normalise", "fast + normalise"):
        assert any(line.startswith(row + " ") for line in out.splitlines()), out
    assert "vs feedparser" in out
