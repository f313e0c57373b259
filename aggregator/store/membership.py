"""Which feeds a story belongs in. PURE.

A story is in a region's feed when any copy comes from a source in that region or
below it; its channels are the union of its copies' channels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def feed_keys(
    copies: Iterable[tuple[str, Iterable[str]]],
    regions_of: Callable[[str], tuple[str, ...]],
) -> set[str]:
    """Membership keys (see model.FeedScope.key) for a story's copies: (source id, channels)."""
    regions: set[str] = set()
    channels: set[str] = set()
    keys: set[str] = set()
    for source_id, source_channels in copies:
        keys.add(f"s:{source_id}")
        regions.update(regions_of(source_id))
        channels.update(source_channels)
    keys.update(f"r:{r}" for r in regions)
    keys.update(f"c:{c}" for c in channels)
    keys.update(f"rc:{r}:{c}" for r in regions for c in channels)
    return keys
