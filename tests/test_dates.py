"""normalise.dates: county-site dates read in the site's zone, against a fixed `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from aggregator.model import DatePrecision
from aggregator.normalise.dates import FUTURE_TOLERANCE, parse_date, settle

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
DT, DATE, NONE = DatePrecision.DATETIME, DatePrecision.DATE, DatePrecision.NONE


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected", "precision"),
    [
        # naive local times are Shanghai time
        ("2018-10-29 09:26", utc(2018, 10, 29, 1, 26), DT),
        ("2018-10-29 09:26:41", utc(2018, 10, 29, 1, 26, 41), DT),
        ("2016/6/29 15:07:41", utc(2016, 6, 29, 7, 7, 41), DT),
        ("2024-05-02 00:30", utc(2024, 5, 1, 16, 30), DT),  # the previous UTC day
        ("2018年10月29日 09:26", utc(2018, 10, 29, 1, 26), DT),
        ("2024年05月01日 10:00", utc(2024, 5, 1, 2, 0), DT),
        ("2018年10月29日09时26分", utc(2018, 10, 29, 1, 26), DT),
        ("2018年10月29日 09时26分41秒", utc(2018, 10, 29, 1, 26, 41), DT),
        ("发布时间：2018-10-29 09:26", utc(2018, 10, 29, 1, 26), DT),
        ("２０１８－１０－２９　０９：２６", utc(2018, 10, 29, 1, 26), DT),  # full-width
        ("２０１８年１０月２９日", utc(2018, 10, 28, 16, 0), DATE),
        # date only: the start of that day in Shanghai
        ("2018/10/29", utc(2018, 10, 28, 16, 0), DATE),
        ("2018-10-29", utc(2018, 10, 28, 16, 0), DATE),
        ("2018.10.29", utc(2018, 10, 28, 16, 0), DATE),
        ("2018年10月29日", utc(2018, 10, 28, 16, 0), DATE),
        # RFC 822
        ("Fri, 10 May 2024 09:30:00 +0800", utc(2024, 5, 10, 1, 30), DT),
        ("Wed, 08 May 2024 07:15:00 GMT", utc(2024, 5, 8, 7, 15), DT),
        ("Wed, 08 May 2024 15:15:00", utc(2024, 5, 8, 7, 15), DT),  # no zone: the site's
        ("Thu, 01 Jan 2099 08:00:00 +0800", utc(2099, 1, 1, 0, 0), DT),
        # ISO 8601
        ("2024-05-09T03:20:00Z", utc(2024, 5, 9, 3, 20), DT),
        ("2024-05-10T10:00:00+08:00", utc(2024, 5, 10, 2, 0), DT),
        ("2024-05-10T10:00:00.250+08:00", utc(2024, 5, 10, 2, 0), DT),  # fraction dropped
        ("2024-05-10T10:00:00", utc(2024, 5, 10, 2, 0), DT),  # naive: the site's zone
        # relative to NOW (20:00 Shanghai, 27 Nov 2026)
        ("刚刚", NOW, DT),
        ("3分钟前", NOW - timedelta(minutes=3), DT),
        ("2小时前", NOW - timedelta(hours=2), DT),
        ("30秒前", NOW - timedelta(seconds=30), DT),
        ("昨天 14:00", utc(2026, 11, 26, 6, 0), DT),
        ("今天 08:05", utc(2026, 11, 27, 0, 5), DT),
        ("前天", utc(2026, 11, 24, 16, 0), DATE),
        ("昨天", utc(2026, 11, 25, 16, 0), DATE),
        # year-less: this year, as it is not in the future
        ("10月29日", utc(2026, 10, 28, 16, 0), DATE),
        ("10-29 09:26", utc(2026, 10, 29, 1, 26), DT),
        ("11/27 19:30", utc(2026, 11, 27, 11, 30), DT),
        ("12月25日", utc(2025, 12, 24, 16, 0), DATE),  # later this year: last year's
    ],
)
def test_parse_date(raw, expected, precision):
    value, got = parse_date(raw, SH, NOW)
    assert (value, got) == (expected, precision)
    assert value is not None
    assert value.tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "expected", "precision"),
    [
        ("12-31 09:00", utc(2025, 12, 31, 1, 0), DT),
        ("12月31日", utc(2025, 12, 30, 16, 0), DATE),
        ("01-02 09:00", utc(2026, 1, 2, 1, 0), DT),  # earlier today
        ("01-02 19:00", utc(2025, 1, 2, 11, 0), DT),  # later today: a year ago
        ("1月2日", utc(2026, 1, 1, 16, 0), DATE),  # today
        ("1月3日", utc(2025, 1, 2, 16, 0), DATE),  # tomorrow: a year ago
        ("2月29日", utc(2024, 2, 28, 16, 0), DATE),  # the last year that had one
    ],
)
def test_year_less_across_new_year(raw, expected, precision):
    now = datetime(2026, 1, 2, 10, 0, tzinfo=SH)
    assert parse_date(raw, SH, now) == (expected, precision)


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "garbage",
        "发布时间：",
        "2024-13-45",
        "2024-02-30 10:00",
        "13月45日",
        "明天",
    ],
)
def test_unreadable(raw):
    assert parse_date(raw, SH, NOW) == (None, NONE)


def test_other_site_zone():
    value, _ = parse_date("2024-05-10 10:00", ZoneInfo("Europe/Berlin"), NOW)
    assert value == utc(2024, 5, 10, 8, 0)


# ---------------------------------------------------------------- settle


def test_settle_no_date_is_first_seen():
    assert settle(None, NONE, NOW, SH) == (NOW, NONE)


def test_settle_far_future_is_first_seen():
    future = NOW + FUTURE_TOLERANCE + timedelta(minutes=1)
    assert settle(future, DT, NOW, SH) == (NOW, NONE)
    assert settle(utc(2099, 1, 1), DT, NOW, SH) == (NOW, NONE)


def test_settle_near_future_within_tolerance_kept():
    soon = NOW + FUTURE_TOLERANCE - timedelta(minutes=1)
    assert settle(soon, DT, NOW, SH) == (soon, DT)


def test_settle_past_datetime_kept():
    value = utc(2024, 5, 10, 1, 30)
    assert settle(value, DT, NOW, SH) == (value, DT)


def test_settle_date_seen_that_day_is_first_seen():
    day_start, precision = parse_date("2026年11月27日", SH, NOW)
    assert precision is DATE
    assert day_start is not None
    assert settle(day_start, DATE, NOW, SH) == (NOW, DATE)
    # two entries of one day keep the order they were first seen in
    later = NOW + timedelta(minutes=20)
    first = settle(day_start, DATE, NOW, SH)[0]
    second = settle(day_start, DATE, later, SH)[0]
    assert first < second


def test_settle_date_seen_on_a_later_day_is_end_of_that_day():
    day_start, precision = parse_date("2026-11-20", SH, NOW)
    assert day_start is not None
    value, got = settle(day_start, precision, NOW, SH)
    assert got is DATE
    assert value == datetime(2026, 11, 20, 23, 59, 59, tzinfo=SH)  # in the site's zone
    assert value == utc(2026, 11, 20, 15, 59, 59)


def test_settle_date_seen_just_after_midnight_in_site_zone():
    # 00:10 Shanghai on 28 Nov is still 27 Nov in UTC; the site's day has ended.
    seen = datetime(2026, 11, 28, 0, 10, tzinfo=SH)
    day_start, _ = parse_date("2026年11月27日", SH, seen)
    assert day_start is not None
    value, _ = settle(day_start, DATE, seen, SH)
    assert value == datetime(2026, 11, 27, 23, 59, 59, tzinfo=SH)


@pytest.mark.parametrize(
    ("raw", "expected", "precision"),
    [
        ("[2018-10-27]", utc(2018, 10, 26, 16, 0), DATE),  # list pages bracket their dates
        ("【2018-10-29 09:26】", utc(2018, 10, 29, 1, 26), DT),
        ("（10-29）", utc(2026, 10, 28, 16, 0), DATE),
        ("(2018年10月29日)", utc(2018, 10, 28, 16, 0), DATE),
    ],
)
def test_bracketed_dates(raw, expected, precision):
    assert parse_date(raw, SH, NOW) == (expected, precision)


@pytest.mark.parametrize(
    ("raw", "expected", "precision"),
    [
        # 00:30 on 1 January 2026 in Shanghai: the relative forms land in the old year
        ("昨天 14:00", utc(2025, 12, 31, 6, 0), DT),
        ("昨天", utc(2025, 12, 30, 16, 0), DATE),
        ("前天", utc(2025, 12, 29, 16, 0), DATE),
        ("45分钟前", utc(2025, 12, 31, 15, 45), DT),
        ("2小时前", utc(2025, 12, 31, 14, 30), DT),
        ("刚刚", utc(2025, 12, 31, 16, 30), DT),
        ("12-31 23:50", utc(2025, 12, 31, 15, 50), DT),
        ("12月31日", utc(2025, 12, 30, 16, 0), DATE),
        ("01-01 00:10", utc(2025, 12, 31, 16, 10), DT),
    ],
)
def test_relative_forms_across_new_year(raw, expected, precision):
    now = datetime(2026, 1, 1, 0, 30, tzinfo=SH)
    assert parse_date(raw, SH, now) == (expected, precision)
