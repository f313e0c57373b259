"""Domain errors become HTTP answers at the edge: 404 and 400 with a message, never a 500."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from aggregator.errors import AggregatorError, BadParameter, NotFound
from aggregator.web.runtime import RUNTIME

log = logging.getLogger("aggregator.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": message, "status": status}, status=status, headers=SECURITY_HEADERS
    )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except NotFound as exc:
        return _error(404, str(exc))
    except BadParameter as exc:
        return _error(400, str(exc))
    except web.HTTPException as exc:
        if exc.status >= 400 and exc.content_type != "application/json":
            return _error(exc.status, exc.reason)
        raise
    except Exception:
        log.exception("web: unexpected error on %s %s", request.method, request.path)
        return _error(500, "internal error; the log has the details")
    for key, value in SECURITY_HEADERS.items():
        response.headers.setdefault(key, value)
    return response


@web.middleware
async def reload_retry(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A request that failed because a reload swapped the config under it is answered
    once more, against the config now in force, instead of with a 500."""
    rt = request.app[RUNTIME]
    config = rt.config
    try:
        return await handler(request)
    except (web.HTTPException, AggregatorError):
        raise
    except Exception:
        if rt.config is config:
            raise
        log.info(
            "web: %s %s overlapped a config reload; answered again", request.method, request.path
        )
        return await handler(request)
