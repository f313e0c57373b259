"""Stable identities and hashes of entries. PURE.

An entry's key is its guid, else its canonical link, else a hash of its content;
sources that give every item the same guid or link are caught per document and fall
back to content so they are not collapsed into one entry.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

_TITLE_NOISE = re.compile(r"[\s\u3000\W_]+", re.UNICODE)
_BRACKET_TAG = (
    r"[【\[［(（「『<《]\s*(?:图|组图|视频|图文|转载|转|原创|独家|快讯|最新)\s*[】\]］)）」』>》]"
)
# At either end: "【图】标题" and "标题（组图）" are both common.
_BRACKET_TAGS = re.compile(rf"^(?:{_BRACKET_TAG}\s*)+|(?:\s*{_BRACKET_TAG})+$")


def digest(*parts: str | None) -> str:
    """A short, stable hex digest of some strings."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update((part or "").encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def normal_title(title: str) -> str:
    """A title with width, case, bracket tags, punctuation and spaces taken out."""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = _BRACKET_TAGS.sub("", text.strip())
    return _TITLE_NOISE.sub("", text)


def title_key(title: str) -> str:
    """Title identity across sources: a digest of `normal_title` ('' for an empty one)."""
    text = normal_title(title)
    return digest(text) if text else ""


def shared_values(values: Iterable[str | None]) -> set[str]:
    """Values that more than one entry of a document carries: unusable as identity."""
    counts = Counter(v for v in values if v)
    return {v for v, n in counts.items() if n > 1}


def entry_key(guid: str | None, canonical_link: str | None, fallback: str) -> str:
    if guid:
        return "g" + digest(guid)
    if canonical_link:
        return "l" + digest(canonical_link)
    return "h" + digest(fallback)
