"""The demo's sample sources, served over HTTP by the process itself on loopback.

Every file in samples/ is served at `{origin}/<name>` with `{origin}` in it replaced by
the real loopback address; article links without a sample page get a short stand-in.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from aiohttp import web

SAMPLES = Path(__file__).parent / "samples"
TYPES = {
    ".xml": "application/rss+xml",
    ".rdf": "application/rdf+xml",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
}
CHARSETS = {
    "yishui-gov.xml": "application/atom+xml; charset=utf-8",
    "mengyin-rb.xml": "application/rss+xml",
}


def sample_app(origin: str) -> web.Application:
    """An app serving the samples with ETag and Last-Modified, as real sites do."""
    files: dict[str, bytes] = {}
    for path in SAMPLES.iterdir():
        if path.is_file() and path.suffix in TYPES:
            files[path.name] = path.read_bytes().replace(b"{origin}", origin.encode())

    async def handle(request: web.Request) -> web.StreamResponse:
        name = request.match_info["path"]
        body = files.get(name)
        if body is None:
            if not name.endswith(".html"):
                raise web.HTTPNotFound()
            return web.Response(text=_stand_in(name), content_type="text/html", charset="utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        ctype = CHARSETS.get(name) or TYPES[Path(name).suffix]
        return web.Response(body=body, headers={"ETag": etag, "Content-Type": ctype})

    app = web.Application()
    app.router.add_get("/{path:.+}", handle)
    return app


def _stand_in(name: str) -> str:
    title = html.escape(name)
    return (
        "<!doctype html><html lang='zh-CN'><meta charset='utf-8'>"
        f"<title>示例文章 {title}</title><h1>示例文章</h1>"
        "<p>这是 aggregator demo 的示例来源；原文页面未随演示数据提供。</p></html>"
    )
