"""`aggregator demo`: the real service, polling bundled samples served on loopback.

No internet needed: within seconds /feeds/region/linyi.atom holds merged entries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
from dataclasses import replace

from aiohttp import web

from aggregator.config import LoadedConfig, load_text
from aggregator.demo.server import SAMPLES, sample_app
from aggregator.settings import DEFAULT_DB, Settings

log = logging.getLogger("aggregator.demo")


def demo_config(origin: str, base_url: str) -> LoadedConfig:
    """The sample feeds.yaml pointed at the sample server and the demo's own address."""
    text = (SAMPLES / "feeds.yaml").read_text("utf-8")
    text = text.replace("{origin}", origin).replace("http://127.0.0.1:8080", base_url)
    return load_text(text, str(SAMPLES / "feeds.yaml"))


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

    tmp = None
    if settings.db == DEFAULT_DB and not keep:
        tmp = tempfile.mkdtemp(prefix="aggregator-demo-")
        settings = replace(settings, db=f"sqlite:///{os.path.join(tmp, 'demo.db')}")

    async def go() -> None:
        runner, origin = await start_samples()
        try:
            base = f"http://{settings.host}:{settings.port}"
            config = demo_config(origin, base)
            log.info(
                "demo: sample sources at %s; open %s/ or %s/feeds/region/linyi.atom",
                origin,
                base,
                base,
            )
            await serve_forever(settings, config, web=True, poll=True)
        finally:
            await runner.cleanup()

    try:
        asyncio.run(go())
    finally:
        if tmp:
            with contextlib.suppress(OSError):
                for name in os.listdir(tmp):
                    os.remove(os.path.join(tmp, name))
                os.rmdir(tmp)
    return 0
