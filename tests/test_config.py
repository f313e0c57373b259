"""feeds.yaml → Site: what a valid file becomes, and every problem on its exact line."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from aggregator.config import ConfigError, LoadedConfig, load, load_bytes, load_text
from aggregator.config.schema import split_selector
from aggregator.errors import Problem

REPO_FEEDS = Path(__file__).resolve().parent.parent / "feeds.yaml"

COUNTIES = {
    "mengyin",
    "junan",
    "pingyi",
    "feixian",
    "lanling",
    "yishui",
    "tancheng",
    "yinan",
    "linshu",
    "lanshan",
    "luozhuang",
    "hedong",
}


def ok(text: str) -> LoadedConfig:
    return load_text(dedent(text), "feeds.yaml")


def problems(text: str) -> list[tuple[int, str]]:
    """The (line, message) pairs a file is refused with."""
    with pytest.raises(ConfigError) as info:
        load_text(dedent(text), "feeds.yaml")
    assert all(p.path == "feeds.yaml" for p in info.value.problems)
    return [(p.line, p.message) for p in info.value.problems]


# A valid file the problem tests start from; see test_minimal_file for what it becomes.
MINIMAL = """\
site:
  title: 临沂新闻聚合
  base_url: https://news.example.org/
channels:
  - id: politics
    title: 时政
  - id: economy
    title: 经济
regions:
  - id: linyi
    title: 临沂市
    sources:
      - id: linyi-daily
        url: https://example.org/linyi/rss.xml
        channels: [politics]
