"""Admin actions behind the bearer token: the guard, each action's effect, no CORS, no leaks."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.web.admin import authorised
from aggregator.web.app import make_app
from tests.live import eventually, live_service

TOKEN = "s3cret-Token-Of-The-Admin"
V1 = {"feixian": ["feixian-news", "feixian-gov"], "mengyin": ["mengyin-rb"]}
ACTIONS = [
    "/api/reload",
    "/api/sources/feixian-news/poll",
    "/api/sources/feixian-news/pause",
    "/api/sources/feixian-news/resume",
    "/api/sources/feixian-news/reset",
]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def admin(origin, sqlite_url, tmp_path, aiohttp_client):
    async with live_service(origin, sqlite_url, tmp_path, V1, admin_token=TOKEN) as live:
        client = await aiohttp_client(make_app(live.runtime))
        yield live, client


@pytest.mark.parametrize("path", ACTIONS)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": "Bearer "},
    ],
    ids=["missing", "wrong", "longer", "basic", "no-scheme", "empty"],
)
async def test_a_missing_or_wrong_token_is_401_without_detail(admin, path, headers):
    live, client = admin
    resp = await client.post(path, headers=headers)
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    assert await resp.json() == {"error": "unauthorized", "status": 401}
    assert "Access-Control-Allow-Origin" not in resp.headers
    assert not (await live.runtime.store.call(live.runtime.store.source, "feixian-news")).paused


async def test_without_a_token_configured_the_actions_are_off(
    origin, sqlite_url, tmp_path, aiohttp_client
):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        client = await aiohttp_client(make_app(live.runtime))
        for path in ACTIONS:
            for headers in ({}, AUTH, {"Authorization": "Bearer "}):
                resp = await client.post(path, headers=headers)
                assert resp.status == 403, path
                assert await resp.json() == {"error": "forbidden", "status": 403}
        assert (await client.get("/api/sources")).status == 200  # reading stays public


async def test_the_right_token_pauses_and_resumes(admin):
    live, client = admin
    store = live.runtime.store
    resp = await client.post("/api/sources/feixian-news/pause", headers=AUTH)
    assert resp.status == 200
    body = await resp.json()
    assert body["action"] == "pause" and body["source"]["paused"] is True
    later = datetime.now(UTC) + timedelta(days=1)
    assert store.claim_due(later, 10, "probe", timedelta(seconds=1), only=["feixian-news"]) == []
    sources = await (await client.get("/api/sources")).json()
    assert next(s for s in sources["sources"] if s["id"] == "feixian-news")["paused"] is True
    assert (await client.post("/api/sources/feixian-news/poll", headers=AUTH)).status == 409
    # A reload does not undo a pause.
    live.write({**V1, "mengyin": []})
    assert (await client.post("/api/reload", headers=AUTH)).status == 200
    assert store.source("feixian-news").paused
    resp = await client.post("/api/sources/feixian-news/resume", headers=AUTH)
    assert resp.status == 200 and (await resp.json())["source"]["paused"] is False
    claimed = store.claim_due(later, 10, "probe", timedelta(seconds=1), only=["feixian-news"])
    assert [c.source_id for c in claimed] == ["feixian-news"]


async def test_poll_now_is_picked_up_by_the_running_poller(admin):
    live, client = admin
    await live.parts.poller.run_once()
    path = "/feeds/rss20_gbk_naive.xml"
    before = live.origin.requests[path]
    assert live.runtime.store.source("mengyin-rb").next_poll_at > datetime.now(UTC)
    live.parts.poller.start(tick_seconds=0.2)
    resp = await client.post("/api/sources/mengyin-rb/poll", headers=AUTH)
    assert resp.status == 202
    assert (await resp.json())["source"]["next_poll_reason"] == "poll now (admin)"
    await eventually(lambda: live.origin.requests[path] > before)


async def test_reset_clears_the_backoff(admin):
    live, client = admin
    store = live.runtime.store
    far = datetime.now(UTC) + timedelta(hours=6)
    store.set_flags(
        "feixian-gov",
        consecutive_failures=7,
        retry_after=far,
        next_poll_at=far,
        next_poll_reason="backoff after 7 failures",
        gone=True,
    )
    resp = await client.post("/api/sources/feixian-gov/reset", headers=AUTH)
    assert resp.status == 200
    source = (await resp.json())["source"]
    assert source["consecutive_failures"] == 0 and source["retry_after"] is None
    assert source["gone"] is False and source["next_poll_reason"] == "backoff cleared (admin)"
    assert store.source("feixian-gov").next_poll_at <= datetime.now(UTC)


async def test_reload_answers_with_the_outcome(admin):
    live, client = admin
    resp = await client.post("/api/reload", headers=AUTH)
    assert resp.status == 200 and (await resp.json())["status"] == "unchanged"
    live.write(
        {"feixian": ["feixian-news", "feixian-gov", "feixian-syn"], "mengyin": ["mengyin-rb"]}
    )
    body = await (await client.post("/api/reload", headers=AUTH)).json()
    assert body["status"] == "applied" and body["changes"]["added"] == ["feixian-syn"]
    config = await (await client.get("/api/config")).json()
    assert config["sha256"] == body["sha256"] and "feixian-syn" in {
        s["id"] for s in config["sources"]
    }
    live.path.write_text(live.path.read_text("utf-8").replace("interval: 1m", "interval: soon"))
    resp = await client.post("/api/reload", headers=AUTH)
    assert resp.status == 422
    body = await resp.json()
    assert body["status"] == "rejected" and body["problems"][0].startswith(f"{live.path}:6: ")


async def test_unknown_sources_and_removed_ones(admin):
    live, client = admin
    for action in ("poll", "pause", "resume", "reset"):
        resp = await client.post(f"/api/sources/nope/{action}", headers=AUTH)
        assert resp.status == 404
        assert "nope" in (await resp.json())["error"]
    # Unknown ids are not revealed to a caller without the token.
    assert (await client.post("/api/sources/nope/pause")).status == 401
    live.write({"feixian": ["feixian-news"], "mengyin": ["mengyin-rb"]})
    assert (await client.post("/api/reload", headers=AUTH)).status == 200
    assert (await client.post("/api/sources/feixian-gov/poll", headers=AUTH)).status == 409


async def test_admin_posts_have_no_cors_and_gets_do(admin):
    _, client = admin
    origin = {"Origin": "https://evil.example"}
    resp = await client.post("/api/sources/feixian-news/pause", headers={**AUTH, **origin})
    assert resp.status == 200 and "Access-Control-Allow-Origin" not in resp.headers
    preflight = await client.options(
        "/api/reload",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    # The preflight approves reads only: a browser never sends the POST or the token.
    assert "POST" not in preflight.headers.get("Access-Control-Allow-Methods", "")
    assert "authorization" not in preflight.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    get = await client.get("/api/sources", headers=origin)
    assert get.headers["Access-Control-Allow-Origin"] == "*"
    assert (await client.get("/api/reload")).status == 405


async def test_tokens_never_reach_the_log(admin, caplog):
    _, client = admin
    with caplog.at_level(logging.DEBUG):
        await client.post("/api/sources/feixian-news/pause", headers=AUTH)
        await client.post(
            "/api/sources/feixian-news/pause", headers={"Authorization": "Bearer guess-1234"}
        )
        await client.post("/api/reload", headers=AUTH)
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "admin: pause feixian-news (from" in text and "refused" in text
    assert TOKEN not in text and "guess-1234" not in text


def test_token_comparison():
    assert authorised(f"Bearer {TOKEN}", TOKEN)
    assert authorised(f"bearer  {TOKEN} ", TOKEN)
    for header in (
        None,
        "",
        "Bearer",
        f"Bearer {TOKEN[:-1]}",
        f"Token {TOKEN}",
        f"Bearer {TOKEN}\x00",
    ):
        assert not authorised(header, TOKEN)
