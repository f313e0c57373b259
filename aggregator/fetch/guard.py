"""Refusing addresses a source must not reach (SSRF): loopback, private, link-local, …

Links found in pages can point anywhere, so fetches are checked on the address actually
connected to, not on the URL: `GuardedResolver` drops forbidden addresses from every DNS
answer (redirect targets and DNS rebinding go through it too), and `guarded_socket` checks
the socket address right before connecting, which also covers IP literals in URLs (aiohttp
does not ask the resolver about those). Legacy numeric forms such as `2130706433` or
`0177.0.0.1` are read the way the C library would read them, and refused if that address is.

`allowed_address` is PURE; the resolver and the socket factory are aiohttp plumbing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Policy = Callable[[IPAddress], "str | None"]  # why an address is refused, or None

_V4_RULES: tuple[tuple[ipaddress.IPv4Network, str], ...] = tuple(
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "an unspecified address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address (100.64.0.0/10)"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
)
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_V6_RULES: tuple[tuple[ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "an unspecified address"),
        ("::1/128", "a loopback address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
        ("100::/64", "a discard-only address"),
    )
)


class AddressBlocked(OSError):
    """A connection to a forbidden address was refused (an OSError, so aiohttp wraps it)."""

    def __init__(self, host: str, address: str, why: str) -> None:
        self.host = host
        self.address = address
        self.why = why
        target = address if host in (address, "") else f"{host} ({address})"
        super().__init__(
            f"refused to connect to {target}: {why}; "
            "set allow_private_networks: true on the source to allow it"
        )


def forbidden(ip: IPAddress) -> str | None:
    """Why an address may not be fetched from, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            why = forbidden(embedded)
            return f"{why} written as IPv6 ({ip})" if why else None
        for net, why in _V6_RULES:
            if ip in net:
                return why
        return None if ip.is_global else "an address that is not globally routable"
    for net4, why in _V4_RULES:
        if ip in net4:
            return why
    return None if ip.is_global else "an address that is not globally routable"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries: mapped, NAT64, 6to4, or IPv4-compatible."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated IPv4-compatible)
        return ipaddress.IPv4Address(int(ip))
    return None


def legacy_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a non-canonical numeric host means to the C library, else None.

    `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` all mean 127.0.0.1 to inet_aton;
    a canonical dotted quad or a name returns None.
    """
    if not host or not all(c in "0123456789abcdefxABCDEFX." for c in host):
        return None
    try:
        canonical = ipaddress.IPv4Address(host)
    except ValueError:
        canonical = None
    if canonical is not None:
        return None
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return None
    return ipaddress.IPv4Address(packed)


def check_host(host: str) -> None:
    """Refuse a URL host that is a forbidden address written as a literal (any form)."""
    text = host.strip("[]").split("%")[0]
    try:
        ip: IPAddress | None = ipaddress.ip_address(text)
    except ValueError:
        ip = legacy_ipv4(text)
    if ip is None:
        return
    why = forbidden(ip)
    if why:
        raise AddressBlocked(host, str(ip), why)


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and drops every forbidden address from its answers."""

    def __init__(self, inner: AbstractResolver | None = None, policy: Policy = forbidden) -> None:
        self._inner = inner or DefaultResolver()
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        kept: list[ResolveResult] = []
        refused: tuple[str, str] | None = None
        for answer in answers:
            why = self._policy(ipaddress.ip_address(answer["host"].split("%")[0]))
            if why is None:
                kept.append(answer)
            elif refused is None:
                refused = (answer["host"], why)
        if not kept and refused is not None:
            raise AddressBlocked(host, *refused)
        return kept

    async def close(self) -> None:
        await self._inner.close()


def guarded_socket(policy: Policy = forbidden) -> Callable[[Any], socket.socket]:
    """aiohttp's socket factory: the last check, on the exact address about to be dialled."""

    def make(addr_info: Any) -> socket.socket:
        family, type_, proto, _canon, sockaddr = addr_info
        address = str(sockaddr[0])
        why = policy(ipaddress.ip_address(address.split("%")[0]))
        if why:
            raise AddressBlocked(address, address, why)
        return socket.socket(family=family, type=type_, proto=proto)

    return make
