"""Durations and sizes as admins write them in feeds.yaml (`15m`, `1h30m`, `10MB`).

PURE: string in, number out; no I/O. Errors are ValueErrors whose message is meant to be
shown to the admin as it stands, so it names the bad value and gives a working example.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

_DURATION_UNITS = {
    "ms": 0.001,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)", re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")

# Sizes count in 1024s whether written KB or KiB: that is what admins mean in server
# configs, and it makes the default `10MB` the 10 * 1024 * 1024 the model uses.
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)", re.IGNORECASE)


def parse_duration(value: str | int | float) -> timedelta:
    """Read `15m`, `20s`, `1h30m`, `2d`, `500ms`, or a bare number of seconds.

    Negative values are refused here; whether zero is allowed is the caller's call
    (a host gap may be 0, a poll interval may not).
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"bad duration {_show(value)}: {_DURATION_HINT}")
    if isinstance(value, int | float):
        return timedelta(seconds=_seconds(value, value))
    text = value.strip()
    if _NUMBER.fullmatch(text):
        return timedelta(seconds=_seconds(float(text), value))
    total = 0.0
    end = 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != end:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2).lower()]
        end = match.end()
    if end == 0 or end != len(text):
        raise ValueError(f"bad duration {_show(value)}: {_DURATION_HINT}")
    return timedelta(seconds=total)


_DURATION_HINT = "use a number with s, m, h or d, e.g. 15m"


def _seconds(number: float, shown: object) -> float:
    if not math.isfinite(number):
        raise ValueError(f"bad duration {_show(shown)}: {_DURATION_HINT}")
    if number < 0:
        raise ValueError(f"bad duration {_show(shown)}: must not be negative")
    return float(number)


def parse_size(value: str | int | float) -> int:
    """Read `10MB`, `512KB`, `1GB`, `10MiB`, or a bare number of bytes."""
    hint = f"bad size {_show(value)}: use a number with KB, MB or GB, e.g. 10MB"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(hint)
    if isinstance(value, int | float):
        number, factor = float(value), 1
    else:
        match = _SIZE.fullmatch(value.strip())
        if match is None or match.group(2).lower() not in _SIZE_UNITS:
            raise ValueError(hint)
        number, factor = float(match.group(1)), _SIZE_UNITS[match.group(2).lower()]
    if not math.isfinite(number):
        raise ValueError(hint)
    if number < 0:
        raise ValueError(f"bad size {_show(value)}: must not be negative")
    if factor == 1 and not number.is_integer():
        raise ValueError(f"bad size {_show(value)}: a number of bytes is a whole number")
    return int(number * factor)


def _show(value: object) -> str:
    """The value as the admin wrote it: strings quoted, numbers bare."""
    if isinstance(value, str):
        return f"'{value}'"
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
