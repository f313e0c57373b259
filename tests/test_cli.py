"""The command line as an admin uses it: check, poll --once, refusing a bad config."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aggregator.cli import main

ROOT = Path(__file__).parent.parent

BAD = textwrap.dedent(
    """\
    site:
      title: 临沂
      base_url: http://news.example.org
    defaults:
      interval: 15x
    regions:
      - id: linyi
        title: 临沂市
        sources:
          - id: linyi
            url: http://example.org/rss.xml
            channels: [sport]
    """
)


def test_check_accepts_the_repository_feeds_yaml(capsys) -> None:
    assert main(["check", str(ROOT / "feeds.yaml")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "ok" in out and "sources" in out


def test_check_lists_every_problem_with_its_line(tmp_path, capsys) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BAD, "utf-8")
    assert main(["check", str(path)]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:5", f"{path}:10", f"{path}:12"]
    assert "15x" in lines[0] and "duplicate id 'linyi'" in lines[1] and "sport" in lines[2]


@pytest.mark.parametrize("command", ["run", "serve", "poll"])
def test_service_commands_refuse_an_invalid_config(tmp_path, capsys, command) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BAD, "utf-8")
    assert main([command, "--config", str(path), "--db", f"sqlite:///{tmp_path}/x.db"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:5:" in err and "nothing was started" in err
    assert not (tmp_path / "x.db").exists()


def test_environment_variables_set_the_config(tmp_path, monkeypatch, capsys) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(BAD, "utf-8")
    monkeypatch.setenv("AGGREGATOR_CONFIG", str(path))
    assert main(["check"]) == 2


async def test_poll_once_polls_everything_and_prints_a_summary(origin, tmp_path) -> None:
    from tests.factories import SITE_YAML

    origin.set("/down", status=500, body=b"")
    config = tmp_path / "feeds.yaml"
    config.write_text(SITE_YAML.replace("{origin}", origin.url("").rstrip("/")), "utf-8")
    db = tmp_path / "agg.db"
    env = {
        **os.environ,
        "AGGREGATOR_DATABASE_URL": f"sqlite:///{db}",
        "AGGREGATOR_WORKERS": "1",
        "COLUMNS": "200",
    }
    proc = await _run(
        [sys.executable, "-m", "aggregator", "poll", "--once", "--config", str(config)], env
    )
    assert proc.returncode == 0, proc.stderr
    assert "8 sources polled" in proc.stdout
    assert "lanling-down" in proc.stdout and "http_error" in proc.stdout
    lines = [line for line in proc.stderr.splitlines() if '"event":"poll"' in line]
    assert len(lines) == 8  # one JSON log line per poll when not on a terminal


async def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return subprocess.CompletedProcess(cmd, proc.returncode or 0, out.decode(), err.decode())


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("AGGREGATOR_PORT", "abc", "not a number"),
        ("AGGREGATOR_WORKERS", "-1", "at least 0"),
        ("AGGREGATOR_CONCURRENCY", "0", "at least 1"),
        ("AGGREGATOR_LEASE_SECONDS", "soon", "not a number"),
    ],
)
def test_a_bad_numeric_setting_is_a_clear_error_not_a_traceback(
    monkeypatch, capsys, var, value, message
) -> None:
    monkeypatch.setenv(var, value)
    assert main(["check", str(ROOT / "feeds.yaml")]) == 2
    err = capsys.readouterr().err
    assert var in err and message in err and "Traceback" not in err
