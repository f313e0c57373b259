"""normalise.identity: title keys across sources, entry keys within one."""

from __future__ import annotations

import pytest

from aggregator.normalise.identity import digest, entry_key, shared_values, title_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("费县召开2024年安全生产会议", "费县召开２０２４年安全生产会议"),  # width
        ("ABC会议", "ＡＢＣ会议"),
        ("ABC会议", "abc会议"),  # case
        ("【图】费县召开会议", "费县召开会议"),
        ("[视频] 费县召开会议", "费县召开会议"),
        ("【组图】【视频】费县召开会议", "费县召开会议"),
        ("（图）费县召开会议", "费县召开会议"),
        ("费县召开会议（组图）", "费县召开会议"),  # a tag at the end too
        ("费县召开会议(图)", "费县召开会议"),
        ("「费县」召开会议", "费县召开会议"),  # brackets are punctuation
        ("『费县』召开“会议”", "费县召开会议"),
        ("费县召开会议！", "费县召开会议"),
        ("费县：召开会议。", "费县召开会议"),
        ("费县 召开 会议", "费县召开会议"),
        ("\u3000费县召开会议\u3000", "费县召开会议"),  # full-width spaces
        ("费县召开会议\n", "费县召开会议"),
        ("费县_召开-会议", "费县召开会议"),
    ],
)
def test_title_key_equal(a, b):
    assert title_key(a) == title_key(b)
    assert title_key(a) != ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("费县召开安全生产工作会议", "兰山区召开安全生产工作会议"),
        ("费县召开会议", "费县召开会议2"),
        ("图说费县", "说费县"),  # 图 is a tag only inside brackets
        ("费县【独家】报道", "费县报道"),  # a tag in the middle is text
    ],
)
def test_title_key_different(a, b):
    assert title_key(a) != title_key(b)


@pytest.mark.parametrize("title", ["", "   ", "！？。", "\u3000"])
def test_title_key_of_nothing_is_empty(title):
    assert title_key(title) == ""


def test_entry_key_prefers_guid_then_link_then_content():
    by_guid = entry_key("guid-1", "https://x.example.cn/a", "fallback")
    by_link = entry_key(None, "https://x.example.cn/a", "fallback")
    by_content = entry_key(None, None, "fallback")
    assert by_guid == "g" + digest("guid-1")
    assert by_link == "l" + digest("https://x.example.cn/a")
    assert by_content == "h" + digest("fallback")
    assert len({by_guid, by_link, by_content}) == 3


@pytest.mark.parametrize(
    ("guid", "link", "prefix"),
    [
        ("", "https://x.example.cn/a", "l"),
        ("", "", "h"),
        ("g", "", "g"),
    ],
)
def test_entry_key_skips_empty_values(guid, link, prefix):
    assert entry_key(guid, link, "fallback")[0] == prefix


def test_entry_key_stable_and_distinct():
    assert entry_key("a", None, "x") == entry_key("a", "https://other", "y")
    assert entry_key("a", None, "x") != entry_key("b", None, "x")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a", "b", "a", None, None, "", ""], {"a"}),
        (["a", "b", "c"], set()),
        (["x", "x", "y", "y", "y"], {"x", "y"}),
        ([], set()),
        ([None, None], set()),
    ],
)
def test_shared_values(values, expected):
    assert shared_values(values) == expected
    assert shared_values(iter(values)) == expected  # any iterable, read once


def test_digest():
    assert digest("a", "b") != digest("ab")  # parts are separated
    assert digest(None) == digest("")
    assert len(digest("费县")) == 32
