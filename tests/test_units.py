"""Durations and sizes as admins write them in feeds.yaml."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.config.units import parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("20s", timedelta(seconds=20)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5h", timedelta(minutes=90)),
        ("15M", timedelta(minutes=15)),
        (" 15m ", timedelta(minutes=15)),
        ("0s", timedelta(0)),
        ("90", timedelta(seconds=90)),
        ("2.5", timedelta(seconds=2.5)),
        (90, timedelta(seconds=90)),
        (0.5, timedelta(milliseconds=500)),
        (0, timedelta(0)),
    ],
)
def test_parse_duration(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("15x", "bad duration '15x': use a number with s, m, h or d, e.g. 15m"),
        ("", "bad duration '': use a number with s, m, h or d, e.g. 15m"),
        ("m", "bad duration 'm': use a number with s, m, h or d, e.g. 15m"),
        ("15 minutes", "bad duration '15 minutes': use a number with s, m, h or d, e.g. 15m"),
        ("1h30", "bad duration '1h30': use a number with s, m, h or d, e.g. 15m"),
        ("-5m", "bad duration '-5m': use a number with s, m, h or d, e.g. 15m"),
        (-5, "bad duration -5: must not be negative"),
        (float("nan"), "bad duration nan: use a number with s, m, h or d, e.g. 15m"),
        (True, "bad duration true: use a number with s, m, h or d, e.g. 15m"),
    ],
)
def test_parse_duration_refuses(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value)  # type: ignore[arg-type]
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10MB", 10 * 1024 * 1024),
        ("512KB", 512 * 1024),
        ("1GB", 1024**3),
        ("10MiB", 10 * 1024 * 1024),
        ("10 mb", 10 * 1024 * 1024),
        ("1.5MB", 1536 * 1024),
        ("100B", 100),
        ("100", 100),
        (2048, 2048),
        (2048.0, 2048),
        (0, 0),
    ],
)
def test_parse_size(text: str | int | float, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10XB", "bad size '10XB': use a number with KB, MB or GB, e.g. 10MB"),
        ("MB", "bad size 'MB': use a number with KB, MB or GB, e.g. 10MB"),
        ("", "bad size '': use a number with KB, MB or GB, e.g. 10MB"),
        (-1, "bad size -1: must not be negative"),
        ("1.5", "bad size '1.5': a number of bytes is a whole number"),
        (False, "bad size false: use a number with KB, MB or GB, e.g. 10MB"),
    ],
)
def test_parse_size_refuses(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(value)  # type: ignore[arg-type]
    assert str(info.value) == message
