"""Every fault a county site throws at the poller, each in a round with a healthy source.

Each test checks the status recorded on the faulty source's health, and that the
healthy source polled in the same round still delivered its new articles. The clock is
the harness's own, so "polls again no sooner" is checked by moving it, not by waiting.
"""

from __future__ import annotations

import contextlib
import socket
from datetime import timedelta

import pytest

from aggregator.model import PollStatus
from tests import faults as f
from tests.harness import source

FEED = f.rss(f.headlines(3))


# ------------------------------------------------------------------ polite


async def test_conditional_get_then_unchanged_body_is_not_parsed(harness) -> None:
    harness.faults.set("/etag.xml", body=FEED)  # ETag + Last-Modified, 304 on a match
    harness.faults.set("/plain.xml", body=FEED, validators=False)  # no validators at all
    await harness.open(source("etag", "{faults}/etag.xml") + source("plain", "{faults}/plain.xml"))
    first = await harness.round()
    assert first["etag"].status is first["plain"].status is PollStatus.OK
    harness.advance(minutes=5)
    again = await harness.round()
    again.assert_healthy_delivered()
    assert again["etag"].status is PollStatus.NOT_MODIFIED
    assert harness.faults.conditional["/etag.xml"] == 1
    assert again["plain"].status is PollStatus.UNCHANGED
    assert "not parsed" in again["plain"].message
    assert harness.row("plain").entries_total == 3


async def test_retry_after_in_seconds_is_honoured(harness) -> None:
    harness.faults.set("/busy", handler=f.status(503, b"busy", **{"Retry-After": "600"}))
    await harness.open(source("busy", "{faults}/busy"))
    first = await harness.round()
    first.assert_healthy_delivered()
    result = first["busy"]
    assert (result.status, result.http_status) == (PollStatus.HTTP_ERROR, 503)
    assert result.next_poll_reason == "Retry-After"
    assert result.next_poll_at == harness.now + timedelta(seconds=600)
    row = harness.row("busy")
    assert row.retry_after == harness.now + timedelta(seconds=600)
    assert row.consecutive_failures == 1
    # Nine minutes on the source is still not due, whatever its interval (1m) says.
    harness.advance(minutes=9)
    later = await harness.round()
    later.assert_healthy_delivered()
    assert "busy" not in later.results
    assert harness.faults.requests["/busy"] == 1


async def test_retry_after_as_an_http_date_then_recovery(harness) -> None:
    harness.faults.set("/limited", handler=f.sequence(f.retry_after_date(429, 900), f.feed(FEED)))
    await harness.open(source("limited", "{faults}/limited"))
    first = await harness.round()
    first.assert_healthy_delivered()
    result = first["limited"]
    assert (result.status, result.http_status) == (PollStatus.HTTP_ERROR, 429)
    assert result.next_poll_reason == "Retry-After"
    wait = result.next_poll_at - harness.now
    assert timedelta(minutes=14) <= wait <= timedelta(minutes=15)  # the date is to the second
    harness.advance(minutes=10)
    assert "limited" not in (await harness.round()).results
    harness.advance_to("limited")
    recovered = await harness.round()
    recovered.assert_healthy_delivered()
    assert recovered["limited"].status is PollStatus.OK
    assert recovered.new("limited") == 3
    assert recovered["limited"].next_poll_reason == "interval"
    row = harness.row("limited")
    assert row.consecutive_failures == 0 and row.last_success_at == harness.now


