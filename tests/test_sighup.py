"""`aggregator run` as a process: SIGHUP reloads feeds.yaml; its log is JSON lines.

The process polls the in-process origin and serves on a free port; the test edits the
file, sends SIGHUP and watches /api/config (file watching is off, so only the signal can
have reloaded it). Waits are polls with generous deadlines, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest

from tests.live import site_yaml, write_old

V1 = {"feixian": ["feixian-news"], "mengyin": ["mengyin-rb"]}
V2 = {"feixian": ["feixian-news", "feixian-gov"], "mengyin": ["mengyin-rb"]}
POLL_FIELDS = {"source", "region", "status", "http", "ms", "bytes", "new"}

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(check, deadline: float = 60.0):
    end = time.monotonic() + deadline
    while True:
        try:
            value = await check()
        except (aiohttp.ClientError, OSError):
            value = None
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"not true within {deadline}s")
        await asyncio.sleep(0.1)


async def test_sighup_reloads_and_the_log_is_json(origin, tmp_path):
    base = origin.url("").rstrip("/")
    config = tmp_path / "feeds.yaml"
    write_old(config, site_yaml(base, V1))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "AGGREGATOR_ADMIN_TOKEN"},
        "AGGREGATOR_DATABASE_URL": f"sqlite:///{tmp_path / 'agg.db'}",
        "AGGREGATOR_WORKERS": "1",
    }
    log_path = tmp_path / "stderr.log"
    with open(log_path, "wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            *[sys.executable, "-m", "aggregator", "run", "--config", str(config)],
            *["--port", str(port), "--no-watch"],
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log_file,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def config_json():
                async with http.get(f"{url}/api/config") as resp:
                    return await resp.json() if resp.status == 200 else None

            first = await wait_for(config_json)
            assert {s["id"] for s in first["sources"]} == {"feixian-news", "mengyin-rb"}
            # The first polls happen within the start spread (interval/10 = 6s).
            await wait_for(lambda: _polled(http, url, 2))

            write_old(config, site_yaml(base, V2))
            proc.send_signal(signal.SIGHUP)

            async def reloaded():
                body = await config_json()
                return body if body and body["sha256"] != first["sha256"] else None

            second = await wait_for(reloaded)
            assert "feixian-gov" in {s["id"] for s in second["sources"]}
            assert second["loaded_at"] >= first["loaded_at"] and second["rejected"] is None

            write_old(config, site_yaml(base, V2).replace("interval: 1m", "interval: 1 minute"))
            proc.send_signal(signal.SIGHUP)

            async def rejected():
                body = await config_json()
                return body if body and body["rejected"] else None

            third = await wait_for(rejected)
            assert third["sha256"] == second["sha256"]
            assert third["rejected"]["problems"][0].startswith(f"{config}:6: ")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 60)
    assert code == 0

    lines = [ln for ln in log_path.read_text("utf-8").splitlines() if ln.strip()]
    records = [json.loads(ln) for ln in lines]  # every line is one JSON object
    assert all({"ts", "level", "logger", "msg"} <= set(r) for r in records)
    polls = [r for r in records if r.get("event") == "poll"]
    assert len(polls) >= 2
    for p in polls:
        assert set(p) >= POLL_FIELDS, p
        assert (
            isinstance(p["ms"], int) and isinstance(p["bytes"], int) and isinstance(p["new"], int)
        )
    assert {p["source"] for p in polls} >= {"feixian-news", "mengyin-rb"}
    assert any(p["region"] == "mengyin" and p["http"] == 200 for p in polls)
    applied = [r for r in records if r.get("event") == "config" and r.get("outcome") == "applied"]
    assert applied and applied[0]["reason"] == "SIGHUP" and applied[0]["added"] == ["feixian-gov"]
    problems = [r["msg"] for r in records if r.get("event") == "config_problem"]
    assert problems == third["rejected"]["problems"]
    assert not any("Authorization" in ln or "Bearer" in ln for ln in lines)


async def _polled(http: aiohttp.ClientSession, url: str, n: int) -> bool:
    async with http.get(f"{url}/api/sources") as resp:
        sources = (await resp.json())["sources"]
    return sum(1 for s in sources if s["last_attempt"]) >= n


def test_log_lines_read_well_on_a_terminal_and_parse_off_one():
    import logging

    from aggregator.observability import JsonFormatter, TextFormatter

    poll = logging.LogRecord("aggregator.poll", logging.INFO, "", 0, "poll %s", ("x",), None)
    poll.__dict__.update(
        event="poll", source="feixian-news", region="feixian", status="ok", http=200, ms=41,
        bytes=2314, new=3, detail=None,
    )  # fmt: skip
    problem = logging.LogRecord(
        "aggregator.config", logging.WARNING, "", 0, "%s", ("feeds.yaml:6: bad duration",), None
    )
    problem.__dict__.update(event="config_problem")
    parsed = json.loads(JsonFormatter().format(poll))
    assert {k: parsed[k] for k in POLL_FIELDS} == {
        "source": "feixian-news", "region": "feixian", "status": "ok", "http": 200, "ms": 41,
        "bytes": 2314, "new": 3,
    }  # fmt: skip
    assert json.loads(JsonFormatter().format(problem))["msg"] == "feeds.yaml:6: bad duration"
    text = TextFormatter().format(poll)
    assert "ok" in text and "feixian-news" in text and "http=200" in text and "new=3" in text
    assert "feeds.yaml:6: bad duration" in TextFormatter().format(problem)
