"""The contract's URL table on one screen."""

from __future__ import annotations

from aiohttp import web

from aggregator.web import admin, api, embed, explain, feeds, pages, search

_ID = r"{%s:[A-Za-z0-9_-]+}"
_FMT = r"{fmt:[a-z]+}"


def setup_routes(app: web.Application) -> None:
    r = app.router
    region, channel, source = _ID % "region", _ID % "channel", _ID % "source"
    r.add_get("/", pages.index, name="index")
    r.add_get(f"/region/{region}", pages.listing, name="region")
    r.add_get(f"/region/{region}/{channel}", pages.listing, name="region_channel")
    r.add_get(f"/channel/{channel}", pages.listing, name="channel")
    r.add_get("/search", search.search, name="search")
    r.add_get(f"/embed/region/{region}", embed.embed, name="embed_region")
    r.add_get(f"/embed/region/{region}/{channel}", embed.embed, name="embed_region_channel")
    r.add_get(f"/embed/channel/{channel}", embed.embed, name="embed_channel")
    r.add_get("/embed.js", embed.embed_js, name="embed_js")
    r.add_get(f"/feeds/region/{region}.{_FMT}", feeds.feed, name="feed_region")
    r.add_get(f"/feeds/region/{region}/{channel}.{_FMT}", feeds.feed, name="feed_region_channel")
    r.add_get(f"/feeds/channel/{channel}.{_FMT}", feeds.feed, name="feed_channel")
    r.add_get(f"/feeds/source/{source}.{_FMT}", feeds.feed, name="feed_source")
    r.add_get("/feeds.opml", api.opml, name="opml")
    r.add_get("/sources", pages.sources_page, name="sources")
    r.add_get("/api/sources", api.sources, name="api_sources")
    r.add_get("/api/config", api.config, name="api_config")
    r.add_post("/api/reload", admin.reload, name="admin_reload")
    r.add_post(f"/api/sources/{source}/poll", admin.poll_now, name="admin_poll")
    r.add_post(f"/api/sources/{source}/pause", admin.pause, name="admin_pause")
    r.add_post(f"/api/sources/{source}/resume", admin.resume, name="admin_resume")
    r.add_post(f"/api/sources/{source}/reset", admin.reset, name="admin_reset")
    r.add_get("/api/articles/{id}", explain.article, name="api_article")
    r.add_get("/healthz", api.healthz, name="healthz")
    r.add_get("/metrics", api.metrics, name="metrics")
    r.add_static("/static", pages.TEMPLATES.parent / "static", name="static", append_version=False)
