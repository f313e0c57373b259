"""Feed handlers: request → query → store → publish → cached bytes. No SQL, no XML here."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from aiohttp import web

from aggregator import observability as obs
from aggregator.errors import NotFound
from aggregator.model import FeedItem, FeedQuery, FeedScope, Site
from aggregator.publish import (
    FeedMeta,
    next_page_url,
    parse_query,
    render_atom,
    render_json,
    render_rss,
)
from aggregator.web.cache import Rendered
from aggregator.web.runtime import RUNTIME, Runtime, site_of, site_url

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # `updated` of an empty feed: stable, not the render time

Renderer = Callable[[FeedMeta, Sequence[FeedItem], Site], bytes]
FORMATS: dict[str, tuple[Renderer, str]] = {
    "rss": (render_rss, "application/rss+xml; charset=utf-8"),
    "atom": (render_atom, "application/atom+xml; charset=utf-8"),
    "json": (render_json, "application/feed+json; charset=utf-8"),
}
NOT_MODIFIED = obs.FEED_REQUESTS.labels(outcome="not_modified")
SENT = {c: obs.FEED_REQUESTS.labels(outcome=c) for c in ("identity", "gzip", "br")}
CODINGS = ("br", "gzip")  # in order of preference when a client weighs them alike


def scope_of(site: Site, info: Mapping[str, str]) -> FeedScope:
    """The feed a URL names; NotFound for ids feeds.yaml does not have."""
    region, channel, source = info.get("region"), info.get("channel"), info.get("source")
    if region is not None and region not in site.regions:
        raise NotFound(f"unknown region {region!r}")
    if channel is not None and site.channel(channel) is None:
        raise NotFound(f"unknown channel {channel!r}")
    if source is not None:
        if source not in site.sources:
            raise NotFound(f"unknown source {source!r}")
        return FeedScope("source", source=source)
    if region is not None and channel is not None:
        return FeedScope("region_channel", region=region, channel=channel)
    if region is not None:
        return FeedScope("region", region=region)
    if channel is not None:
        return FeedScope("channel", channel=channel)
    raise NotFound("no such feed")


def scope_title(site: Site, scope: FeedScope) -> tuple[str, str]:
    """(title, subtitle) of a feed, in Chinese as its readers read it."""
    parts: list[str] = []
    if scope.region:
        parts.append(site.regions[scope.region].title)
    if scope.channel:
        ch = site.channel(scope.channel)
        parts.append(ch.title if ch else scope.channel)
    if scope.source:
        parts.append(site.sources[scope.source].name)
    title = " · ".join([*parts, site.title])
    subtitle = f"{' · '.join(parts)}：{site.title}汇集的本地新闻" if parts else site.title
    return title, subtitle


def page_path(scope: FeedScope) -> str:
    if scope.kind == "region":
        return f"/region/{scope.region}"
    if scope.kind == "channel":
        return f"/channel/{scope.channel}"
    if scope.kind == "region_channel":
        return f"/region/{scope.region}/{scope.channel}"
    return "/sources"


def cache_key(query: FeedQuery, fmt: str) -> str:
    before = f"{query.before.published.timestamp()}-{query.before.story_id}" if query.before else ""
    return f"{query.scope.key}|{fmt}|{query.limit}|{query.q or ''}|{before}"


async def read_items(
    rt: Runtime, site: Site, query: FeedQuery, self_url: str | None = None
) -> tuple[list[FeedItem], str | None]:
    """The page's items and the absolute URL of the next page, if any."""
    items, cursor = await rt.store.call(rt.store.read_page, query, guid_prefix(site))
    next_url = next_page_url(self_url, query, cursor) if cursor and self_url else None
    return items, next_url


def guid_prefix(site: Site) -> str:
    host = urlsplit(site.base_url).hostname or "aggregator"
    return f"tag:{host},2024:story/"


async def render(rt: Runtime, site: Site, query: FeedQuery, fmt: str) -> Rendered:
    renderer, content_type = FORMATS[fmt]
    self_url = site_url(site, f"{query.scope.path}.{fmt}")
    items, next_url = await read_items(rt, site, query, self_url)
    title, subtitle = scope_title(site, query.scope)
    updated = max((i.updated for i in items), default=EPOCH)
    meta = FeedMeta(
        title=title,
        subtitle=subtitle,
        self_url=self_url,
        html_url=site_url(site, page_path(query.scope)),
        updated=updated,
        next_url=next_url,
        hub=site.hub,
        categories=tuple(p for p in title.split(" · ")[:-1]),
        feed_id=self_url,
    )
    body = renderer(meta, items, site)
    obs.FEED_RENDERS.labels(format=fmt).inc()
    newest = max((i.published for i in items), default=None)
    last_modified = newest and max(newest, updated)
    age = max_age(site, query.scope)
    return Rendered.make(body, content_type, last_modified, query.scope.key, age)


