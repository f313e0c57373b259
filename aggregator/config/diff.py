"""What an edit of feeds.yaml changes, so a reload does only the work it needs. PURE.

A source has "moved" when the chain of regions above it changed: it was put in another
region, or its region was put under another parent. Either way the region feeds that
hold its stories change, so those stories' membership is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from aggregator.model import Site


@dataclass(frozen=True, slots=True)
class ConfigDiff:
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()  # its regions (itself and above) differ
    interval: dict[str, tuple[timedelta, timedelta]] = field(default_factory=dict)  # old, new
    url: tuple[str, ...] = ()
    channel_rules: bool = False  # channels or a source's own `channels:` changed

    @property
    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.moved
            or self.interval
            or self.url
            or self.channel_rules
        )

    def summary(self) -> str:
        """`+2 added, -1 removed, 1 moved, 1 interval changed` (or `no source changes`)."""
        parts = [
            f"{len(self.added)} added" if self.added else "",
            f"{len(self.removed)} removed" if self.removed else "",
            f"{len(self.moved)} moved" if self.moved else "",
            f"{len(self.interval)} interval changed" if self.interval else "",
            f"{len(self.url)} url changed" if self.url else "",
            "channel rules changed" if self.channel_rules else "",
        ]
        return ", ".join(p for p in parts if p) or "no source changes"

    def as_dict(self) -> dict[str, object]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "moved": list(self.moved),
            "interval_changed": {
                sid: [old.total_seconds(), new.total_seconds()]
                for sid, (old, new) in self.interval.items()
            },
            "url_changed": list(self.url),
            "channel_rules_changed": self.channel_rules,
        }


def diff(old: Site, new: Site) -> ConfigDiff:
    """The source-level differences between the config in force and a new one."""
    kept = [sid for sid in new.sources if sid in old.sources]
    return ConfigDiff(
        added=tuple(sid for sid in new.sources if sid not in old.sources),
        removed=tuple(sid for sid in old.sources if sid not in new.sources),
        moved=tuple(
            sid
            for sid in kept
            if old.ancestors(old.sources[sid].region) != new.ancestors(new.sources[sid].region)
        ),
        interval={
            sid: (old.sources[sid].interval, new.sources[sid].interval)
            for sid in kept
            if old.sources[sid].interval != new.sources[sid].interval
        },
        url=tuple(sid for sid in kept if old.sources[sid].url != new.sources[sid].url),
        channel_rules=old.channels != new.channels
        or any(old.sources[sid].channels != new.sources[sid].channels for sid in kept),
    )
