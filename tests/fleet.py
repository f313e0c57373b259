"""A fleet for scale-out tests and bench/scale.py: many feeds served in-process, and
`aggregator poll` / `aggregator serve` processes started as a user would start them.

The feeds are tests/origin.Origin paths (`/s/NNNN.xml`), so every request is counted
per path, with the most in flight at once. Each feed holds its source's articles;
`publish` adds one, which changes the bytes (and the ETag) of that feed only.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import aiohttp

from tests.origin import Origin

COUNTIES = [
    "兰山",
    "罗庄",
    "河东",
    "郯城",
    "兰陵",
    "沂水",
    "沂南",
    "平邑",
    "费县",
    "蒙阴",
    "莒南",
    "临沭",
]


def source_id(n: int) -> str:
    return f"s{n:04d}"


def title_of(n: int, k: int) -> str:
    """Unique per source and article, so no two sources' articles merge into one story."""
    return f"{COUNTIES[n % len(COUNTIES)]}第{n}号信息源 第{k}条本地新闻 项目推进会召开"


@dataclass
class Farm:
    """Feeds of sources `first` … `first + count - 1`, served by `origin`."""

    origin: Origin
    count: int
    first: int = 0
    articles: dict[int, int] = field(default_factory=dict)  # source → how many it lists
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def path(self, n: int) -> str:
        return f"/s/{source_id(n)}.xml"

    def build(self, per_source: int = 2) -> None:
        for n in range(self.first, self.first + self.count):
            self.articles[n] = per_source
            self.origin.set(self.path(n), body=self.render(n))

    def publish(self, n: int) -> None:
        """One more article on source n."""
        self.articles[n] += 1
        self.origin.set_body(self.path(n), self.render(n))

    def render(self, n: int) -> bytes:
        items = []
        for k in range(self.articles[n], 0, -1):
            when = self.start - timedelta(hours=1) + timedelta(seconds=k)
            items.append(
                f"<item><title>{escape(title_of(n, k))}</title>"
                f"<link>http://www.county{n}.example.cn/news/{k}.html</link>"
                f"<guid isPermaLink='false'>{source_id(n)}-{k}</guid>"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>第{k}条 摘要</description></item>"
            )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>信息源 {n}</title><link>http://www.county{n}.example.cn/</link>"
            + "".join(items)
            + "</channel></rss>"
        ).encode()

    def expected_entries(self) -> int:
        return sum(self.articles.values())


def feeds_yaml(
    sources: list[tuple[int, str, int, str]], *, interval: str, timeout: str = "10s"
) -> str:
    """A feeds.yaml of sources (n, base URL, per_host, host_gap) in one region."""
    lines = [
        "site:",
        "  title: 临沂新闻聚合",
        "  base_url: http://news.example.org",
        "  timezone: Asia/Shanghai",
        "defaults:",
        f"  interval: {interval}",
        f"  timeout: {timeout}",
        "  allow_private_networks: true",
        "regions:",
        "  - id: linyi",
        "    title: 临沂市",
        "    sources:",
    ]
    for n, base, per_host, gap in sources:
        lines += [
            f"      - id: {source_id(n)}",
            f"        url: {base}/s/{source_id(n)}.xml",
            f"        per_host: {per_host}",
            f"        host_gap: {gap}",
        ]
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """An `aggregator` process; its stderr (JSON log lines) goes to a file."""

    role: str
    process: asyncio.subprocess.Process
    log: Path
    port: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def lines(self) -> list[dict[str, Any]]:
        out = []
        for line in self.log.read_text("utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def signal(self, sig: int) -> None:
        if self.process.returncode is None:
            os.kill(self.pid, sig)

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.signal(signal.SIGCONT)
            self.signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.signal(signal.SIGKILL)
                await self.process.wait()


async def spawn(
    role: str, config: Path, db: str, workdir: Path, *extra: str, env: dict[str, str] | None = None
) -> Proc:
    """Start `python -m aggregator ROLE` (poll, serve, run, db upgrade) on a config and database."""
    port = free_port() if role in ("serve", "run") else None
    args = ["--config", str(config), "--db", db, *extra]
    if port is not None:
        args += ["--port", str(port)]
    name = role.replace(" ", "-")
    log = workdir / f"{name}-{len(list(workdir.glob(f'{name}-*.log')))}.log"
    with open(log, "wb") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aggregator",
            *role.split(),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "AGGREGATOR_LOG_LEVEL": "INFO", **(env or {})},
            cwd=workdir,
        )
    return Proc(role, process, log, port)


async def wait_until_serving(proc: Proc, deadline: float = 60) -> None:
    async with asyncio.timeout(deadline), aiohttp.ClientSession() as http:
        while True:
            if proc.process.returncode is not None:
                raise AssertionError(f"{proc.role} exited: {proc.log.read_text()[-2000:]}")
            try:
                async with http.get(f"http://127.0.0.1:{proc.port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
