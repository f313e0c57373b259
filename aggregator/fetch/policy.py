"""When to poll a source next. PURE: `now` and a random generator are passed in.

Success waits the configured interval, or longer when the feed asks (ttl,
sy:updatePeriod, Cache-Control, Expires: hints are a floor, never a reason to poll
faster). Failures back off exponentially with jitter up to a cap, and the first
success resets that: a source is never given up on, except when it answered 410.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

BACKOFF_CAP = timedelta(hours=24)
HINT_CAP = timedelta(hours=24)
JITTER = 0.1
NEVER = timedelta(days=365 * 100)


@dataclass(frozen=True, slots=True)
class Hint:
    """A floor on the poll interval asked for by the feed or its server, and who asked."""

    floor: timedelta
    why: str  # e.g. "<ttl>120</ttl>", "Cache-Control max-age=3600"


def next_poll(
    now: datetime,
    interval: timedelta,
    *,
    ok: bool,
    failures: int = 0,
    retry_after: timedelta | None = None,
    hint_floor: Hint | timedelta | None = None,
    gone: bool = False,
    rng: random.Random | None = None,
) -> tuple[datetime, str]:
    """The next poll time and why. `failures` counts this poll when it failed."""
    rng = rng or random.Random()
    if gone:
        return now + NEVER, "gone: the source answered 410, polling stopped"
    if ok:
        delay, reason = interval, "interval"
        hint = hint_floor if isinstance(hint_floor, Hint) else None
        floor = hint.floor if hint is not None else hint_floor
        if isinstance(floor, timedelta) and floor > interval:
            delay = min(floor, HINT_CAP)
            reason = f"feed hint: {hint.why}" if hint else "feed hint (ttl/cache headers)"
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


def cache_hint(headers: dict[str, str], now: datetime) -> Hint | None:
    """Cache-Control max-age or Expires (lower-cased header names), as a floor."""
    directives: dict[str, str] = {}
    for part in headers.get("cache-control", "").split(","):
        name, _, val = part.strip().partition("=")
        directives[name.strip().lower()] = val.strip()
    if "no-cache" in directives or "no-store" in directives:  # wherever they stand
        return None
    if directives.get("max-age", "").isdigit():
        age = int(directives["max-age"])
        return Hint(timedelta(seconds=age), f"Cache-Control max-age={age}")
    expires = headers.get("expires")
    if expires:
        try:
            when = parsedate_to_datetime(expires)
        except (TypeError, ValueError, IndexError):
            return None
        if when is not None and when.tzinfo is not None and when > now:
            return Hint(when - now, f"Expires {expires.strip()[:40]}")
    return None


def feed_hint(ttl_minutes: int | None, update_period: timedelta | None) -> Hint | None:
    """RSS <ttl> and sy:updatePeriod/updateFrequency, as a floor."""
    return longest(
        Hint(timedelta(minutes=ttl_minutes), f"<ttl>{ttl_minutes}</ttl>")
        if ttl_minutes and ttl_minutes > 0
        else None,
        Hint(update_period, f"sy:updatePeriod every {human(update_period)}")
        if update_period
        else None,
    )


def longest(*hints: Hint | None) -> Hint | None:
    """The hint that asks for the longest wait (hints only ever lengthen an interval)."""
    present = [h for h in hints if h is not None]
    return max(present, key=lambda h: h.floor) if present else None


def cache_floor(headers: dict[str, str], now: datetime) -> timedelta | None:
    hint = cache_hint(headers, now)
    return hint.floor if hint else None


def feed_floor(ttl_minutes: int | None, update_period: timedelta | None) -> timedelta | None:
    hint = feed_hint(ttl_minutes, update_period)
    return hint.floor if hint else None


def human(delta: timedelta) -> str:
    """A short duration for people: 90s, 15m, 6h, 2d."""
    s = int(delta.total_seconds())
    if s < 120:
        return f"{s}s"
    if s < 2 * 3600:
        return f"{s // 60}m"
    if s < 2 * 86400:
        return f"{s / 3600:.3g}h"
    return f"{s / 86400:.3g}d"
