"""publish.query: every client mistake is a BadParameter (400); cursors round-trip exactly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict

from aggregator.errors import BadParameter
from aggregator.model import Cursor, FeedQuery, FeedScope
from aggregator.publish.query import decode_cursor, encode_cursor, next_page_url, parse_query

SCOPE = FeedScope("region", region="linyi")


def test_defaults() -> None:
    assert parse_query(SCOPE, {}) == FeedQuery(scope=SCOPE, limit=50, q=None, before=None)


def test_all_parameters() -> None:
    query = parse_query(
        SCOPE, {"limit": "20", "q": " 临沂  会议 ", "before": "1714550400123456-42"}
    )
    assert query == FeedQuery(
        scope=SCOPE,
        limit=20,
        q="临沂 会议",
        before=Cursor(datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC), 42),
    )


@pytest.mark.parametrize("limit", ["1", "500", "050"])
def test_limit_in_range(limit: str) -> None:
    assert parse_query(SCOPE, {"limit": limit}).limit == int(limit)


@pytest.mark.parametrize(
    "limit", ["0", "501", "-1", "", " 5", "5 ", "+5", "1.5", "1e3", "五", "٥", "0x10", "9" * 40]
)
def test_bad_limit(limit: str) -> None:
    with pytest.raises(BadParameter, match=r"^limit: "):
        parse_query(SCOPE, {"limit": limit})


def test_unknown_parameters_are_ignored() -> None:
    params = MultiDict([("_", "1714550400"), ("utm_source", "a"), ("utm_source", "b")])
    assert parse_query(SCOPE, params) == FeedQuery(scope=SCOPE)


@pytest.mark.parametrize("name", ["limit", "q", "before"])
def test_repeated_known_parameter(name: str) -> None:
    value = {"limit": "10", "q": "临沂", "before": "1-1"}[name]
    with pytest.raises(BadParameter, match=rf"^{name}: given 2 times"):
        parse_query(SCOPE, MultiDict([(name, value), (name, value)]))


@pytest.mark.parametrize("q", ["", "   ", "\t\n", "\x00"])
def test_blank_search_is_no_search(q: str) -> None:
    assert parse_query(SCOPE, {"q": q}).q is None


def test_search_length_counts_characters_not_bytes() -> None:
    assert parse_query(SCOPE, {"q": "临" * 200}).q == "临" * 200
    assert parse_query(SCOPE, {"q": "  " + "临" * 200 + "  "}).q == "临" * 200
    with pytest.raises(BadParameter, match=r"^q: 201 characters"):
        parse_query(SCOPE, {"q": "临" * 201})


def test_search_loses_control_characters() -> None:
    assert parse_query(SCOPE, {"q": "临沂\x00会议\x1f"}).q == "临沂 会议"


@pytest.mark.parametrize(
    "before",
    [
        "",
        "abc",
        "1",
        "1-",
        "-1",
        "1--",
        "01-2",
        "1-02",
        "-0-1",
        "1.5-2",
        "1-2-3",
        " 1-2",
        "1-2\n",
        "１-２",  # full-width digits
        "1" * 20 + "-1",
        "9999999999999999999-1",  # past year 9999
        "-9999999999999999999-1",  # before year 1
    ],
)
def test_bad_cursor(before: str) -> None:
    with pytest.raises(BadParameter, match=r"^before: "):
        parse_query(SCOPE, {"before": before})


def test_cursor_format_is_documented_form() -> None:
    cursor = Cursor(datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=UTC), 42)
    assert encode_cursor(cursor) == "1714550400123456-42"
    assert encode_cursor(Cursor(datetime(1970, 1, 1, tzinfo=UTC), 0)) == "0-0"


def test_cursor_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        encode_cursor(Cursor(datetime(2024, 5, 1), 1))


aware_times = st.datetimes(
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
)
story_ids = st.integers(min_value=0, max_value=2**63 - 1)  # ids are 64-bit, never negative


@given(aware_times, story_ids)
def test_cursor_round_trip(published: datetime, story_id: int) -> None:
    cursor = Cursor(published, story_id)
    text = encode_cursor(cursor)
    assert re.fullmatch(r"-?[0-9]+--?[0-9]+", text)  # URL-safe without quoting
    back = decode_cursor(text)
    assert back == cursor  # the same instant and id
    assert back.published.tzinfo is UTC
    assert back.published.microsecond == published.microsecond
    assert encode_cursor(back) == text


@given(st.text(max_size=30))
def test_decode_never_fails_except_with_bad_parameter(text: str) -> None:
    try:
        cursor = decode_cursor(text)
    except BadParameter:
        return
    assert encode_cursor(cursor) == text  # only canonical spellings are accepted


def test_next_page_url_keeps_limit_and_search() -> None:
    query = parse_query(SCOPE, {"limit": "20", "q": "临沂 会议"})
    cursor = Cursor(datetime(2024, 5, 1, tzinfo=UTC), 7)
    url = next_page_url(
        "https://news.example.org/feeds/region/linyi.atom?before=1-1#x", query, cursor
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path, parts.fragment) == (
        "https", "news.example.org", "/feeds/region/linyi.atom", ""
    )  # fmt: skip
    params = dict(parse_qsl(parts.query))
    assert params == {"limit": "20", "q": "临沂 会议", "before": encode_cursor(cursor)}
    assert parse_query(SCOPE, params) == FeedQuery(SCOPE, 20, "临沂 会议", cursor)


def test_next_page_url_leaves_default_limit_out() -> None:
    url = next_page_url(
        "https://news.example.org/feeds/channel/politics.rss",
        FeedQuery(FeedScope("channel", channel="politics")),
        Cursor(datetime(2024, 5, 1, tzinfo=UTC), 7),
    )
    assert url == "https://news.example.org/feeds/channel/politics.rss?before=1714521600000000-7"