"""


# ---------------------------------------------------------------- valid files


def test_repository_feeds_yaml_is_valid() -> None:
    config = load(REPO_FEEDS)
    site = config.site
    assert site.title == "临沂新闻聚合"
    assert site.timezone == "Asia/Shanghai"
    assert site.base_url.startswith("http")
    assert [r.id for r in site.roots] == ["shandong"]
    assert site.regions["linyi"].parent == "shandong"
    assert set(site.regions["linyi"].children) == COUNTIES
    assert len(site.regions["linyi"].children) == 12
    assert {c.id for c in site.channels} == {
        "politics",
        "economy",
        "livelihood",
        "culture",
        "rural",
        "photo",
    }
    assert all(c.keywords for c in site.channels)
    for county in COUNTIES:
        assert site.regions[county].sources, f"{county} has no source"
        for sid in site.regions[county].sources:
            assert f"www.{county}.gov.cn" in site.sources[sid].url
    assert site.regions["shandong"].sources and len(site.regions["linyi"].sources) == 2
    html = [s for s in site.sources.values() if s.type == "html"]
    assert html and all(s.html is not None for s in html)
    assert any(s.fulltext for s in html)
    assert len(site.region_sources("shandong")) == len(site.sources)
    assert config.summary.startswith(f"{REPO_FEEDS}: ok — 14 regions, 6 channels, ")
    assert config.sha256 == hashlib.sha256(REPO_FEEDS.read_bytes()).hexdigest()


def test_minimal_file() -> None:
    config = ok(MINIMAL)
    site = config.site
    assert site.base_url == "https://news.example.org"  # no trailing slash to double up
    assert site.timezone == "Asia/Shanghai"
    assert site.hub is None
    assert [c.id for c in site.channels] == ["politics", "economy"]
    source = site.sources["linyi-daily"]
    assert source.region == "linyi"
    assert source.line == 13
    assert source.type == "feed"
    assert source.channels == ("politics",)
    assert source.interval == timedelta(minutes=15)
    assert source.max_bytes == 10 * 1024 * 1024
    assert config.summary == "feeds.yaml: ok — 1 region, 2 channels, 1 source (1 feed, 0 html)"
    assert config.path == "feeds.yaml"


def test_defaults_are_inherited_unless_the_source_sets_its_own() -> None:
    site = ok("""\
        site: {title: T, base_url: "http://127.0.0.1:8080"}
        defaults:
          interval: 30m
          timeout: 5s
          keep_days: 30
          allow_private_networks: true
          per_host: 2
          host_gap: 0
          max_bytes: 512KB
        regions:
          - id: r
            title: R
            sources:
              - id: plain
                url: http://a.example/feed
              - id: own
                url: http://b.example/feed
                interval: 1h30m
                timeout: 500ms
                allow_private_networks: false
                per_host: 1
                host_gap: 2s
                max_bytes: 1MB
                keep_days: 7
        """).site
    plain, own = site.sources["plain"], site.sources["own"]
    assert site.defaults.interval == timedelta(minutes=30)
    assert plain.interval == timedelta(minutes=30)
    assert plain.timeout == timedelta(seconds=5)
    assert plain.keep_days == 30
    assert plain.allow_private_networks is True
    assert plain.per_host == 2
    assert plain.host_gap == timedelta(0)
    assert plain.max_bytes == 512 * 1024
    assert own.interval == timedelta(hours=1, minutes=30)
    assert own.timeout == timedelta(milliseconds=500)
    assert own.allow_private_networks is False
    assert own.per_host == 1
    assert own.host_gap == timedelta(seconds=2)
    assert own.max_bytes == 1024 * 1024
    assert own.keep_days == 7


def test_region_tree_and_lookups() -> None:
    site = ok("""\
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: shandong
            title: 山东
            sources:
              - {id: dazhong, url: "https://a.example/rss"}
            regions:
              - id: linyi
                title: 临沂市
                regions:
                  - id: feixian
                    title: 费县
                    sources:
                      - {id: feixian-news, url: "https://b.example/rss"}
                      - {id: feixian-portal, url: "https://b.example/list"}
                  - id: yinan
                    title: 沂南县
                    sources:
                      - {id: yinan-news, url: "https://c.example/rss"}
                sources:
                  - {id: linyi-daily, url: "https://d.example/rss"}
          - id: jinan
            title: 济南市
        """).site
    assert list(site.regions) == ["shandong", "linyi", "feixian", "yinan", "jinan"]
    assert list(site.sources) == [
        "dazhong",
        "feixian-news",
        "feixian-portal",
        "yinan-news",
        "linyi-daily",
    ]
    assert [s.line for s in site.sources.values()] == [6, 14, 15, 19, 21]
    assert site.regions["linyi"].children == ("feixian", "yinan")
    assert site.regions["linyi"].sources == ("linyi-daily",)
    assert site.regions["feixian"].parent == "linyi"
    assert [r.id for r in site.roots] == ["shandong", "jinan"]
    assert site.ancestors("feixian") == ("feixian", "linyi", "shandong")
    assert site.descendants("linyi") == ("linyi", "feixian", "yinan")
    assert site.region_sources("linyi") == (
        "linyi-daily",
        "feixian-news",
        "feixian-portal",
        "yinan-news",
    )
    assert site.region_sources("jinan") == ()
    assert site.sources["feixian-portal"].region == "feixian"


def test_html_source_and_selectors() -> None:
    source = ok("""\
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: r
            title: R
            sources:
              - id: portal
                name: 费县人民政府          # OPML exports call the title "name"
                url: https://example.org/list.html
                type: html
                html:
                  item: "ul.news li"
                  title: "a"
                  link: "a"
                  date: "span.date"
                  image: "img"
                  author: "span.author@title"
                fulltext: true
                fulltext_selector: "div#zoom"
        """).site.sources["portal"]
    assert source.title == "费县人民政府"
    assert source.name == "费县人民政府"
    assert source.fulltext is True
    assert source.fulltext_selector == "div#zoom"
    assert source.html is not None
    assert source.html.item == "ul.news li"
    assert source.html.link == "a@href"  # the default attribute, written out
    assert source.html.image == "img@src"
    assert source.html.author == "span.author@title"
    assert source.html.summary is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a@href", ("a", "href")),
        ("h3 a @ data-url", ("h3 a", "data-url")),
        ("span.date", ("span.date", None)),
        ('a[href*="@"]', ('a[href*="@"]', None)),
        ('a[href*="@"]@href', ('a[href*="@"]', "href")),
    ],
)
def test_split_selector(value: str, expected: tuple[str, str | None]) -> None:
    assert split_selector(value) == expected


def test_anchors_merges_and_x_keys() -> None:
    site = ok("""\
        x-portal: &portal
          type: html
          interval: 1h
          html: {item: li, title: a, link: a}
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: r
            title: R
            sources:
              - <<: *portal
                id: one
                url: https://a.example/list
              - <<: *portal
                id: two
                url: https://b.example/list
                interval: 5m
        """).site
    assert site.sources["one"].type == "html"
    assert site.sources["one"].interval == timedelta(hours=1)
    assert site.sources["two"].interval == timedelta(minutes=5)
    assert site.sources["two"].line == 13


def test_byte_order_mark_and_crlf_are_fine() -> None:
    data = "\ufeff".encode() + dedent(MINIMAL).replace("\n", "\r\n").encode()
    config = load_bytes(data, "feeds.yaml")
    assert config.site.sources["linyi-daily"].line == 13
    assert config.sha256 == hashlib.sha256(data).hexdigest()


def test_load_reads_the_file_and_hashes_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(dedent(MINIMAL), encoding="utf-8")
    config = load(path)
    assert config.path == str(path)
    assert config.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert config.summary.startswith(f"{path}: ok — ")
    assert config == load(str(path))
    assert load_text(dedent(MINIMAL), str(path)).sha256 == config.sha256


# ---------------------------------------------------------------- reading the file


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError) as info:
        load(path)
    assert info.value.problems == [Problem(path, 1, "cannot read file: No such file or directory")]
    assert str(info.value) == f"{path}:1: cannot read file: No such file or directory"


def test_gbk_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(dedent(MINIMAL).encode("gbk"))
    with pytest.raises(ConfigError) as info:
        load(path)
    [problem] = info.value.problems
    assert problem.line == 2  # title: 临沂新闻聚合, the first non-ASCII line
    assert problem.message == (
        "the file is not UTF-8 (it looks like GBK/GB18030): byte 0xc1 at column 10; "
        "save it as UTF-8"
    )


def test_invalid_utf8_bytes() -> None:
    data = b"site:\n  title: ok\n  base_url: http://\xff\xfe/\n"
    with pytest.raises(ConfigError) as info:
        load_bytes(data, "feeds.yaml")
    assert [str(p) for p in info.value.problems] == [
        "feeds.yaml:3: the file is not UTF-8: byte 0xff at column 20; save it as UTF-8"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", [(1, "the file is empty: it needs at least site: and regions:")]),
        ("# only comments\n\n", [(1, "the file is empty: it needs at least site: and regions:")]),
        (
            "# a list\n- id: a\n- id: b\n",
            [(2, "the top level must be a mapping with site:, regions: and so on, not a list")],
        ),
        (
            "hello\n",
            [(1, "the top level must be a mapping with site:, regions: and so on, not 'hello'")],
        ),
        (
            "a: \x01\n",
            [(1, "unusable character U+0001 (special characters are not allowed): remove it")],
        ),
    ],
)
def test_files_that_are_not_a_config(text: str, expected: list[tuple[int, str]]) -> None:
    assert problems(text) == expected


def test_yaml_syntax_error_gives_its_line_and_stops() -> None:
    assert problems("""\
        site:
          title: 临沂新闻聚合
          base_url: "https://news.example.org
        regions:
          - id: linyi
            title: 临沂市
            urll: oops
        """) == [
        (
            7,  # the end of the file, where YAML noticed
            "YAML syntax error: found unexpected end of stream "
            "(while scanning a quoted scalar on line 3)",
        )
    ]


def test_yaml_syntax_error_in_the_middle() -> None:
    assert problems("""\
        site:
          title: 临沂新闻聚合
          base_url: https://news.example.org
        regions:
          - id: linyi
           title: 临沂市
        """) == [
        (
            6,
            "YAML syntax error: expected <block end>, but found '<block mapping start>' "
            "(while parsing a block collection on line 5)",
        )
    ]


def test_tab_indentation() -> None:
    [(line, message)] = problems("site:\n  title: T\n\tbase_url: http://a\n")
    assert line == 3
    assert message.startswith("YAML syntax error: found character '\\t'")


# ---------------------------------------------------------------- one problem each


def test_unknown_key() -> None:
    assert problems("""\
        site:
          title: 临沂新闻聚合
          base_url: https://news.example.org
        regions:
          - id: linyi
            title: 临沂市
            sources:
              - id: linyi-daily
                urll: https://example.org/rss.xml
        """) == [
        (8, "regions[0].sources[0]: missing required key 'url'"),
        (9, "regions[0].sources[0]: unknown key 'urll' (did you mean 'url'?)"),
    ]


def test_unknown_keys_at_every_level() -> None:
    assert problems("""\
        site:
          title: T
          base_url: https://news.example.org
          colour: red
        defaults:
          intervall: 5m
        colour: blue
        regions:
          - id: linyi
            title: 临沂市
            url: https://example.org/
        """) == [
        (4, "site: unknown key 'colour'"),
        (6, "defaults: unknown key 'intervall' (did you mean 'interval'?)"),
        (7, "unknown key 'colour'"),
        (11, "regions[0]: unknown key 'url'"),
    ]


def test_missing_required_keys() -> None:
    assert problems("""\
        site:
          base_url: https://news.example.org
        regions:
          - id: linyi
            title: 临沂市
            regions:
              - title: 费县
                sources:
                  - id: a
                    url: https://example.org/a
                  - id: b
                    url: https://example.org/b
                  - id: c
                    title: C
        """) == [
        (1, "site: missing required key 'title'"),
        (7, "regions[0].regions[0]: missing required key 'id'"),
        (13, "regions[0].regions[0].sources[2]: missing required key 'url'"),
    ]


def test_missing_top_level_keys() -> None:
    assert problems("# nothing useful\ndefaults: {interval: 5m}\n") == [
        (2, "missing required key 'site'"),
        (2, "missing required key 'regions'"),
    ]


@pytest.mark.parametrize("regions", ["regions: []", "regions:"])
def test_regions_must_not_be_empty(regions: str) -> None:
    assert problems(f"site: {{title: T, base_url: 'http://a.example'}}\n{regions}\n") == [
        (2, "regions: needs at least one region")
    ]


def test_duplicate_ids_across_kinds() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        channels:
          - id: politics
            title: 时政
        regions:
          - id: linyi
            title: 临沂市
            regions:
              - id: feixian
                title: 费县
                sources:
                  - id: feixian
                    url: https://example.org/a
                  - id: politics
                    url: https://example.org/b
              - id: linyi
                title: 又一个临沂
        """) == [
        (12, "regions[0].regions[0].sources[0].id: duplicate id 'feixian' (first used on line 9)"),
        (14, "regions[0].regions[0].sources[1].id: duplicate id 'politics' (first used on line 3)"),
        (16, "regions[0].regions[1].id: duplicate id 'linyi' (first used on line 6)"),
    ]


