"""Which channels an article belongs to, and why. PURE.

Chinese has no spaces, so keywords match as substrings of the title and the source's
categories. A source's own `channels:` always apply; a channel's `exclude` words veto a
keyword match; a source category listed in a channel's `categories` maps onto it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aggregator.model import Channel


def classify(
    title: str,
    categories: Sequence[str],
    source_channels: Iterable[str],
    channels: Sequence[Channel],
) -> dict[str, str]:
    """Channel id → the rule that put the article there (shown to admins)."""
    found: dict[str, str] = {cid: "source" for cid in source_channels}
    lowered_cats = [c.casefold() for c in categories]
    for channel in channels:
        if channel.id in found:
            continue
        if any(
            word and (word in title or any(word in c for c in categories))
            for word in channel.exclude
        ):
            continue
        for cat, low in zip(categories, lowered_cats, strict=True):
            if any(low == m.casefold() for m in channel.categories):
                found[channel.id] = f"category:{cat}"
                break
        if channel.id in found:
            continue
        for word in channel.keywords:
            if not word:
                continue
            if word in title:
                found[channel.id] = f"keyword:{word} in title"
                break
            hit = next((c for c in categories if word in c), None)
            if hit is not None:
                found[channel.id] = f"keyword:{word} in category {hit}"
                break
    return found
