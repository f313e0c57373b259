"""Are two articles copies of one story? PURE.

Precision comes first: a wrong merge hides a story from every reader, a missed merge
shows it twice. So the judge first looks for what proves two articles different even
when their text is close: publish times further apart than the window, other parts of
a series (（上）/（下）, 第一期/第二期, 之二), titles that state other numbers (第十届 and
第九届 山楂节, 第45周 and 第46周), bodies whose figures disagree (two 停电通知 for other
days and places). Only then does it score how alike they are:

- both bodies long enough to judge (20 shingles): the larger of 0.3 × title similarity +
  0.7 × body similarity and body similarity − 0.1 (one text under another title is one
  story), less 0.1 for one disagreeing figure;
- otherwise only a title can speak: the same title (at least 8 characters) published
  within 10 minutes (a day when either side gives no time of day);

and the score loses up to 0.1 as the publish times drift apart over the window. A pair
is one story when the score reaches the threshold (0.8 by default). The weights were
set on tests/data/dedupe/pairs.jsonl, where copies score 0.88 and more and look-alikes
0.72 and less; bench/dedupe.py prints the figures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aggregator.model import DatePrecision
from aggregator.normalise.fingerprint import (
    MIN_BODY_SHINGLES,
    TITLE_SHINGLE,
    Fingerprint,
    shingles,
)

WINDOW = timedelta(days=7)
THRESHOLD = 0.8
TITLE_WEIGHT = 0.3
TIME_PENALTY = 0.1  # score lost by copies a whole window apart
CONTAINMENT_TITLE = 0.5  # titles at least this alike let body containment count
CONTAINMENT_DISCOUNT = 4.0
BODY_ALONE_MARGIN = 0.1  # a body scores on its own, whatever the titles, less this
NUMBER_PENALTY = 0.1  # score lost per figure one body states and the other does not
TITLE_CONTAINED_CHARS = 6  # a title shortened to fewer characters than this says too little
TITLE_ONLY_CHARS = 8  # shorter titles (通知, 公告) say too little on their own
TITLE_ONLY_GAP = timedelta(minutes=10)
TITLE_ONLY_GAP_UNTIMED = timedelta(days=1)
SERIES_OVERRIDE = 0.9  # a body this alike outweighs a series mark that only one title has

_CN_DIGITS = "零〇一二三四五六七八九十百千两"
_SERIES = (
    re.compile(rf"[(\[【]\s*([{_CN_DIGITS}上中下终续\d]{{1,4}})\s*[)\]】]"),
    re.compile(
        rf"第\s*([{_CN_DIGITS}\d]{{1,4}})\s*(?:期|集|部分|篇|季|章|节|回|讲|课|站|弹|辑|部|场)"
    ),
    re.compile(rf"之\s*([{_CN_DIGITS}\d]{{1,3}})(?![{_CN_DIGITS}\d\w])"),
    re.compile(r"([上中下])\s*篇"),
    re.compile(r"(\d{1,2}\s*/\s*\d{1,2})(?!\d)"),
)
_ORDINAL = re.compile(rf"第\s*([{_CN_DIGITS}\d]{{1,6}})")
_CN_YEAR = re.compile(r"([零〇一二三四五六七八九]{4})\s*年")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True, slots=True)
class Copy:
    """One side of a comparison: a title as published, its fingerprint, its time."""

    title: str
    fp: Fingerprint
    published: datetime
    precision: DatePrecision = DatePrecision.DATETIME


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judge's answer with its evidence, kept so an admin can see why."""

    same: bool
    score: float
    title: float  # title similarity, 0–1
    body: float | None  # body similarity, None when a body was too short to judge
    minutes_apart: float
    reason: str

    def explain(self) -> dict[str, object]:
        return {
            "score": round(self.score, 3),
            "title_similarity": round(self.title, 3),
            "body_similarity": None if self.body is None else round(self.body, 3),
            "minutes_apart": round(self.minutes_apart, 1),
            "how": self.reason,
        }


def series_marks(title: str) -> frozenset[str]:
    """Part marks of a series in a title: （上）, （二）, 第3期, 之一, 2/3 …"""
    text = unicodedata.normalize("NFKC", title)
    return frozenset(m.group(1).replace(" ", "") for p in _SERIES for m in p.finditer(text))


def title_numbers(title: str) -> frozenset[str]:
    """Numbers a title states: digits, ordinals (第十届) and years written in characters."""
    text = unicodedata.normalize("NFKC", title)
    found = set(_DIGITS.findall(text))
    found.update("第" + m.group(1) for m in _ORDINAL.finditer(text))
    found.update(m.group(1) for m in _CN_YEAR.finditer(text))
    return frozenset(found)