def test_duplicate_key_in_one_mapping() -> None:
    assert problems("""\
        site:
          title: T
          base_url: https://x.example
          title: U
        regions: [{id: r, title: R}]
        """) == [(4, "site.title: duplicate key 'title' (first on line 2)")]


def test_unknown_channel() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        channels:
          - {id: politics, title: 时政}
          - {id: economy, title: 经济}
        regions:
          - id: r
            title: R
            sources:
              - id: a
                url: https://example.org/a
                channels: [politics, sport]
              - id: b
                url: https://example.org/b
                channels:
                  - economy
                  - culture
        """) == [
        (11, "regions[0].sources[0].channels: unknown channel 'sport' (known: politics, economy)"),
        (
            16,
            "regions[0].sources[1].channels: unknown channel 'culture' (known: politics, economy)",
        ),
    ]


def test_channel_with_no_channels_defined() -> None:
    text = MINIMAL.replace("channels:\n  - id: politics\n    title: 时政\n", "")
    text = text.replace("  - id: economy\n    title: 经济\n", "")
    assert problems(text) == [
        (10, "regions[0].sources[0].channels: unknown channel 'politics' (known: none are defined)")
    ]


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        (3, "site.base_url", "news.example.org"),
        (3, "site.base_url", "ftp://news.example.org"),
        (3, "site.base_url", "/feeds"),
        (3, "site.base_url", "http://"),
        (4, "site.hub", "pubsubhubbub.example.org"),
        (9, "regions[0].sources[0].url", "example.org/rss.xml"),
        (9, "regions[0].sources[0].url", "https://example.org/a b"),
        (9, "regions[0].sources[0].url", "file:///etc/passwd"),
    ],
)
def test_bad_urls(line: int, key: str, value: str) -> None:
    good = {
        "site.base_url": "https://news.example.org",
        "site.hub": "https://hub.example.org/",
        "regions[0].sources[0].url": "https://example.org/rss.xml",
    }
    good[key] = value
    text = f"""\
        site:
          title: T
          base_url: "{good["site.base_url"]}"
          hub: "{good["site.hub"]}"
        regions:
          - id: r
            title: R
            sources:
              - url: "{good["regions[0].sources[0].url"]}"
                id: a
        """
    message = f"{key}: bad URL '{value}': use an absolute http:// or https:// address"
    assert problems(text) == [(line, message)]


def test_base_url_takes_no_query() -> None:
    assert problems("site: {title: T, base_url: 'https://x.example/?a=1'}\nregions: []\n") == [
        (
            1,
            "site.base_url: bad URL 'https://x.example/?a=1': the site address takes no '?' "
            "query or '#' part",
        ),
        (2, "regions: needs at least one region"),
    ]


def test_bad_duration_in_defaults_and_source() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        defaults:
          interval: 15x
        regions:
          - id: r
            title: R
            sources:
              - id: a
                url: https://example.org/a
                timeout: soon
        """) == [
        (3, "defaults.interval: bad duration '15x': use a number with s, m, h or d, e.g. 15m"),
        (
            10,
            "regions[0].sources[0].timeout: bad duration 'soon': use a number with s, m, h or d, "
            "e.g. 15m",
        ),
    ]


