"""Network in, bytes out: one aiohttp session, conditional GET, and hard limits.

All HTTP knowledge sits here: redirects followed by hand (so a 301/308 can be
remembered and a loop stopped), the size cap counted on decompressed bytes as they
stream (a small gzip can inflate to gigabytes), three deadlines (connecting, the first
byte of the answer, and the whole response: aiohttp's read timeout alone never fires
on a source that drips a byte every half second), and every failure mapped onto one
health status.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDictProxy

from aggregator import __version__
from aggregator.errors import FetchError
from aggregator.fetch.antibot import challenge
from aggregator.fetch.guard import (
    AddressBlocked,
    GuardedResolver,
    Policy,
    forbidden,
    guarded_socket,
    legacy_ipv4,
)
from aggregator.fetch.policy import human, parse_retry_after
from aggregator.model import Fetched, PollStatus

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
USER_AGENT = f"aggregator/{__version__} (regional news aggregator; +https://github.com/)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, text/html;q=0.7, */*;q=0.5"
)
_REDIRECTS = {301, 302, 303, 307, 308}
_PERMANENT = {301, 308}


@dataclass(frozen=True, slots=True)
class NotModified:
    """The source answered 304: nothing to parse."""

    url: str
    permanent_url: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Limits:
    timeout: float = 20.0  # seconds for the whole exchange, redirects and body included
    connect_timeout: float = 10.0  # to open a connection (TCP and TLS)
    first_byte_timeout: float = 15.0  # from sending the request to the answer's first
    # bytes; also the longest silence allowed in the middle of a body
    max_bytes: int = 10 * 1024 * 1024  # decompressed

    @classmethod
    def within(cls, timeout: float, max_bytes: int = 10 * 1024 * 1024) -> Limits:
        """The three deadlines from a source's one `timeout`: connecting may take half
        of it (at most 10 s), the first byte three quarters, the whole answer all of it."""
        return _within(timeout, max_bytes)

    def client_timeout(self) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for these limits, built once per Limits (every request asks)."""
        return _client_timeout(self)


@functools.lru_cache(maxsize=256)
def _within(timeout: float, max_bytes: int) -> Limits:
    return Limits(
        timeout=timeout,
        connect_timeout=min(10.0, timeout / 2),
        first_byte_timeout=timeout * 0.75,
        max_bytes=max_bytes,
    )


@functools.lru_cache(maxsize=256)
def _client_timeout(limits: Limits) -> aiohttp.ClientTimeout:
    # sock_read covers the wait for the first byte and any silence mid-body; the
    # caller's asyncio.timeout covers the whole, which no trickle of bytes can extend.
    return aiohttp.ClientTimeout(
        total=None,
        connect=limits.connect_timeout,  # DNS and the TCP/TLS handshake together
        sock_connect=limits.connect_timeout,
        sock_read=limits.first_byte_timeout,
    )


@dataclass
class _Progress:
    """How far an exchange got, so a timeout can say which deadline it hit."""

    stage: str = "waiting"  # waiting (for an answer) → reading (headers in, body coming)
    url: str = ""
    raw_bytes: int = 0


def make_session(
    user_agent: str = USER_AGENT,
    *,
    limit: int = 100,
    resolver: AbstractResolver | None = None,
    guard: bool = True,
    policy: Policy = forbidden,
) -> aiohttp.ClientSession:
    """A client session; cookies are not kept between sources.

    `guard` (the default) refuses private, loopback and other non-public addresses on
    every connection (see fetch.guard); only sources with `allow_private_networks` use
    a session without it.
    """
    connector = aiohttp.TCPConnector(
        limit=limit,
        limit_per_host=0,
        ttl_dns_cache=300,
        enable_cleanup_closed=True,
        resolver=GuardedResolver(resolver, policy) if guard else resolver,
        socket_factory=guarded_socket(policy) if guard else None,
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,  # we inflate ourselves, under the size cap
        raise_for_status=False,
    )


