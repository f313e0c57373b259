"""Write the labelled de-duplication set, tests/data/dedupe/pairs.jsonl.

Usage: python bench/make_pairs.py UNIVERSE_DIR > tests/data/dedupe/pairs.jsonl

Run by hand, once, when the set should change; the tests only read the file it writes.
UNIVERSE_DIR holds universe.py (../shared/universe); it builds a few seeded universes in
a temporary folder and takes from them:

- `syndicated` (label 1): every pair of copies of a syndicated story, each side as the
  aggregator sees it from that source (a summary with a 来源 line, or the full body);
- `variant` (label 1): a universe article against a reprint changed the way reprints
  are: a bracket tag, a shortened title, credit lines, full-width text, another
  picture credit, a dropped paragraph, a summary against the full body, a later time;
- `lookalike` (label 0): different universe articles of one county and topic published
  within days, the most alike titles first (one template, other facts), and twins made
  from one headline template on the same day;

and adds the `hand` cases written below: the same title over other bodies (通知),
other titles over one body, series parts, 山楂节 across years, weekly and daily
reports, notices from one template.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from typing import Any

NOW = "2026-11-27T12:00:00Z"
SEEDS = (1, 2, 3, 4)


def iso(d: datetime) -> str:
    return d.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def side(source: str, title: str, text: str, published: str, precision: str = "datetime"):
    return {
        "source": source,
        "title": title,
        "text": text,
        "published": published,
        "precision": precision,
    }


def pair(kind: str, label: int, a: dict, b: dict, note: str, ident: str) -> dict[str, Any]:
    return {"id": ident, "label": label, "kind": kind, "note": note, "a": a, "b": b}


# ---------------------------------------------------------------- from the universe


def view(u: Any, art: dict, copy: dict) -> dict:
    """A copy as the aggregator's article text would hold it."""
    src = u.source(copy["source"])
    full = (src["format"] == "html" and src.get("fulltext")) or src.get("content") == "full"
    text = "\n".join(art["body"]) if full else copy["summary"]
    return side(copy["source"], copy["title"], text, art["published"])


def full_view(art: dict, source: str, title: str | None = None) -> dict:
    return side(source, title or art["title"], "\n".join(art["body"]), art["published"])


def summary_view(art: dict, source: str) -> dict:
    return side(source, art["title"], art["summary"], art["published"])


def title_bigram_jaccard(a: str, b: str) -> float:
    ga = {a[i : i + 2] for i in range(len(a) - 1)}
    gb = {b[i : i + 2] for i in range(len(b) - 1)}
    return len(ga & gb) / max(1, len(ga | gb))


def shift(published: str, **delta: float) -> str:
    d = datetime.fromisoformat(published.replace("Z", "+00:00"))
    return iso(d + timedelta(**delta))


VARIANTS = 12