def test_zero_and_negative_durations() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        defaults:
          interval: 0s
          timeout: 0
          host_gap: 0s
        regions:
          - id: r
            title: R
            sources:
              - id: a
                url: https://example.org/a
                host_gap: -1
        """) == [
        (3, "defaults.interval: must be more than 0"),
        (4, "defaults.timeout: must be more than 0"),
        (12, "regions[0].sources[0].host_gap: bad duration -1: must not be negative"),
    ]


def test_bad_numbers_and_sizes() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        defaults:
          keep_days: 0
          per_host: two
          max_bytes: 10XB
          allow_private_networks: maybe
        regions: [{id: r, title: R}]
        """) == [
        (3, "defaults.keep_days: must be at least 1, not 0"),
        (4, "defaults.per_host: expected a whole number, not 'two'"),
        (5, "defaults.max_bytes: bad size '10XB': use a number with KB, MB or GB, e.g. 10MB"),
        (6, "defaults.allow_private_networks: expected true or false, not 'maybe'"),
    ]


def test_bad_timezone() -> None:
    assert problems("""\
        site:
          title: T
          base_url: https://x.example
          timezone: Asia/Linyi
        regions: [{id: r, title: R}]
        """) == [
        (
            4,
            "site.timezone: unknown time zone 'Asia/Linyi': use a tz database name, e.g. "
            "Asia/Shanghai",
        )
    ]


