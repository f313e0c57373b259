"""What other sites embed: /embed/... pages for an iframe, and /embed.js.

The iframe pages are cached like feeds (dropped when new articles reach the feed) and
are the only pages other sites may frame. /embed.js is a static script, documented in
the README, that renders a JSON Feed into the host page with DOM calls only.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from aggregator.model import FeedQuery
from aggregator.publish.embed import parse_embed_options
from aggregator.web.cache import Rendered
from aggregator.web.feeds import max_age, page_path, respond, scope_of, scope_title
from aggregator.web.pages import JINJA, html_errors, local_time, read_page
from aggregator.web.runtime import runtime_of

EMBED_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)
SCRIPT = Path(__file__).parent / "static" / "embed.js"
_TIMEZONE_MARK = '"__SITE_TIMEZONE__"'


async def embed(request: web.Request) -> web.StreamResponse:
    """A small page of a feed's latest headlines, for an iframe on any site.

    Its error pages (a bad option, an unknown id) may be framed too, so the site that
    embeds a wrong URL shows why instead of a blank, refused frame.
    """
    response = await _embed(request)
    response.headers["Content-Security-Policy"] = EMBED_CSP
    response.headers.pop("X-Frame-Options", None)
    return response


@html_errors
async def _embed(request: web.Request) -> web.StreamResponse:
    rt = runtime_of(request)
    scope = scope_of(rt.site, dict(request.match_info))
    opts = parse_embed_options(request.query)

    async def render() -> Rendered:
        items, _ = await read_page(rt, FeedQuery(scope, limit=opts.limit))
        title, _ = scope_title(rt.site, scope)
        html = (
            request.app[JINJA]
            .get_template("embed.html")
            .render(
                site=rt.site,
                heading=title.rsplit(" · ", 1)[0],
                page=rt.url(page_path(scope)),
                items=items,
                opts=opts,
                local=local_time(rt),
            )
        )
        age = max_age(rt.site, scope)
        return Rendered.make(html.encode(), "text/html; charset=utf-8", None, scope.key, age)

    key = f"embed|{scope.key}|{opts.key}|{rt.config.sha256}"
    rendered = await rt.cache.get_or_render(key, scope.key, render)
    return respond(request, rendered, cors=False)


async def embed_js(request: web.Request) -> web.StreamResponse:
    """The widget script, with the site's time zone filled in (dates show as on the site)."""
    rt = runtime_of(request)

    async def render() -> Rendered:
        text = SCRIPT.read_text("utf-8").replace(_TIMEZONE_MARK, json.dumps(rt.site.timezone))
        body = text.encode()
        return Rendered.make(body, "text/javascript; charset=utf-8", None, "config", 3600)

    rendered = await rt.cache.get_or_render(f"embed.js|{rt.config.sha256}", "config", render)
    return respond(request, rendered)  # with CORS: any site may load the widget
