"""How the service writes a moment for people and JSON: ISO 8601 to the second, UTC as Z."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_or_none(value: datetime | None) -> str | None:
    return iso(value) if value else None