@pytest.mark.parametrize("bad", ["Feixian", "fei xian", "费县", "-feixian", "fei/xian", "a" * 65])
def test_bad_id_syntax(bad: str) -> None:
    message = (
        f"regions[0].id: bad id '{bad}': use lowercase letters, digits, '-' and '_' "
        "(at most 64; ids appear in feed URLs)"
    )
    assert problems(f"""\
        site: {{title: T, base_url: "https://x.example"}}
        regions:
          - id: "{bad}"
            title: R
        """) == [(3, message)]


def test_numbers_are_text_where_text_is_wanted() -> None:
    site = ok("""\
        site: {title: 2024, base_url: "https://x.example"}
        regions:
          - id: 0539
            title: 1.5
        """).site
    assert site.title == "2024"
    assert site.regions["0539"].title == "1.5"


def test_html_source_without_html_block_and_html_on_a_feed() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: r
            title: R
            sources:
              - id: portal
                url: https://example.org/list.html
                type: html
              - id: feed
                url: https://example.org/rss.xml
                html:
                  item: li
                  title: a
                  link: a
              - id: rss
                url: https://example.org/rss2.xml
                type: rss
        """) == [
        (
            8,
            "regions[0].sources[0]: type: html needs an html: block with item, title and link "
            "selectors",
        ),
        (
            11,
            "regions[0].sources[1].html: only a type: html source uses html: rules (add type: "
            "html)",
        ),
        (17, "regions[0].sources[2].type: must be 'feed' or 'html', not 'rss'"),
    ]


def test_html_block_needs_item_title_and_link() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: r
            title: R
            sources:
              - id: portal
                url: https://example.org/list.html
                type: html
                html:
                  item: li
                  date: span
        """) == [
        (9, "regions[0].sources[0].html: missing required key 'title'"),
        (9, "regions[0].sources[0].html: missing required key 'link'"),
    ]


