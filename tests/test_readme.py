"""The README's two commands stay true: CI runs the second one verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_readme_opens_with_run_and_test_commands() -> None:
    run, test = readme_commands()
    assert run.endswith("aggregator run")
    assert "pytest" in test and "[test]" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert test in ci.splitlines()
