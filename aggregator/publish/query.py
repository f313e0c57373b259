"""Feed query parameters → FeedQuery, and the paging cursor's URL form. PURE.

Every mistake a client can make becomes BadParameter (a 400 with its message), never a
500. Unknown parameters are ignored, because feed readers append their own cache-busters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from aggregator.errors import BadParameter
from aggregator.model import Cursor, FeedQuery, FeedScope

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_Q = 200
KNOWN = ("limit", "q", "before")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# Canonical integers only (no sign on zero, no leading zeros) so one position has one
# spelling, and at most 19 digits so a hostile value cannot make int() work hard.
_INT = r"(0|-?[1-9][0-9]{0,18})"
_CURSOR = re.compile(_INT + "-" + _INT)
_MAX_ID = 2**63 - 1
_LIMIT = re.compile(r"[0-9]{1,6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def encode_cursor(cursor: Cursor) -> str:
    """`<microseconds since the Unix epoch, UTC>-<story_id>`, both in base 10.

    Short, URL-safe without quoting, and exact (integer microseconds, never a float), so
    a cursor round-trips to the same instant. Example: 1714550400123456-42.
    """
    if cursor.published.tzinfo is None:
        raise ValueError("publish: cursor time must be timezone-aware")
    micros = (cursor.published - _EPOCH) // _MICROSECOND
    return f"{micros}-{cursor.story_id}"


def decode_cursor(text: str) -> Cursor:
    """The inverse of encode_cursor; anything else is BadParameter. The time comes back in UTC."""
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise BadParameter(f"before: not a valid cursor: {_shorten(text)!r}")
    try:
        published = _EPOCH + int(match[1]) * _MICROSECOND
    except OverflowError:
        raise BadParameter(f"before: cursor time out of range: {_shorten(text)!r}") from None
    story_id = int(match[2])
    if not 0 <= story_id <= _MAX_ID:  # ids are 64-bit integers in both databases
        raise BadParameter(f"before: cursor out of range: {_shorten(text)!r}")
    return Cursor(published=published, story_id=story_id)


def parse_query(scope: FeedScope, params: Mapping[str, str]) -> FeedQuery:
    """Validate `limit`, `q` and `before` for a feed of `scope`.

    `params` may be a plain mapping or a multi-mapping with `getall` (aiohttp's
    request.query); with the latter a known parameter given twice is refused, since
    which one wins would be a guess. An empty or blank `q` means no search.
    """
    values = {name: _single(params, name) for name in KNOWN}
    return FeedQuery(
        scope=scope,
        limit=_limit(values["limit"]),
        q=_search(values["q"]),
        before=None if values["before"] is None else decode_cursor(values["before"]),
    )


def next_page_url(self_url: str, query: FeedQuery, cursor: Cursor) -> str:
    """The RFC 5005 next-page link: this feed's URL with the same limit and q, and `before`."""
    params: list[tuple[str, str]] = []
    if query.limit != DEFAULT_LIMIT:
        params.append(("limit", str(query.limit)))
    if query.q:
        params.append(("q", query.q))
    params.append(("before", encode_cursor(cursor)))
    parts = urlsplit(self_url)
    return urlunsplit(parts._replace(query=urlencode(params), fragment=""))


def _single(params: Mapping[str, str], name: str) -> str | None:
    getall = getattr(params, "getall", None)
    if getall is not None:
        found: list[str] = list(getall(name, []))
        if len(found) > 1:
            raise BadParameter(f"{name}: given {len(found)} times; give it once")
        return found[0] if found else None
    return params.get(name)


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not _LIMIT.fullmatch(text):
        raise BadParameter(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    limit = int(text)
    if not 1 <= limit <= MAX_LIMIT:
        raise BadParameter(f"limit: {limit} is out of range; use 1 to {MAX_LIMIT}")
    return limit


def _search(text: str | None) -> str | None:
    """Blank means no search; control characters (which PostgreSQL text refuses) become spaces."""
    if text is None:
        return None
    q = " ".join(_CONTROL.sub(" ", text).split())
    if not q:
        return None
    if len(q) > MAX_Q:
        raise BadParameter(f"q: {len(q)} characters is too long; use at most {MAX_Q}")
    return q


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
