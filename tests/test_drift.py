"""Layout drift: a list page that stops yielding entries, or yields far fewer than usual,
says so in the source's health (`selector_empty`, `selector_drift`)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

import pytest

from aggregator.model import PollStatus
from aggregator.poller.drift import HISTORY, judge
from aggregator.service import open_parts
from aggregator.settings import Settings
from tests.factories import site_config

SELECTOR = "ul.news li"


def test_no_entries_ever_is_selector_empty() -> None:
    got = judge(0, (), SELECTOR)
    assert got.status is PollStatus.SELECTOR_EMPTY
    assert "'ul.news li' found no entries" in got.message
    assert got.counts == ()


def test_no_entries_where_there_used_to_be_some() -> None:
    got = judge(0, (20, 20, 19), SELECTOR)
    assert got.status is PollStatus.SELECTOR_EMPTY
    assert "yielded no entries (usually 20)" in got.message
    assert got.counts == (20, 20, 19)  # kept: the error stays until the selectors match


@pytest.mark.parametrize(
    ("seen", "counts", "status"),
    [
        (20, (20, 20, 20), None),
        (12, (20, 20, 20), None),  # fewer, not far fewer
        (9, (20, 20, 20), PollStatus.SELECTOR_DRIFT),
        (1, (3, 3, 3), None),  # a short list varies: no judgement
        (2, (4, 4, 4), None),
        (1, (4, 4, 4), PollStatus.SELECTOR_DRIFT),
        (5, (), None),  # first poll: nothing to compare with
        (9, (20, 3, 20), PollStatus.SELECTOR_DRIFT),  # the median ignores one odd poll
    ],
)
def test_far_fewer_than_usual(seen, counts, status) -> None:
    got = judge(seen, counts, SELECTOR)
    assert got.status is status
    assert got.counts == (*counts, seen)


def test_a_page_that_shrank_for_good_becomes_the_usual() -> None:
    counts: tuple[int, ...] = (20,) * HISTORY
    statuses = []
    for _ in range(HISTORY):
        got = judge(8, counts, SELECTOR)
        statuses.append(got.status)
        counts = got.counts
    assert statuses[0] is PollStatus.SELECTOR_DRIFT
    assert statuses[-1] is None
    assert len(counts) == HISTORY


SITE = """\
site: {title: T, base_url: "http://news.example.org"}
defaults: {interval: 1m, timeout: 5s, allow_private_networks: true, host_gap: 0s}
regions:
  - id: yinan
    title: 沂南县
    sources:
      - id: yinan-portal
        url: "{origin}/portal/list.html"
        type: html
        html: {item: "ul.news li", title: a, link: "a@href"}
"""


def page(n: int, markup: str = "ul") -> bytes:
    if markup == "ul":
        items = "".join(
            f'<li><a href="c/{i}.html">沂南县第{i}条新闻标题</a></li>' for i in range(n)
        )
        return f'<html><body><ul class="news">{items}</ul></body></html>'.encode()
    items = "".join(
        f'<div class="item"><h3><a href="c/{i}.html">沂南县第{i}条新闻</a></h3></div>'
        for i in range(n)
    )
    return f'<html><body><div class="list-box">{items}</div></body></html>'.encode()


async def test_health_follows_the_layout(origin, db_url) -> None:
    origin.set("/portal/list.html", body=page(10), content_type="text/html; charset=utf-8")
    config = site_config(origin.url("").rstrip("/"), textwrap.dedent(SITE))
    async with open_parts(Settings(db=db_url, workers=0), config, poll=True) as parts:

        async def poll(body: bytes) -> tuple[PollStatus, str, int]:
            origin.set_body("/portal/list.html", body)
            parts.store.set_flags("yinan-portal", next_poll_at=datetime.now(UTC))
            ((result, stats),) = await parts.poller.run_once(["yinan-portal"])
            (row,) = [r for r in parts.store.health() if r.id == "yinan-portal"]
            assert row.status == result.status.value
            return result.status, result.message, stats.new

        assert (await poll(page(10)))[0] is PollStatus.OK
        assert (await poll(page(11)))[0] is PollStatus.OK

        # the site moves to another markup: nothing matches any more
        status, message, _ = await poll(page(10, "div"))
        assert status is PollStatus.SELECTOR_EMPTY
        assert "yielded no entries (usually 10.5)" in message
        status, _, _ = await poll(page(10, "div"))
        assert status is PollStatus.SELECTOR_EMPTY  # stays an error until fixed

        # only a few items still match: stored, with a warning that stays while it lasts
        status, message, new = await poll(page(3))
        assert status is PollStatus.SELECTOR_DRIFT and status.is_success
        assert "yielded 3 entries where it usually yields 10.5" in message
        assert new == 0  # the three were stored by the first poll already
        status, _, _ = await poll(page(3))
        assert status is PollStatus.SELECTOR_DRIFT  # parsed again, not "unchanged"

        assert (await poll(page(12)))[0] is PollStatus.OK
