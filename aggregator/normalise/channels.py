"""Which channels an article belongs to, and why. PURE (jieba reads its bundled
dictionary once, the first time a channel has `words:`).

Chinese has no spaces, so `keywords` match as substrings; `words` match whole words
after jieba segments the text, for a keyword that is also the start of a longer word
(会议 but not 会议室). Both are looked for in the fields a channel's `match` names:
the title and the source's categories by default, the summary too when an admin turns
it on. A source's own `channels:` always apply; a channel's `exclude` words (substrings,
in the same fields) veto every other rule; a source category listed in a channel's
`categories` maps onto it.

The rule that matched is returned with the channel (e.g. "keyword:会议 in title",
"word:会议 in summary", "category:三农", "source") and stored per copy, so an admin can
see why an article is in a channel (GET /api/articles/{id}).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

from aggregator.model import Channel

MAX_SEGMENTED = 2000  # characters of a field jieba segments (a summary can be long)


def classify(
    title: str,
    categories: Sequence[str],
    source_channels: Iterable[str],
    channels: Sequence[Channel],
    summary: str = "",
) -> dict[str, str]:
    """Channel id → the rule that put the article there (shown to admins)."""
    found: dict[str, str] = {cid: "source" for cid in source_channels}
    lowered_cats = [c.casefold() for c in categories]
    for channel in channels:
        if channel.id in found:
            continue
        texts = _fields(channel.match, title, categories, summary)
        if any(word and word in text for word in channel.exclude for _, text in texts):
            continue
        rule = _category_rule(channel, categories, lowered_cats)
        rule = rule or _keyword_rule(channel, texts) or _word_rule(channel, texts)
        if rule:
            found[channel.id] = rule
    return found


def _fields(
    names: Iterable[str], title: str, categories: Sequence[str], summary: str
) -> list[tuple[str, str]]:
    """(where, text) pairs of the fields a channel looks in, in a stable order."""
    out: list[tuple[str, str]] = []
    if "title" in names:
        out.append(("title", title))
    if "categories" in names:
        out.extend((f"category {c}", c) for c in categories)
    if "summary" in names and summary:
        out.append(("summary", summary))
    return out


def _category_rule(channel: Channel, categories: Sequence[str], lowered: list[str]) -> str:
    for cat, low in zip(categories, lowered, strict=True):
        if any(low == m.casefold() for m in channel.categories):
            return f"category:{cat}"
    return ""


def _keyword_rule(channel: Channel, texts: list[tuple[str, str]]) -> str:
    return _first_hit("keyword", channel.keywords, texts, lambda word, text: True)


def _word_rule(channel: Channel, texts: list[tuple[str, str]]) -> str:
    return _first_hit("word", channel.words, texts, lambda word, text: word in segment(text))


def _first_hit(
    kind: str,
    words: Iterable[str],
    texts: list[tuple[str, str]],
    whole: Callable[[str, str], bool],
) -> str:
    """The rule of the first word found in a field (as a substring, then by `whole`)."""
    for word in words:
        if not word:
            continue
        for where, text in texts:
            if word in text and whole(word, text):
                return f"{kind}:{word} in {where}"
    return ""


@lru_cache(maxsize=4096)
def segment(text: str) -> frozenset[str]:
    """The words jieba finds in a text (accurate mode: 会议室 stays one word)."""
    return frozenset(_jieba().lcut(text[:MAX_SEGMENTED]))


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces building its dictionary otherwise
    return jieba
