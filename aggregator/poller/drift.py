"""Has a list page's layout changed under its selectors? PURE.

A source keeps the entry counts of its last HISTORY polls that found entries. "Usual" is
their median, so one odd poll does not move it and a page that really shrank for good
becomes the new usual after about HISTORY/2 polls.

- no entries at all → `selector_empty` (an error: nothing is stored, and the count history
  is kept, so the error stays until the selectors match again);
- fewer than DRIFT_RATIO of the usual count, when the usual is at least MIN_USUAL →
  `selector_drift` (a warning: the entries found are stored).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from aggregator.model import PollStatus

HISTORY = 10
DRIFT_RATIO = 0.5
MIN_USUAL = 4  # below this, a shorter list is ordinary noise


@dataclass(frozen=True, slots=True)
class Layout:
    status: PollStatus | None  # None: nothing to say
    message: str
    counts: tuple[int, ...]  # the history to store


def usual(counts: tuple[int, ...]) -> float | None:
    return statistics.median(counts) if counts else None


def judge(seen: int, counts: tuple[int, ...], item_selector: str) -> Layout:
    """What a list page yielding `seen` entries says about its selectors."""
    typical = usual(counts)
    if seen == 0:
        if typical:
            message = (
                f"the list page yielded no entries (usually {typical:g}): the site may "
                f"have changed its layout; check the html selectors (item: {item_selector!r})"
            )
        else:
            message = (
                f"the item selector {item_selector!r} found no entries on the list page; "
                "check the html selectors"
            )
        return Layout(PollStatus.SELECTOR_EMPTY, message, counts)
    history = (*counts, seen)[-HISTORY:]
    if typical is not None and typical >= MIN_USUAL and seen < typical * DRIFT_RATIO:
        message = (
            f"the list page yielded {seen} entries where it usually yields {typical:g}: "
            "the site may have changed its layout; check the html selectors"
        )
        return Layout(PollStatus.SELECTOR_DRIFT, message, history)
    return Layout(None, "", history)
