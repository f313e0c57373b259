"""Filtering and sorting the source health table, for /sources and /api/sources.

Server-side, so the admin page needs no script (its CSP allows none): `?status=` keeps
one status, `?sort=KEY` sorts ascending and `?sort=-KEY` descending, missing values last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aggregator.errors import BadParameter
from aggregator.model import PollStatus

Record = dict[str, Any]

# Every status a record can show: a poll's outcome, or "new" before the first poll.
STATUSES = ("new", *(s.value for s in PollStatus))
_OK = frozenset(s.value for s in PollStatus if s.is_success) | {"new"}


def _problems_first(r: Record) -> Any:
    return (r["status"] in _OK, r["status"])


SORTS: dict[str, tuple[str, Callable[[Record], Any]]] = {
    # key: (column heading, value to sort by; None sorts last either way)
    "id": ("来源", lambda r: r["id"]),
    "region": ("地区", lambda r: r["region"] or None),
    "status": ("状态", _problems_first),
    "http": ("HTTP", lambda r: r["http_status"]),
    "attempt": ("最近尝试", lambda r: r["last_attempt"]),
    "success": ("最近成功", lambda r: r["last_success"]),
    "failures": ("连续失败", lambda r: r["consecutive_failures"]),
    "next": ("下次轮询", lambda r: r["next_poll"]),
    "entries": ("条目", lambda r: r["entries_stored"]),
    "new": ("本次新增", lambda r: r["entries_new_last_poll"]),
    "fetch": ("耗时", lambda r: r["fetch_seconds"]),
}
DEFAULT_SORT = "region"


def parse_status(query: Mapping[str, str]) -> str | None:
    """The `status` filter, or None; an unknown status is a 400, not an empty table."""
    status = query.get("status") or None
    if status is not None and status not in STATUSES:
        raise BadParameter(f"unknown status {status[:40]!r}; one of: {', '.join(STATUSES)}")
    return status


def parse_sort(query: Mapping[str, str]) -> tuple[str, bool]:
    """`sort=KEY` or `sort=-KEY` → (key, descending)."""
    raw = query.get("sort") or DEFAULT_SORT
    key = raw.removeprefix("-")
    if key not in SORTS:
        raise BadParameter(f"unknown sort {raw[:40]!r}; one of: {', '.join(SORTS)} (or -KEY)")
    return key, raw.startswith("-")


def select(
    records: Sequence[Record], status: str | None, sort: str | None, descending: bool = False
) -> list[Record]:
    """The records with `status` (all when None), sorted (ties by id) unless `sort` is None."""
    kept = [r for r in records if status is None or r["status"] == status]
    if sort is None:
        return kept
    rows = sorted(kept, key=_id)
    value = SORTS[sort][1]
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=value, reverse=descending)
    return present + missing


def counts(records: Sequence[Record]) -> dict[str, int]:
    """How many sources show each status, most frequent first."""
    return dict(Counter(r["status"] for r in records).most_common())


def _id(r: Record) -> str:
    return str(r["id"])
