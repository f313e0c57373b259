"""HTML pages for people: the index, region and channel pages, search, the health table.

Everything from a source is escaped by the templates (autoescape); summaries are the one
exception, inserted as HTML because normalise.text.sanitize cleaned them at ingest.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from markupsafe import Markup, escape

from aggregator.errors import BadParameter, NotFound
from aggregator.model import Cursor, FeedItem, FeedQuery, FeedScope, Region
from aggregator.publish import decode_cursor, encode_cursor, parse_query
from aggregator.publish.jsonfeed import plain_summary
from aggregator.publish.query import _single
from aggregator.web import health
from aggregator.web.api import source_record
from aggregator.web.cache import ANY_FEED, Rendered
from aggregator.web.feeds import FORMATS, guid_prefix, page_path, respond, scope_of, scope_title
from aggregator.web.runtime import Runtime, runtime_of, site_of

TEMPLATES = Path(__file__).parent / "templates"
JINJA = web.AppKey("jinja", jinja2.Environment)
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' https: http: data:; "
    "frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
HTML_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "SAMEORIGIN"}
HEADLINES = 5
PAGE_SIZE = 30
SNIPPET_LIMIT = 10

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["highlight"] = highlight
    env.filters["plain"] = plain_summary
    return env


def highlight(text: str, words: Iterable[str] = ()) -> Markup:
    """`text` escaped, with each search word wrapped in <mark> (case-insensitive)."""
    words = sorted({w for w in words if w}, key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out, at = [], 0
    for match in pattern.finditer(text):
        out.append(escape(text[at : match.start()]))
        out.append(Markup("<mark>%s</mark>") % match.group(0))
        at = match.end()
    out.append(escape(text[at:]))
    return Markup("").join(out)


def local_time(rt: Runtime) -> Callable[[datetime | None], str]:
    """A formatter showing times in the site's zone, as its readers expect."""
    tz = ZoneInfo(rt.site.timezone)

    def fmt(moment: datetime | None) -> str:
        return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else "—"

    return fmt


