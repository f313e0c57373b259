"""A running service on a feeds.yaml file that tests edit: for reload and admin tests.

`site_yaml` writes the small config those tests edit: 山东 › 临沂市 › 费县 and 蒙阴县,
with each source given as `id` (its fixture feed is looked up) and optional extra keys.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aggregator.config import load
from aggregator.reload import Reloader
from aggregator.service import Parts, open_parts
from aggregator.settings import Settings
from tests.factories import SITE_YAML

FEEDS = {
    "feixian-news": "/feeds/rss20_utf8.xml",
    "feixian-gov": "/feeds/atom.xml",
    "feixian-syn": "/feeds/syndicated_a.xml",
    "mengyin-rb": "/feeds/rss20_gbk_naive.xml",
    "lanling-tv": "/feeds/rss10.rdf",
}

# The factories' site, defaults and channels, with the economy keywords left to fill in.
HEAD = SITE_YAML.split("regions:\n")[0].replace("[企业, 项目, 招商]", "[{economy}]") + (
    "regions:\n"
    "  - id: shandong\n"
    "    title: 山东\n"
    "    regions:\n"
    "      - id: linyi\n"
    "        title: 临沂市\n"
    "        regions:\n"
)


def site_yaml(
    origin: str,
    regions: dict[str, list[str]],
    extra: dict[str, str] | None = None,
    economy: str = "企业, 项目, 招商",
) -> str:
    """feeds.yaml text: `regions` maps feixian/mengyin to source ids; `extra` adds keys."""
    extra = extra or {}
    titles = {"feixian": "费县", "mengyin": "蒙阴县"}
    out = [HEAD.replace("{economy}", economy)]
    for rid in ("feixian", "mengyin"):
        out.append(f"          - id: {rid}\n            title: {titles[rid]}\n")
        if regions.get(rid):
            out.append("            sources:\n")
        for sid in regions.get(rid, []):
            out.append(f"              - id: {sid}\n                url: {origin}{FEEDS[sid]}\n")
            if sid in extra:
                out.append(f"                {extra[sid]}\n")
    return "".join(out)


def write_old(path: Path, text: str) -> None:
    """Write a file as if saved a minute ago, so a reload need not wait for it to settle."""
    path.write_text(text, "utf-8")
    past = time.time() - 60
    os.utime(path, (past, past))


@dataclass
class Live:
    parts: Parts
    path: Path
    origin: Any

    @property
    def runtime(self) -> Any:
        return self.parts.runtime

    @property
    def reloader(self) -> Reloader:
        assert self.parts.runtime.reloader is not None
        return self.parts.runtime.reloader

    def write(self, regions: dict[str, list[str]], **kwargs: Any) -> None:
        write_old(self.path, site_yaml(self.origin.url("").rstrip("/"), regions, **kwargs))


@asynccontextmanager
async def live_service(
    origin: Any,
    db_url: str,
    tmp_path: Path,
    regions: dict[str, list[str]],
    *,
    poll: bool = True,
    admin_token: str | None = None,
    settle: float = 0.05,
    **kwargs: Any,
) -> AsyncIterator[Live]:
    path = tmp_path / "feeds.yaml"
    write_old(path, site_yaml(origin.url("").rstrip("/"), regions, **kwargs))
    settings = Settings(db=db_url, workers=0, concurrency=8, admin_token=admin_token)
    async with open_parts(settings, load(str(path)), poll=poll) as parts:
        parts.runtime.reloader = Reloader(parts.runtime, parts.poller, settle=settle)
        try:
            yield Live(parts, path, origin)
        finally:
            if parts.poller is not None:
                await parts.poller.stop()


async def eventually(check: Callable[[], Any], timeout: float = 20.0, every: float = 0.05) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check}")
        await asyncio.sleep(every)
