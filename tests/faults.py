"""Faulty sources for tests: the answers county sites really give, as origin handlers.

Each function returns a handler for `Origin.set(path, handler=...)`. Handlers that hold
a connection open stop as soon as the client has gone, so a test's server shuts down
at once. Feed builders write RSS 2.0 with Chinese titles, in any encoding.
"""

from __future__ import annotations

import asyncio
import gzip
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from aiohttp import web

from aggregator.model import PollStatus
from aggregator.poller.work import Job, Outcome, digest_document

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RSS_TYPE = "application/rss+xml; charset=utf-8"


def rss(
    titles: Sequence[str],
    *,
    site: str = "http://www.feixian.example.cn",
    encoding: str = "utf-8",
    declared: str | None = None,
    ttl: int | None = None,
    extra: str = "",
) -> bytes:
    """An RSS 2.0 document with one item per title, encoded in `encoding`."""
    items = "".join(
        f"<item><title>{t}</title><link>{site}/news/{i}.html</link>"
        f"<guid>{site}/news/{i}.html</guid>"
        f"<pubDate>Thu, 26 Nov 2026 {8 + i % 10:02d}:00:00 +0800</pubDate>"
        f"<description>{t}。</description></item>"
        for i, t in enumerate(titles)
    )
    text = (
        f'<?xml version="1.0" encoding="{declared or encoding}"?>\n'
        f'<rss version="2.0"><channel><title>费县新闻网</title><link>{site}/</link>'
        f"{f'<ttl>{ttl}</ttl>' if ttl else ''}{extra}{items}</channel></rss>"
    )
    return text.encode(encoding)


def headlines(n: int, prefix: str = "费县") -> list[str]:
    return [f"{prefix}召开第{i + 1}次乡村振兴工作推进会议" for i in range(n)]


async def pause(request: web.Request, seconds: float) -> bool:
    """Sleep, stopping early when the client hangs up; True if the whole time passed."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        if request.transport is None or request.transport.is_closing():
            return False
        await asyncio.sleep(min(0.05, max(end - loop.time(), 0)))
    return True


def growing(start: int = 3) -> Handler:
    """A healthy source: every request finds one more article than the last."""
    count = start - 1

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal count
        count += 1
        body = rss(headlines(count, "沂南县"), site="http://www.yinan.example.cn")
        return web.Response(body=body, headers={"Content-Type": RSS_TYPE})

    return handler


def sequence(*answers: Handler) -> Handler:
    """Answer the n-th request with the n-th handler (the last one repeats)."""
    served = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal served
        served += 1
        return await answers[min(served, len(answers)) - 1](request)

    return handler


def status(code: int, body: bytes = b"", **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, body=body, headers=headers)

    return handler


def feed(body: bytes, content_type: str = RSS_TYPE, **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=body, headers={"Content-Type": content_type, **headers})

    return handler


def retry_after_date(code: int, seconds: int) -> Handler:
    """`code` with Retry-After as an HTTP date `seconds` from now."""

    async def handler(request: web.Request) -> web.StreamResponse:
        when = datetime.now(UTC) + timedelta(seconds=seconds)
        return web.Response(
            status=code, text="slow down", headers={"Retry-After": format_datetime(when, True)}
        )

    return handler


def redirect(code: int, location: str) -> Handler:
    return status(code, Location=location)


def silent(seconds: float = 30) -> Handler:
    """Accept the request and say nothing (first-byte timeout)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        await pause(request, seconds)
        return web.Response(body=rss(headlines(1)), headers={"Content-Type": RSS_TYPE})

    return handler


def drip(body: bytes, every: float = 0.1) -> Handler:
    """Send the headers at once, then the body a byte at a time: never a full silence."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        await resp.prepare(request)
        for i in range(len(body)):
            if not await pause(request, every):
                break
            try:
                await resp.write(body[i : i + 1])
            except (ConnectionError, RuntimeError):
                break
        return resp

    return handler


def huge(total: int, chunk: int = 64 * 1024) -> Handler:
    """A body of `total` bytes streamed without Content-Length."""

    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": RSS_TYPE})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        sent = 0
        while sent < total:
            if request.transport is None or request.transport.is_closing():
                break
            try:
                await resp.write(b"<!-- padding -->" * (chunk // 16))
            except (ConnectionError, RuntimeError):
                break
            sent += chunk
        return resp

    return handler


def gzip_bomb(inflated: int) -> Handler:
    """A small gzip body that inflates to `inflated` bytes."""
    body = gzip.compress(b"\0" * inflated, compresslevel=9)

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            body=body, headers={"Content-Type": RSS_TYPE, "Content-Encoding": "gzip"}
        )

    return handler


# ------------------------------------------------------------------ documents

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title>
<item><title>&lol9;</title><link>http://www.example.cn/1.html</link></item>
</channel></rss>"""


def xxe(path: str) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file://{path}">]>
<rss version="2.0"><channel><title>县新闻</title>
<item><title>&secret;</title><link>http://www.example.cn/1.html</link>
<description>&secret;</description></item>
</channel></rss>""".encode()


HTML_PORTAL = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>费县人民政府</title>'
    "</head><body><h1>费县人民政府门户网站</h1><ul>"
    + "".join(f'<li><a href="/art/{i}.html">费县第{i}条政务公开信息</a></li>' for i in range(400))
    + "</ul></body></html>"
).encode()

# What 加速乐-style WAFs answer a crawler with: status 200, a cookie set by script, a reload.
JS_CHALLENGE = (
    b"<html><head><script>document.cookie='__jsl_clearance_s=1732694400.123|0|abc"
    b"%3D;max-age=3600;path=/';location.href=location.pathname+location.search</script>"
    b"</head><body></body></html>"
)
CLOUDFLARE_503 = (
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    b"<div id='cf-chl-widget'>Checking your browser before accessing.</div></body></html>"
)
SAFEDOG_403 = "<html><body>您的访问被安全狗拦截 safedog.cn，请输入验证码</body></html>".encode()


def report_niceness(job: Job) -> Outcome:
    """A parser job that answers with the worker process's niceness."""
    return Outcome(PollStatus.OK, message=str(os.nice(0)))


def spin_on_marker(job: Job) -> Outcome:
    """A parser job that never ends for documents carrying `SPIN` (CPU-bound), as a
    crafted feed could make feedparser; every other document is parsed normally."""
    if b"<!-- SPIN -->" in job.body:
        n = 0
        while True:  # burn CPU until the pool kills this process
            n += 1
    if b"<!-- CRASH -->" in job.body:
        os._exit(3)  # as a segfault in a C extension would end it
    return digest_document(job)
