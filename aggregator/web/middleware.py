"""Domain errors become HTTP answers at the edge: 404 and 400 with a message, never a 500."""

from __future__ import annotations

import logging

from aiohttp import web

from aggregator.errors import BadParameter, NotFound

log = logging.getLogger("aggregator.web")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
# What an aiohttp error response says beyond its status that a client needs: the methods
# a 405 allows (RFC 9110 requires it), where a redirect goes.
_KEPT_HEADERS = ("Allow", "Location", "Retry-After", "WWW-Authenticate")


def _error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": message, "status": status}, status=status, headers=SECURITY_HEADERS
    )


def error_response(request: web.Request, exc: Exception) -> web.Response:
    """The JSON answer to an exception a handler raised; re-raises what aiohttp should send
    as it is (redirects, and errors a handler already made JSON)."""
    if isinstance(exc, NotFound):
        return _error(404, str(exc))
    if isinstance(exc, BadParameter):
        return _error(400, str(exc))
    if isinstance(exc, web.HTTPException):
        if exc.status >= 400 and exc.content_type != "application/json":
            response = _error(exc.status, exc.reason)
            for name in _KEPT_HEADERS:
                if name in exc.headers:
                    response.headers[name] = exc.headers[name]
            return response
        raise exc
    log.exception("web: unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return _error(500, "internal error; the log has the details")
