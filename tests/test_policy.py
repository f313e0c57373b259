"""fetch.policy: when to poll next, from the interval, failures and the server's hints."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.fetch.policy import (
    BACKOFF_CAP,
    HINT_CAP,
    JITTER,
    NEVER,
    cache_floor,
    feed_floor,
    next_poll,
    parse_retry_after,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=15)
SEEDS = range(50)


def delay(**kwargs) -> tuple[timedelta, str]:
    when, reason = next_poll(NOW, kwargs.pop("interval", INTERVAL), **kwargs)
    return when - NOW, reason


def test_success_is_interval_with_jitter():
    for seed in SEEDS:
        d, reason = delay(ok=True, rng=random.Random(seed))
        assert reason == "interval"
        assert INTERVAL * (1 - JITTER) <= d <= INTERVAL * (1 + JITTER)


def test_success_is_deterministic_for_a_seed():
    assert delay(ok=True, rng=random.Random(7)) == delay(ok=True, rng=random.Random(7))


def test_jitter_spreads_sources():
    delays = {delay(ok=True, rng=random.Random(seed))[0] for seed in SEEDS}
    assert len(delays) > 40


def test_hint_floor_lengthens():
    hint = timedelta(hours=2)
    for seed in SEEDS:
        d, reason = delay(ok=True, hint_floor=hint, rng=random.Random(seed))
        assert reason.startswith("feed hint")
        assert hint * (1 - JITTER) <= d <= hint * (1 + JITTER)


@pytest.mark.parametrize("hint", [timedelta(minutes=5), INTERVAL, timedelta(0)])
def test_hint_floor_never_shortens(hint):
    d, reason = delay(ok=True, hint_floor=hint, rng=random.Random(1))
    assert reason == "interval"
    assert d >= INTERVAL * (1 - JITTER)


def test_hint_floor_capped():
    d, _ = delay(ok=True, hint_floor=timedelta(days=7), rng=random.Random(1))
    assert d <= HINT_CAP * (1 + JITTER)


@pytest.mark.parametrize("failures", [1, 2, 3, 4, 5, 6])
def test_failures_back_off_exponentially(failures):
    base = INTERVAL * 2 ** (failures - 1)
    for seed in SEEDS:
        d, reason = delay(ok=False, failures=failures, rng=random.Random(seed))
        assert base * 0.8 <= d <= base * 1.2
        assert reason == f"backoff after {failures} failure{'s' if failures > 1 else ''}"


def test_backoff_grows():
    delays = [delay(ok=False, failures=f, rng=random.Random(3))[0] for f in range(1, 8)]
    assert delays == sorted(delays)


@pytest.mark.parametrize("failures", [8, 10, 40, 1000, 10**6])
@pytest.mark.parametrize("interval", [INTERVAL, timedelta(days=2)])
def test_backoff_capped_at_a_day(failures, interval):
    assert timedelta(hours=24) == BACKOFF_CAP
    for seed in SEEDS:
        d, _ = delay(ok=False, failures=failures, interval=interval, rng=random.Random(seed))
        assert d <= BACKOFF_CAP  # jitter included
        assert d >= min(BACKOFF_CAP * 0.8, interval / 2)


def test_backoff_never_below_half_the_interval():
    for seed in SEEDS:
        d, _ = delay(ok=False, failures=0, rng=random.Random(seed))
        assert d >= INTERVAL / 2


def test_retry_after_longer_than_backoff_wins():
    d, reason = delay(ok=False, failures=1, retry_after=timedelta(hours=1), rng=random.Random(1))
    assert (d, reason) == (timedelta(hours=1), "Retry-After")


def test_retry_after_shorter_than_backoff_ignored():
    d, reason = delay(ok=False, failures=3, retry_after=timedelta(seconds=5), rng=random.Random(1))
    assert reason.startswith("backoff")
    assert d > timedelta(minutes=30)


def test_retry_after_capped():
    d, _ = delay(ok=False, failures=1, retry_after=timedelta(days=3), rng=random.Random(1))
    assert d == BACKOFF_CAP


@pytest.mark.parametrize("ok", [True, False])
def test_gone_is_never(ok):
    d, reason = delay(ok=ok, failures=5, gone=True, rng=random.Random(1))
    assert d == NEVER
    assert "410" in reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 60 ", timedelta(seconds=60)),
        ("0", timedelta(0)),
        ("Fri, 27 Nov 2026 12:30:00 GMT", timedelta(minutes=30)),
        ("Fri, 27 Nov 2026 20:30:00 +0800", timedelta(minutes=30)),
        ("Fri, 27 Nov 2026 11:30:00 GMT", timedelta(0)),  # already past
        ("soon", None),
        ("-5", None),
        ("1.5", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"cache-control": "max-age=600"}, timedelta(minutes=10)),
        ({"cache-control": "public, max-age=3600"}, timedelta(hours=1)),
        ({"cache-control": "public, MAX-AGE = 600 "}, timedelta(minutes=10)),
        ({"cache-control": "no-cache"}, None),
        ({"cache-control": "no-store"}, None),
        ({"cache-control": "max-age=600, no-cache"}, None),  # order does not matter
        ({"cache-control": "no-cache, max-age=600"}, None),
        ({"cache-control": "max-age=0"}, timedelta(0)),
        ({"cache-control": "max-age=soon"}, None),
        ({"expires": "Fri, 27 Nov 2026 13:00:00 GMT"}, timedelta(hours=1)),
        ({"expires": "Fri, 27 Nov 2026 11:00:00 GMT"}, None),  # already expired
        ({"expires": "0"}, None),
        ({"expires": "-1"}, None),
        # max-age wins over Expires; no-cache over both
        (
            {"cache-control": "max-age=60", "expires": "Fri, 27 Nov 2026 13:00:00 GMT"},
            timedelta(minutes=1),
        ),
        ({"cache-control": "no-cache", "expires": "Fri, 27 Nov 2026 13:00:00 GMT"}, None),
        ({}, None),
    ],
)
def test_cache_floor(headers, expected):
    assert cache_floor(headers, NOW) == expected


@pytest.mark.parametrize(
    ("ttl", "period", "expected"),
    [
        (30, None, timedelta(minutes=30)),
        (None, timedelta(hours=1), timedelta(hours=1)),
        (30, timedelta(hours=1), timedelta(hours=1)),  # the longer of the two
        (120, timedelta(hours=1), timedelta(hours=2)),
        (0, None, None),
        (-5, None, None),
        (None, None, None),
    ],
)
def test_feed_floor(ttl, period, expected):
    assert feed_floor(ttl, period) == expected


def test_feed_floor_from_parsed_update_period():
    from aggregator.parse.encoding import decode
    from aggregator.parse.feed import parse_feed

    body = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
        b"<channel><title>t</title><link>http://x.example.cn/</link><ttl>20</ttl>"
        b"<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>"
        b"<item><title>a</title><link>http://x.example.cn/a</link></item></channel></rss>"
    )
    raw = parse_feed(decode(body), "http://x.example.cn/rss.xml")
    assert raw.ttl_minutes == 20
    assert raw.update_period == timedelta(hours=6)
    assert feed_floor(raw.ttl_minutes, raw.update_period) == timedelta(hours=6)


def test_hints_say_who_asked():
    from aggregator.fetch.policy import Hint, cache_hint, feed_hint

    assert feed_hint(30, None) == Hint(timedelta(minutes=30), "<ttl>30</ttl>")
    assert feed_hint(30, timedelta(hours=6)) == Hint(timedelta(hours=6), "sy:updatePeriod every 6h")
    assert cache_hint({"cache-control": "max-age=600"}, NOW) == Hint(
        timedelta(minutes=10), "Cache-Control max-age=600"
    )
    expires = cache_hint({"expires": "Fri, 27 Nov 2026 13:00:00 GMT"}, NOW)
    assert expires is not None and expires.why.startswith("Expires")
    hint = Hint(timedelta(hours=2), "<ttl>120</ttl>")
    _, reason = delay(ok=True, hint_floor=hint, rng=random.Random(1))
    assert reason == "feed hint: <ttl>120</ttl>"
    _, reason = delay(ok=True, hint_floor=Hint(timedelta(minutes=1), "x"), rng=random.Random(1))
    assert reason == "interval"


def test_longest_hint_wins():
    from aggregator.fetch.policy import Hint, longest

    a, b = Hint(timedelta(hours=1), "a"), Hint(timedelta(hours=2), "b")
    assert longest(a, None, b) is b
    assert longest(None, None) is None
