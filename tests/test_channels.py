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


# ---------------------------------------------------------------- summaries and words

MEETINGS = Channel(
    "gov", "政务", words=("会议",), exclude=("招租",), match=("title", "categories", "summary")
)
CULTURE = Channel("culture", "文旅", keywords=("非遗", "旅游"), match=("title", "summary"))
FARM = Channel("farm", "三农", keywords=("山楂",), categories=("乡村振兴",))  # default fields


@pytest.mark.parametrize(
    ("title", "categories", "summary", "expected"),
    [
        # keywords in the summary count only where the channel asks for it
        ("薛庄镇迎来丰收季", [], "果农正忙着采摘山楂", {}),
        ("文化广场热闹非凡", [], "非遗传承人现场展示技艺", {"culture": "keyword:非遗 in summary"}),
        ("非遗进校园", [], "", {"culture": "keyword:非遗 in title"}),  # the title first
        # words: whole words as jieba segments them
        ("费县召开安全生产工作会议", [], "", {"gov": "word:会议 in title"}),
        ("新建会议室投入使用", [], "", {}),  # 会议室 is not 会议
        ("全县干部大会召开", [], "会上传达了全市工作会议精神", {"gov": "word:会议 in summary"}),
        ("办公楼改造完工", ["会议"], "", {"gov": "word:会议 in category 会议"}),
        # exclusions look in the same fields, the summary included
        ("费县召开安全生产工作会议", [], "会后举行商铺招租说明", {}),
        # a mapped category wins over keywords and words
        (
            "山楂会议召开",
            ["乡村振兴"],
            "",
            {"farm": "category:乡村振兴", "gov": "word:会议 in title"},
        ),
    ],
)
def test_summary_matching_and_words(title, categories, summary, expected):
    got = classify(title, categories, [], (MEETINGS, CULTURE, FARM), summary)
    assert got == expected


def test_summary_is_optional_for_callers():
    assert classify("非遗进校园", [], [], (CULTURE,)) == {"culture": "keyword:非遗 in title"}


def test_segmentation_caps_what_it_reads():
    from aggregator.normalise.channels import MAX_SEGMENTED, segment

    long = "会议" + "很" * (MAX_SEGMENTED * 3)
    assert "会议" in segment(long)
    assert classify("x", [], [], (MEETINGS,), "很" * MAX_SEGMENTED + "会议") == {}
