"""`aggregator demo`: the real service, polling bundled samples served on loopback.

No internet needed: within seconds /feeds/region/linyi.atom holds merged entries.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from aggregator.config import LoadedConfig, load, load_text
from aggregator.demo.server import SAMPLES, sample_app
from aggregator.settings import DEFAULT_DB, Settings

log = logging.getLogger("aggregator.demo")

DEMO_DB = "./aggregator-demo.db"  # with --keep: kept, but apart from the real service's database


def demo_config(origin: str, base_url: str, directory: str | None = None) -> LoadedConfig:
    """The sample feeds.yaml pointed at the sample server and the demo's own address.

    With `directory`, the filled-in file is written there and loaded from there, so the
    running demo can be edited and reloaded live like a real deployment.
    """
    text = (SAMPLES / "feeds.yaml").read_text("utf-8")
    text = text.replace("{origin}", origin).replace("http://127.0.0.1:8080", base_url)
    if directory is None:
        return load_text(text, str(SAMPLES / "feeds.yaml"))
    path = Path(directory) / "feeds.yaml"
    path.write_text(text, "utf-8")
    return load(path)


async def start_samples(host: str = "127.0.0.1") -> tuple[web.AppRunner, str]:
    """Serve the samples on a free loopback port; returns the runner and its origin."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((host, 0))  # bound first: the files must name the port they are served on
    origin = f"http://{host}:{sock.getsockname()[1]}"
    runner = web.AppRunner(sample_app(origin), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner, origin


def run_demo(settings: Settings, *, keep: bool = False) -> int:
    from aggregator.service import serve_forever

    tmp = tempfile.mkdtemp(prefix="aggregator-demo-")  # the demo's feeds.yaml (and database)
    if settings.db == DEFAULT_DB:
        name = DEMO_DB if keep else os.path.join(tmp, "demo.db")
        settings = replace(settings, db=f"sqlite:///{name}")

    async def go() -> None:
        runner, origin = await start_samples()
        try:
            base = f"http://{settings.host}:{settings.port}"
            config = demo_config(origin, base, tmp)
            log.info(
                "demo: sample sources at %s; open %s/ or %s/feeds/region/linyi.atom",
                origin,
                base,
                base,
            )
            log.info("demo: its feeds.yaml is %s (edit it: the demo reloads it live)", config.path)
            await serve_forever(settings, config, web=True, poll=True)
        finally:
            await runner.cleanup()

    try:
        asyncio.run(go())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0
