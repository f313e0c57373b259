"""The /search page: articles of every region (or of one) whose title or text has the words.

It reads through the store's feed query (`FeedQuery(scope, q=...)`), the same one `q=`
on feeds uses, so both find the same articles; paging uses the feeds' `before` cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from aggregator.errors import BadParameter
from aggregator.model import Cursor, FeedItem, FeedQuery, FeedScope, Site
from aggregator.publish import parse_query
from aggregator.publish.query import MAX_Q
from aggregator.web.cache import Rendered
from aggregator.web.feeds import choose_encoding, respond
from aggregator.web.pages import (
    HTML_HEADERS,
    JINJA,
    PAGE_SIZE,
    Pages,
    html_errors,
    local_time,
    page_url,
    read_page,
)
from aggregator.web.runtime import Runtime, runtime_of

_ADVICE = {
    "q": f"搜索词太长了：最多 {MAX_Q} 个字，请缩短后再试。",
    "before": "翻页链接无效或已损坏，请从第一页重新搜索。",
    "limit": "每页条数应为 1 到 500 之间的整数。",
    "region": "所选地区不存在，请从列表中选择。",
}


@html_errors
async def search(request: web.Request) -> web.StreamResponse:
    rt = runtime_of(request)
    site = rt.site
    context: dict[str, Any] = {
        "site": site,
        "q": request.query.get("q", "")[: MAX_Q * 2],
        "region": request.query.get("region", ""),
        "regions": _region_options(site),
        "local": local_time(rt),
        "items": [],
        "pages": Pages(),
        "words": (),
        "error": None,
    }
    status = 200
    try:
        scopes, query = _search_query(site, request)
    except BadParameter as exc:
        context["error"] = f"{_advice(exc)}（{exc}）"
        status = 400
    else:
        context["q"] = query.q or ""
        context["search_q"] = query.q or ""
        if query.q:
            items, cursor = await search_items(rt, scopes, query)
            params = {"q": query.q, "region": context["region"]}
            if query.limit != PAGE_SIZE:
                params["limit"] = str(query.limit)
            context.update(
                items=items,
                words=tuple(query.q.replace('"', " ").split()),
                pages=Pages(
                    older=page_url("/search", params, cursor) if cursor else None,
                    newest=page_url("/search", params, None) if query.before else None,
                ),
            )
    html = request.app[JINJA].get_template("search.html").render(**context)
    if status != 200:
        headers = {**HTML_HEADERS, "Cache-Control": "no-cache"}
        return web.Response(text=html, status=status, content_type="text/html", headers=headers)
    # Made per request, so compressed only in the coding this client takes.
    coding = choose_encoding(request.headers.get("Accept-Encoding"))
    codings = () if coding is None else (coding,)
    rendered = Rendered.make(html.encode(), "text/html; charset=utf-8", None, "", codings=codings)
    response = respond(request, rendered, cors=False)
    response.headers.update(HTML_HEADERS)
    return response


def _advice(exc: BadParameter) -> str:
    """What a person can do about a refused search, in their language."""
    name, _, detail = str(exc).partition(":")
    if detail.strip().startswith("given"):
        return f"地址中的参数 {name} 重复出现了，请只保留一个。"
    return _ADVICE.get(name, "请求参数有误，请检查后再试。")


def _search_query(site: Site, request: web.Request) -> tuple[list[FeedScope], FeedQuery]:
    region = request.query.getall("region", [])
    if len(region) > 1:
        raise BadParameter(f"region: given {len(region)} times; give it once")
    rid = region[0] if region else ""
    if rid and rid not in site.regions:
        raise BadParameter(f"region: unknown region {rid[:40]!r}")
    ids = [rid] if rid else [r.id for r in site.roots]
    scopes = [FeedScope("region", region=i) for i in ids]
    query = parse_query(scopes[0], request.query)
    limit = query.limit if "limit" in request.query else PAGE_SIZE
    return scopes, FeedQuery(scopes[0], limit=limit, q=query.q, before=query.before)


async def search_items(
    rt: Runtime, scopes: Sequence[FeedScope], query: FeedQuery
) -> tuple[list[FeedItem], Cursor | None]:
    """One page of matches over several region trees (usually one: the root)."""
    pages = [
        await read_page(rt, FeedQuery(s, limit=query.limit, q=query.q, before=query.before))
        for s in scopes
    ]
    return merge_pages(pages, query.limit)


def merge_pages(
    pages: Sequence[tuple[list[FeedItem], Cursor | None]], limit: int
) -> tuple[list[FeedItem], Cursor | None]:
    """Pages of several feeds as one page, newest first, each story once. PURE.

    Each input page holds that feed's `limit` newest entries older than the same cursor,
    so the first `limit` of their union are the merged feed's; the next page starts
    after the last one shown whenever anything was left out.
    """
    if len(pages) == 1:
        return pages[0]
    stories: dict[int, FeedItem] = {}
    for items, _ in pages:
        for item in items:
            stories.setdefault(item.story_id, item)
    ordered = sorted(stories.values(), key=lambda i: (i.published, i.story_id), reverse=True)
    more = len(ordered) > limit or any(cursor is not None for _, cursor in pages)
    shown = ordered[:limit]
    cursor = Cursor(shown[-1].published, shown[-1].story_id) if more and shown else None
    return shown, cursor


def _region_options(site: Site) -> list[dict[str, Any]]:
    """Every region for the search form's select, in tree order with its depth."""
    out: list[dict[str, Any]] = []

    def walk(rid: str, depth: int) -> None:
        region = site.regions[rid]
        out.append({"id": rid, "title": region.title, "depth": depth})
        for child in region.children:
            walk(child, depth + 1)

    for root in site.roots:
        walk(root.id, 0)
    return out
