"""Time one feed through each reader: feedparser alone, the fast lxml reader, and the
fast reader plus normalise (nh3 sanitising, dates, channels, hashes) — what a parse
worker does per poll. Run by hand; tests/test_parse_fast_bench.py runs it at toy size.

    python bench/parse.py                 # 50 entries (~57 KB), best of 30 runs
    python bench/parse.py --entries 3 --repeat 2 --profile

The feed is generated (deterministic): RSS 2.0 in UTF-8 the way county CMSs write it,
CJK titles, CDATA descriptions with paragraphs and an <img src alt> (attributes in the
order CMSs write them, which feedparser rewrites), dc:creator, two categories, RFC 822
dates. Figures are per feed; the ratio is against feedparser measured in the same run.
The normalise rows time normalise alone on the parsed feed: the same feed each run, and
a new feed each run (no entry, link or image seen before, so no cache helps).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.model import Channel, Source
from aggregator.normalise import Context, normalise
from aggregator.parse.encoding import decode
from aggregator.parse.feed import parse_feed

URL = "http://www.feixian.example.cn/rss.xml"
SOURCE = Source(id="feixian", url=URL, region="feixian")
CONTEXT = Context(
    "Asia/Shanghai",
    (
        Channel("farm", "三农", keywords=("山楂", "农业"), categories=("三农",)),
        Channel("gov", "时政", keywords=("会议", "书记")),
        Channel("econ", "经济", keywords=("招商", "项目")),
    ),
)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WORDS = [
    "费县",
    "临沂",
    "山楂",
    "丰收",
    "会议",
    "召开",
    "全县",
    "安全生产",
    "招商引资",
    "项目",
    "建设",
    "乡村振兴",
    "农业",
    "合作社",
    "群众",
    "服务",
    "窗口",
    "医保",
    "报销",
    "文旅",
    "景区",
    "游客",
    "沂蒙",
    "精神",
    "传承",
    "发展",
    "推进",
    "落实",
    "工作",
    "部署",
    "要求",
    "强调",
    "指出",
    "扎实",
    "开展",
    "专项",
    "行动",
    "提升",
    "质量",
    "效益",
]


def make_feed(entries: int, seed: int = 7, first: int = 1000) -> bytes:
    """`first` numbers the entries (links, guids, images): feeds with different numbers
    share no URL, so no cache can have seen their entries."""
    rnd = random.Random(seed)

    def sentence(n: int) -> str:
        return "".join(rnd.choice(WORDS) for _ in range(n)) + "。"

    items = []
    for i in range(entries):
        day = 1 + i % 28
        image = first - 1000 + i
        paragraphs = "".join(f"<p>{sentence(rnd.randint(14, 22))}</p>" for _ in range(5))
        items.append(
            f"""<item>
<title>{sentence(6)[:-1]}</title>
<link>http://www.feixian.example.cn/news/2024/05/{day:02d}/{first + i}.html?utm_source=rss</link>
<guid isPermaLink="false">feixian-{first + i}</guid>
<pubDate>Wed, {day:02d} May 2024 {8 + i % 10:02d}:{i % 60:02d}:00 +0800</pubDate>
<dc:creator>费县融媒体中心</dc:creator>
<category>{rnd.choice(["时政", "经济", "三农", "民生"])}</category><category>费县</category>
<description><![CDATA[<p>来源：费县新闻网</p>{paragraphs}<p><img src="/uploads/2024/05/{image}.jpg"\
 alt="{sentence(2)}" width="600"></p>]]></description>
</item>"""
        )
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n'
        "<title>费县新闻网</title><link>http://www.feixian.example.cn/</link>\n"
        "<description>费县新闻</description><language>zh-cn</language><ttl>30</ttl>\n"
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )
    return doc.encode("utf-8")


def best_ms(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best time of each, measured in turns so that load from other processes on the
    machine falls on all of them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for fn in fns.values():
        fn()  # warm caches (regexes, imports)
    for _ in range(repeat):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: t * 1000 for name, t in best.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--profile", action="store_true", help="cProfile fast parse + normalise")
    args = ap.parse_args()
    body = make_feed(args.entries)

    def slow() -> object:
        return parse_feed(decode(body), URL, fast=False)

    def fast() -> object:
        return parse_feed(decode(body), URL)

    def fast_normalised() -> object:
        return normalise(parse_feed(decode(body), URL), SOURCE, CONTEXT, NOW)

    def slow_normalised() -> object:
        return normalise(parse_feed(decode(body), URL, fast=False), SOURCE, CONTEXT, NOW)

    raw = parse_feed(decode(body), URL)
    assert raw.parser == "lxml", "the fast reader refused the benchmark feed"
    assert len(raw.entries) == args.entries
    # A fresh feed per run (new text, links and images): what a poll of new entries costs.
    fresh = iter(
        [
            parse_feed(decode(make_feed(args.entries, seed, 1000 + seed * args.entries)), URL)
            for seed in range(1, args.repeat + 2)
        ]
    )

    def normalised() -> object:
        return normalise(raw, SOURCE, CONTEXT, NOW)

    def normalised_fresh() -> object:
        return normalise(next(fresh), SOURCE, CONTEXT, NOW)

    rows = list(
        best_ms(
            {
                "feedparser": slow,
                "fast (lxml)": fast,
                "feedparser + normalise": slow_normalised,
                "fast + normalise": fast_normalised,
                "normalise": normalised,
                "normalise, new entries": normalised_fresh,
            },
            args.repeat,
        ).items()
    )
    base = rows[0][1]
    print(f"feed: {args.entries} entries, {len(body) / 1024:.1f} KB, best of {args.repeat}")
    print(f"{'path':<24} {'ms/feed':>9} {'vs feedparser':>14}")
    for name, ms in rows:
        print(f"{name:<24} {ms:9.2f} {base / ms:13.1f}x")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(max(args.repeat, 1)):
            fast_normalised()
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