def feed_links(rt: Runtime, scope: FeedScope) -> list[dict[str, str]]:
    labels = {"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}
    types = {k: v[1].split(";")[0] for k, v in FORMATS.items()}
    return [
        {"format": labels[f], "type": types[f], "url": rt.url(f"{scope.path}.{f}")} for f in FORMATS
    ]


# ---------------------------------------------------------------- errors as pages


def html_errors(handler: Handler) -> Handler:
    """Unknown ids and bad parameters answer a page a person can read (404 / 400), not JSON."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except NotFound as exc:
            return error_page(request, 404, "找不到这个页面", "地址中的地区或频道不存在。", exc)
        except BadParameter as exc:
            return error_page(request, 400, "地址中的参数有误", "请检查链接，或回到首页。", exc)

    return wrapped


def error_page(
    request: web.Request, status: int, heading: str, advice: str, exc: Exception
) -> web.Response:
    env = request.app[JINJA]
    html = env.get_template("error.html").render(
        site=site_of(request), heading=heading, advice=advice, detail=str(exc)
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        headers={**HTML_HEADERS, "Cache-Control": "no-cache"},
    )


async def cached_html(
    request: web.Request, key: str, feed_key: str, build: Callable[[], Awaitable[str]]
) -> web.StreamResponse:
    """A page rendered once and kept until new articles reach `feed_key`."""
    rt = runtime_of(request)

    async def render() -> Rendered:
        html = await build()
        return Rendered.make(html.encode(), "text/html; charset=utf-8", None, feed_key)

    rendered = await rt.cache.get_or_render(f"page|{key}|{rt.config.sha256}", feed_key, render)
    response = respond(request, rendered, cors=False)
    response.headers.update(HTML_HEADERS)
    return response


# ---------------------------------------------------------------- paging


@dataclass(frozen=True, slots=True)
class Pages:
    """Links to the pages around the one shown (relative URLs); None where there is none."""

    older: str | None = None
    newer: str | None = None
    newest: str | None = None  # the first page, from any other


def page_url(
    path: str, params: dict[str, str], before: Cursor | None = None, after: Cursor | None = None
) -> str:
    query = {k: v for k, v in params.items() if v}
    if before is not None:
        query["before"] = encode_cursor(before)
    if after is not None:
        query["after"] = encode_cursor(after)
    return f"{path}?{urlencode(query)}" if query else path


async def read_page(rt: Runtime, query: FeedQuery) -> tuple[list[FeedItem], Cursor | None]:
    return await rt.store.call(rt.store.read_page, query, guid_prefix(rt.site))


def page_query(scope: FeedScope, request: web.Request) -> FeedQuery:
    """`limit` and `before` as feeds read them (400 on a bad one); PAGE_SIZE unless given."""
    query = parse_query(scope, request.query)
    limit = query.limit if "limit" in request.query else PAGE_SIZE
    return FeedQuery(scope, limit=limit, before=query.before)


async def resolve_after(rt: Runtime, request: web.Request, query: FeedQuery) -> FeedQuery:
    """`after=` (the newer-page link): the page of entries just above that position.

    Resolved when the link is followed, not when it was rendered, so it stays right
    however many articles arrived in between.
    """
    after = _single(request.query, "after")
    if after is None:
        return query
    if query.before is not None:
        raise BadParameter("after: give before or after, not both")
    first = decode_cursor(after)
    before = await rt.store.call(rt.store.newer_page, query.scope.key, first, query.limit)
    return FeedQuery(query.scope, limit=query.limit, before=before)


# ---------------------------------------------------------------- pages


@html_errors
async def index(request: web.Request) -> web.StreamResponse:
    rt = runtime_of(request)
    env = request.app[JINJA]

    async def build() -> str:
        site = rt.site

        async def headlines(scope: FeedScope) -> list[FeedItem]:
            items, _ = await read_page(rt, FeedQuery(scope, limit=HEADLINES))
            return items

        async def node(region: Region) -> dict[str, Any]:
            scope = FeedScope("region", region=region.id)
            return {
                "region": region,
                "feeds": feed_links(rt, scope),
                "page": page_path(scope),
                "items": await headlines(scope),
                "children": [await node(site.regions[c]) for c in region.children],
            }

        channels = []
        for c in site.channels:
            scope = FeedScope("channel", channel=c.id)
            channels.append(
                {
                    "channel": c,
                    "feeds": feed_links(rt, scope),
                    "page": page_path(scope),
                    "items": await headlines(scope),
                }
            )
        alternates = []
        for root in site.roots:
            scope = FeedScope("region", region=root.id)
            alternates += [{**f, "title": root.title} for f in feed_links(rt, scope)]
        return env.get_template("index.html").render(
            site=site,
            tree=[await node(root) for root in site.roots],
            channels=channels,
            local=local_time(rt),
            opml=rt.url("/feeds.opml"),
            alternates=alternates,
        )

    return await cached_html(request, "index", ANY_FEED, build)


@html_errors
async def listing(request: web.Request) -> web.StreamResponse:
    """A region, channel or region × channel page with its latest articles, paged."""
    rt = runtime_of(request)
    env = request.app[JINJA]
    scope = scope_of(rt.site, dict(request.match_info))
    query = await resolve_after(rt, request, page_query(scope, request))
    path = page_path(scope)

    async def build() -> str:
        site = rt.site
        items, cursor = await read_page(rt, query)
        params = {"limit": str(query.limit) if query.limit != PAGE_SIZE else ""}
        pages = Pages(older=page_url(path, params, before=cursor) if cursor else None)
        if query.before is not None:
            pages = Pages(
                older=pages.older,
                newer=page_url(path, params, after=_position(items[0])) if items else None,
                newest=page_url(path, params),
            )
        title, _ = scope_title(site, scope)
        heading = title.rsplit(" · ", 1)[0]
        region = site.regions[scope.region] if scope.region else None
        return env.get_template("listing.html").render(
            site=site,
            scope=scope,
            title=title,
            heading=heading,
            items=items,
            pages=pages,
            feeds=feed_links(rt, scope),
            region=region,
            children=[site.regions[c] for c in region.children] if region else [],
            trail=[site.regions[r] for r in reversed(site.ancestors(region.id))] if region else [],
            local=local_time(rt),
            snippets=embed_snippets(rt, scope, heading),
        )

    before = encode_cursor(query.before) if query.before else ""
    return await cached_html(request, f"{path}|{query.limit}|{before}", scope.key, build)


def _position(item: FeedItem) -> Cursor:
    return Cursor(item.published, item.story_id)


def embed_snippets(rt: Runtime, scope: FeedScope, heading: str) -> dict[str, str]:
    """Copy-paste HTML for another site (shown escaped) and our own preview URL."""
    embed_path = "/embed" + page_path(scope)
    limit = f"?limit={SNIPPET_LIMIT}"
    element = "news-" + scope.key.replace(":", "-")
    iframe = Markup(
        '<iframe src="{src}" title="{title}" width="100%" height="420" '
        'style="border:0" loading="lazy"></iframe>'
    ).format(src=rt.url(embed_path + limit), title=heading)
    script = Markup(
        '<div id="{element}"></div>\n'
        '<script src="{js}" data-feed="{feed}" data-target="{element}" '
        'data-limit="{limit}" async></script>'
    ).format(
        element=element,
        js=rt.url("/embed.js"),
        feed=rt.url(f"{scope.path}.json"),
        limit=SNIPPET_LIMIT,
    )
    return {"iframe": str(iframe), "script": str(script), "preview": embed_path + limit}


async def sources_page(request: web.Request) -> web.StreamResponse:
    """The health table for admins: filter by status, sort by any column, no script."""
    rt = runtime_of(request)
    env = request.app[JINJA]
    status = health.parse_status(request.query)
    sort, descending = health.parse_sort(request.query)
    records = [source_record(rt, r) for r in await rt.store.call(rt.store.health)]
    rows = health.select(records, status, sort, descending)

    def link(**changes: str | None) -> str:
        params = {"status": status, "sort": ("-" if descending else "") + sort}
        params.update(changes)
        return "/sources?" + urlencode({k: v for k, v in params.items() if v})

    columns = [
        {
            "key": key,
            "label": label,
            "href": link(sort=f"-{key}" if key == sort and not descending else key),
            "sorted": ("descending" if descending else "ascending") if key == sort else None,
        }
        for key, (label, _) in health.SORTS.items()
    ]
    filters = [{"status": None, "count": len(records), "href": link(status=None)}] + [
        {"status": s, "count": n, "href": link(status=s)} for s, n in health.counts(records).items()
    ]
    html = env.get_template("sources.html").render(
        site=rt.site,
        rows=rows,
        columns=columns,
        columns_by_key={c["key"]: c for c in columns},
        filters=filters,
        status=status,
        sort=("-" if descending else "") + sort,
        rejected=rt.rejected,
        regions={r.id: r.title for r in rt.site.regions.values()},
        local=_local_iso(rt),
    )
    response = web.Response(text=html, content_type="text/html", headers=HTML_HEADERS)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _local_iso(rt: Runtime) -> Any:
    """An API timestamp ("…Z") shown in the site's time zone."""
    tz = ZoneInfo(rt.site.timezone)

    def fmt(value: str | None) -> str:
        if not value:
            return "—"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.astimezone(tz).strftime("%m-%d %H:%M:%S")

    return fmt
