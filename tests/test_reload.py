"""Editing feeds.yaml under a running service: applied live, or refused with its problems.

The service polls an in-process origin; feeds.yaml is a real file the tests rewrite, and
reloads go through the same Reloader the watcher, SIGHUP and POST /api/reload use.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import logging
import os
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.config import load
from aggregator.config.diff import diff
from aggregator.config.watch import read_settled, watch
from aggregator.web import feeds as feed_views
from aggregator.web.app import make_app
from tests.live import eventually, live_service, site_yaml, write_old

V1 = {"feixian": ["feixian-news", "lanling-tv", "feixian-gov"], "mengyin": ["mengyin-rb"]}
# feixian-news moves to 蒙阴, lanling-tv is removed, feixian-syn is added, 蒙阴报 polled more often
V2 = {"feixian": ["feixian-gov", "feixian-syn"], "mengyin": ["mengyin-rb", "feixian-news"]}
SLOW = "/feeds/atom.xml"  # feixian-gov's feed: answers slowly, so a poll is in flight


async def links(client, path: str) -> set[str]:
    resp = await client.get(path)
    assert resp.status == 200, (path, resp.status)
    return {item["url"] for item in (await resp.json())["items"]}


def row(live, source_id: str):
    return live.runtime.store.source(source_id)


async def test_a_valid_edit_applies_while_polls_run(origin, db_url, tmp_path, aiohttp_client):
    async with live_service(
        origin, db_url, tmp_path, V1, extra={"mengyin-rb": "interval: 1h"}
    ) as live:
        rt, store, poller = live.runtime, live.runtime.store, live.parts.poller
        await poller.run_once()
        client = await aiohttp_client(make_app(rt))
        news = await links(client, "/feeds/source/feixian-news.json")
        lanling = await links(client, "/feeds/source/lanling-tv.json")
        assert news and lanling
        assert news <= await links(client, "/feeds/region/feixian.json")  # now cached
        assert not news & await links(client, "/feeds/region/mengyin.json")
        before = row(live, "mengyin-rb")
        assert before.next_poll_at - before.last_attempt_at > timedelta(minutes=50)

        # A poll is in flight when the new file is applied.
        origin.routes[SLOW].delay = 1.0
        attempts = origin.requests[SLOW]
        last_gov = row(live, "feixian-gov").last_attempt_at
        store.set_flags("feixian-gov", next_poll_at=datetime.now(UTC))
        poller.start(tick_seconds=0.2)
        await eventually(lambda: origin.in_flight[SLOW] > 0)
        live.write(V2, extra={"mengyin-rb": "interval: 2m", "feixian-syn": "interval: 10s"})
        started = datetime.now(UTC)
        outcome = await live.reloader.reload("test")
        added_row = row(live, "feixian-syn")

        assert outcome.status == "applied", outcome
        assert outcome.changes is not None
        assert outcome.changes.as_dict() == {
            "added": ["feixian-syn"],
            "removed": ["lanling-tv"],
            "moved": ["feixian-news"],
            "interval_changed": {"mengyin-rb": [3600.0, 120.0]},
            "url_changed": [],
            "channel_rules_changed": False,
        }
        assert outcome.refiled_stories == len(news)
        assert rt.config.sha256 == hashlib.sha256(live.path.read_bytes()).hexdigest()
        assert set(poller.site.sources) == set(rt.site.sources)

        # The poll that was running finishes and is recorded.
        await eventually(lambda: row(live, "feixian-gov").last_attempt_at > last_gov)
        assert origin.requests[SLOW] > attempts
        assert row(live, "feixian-gov").status == "not_modified"  # a conditional GET, recorded

        # Moved: the region feeds changed at once, cached renders included.
        assert news <= await links(client, "/feeds/region/mengyin.json")
        assert not news & await links(client, "/feeds/region/feixian.json")
        assert news <= await links(client, "/feeds/region/linyi.json")

        # Removed: no longer polled, its articles stay (in its region's feed too).
        gone = row(live, "lanling-tv")
        assert not gone.active
        assert (await client.get("/feeds/source/lanling-tv.json")).status == 404
        assert lanling <= await links(client, "/feeds/region/feixian.json")
        due_later = store.claim_due(
            started + timedelta(days=1), 10, "probe", timedelta(seconds=1), only=["lanling-tv"]
        )
        assert due_later == []

        # Added: starts soon, spread out, and the running poller knows it.
        first = added_row  # as it was right after the reload
        assert first.active and first.created_at >= started
        assert first.next_poll_at <= started + timedelta(seconds=2)  # interval/10 at most
        await eventually(lambda: row(live, "feixian-syn").status == "ok")
        assert row(live, "feixian-syn").last_attempt_at >= first.next_poll_at

        # Interval shortened: the next poll comes forward; polls after it use the new one.
        mengyin = row(live, "mengyin-rb")
        assert mengyin.interval_s == 120
        assert mengyin.next_poll_at <= started + timedelta(minutes=2, seconds=30)


async def test_an_invalid_edit_is_refused_and_shown(
    origin, sqlite_url, tmp_path, aiohttp_client, caplog
):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        rt = live.runtime
        client = await aiohttp_client(make_app(rt))
        good = rt.config.sha256
        text = live.path.read_text("utf-8").replace("interval: 1m", "interval: 1x")
        text = text.replace("- id: lanling-tv", "- id: feixian-news")  # a duplicate id
        write_old(live.path, text)
        with caplog.at_level(logging.INFO, logger="aggregator.config"):
            outcome = await live.reloader.reload("test")
        assert outcome.status == "rejected"
        path, lines = str(live.path), text.splitlines()
        bad = lines.index("  interval: 1x") + 1
        dup = [i + 1 for i, ln in enumerate(lines) if ln.endswith("- id: feixian-news")][1]
        assert [p.split(": ", 1)[0] for p in outcome.problems] == [f"{path}:{bad}", f"{path}:{dup}"]
        assert "1x" in outcome.problems[0] and "duplicate id 'feixian-news'" in outcome.problems[1]

        # The last good config stays in force, polling included.
        assert rt.config.sha256 == good and "lanling-tv" in rt.site.sources
        assert "lanling-tv" in live.parts.poller.site.sources

        config = await (await client.get("/api/config")).json()
        assert config["sha256"] == good
        assert config["rejected"]["problems"] == list(outcome.problems)
        assert config["rejected"]["at"]
        page = await (await client.get("/sources")).text()
        for problem in outcome.problems:
            assert problem in html.unescape(page)
        logged = [r.getMessage() for r in caplog.records if r.name == "aggregator.config"]
        for problem in outcome.problems:
            assert problem in logged
        assert any("rejected" in m and good[:12] in m for m in logged)

        # Fixed: applied, and the refusal is no longer shown.
        live.write(V2)
        assert (await live.reloader.reload("test")).status == "applied"
        config = await (await client.get("/api/config")).json()
        assert config["rejected"] is None and config["sha256"] != good
        assert "未生效" not in await (await client.get("/sources")).text()


async def test_going_back_to_the_good_file_clears_the_refusal(origin, sqlite_url, tmp_path):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        rt = live.runtime
        good_text = live.path.read_text("utf-8")
        write_old(live.path, good_text + "  - {{ broken\n")
        assert (await live.reloader.reload("test")).status == "rejected"
        assert rt.rejected
        write_old(live.path, good_text)
        outcome = await live.reloader.reload("test")
        assert outcome.status == "unchanged" and rt.rejected == []


async def test_a_missing_file_keeps_the_config(origin, sqlite_url, tmp_path):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        good = live.runtime.config.sha256
        live.reloader.timeout = 0.3
        os.remove(live.path)
        outcome = await live.reloader.reload("test")
        assert outcome.status == "rejected" and "cannot read file" in outcome.problems[0]
        assert live.runtime.config.sha256 == good


def chunked_writer(path, text: str, chunk: int = 64, pause: float = 0.02) -> threading.Thread:
    """Rewrite `path` in place a few bytes at a time, as a slow editor or a copy would."""
    data = text.encode()

    def write() -> None:
        with open(path, "wb") as file:  # truncates: the file is empty, then partial
            for i in range(0, len(data), chunk):
                file.write(data[i : i + chunk])
                file.flush()
                time.sleep(pause)

    return threading.Thread(target=write)


async def test_a_file_changing_mid_write_is_never_half_applied(origin, sqlite_url, tmp_path):
    async with live_service(origin, sqlite_url, tmp_path, V1, settle=0.3) as live:
        rt = live.runtime
        v1 = rt.config.sha256
        new_text = site_yaml(origin.url("").rstrip("/"), V2)
        v2 = hashlib.sha256(new_text.encode()).hexdigest()
        writer = chunked_writer(live.path, new_text)
        seen: set[str] = set()
        outcomes = []

        async def watch_config() -> None:
            while writer.is_alive():
                seen.add(rt.config.sha256)
                await asyncio.sleep(0.005)

        writer.start()
        watcher = asyncio.create_task(watch_config())
        # Reload over and over while the file is being written.
        while writer.is_alive():
            outcomes.append(await live.reloader.reload("test"))
        await watcher
        outcomes.append(await live.reloader.reload("test"))
        seen.add(rt.config.sha256)
        assert seen <= {v1, v2}
        assert [o.status for o in outcomes if o.status not in ("applied", "unchanged")] == []
        assert {o.sha256 for o in outcomes} <= {v1, v2}
        assert rt.config.sha256 == v2 and rt.rejected == []


async def test_read_settled_waits_for_a_fresh_file(tmp_path):
    path = tmp_path / "f.yaml"
    write_old(path, "old")
    t0 = time.monotonic()
    assert (await read_settled(str(path), settle=5.0)).data == b"old"
    assert time.monotonic() - t0 < 4  # saved long ago: read at once
    path.write_text("new")
    writer = chunked_writer(path, "x" * 400, chunk=20, pause=0.02)
    writer.start()
    got = await read_settled(str(path), settle=0.2)
    writer.join()
    assert got.data == b"x" * 400
    future = time.time() + 3600  # a clock ahead of ours (a network file system)
    os.utime(path, (future, future))
    assert (await read_settled(str(path), settle=0.05)).data == b"x" * 400


async def test_the_watcher_sees_atomic_replaces_and_in_place_writes(origin, sqlite_url, tmp_path):
    async with live_service(origin, sqlite_url, tmp_path, V1, settle=0.2) as live:
        rt = live.runtime
        stop = asyncio.Event()
        outcomes = []

        async def on_change() -> None:
            outcomes.append(await live.reloader.reload("watch"))

        task = asyncio.create_task(
            watch(str(live.path), on_change, stop, debounce_ms=300, step_ms=50)
        )
        try:
            await asyncio.sleep(0.3)  # let the watch start
            (tmp_path / "unrelated.txt").write_text("x")
            base = origin.url("").rstrip("/")
            # An editor's save: a new file renamed over the old one.
            text2 = site_yaml(base, V2)
            tmp = tmp_path / ".feeds.yaml.tmp"
            tmp.write_text(text2, "utf-8")
            os.replace(tmp, live.path)
            v2 = hashlib.sha256(text2.encode()).hexdigest()
            await eventually(lambda: rt.config.sha256 == v2)
            # A slow in-place write: applied once complete, never half.
            text3 = site_yaml(base, V1)
            v3 = hashlib.sha256(text3.encode()).hexdigest()
            writer = chunked_writer(live.path, text3, chunk=200, pause=0.02)
            writer.start()
            await eventually(lambda: rt.config.sha256 == v3)
            writer.join()
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
        assert {o.status for o in outcomes} <= {"applied", "unchanged"}
        assert {o.sha256 for o in outcomes if o.status == "applied"} == {v2, v3}


async def test_a_request_overlapping_a_reload_is_answered_with_the_config_it_arrived_under(
    origin, sqlite_url, tmp_path, aiohttp_client, monkeypatch
):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        await live.parts.poller.run_once()
        client = await aiohttp_client(make_app(live.runtime))
        release, entered = asyncio.Event(), asyncio.Event()
        read_items = feed_views.read_items

        async def slow_read(*args, **kwargs):
            entered.set()
            await release.wait()
            return await read_items(*args, **kwargs)

        monkeypatch.setattr(feed_views, "read_items", slow_read)
        request = asyncio.create_task(client.get("/feeds/source/lanling-tv.rss"))
        await entered.wait()
        live.write(V2)  # lanling-tv is removed while its feed is being rendered
        assert (await live.reloader.reload("test")).status == "applied"
        release.set()
        resp = await request
        # One config from start to end (the one in force on arrival), never a mix or a 500;
        # and what was rendered under the old config is not kept for later requests.
        assert resp.status == 200
        assert "lanling" in await resp.text()
        assert (await client.get("/feeds/source/lanling-tv.rss")).status == 404


async def test_a_region_moved_under_another_parent_refiles_its_sources(
    origin, sqlite_url, tmp_path, aiohttp_client
):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        await live.parts.poller.run_once()
        client = await aiohttp_client(make_app(live.runtime))
        rb = await links(client, "/feeds/source/mengyin-rb.json")
        assert rb <= await links(client, "/feeds/region/linyi.json")
        text = live.path.read_text("utf-8")
        # 蒙阴县 becomes a top-level region (not under 山东 › 临沂市 any more).
        head, mengyin = text.split("          - id: mengyin\n")
        lines = ["  - id: mengyin"] + [ln[8:] for ln in mengyin.splitlines()]
        write_old(live.path, head + "\n".join(lines) + "\n")
        outcome = await live.reloader.reload("test")
        assert outcome.status == "applied", outcome.problems
        assert outcome.changes is not None and outcome.changes.moved == ("mengyin-rb",)
        assert not rb & await links(client, "/feeds/region/linyi.json")
        assert rb <= await links(client, "/feeds/region/mengyin.json")


async def test_a_move_made_while_stopped_is_refiled_at_start(
    origin, sqlite_url, tmp_path, aiohttp_client
):
    async with live_service(origin, sqlite_url, tmp_path, V1) as live:
        await live.parts.poller.run_once()
    moved = {"feixian": ["feixian-gov"], "mengyin": ["mengyin-rb", "feixian-news", "lanling-tv"]}
    async with live_service(origin, sqlite_url, tmp_path, moved) as live:
        client = await aiohttp_client(make_app(live.runtime))
        news = await links(client, "/feeds/source/feixian-news.json")
        assert news and news <= await links(client, "/feeds/region/mengyin.json")
        assert not news & await links(client, "/feeds/region/feixian.json")


def test_diff_names_what_changed(tmp_path):
    base = "http://o"
    old = load_text_site(tmp_path, site_yaml(base, V1))
    new = load_text_site(tmp_path, site_yaml(base, V1, economy="企业, 项目"))
    assert diff(old, new).as_dict()["channel_rules_changed"] is True
    assert diff(old, old).empty and diff(old, old).summary() == "no source changes"
    moved = load_text_site(
        tmp_path, site_yaml(base, V2, extra={"feixian-gov": "channels: [economy]"})
    )
    d = diff(old, moved)
    assert d.summary() == "1 added, 1 removed, 1 moved, channel rules changed"


def load_text_site(tmp_path, text: str):
    path = tmp_path / f"{hashlib.md5(text.encode()).hexdigest()}.yaml"
    path.write_text(text, "utf-8")
    return load(str(path)).site


@pytest.mark.parametrize("sig", ["no_watch_flag", "env"])
def test_watching_can_be_turned_off(sig):
    from aggregator.settings import Settings

    if sig == "env":
        assert not Settings.from_env({"AGGREGATOR_WATCH_CONFIG": "0"}).watch_config
    else:
        assert not Settings.from_env({}, no_watch=True).watch_config
    assert Settings.from_env({}).watch_config


def test_what_the_watcher_watches(tmp_path):
    from aggregator.config.watch import _targets

    plain = tmp_path / "feeds.yaml"
    plain.write_text("x")
    assert _targets(str(plain)) == ({str(tmp_path)}, {"feeds.yaml"})
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "sites.yaml").write_text("x")
    link = tmp_path / "etc" / "feeds.yaml"
    link.parent.mkdir()
    link.symlink_to(shared / "sites.yaml")
    assert _targets(str(link)) == ({str(link.parent), str(shared)}, {"feeds.yaml", "sites.yaml"})
    # A Kubernetes config map: feeds.yaml -> ..data/feeds.yaml, ..data -> ..2026_05_10_01
    cm = tmp_path / "cm"
    (cm / "..2026_05_10_01").mkdir(parents=True)
    (cm / "..2026_05_10_01" / "feeds.yaml").write_text("x")
    (cm / "..data").symlink_to("..2026_05_10_01")
    (cm / "feeds.yaml").symlink_to("..data/feeds.yaml")
    assert _targets(str(cm / "feeds.yaml")) == ({str(cm)}, {"feeds.yaml"})


async def test_a_config_map_update_is_seen(origin, sqlite_url, tmp_path):
    cm = tmp_path / "cm"
    cm.mkdir()
    async with live_service(origin, sqlite_url, cm, V1, settle=0.1) as live:
        base = origin.url("").rstrip("/")
        text1 = live.path.read_text("utf-8")
        os.remove(live.path)
        (cm / "..v1").mkdir()
        (cm / "..v1" / "feeds.yaml").write_text(text1, "utf-8")
        (cm / "..data").symlink_to("..v1")
        (cm / "feeds.yaml").symlink_to("..data/feeds.yaml")
        stop = asyncio.Event()
        task = asyncio.create_task(
            watch(str(live.path), lambda: live.reloader.reload("watch"), stop, debounce_ms=300)
        )
        try:
            await asyncio.sleep(0.3)
            text2 = site_yaml(base, V2)
            (cm / "..v2").mkdir()
            (cm / "..v2" / "feeds.yaml").write_text(text2, "utf-8")
            (cm / "..data_tmp").symlink_to("..v2")
            os.replace(cm / "..data_tmp", cm / "..data")  # what the kubelet does
            v2 = hashlib.sha256(text2.encode()).hexdigest()
            await eventually(lambda: live.runtime.config.sha256 == v2)
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
