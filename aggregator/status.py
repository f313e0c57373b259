"""`aggregator status`: the source health table from the database, in the terminal.

It reads the same rows and builds the same records as /api/sources, so it works on a
machine that runs only a poller (SQLite or PostgreSQL) and shows every poller's work.
The config is read for names and the region tree (`--region linyi` includes the
counties below it); with a broken feeds.yaml the table still shows, from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from rich.table import Table
from rich.text import Text

from aggregator.model import PollStatus, Site
from aggregator.timefmt import iso
from aggregator.web.api import source_record

Record = dict[str, Any]

SORTS = ("status", "age", "region", "id")
_HEALTHY = frozenset(s.value for s in PollStatus if s.is_success) | {"new"}


@dataclass(frozen=True, slots=True)
class View:
    """The config a status is read against (`site` is empty when feeds.yaml is unusable)."""

    site: Site
    known: bool = True


def records(rows: Sequence[Any], view: View, now: datetime) -> list[Record]:
    """/api/sources' records, plus the age of each source's last success in seconds."""
    out = []
    for row in rows:
        record = source_record(view, row)
        if not view.known:
            record["in_config"] = None
        success = row.last_success_at
        record["last_success_age_s"] = (
            round((now - success).total_seconds()) if success is not None else None
        )
        out.append(record)
    return out


def in_region(view: View, region: str) -> Callable[[Record], bool]:
    """Whether a record's source sits in `region` or anywhere below it."""
    if not view.known:
        return lambda r: r["region"] == region
    return lambda r: region in view.site.ancestors(r["region"] or "")


def sort_key(sort: str, view: View) -> Callable[[Record], Any]:
    """status: problems first; age: longest without a success first (never first of all)."""
    if sort == "status":
        return lambda r: (r["status"] in _HEALTHY, r["status"], r["id"])
    if sort == "age":
        return lambda r: (
            r["last_success_age_s"] is not None,
            -(r["last_success_age_s"] or 0),
            r["id"],
        )
    if sort == "region":
        order = {rid: i for i, rid in enumerate(view.site.regions)}
        return lambda r: (order.get(r["region"], len(order)), r["region"] or "", r["id"])
    return lambda r: r["id"]


def select(found: Sequence[Record], view: View, region: str | None, sort: str) -> list[Record]:
    kept = [r for r in found if region is None or in_region(view, region)(r)]
    return sorted(kept, key=sort_key(sort, view))


def as_json(found: Sequence[Record], now: datetime, config: str | None) -> bytes:
    body = {"generated_at": iso(now), "config": config, "sources": list(found)}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


def table(found: Sequence[Record], view: View, now: datetime, title: str) -> Table:
    """A coloured table: green healthy, red failing, yellow paused, dim removed."""
    t = Table(title=title, title_justify="left")
    for col in ("source", "region", "status", "http", "last success", "fails", "next poll"):
        t.add_column(col, no_wrap=col in ("source", "status"))
    t.add_column("entries", justify="right")
    t.add_column("message", overflow="fold", ratio=1)
    names = {r.id: r.title for r in view.site.regions.values()}
    for r in found:
        healthy = r["status"] in _HEALTHY
        status = Text(r["status"], style="green" if healthy else "bold red")
        if r["paused"]:
            status.append(" paused", style="yellow")
        age = r["last_success_age_s"]
        t.add_row(
            Text(r["id"], style="dim" if r["in_config"] is False else ""),
            names.get(r["region"], r["region"] or ""),
            status,
            str(r["http_status"] or ""),
            Text("never", style="red") if age is None else Text(_ago(age) + " ago"),
            Text(str(r["consecutive_failures"]), style="red" if r["consecutive_failures"] else ""),
            _next(r, now),
            str(r["entries_stored"]),
            _message(r),
        )
    return t


def _message(r: Record) -> str:
    text = (r["message"] or "")[:160]
    if r["moved"]:  # a 301/308: feeds.yaml should get the new URL
        text += f" → moved to {r['effective_url']}"
    return text


def _next(r: Record, now: datetime) -> Text:
    if r["in_config"] is False:
        return Text("removed from feeds.yaml", style="dim")
    if r["paused"]:
        return Text("paused", style="yellow")
    if r["next_poll"] is None:
        return Text("never (410 Gone)", style="red")
    due = datetime.fromisoformat(r["next_poll"].replace("Z", "+00:00"))
    seconds = (due - now).total_seconds()
    text = "due" if seconds <= 0 else f"in {_ago(seconds)}"
    reason = r["next_poll_reason"] or ""
    return Text(f"{text} ({reason})" if reason and reason != "interval" else text)


def _ago(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"
