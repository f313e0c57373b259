"""Admin actions: reload feeds.yaml, poll a source now, pause, resume, clear its backoff.

Each needs `Authorization: Bearer $AGGREGATOR_ADMIN_TOKEN`. Without a token configured
they are off and answer 403; a missing or wrong token answers 401 (with
`WWW-Authenticate: Bearer`). Neither answer says more than that, tokens are compared in
constant time and never logged, and these POSTs carry no CORS headers, so no other
site's page can call them. Read-only pages and the JSON API stay public.

Actions on a source change its row in the database, so whichever poller runs (in this
process or another) acts on them at its next tick, within a second.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from aggregator.errors import NotFound
from aggregator.web.api import source_record
from aggregator.web.runtime import RUNTIME, Runtime

log = logging.getLogger("aggregator.admin")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


def authorised(header: str | None, token: str) -> bool:
    """Whether an Authorization header carries the token (constant time, any length)."""
    scheme, _, given = (header or "").strip().partition(" ")
    ok = hmac.compare_digest(_digest(given.strip()), _digest(token))
    return ok and scheme.lower() == "bearer"


def _deny(status: int) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    word = "unauthorized" if status == 401 else "forbidden"
    return web.json_response({"error": word, "status": status}, status=status, headers=headers)


def admin(action: Handler) -> Handler:
    """Guard an action with the admin token; refusals say nothing about why."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        rt = request.app[RUNTIME]
        token = rt.admin_token
        if token is None:
            log.info(
                "admin: %s %s refused: admin actions are off (AGGREGATOR_ADMIN_TOKEN is unset)",
                request.method,
                request.path,
            )
            return _deny(403)
        if not authorised(request.headers.get("Authorization"), token):
            log.warning(
                "admin: %s %s refused: missing or wrong token (from %s)",
                request.method,
                request.path,
                request.remote,
            )
            return _deny(401)
        return await action(request)

    return guarded


def _now() -> datetime:
    return datetime.now(UTC)


async def _answer(rt: Runtime, source_id: str, action: str, status: int = 200) -> web.Response:
    row = await rt.store.call(rt.store.source, source_id)
    assert row is not None
    body = {"ok": True, "action": action, "source": source_record(rt, row)}
    return web.json_response(body, status=status)


async def _known(rt: Runtime, source_id: str) -> Any:
    row = await rt.store.call(rt.store.source, source_id)
    if row is None:
        raise NotFound(f"unknown source {source_id!r}")
    return row


def _conflict(message: str) -> web.Response:
    return web.json_response({"error": message, "status": 409}, status=409)


@admin
async def reload(request: web.Request) -> web.Response:
    """Read feeds.yaml again: 200 applied or unchanged, 422 with its problems if invalid."""
    rt = request.app[RUNTIME]
    assert rt.reloader is not None
    log.info("admin: reload requested (from %s)", request.remote)
    outcome = await rt.reloader.reload("api")
    status = {"rejected": 422, "failed": 503}.get(outcome.status, 200)
    return web.json_response(outcome.as_dict(), status=status)


@admin
async def poll_now(request: web.Request) -> web.Response:
    """Make the source due now (backoff counters kept); 202, the poll follows within a tick."""
    rt = request.app[RUNTIME]
    sid = request.match_info["source"]
    row = await _known(rt, sid)
    if not row.active:
        return _conflict(f"{sid!r} is no longer in feeds.yaml")
    if row.paused:
        return _conflict(f"{sid!r} is paused: resume it first")
    if row.gone:
        return _conflict(f"{sid!r} answered 410 Gone: reset it to try again")
    await rt.store.call(
        rt.store.set_flags, sid, next_poll_at=_now(), next_poll_reason="poll now (admin)"
    )
    log.info("admin: poll %s now (from %s)", sid, request.remote)
    return await _answer(rt, sid, "poll", 202)


async def _set(request: web.Request, action: str, **flags: Any) -> web.Response:
    """Change flags on a known source's row, log who asked, answer with its record."""
    rt = request.app[RUNTIME]
    sid = request.match_info["source"]
    await _known(rt, sid)
    await rt.store.call(rt.store.set_flags, sid, **flags)
    log.info("admin: %s %s (from %s)", action, sid, request.remote)
    return await _answer(rt, sid, action)


@admin
async def pause(request: web.Request) -> web.Response:
    """Stop polling the source (its articles stay in every feed) until it is resumed."""
    return await _set(request, "pause", paused=True)


@admin
async def resume(request: web.Request) -> web.Response:
    """Poll the source again from its schedule (at once if that time has passed)."""
    return await _set(request, "resume", paused=False)


@admin
async def reset(request: web.Request) -> web.Response:
    """Clear the backoff: failures to 0, Retry-After and 410 forgotten, next poll now."""
    return await _set(
        request,
        "reset",
        consecutive_failures=0,
        retry_after=None,
        gone=False,
        next_poll_at=_now(),
        next_poll_reason="backoff cleared (admin)",
    )
