"""Publish dates as written by Chinese county sites → aware UTC. PURE.

Zone-less times are read in the site's zone, so "2018-10-29 09:26" from a Shanghai
source is 01:26Z. A value that gives only the day keeps that day (precision DATE);
relative forms (3分钟前, 昨天 14:00) are read against `now`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from aggregator.model import DatePrecision

FUTURE_TOLERANCE = timedelta(hours=1)  # later than now + this: a wrong date, not news

_FULLWIDTH = str.maketrans("０１２３４５６７８９：／－．　", "0123456789:/-. ")

_YMD = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(?P<H>\d{1,2})\s*[:时]\s*(?P<M>\d{1,2})(?:\s*[:分]\s*(?P<S>\d{1,2})(?:\.\d+)?)?\s*[分秒]?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2}|GMT|UTC|CST|北京时间)?\s*$"
)
_MD = re.compile(
    r"^(?P<m>\d{1,2})\s*(?:月|-|/)\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s+(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
_AGO = re.compile(r"^(?P<n>\d+)\s*(?P<unit>秒|分钟|小时|天|周)前$")
_DAY_WORD = re.compile(
    r"^(?P<word>今天|昨天|前天)\s*(?:(?P<H>\d{1,2})\s*:\s*(?P<M>\d{2})(?::(?P<S>\d{2}))?)?$"
)
# The RFC 822 form nearly every feed writes, read without email.utils' general parser
# (which splits, lowercases and guesses). Nothing else in parse_date reads such a string
# (no 4-digit year is followed by a date separator, none starts with a 月/-/ day), so
# this reading is the one the readers below would reach. ASCII digits only.
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_RFC822_STRICT = re.compile(
    rf"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{{1,2}}) ({'|'.join(_MONTHS)}) "
    r"([1-9][0-9]{3}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) (?:([+-])([0-9]{2})([0-9]{2})|GMT)"
)
_LABEL = re.compile(r"^(发布时间|发布日期|时间|日期|更新时间)\s*[:：]\s*")
_LETTERS = re.compile(r"[A-Za-z]{3}")
_UNITS = {"秒": "seconds", "分钟": "minutes", "小时": "hours", "天": "days", "周": "weeks"}
_DAY_OFFSET = {"今天": 0, "昨天": 1, "前天": 2}


def parse_date(raw: str | None, tz: tzinfo, now: datetime) -> tuple[datetime | None, DatePrecision]:
    """Read one date string; (None, NONE) when it cannot be read. `now` is aware."""
    if not raw:
        return None, DatePrecision.NONE
    text = raw.translate(_FULLWIDTH).strip().strip("[]【】()（）<>").strip()
    text = _LABEL.sub("", text)
    if not text:
        return None, DatePrecision.NONE
    if (m := _RFC822_STRICT.fullmatch(text)) and (fast := _rfc822_strict(m, tz)):
        return fast.astimezone(UTC), DatePrecision.DATETIME
    local_now = now.astimezone(tz)
    for reader in (_relative, _structured, _year_less, _rfc822, _iso):
        found = reader(text, tz, local_now)
        if found is not None:
            value, precision = found
            return value.astimezone(UTC), precision
    return None, DatePrecision.NONE


Found = tuple[datetime, DatePrecision] | None


def _relative(text: str, tz: tzinfo, now: datetime) -> Found:
    if text in ("刚刚", "刚才", "just now"):
        return now, DatePrecision.DATETIME
    m = _AGO.match(text)
    if m:
        delta = timedelta(**{_UNITS[m["unit"]]: int(m["n"])})
        precision = DatePrecision.DATE if m["unit"] in ("天", "周") else DatePrecision.DATETIME
        return now - delta, precision
    m = _DAY_WORD.match(text)
    if m:
        day = now.date() - timedelta(days=_DAY_OFFSET[m["word"]])
        if m["H"] is None:
            return _day_start(day, tz), DatePrecision.DATE
        return _local(day, m, tz), DatePrecision.DATETIME
    return None


def _structured(text: str, tz: tzinfo, now: datetime) -> Found:
    m = _YMD.search(text)
    if not m or m.start() > 4:
        return None
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
        if m["H"] is None:
            return _day_start(day, tz), DatePrecision.DATE
        zone = _zone(m["tz"], tz)
        return _local(day, m, zone), DatePrecision.DATETIME
    except ValueError:
        return None


def _year_less(text: str, tz: tzinfo, now: datetime) -> Found:
    """`10月29日`, `10-29 09:26`: the most recent such date that is not in the future."""
    m = _MD.match(text)
    if not m:
        return None
    for year in range(now.year, now.year - 9, -1):  # 2月29日 may be up to 8 years back
        try:
            day = date(year, int(m["m"]), int(m["d"]))
        except ValueError:
            continue  # 2月29日 in a year without it
        if m["H"] is None:
            value, precision = _day_start(day, tz), DatePrecision.DATE
            if day <= now.date():
                return value, precision
        else:
            value, precision = _local(day, m, tz), DatePrecision.DATETIME
            if value <= now + FUTURE_TOLERANCE:
                return value, precision
    return None


def _rfc822_strict(m: re.Match[str], tz: tzinfo) -> datetime | None:
    """What email.utils.parsedate_to_datetime makes of a strict RFC 822 date; None when
    it would raise (the readers then fail on it alike)."""
    day, month, year, hour, minute, second, sign, zh, zm = m.groups()
    zone: tzinfo
    if sign is None:  # GMT
        zone = timezone(timedelta(0))
    elif sign == "-" and zh == zm == "00":  # "-0000": no zone given, the site's own
        zone = tz
    else:
        offset = timedelta(hours=int(zh), minutes=int(zm))
        try:
            zone = timezone(-offset if sign == "-" else offset)
        except ValueError:
            return None
    try:
        return datetime(
            int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), 0, zone
        )
    except ValueError:
        return None


def _rfc822(text: str, tz: tzinfo, now: datetime) -> Found:
    if not _LETTERS.search(text):
        return None
    try:
        value = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:  # "-0000" or no zone: local time of the site
        value = value.replace(tzinfo=tz)
    return value, DatePrecision.DATETIME


def _iso(text: str, tz: tzinfo, now: datetime) -> Found:
    try:
        value = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value, DatePrecision.DATETIME


def _zone(label: str | None, site_tz: tzinfo) -> tzinfo:
    if label in (None, "CST", "北京时间"):
        return site_tz  # CST on Chinese sites is China Standard Time, the site's own zone
    if label in ("Z", "GMT", "UTC"):
        return UTC
    assert label is not None
    sign = 1 if label[0] == "+" else -1
    digits = label[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _local(day: date, m: re.Match[str], tz: tzinfo) -> datetime:
    t = time(int(m["H"]), int(m["M"]), int(m["S"] or 0))
    return datetime.combine(day, t).replace(tzinfo=tz)


def _day_start(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time()).replace(tzinfo=tz)


def settle(
    value: datetime | None, precision: DatePrecision, first_seen: datetime, tz: tzinfo
) -> tuple[datetime, DatePrecision]:
    """The instant to store and sort by.

    No date → first-seen. A date in the future (beyond a tolerance) → first-seen. A day
    without a time → first-seen when that falls within the day (so same-day entries keep
    the order they were seen in), else the last second of that day.
    """
    if value is None:
        return first_seen, DatePrecision.NONE
    if value > first_seen + FUTURE_TOLERANCE:
        return first_seen, DatePrecision.NONE
    if precision is DatePrecision.DATE:
        day_end = datetime.combine(value.astimezone(tz).date(), time.max).replace(tzinfo=tz)
        day_end = day_end.replace(microsecond=0).astimezone(UTC)
        return min(first_seen, day_end) if first_seen >= value else value, precision
    return value, precision
