"""What every request meets around a handler: CORS for public reads, size limits, errors.

Feeds and the JSON API are public and read-only, so any site may fetch them from a
browser: their GET/HEAD answers (errors and 304s included) carry
`Access-Control-Allow-Origin: *`, and a preflight OPTIONS is answered for them. Admin
actions (POST) get no CORS headers and no preflight approval, so a browser never sends
them cross-origin.

The aiohttp server itself bounds what a client may send (`SERVER_LIMITS`, used by
`app.start_site`); a query string longer than any real feed URL is a 400 here.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from aggregator.errors import BadParameter
from aggregator.web.cache import CORS
from aggregator.web.middleware import SECURITY_HEADERS, error_response
from aggregator.web.runtime import CONFIG, RUNTIME

PUBLIC_PREFIXES = ("/feeds/", "/feeds.opml", "/api/", "/healthz")
READ_METHODS = frozenset({"GET", "HEAD"})
# Request headers a cross-origin reader may send: conditional requests and cache control.
ALLOWED_HEADERS = "Accept, Accept-Language, Cache-Control, If-Modified-Since, If-None-Match, Pragma"
PREFLIGHT = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": ALLOWED_HEADERS,
    "Access-Control-Max-Age": "86400",
}

# A feed URL's query is limit, q (at most 200 characters, 9 bytes each once
# percent-encoded) and before: well under this.
MAX_QUERY_CHARS = 4096

# aiohttp's server options, set explicitly rather than trusting defaults (aiohttp keeps an
# idle connection for an hour). In the aiohttp we require (pyproject.toml) the keep-alive
# timer also runs from the moment a connection opens, and fires unless a whole request
# head has arrived, so a client that sends its headers a byte at a time (slowloris) is cut
# off after `keepalive_timeout` too; tests/test_http.py checks that it does.
SERVER_LIMITS: dict[str, float | int] = {
    "keepalive_timeout": 15.0,  # idle keep-alive, and the time to send a request head
    "max_line_size": 8190,  # request line (method, path, query) and one header line
    "max_field_size": 8190,
    "max_headers": 64,
    "lingering_time": 2.0,  # reading a refused body before closing
}


@web.middleware
async def edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """All that every request meets, in one middleware (each layer costs an await per
    request): a CORS preflight answered for public paths, the config pinned for the
    handler (web.runtime.CONFIG), an overlong query refused, errors made JSON
    (web.middleware), security headers, and CORS headers on public reads (errors and 304s
    included) but never on admin actions."""
    public = request.path.startswith(PUBLIC_PREFIXES)
    method = request.method
    if public and method == "OPTIONS":
        found = request.match_info.http_exception
        if found is None or found.status != 404:  # the path exists: approve reads of it
            return web.Response(status=204, headers=PREFLIGHT)
    request[CONFIG] = request.app[RUNTIME].config
    try:
        size = len(request.rel_url.raw_query_string)
        if size > MAX_QUERY_CHARS:
            raise BadParameter(f"query string: {size} characters; at most {MAX_QUERY_CHARS}")
        response = await handler(request)
    except Exception as exc:
        response = error_response(request, exc)
    headers = response.headers
    for key, value in SECURITY_HEADERS.items():
        headers.setdefault(key, value)
    if public and method in READ_METHODS:
        for key, value in CORS.items():
            headers.setdefault(key, value)
    return response
