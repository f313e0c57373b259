"""normalise.dedupe.judge: copies of one story merge, look-alikes stay apart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from aggregator.model import DatePrecision
from aggregator.normalise.dedupe import (
    Copy,
    body_number_conflicts,
    judge,
    series_marks,
    title_numbers,
    title_similarity,
)
from aggregator.normalise.fingerprint import fingerprint
from aggregator.normalise.text import publisher_key, same_publisher
from tests.factories import NOW

MEETING = (
    "11月19日，临沂市召开全市安全生产暨森林防火工作会议，总结今年以来全市安全生产工作，"
    "部署冬春季安全防范和森林防火重点任务。会议指出，今年以来全市安全生产形势总体平稳，"
    "生产安全事故起数和死亡人数实现“双下降”。会议要求，各县区、各部门要坚持人民至上、"
    "生命至上，深入开展重大事故隐患专项排查整治，坚决防范遏制重特大事故发生。"
)
HAWTHORN = (
    "{d}，在费县薛庄镇马家峪村的山楂园里，一串串红彤彤的山楂挂满枝头，果农们正忙着采摘、分拣、"
    "装箱。{y}年，薛庄镇山楂种植面积达到{a}万亩，预计总产量{o}万吨，带动周边群众就业{j}余人。"
)
THIS_YEAR = HAWTHORN.format(d="10月12日", y=2026, a="3.5", o="6", j=3000)
LAST_YEAR = HAWTHORN.format(d="10月14日", y=2025, a="3.2", o="5.5", j=2600)


def copy(title: str, text: str, minutes: float = 0, precision=DatePrecision.DATETIME) -> Copy:
    return Copy(title, fingerprint(title, text), NOW + timedelta(minutes=minutes), precision)


def same(a: Copy, b: Copy, **kw) -> bool:
    """Both ways round, the answer must be the same."""
    one, two = judge(a, b, **kw), judge(b, a, **kw)
    assert one.same == two.same and one.score == pytest.approx(two.score)
    return one.same


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            copy("临沂市召开安全生产工作会议", "来源：临沂日报 " + MEETING),
            copy("临沂市召开安全生产工作会议 ", MEETING, 30),
            id="来源 line, trailing space, 30 minutes later",
        ),
        pytest.param(
            copy("【图】临沂市召开安全生产工作会议", MEETING + "（记者 高峰 摄）"),
            copy("临沂市召开安全生产工作会议（组图）", MEETING + "（通讯员 马超 摄）"),
            id="bracket tags and another picture",
        ),
        pytest.param(
            copy("临沂市召开2026年全市安全生产暨森林防火工作会议", MEETING),
            copy("临沂市召开安全生产工作会议", MEETING, 120),
            id="shortened title",
        ),
        pytest.param(
            copy("全市安全生产暨森林防火工作会议召开", "本报讯（记者 李娜）" + MEETING),
            copy("临沂部署冬春季安全防范工作", MEETING + "（编辑：赵六 审核：钱七）", 90),
            id="another title over the same body",
        ),
        pytest.param(
            copy("临沂市召开安全生产暨森林防火工作会议", MEETING[:80] + "……"),
            copy("临沂市召开安全生产暨森林防火工作会议", MEETING),
            id="the summary against the full body",
        ),
        pytest.param(
            copy("「沂蒙四季·冬」临沂市安全生产会议", MEETING.replace("，", ", ")),
            copy("沂蒙四季·冬：临沂市安全生产会议", MEETING.replace("11", "１１"), 60 * 20),
            id="「」, full width, the next day",
        ),
        pytest.param(
            copy("兰陵县2026年冬季征兵体检工作圆满完成", ""),
            copy("兰陵县2026年冬季征兵体检工作圆满完成\u3000", "", 5),
            id="no bodies: the same long title within minutes",
        ),
        pytest.param(
            copy("莒南县举办第五届农民丰收节", MEETING, 0, DatePrecision.DATE),
            copy("莒南县举办第五届农民丰收节", MEETING, 60 * 9),
            id="no time of day on one side",
        ),
    ],
)
def test_copies_of_one_story_merge(a, b):
    assert same(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param(
            copy(
                "通知", "因线路检修，11月28日8:00至12:00城区部分路段停电，请广大用户提前做好准备。"
            ),
            copy(
                "通知",
                "定于12月1日上午9时在县政府第一会议室召开全县冬季安全生产工作会议，请准时参加。",
            ),
            id="two 通知",
        ),
        pytest.param(
            copy(
                "关于开展冬季安全生产大检查的通知",
                "县教育局决定在全县中小学、幼儿园开展冬季安全大检查，重点是校舍安全、消防设施、"
                "食堂食品安全和校车运行情况，各学校要于12月10日前完成自查。",
            ),
            copy(
                "关于开展冬季安全生产大检查的通知",
                "县应急管理局决定在全县工贸企业开展冬季安全生产大检查，重点是危险化学品储存、"
                "有限空间作业、粉尘防爆和用电安全，各企业要对照清单逐项排查。",
            ),
            id="one title, two departments, same minute",
        ),
        pytest.param(
            copy("沂蒙红色故事（一）", "编者按：本报推出系列报道。" + MEETING),
            copy("沂蒙红色故事（二）", "编者按：本报推出系列报道。" + MEETING, 60 * 24),
            id="series parts even over one text",
        ),
        pytest.param(
            copy("乡村振兴大讲堂第一期：山楂种植", MEETING),
            copy("乡村振兴大讲堂第二期：山楂种植", MEETING),
            id="第一期/第二期",
        ),
        pytest.param(
            copy("走进沂蒙之一", MEETING),
            copy("走进沂蒙之二", MEETING),
            id="之一/之二",
        ),
        pytest.param(
            copy("费县第十届山楂文化旅游节开幕", THIS_YEAR),
            copy("费县第九届山楂文化旅游节开幕", LAST_YEAR, 60 * 24 * 2),
            id="山楂节 editions",
        ),
        pytest.param(
            copy("薛庄镇山楂节开幕", THIS_YEAR),
            copy("薛庄镇山楂节开幕", LAST_YEAR, -60 * 24 * 363),
            id="山楂节 last year, same title",
        ),
        pytest.param(
            copy("薛庄镇山楂节开幕", THIS_YEAR),
            copy("薛庄镇山楂节开幕", LAST_YEAR, 60),
            id="山楂节 bodies stating other figures",
        ),
        pytest.param(
            copy(
                "全市空气质量周报（第45周）", "第45周全市空气质量优良天数3天，PM2.5平均浓度35微克。"
            ),
            copy(
                "全市空气质量周报（第46周）", "第46周全市空气质量优良天数4天，PM2.5平均浓度36微克。"
            ),
            id="weekly report",
        ),
        pytest.param(
            copy("通知", ""),
            copy("通知", ""),
            id="short titles alone say nothing",
        ),
        pytest.param(
            copy("兰陵县2026年冬季征兵体检工作圆满完成", ""),
            copy("兰陵县2026年冬季征兵体检工作圆满完成", "", 60),
            id="a long title alone, an hour apart",
        ),
    ],
)
def test_look_alikes_stay_apart(a, b):
    assert not same(a, b)


def test_the_window_bounds_the_gap():
    a = copy("临沂市召开安全生产工作会议", MEETING)
    b = copy("临沂市召开安全生产工作会议", MEETING, 60 * 24 * 8)
    assert not same(a, b)
    assert same(a, b, window=timedelta(days=10))
    v = judge(a, b, window=timedelta(days=10))
    assert v.score < judge(a, copy("临沂市召开安全生产工作会议", MEETING)).score  # time weighs


def test_the_threshold_is_the_admins():
    a = copy("临沂市召开安全生产暨森林防火工作会议", MEETING)
    b = copy("临沂部署冬春季安全防范工作", MEETING, 60 * 24 * 3)
    v = judge(a, b)
    assert v.same and v.score < 0.95
    assert not judge(a, b, threshold=0.95).same


def test_verdict_explains_itself():
    v = judge(
        copy("临沂市召开安全生产工作会议", MEETING),
        copy("【图】临沂市召开安全生产工作会议", MEETING, 3),
    )
    assert v.explain() == {
        "score": pytest.approx(1.0, abs=0.001),
        "title_similarity": 1.0,
        "body_similarity": 1.0,
        "minutes_apart": 3.0,
        "how": "near-duplicate text",
    }
    apart = judge(copy("沂蒙故事（上）", MEETING), copy("沂蒙故事（下）", MEETING))
    assert apart.reason == "other parts of a series" and not apart.same


@pytest.mark.parametrize(
    ("title", "marks"),
    [
        ("沂蒙红色故事（一）", {"一"}),
        ("沂蒙红色故事(2)", {"2"}),
        ("【三】沂蒙故事", {"三"}),
        ("大讲堂第3期", {"3"}),
        ("大讲堂 第 十二 集", {"十二"}),
        ("走进沂蒙之二", {"二"}),
        ("脱贫攻坚纪实（上篇）", {"上"}),  # （上篇） reads as 上 twice
        ("系列报道 2/3", {"2/3"}),
        ("费县召开会议", set()),
        ("之江新闻", set()),
        ("一二三四", set()),
    ],
)
def test_series_marks(title, marks):
    assert series_marks(title) == marks


@pytest.mark.parametrize(
    ("title", "numbers"),
    [
        ("费县第十届山楂节", {"第十"}),
        ("2026年薛庄镇山楂节", {"2026"}),
        ("二〇二六年工作会议", {"二〇二六"}),
        ("前１１个月经济运行", {"11"}),
        ("费县召开会议", set()),
    ],
)
def test_title_numbers(title, numbers):
    assert title_numbers(title) == numbers


def test_body_number_conflicts_count_disagreements_not_omissions():
    assert body_number_conflicts("11月27日停电", "11月27日8时至12时停电") == 0  # left out
    assert body_number_conflicts("12月3日探沂镇停电", "12月10日朱田镇停电") == 1
    assert body_number_conflicts("3日8时", "10日9时") == 2


def test_title_similarity():
    assert title_similarity("费县召开会议", "费县召开会议") == 1.0
    assert title_similarity("临沂市召开安全生产工作会议", "临沂市召开2026年安全生产工作会议") > 0.6
    assert title_similarity("费县召开会议", "") == 0.0
    assert title_similarity("蒙山雪后美如画", "费县召开会议") == 0.0


@pytest.mark.parametrize(
    ("origin", "name", "expected"),
    [
        ("临沂日报社", "临沂日报", True),
        ("临沂日报", "临沂日报社", True),
        ("大众日报客户端", "大众日报", True),
        ("临沂日报报业集团", "临沂日报", True),
        ("费县新闻网", "费县新闻网", True),
        ("ＬＩＮＹＩ Daily", "linyi daily", True),
        ("临沂市人民政府网站", "临沂市人民政府", True),
        ("临沂日报", "临沂晚报", False),
        ("临沂", "临沂日报", False),  # too short to name anyone
        ("费县融媒体中心", "费县新闻网", False),
        ("", "临沂日报", False),
        (None, "临沂日报", False),
        ("临沂日报", None, False),
        ("！！", "！！", False),
    ],
)
def test_same_publisher(origin, name, expected):
    assert same_publisher(origin, name) is expected


def test_publisher_key():
    assert publisher_key(" 临沂日报社 ") == "临沂日报"
    assert publisher_key("社") == "社"  # never stripped to nothing
