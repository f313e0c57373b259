"""`aggregator try SOURCE_ID`: one source fetched once, nothing stored, a table to tune by;
and `aggregator check` naming the line of a bad selector in a real file."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

from aggregator.cli import main

HTML = Path(__file__).parent / "data" / "html"

CONFIG = """\
site: {{title: T, base_url: "http://news.example.org", timezone: Asia/Shanghai}}
defaults: {{timeout: 5s, allow_private_networks: {private}, host_gap: 0s}}
regions:
  - id: feixian
    title: 费县
    sources:
      - id: feixian-portal
        url: "{origin}/col/col1021/index.html"
        type: html
        html:
          item: "{item}"
          title: a
          link: "a@href"
          date: span.date
          summary: p
        fulltext: true
"""


def write(tmp_path: Path, origin, *, private: str = "true", item: str = "ul.news li") -> Path:
    path = tmp_path / "feeds.yaml"
    text = CONFIG.format(origin=origin.url("").rstrip("/"), private=private, item=item)
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def serve(origin) -> None:
    origin.set("/col/col1021/index.html", body=(HTML / "feixian_list.html").read_bytes(),
               content_type="text/html; charset=utf-8")  # fmt: skip
    origin.set("/art/2018/10/29/art_1021_251.html", content_type="text/html",
               body=(HTML / "feixian_article.html").read_bytes())  # fmt: skip


async def run(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_try_prints_the_entries_and_stores_nothing(origin, tmp_path, capsys, monkeypatch):
    serve(origin)
    monkeypatch.chdir(tmp_path)
    assert await run("try", "feixian-portal", "--config", str(write(tmp_path, origin))) == 0
    out = capsys.readouterr().out
    assert "feixian-portal: ok, HTTP 200" in out and "6 entries" in out
    for expected in (
        "费县召开全县招商引资工作推进会议",
        "/art/2018/10/29/art_1021_25",  # links are absolute (folded in the table when long)
        origin.url("").rstrip("/")[:20],
        "2018-10-29 09:26 +0800",  # as read, and as stored in the site's zone
        "[2018-10-27]",
        "2018-10-27 23:59 +0800 (day only)",
        "(first seen)",  # the item without a date
        "10-25 16:40",
        "2026-10-25 16:40 +0800",
    ):
        assert expected in out, expected
    assert "date as read" in out and "date as stored" in out
    assert not list(tmp_path.glob("*.db"))  # nothing stored anywhere
    assert origin.requests["/art/2018/10/29/art_1021_251.html"] == 0  # no --fulltext


async def test_try_fulltext_shows_the_extracted_body(origin, tmp_path, capsys) -> None:
    serve(origin)
    config = str(write(tmp_path, origin))
    assert await run("try", "feixian-portal", "--config", config, "--fulltext", "1") == 0
    out = capsys.readouterr().out
    assert "全县招商引资工作推进会议在县行政中心召开" in out
    assert "来源: 临沂日报" in out and "author: 记者 王建华" in out
    assert "date on the page: 2018-10-29 09:26" in out
    assert "热点排行" not in out and "责任编辑" not in out
    assert origin.requests["/art/2018/10/29/art_1021_251.html"] == 1


async def test_try_fails_with_a_clear_message(origin, tmp_path, capsys) -> None:
    serve(origin)
    guarded = str(write(tmp_path, origin, private="false"))
    assert await run("try", "feixian-portal", "--config", guarded) == 1
    err = capsys.readouterr().err
    assert "try: feixian-portal: blocked: refused to connect to 127.0.0.1" in err
    assert "allow_private_networks" in err

    wrong = str(write(tmp_path, origin, item="div.list-box div.item"))
    assert await run("try", "feixian-portal", "--config", wrong) == 1
    err = capsys.readouterr().err
    assert "selector_empty" in err and "'div.list-box div.item' found no entries" in err

    assert await run("try", "no-such-source", "--config", wrong) == 2
    assert "unknown source 'no-such-source'" in capsys.readouterr().err


def test_check_names_the_line_of_a_bad_selector(tmp_path, capsys) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            site: {title: T, base_url: "http://news.example.org"}
            regions:
              - id: feixian
                title: 费县
                sources:
                  - id: feixian-portal
                    url: http://www.feixian.example.cn/col/col1021/index.html
                    type: html
                    html:
                      item: "ul.news li"
                      title: "a["
                      link: "a@href"
                      date: "span..date"
                    fulltext: true
                    fulltext_selector: "div#"
            """
        ),
        "utf-8",
    )
    assert main(["check", str(path)]) == 2
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        f"{path}:11: regions[0].sources[0].html.title: bad CSS selector 'a['",
        f"{path}:13: regions[0].sources[0].html.date: bad CSS selector 'span..date'",
        f"{path}:15: regions[0].sources[0].fulltext_selector: bad CSS selector 'div#'",
    ]
