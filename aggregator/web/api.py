"""JSON and plain endpoints: /api/sources, /api/config, /healthz, /metrics, /feeds.opml."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from aggregator.model import Site
from aggregator.observability import SOURCE_HEALTH
from aggregator.publish import render_opml
from aggregator.timefmt import iso_or_none
from aggregator.web import health
from aggregator.web.cache import CORS, Rendered
from aggregator.web.feeds import respond
from aggregator.web.runtime import RUNTIME, runtime_of


class HasSite(Protocol):
    """What a source record needs: the config in force (a Runtime, or `aggregator status`)."""

    @property
    def site(self) -> Site: ...


def source_record(rt: HasSite, row: Any) -> dict[str, Any]:
    src = rt.site.sources.get(row.id)
    return {
        "id": row.id,
        "name": (src.name if src and src.title else None) or row.name or row.feed_title or row.id,
        "region": src.region if src else row.region,
        "type": row.kind,
        "url": row.url,
        "effective_url": row.effective_url,
        "moved": bool(row.effective_url and row.effective_url != row.url),
        "in_config": src is not None,
        "paused": row.paused,
        "gone": row.gone,
        "status": row.status or "new",
        "message": row.message,
        "http_status": row.http_status,
        "last_attempt": iso_or_none(row.last_attempt_at),
        "last_success": iso_or_none(row.last_success_at),
        "consecutive_failures": row.consecutive_failures,
        "next_poll": iso_or_none(row.next_poll_at) if not row.gone else None,
        "next_poll_reason": row.next_poll_reason,
        "retry_after": iso_or_none(row.retry_after),
        "feed_hint": {"seconds": row.hint_floor_s, "why": row.hint_reason}
        if row.hint_floor_s
        else None,
        "entries_stored": row.entries_total,
        "entries_new_last_poll": row.entries_new_last,
        "fetch_seconds": row.fetch_seconds,
        "bytes": row.bytes_last,
        "warnings": row.warnings or [],
    }


async def sources(request: web.Request) -> web.Response:
    """Every source's health; `?status=` and `?sort=[-]KEY` as on /sources."""
    rt = runtime_of(request)
    status = health.parse_status(request.query)
    sort, descending = (
        health.parse_sort(request.query) if "sort" in request.query else (None, False)
    )
    records = [source_record(rt, r) for r in await rt.store.call(rt.store.health)]
    body = orjson.dumps(
        {
            "counts": health.counts(records),
            "sources": health.select(records, status, sort, descending),
        },
        option=orjson.OPT_INDENT_2,
    )
    return web.Response(body=body, content_type="application/json", headers=CORS)


async def config(request: web.Request) -> web.Response:
    rt = runtime_of(request)
    site = rt.site
    body = {
        "path": rt.config.path,
        "sha256": rt.config.sha256,
        "loaded_at": iso_or_none(rt.loaded_at),
        "summary": rt.config.summary,
        "rejected": {"problems": rt.rejected, "at": iso_or_none(rt.rejected_at)}
        if rt.rejected
        else None,
        "site": {
            "title": site.title,
            "base_url": site.base_url,
            "timezone": site.timezone,
            "hub": site.hub,
        },
        "channels": [
            {
                "id": c.id,
                "title": c.title,
                "keywords": list(c.keywords),
                "words": list(c.words),
                "match": list(c.match),
                "exclude": list(c.exclude),
                "categories": list(c.categories),
            }
            for c in site.channels
        ],
        "dedupe": {
            "window_s": site.dedupe.window.total_seconds(),
            "threshold": site.dedupe.threshold,
        },
        "regions": [
            {"id": r.id, "title": r.title, "parent": r.parent, "sources": list(r.sources)}
            for r in site.regions.values()
        ],
        "sources": [
            {
                "id": s.id,
                "url": s.url,
                "region": s.region,
                "type": s.type,
                "channels": list(s.channels),
                "interval_s": s.interval.total_seconds(),
                "fulltext": s.fulltext,
            }
            for s in site.sources.values()
        ],
    }
    return web.Response(
        body=orjson.dumps(body, option=orjson.OPT_INDENT_2),
        content_type="application/json",
        headers=CORS,
    )


async def healthz(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    try:
        seq = await rt.store.call(rt.store.last_change)
    except Exception as exc:
        return web.json_response({"ok": False, "error": f"store: {type(exc).__name__}"}, status=503)
    return web.json_response({"ok": True, "change_seq": seq, "now": iso_or_none(datetime.now(UTC))})


async def metrics(request: web.Request) -> web.Response:
    rt = request.app[RUNTIME]
    rows = await rt.store.call(rt.store.health)
    SOURCE_HEALTH.update(rows, datetime.now(UTC))
    resp = web.Response(body=generate_latest())
    resp.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return resp


async def opml(request: web.Request) -> web.StreamResponse:
    rt = runtime_of(request)

    async def build() -> Rendered:
        body = render_opml(rt.site, rt.site.base_url, rt.loaded_at)
        return Rendered.make(body, "text/x-opml; charset=utf-8", rt.loaded_at, "config", 300)

    rendered = await rt.cache.get_or_render(f"opml|{rt.config.sha256}", "config", build)
    return respond(request, rendered)
