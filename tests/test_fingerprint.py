"""normalise.fingerprint: Chinese normalisation, shingles, MinHash band keys."""

from __future__ import annotations

import pytest

from aggregator.normalise.fingerprint import (
    BANDS,
    LEAD_CHARS,
    fingerprint,
    normal_body,
    normalised,
    shingles,
    signature,
)

BODY = (
    "11月19日，临沂市召开全市安全生产暨森林防火工作会议，总结今年以来全市安全生产工作，"
    "部署冬春季安全防范和森林防火重点任务。会议要求，各县区、各部门要坚持人民至上、生命至上，"
    "深入开展重大事故隐患专项排查整治，坚决防范遏制重特大事故发生。"
)


@pytest.mark.parametrize(
    ("noisy", "clean"),
    [
        ("来源：临沂日报 " + BODY, BODY),
        ("来源:费县新闻网\u3000" + BODY, BODY),
        ("本报讯（记者 张晓明 通讯员 刘洋）" + BODY, BODY),
        (BODY + "\n责任编辑：王磊 审核：陈静", BODY),
        (BODY + "（编辑：赵六）", BODY),
        (BODY + "（记者 高峰 摄）", BODY),
        (BODY + "\n记者 张三 报道", BODY),
        ("原标题：临沂部署冬季安全工作\n" + BODY, BODY),
        ("发布时间：2026-11-19 09:26 " + BODY, BODY),
        ("【平邑县融媒体中心】" + BODY, BODY),
        ("文/李四 " + BODY, BODY),
        (BODY.replace("11月19日", "１１月１９日"), BODY),  # full width
        (BODY.replace("，", ", ").replace("。", ". "), BODY),  # half-width punctuation, spaces
        (" ".join(BODY[i : i + 9] for i in range(0, len(BODY), 9)), BODY),  # broken lines
    ],
)
def test_normal_body_drops_what_differs_between_copies(noisy, clean):
    assert normal_body(noisy) == normal_body(clean)


@pytest.mark.parametrize(
    "kept",
    [
        "会议时间：12月1日上午9时",  # a 通知's own facts are not furniture
        "记者在现场看到，20名志愿者正在服务",  # 记者 in running text
        "文化广场上锣鼓喧天",  # 文 starts a word, not a credit
        "地图：沂河沿线",
    ],
)
def test_normal_body_keeps_the_text_itself(kept):
    assert len(normal_body(kept)) >= len(kept) - 4


def test_normal_body_is_digits_letters_and_han_only():
    out = normal_body("「费县」召开\n会议！ＡＢＣ　2024…")
    assert out == "费县召开会议abc2024"


def test_shingles():
    assert shingles("安全生产", 3) == {"安全生", "全生产"}
    assert shingles("会议", 3) == {"会议"}
    assert shingles("", 3) == set()


def test_copies_share_keys_and_unrelated_articles_do_not():
    a = fingerprint("临沂市召开安全生产工作会议", "来源：临沂日报 " + BODY)
    b = fingerprint("【图】临沂市召开安全生产工作会议 ", BODY + "（记者 高峰 摄）")
    other = fingerprint(
        "蒙山雪后美如画",
        "11月18日，蒙山迎来今冬首场降雪，雪后的蒙山银装素裹，云雾缭绕，宛如一幅水墨画卷。"
        "不少游客和摄影爱好者慕名而来，登山赏雪，拍摄美景。",
    )
    assert len(a.keys) == BANDS + 2  # bands, title, lead
    assert set(a.keys) == set(b.keys)
    assert not set(a.keys) & set(other.keys)
    assert all(0 <= k < 2**63 for k in a.keys)  # fits a signed BIGINT


def test_short_texts_get_only_the_keys_they_can_carry():
    assert fingerprint("通知", "").keys == ()  # too short for a title key, no body
    fp = fingerprint("兰陵县冬季征兵体检工作圆满完成", "详见附件")
    assert len(fp.keys) == 1  # the title alone
    fp = fingerprint("通知", "城区部分路段今日停电检修。")
    assert fp.keys == () and len(fp.body) < LEAD_CHARS  # a body too short for any key
    fp = fingerprint("通知", "因线路检修，11月28日8:00至12:00城区部分路段停电。")
    assert len(fp.keys) == BANDS + 1  # bands and the lead, no title key


def test_keys_are_stable_across_processes_and_versions():
    """Stored keys must keep matching: a change here needs a new fingerprint version."""
    assert signature(["安全生", "全生产"])[:2] == signature(["全生产", "安全生"])[:2]
    assert fingerprint("临沂市召开安全生产工作会议", BODY).keys[:2] == (
        4523444506942513825,
        5211243652171287319,
    )


def test_normalised_is_the_fingerprint_without_keys():
    fp = fingerprint("【图】标题", BODY)
    assert normalised("【图】标题", BODY) == type(fp)(fp.title, fp.body, ())


def test_huge_bodies_are_capped():
    fp = fingerprint("标题", BODY * 500)
    assert len(fp.body) <= 4000


def test_band_keys_are_stable_across_versions():
    """Stored lookup keys must keep matching: these are the keys datasketch 2's affine32
    MinHash gave before the signature was computed in numpy here (the same signatures on
    3 000 random texts when it was replaced)."""
    from aggregator.normalise.fingerprint import band_keys, normal_body

    text = "临沂市费县召开全县项目建设推进会议，会议要求各部门加快推进重点项目建设进度。"
    assert band_keys(normal_body(text)) == (
        1542287685001862282, 3055704151778479489, 2277561011791078344, 5200065752729529655,
        3434514327103911973, 5644566843592152700, 7307004703833820497, 5337018079665038678,
        4723789301908483792, 2806899558219393049, 2294593303852538578, 8587925872012151055,
        7229532926645603226, 6733313702779125521, 6930233331651990434, 561022808424829495,
    )  # fmt: skip
    text = "沂水县举办第五届农民丰收节庆祝活动，全县各乡镇展示特色农产品，吸引游客参观选购。"
    assert band_keys(normal_body(text))[:2] == (9146469652008598086, 1871865980175022312)


def test_the_parser_process_hands_over_fingerprints_and_search_terms():
    """poller.work fills Article.printed and .terms as the store would compute them, and
    a page merged into an article afterwards drops them (its text changed)."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from aggregator.model import FullText, Source
    from aggregator.normalise import Context
    from aggregator.normalise.fulltext import enrich
    from aggregator.normalise.terms import terms
    from aggregator.poller.work import Job, digest_document
    from tests.faults import headlines, rss

    src = Source(id="s", url="http://x.example.cn/rss.xml", region="r")
    now = datetime(2026, 11, 27, tzinfo=UTC)
    outcome = digest_document(Job(rss(headlines(3)), src.url, None, src, Context("UTC"), now))
    assert len(outcome.articles) == 3
    for a in outcome.articles:
        assert a.printed == fingerprint(a.title, a.text)
        assert a.terms == terms(a.title, a.text)
        assert a.fingerprinted() is a.printed
    article = replace(outcome.articles[0], content="", text="短")
    page = FullText(article.link, now, ok=True, body=f"<p>{BODY}</p>", text=BODY)
    merged = enrich(article, page, UTC, now)
    assert merged.text == BODY and merged.printed is None and merged.terms is None
    assert merged.fingerprinted() == fingerprint(merged.title, BODY)
