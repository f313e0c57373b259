"""A local source universe for bench/poll.py: N RSS feeds × E entries of CJK news.

Each feed is about 57 KB at 50 entries (about 1.1 KB an entry): a title, a summary with
inline HTML, `content:encoded` with paragraphs, an image, links and a script to strip,
pubDate, guid, category and author. About one entry in ten is a syndicated copy of a
shared city story (same title and text, the county site's own link and guid), so several
feeds carry one story and de-duplication has work to do. The text is drawn seeded from
common characters, so two unrelated entries share no more than chance n-grams.

The feeds are served by tests.origin.Origin (ETag, Last-Modified, 304) in a process of
its own, so serving them never shares a GIL with what is measured:

    with SourceServer(500, 50) as server:
        server.url(n)                   # http://127.0.0.1:PORT/s/s0000.xml
        server.mode(validators=False)   # from now on: 200, the same bytes, no validators
        server.stats()                  # requests answered, by status

Run alone, it prints `PORT` on stdout once listening and serves until killed:
`PYTHONPATH=. python bench/sources.py --sources 500 --entries 50`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import escape

from aiohttp import web

from tests.fleet import COUNTIES, source_id
from tests.origin import Origin

ROOT = Path(__file__).resolve().parent.parent
# Common characters of news text; words are 2-4 of them, so unrelated texts rarely agree.
CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下"
    "过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都"
    "两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重"
    "新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想"
    "已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知"
    "较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造"
    "百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清美再采转更单风切打白教"
    "速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温"
    "传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千"
)
COMPANY = ["临沂日报", "沂蒙晚报", "临沂广播电视台", "琅琊新闻网"]
CATEGORIES = ["时政", "经济", "民生", "文化", "教育", "农业", "交通", "招商"]
SHARED_STORIES = 40  # city stories that county sites re-publish
SHARE_EVERY = 10  # one entry in this many is a copy of a shared story


def _words(rng: random.Random, n: int) -> str:
    return "".join("".join(rng.choice(CHARS) for _ in range(rng.randint(2, 4))) for _ in range(n))


def _sentence(rng: random.Random) -> str:
    return _words(rng, rng.randint(4, 7)) + rng.choice("。，；！") + _words(rng, 3) + "。"


def _story(rng: random.Random, label: str) -> tuple[str, str, str]:
    """(title, summary HTML, content HTML) of one article."""
    title = f"{label}{_words(rng, rng.randint(4, 6))}"
    summary = f"<p>{_sentence(rng)}<b>{_words(rng, 2)}</b>{_sentence(rng)}</p>"
    paragraphs = "".join(f"<p>{_sentence(rng)}{_sentence(rng)}</p>" for _ in range(2))
    content = (
        f"{paragraphs}<p><img src='/images/{rng.randrange(10**6)}.jpg' alt='{_words(rng, 2)}'>"
        f"<a href='/news/{rng.randrange(10**6)}.html'>{_words(rng, 3)}</a></p>"
        f"<script>track('{rng.randrange(10**6)}')</script><p>{_sentence(rng)}</p>"
    )
    return title, summary, content


def shared_stories(seed: int = 0) -> list[tuple[str, str, str]]:
    rng = random.Random(f"shared-{seed}")
    return [_story(rng, "【市级】") for _ in range(SHARED_STORIES)]


def render(n: int, entries: int, now: datetime, shared: list[tuple[str, str, str]]) -> bytes:
    """Source n's feed: RSS 2.0 with content:encoded, newest entry first."""
    rng = random.Random(f"feed-{n}")
    county = COUNTIES[n % len(COUNTIES)]
    site = f"http://www.county{n}.example.cn"
    items = []
    for k in range(entries, 0, -1):
        if k % SHARE_EVERY == n % SHARE_EVERY:
            title, summary, content = shared[(n + k) % len(shared)]
        else:
            title, summary, content = _story(rng, f"{county}：")
        when = now - timedelta(minutes=37 * (entries - k) + n % 60)
        items.append(
            f"<item><title>{escape(title)}</title>"
            f"<link>{site}/news/2026/{n}-{k}.html</link>"
            f"<guid isPermaLink='false'>{source_id(n)}-{k}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<author>{rng.choice(COMPANY)}</author>"
            f"<category>{rng.choice(CATEGORIES)}</category>"
            f"<description>{escape(summary)}</description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        f"<channel><title>{county}新闻网 {n}</title><link>{site}/</link>"
        f"<description>{county}本地新闻</description><language>zh-cn</language>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def path_of(n: int) -> str:
    return f"/s/{source_id(n)}.xml"


def build(origin: Origin, count: int, entries: int, seed: int = 0) -> None:
    """Put every feed on the origin, with validators (ETag/Last-Modified → 304)."""
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # fixed: the bytes never change
    shared = shared_stories(seed)
    for n in range(count):
        origin.set(path_of(n), body=render(n, entries, now, shared))


async def _serve(count: int, entries: int) -> None:
    origin = Origin()
    build(origin, count, entries)
    feeds = [b for p, b in origin.routes.items() if p.startswith("/s/")]
    statuses: Counter[int] = Counter()

    async def mode(request: web.Request) -> web.StreamResponse:
        on = request.query.get("validators", "1") == "1"
        for b in feeds:
            b.validators = on
        return web.json_response({"validators": on})

    async def stats(request: web.Request) -> web.StreamResponse:
        return web.json_response({"statuses": statuses, "paths": len(origin.requests)})

    origin.set("/_bench/mode", handler=mode)
    origin.set("/_bench/stats", handler=stats)

    @web.middleware
    async def count_status(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        resp = await handler(request)
        if request.path.startswith("/s/"):
            statuses[resp.status] += 1
        return resp

    app = web.Application(middlewares=[count_status])
    app.router.add_route("*", "/{tail:.*}", origin.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    port = runner.addresses[0][1]
    print(port, flush=True)
    await asyncio.Event().wait()


class SourceServer:
    """The universe served by a child process on a random loopback port."""

    def __init__(self, count: int, entries: int) -> None:
        self.count, self.entries = count, entries
        self.process: subprocess.Popen[str] | None = None
        self.base = ""

    def __enter__(self) -> SourceServer:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        args = [sys.executable, str(Path(__file__).resolve()), "--sources", str(self.count)]
        self.process = subprocess.Popen(
            [*args, "--entries", str(self.entries)], stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.close()
            raise RuntimeError("bench/sources.py did not start")
        self.base = f"http://127.0.0.1:{line}"
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def url(self, n: int) -> str:
        return self.base + path_of(n)

    def urls(self) -> list[str]:
        return [self.url(n) for n in range(self.count)]

    def _get(self, path: str) -> dict[str, object]:
        with urllib.request.urlopen(self.base + path, timeout=30) as resp:
            data: dict[str, object] = json.load(resp)
            return data

    def mode(self, *, validators: bool) -> None:
        """validators=False: 200 with the same bytes and no ETag/Last-Modified."""
        self._get(f"/_bench/mode?validators={int(validators)}")

    def stats(self) -> Counter[str]:
        return Counter(self._get("/_bench/stats")["statuses"])  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--entries", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(_serve(args.sources, args.entries))


if __name__ == "__main__":
    main()