def variant(rng: random.Random, art: dict, n: int) -> tuple[dict, dict, str]:
    """A universe article and a reprint of it, changed the way reprints are."""
    body = list(art["body"])
    title = art["title"]
    original = full_view(art, "county-news")
    kind = n % VARIANTS
    if kind == 0:
        tag = rng.choice(["【图】", "【组图】", "[视频]", "【转载】"])
        copy = full_view(art, "city-paper", tag + title)
        note = "bracket tag on the title"
    elif kind == 1:
        short = title.split(" ")[0].split("——")[0]
        if short == title:
            short = title[: max(8, len(title) * 2 // 3)]
        copy = full_view(art, "city-paper", short)
        note = "shortened title"
    elif kind == 2:
        text = "本报讯（记者 张晓明 通讯员 刘洋）" + "\n".join(body) + "\n责任编辑：王磊 审核：陈静"
        copy = side("city-paper", title, text, art["published"])
        note = "credit lines added"
    elif kind == 3:
        wide = "".join(
            chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in "\n".join(body)
        )
        wide = wide.replace(",", "，").replace(":", "：")
        copy = side("city-paper", title + "\u3000", wide, art["published"])
        note = "full-width digits and punctuation"
    elif kind == 4:
        text = "\n".join(body[:-1]) + "\n（通讯员 孙立新 摄）"
        copy = side("city-paper", title, text, art["published"])
        original = side(
            "county-news", title, "\n".join(body[:-1]) + "\n（记者 赵刚 摄）", art["published"]
        )
        note = "another picture credit"
    elif kind == 5:
        dropped = body[:2] + body[3:] if len(body) > 3 else body[:-1]
        copy = side("city-paper", title, "\n".join(dropped), art["published"])
        note = "a paragraph dropped"
    elif kind == 6:
        copy = side(
            "city-paper",
            title,
            f"来源：{rng.choice(['费县新闻网', '临沂日报'])}　" + art["summary"],
            art["published"],
        )
        note = "summary against the full body"
    elif kind == 7:
        copy = full_view(art, "city-paper")
        copy["published"] = shift(art["published"], hours=rng.randint(3, 30))
        note = "reprinted hours later"
    elif kind == 8:
        copy = full_view(art, "city-paper", "原标题：" + title)
        copy["title"] = rng.choice(["关注：", "聚焦", "热点｜"]) + title
        copy["text"] = "原标题：" + title + "\n" + "\n".join(body)
        note = "a label before the title and 原标题 in the body"
    elif kind == 9:
        quote = body[1].replace("“", "").split("，")[0].split(",")[0].split("。")[0][:18]
        copy = full_view(art, "city-paper", quote)
        note = "another title (a phrase of the body) over the same body"
    elif kind == 10:
        lead = body[0].split(",", 1)[-1]
        copy = side(
            "city-paper",
            title,
            "记者近日从当地获悉，" + "\n".join([lead, *body[1:]]),
            art["published"],
        )
        note = "the lead's first words rewritten"
    else:
        short = title.split(" ")[0].split("——")[0]
        copy = full_view(art, "weekly-paper", short)
        copy["published"] = shift(art["published"], days=rng.randint(3, 6))
        note = "a weekly paper's copy days later, title shortened"
    return original, copy, note


def from_universe(universe_dir: str) -> list[dict]:
    sys.path.insert(0, universe_dir)
    import universe as U  # type: ignore[import-not-found]

    out: list[dict] = []
    for seed in SEEDS:
        with tempfile.TemporaryDirectory() as tmp:
            u = U.Universe.build(seed, tmp, "http://127.0.0.1:8765", now=NOW, faults=False)
            arts = list(u.s["articles"].values())
            rng = random.Random(seed)
            # syndicated copies, every pair in a group
            for art in arts:
                copies = [c for c in art["copies"] if c.get("link")]
                if len(copies) < 2 or not art["published"]:
                    continue
                for x, y in itertools.combinations(copies, 2):
                    if x["link"] == y["link"]:
                        continue  # same URL: exact identity, not a content question
                    out.append(
                        pair(
                            "syndicated",
                            1,
                            view(u, art, x),
                            view(u, art, y),
                            f"{y['source']} re-publishes {x['source']}",
                            f"u{seed}-{art['id']}-{x['source']}-{y['source']}",
                        )
                    )
            # reprint variants of articles that nobody syndicated
            single = [a for a in arts if not a["group"] and a["published"] and len(a["body"]) >= 3]
            rng.shuffle(single)
            for n, art in enumerate(single[: VARIANTS * 3]):
                a, b, note = variant(rng, art, n)
                ident = f"u{seed}-{art['id']}-variant{n % VARIANTS}"
                out.append(pair("variant", 1, a, b, note, ident))
            # look-alikes: the most alike titles of one county and topic within days
            dated = [a for a in arts if a["published"] and a["topic"] != "neutral"]
            scored = []
            for x, y in itertools.combinations(dated, 2):
                if x["region"] != y["region"] or x["topic"] != y["topic"]:
                    continue
                gap = abs(
                    datetime.fromisoformat(x["published"][:-1])
                    - datetime.fromisoformat(y["published"][:-1])
                )
                if gap > timedelta(days=6):
                    continue
                scored.append((title_bigram_jaccard(x["title"], y["title"]), x, y))
            scored.sort(key=lambda t: -t[0])
            for n, (_, x, y) in enumerate(scored[:25]):
                mode = n % 3
                a = full_view(x, "county-news") if mode != 1 else summary_view(x, "county-news")
                b = full_view(y, "county-gov") if mode != 2 else summary_view(y, "county-gov")
                out.append(
                    pair(
                        "lookalike",
                        0,
                        a,
                        b,
                        "one county and topic, alike titles",
                        f"u{seed}-{x['id']}-{y['id']}",
                    )
                )
            # twins: one headline template, one county, one day, other facts
            when = datetime.fromisoformat(NOW.replace("Z", "+00:00")) - timedelta(hours=seed * 5)
            regions = [r["id"] for r in u.s["regions"] if r["parent"] == "linyi"]
            made = 0
            for topic in ("politics", "economy", "livelihood", "culture", "rural"):
                region = rng.choice(regions)
                pool = [
                    u.make_article(
                        rng, region, when - timedelta(minutes=rng.randint(0, 600)), topic=topic
                    )
                    for _ in range(14)
                ]
                best = sorted(
                    itertools.combinations(pool, 2),
                    key=lambda xy: -title_bigram_jaccard(xy[0]["title"], xy[1]["title"]),
                )
                for x, y in best[:4]:
                    a = full_view(x, "county-news") if made % 2 else summary_view(x, "county-news")
                    b = full_view(y, "county-tv")
                    out.append(
                        pair(
                            "lookalike",
                            0,
                            a,
                            b,
                            "one template, one county, one day",
                            f"u{seed}-twin-{x['id']}-{y['id']}",
                        )
                    )
                    made += 1
    return out


# ---------------------------------------------------------------- written by hand

T0 = "2026-11-20T02:30:00Z"

HAWTHORN = (
    "{date}，在费县薛庄镇马家峪村的山楂园里，一串串红彤彤的山楂挂满枝头，果农们正忙着采摘、分拣、装箱。"
    "{year}年，薛庄镇山楂种植面积达到{area}万亩，预计总产量{out}万吨。"
    "“今年山楂个头大、品相好，收购价每斤比去年高出{rise}毛钱。”村民刘桂英一边忙着采摘一边说。"
    "近年来，薛庄镇依托山楂产业，发展深加工企业{firms}家，带动周边群众就业{jobs}余人。"
)
SERIES_INTRO = (
    "编者按：为深入学习宣传沂蒙精神，本报推出“沂蒙红色故事”系列报道，讲述革命老区的感人故事。"
)
POWER = (
    "因{what}，国网费县供电公司定于{date}{start}至{end}对{place}线路停电检修。"
    "停电范围：{place}{villages}等村庄。请广大用户提前做好准备，给您带来不便，敬请谅解。"
    "咨询电话：{phone}。"
)
WEATHER = (
    "临沂市气象台{date}{hour}时发布：今天白天到夜间{sky}，北风{wind}级，最低气温{low}℃，最高气温"
    "{high}℃。明天{sky2}，气温{low2}℃到{high2}℃。请注意防范{warn}。"
)
MEETING = (
    "{date}，{town}召开党建工作会议，镇党委书记{person}出席会议并讲话。会议总结了前一阶段党建工作，"
    "对下一步重点任务进行了安排部署。会议强调，要压实党建工作责任，推动基层党组织建设全面进步、"
    "全面过硬。{town}各村党支部书记、镇直部门负责人共{n}人参加会议。"
)


def hand() -> list[dict]:
    out: list[dict] = []
    n = itertools.count(1)

    def add(label: int, note: str, a: dict, b: dict) -> None:
        out.append(pair("hand", label, a, b, note, f"hand-{next(n):03d}"))

    body = (
        "11月19日，临沂市召开全市安全生产暨森林防火工作会议，总结今年以来全市安全生产工作，"
        "部署冬春季安全防范和森林防火重点任务。会议指出，今年以来全市安全生产形势总体平稳，"
        "生产安全事故起数和死亡人数实现“双下降”。会议要求，各县区、各部门要坚持人民至上、生命至上，"
        "深入开展重大事故隐患专项排查整治，紧盯建筑施工、道路交通、燃气、消防等重点行业领域，"
        "扎实做好森林防火各项工作，坚决防范遏制重特大事故发生。"
    )
    add(
        1,
        "shortened title over one body",
        side("linyi-daily", "临沂市召开2026年全市安全生产暨森林防火工作会议", body, T0),
        side("feixian-news", "临沂市召开安全生产工作会议", body, shift(T0, minutes=40)),
    )
    add(
        1,
        "other title over one body",
        side("linyi-daily", "全市安全生产暨森林防火工作会议召开", "本报讯（记者 李娜）" + body, T0),
        side(
            "linyi-gov",
            "临沂部署冬春季安全防范和森林防火工作",
            body + "（编辑：赵六 审核：钱七）",
            shift(T0, hours=2),
        ),
    )
    photo = (
        "11月18日，蒙山迎来今冬首场降雪，雪后的蒙山银装素裹，云雾缭绕，宛如一幅水墨画卷。"
        "不少游客和摄影爱好者慕名而来，登山赏雪，拍摄美景。景区工作人员提醒，雪后山路湿滑，"
        "游客要注意安全，听从工作人员指挥，文明有序游览。"
    )
    add(
        1,
        "「」 title and another picture",
        side("mengyin-photo", "「沂蒙四季·冬」蒙山雪后美如画", photo + "（记者 高峰 摄）", T0),
        side(
            "linyi-news",
            "沂蒙四季·冬：蒙山雪后美如画（组图）",
            photo + "（通讯员 马超 摄）",
            shift(T0, minutes=5),
        ),
    )
    wide = photo.replace("18", "１８").replace("11", "１１")
    add(
        1,
        "full-width digits, spaces",
        side("mengyin-photo", "蒙山雪后美如画", photo, T0),
        side(
            "mengyin-tv",
            "蒙山 雪后 美如画",
            " ".join(wide[i : i + 20] for i in range(0, len(wide), 20)),
            T0,
        ),
    )
    lead = body[:80] + "……"
    add(
        1,
        "summary against the full body",
        side("linyi-daily", "临沂市召开安全生产暨森林防火工作会议", lead, T0),
        side("linyi-news", "临沂市召开安全生产暨森林防火工作会议", body, T0),
    )
    add(
        1,
        "a day later, with a 来源 line",
        side(
            "feixian-news",
            "费县“一站式”服务让群众办事不再跑腿",
            "来源：费县融媒体中心\n" + photo.replace("蒙山", "费县政务服务中心"),
            T0,
        ),
        side(
            "linyi-daily",
            "费县：“一站式”服务让群众办事不再跑腿",
            photo.replace("蒙山", "费县政务服务中心") + "\n来源：费县融媒体中心",
            shift(T0, hours=22),
        ),
    )
    add(
        1,
        "no time of day on one side",
        side(
            "junan-portal",
            "莒南县举办第五届农民丰收节",
            photo.replace("蒙山", "莒南"),
            "2026-11-19T16:00:00Z",
            "date",
        ),
        side(
            "junan-news",
            "莒南县举办第五届农民丰收节",
            photo.replace("蒙山", "莒南"),
            "2026-11-20T01:12:00Z",
        ),
    )
    add(
        1,
        "same long title, no bodies, same minute",
        side("lanling-tv", "兰陵县2026年冬季征兵体检工作圆满完成", "", T0),
        side("linyi-daily", "兰陵县2026年冬季征兵体检工作圆满完成 ", "", T0),
    )
    add(
        1,
        "series part reprinted with its mark",
        side("linyi-daily", "沂蒙红色故事（三）：沂蒙六姐妹", SERIES_INTRO + photo, T0),
        side("yinan-news", "沂蒙红色故事（三）|沂蒙六姐妹", photo, shift(T0, hours=3)),
    )
    add(
        1,
        "title with a county prefix and credits in brackets",
        side("pingyi-rb", "平邑：金银花产业托起群众致富梦", "【平邑县融媒体中心】" + body, T0),
        side("linyi-daily", "金银花产业托起群众致富梦", body + "【责任编辑：周涛】", T0),
    )
    # Copies the judge misses on purpose (precision first): nothing but the title and the
    # time says they are one story, and 通知 with one title at one time say the same.
    add(
        1,
        "an editor's abstract against the full text (missed: only the title agrees)",
        side(
            "linyi-news",
            "临沂市召开安全生产暨森林防火工作会议",
            "全市安全生产形势总体平稳。冬春季节是事故易发期，市里提出坚决防范遏制重特大事故。",
            T0,
        ),
        side("linyi-daily", "临沂市召开安全生产暨森林防火工作会议", body, T0),
    )
    add(
        1,
        "a copy rewritten in other words (missed)",
        side("mengyin-news", "蒙山迎来今冬首场雪", photo, T0),
        side(
            "mengyin-tv",
            "蒙山迎来今冬首场雪",
            "今冬第一场雪18日光顾蒙山，山间一片银白，云雾在峰峦间游走。赏雪拍照的游客纷纷上山，"
            "景区提示：下雪后台阶较滑，请大家慢行，服从现场管理。",
            T0,
        ),
    )

    # -- the same title over other bodies
    notices = [
        "因线路检修，11月28日8:00至12:00城区部分路段停电，请广大用户提前做好准备。",
        "定于12月1日上午9时在县政府第一会议室召开全县冬季安全生产工作会议，请各单位主要负责人准时参加。",
        "根据国务院办公厅通知精神，现将2027年元旦放假安排通知如下：1月1日至3日放假调休，共3天。",
        "县第一中学2026年冬季学期期末考试定于1月15日开始，请各位家长督促学生认真复习，按时到校。",
    ]
    for i, (x, y) in enumerate(itertools.combinations(notices, 2)):
        add(
            0,
            "通知 with other bodies",
            side("feixian-gov", "通知", x, T0),
            side("lanling-gov", "通知", y, shift(T0, minutes=i)),
        )
    check_a = (
        "为切实做好今冬明春安全生产工作，县教育局决定在全县中小学、幼儿园开展冬季安全大检查。"
        "检查重点是校舍安全、消防设施、食堂食品安全和校车运行情况。各学校要于12月10日前完成自查，"
        "县教育局将组织专项督导组进行抽查，对发现的问题限期整改。"
    )
    check_b = (
        "为有效防范化解重大安全风险，县应急管理局决定在全县工贸企业开展冬季安全生产大检查。"
        "检查重点是危险化学品储存、有限空间作业、粉尘防爆和用电安全。各企业要对照清单逐项排查，"
        "县应急管理局将联合相关部门开展执法检查，对重大隐患挂牌督办。"
    )
    add(
        0,
        "one title, two departments' notices",
        side("feixian-edu", "关于开展冬季安全生产大检查的通知", check_a, T0),
        side("feixian-gov", "关于开展冬季安全生产大检查的通知", check_b, T0),
    )
    letter_a = (
        "全县广大人民群众：冬春季节气候干燥，风大物燥，是森林火灾易发高发期。为保护森林资源，"
        "请大家严禁野外用火，不在林区吸烟、烧纸、燎地边，发现火情立即拨打12119报警。"
    )
    letter_b = (
        "全县广大人民群众：主汛期已经到来，强降雨天气频繁。为保障生命财产安全，请大家密切关注天气预报，"
        "不在河道、沟渠游泳戏水，居住在低洼地带的群众要提前做好转移准备，遇险及时拨打110求助。"
    )
    add(
        0,
        "one title, two letters",
        side("yishui-gov", "致全县人民的一封信", letter_a, T0),
        side("yishui-news", "致全县人民的一封信", letter_b, shift(T0, days=3)),
    )
    hire_a = (
        "根据工作需要，县人民医院面向社会公开招聘合同制护理人员20名。报名条件：护理专业大专及以上学历，"
        "取得护士执业资格证书，年龄35周岁以下。报名时间：12月1日至12月7日。"
    )
    hire_b = (
        "根据工作需要，县自来水公司面向社会公开招聘管网维修工8名。报名条件：高中及以上学历，"
        "身体健康，年龄40周岁以下，有相关工作经验者优先。报名时间：12月3日至12月9日。"
    )
    add(
        0,
        "one title, two employers",
        side("tancheng-gov", "招聘公告", hire_a, T0),
        side("tancheng-news", "招聘公告", hire_b, shift(T0, days=2)),
    )
    # -- notices from one template
    places = [
        ("探沂镇", "大田庄、小城后"),
        ("朱田镇", "马庄、东沟"),
        ("梁邱镇", "北楼、西鲁"),
        ("胡阳镇", "尚岩、前城"),
    ]
    for i, ((pa, va), (pb, vb)) in enumerate(itertools.pairwise(places)):
        a = POWER.format(
            what="线路改造",
            date=f"12月{3 + i}日",
            start="8:00",
            end="17:00",
            place=pa,
            villages=va,
            phone="0539-5021095",
        )
        b = POWER.format(
            what="线路改造",
            date=f"12月{10 + i}日",
            start="8:30",
            end="16:30",
            place=pb,
            villages=vb,
            phone="0539-5021095",
        )
        add(
            0,
            "停电通知 from one template, other days and places",
            side("feixian-power", "停电通知", a, T0),
            side("feixian-news", "停电通知", b, shift(T0, days=5)),
        )
    for i in range(3):
        a = WEATHER.format(
            date=f"11月{20 + i}日",
            hour="6",
            sky="多云转晴",
            wind="3到4",
            low=-2 - i,
            high=9 + i,
            sky2="晴",
            low2=-3 - i,
            high2=10,
            warn="大风降温",
        )
        b = WEATHER.format(
            date=f"11月{21 + i}日",
            hour="6",
            sky="晴",
            wind="2到3",
            low=-4 - i,
            high=8 + i,
            sky2="晴转多云",
            low2=-1,
            high2=12 + i,
            warn="道路结冰",
        )
        add(
            0,
            "daily weather from one template",
            side("linyi-weather", "临沂天气预报", a, shift(T0, days=i)),
            side("linyi-weather2", "临沂天气预报", b, shift(T0, days=i + 1)),
        )
    towns = [
        ("薛庄镇", "王建国", 46),
        ("马庄镇", "李红梅", 52),
        ("费城街道", "张立新", 61),
        ("上冶镇", "刘志强", 38),
    ]
    for (ta, pa, na), (tb, pb, nb) in itertools.pairwise(towns):
        add(
            0,
            "one meeting template, other towns",
            side(
                "feixian-news",
                f"{ta}召开党建工作会议",
                MEETING.format(date="11月19日", town=ta, person=pa, n=na),
                T0,
            ),
            side(
                "feixian-gov",
                f"{tb}召开党建工作会议",
                MEETING.format(date="11月19日", town=tb, person=pb, n=nb),
                T0,
            ),
        )
    # -- series parts: the same introduction, other stories
    parts = [
        ("（一）", "（二）"),
        ("（上）", "（下）"),
        ("之一", "之二"),
        ("第一期", "第二期"),
        ("(1)", "(2)"),
        ("（上篇）", "（下篇）"),
    ]
    story_a = (
        "1941年冬，日军对沂蒙山区进行大“扫荡”，红嫂明德英冒着生命危险，用乳汁救活了身负重伤的八路军战士。"
        "战士伤愈归队后，明德英夫妇的事迹在沂蒙山区广为流传。"
    )
    story_b = (
        "1947年孟良崮战役期间，沂南县马牧池乡的妇女们连夜在冰冷的河水中架起人桥，保障部队顺利通过。"
        "这座“火线桥”成为军民鱼水情深的历史见证。"
    )
    for i, (ma, mb) in enumerate(parts):
        if "期" in ma:
            ta, tb = f"沂蒙红色故事{ma}：红嫂", f"沂蒙红色故事{mb}：火线桥"
        else:
            ta, tb = f"沂蒙红色故事{ma}", f"沂蒙红色故事{mb}"
        add(
            0,
            f"series parts {ma}/{mb}",
            side("linyi-daily", ta, SERIES_INTRO + story_a, shift(T0, days=i % 3)),
            side("linyi-daily2", tb, SERIES_INTRO + story_b, shift(T0, days=i % 3 + 1)),
        )
    add(
        0,
        "series part against the series' opening piece",
        side("linyi-daily", "沂蒙红色故事（二）", SERIES_INTRO + story_b, T0),
        side("yinan-news", "沂蒙红色故事", SERIES_INTRO + "本报今起推出系列报道，敬请关注。", T0),
    )
    # -- 山楂节 across years
    this = HAWTHORN.format(
        date="10月12日", year=2026, area="3.5", out="6", rise="3", firms=26, jobs=3000
    )
    last = HAWTHORN.format(
        date="10月14日", year=2025, area="3.2", out="5.5", rise="2", firms=23, jobs=2600
    )
    add(
        0,
        "山楂节 this year and last year, editions numbered",
        side("feixian-news", "费县第十届山楂文化旅游节开幕", this, "2026-10-12T01:00:00Z"),
        side("feixian-news2", "费县第九届山楂文化旅游节开幕", last, "2025-10-14T01:00:00Z"),
    )
    add(
        0,
        "山楂节 this year and last year, one title",
        side("feixian-news", "薛庄镇山楂节开幕", this, "2026-10-12T01:00:00Z"),
        side("feixian-gov", "薛庄镇山楂节开幕", last, "2025-10-14T01:00:00Z"),
    )
    add(
        0,
        "山楂节 editions in a title, within days (a preview and the opening)",
        side("feixian-news", "第十届山楂节下周开幕", this, "2026-10-06T01:00:00Z"),
        side("feixian-gov", "第九届山楂节回顾", last, "2026-10-07T01:00:00Z"),
    )
    add(
        0,
        "山楂节 years written in digits",
        side("feixian-news", "2026年薛庄镇山楂节开幕", this, "2026-10-12T01:00:00Z"),
        side("feixian-gov", "2025年薛庄镇山楂节开幕", last, "2026-10-12T03:00:00Z"),
    )
    # -- weekly reports, one template
    for week in (44, 45, 46):
        text = (
            f"第{week}周全市空气质量优良天数{week % 5 + 3}天，PM2.5平均浓度{week - 10}微克/立方米，"
            f"同比下降{week % 7}.{week % 3}%。各县区排名中，蒙阴县、沂水县位列前两名。"
        )
        nxt = week + 1
        text2 = (
            f"第{nxt}周全市空气质量优良天数{nxt % 5 + 3}天，PM2.5平均浓度{nxt - 10}微克/立方米，"
            f"同比下降{nxt % 7}.{nxt % 3}%。各县区排名中，蒙阴县、沂水县位列前两名。"
        )
        add(
            0,
            "weekly report, next week",
            side("linyi-env", f"全市空气质量周报（第{week}周）", text, T0),
            side("linyi-news", f"全市空气质量周报（第{nxt}周）", text2, shift(T0, days=7)),
        )
    # -- one event, two different stories
    add(
        0,
        "one event, another story about it",
        side("feixian-news", "费县召开安全生产工作会议", body.replace("临沂市", "费县"), T0),
        side(
            "feixian-gov",
            "费县安全生产工作会议精神传达到基层",
            "会后，费县各乡镇街道迅速召开会议传达学习全县安全生产工作会议精神，结合实际研究部署冬季"
            "安全防范工作。探沂镇组织20个工作组深入企业排查隐患，梁邱镇对辖区燃气用户逐户走访，"
            "确保会议精神落地落实。",
            shift(T0, days=1),
        ),
    )
    return out


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    pairs = from_universe(sys.argv[1]) + hand()
    for p in pairs:
        print(json.dumps(p, ensure_ascii=False, sort_keys=True))
    counts: dict[tuple[str, int], int] = {}
    for p in pairs:
        counts[(p["kind"], p["label"])] = counts.get((p["kind"], p["label"]), 0) + 1
    print(f"{len(pairs)} pairs: {sorted(counts.items())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