class Sessions:
    """The process's two client sessions: guarded (the default) and, for sources that
    set `allow_private_networks`, one that may reach private addresses. Two connectors,
    so a kept-alive connection to a private address is never reused by a guarded fetch."""

    def __init__(
        self,
        user_agent: str = USER_AGENT,
        *,
        limit: int = 100,
        policy: Policy = forbidden,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.guarded = make_session(
            user_agent, limit=limit, guard=True, policy=policy, resolver=resolver
        )
        self.open = make_session(user_agent, limit=limit, guard=False, resolver=resolver)

    def get(self, allow_private_networks: bool) -> aiohttp.ClientSession:
        return self.open if allow_private_networks else self.guarded

    async def close(self) -> None:
        await self.guarded.close()
        await self.open.close()


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    limits: Limits = Limits(),
    accept: str | None = None,
) -> Fetched | NotModified:
    """GET a URL once, conditionally; raise FetchError with a health status on failure."""
    started = time.monotonic()
    progress = _Progress(url=url)
    try:
        async with asyncio.timeout(limits.timeout):
            return await _fetch(session, url, etag, last_modified, limits, accept, progress)
    except FetchError:
        raise
    except TimeoutError as exc:  # ours (the whole response) or aiohttp's (connect, read)
        took = time.monotonic() - started
        raise FetchError(
            PollStatus.TIMEOUT,
            _timeout_message(exc, progress, limits, took),
            bytes_read=progress.raw_bytes,
        ) from exc
    except aiohttp.ClientConnectorDNSError as exc:
        if isinstance(exc.os_error, AddressBlocked):  # the resolver refused every answer
            raise FetchError(PollStatus.BLOCKED, str(exc.os_error)) from exc
        raise FetchError(
            PollStatus.DNS, f"DNS lookup failed for {urlsplit(url).hostname}: {exc.os_error}"
        ) from exc
    except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError, ssl.SSLError) as exc:
        raise FetchError(PollStatus.TLS, f"TLS error: {exc}") from exc
    except aiohttp.ClientConnectorError as exc:
        if isinstance(exc.os_error, AddressBlocked):  # refused on the address dialled
            raise FetchError(PollStatus.BLOCKED, str(exc.os_error)) from exc
        raise FetchError(PollStatus.CONNECTION, f"cannot connect: {exc.os_error or exc}") from exc
    except (aiohttp.InvalidURL, ValueError) as exc:
        raise FetchError(PollStatus.ERROR, f"invalid URL: {exc}") from exc
    except aiohttp.ClientError as exc:
        raise FetchError(PollStatus.CONNECTION, f"{type(exc).__name__}: {exc}") from exc
    except OSError as exc:
        raise FetchError(PollStatus.CONNECTION, f"{type(exc).__name__}: {exc}") from exc


async def _fetch(
    session: aiohttp.ClientSession,
    url: str,
    etag: str | None,
    last_modified: str | None,
    limits: Limits,
    accept: str | None,
    progress: _Progress,
) -> Fetched | NotModified:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    if accept:
        headers["Accept"] = accept
    timeout = limits.client_timeout()
    current = url
    seen = {url}
    permanent: str | None = None
    all_permanent = True
    for _hop in range(MAX_REDIRECTS + 1):
        progress.stage, progress.url = "waiting", current
        _refuse_legacy_host(current)
        async with session.get(
            current,
            headers=headers,
            allow_redirects=False,
            timeout=timeout,
        ) as resp:
            progress.stage = "reading"
            if resp.status in _REDIRECTS:
                location = resp.headers.get("Location")
                if not location:
                    raise FetchError(
                        PollStatus.HTTP_ERROR,
                        f"HTTP {resp.status} without Location",
                        http_status=resp.status,
                    )
                target = urljoin(current, location)
                if urlsplit(target).scheme not in ("http", "https"):
                    raise FetchError(
                        PollStatus.REDIRECT, f"redirect to a non-HTTP URL {target[:200]}"
                    )
                if target in seen:
                    raise FetchError(
                        PollStatus.REDIRECT,
                        f"redirect loop at {target[:200]}",
                        http_status=resp.status,
                    )
                seen.add(target)
                all_permanent = all_permanent and resp.status in _PERMANENT
                permanent = target if all_permanent else permanent
                current = target
                continue
            facts = tuple((k, v) for k, v in resp.headers.items())
            if resp.status == 304:
                return NotModified(current, permanent, facts)
            if resp.status != 200:
                raise _status_error(resp.status, resp.headers, await _peek(resp))
            body = await read_body(resp, limits.max_bytes, progress)
            wall = challenge(200, body)
            if wall:
                raise FetchError(PollStatus.ANTI_BOT, wall, http_status=200, bytes_read=len(body))
            return Fetched(
                url=current,
                body=body,
                content_type=resp.content_type,
                charset=resp.charset,
                etag=resp.headers.get("ETag"),
                last_modified=resp.headers.get("Last-Modified"),
                status=resp.status,
                permanent_url=permanent,
                headers=facts,
            )
    raise FetchError(
        PollStatus.REDIRECT, f"more than {MAX_REDIRECTS} redirects (last to {current[:200]})"
    )