def test_bad_selectors() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: r
            title: R
            sources:
              - id: portal
                url: https://example.org/list.html
                type: html
                html:
                  item: "ul.news li@href"
                  title: "a["
                  link: "a@href"
                  date: "span..date"
                  image: "img >@src"
                fulltext: true
                fulltext_selector: "div#"
        """) == [
        (
            10,
            "regions[0].sources[0].html.item: bad selector 'ul.news li@href': this one selects "
            "elements, so no @attribute",
        ),
        (11, "regions[0].sources[0].html.title: bad CSS selector 'a['"),
        (13, "regions[0].sources[0].html.date: bad CSS selector 'span..date'"),
        (14, "regions[0].sources[0].html.image: bad CSS selector 'img >'"),
        (16, "regions[0].sources[0].fulltext_selector: bad CSS selector 'div#'"),
    ]


def test_title_and_name_together() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        regions:
          - id: r
            title: R
            sources:
              - id: a
                url: https://example.org/a
                title: A
                name: Also A
        """) == [
        (9, "regions[0].sources[0].name: name is another word for title: give one of them")
    ]


def test_wrong_shapes() -> None:
    assert problems("""\
        site: [T]
        defaults: 5
        channels: {id: politics}
        regions:
          - just a string
          - id: a
            title: ""
            sources: nope
        """) == [
        (1, "site: expected a mapping of 'key: value' lines, not a list"),
        (2, "defaults: expected a mapping of 'key: value' lines, not 5"),
        (3, "channels: expected a list, e.g. [a, b] or one '- ' line per item, not a mapping"),
        (5, "regions[0]: expected a mapping of 'key: value' lines, not 'just a string'"),
        (7, "regions[1].title: must not be empty"),
        (
            8,
            "regions[1].sources: expected a list, e.g. [a, b] or one '- ' line per item, not "
            "'nope'",
        ),
    ]


def test_alias_loops_and_bombs_are_refused() -> None:
    assert problems("a: &a [*a]\n")[0] == (1, "a[0]: an alias refers to itself")
    rows = ["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for n in range(1, 7):
        prev = chr(ord("a") + n - 1)
        rows.append(f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [{', '.join(['*' + prev] * 10)}]")
    assert problems("\n".join(rows) + "\n") == [(1, "the file expands to more than 200000 values")]


# ---------------------------------------------------------------- many at once


def test_every_problem_is_reported_sorted_by_line() -> None:
    text = """\
        site:
          title: 临沂新闻聚合
          base_url: news.example.org
        defaults:
          interval: 15x
        channels:
          - id: politics
            title: 时政
        regions:
          - id: linyi
            title: 临沂市
            regions:
              - id: feixian
                title: 费县
                sources:
                  - id: feixian
                    url: https://example.org/feixian/rss.xml
                    channels: [sport]
                  - id: portal
                    urll: https://example.org/list.html
                    type: html
          - id: timezone
            title: Bad
        """
    found = problems(text)
    assert found == [
        (
            3,
            "site.base_url: bad URL 'news.example.org': use an absolute http:// or https:// "
            "address",
        ),
        (5, "defaults.interval: bad duration '15x': use a number with s, m, h or d, e.g. 15m"),
        (16, "regions[0].regions[0].sources[0].id: duplicate id 'feixian' (first used on line 13)"),
        (
            18,
            "regions[0].regions[0].sources[0].channels: unknown channel 'sport' (known: politics)",
        ),
        (19, "regions[0].regions[0].sources[1]: missing required key 'url'"),
        (20, "regions[0].regions[0].sources[1]: unknown key 'urll' (did you mean 'url'?)"),
        (
            21,
            "regions[0].regions[0].sources[1]: type: html needs an html: block with item, title "
            "and link selectors",
        ),
    ]
    assert [line for line, _ in found] == sorted(line for line, _ in found)


def test_check_style_output() -> None:
    with pytest.raises(ConfigError) as info:
        load_text(
            "site: {title: T, base_url: 'https://x.example'}\ndefaults: {interval: "
            "15x}\nregions: []\n",
            "conf/feeds.yaml",
        )
    assert str(info.value).splitlines() == [
        "conf/feeds.yaml:2: defaults.interval: bad duration '15x': use a number with s, m, h or "
        "d, e.g. 15m",
        "conf/feeds.yaml:3: regions: needs at least one region",
    ]


def test_durations_of_the_wrong_type() -> None:
    assert problems("""\
        site: {title: T, base_url: "https://x.example"}
        defaults:
          interval: true
          timeout: [20]
          host_gap: 1.5
        regions: [{id: r, title: R}]
        """) == [
        (3, "defaults.interval: bad duration true: use a number with s, m, h or d, e.g. 15m"),
        (4, "defaults.timeout: bad duration [20]: use a number with s, m, h or d, e.g. 15m"),
    ]
