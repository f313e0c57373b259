"""feeds.yaml `dedupe:` and the channel keys `words:` and `match:`."""

from __future__ import annotations

from datetime import timedelta

from aggregator.model import Dedupe
from tests.test_config import MINIMAL, ok, problems


def test_dedupe_defaults_to_a_week_and_0_8() -> None:
    site = ok(MINIMAL).site
    assert site.dedupe == Dedupe(window=timedelta(days=7), threshold=0.8)
    assert site.channels[0].match == ("title", "categories") and site.channels[0].words == ()


def test_dedupe_and_channel_rules_are_read() -> None:
    text = MINIMAL.replace(
        "channels:\n  - id: politics\n    title: 时政\n",
        "dedupe:\n  window: 3d\n  threshold: 0.9\n"
        "channels:\n  - id: politics\n    title: 时政\n    words: [会议]\n"
        "    match: [title, summary, title]\n",
    )
    site = ok(text).site
    assert site.dedupe == Dedupe(window=timedelta(days=3), threshold=0.9)
    politics = site.channel("politics")
    assert politics is not None
    assert politics.words == ("会议",) and politics.match == ("title", "summary")


def test_dedupe_and_match_problems_are_on_their_lines() -> None:
    text = MINIMAL.replace(
        "channels:\n  - id: politics\n    title: 时政\n",
        "dedupe:\n  window: 0s\n  threshold: 1.5\n  windw: 3d\n"
        "channels:\n  - id: politics\n    title: 时政\n    match: [title, body]\n"
        "  - id: p2\n    title: 时政\n    match: []\n",
    )
    assert problems(text) == [
        (5, "dedupe.window: must be more than 0"),
        (6, "dedupe.threshold: must be more than 0 and at most 1, not 1.5"),
        (7, "dedupe: unknown key 'windw' (did you mean 'window'?)"),
        (11, "channels[0].match: unknown field 'body': use title, categories, summary"),
        (14, "channels[1].match: name at least one of title, categories, summary"),
    ]


def test_threshold_must_be_a_number() -> None:
    for value in ("true", "'0.5'", "[0.5]"):
        text = MINIMAL.replace("channels:\n", f"dedupe:\n  threshold: {value}\nchannels:\n", 1)
        ((line, message),) = problems(text)
        assert line == 5 and message.startswith("dedupe.threshold: expected a number between 0")
    text = MINIMAL.replace("channels:\n", "dedupe:\n  threshold: 1\nchannels:\n", 1)
    assert ok(text).site.dedupe.threshold == 1.0
