"""Search index tokens of a text: CJK as overlapping character pairs, other words whole. PURE.

Chinese is written without spaces, so every run of CJK characters is indexed as its
overlapping pairs plus its last character (费县山楂节 → 费县 县山 山楂 楂节 节); other
scripts as lower-cased words. store.search writes these tokens into the index and turns
queries into phrases of the same tokens. Computed in the parser process (`terms`), so
the store's writer only writes them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

# PostgreSQL keeps positions up to 16383 and 256 per lexeme; the same cap on both
# databases keeps their answers alike. News articles are far shorter than this.
MAX_TOKENS = 16000

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
RUN = re.compile(f"([{CJK}]+)|((?:(?![{CJK}])[^\\W_])+)")


def fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def runs(value: str) -> list[tuple[bool, str]]:
    """(is_cjk, run) pieces of NFKC-normalised, case-folded text; separators dropped."""
    return [(bool(m[1]), m[0]) for m in RUN.finditer(fold(value))]


def pairs(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(value: str) -> Iterator[str]:
    """Index tokens of a text: CJK runs as pairs plus their last character, other words whole."""
    for cjk, run in runs(value):
        if cjk:
            yield from pairs(run)
            yield run[-1]
        else:
            yield run


def index_tokens(title: str, body: str) -> list[str]:
    """The tokens stored for one entry: its title, then its text, capped at MAX_TOKENS."""
    out: list[str] = []
    for part in (title, body):
        for m in RUN.finditer(fold(part)):
            run = m[0]
            if m[1]:
                out += [run[i : i + 2] for i in range(len(run) - 1)]
                out.append(run[-1])
            else:
                out.append(run)
            if len(out) >= MAX_TOKENS:
                return out[:MAX_TOKENS]
    return out


def terms(title: str, body: str) -> str:
    """`index_tokens` as one space-separated string (tokens hold no spaces), the form an
    Article carries from the parser process to the store."""
    return " ".join(index_tokens(title, body))