async def test_backoff_grows_then_resets_on_success_and_never_gives_up(harness) -> None:
    failing = [f.status(500, b"Internal Server Error")] * 6
    harness.faults.set("/flaky", handler=f.sequence(*failing, f.feed(FEED)))
    await harness.open(source("flaky", "{faults}/flaky"))
    waits = []
    for n in range(1, 7):
        r = await harness.round()
        r.assert_healthy_delivered()
        result = r["flaky"]
        assert (result.status, result.http_status) == (PollStatus.HTTP_ERROR, 500)
        assert result.next_poll_reason == f"backoff after {n} failure{'s' if n > 1 else ''}"
        assert harness.row("flaky").consecutive_failures == n
        waits.append(result.next_poll_at - harness.now)
        harness.advance_to("flaky")
    assert waits == sorted(waits) and waits[-1] > 16 * waits[0]  # 1m doubling, ±20 % jitter
    back = await harness.round()
    back.assert_healthy_delivered()
    assert back["flaky"].status is PollStatus.OK and back.new("flaky") == 3
    assert back["flaky"].next_poll_reason == "interval"
    assert back["flaky"].next_poll_at - harness.now <= timedelta(seconds=66)
    assert harness.row("flaky").consecutive_failures == 0


@pytest.mark.parametrize(
    ("hint", "reason"),
    [
        ({"body": f.rss(f.headlines(2), ttl=180)}, "feed hint: <ttl>180</ttl>"),
        (
            {
                "body": f.rss(
                    f.headlines(2),
                    extra='<sy:updatePeriod xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
                    "daily</sy:updatePeriod>",
                )
            },
            "feed hint: sy:updatePeriod every 24h",
        ),
        (
            {"body": FEED, "headers": {"Cache-Control": "public, max-age=7200"}},
            "feed hint: Cache-Control max-age=7200",
        ),
    ],
)
async def test_feed_hints_lengthen_the_interval(harness, hint, reason) -> None:
    harness.faults.set("/hinted.xml", **hint)
    await harness.open(source("hinted", "{faults}/hinted.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["hinted"].status is PollStatus.OK
    assert r["hinted"].next_poll_reason == reason
    assert r["hinted"].next_poll_at - harness.now >= timedelta(minutes=100)
    # A 304 later keeps the hint: the feed that asked for it has not changed.
    harness.advance_to("hinted")
    again = await harness.round()
    assert again["hinted"].status is PollStatus.NOT_MODIFIED
    assert again["hinted"].next_poll_reason == reason


async def test_a_feed_hint_never_shortens_the_interval(harness) -> None:
    harness.faults.set("/eager.xml", body=f.rss(f.headlines(2), ttl=1))
    await harness.open(source("eager", "{faults}/eager.xml", interval="30m"))
    r = await harness.round()
    assert r["eager"].next_poll_reason == "interval"
    assert r["eager"].next_poll_at - harness.now >= timedelta(minutes=27)
    assert harness.row("eager").hint_floor_s == 60  # kept, shown, not obeyed


async def test_expires_header_is_a_floor(harness) -> None:
    harness.faults.set(
        "/expires.xml",
        handler=f.feed(FEED, Expires="Fri, 01 Jan 2100 00:00:00 GMT"),
    )
    await harness.open(source("expires", "{faults}/expires.xml"))
    r = await harness.round()
    assert r["expires"].next_poll_reason.startswith("feed hint: Expires")
    assert r["expires"].next_poll_at - harness.now <= timedelta(hours=24, minutes=150)


# ------------------------------------------------------------------ redirects and 410


@pytest.mark.parametrize("code", [301, 308])
async def test_permanent_redirect_is_kept_across_a_restart(origin, faults, db_url, code) -> None:
    from tests.harness import Harness

    harness = Harness(origin, faults, db_url)
    try:
        faults.set("/old.xml", handler=f.redirect(code, "/v2/rss.xml"))
        faults.set("/v2/rss.xml", body=FEED)
        await harness.open(source("moved", "{faults}/old.xml"))
        r = await harness.round()
        r.assert_healthy_delivered()
        assert r["moved"].status is PollStatus.OK and r.new("moved") == 3
        assert harness.row("moved").effective_url == faults.url("/v2/rss.xml")

        harness.restart()  # a new process: nothing in memory survives
        harness.advance_to("moved")
        again = await harness.round()
        again.assert_healthy_delivered()
        assert again["moved"].status is PollStatus.NOT_MODIFIED
        assert faults.requests["/old.xml"] == 1  # the old URL was never asked again
        assert faults.requests["/v2/rss.xml"] == 2
        assert harness.row("moved").effective_url == faults.url("/v2/rss.xml")
    finally:
        await harness.close()


@pytest.mark.parametrize("code", [302, 303, 307])
async def test_temporary_redirect_is_followed_not_remembered(harness, code) -> None:
    harness.faults.set("/feed.xml", handler=f.redirect(code, "/today.xml"))
    harness.faults.set("/today.xml", body=FEED)
    await harness.open(source("temp", "{faults}/feed.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["temp"].status is PollStatus.OK and r.new("temp") == 3
    assert harness.row("temp").effective_url is None
    harness.advance_to("temp")
    await harness.round()
    assert harness.faults.requests["/feed.xml"] == 2


async def test_permanent_then_temporary_remembers_only_the_permanent_hop(harness) -> None:
    harness.faults.set("/a", handler=f.redirect(301, "/b"))
    harness.faults.set("/b", handler=f.redirect(302, "/c"))
    harness.faults.set("/c", body=FEED)
    await harness.open(source("chain", "{faults}/a"))
    assert (await harness.round())["chain"].status is PollStatus.OK
    assert harness.row("chain").effective_url == harness.faults.url("/b")


@pytest.mark.parametrize(("hops", "expected"), [(5, PollStatus.OK), (6, PollStatus.REDIRECT)])
async def test_at_most_five_redirects(harness, hops, expected) -> None:
    for i in range(hops):
        harness.faults.set(f"/r{i}", handler=f.redirect(302, f"/r{i + 1}"))
    harness.faults.set(f"/r{hops}", body=FEED)
    await harness.open(source("hops", "{faults}/r0"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["hops"].status is expected
    if expected is PollStatus.REDIRECT:
        assert "more than 5 redirects" in r["hops"].message
        assert harness.row("hops").consecutive_failures == 1


async def test_redirect_loop_fails_cleanly(harness) -> None:
    harness.faults.set("/ping", handler=f.redirect(302, "/pong"))
    harness.faults.set("/pong", handler=f.redirect(302, "/ping"))
    await harness.open(source("loop", "{faults}/ping"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["loop"].status is PollStatus.REDIRECT
    assert "loop" in r["loop"].message
    assert r["loop"].next_poll_reason.startswith("backoff")
    assert harness.faults.requests["/ping"] == 1 and harness.faults.requests["/pong"] == 1


async def test_410_stops_polling_until_the_admin_changes_the_url(harness) -> None:
    harness.faults.set("/gone.xml", status=410, body=b"Gone")
    harness.faults.set("/new.xml", body=FEED)
    await harness.open(source("closed", "{faults}/gone.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert (r["closed"].status, r["closed"].http_status) == (PollStatus.GONE, 410)
    assert "410" in r["closed"].message and "feeds.yaml" in r["closed"].message
    row = harness.row("closed")
    assert row.gone and row.next_poll_reason.startswith("gone")
    harness.advance(days=30)
    later = await harness.round()
    later.assert_healthy_delivered()
    assert "closed" not in later.results and harness.faults.requests["/gone.xml"] == 1

    harness.reconfigure(source("closed", "{faults}/new.xml"))  # the admin's fix
    harness.advance(minutes=1)
    fixed = await harness.round()
    assert fixed["closed"].status is PollStatus.OK and fixed.new("closed") == 3
    assert not harness.row("closed").gone


# ------------------------------------------------------------------ time and size


async def test_slow_drip_is_cut_off_by_the_total_deadline(harness) -> None:
    harness.faults.set("/drip.xml", handler=f.drip(FEED, every=0.05))
    await harness.open(source("drip", "{faults}/drip.xml", timeout="1s"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["drip"].status is PollStatus.TIMEOUT
    assert "still arriving" in r["drip"].message
    assert r.order.index("healthy") < r.order.index("drip")  # never waited for it
    assert harness.row("drip").consecutive_failures == 1


async def test_no_first_byte_is_a_timeout(harness) -> None:
    harness.faults.set("/silent.xml", handler=f.silent(30))
    await harness.open(source("silent", "{faults}/silent.xml", timeout="1s"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["silent"].status is PollStatus.TIMEOUT
    assert "no answer within 0.75s" in r["silent"].message
    assert r.order.index("healthy") < r.order.index("silent")


async def test_connect_timeout(harness) -> None:
    # A listener whose accept queue is full: the handshake never completes.
    listener = socket.socket()
    listener.bind(("127.0.0.2", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.2", port))
        fillers.append(s)
    try:
        await harness.open(source("stuck", f"http://127.0.0.2:{port}/rss.xml", timeout="2s"))
        r = await harness.round()
        r.assert_healthy_delivered()
        assert r["stuck"].status is PollStatus.TIMEOUT
        assert "could not connect" in r["stuck"].message
    finally:
        for s in [*fillers, listener]:
            s.close()


async def test_gzip_bomb_is_capped_on_decompressed_bytes(harness) -> None:
    harness.faults.set("/bomb.xml", handler=f.gzip_bomb(64 * 1024 * 1024))
    await harness.open(source("bomb", "{faults}/bomb.xml", max_bytes="1MB"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["bomb"].status is PollStatus.TOO_LARGE
    assert "1048576-byte cap" in r["bomb"].message
    assert r["bomb"].bytes < 1024 * 1024  # compressed bytes read before giving up


async def test_endless_body_without_length_is_capped(harness) -> None:
    harness.faults.set("/huge.xml", handler=f.huge(50 * 1024 * 1024))
    await harness.open(source("huge", "{faults}/huge.xml", max_bytes="1MB"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["huge"].status is PollStatus.TOO_LARGE
    assert r["huge"].bytes < 2 * 1024 * 1024


# ------------------------------------------------------------------ hostile and wrong content


async def test_xxe_never_reads_the_local_file(harness, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-9731")
    harness.faults.set("/xxe.xml", body=f.xxe(str(secret)))
    await harness.open(source("xxe", "{faults}/xxe.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["xxe"].status is PollStatus.PARSE_ERROR
    assert "XXE" in r["xxe"].message
    assert harness.row("xxe").entries_total == 0
    assert "TOP-SECRET" not in str(harness.row("xxe")._mapping)


@pytest.mark.parametrize(
    ("body", "content_type", "expected", "says"),
    [
        (f.BILLION_LAUGHS, "application/xml", PollStatus.PARSE_ERROR, "entity expansion"),
        (f.HTML_PORTAL, "text/html; charset=utf-8", PollStatus.PARSE_ERROR, "HTML page"),
        (b"", "application/rss+xml", PollStatus.EMPTY, "empty"),
        (f.rss([]), "application/rss+xml", PollStatus.EMPTY, "no entries"),
        (b"\x00\x01binary\xff", "application/octet-stream", PollStatus.PARSE_ERROR, "not a feed"),
    ],
    ids=["billion-laughs", "html-page", "empty-200", "no-entries", "binary"],
)
async def test_wrong_content(harness, body, content_type, expected, says) -> None:
    harness.faults.set("/wrong", body=body, content_type=content_type)
    await harness.open(source("wrong", "{faults}/wrong"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["wrong"].status is expected
    assert says in r["wrong"].message
    assert harness.row("wrong").entries_total == 0


async def test_lying_encoding_is_read_right_and_flagged(harness) -> None:
    titles = f.headlines(3, "蒙阴县")
    body = f.rss(titles, encoding="gbk", declared="utf-8")  # says UTF-8, is GBK
    harness.faults.set("/liar.xml", body=body)
    await harness.open(source("liar", "{faults}/liar.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["liar"].status is PollStatus.ENCODING_SUSPECT
    assert "utf-8" in r["liar"].message.lower()
    assert r.new("liar") == 3  # the articles are kept, and readable
    assert harness.store is not None
    page = harness.store.read_page(_source_query("liar"), "x")[0]
    assert {item.title for item in page} == set(titles)


async def test_truncated_document_keeps_what_it_can_and_warns(harness) -> None:
    body = f.rss(f.headlines(5))
    cut = body.index(b"<item>", body.index(b"<item>", len(body) // 2) - 5)
    harness.faults.set("/cut.xml", body=body[: cut + 40])
    await harness.open(source("cut", "{faults}/cut.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert r["cut"].status is PollStatus.OK
    assert "ill-formed" in r["cut"].message
    assert r.new("cut") >= 2
    assert harness.row("cut").warnings


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (f.status(412, b"<html><script>var a=1</script></html>"), 412),
        (f.feed(f.JS_CHALLENGE, "text/html"), 200),
        (f.status(503, f.CLOUDFLARE_503, **{"Content-Type": "text/html"}), 503),
        (f.status(403, f.SAFEDOG_403, **{"Content-Type": "text/html; charset=utf-8"}), 403),
    ],
)
async def test_anti_bot_walls(harness, answer, code) -> None:
    harness.faults.set("/waf.xml", handler=answer)
    await harness.open(source("waf", "{faults}/waf.xml"))
    r = await harness.round()
    r.assert_healthy_delivered()
    assert (r["waf"].status, r["waf"].http_status) == (PollStatus.ANTI_BOT, code)
    assert harness.row("waf").consecutive_failures == 1


# ------------------------------------------------------------------ network errors


async def test_dns_refused_and_tls_errors_back_off(harness) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.2", 0))
    port = closed.getsockname()[1]
    closed.close()  # nobody listens there now
    https_to_plain = harness.faults.url("/x").replace("http://", "https://")
    await harness.open(
        source("dns", "http://nowhere.invalid/rss.xml")
        + source("refused", f"http://127.0.0.2:{port}/rss.xml")
        + source("tls", https_to_plain)
    )
    for n in (1, 2):
        r = await harness.round()
        r.assert_healthy_delivered()
        assert r["dns"].status is PollStatus.DNS
        assert r["refused"].status is PollStatus.CONNECTION
        assert r["tls"].status is PollStatus.TLS
        for sid in ("dns", "refused", "tls"):
            assert r[sid].next_poll_reason.startswith(f"backoff after {n} failure")
            assert harness.row(sid).consecutive_failures == n
        harness.advance(minutes=3)


# ------------------------------------------------------------------ articles survive failure


async def test_a_failing_source_keeps_its_articles_in_every_feed(harness, aiohttp_client) -> None:
    from aggregator.web.app import make_app
    from aggregator.web.runtime import Runtime

    titles = f.headlines(3, "平邑县")
    harness.faults.set(
        "/later-broken.xml",
        handler=f.sequence(f.feed(f.rss(titles)), f.status(500, b"oops"), f.feed(b"<html>")),
    )
    await harness.open(source("breaks", "{faults}/later-broken.xml"))
    assert (await harness.round())["breaks"].status is PollStatus.OK
    for expected in (PollStatus.HTTP_ERROR, PollStatus.PARSE_ERROR):
        harness.advance_to("breaks")
        assert (await harness.round())["breaks"].status is expected
    assert harness.store is not None and harness.config is not None
    runtime = Runtime(config=harness.config, store=harness.store, loaded_at=harness.now)
    client = await aiohttp_client(make_app(runtime))
    for path in ("/feeds/source/breaks.rss", "/feeds/region/linyi.atom"):
        resp = await client.get(path)
        text = await resp.text()
        assert resp.status == 200
        assert all(t in text for t in titles), path
        assert "oops" not in text


def _source_query(source_id: str):
    from aggregator.model import FeedQuery, FeedScope

    return FeedQuery(FeedScope("source", source=source_id))
