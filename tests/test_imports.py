"""The pure stages stay pure: parsing, normalising and rendering import no server, database
or scheduler, so they run in parser processes and tools without them (style.md)."""

import subprocess
import sys

import pytest

PURE = ["aggregator.parse", "aggregator.normalise", "aggregator.publish", "aggregator.poller.work"]
IO = ["aiohttp", "sqlalchemy", "apscheduler", "psycopg"]


@pytest.mark.parametrize("module", PURE)
def test_pure_stage_imports_no_io_library(module):
    code = f"import sys\nimport {module}\nprint(' '.join(m for m in {IO!r} if m in sys.modules))\n"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert out == "", f"{module} pulls in {out}"
