"""Links: absolute, without tracking parameters, and a canonical form for identity. PURE."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote_plus, unquote_plus, unquote_to_bytes, urljoin, urlsplit, urlunsplit

_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "_hs")
_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "spm",
        "share_token",
        "isappinstalled",
        "wxfrom",
        "clicktime",
        "enterid",
        "scene",
        "sharer_shareinfo",
        "sharer_shareinfo_first",
        "ref_src",
        "ref_url",
        "_ga",
        "_gl",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
    }
)
# `from=` is a tracker only with WeChat's share values; elsewhere it may select content.
_WECHAT_FROM = frozenset({"singlemessage", "groupmessage", "timeline"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE_SCHEMES = ("http", "https")
_WRAP = re.compile(r"[ \t\u3000]*[\r\n][\s\u3000]*|\t")  # a line break and its indent


def is_tracking(name: str, value: str) -> bool:
    low = name.lower()
    if low.startswith(_TRACKING_PREFIXES) or low in _TRACKING:
        return True
    return low == "from" and value.lower() in _WECHAT_FROM


# The functions below are pure and cached: a feed repeats its base and links in every
# poll, and each costs several urllib parses.


@lru_cache(maxsize=8192)
def absolute(url: str | None, base: str | None) -> str | None:
    """Resolve a link against its base; None unless the result is http(s)."""
    if not url:
        return None
    # A link wrapped over lines is joined; a space inside it is %20, as browsers send it.
    if "\n" in url or "\r" in url or "\t" in url:  # what every _WRAP match holds
        url = _WRAP.sub("", url)
    url = url.strip().replace(" ", "%20")
    if not url:
        return None
    try:
        out = urljoin(base or "", url)
        parts = urlsplit(out)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname:
        return None
    return out


def strip_tracking(url: str) -> str:
    """Drop utm_* and similar parameters, keeping everything else as it was."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    # Raw segments are kept byte for byte: decoding them as UTF-8 would mangle the
    # GBK-encoded values many Chinese sites put in their query strings.
    fields = parts.query.split("&")
    kept = [f for f in fields if f and not _tracking_field(f)]
    if len(kept) == len(fields):
        return url
    return urlunsplit(parts._replace(query="&".join(kept)))


def _tracking_field(field: str) -> bool:
    name, _, value = field.partition("=")
    return is_tracking(unquote_plus(name), unquote_plus(value))


def _unform(part: str) -> bytes:
    """The bytes a query name or value stands for, whatever charset they are in."""
    return unquote_to_bytes(part.replace("+", " "))


@lru_cache(maxsize=4096)
def clean_link(url: str | None, base: str | None) -> str | None:
    """The link readers follow: absolute, tracking parameters removed."""
    out = absolute(url, base)
    return strip_tracking(out) if out else None


@lru_cache(maxsize=4096)
def canonical(url: str) -> str:
    """An identity form: case, default port, fragment, trailing slash and trackers ignored."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    fields = sorted(
        (_unform(name), _unform(value))
        for name, _, value in (f.partition("=") for f in parts.query.split("&") if f)
        if not is_tracking(unquote_plus(name), unquote_plus(value))
    )
    # One spelling per byte string (as urlencode writes UTF-8), sorted by the bytes.
    query = "&".join(f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in fields)
    # http and https copies of one page are one page.
    return urlunsplit(("https" if scheme in _SAFE_SCHEMES else scheme, netloc, path, query, ""))