def _unstated(numbers: Iterable[str], text: str) -> int:
    return sum(1 for n in numbers if n not in text)


def title_number_conflict(a: Copy, b: Copy) -> bool:
    """Each title states a number that the other article (title or body) never does.

    One side leaving a number out is fine (a shortened title); a figure the other title
    quotes from the body is fine too.
    """
    na, nb = title_numbers(a.title), title_numbers(b.title)
    if not na or not nb:
        return False
    text_a, text_b = a.fp.title + a.fp.body, b.fp.title + b.fp.body
    return _unstated(na, text_b) > 0 and _unstated(nb, text_a) > 0


def body_number_conflicts(a: str, b: str) -> int:
    """How many figures each body states that the other never does, the smaller count.

    A copy that leaves figures out (a summary, a dropped paragraph) conflicts with
    nothing; two notices of other days and places conflict on every figure.
    """
    return min(_unstated(set(_DIGITS.findall(a)), b), _unstated(set(_DIGITS.findall(b)), a))


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def containment(a: set[str], b: set[str]) -> float:
    """How much of the smaller set the larger one holds."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def title_similarity(a: str, b: str) -> float:
    """Bigram Jaccard of normalised titles; a title shortened from the other scores 0.9 of
    its containment."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ga, gb = shingles(a, TITLE_SHINGLE), shingles(b, TITLE_SHINGLE)
    sim = jaccard(ga, gb)
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    if len(shorter) >= TITLE_CONTAINED_CHARS and shorter in longer:
        sim = max(sim, 0.9)
    return sim


def body_similarity(a: str, b: str, title: float) -> float | None:
    """How alike two bodies are, 0–1; None when either is too short to judge.

    Jaccard of 3-gram shingles, or, when the titles agree, the containment of the shorter
    body in the longer (a summary against the full text, a reprint that dropped a
    paragraph). Containment is cheap to reach by chance, since a short body of template
    sentences sits half inside any article of the same kind, so it counts only near 1:
    0.95 becomes 0.85, 0.9 becomes 0.7 and 0.8 becomes 0.4.
    """
    ga, gb = shingles(a), shingles(b)
    if min(len(ga), len(gb)) < MIN_BODY_SHINGLES:
        return None
    sim = jaccard(ga, gb)
    if title >= CONTAINMENT_TITLE:
        sim = max(sim, 1 - CONTAINMENT_DISCOUNT * (1 - containment(ga, gb)))
    return sim


def judge(a: Copy, b: Copy, window: timedelta = WINDOW, threshold: float = THRESHOLD) -> Verdict:
    """Whether two articles are copies of one story, and how sure."""
    gap = abs(a.published - b.published)
    minutes = gap.total_seconds() / 60
    title = title_similarity(a.fp.title, b.fp.title)
    body = body_similarity(a.fp.body, b.fp.body, title)

    def no(reason: str, score: float = 0.0) -> Verdict:
        return Verdict(False, score, title, body, minutes, reason)

    if gap > window:
        return no("published further apart than the window")
    marks_a, marks_b = series_marks(a.title), series_marks(b.title)
    # A mark only one title has may be a reprint leaving it out: a body alike enough says so.
    if marks_a != marks_b and ((marks_a and marks_b) or body is None or body < SERIES_OVERRIDE):
        return no("other parts of a series")
    if title_number_conflict(a, b):
        return no("titles state other numbers")
    drift = TIME_PENALTY * min(gap / window, 1.0)
    if body is not None:
        conflicts = body_number_conflicts(a.fp.body, b.fp.body)
        if conflicts >= 2:
            return no("bodies state other figures")
        # One text under another title is one story: a body alike enough speaks alone.
        score = max(TITLE_WEIGHT * title + (1 - TITLE_WEIGHT) * body, body - BODY_ALONE_MARGIN)
        score -= drift + NUMBER_PENALTY * conflicts
        return Verdict(score >= threshold, score, title, body, minutes, "near-duplicate text")
    # A body too short to judge: only the same title, published at the same time, will do.
    untimed = DatePrecision.DATETIME is not a.precision or DatePrecision.DATETIME is not b.precision
    limit = TITLE_ONLY_GAP_UNTIMED if untimed else TITLE_ONLY_GAP
    if len(min(a.fp.title, b.fp.title, key=len)) < TITLE_ONLY_CHARS:
        return no("title too short to judge without a body")
    if title < 1.0 or gap > limit:
        return no("only titles to compare, and they differ or were published apart", title)
    if body_number_conflicts(a.fp.body, b.fp.body):
        return no("bodies state other figures", title)
    score = title - drift
    return Verdict(score >= threshold, score, title, body, minutes, "same title at the same time")
