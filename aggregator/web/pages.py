"""HTML pages for people: the index, region and channel pages, the health table."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from aggregator.model import FeedItem, FeedQuery, FeedScope, Region
from aggregator.web.api import source_record
from aggregator.web.cache import ANY_FEED, Rendered
from aggregator.web.feeds import FORMATS, page_path, read_items, respond, scope_of, scope_title
from aggregator.web.runtime import RUNTIME, Runtime

TEMPLATES = Path(__file__).parent / "templates"
JINJA = web.AppKey("jinja", jinja2.Environment)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
HTML_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "SAMEORIGIN"}
HEADLINES = 5
PAGE_SIZE = 30


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def _local(rt: Runtime) -> Any:
    tz = ZoneInfo(rt.site.timezone)

    def fmt(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "—"

    return fmt


def _feed_links(rt: Runtime, scope: FeedScope) -> list[dict[str, str]]:
    labels = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
    types = {k: v[1].split(";")[0] for k, v in FORMATS.items()}
    return [
        {"format": labels[f], "type": types[f], "url": rt.url(f"{scope.path}.{f}")} for f in FORMATS
    ]


async def _html(request: web.Request, key: str, feed_key: str, build: Any) -> web.StreamResponse:
    rt = request.app[RUNTIME]

    async def render() -> Rendered:
        html: str = await build()
        return Rendered.make(html.encode(), "text/html; charset=utf-8", None, feed_key)

    rendered = await rt.cache.get_or_render(f"page|{key}|{rt.config.sha256}", feed_key, render)
    response = respond(request, rendered, max_age=60, cors=False)
    response.headers.update(HTML_HEADERS)
    return response


async def index(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    env = request.app[JINJA]

    async def build() -> str:
        site = rt.site
        headlines: dict[str, list[FeedItem]] = {}
        for region in site.regions.values():
            items, _ = await read_items(
                rt, FeedQuery(FeedScope("region", region=region.id), limit=HEADLINES)
            )
            headlines[region.id] = items

        def tree(region: Region, depth: int) -> list[dict[str, Any]]:
            out = [
                {
                    "region": region,
                    "depth": depth,
                    "feeds": _feed_links(rt, FeedScope("region", region=region.id)),
                    "page": page_path(FeedScope("region", region=region.id)),
                    "items": headlines[region.id],
                }
            ]
            for child in region.children:
                out.extend(tree(site.regions[child], depth + 1))
            return out

        rows = [row for root in site.roots for row in tree(root, 0)]
        channels = [
            {
                "channel": c,
                "feeds": _feed_links(rt, FeedScope("channel", channel=c.id)),
                "page": f"/channel/{c.id}",
            }
            for c in site.channels
        ]
        return env.get_template("index.html").render(
            site=site,
            rows=rows,
            channels=channels,
            local=_local(rt),
            opml=rt.url("/feeds.opml"),
            alternates=_feed_links(rt, FeedScope("region", region=site.roots[0].id))
            if site.roots
            else [],
        )

    return await _html(request, "index", ANY_FEED, build)


async def listing(request: web.Request) -> web.StreamResponse:
    """A region, channel or region × channel page with its latest articles."""
    rt = request.app[RUNTIME]
    env = request.app[JINJA]
    scope = scope_of(rt.site, dict(request.match_info))

    async def build() -> str:
        items, _ = await read_items(rt, FeedQuery(scope, limit=PAGE_SIZE))
        title, subtitle = scope_title(rt.site, scope)
        region = rt.site.regions[scope.region] if scope.region else None
        children = [rt.site.regions[c] for c in region.children] if region else []
        trail = (
            [rt.site.regions[r] for r in reversed(rt.site.ancestors(region.id))] if region else []
        )
        return env.get_template("listing.html").render(
            site=rt.site,
            scope=scope,
            title=title,
            subtitle=subtitle,
            items=items,
            feeds=_feed_links(rt, scope),
            region=region,
            children=children,
            trail=trail,
            local=_local(rt),
            names=_source_names(rt),
        )

    return await _html(request, page_path(scope), scope.key, build)


def _source_names(rt: Runtime) -> dict[str, str]:
    return {s.id: s.name for s in rt.site.sources.values()}


async def sources_page(request: web.Request) -> web.StreamResponse:
    rt = request.app[RUNTIME]
    env = request.app[JINJA]
    rows = [source_record(rt, r) for r in await rt.store.call(rt.store.health)]
    status = request.query.get("status")
    if status:
        rows = [r for r in rows if r["status"] == status]
    sort = request.query.get("sort", "region")
    keys = {
        "status": lambda r: (
            r["status"] in ("ok", "not_modified", "unchanged"),
            r["status"],
            r["id"],
        ),
        "region": lambda r: (r["region"] or "", r["id"]),
        "success": lambda r: (r["last_success"] or "", r["id"]),
        "id": lambda r: r["id"],
    }
    rows.sort(key=keys.get(sort, keys["region"]))
    statuses = sorted({r["status"] for r in rows})
    html = env.get_template("sources.html").render(
        site=rt.site,
        rows=rows,
        statuses=statuses,
        status=status,
        sort=sort,
        rejected=rt.rejected,
        regions={r.id: r.title for r in rt.site.regions.values()},
    )
    response = web.Response(text=html, content_type="text/html", headers=HTML_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response
