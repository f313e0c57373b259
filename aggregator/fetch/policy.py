"""When to poll a source next. PURE: `now` and a random generator are passed in.

Success waits the configured interval, or longer when the feed asks (ttl,
sy:updatePeriod, Cache-Control, Expires: hints are a floor, never a reason to poll
faster). Failures back off exponentially with jitter up to a cap, and the first
success resets that: a source is never given up on, except when it answered 410.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

BACKOFF_CAP = timedelta(hours=24)
HINT_CAP = timedelta(hours=24)
JITTER = 0.1
NEVER = timedelta(days=365 * 100)


def next_poll(
    now: datetime,
    interval: timedelta,
    *,
    ok: bool,
    failures: int = 0,
    retry_after: timedelta | None = None,
    hint_floor: timedelta | None = None,
    gone: bool = False,
    rng: random.Random | None = None,
) -> tuple[datetime, str]:
    """The next poll time and why. `failures` counts this poll when it failed."""
    rng = rng or random.Random()
    if gone:
        return now + NEVER, "gone: the source answered 410, polling stopped"
    if ok:
        delay, reason = interval, "interval"
        if hint_floor is not None and hint_floor > interval:
            delay, reason = min(hint_floor, HINT_CAP), "feed hint (ttl/cache headers)"
        return now + _jitter(delay, JITTER, rng), reason
    # Doubling in float seconds, bounded: a source failing for weeks must not overflow.
    doublings = min(max(failures - 1, 0), 64)
    seconds = min(interval.total_seconds() * 2.0**doublings, BACKOFF_CAP.total_seconds())
    delay = timedelta(seconds=seconds)
    delay = min(max(_jitter(delay, 0.2, rng), interval / 2), BACKOFF_CAP)  # jitter stays under
    reason = f"backoff after {failures} failure{'s' if failures != 1 else ''}"
    if retry_after is not None and retry_after > delay:
        return now + min(retry_after, BACKOFF_CAP), "Retry-After"
    return now + delay, reason


def _jitter(delay: timedelta, share: float, rng: random.Random) -> timedelta:
    return delay * (1 + rng.uniform(-share, share))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as seconds or as an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def cache_floor(headers: dict[str, str], now: datetime) -> timedelta | None:
    """Cache-Control max-age or Expires, as a floor on the poll interval."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, val = part.strip().partition("=")
        directives[name.strip().lower()] = val.strip()
    if "no-cache" in directives or "no-store" in directives:  # wherever they stand
        return None
    if directives.get("max-age", "").isdigit():
        return timedelta(seconds=int(directives["max-age"]))
    expires = headers.get("expires")
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return None
        if when is not None and when.tzinfo is not None and when > now:
            return when - now
    return None


def feed_floor(ttl_minutes: int | None, update_period: timedelta | None) -> timedelta | None:
    """RSS <ttl> and sy:updatePeriod/updateFrequency as a floor."""
    floors = [
        d
        for d in (
            timedelta(minutes=ttl_minutes) if ttl_minutes and ttl_minutes > 0 else None,
            update_period,
        )
        if d
    ]
    return max(floors) if floors else None
