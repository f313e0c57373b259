"""bench/poll.py at toy size: it runs its three passes and prints its table (performance
itself is measured by hand; nothing here is timed)."""

from __future__ import annotations

from tests.benches import run_bench


def test_poll_bench_runs_its_passes_and_prints_its_table() -> None:
    out = run_bench("poll.py", "--sources", "5", "--entries", "5")
    assert out.returncode == 0, out.stdout + out.stderr
    rows = {(line[:9].strip(), line[10:16].strip()): line for line in out.stdout.splitlines()}
    # every pass polled every source, and the server answered as the pass wants
    assert rows[("first", "ours")].endswith("200×5")
    assert rows[("304", "ours")].endswith("304×5")
    assert rows[("200 same", "ours")].endswith("200×5")
    # every entry of every source was stored (5 × 5; none is a copy of another source's)
    assert any(line.startswith("stored entries: ours 25") for line in out.stdout.splitlines()), (
        out.stdout
    )
    # reader's rows when it is installed here, else a note saying it was skipped
    assert ("first", "reader") in rows or "not installed" in out.stdout