@dataclass(frozen=True, slots=True)
class Target:
    """What a feed URL asks for, as parsed under one site (config)."""

    site: Site
    query: FeedQuery
    fmt: str
    key: str  # in the render cache


MAX_TARGETS = 4096  # URLs remembered; past that the memo starts again (q= varies freely)


def target_of(request: web.Request, site: Site, memo: dict[str, Target]) -> Target:
    """The request's feed, parsed once per URL and config: a repeat costs one dict lookup.
    Bad URLs (NotFound, BadParameter) are parsed afresh each time, never remembered."""
    raw = request.raw_path  # path and query, as sent
    found = remembered(memo, raw, site)
    if found is not None:
        return found
    fmt = request.match_info["fmt"]
    if fmt not in FORMATS:
        raise NotFound(f"unknown feed format {fmt!r}: use rss, atom or json")
    query = parse_query(scope_of(site, request.match_info), request.query)
    if len(memo) >= MAX_TARGETS:
        memo.clear()
    found = memo[raw] = Target(site, query, fmt, cache_key(query, fmt))
    return found


def remembered(memo: dict[str, Target], raw: str, site: Site) -> Target | None:
    """What `target_of` parsed for this raw path under this very config, if it did."""
    found = memo.get(raw)
    return found if found is not None and found.site is site else None


async def feed(request: web.Request) -> web.StreamResponse:
    rt, site = request.app[RUNTIME], site_of(request)
    target = target_of(request, site, rt.feed_targets)
    rendered = rt.cache.get(target.key)
    if rendered is None:
        query, fmt = target.query, target.fmt
        rendered = await rt.cache.get_or_render(
            target.key, query.scope.key, lambda: render(rt, site, query, fmt)
        )
    return respond(request, rendered)


def max_age(site: Site, scope: FeedScope) -> int:
    """Readers need not ask again sooner than the fastest source of the feed is polled.

    A quarter of that interval, from 1 to 15 minutes: a feed of many sources changes more
    often than any one of them is polled. Decided when the feed is rendered (it walks the
    feed's sources), kept with the bytes.
    """
    if scope.source:
        ids: Sequence[str] = (scope.source,)
    elif scope.region:
        ids = site.region_sources(scope.region)
    else:
        ids = tuple(site.sources)
    interval = min(
        (site.sources[i].interval for i in ids if i in site.sources),
        default=site.defaults.interval,
    )
    return int(min(max(interval.total_seconds() / 4, 60), 900))


def respond(request: web.BaseRequest, rendered: Rendered, *, cors: bool = True) -> web.Response:
    """200, or 304 with no body when the client's copy is current (by ETag, else by date).

    The body goes out gzip- or brotli-compressed when the client accepts it (compressed
    once, when rendered); each coding has its own strong ETag (`"…-br"`), and a client
    holding any of them gets a 304. HEAD gets the same headers and no body (aiohttp).
    Everything but the choice is built once per cached entry: a hit copies headers.
    """
    coding = choose_encoding(request.headers.get("Accept-Encoding"))
    variant = rendered.variant(coding, cors)
    if not_modified(request, rendered):
        NOT_MODIFIED.inc()
        return web.Response(status=304, headers=variant.not_modified)
    SENT[variant.ok.get("Content-Encoding", "identity")].inc()
    return web.Response(body=variant.body, headers=variant.ok)


def _base_etag(tag: str) -> str:
    tag = tag.strip().removeprefix("W/")
    for coding in CODINGS:
        suffix = f'-{coding}"'
        if tag.endswith(suffix):
            return tag.removesuffix(suffix) + '"'
    return tag


@functools.lru_cache(maxsize=256)  # clients send a handful of distinct headers
def choose_encoding(accept_encoding: str | None) -> str | None:
    """br or gzip, whichever the client weighs higher (br on a tie), or None for identity."""
    weights: dict[str, float] = {}
    for part in (accept_encoding or "").split(","):
        name, _, params = part.partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if name.strip():
            weights[name.strip().lower()] = q
    best = max(CODINGS, key=lambda c: weights.get(c, weights.get("*", 0.0)))
    return best if weights.get(best, weights.get("*", 0.0)) > 0 else None


def not_modified(request: web.BaseRequest, rendered: Rendered) -> bool:
    """If-None-Match decides when present; else an If-Modified-Since that is not in the
    future (a clock ahead of ours must not freeze a reader's copy, RFC 9110 13.1.3)."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        if inm == rendered.etag:  # the usual revalidation: one tag, as we sent it
            return True
        tags = {_base_etag(t) for t in inm.split(",")}
        return "*" in tags or rendered.etag in tags
    ims = request.headers.get("If-Modified-Since")
    if ims and rendered.last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None or since > datetime.now(UTC):
            return False
        return rendered.last_modified <= since
    return False
