"""GET /api/articles/{id}: one story, and why it looks as it does, for admins.

Shows the story as feeds show it, every copy (source, region, link, guid, time), which
rule put each copy into each channel, why each copy joined the story (the same link,
a URI guid, or a near-duplicate with its similarity score), and every feed holding it.
The id is the story's number: the end of a feed entry's guid, `_aggregator.id` in JSON
Feed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

from aggregator.errors import BadParameter, NotFound
from aggregator.model import FeedScope, Site
from aggregator.store import StoryRecord
from aggregator.timefmt import iso_or_none
from aggregator.web.cache import CORS
from aggregator.web.feeds import guid_prefix
from aggregator.web.runtime import Runtime, runtime_of

_ID = re.compile(r"[0-9]{1,18}")


def scope_of_key(key: str) -> FeedScope | None:
    """The feed a membership key stands for (the inverse of FeedScope.key)."""
    kind, _, rest = key.partition(":")
    if kind == "r":
        return FeedScope("region", region=rest)
    if kind == "c":
        return FeedScope("channel", channel=rest)
    if kind == "s":
        return FeedScope("source", source=rest)
    if kind == "rc" and ":" in rest:
        region, channel = rest.split(":", 1)
        return FeedScope("region_channel", region=region, channel=channel)
    return None


def story_record(rt: Runtime, record: StoryRecord) -> dict[str, Any]:
    site = rt.site
    item = record.item
    channels: dict[str, dict[str, Any]] = {}
    copies = []
    for row in record.copies:
        rules = dict(row.channel_rules or {})
        for cid in row.channels or ():
            entry = channels.setdefault(cid, {"title": _channel_title(site, cid), "by": []})
            entry["by"].append(
                {"entry": row.id, "source": row.source_id, "rule": rules.get(cid, "unrecorded")}
            )
        copies.append(
            {
                "entry": row.id,
                "source": row.source_id,
                "name": row.name or row.feed_title or row.source_id,
                "region": row.region,
                "link": row.link,
                "guid": row.guid,
                "title": row.title,
                "published": iso_or_none(row.published),
                "date_precision": row.precision,
                "first_seen": iso_or_none(row.first_seen),
                "categories": list(row.categories or ()),
                "origin": row.origin,
                "channels": {cid: rules.get(cid, "unrecorded") for cid in row.channels or ()},
                "shown": row.id == record.best_entry_id,  # its title and body are the story's
                "merged": row.merged_by,
            }
        )
    feeds = [rt.url(f"{s.path}.json") for k in record.feed_keys if (s := scope_of_key(k))]
    return {
        "id": item.story_id,
        "guid": item.guid,
        "title": item.title,
        "link": item.link,
        "published": iso_or_none(item.published),
        "updated": iso_or_none(item.updated),
        "origin": item.origin,
        "region": item.region,
        "regions": sorted({c["region"] for c in copies if c["region"]}),
        "channels": channels,
        "copies": copies,
        "feeds": feeds,
    }


def _channel_title(site: Site, cid: str) -> str:
    channel = site.channel(cid)
    return channel.title if channel else cid


async def article(request: web.Request) -> web.Response:
    rt = runtime_of(request)
    raw = request.match_info["id"]
    if not _ID.fullmatch(raw):
        raise BadParameter(f"bad article id {raw[:40]!r}: use the story number, e.g. 123")
    record = await rt.store.call(rt.store.story, int(raw), guid_prefix(rt.site))
    if record is None:
        raise NotFound(f"no article {raw}")
    return web.Response(
        body=orjson.dumps(story_record(rt, record), option=orjson.OPT_INDENT_2),
        content_type="application/json",
        headers=CORS,
    )
