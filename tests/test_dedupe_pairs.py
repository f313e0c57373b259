"""The labelled set (tests/data/dedupe/pairs.jsonl) through the real matcher's pure part.

A pair counts as merged when the two articles share a lookup key (what store.matching
finds through story_bands) and the judge says they are one story. Written by
bench/make_pairs.py; bench/dedupe.py prints the same figures.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from functools import cache
from typing import Any

from aggregator.model import DatePrecision
from aggregator.normalise.dedupe import Copy, judge
from aggregator.normalise.fingerprint import fingerprint
from tests.conftest import DATA

PAIRS = DATA / "dedupe" / "pairs.jsonl"


def _copy(side: dict[str, Any]) -> Copy:
    published = datetime.fromisoformat(side["published"].replace("Z", "+00:00"))
    return Copy(
        side["title"],
        fingerprint(side["title"], side["text"]),
        published,
        DatePrecision(side["precision"]),
    )


@cache
def results() -> list[tuple[dict[str, Any], bool]]:
    out = []
    for line in PAIRS.read_text("utf-8").splitlines():
        pair = json.loads(line)
        a, b = _copy(pair["a"]), _copy(pair["b"])
        found = bool(set(a.fp.keys) & set(b.fp.keys))
        out.append((pair, found and judge(a, b).same))
    return out


def test_the_set_is_large_and_mixed():
    pairs = [p for p, _ in results()]
    assert len(pairs) >= 300
    assert len({p["id"] for p in pairs}) == len(pairs)
    kinds = Counter((p["kind"], p["label"]) for p in pairs)
    assert kinds[("syndicated", 1)] >= 100 and kinds[("lookalike", 0)] >= 100
    assert kinds[("hand", 0)] >= 20 and kinds[("hand", 1)] >= 10 and kinds[("variant", 1)] >= 50


def test_precision_and_recall_meet_the_targets():
    tp = sum(1 for p, merged in results() if merged and p["label"])
    fp = sum(1 for p, merged in results() if merged and not p["label"])
    fn = sum(1 for p, merged in results() if not merged and p["label"])
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    wrong = [p["id"] for p, merged in results() if merged and not p["label"]]
    assert precision >= 0.995, wrong
    assert recall >= 0.95


def test_no_hand_made_look_alike_merges():
    wrong = [(p["id"], p["note"]) for p, merged in results() if merged and not p["label"]]
    assert wrong == []
