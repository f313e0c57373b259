"""fetch.guard: private, loopback and other non-public addresses are refused on the
address actually connected to, through redirects, odd literal forms and DNS answers.

The test servers listen on loopback, so refusal is tested with the guard on (the
default) and success with `allow_private_networks` (the open session). To test a redirect
from an allowed host to a forbidden one, a policy that treats 127.0.0.2 as public stands
in for a public address, and a fake resolver stands in for DNS.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from aggregator.errors import FetchError
from aggregator.fetch.client import Sessions, fetch
from aggregator.fetch.guard import (
    AddressBlocked,
    GuardedResolver,
    check_host,
    forbidden,
    legacy_ipv4,
)
from aggregator.model import PollStatus
from tests.origin import Origin


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:100.64.0.1",
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b:1::c0a8:101",  # local-use NAT64 of 192.168.1.1
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "::127.0.0.1",  # IPv4-compatible
    ],
)
def test_forbidden_addresses(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "220.181.38.148", "2001:4860:4860::8888", "::ffff:8.8.8.8",
     "64:ff9b::808:808"],
)  # fmt: skip
def test_public_addresses(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("host", "means"),
    [
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("127.0.0.1", None),  # canonical: not a legacy form
        ("8.8.8.8", None),
        ("www.feixian.gov.cn", None),
        ("deadbeef", None),  # a name that looks like hex
    ],
)
def test_legacy_numeric_hosts(host: str, means: str | None) -> None:
    got = legacy_ipv4(host)
    assert (str(got) if got else None) == means


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "2130706433", "0177.0.0.1", "127.1"]
)
def test_check_host_refuses_literals(host: str) -> None:
    with pytest.raises(AddressBlocked):
        check_host(host)


def test_check_host_leaves_names_and_public_addresses() -> None:
    check_host("www.linyi.gov.cn")
    check_host("8.8.8.8")


class FakeResolver(AbstractResolver):
    """DNS as a dict: name → addresses."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.answers:
            raise OSError(f"no such host {host}")
        return [
            {"hostname": host, "host": a, "port": port, "family": socket.AF_INET, "proto": 0,
             "flags": socket.AI_NUMERICHOST}
            for a in self.answers[host]
        ]  # fmt: skip

    async def close(self) -> None:
        return None


async def test_resolver_drops_forbidden_answers() -> None:
    inner = FakeResolver({"mixed.example.cn": ["10.0.0.7", "8.8.8.8"], "bad.example.cn": ["::1"]})
    guarded = GuardedResolver(inner)
    assert [r["host"] for r in await guarded.resolve("mixed.example.cn", 80)] == ["8.8.8.8"]
    with pytest.raises(AddressBlocked, match=r"bad\.example\.cn"):
        await guarded.resolve("bad.example.cn", 80)


async def test_loopback_refused_when_guarded_and_allowed_when_open(origin: Origin) -> None:
    url = origin.url("/feeds/rss20_utf8.xml")
    sessions = Sessions()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(sessions.get(False), url)
        assert caught.value.status is PollStatus.BLOCKED
        assert "loopback" in caught.value.message
        assert "allow_private_networks" in caught.value.message
        got = await fetch(sessions.get(True), url)
        assert got.body.startswith(b"<?xml")
    finally:
        await sessions.close()
    assert origin.requests["/feeds/rss20_utf8.xml"] == 1  # the refused one never arrived


@pytest.mark.parametrize(
    "host", ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]",
             "localhost"],
)  # fmt: skip
async def test_odd_forms_of_loopback_are_refused(origin: Origin, host: str) -> None:
    assert origin.server is not None
    url = f"http://{host}:{origin.server.port}/feeds/rss20_utf8.xml"
    sessions = Sessions()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(sessions.get(False), url)
    finally:
        await sessions.close()
    assert caught.value.status is PollStatus.BLOCKED, caught.value.message
    assert not origin.requests


async def test_legacy_forms_are_refused_even_when_private_networks_are_allowed(
    origin: Origin,
) -> None:
    assert origin.server is not None
    sessions = Sessions()
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(sessions.get(True), f"http://2130706433:{origin.server.port}/")
    finally:
        await sessions.close()
    assert caught.value.status is PollStatus.BLOCKED
    assert "legacy numeric form of 127.0.0.1" in caught.value.message


def _public_127_0_0_2(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """The real policy, except that 127.0.0.2 plays a public site."""
    return None if str(ip) == "127.0.0.2" else forbidden(ip)


@pytest.fixture
async def public_origin():
    """An origin on 127.0.0.2, which the test policy treats as a public address."""
    server = Origin()
    await server.start()  # on 127.0.0.1: the "private" service a redirect aims at
    public = Origin()
    public.server = TestServer(_app(public), host="127.0.0.2")
    await public.server.start_server()
    yield public, server
    await public.close()
    await server.close()


def _app(origin: Origin):
    from aiohttp import web

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", origin.handle)
    return app


async def test_redirect_to_loopback_is_refused(public_origin) -> None:
    public, private = public_origin
    port = private.server.port
    public.set("/list.html", status=302, headers={"Location": f"http://127.0.0.1:{port}/admin"})
    private.set("/admin", body=b"secret", content_type="text/plain")
    sessions = Sessions(policy=_public_127_0_0_2)
    try:
        with pytest.raises(FetchError) as caught:
            await fetch(sessions.get(False), public.url("/list.html"))
    finally:
        await sessions.close()
    assert caught.value.status is PollStatus.BLOCKED
    assert public.requests["/list.html"] == 1
    assert private.requests["/admin"] == 0


async def test_redirect_and_rebinding_through_dns_are_refused(public_origin) -> None:
    public, private = public_origin
    public_port, private_port = public.server.port, private.server.port
    dns = FakeResolver(
        {
            "portal.example.cn": ["127.0.0.2"],
            "intranet.example.cn": ["127.0.0.1"],
            "rebind.example.cn": ["127.0.0.1", "10.0.0.1"],
        }
    )
    public.set("/a.html", body=b"<html>ok</html>", content_type="text/html")
    public.set(
        "/moved.html",
        status=301,
        headers={"Location": f"http://intranet.example.cn:{private_port}/admin"},
    )
    private.set("/admin", body=b"secret", content_type="text/plain")
    sessions = Sessions(policy=_public_127_0_0_2, resolver=dns)
    try:
        got = await fetch(sessions.get(False), f"http://portal.example.cn:{public_port}/a.html")
        assert got.body == b"<html>ok</html>"
        for url in (
            f"http://portal.example.cn:{public_port}/moved.html",
            f"http://rebind.example.cn:{private_port}/admin",
        ):
            with pytest.raises(FetchError) as caught:
                await fetch(sessions.get(False), url)
            assert caught.value.status is PollStatus.BLOCKED
            assert "example.cn" in caught.value.message
    finally:
        await sessions.close()
    assert private.requests["/admin"] == 0
