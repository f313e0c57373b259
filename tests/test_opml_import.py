"""`aggregator opml import` on a reader's real-looking export, and `opml export` = /feeds.opml.

The feeds.yaml here is written the way admins write one: comments above and beside
keys, blank lines, an anchor reused by aliases, flow lists, a region with no sources.
Every line of it must survive an import, in order, with the new sources inserted.
"""

from __future__ import annotations

import difflib
import os
import re
import textwrap
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.config import load_text
from aggregator.config.edit import plan_import, unique_id, write_atomically
from aggregator.errors import ConfigError
from aggregator.publish import OpmlFeed, parse_opml
from aggregator.store import Store
from aggregator.web.app import make_app
from aggregator.web.runtime import Runtime
from tests.factories import NOW, SITE_YAML, site_config

FEEDS_YAML = textwrap.dedent(
    """\
    # 临沂新闻聚合 — what we poll.
    site:
      title: 临沂新闻聚合
      base_url: https://news.example.org   # public address

    defaults:
      interval: 15m   # be polite

    channels:
      - id: politics
        title: 时政
        keywords: [会议, 干部]

    x-list: &list
      item: "ul li"
      title: "a"
      link: "a"

    regions:
      - id: shandong
        title: 山东
        # the city and its counties
        regions:
          - id: linyi
            title: 临沂市
            sources:
              - id: linyi-daily
                title: 临沂日报
                url: https://www.lyxw.cn/rss/lyrb.xml   # the city paper
                channels: [politics]
              # the portal has no feed
              - id: linyi-gov
                url: https://www.linyi.gov.cn/xwzx/
                type: html
                html: *list

            # counties follow
            regions:
              - id: feixian
                title: 费县
                sources:
                  - id: feixian-news
                    title: 费县新闻网
                    url: http://www.feixian.gov.cn/rss/news.xml
              # 蒙阴 has nothing yet
              - id: mengyin
                title: 蒙阴县
                sources: []   # to do
              - id: lanling
                title: 兰陵县
                sources:
    # end of file
    """
)

# An Inoreader-style export: folders within folders, Chinese titles, the same feed
# twice (once with another scheme and case), one already configured, a podcast with
# feed://, a folder-only outline, a bad URL and a javascript: one.
READER_OPML = """\
<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>我的订阅 (Inoreader)</title></head>
  <body>
    <outline text="本地新闻" title="本地新闻">
      <outline text="费县" title="费县">
        <outline type="rss" text="费县政务公开" title="费县政务公开"
                 xmlUrl="http://www.feixian.gov.cn/rss/zwgk.xml" htmlUrl="http://www.feixian.gov.cn/"/>
        <outline type="rss" text="费县新闻网" title="费县新闻网"
                 xmlUrl="http://www.feixian.gov.cn/rss/news.xml"/>
      </outline>
      <outline text="临沂" title="临沂">
        <outline type="rss" text="临沂日报" xmlUrl="https://www.lyxw.cn/rss/lyrb.xml?utm_source=inoreader"/>
        <outline type="rss" text="沂蒙晚报" title="沂蒙晚报" xmlUrl="https://www.lyxw.cn/rss/ymwb.xml"/>
      </outline>
    </outline>
    <outline text="Tech &amp; 科技">
      <outline type="rss" text="Hacker News: Front Page" xmlUrl="https://hnrss.org/frontpage"/>
      <outline type="rss" text="HN (again)" xmlUrl="https://HNRSS.org/frontpage"/>
      <outline type="rss" text="yes" xmlUrl="feed://podcast.example.com/feed.xml"/>
      <outline type="rss" text="坏地址" xmlUrl="http://exa mple.org/rss"/>
      <outline type="rss" text="脚本" xmlUrl="javascript:alert(1)"/>
    </outline>
    <outline text="只是文件夹"/>
  </body>
</opml>
"""


