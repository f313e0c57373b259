"""Source health an admin can act on: /api/sources, /sources and /metrics after faults."""

from __future__ import annotations

import re

import pytest

from aggregator.web.app import make_app
from aggregator.web.runtime import Runtime
from tests import faults as f
from tests.harness import source

FIELDS = {
    "status",
    "message",
    "last_attempt",
    "last_success",
    "consecutive_failures",
    "next_poll",
    "next_poll_reason",
    "retry_after",
    "http_status",
    "url",
    "effective_url",
    "moved",
    "gone",
    "entries_stored",
    "entries_new_last_poll",
    "fetch_seconds",
    "feed_hint",
    "warnings",
}


@pytest.fixture
async def polled(harness, aiohttp_client):
    """A round over a healthy source and four faulty ones, then the web app on the store."""
    faults = harness.faults
    faults.set("/old.xml", handler=f.redirect(301, "/v2/rss.xml"))
    faults.set("/v2/rss.xml", body=f.rss(f.headlines(2), ttl=120))
    faults.set("/busy", handler=f.status(503, b"", **{"Retry-After": "300"}))
    faults.set("/gone", status=410)
    faults.set("/portal", body=f.HTML_PORTAL, content_type="text/html")
    await harness.open(
        source("moved", "{faults}/old.xml")
        + source("busy", "{faults}/busy")
        + source("gone", "{faults}/gone")
        + source("portal", "{faults}/portal")
    )
    await harness.round()
    runtime = Runtime(config=harness.config, store=harness.store, loaded_at=harness.now)
    return harness, await aiohttp_client(make_app(runtime))


async def test_api_sources_shows_every_health_field(polled) -> None:
    harness, client = polled
    resp = await client.get("/api/sources")
    assert resp.status == 200
    data = await resp.json()
    by_id = {s["id"]: s for s in data["sources"]}
    assert set(by_id) == {"healthy", "moved", "busy", "gone", "portal"}
    for record in by_id.values():
        assert set(record) >= FIELDS
    assert data["counts"] == {"ok": 2, "http_error": 1, "gone": 1, "parse_error": 1}

    ok = by_id["healthy"]
    assert ok["status"] == "ok" and ok["http_status"] == 200
    assert ok["last_success"] == ok["last_attempt"] and ok["consecutive_failures"] == 0
    assert ok["entries_stored"] == ok["entries_new_last_poll"] == 3
    assert ok["next_poll_reason"] == "interval" and ok["fetch_seconds"] is not None

    moved = by_id["moved"]
    assert moved["moved"] and moved["effective_url"] == harness.faults.url("/v2/rss.xml")
    assert moved["next_poll_reason"] == "feed hint: <ttl>120</ttl>"
    assert moved["feed_hint"] == {"seconds": 7200.0, "why": "<ttl>120</ttl>"}

    busy = by_id["busy"]
    assert (busy["status"], busy["http_status"]) == ("http_error", 503)
    assert busy["next_poll_reason"] == "Retry-After" and busy["retry_after"] == busy["next_poll"]
    assert busy["last_success"] is None and busy["consecutive_failures"] == 1

    gone = by_id["gone"]
    assert gone["gone"] and gone["next_poll"] is None and "410" in gone["message"]
    assert "HTML page" in by_id["portal"]["message"]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("?status=http_error", ["busy"]),
        ("?status=ok&sort=-id", ["moved", "healthy"]),
        ("?sort=failures", ["healthy", "moved", "busy", "gone", "portal"]),
    ],
)
async def test_api_sources_filters_and_sorts(polled, query, ids) -> None:
    _, client = polled
    data = await (await client.get("/api/sources" + query)).json()
    assert [s["id"] for s in data["sources"]] == ids


@pytest.mark.parametrize("path", ["/api/sources", "/sources"])
@pytest.mark.parametrize("query", ["?status=fine", "?sort=colour", "?sort=--id"])
async def test_bad_health_queries_are_400(polled, path, query) -> None:
    _, client = polled
    resp = await client.get(path + query)
    assert resp.status == 400
    assert (await resp.json())["error"]


async def test_sources_page_filters_sorts_and_needs_no_script(polled) -> None:
    harness, client = polled
    resp = await client.get("/sources?sort=-failures")
    html = await resp.text()
    assert resp.status == 200
    assert "<script" not in html and "style=" not in html and " on" + "click" not in html
    assert "script-src" not in resp.headers["Content-Security-Policy"]  # none allowed
    rows = re.findall(r'<tr class="status-([a-z_]+)" id="source-([a-z-]+)"', html)
    assert [sid for _, sid in rows][-2:] == ["healthy", "moved"]  # 0 failures last
    assert 'aria-sort="descending"' in html
    assert "/sources?sort=failures" in html  # the heading now sorts the other way
    assert harness.faults.url("/v2/rss.xml") in html and "feeds.yaml" in html
    assert "Retry-After" in html and "不再轮询" in html
    # Filter links carry the counts and keep the sort.
    assert "/sources?status=http_error&amp;sort=-failures" in html
    only = await (await client.get("/sources?status=parse_error")).text()
    ids = re.findall(r'id="source-([a-z-]+)"', only)
    assert ids == ["portal"]
    assert "parse_error (1)" in only and "全部 (5)" in only


async def test_metrics_cover_polls_latency_bytes_entries_sources_and_lag(polled) -> None:
    _, client = polled
    text = await (await client.get("/metrics")).text()
    for needle in (
        'aggregator_polls_total{status="ok"}',
        'aggregator_polls_total{status="http_error"}',
        "aggregator_fetch_seconds_bucket",
        "aggregator_poll_seconds_bucket",
        "aggregator_fetched_bytes_total",
        'aggregator_entries_ingested_total{kind="new"}',
        "aggregator_scheduler_lag_seconds",
        "aggregator_schedule_overdue_seconds",
        'aggregator_sources{status="ok"} 2.0',
        'aggregator_sources{status="gone"} 1.0',
        'aggregator_source_consecutive_failures{source="busy"} 1.0',
        'aggregator_source_last_success_age_seconds{source="busy"} +Inf',
    ):
        assert needle in text, needle
    age = re.search(r'aggregator_source_last_success_age_seconds\{source="healthy"\} (\S+)', text)
    assert age is not None and float(age.group(1)) >= 0
