"""normalise.channels.classify: which channels an article joins, and the rule that said so."""

from __future__ import annotations

import pytest

from aggregator.model import Channel
from aggregator.normalise.channels import classify

CHANNELS = (
    Channel("edu", "教育", keywords=("高考", "教育"), exclude=("招生广告",)),
    Channel("farm", "三农", keywords=("山楂", "蜜桃"), categories=("三农", "乡村振兴")),
    Channel("gov", "政务", keywords=("会议",), exclude=("广告",)),
    Channel("health", "医疗", categories=("Medical",)),
    Channel("empty", "空"),
)


@pytest.mark.parametrize(
    ("title", "categories", "source_channels", "expected"),
    [
        # a source's own channels always apply, whatever the text says
        ("无关标题", [], ["local"], {"local": "source"}),
        ("某招生广告", [], ["edu"], {"edu": "source"}),  # exclude does not veto a source
        ("费县召开会议", [], ["gov"], {"gov": "source"}),  # source wins over a keyword
        # keyword in the title (Chinese: a substring, no word boundaries)
        ("蒙阴县高考考点完成标准化改造", [], [], {"edu": "keyword:高考 in title"}),
        ("费县召开安全生产工作会议", [], [], {"gov": "keyword:会议 in title"}),
        # keyword in a category
        ("薛庄镇文化节开幕", ["山楂节"], [], {"farm": "keyword:山楂 in category 山楂节"}),
        # exclude vetoes a keyword match, in the title or in a category
        ("某学校招生广告：高考冲刺班", [], [], {}),
        ("高考冲刺班开课", ["招生广告"], [], {}),
        ("会议室广告位招租", [], [], {}),
        # a mapped source category, compared without case
        ("冷链中心投入使用", ["经济", "三农"], [], {"farm": "category:三农"}),
        ("x", ["medical"], [], {"health": "category:medical"}),
        # several at once, source first
        (
            "山楂产业会议召开",
            ["乡村振兴"],
            ["local"],
            {"local": "source", "farm": "category:乡村振兴", "gov": "keyword:会议 in title"},
        ),
        # nothing matches
        ("天气预报", ["综合"], [], {}),
        ("", [], [], {}),
    ],
)
def test_classify(title, categories, source_channels, expected):
    assert classify(title, categories, source_channels, CHANNELS) == expected


def test_classify_keeps_order_source_then_site_channels():
    got = classify("山楂产业会议", [], ["z-local"], CHANNELS)
    assert list(got) == ["z-local", "farm", "gov"]


def test_classify_with_no_site_channels():
    assert classify("费县召开会议", ["三农"], ["local"], ()) == {"local": "source"}


def test_empty_keyword_matches_nothing():
    channels = (Channel("x", "X", keywords=("",), exclude=("",)),)
    assert classify("任何标题", ["任何分类"], [], channels) == {}