def only_insertions(old: str, new: str) -> list[str]:
    """The lines `new` adds to `old`; fails when any line of `old` changed or moved."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    added: list[str] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        assert op in ("equal", "insert"), (op, old.splitlines()[a1:a2], new.splitlines()[b1:b2])
        if op == "insert":
            added += new.splitlines()[b1:b2]
    return added


def test_import_adds_new_feeds_keeps_every_line_and_skips_known_ones() -> None:
    feeds = parse_opml(READER_OPML.encode())
    plan = plan_import(FEEDS_YAML, "feeds.yaml", "feixian", feeds, note="imported from subs.opml")
    assert [(s.id, s.title, s.url) for s in plan.added] == [
        ("feixian-zwgk", "费县政务公开", "http://www.feixian.gov.cn/rss/zwgk.xml"),
        ("lyxw-ymwb", "沂蒙晚报", "https://www.lyxw.cn/rss/ymwb.xml"),
        ("hacker-news-front-page", "Hacker News: Front Page", "https://hnrss.org/frontpage"),
        ("yes", "yes", "http://podcast.example.com/feed.xml"),
    ]
    assert plan.added[0].folder == ("本地新闻", "费县")
    assert {k.feed.xml_url: k.reason for k in plan.skipped} == {
        "http://www.feixian.gov.cn/rss/news.xml": "already configured as 'feixian-news'",
        "https://www.lyxw.cn/rss/lyrb.xml?utm_source=inoreader": (
            "already configured as 'linyi-daily'"
        ),
        "https://HNRSS.org/frontpage": "repeats 'hacker-news-front-page'",
        "http://exa mple.org/rss": "not an absolute http(s) URL the config accepts",
    }
    added = only_insertions(FEEDS_YAML, plan.text)
    assert added == [
        "              # imported from subs.opml",
        "              - id: feixian-zwgk",
        "                title: 费县政务公开",
        "                url: http://www.feixian.gov.cn/rss/zwgk.xml",
        "              - id: lyxw-ymwb",
        "                title: 沂蒙晚报",
        "                url: https://www.lyxw.cn/rss/ymwb.xml",
        "              - id: hacker-news-front-page",
        '                title: "Hacker News: Front Page"',
        "                url: https://hnrss.org/frontpage",
        '              - id: "yes"',
        '                title: "yes"',
        "                url: http://podcast.example.com/feed.xml",
    ]
    # Inserted right after the county's last source, above the comment about 蒙阴.
    lines = plan.text.splitlines()
    assert lines[lines.index("          # 蒙阴 has nothing yet") - 1].endswith("feed.xml")
    site = load_text(plan.text, "feeds.yaml").site
    assert site.regions["feixian"].sources == (
        "feixian-news",
        "feixian-zwgk",
        "lyxw-ymwb",
        "hacker-news-front-page",
        "yes",
    )
    assert site.sources["yes"].title == "yes"  # not the YAML 1.1 boolean
    assert (
        site.sources["linyi-gov"].html == load_text(FEEDS_YAML, "f").site.sources["linyi-gov"].html
    )  # the alias still resolves


def test_import_into_a_region_without_sources_goes_above_its_child_regions() -> None:
    feeds = [OpmlFeed("山东新闻", "https://sd.example.cn/rss.xml")]
    plan = plan_import(FEEDS_YAML, "feeds.yaml", "shandong", feeds)
    assert only_insertions(FEEDS_YAML, plan.text) == [
        "    sources:",
        "      - id: sd-example",
        "        title: 山东新闻",
        "        url: https://sd.example.cn/rss.xml",
    ]
    lines = plan.text.splitlines()
    # Above the comment that introduces `regions:`, which stays with it.
    assert lines[lines.index("    # the city and its counties") - 1].endswith("rss.xml")
    assert load_text(plan.text, "f").site.sources["sd-example"].region == "shandong"


@pytest.mark.parametrize(
    ("region", "line_before"), [("mengyin", "sources:  # to do"), ("lanling", "sources:")]
)
def test_import_into_an_empty_or_null_sources_list(region, line_before) -> None:
    feeds = [OpmlFeed("Radio", "https://radio.example.cn/a.xml")]
    plan = plan_import(FEEDS_YAML, "feeds.yaml", region, feeds)
    lines = plan.text.splitlines()
    at = lines.index("              - id: radio")
    assert lines[at - 1].strip() == line_before
    assert lines[-1] == "# end of file"  # the trailing comment stays last
    assert load_text(plan.text, "f").site.regions[region].sources == ("radio",)


@pytest.mark.parametrize(
    "title", ["123", "no", "a: b", "# not a comment", "'quoted'", '"dq"', "- dash", "@at", "~"]
)
def test_titles_read_back_exactly(title) -> None:
    plan = plan_import(FEEDS_YAML, "f", "feixian", [OpmlFeed(title, "https://t.example.cn/")])
    (source,) = plan.added
    assert load_text(plan.text, "f").site.sources[source.id].title == title


def test_ids_are_valid_unique_and_readable() -> None:
    taken = {"feixian", "politics", "hnrss"}
    assert unique_id(OpmlFeed("Hacker News", "https://x.org/"), taken) == "hacker-news"
    assert unique_id(OpmlFeed("费县新闻", "http://www.feixian.gov.cn/"), taken) == "feixian-2"
    assert unique_id(OpmlFeed(None, "https://rss.sina.com.cn/news/china.xml"), taken) == (
        "sina-china"
    )
    assert unique_id(OpmlFeed("新闻", "http://127.0.0.1:8080/rss"), taken) == "127-0-0-1"
    assert unique_id(OpmlFeed("!!!", "http://[::1]/"), taken) == "1"
    # Mostly Latin: from the title; a channel's id is taken too.
    assert unique_id(OpmlFeed("时政 Politics", "https://p.cn/"), taken) == "politics-2"
    long = unique_id(OpmlFeed("a" * 100, "https://p.cn/"), taken)
    assert len(long) <= 64 and re.fullmatch(r"[a-z0-9][a-z0-9_-]*", long)


def test_unknown_region_or_invalid_file_is_refused() -> None:
    feeds = [OpmlFeed("x", "https://x.example.cn/")]
    with pytest.raises(ConfigError, match="no region 'nowhere'"):
        plan_import(FEEDS_YAML, "f", "nowhere", feeds)
    with pytest.raises(ConfigError):
        plan_import(FEEDS_YAML.replace("interval: 15m", "interval: 15x"), "f", "feixian", feeds)


def test_nothing_new_leaves_the_text_alone() -> None:
    feeds = [OpmlFeed("dup", "http://www.feixian.gov.cn/rss/news.xml")]
    plan = plan_import(FEEDS_YAML, "f", "feixian", feeds)
    assert plan.text == FEEDS_YAML and not plan.added and len(plan.skipped) == 1


# ---------------------------------------------------------------- the command


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_cli_import_writes_the_file_and_reports(tmp_path, capsys) -> None:
    config = write(tmp_path, "feeds.yaml", FEEDS_YAML)
    os.chmod(config, 0o640)
    opml = write(tmp_path, "subs.opml", READER_OPML)
    assert main(["opml", "import", str(opml), "--region", "feixian", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "+ feixian-zwgk" in out and "skipped: already configured as 'feixian-news'" in out
    assert "added 4 source(s) to feixian (费县); 4 skipped" in out
    text = config.read_text("utf-8")
    assert "# imported from subs.opml" in text and only_insertions(FEEDS_YAML, text)
    assert config.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert main(["check", str(config)]) == 0
    # Again: everything is configured now, so nothing is written.
    mtime = config.stat().st_mtime_ns
    assert main(["opml", "import", str(opml), "--region", "feixian", "--config", str(config)]) == 0
    assert "added 0 source(s)" in capsys.readouterr().out
    assert config.stat().st_mtime_ns == mtime


def test_cli_dry_run_writes_nothing(tmp_path, capsys) -> None:
    config = write(tmp_path, "feeds.yaml", FEEDS_YAML)
    opml = write(tmp_path, "subs.opml", READER_OPML)
    argv = ["opml", "import", str(opml), "--region", "lanling", "--dry-run", "--config"]
    assert main([*argv, str(config)]) == 0
    assert "would add 4 source(s) to lanling" in capsys.readouterr().out
    assert config.read_text("utf-8") == FEEDS_YAML


@pytest.mark.parametrize(
    ("opml", "region", "says"),
    [
        ("<opml><body><outline", "feixian", "subs.opml: no feeds"),
        ("not xml at all", "feixian", "opml: not well-formed XML"),
        (READER_OPML, "nowhere", "no region 'nowhere'"),
        ('<!DOCTYPE x [<!ENTITY e "x">]><opml><body/></opml>', "feixian", "entity"),
    ],
)
def test_cli_refuses_and_changes_nothing(tmp_path, capsys, opml, region, says) -> None:
    config = write(tmp_path, "feeds.yaml", FEEDS_YAML)
    path = write(tmp_path, "subs.opml", opml)
    assert main(["opml", "import", str(path), "--region", region, "--config", str(config)]) == 2
    assert says in capsys.readouterr().err
    assert config.read_text("utf-8") == FEEDS_YAML


def test_cli_keeps_crlf_line_ends_and_a_byte_order_mark(tmp_path) -> None:
    original = b"\xef\xbb\xbf" + FEEDS_YAML.replace("\n", "\r\n").encode()
    config = write(tmp_path, "feeds.yaml", original)
    opml = write(tmp_path, "subs.opml", READER_OPML)
    assert main(["opml", "import", str(opml), "--region", "feixian", "--config", str(config)]) == 0
    data = config.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("utf-8-sig").replace("\r\n", "\n")
    assert len(only_insertions(FEEDS_YAML, text)) == 13


def test_atomic_write_refuses_a_file_changed_meanwhile(tmp_path) -> None:
    config = write(tmp_path, "feeds.yaml", FEEDS_YAML)
    loaded = load_text(FEEDS_YAML, str(config))
    config.write_text(FEEDS_YAML + "# an edit by hand\n", "utf-8")
    with pytest.raises(ConfigError, match="changed while importing"):
        write_atomically(config, "site: {}\n", loaded)
    assert config.read_text("utf-8").endswith("# an edit by hand\n")


async def test_export_prints_what_feeds_opml_serves(tmp_path, capsys, sqlite_url, aiohttp_client):
    text = textwrap.dedent(SITE_YAML).replace("{origin}", "http://origin.example")
    path = write(tmp_path, "feeds.yaml", text)
    assert main(["opml", "export", "--config", str(path)]) == 0
    printed = capsys.readouterr().out
    store = Store(sqlite_url)
    try:
        client = await aiohttp_client(make_app(Runtime(site_config(), store, NOW)))
        served = await (await client.get("/feeds.opml")).text()
    finally:
        store.close()

    def undated(opml: str) -> str:
        return re.sub(r"<dateCreated>[^<]*</dateCreated>", "", opml)

    assert undated(printed) == undated(served)
    assert len(parse_opml(served.encode())) > 20