def _timeout_message(exc: TimeoutError, progress: _Progress, limits: Limits, took: float) -> str:
    """Which deadline a timeout hit, in words an admin can act on."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        host = urlsplit(progress.url).hostname
        return f"could not connect to {host} within {limits.connect_timeout:g}s"
    reading = progress.stage == "reading"
    if isinstance(exc, aiohttp.SocketTimeoutError):
        if reading:
            return (
                f"the body stalled: nothing received for {limits.first_byte_timeout:g}s "
                f"(after {progress.raw_bytes} bytes)"
            )
        return f"connected, but no answer within {limits.first_byte_timeout:g}s"
    if reading:
        return (
            f"the body was still arriving after {took:.1f}s ({progress.raw_bytes} bytes "
            f"so far): cut off at the {limits.timeout:g}s deadline"
        )
    return f"no answer within {took:.1f}s"


def _refuse_legacy_host(url: str) -> None:
    """`http://2130706433/` and `http://0177.0.0.1/` are 127.0.0.1 to the C library:
    never a real site's address, so refused whatever the source allows."""
    refusal = _legacy_refusal(url)
    if refusal is not None:
        raise FetchError(*refusal)


@functools.lru_cache(maxsize=8192)
def _legacy_refusal(url: str) -> tuple[PollStatus, str] | None:
    """Why a URL's host is refused, or None; cached, as every poll of a source asks."""
    host = urlsplit(url).hostname or ""
    address = legacy_ipv4(host)
    if address is None:
        return None
    why = forbidden(address)
    message = f"refused host {host!r}: a legacy numeric form of {address}"
    if why:
        return PollStatus.BLOCKED, f"{message}, {why}"
    return PollStatus.ERROR, f"{message}; write the address as {address}"


async def read_body(
    resp: aiohttp.ClientResponse, max_bytes: int, progress: _Progress | None = None
) -> bytes:
    """The decompressed body, refused as soon as it passes `max_bytes`."""
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    inflater = None
    if encoding in ("gzip", "x-gzip"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        inflater = zlib.decompressobj()
    declared = resp.content_length
    if declared is not None and inflater is None and declared > max_bytes:
        raise FetchError(
            PollStatus.TOO_LARGE,
            f"body of {declared} bytes is over the {max_bytes}-byte cap",
            http_status=resp.status,
        )
    out = bytearray()
    raw = 0
    async for chunk in resp.content.iter_chunked(CHUNK):
        raw += len(chunk)
        if progress is not None:
            progress.raw_bytes = raw
        if inflater is None:
            out += chunk
        else:
            try:
                data = inflater.decompress(chunk, max_bytes - len(out) + 1)
                while inflater.unconsumed_tail and len(out) + len(data) <= max_bytes:
                    data += inflater.decompress(
                        inflater.unconsumed_tail, max_bytes - len(out) - len(data) + 1
                    )
            except zlib.error as exc:
                raise FetchError(
                    PollStatus.CONNECTION,
                    f"corrupt {encoding} body: {exc}",
                    http_status=resp.status,
                ) from exc
            out += data
        if len(out) > max_bytes:
            raise FetchError(
                PollStatus.TOO_LARGE,
                f"body passed the {max_bytes}-byte cap (after {raw} bytes on the wire)",
                http_status=resp.status,
                bytes_read=raw,
            )
    if inflater is not None:
        out += inflater.flush()
        if len(out) > max_bytes:
            raise FetchError(
                PollStatus.TOO_LARGE,
                f"body passed the {max_bytes}-byte cap",
                http_status=resp.status,
            )
    return bytes(out)


async def _peek(resp: aiohttp.ClientResponse, limit: int = 8192) -> bytes:
    """The start of an error answer's body (decompressed), to recognise challenge pages."""
    try:
        data = await resp.content.read(limit)
    except (aiohttp.ClientError, OSError):
        return b""
    encoding = resp.headers.get("Content-Encoding", "").strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        try:
            return zlib.decompressobj(wbits).decompress(data, limit * 4)
        except zlib.error:
            return b""
    return data


def _status_error(status: int, headers: CIMultiDictProxy[str], peek: bytes) -> FetchError:
    now = datetime.now(UTC)
    retry = parse_retry_after(headers.get("Retry-After"), now)
    seconds = retry.total_seconds() if retry is not None else None
    if status == 410:
        return FetchError(
            PollStatus.GONE,
            "HTTP 410 Gone: the source says it is gone for good; polling stopped "
            "(change its url in feeds.yaml to poll again)",
            http_status=status,
        )
    wall = challenge(status, peek)
    if wall:
        return FetchError(PollStatus.ANTI_BOT, wall, http_status=status, retry_after=seconds)
    if status in (429, 503) and retry is not None:
        return FetchError(
            PollStatus.HTTP_ERROR,
            f"HTTP {status}, asked to retry after {human(retry)}",
            http_status=status,
            retry_after=seconds,
        )
    return FetchError(
        PollStatus.HTTP_ERROR, f"HTTP {status}", http_status=status, retry_after=seconds
    )
