"""Recognise anti-bot walls: a 412, or a JavaScript/cookie challenge page. PURE.

Chinese hosting WAFs (云锁 yunsuo, 安全狗 safedog, 加速乐 jiasule, 瑞数, Aliyun) and
Cloudflare answer a crawler with a small HTML page that sets a cookie from JavaScript
and reloads, sometimes with status 200. Reported as `anti_bot` rather than "not a feed",
the admin knows to ask the site for an exception instead of fixing a URL.
"""

from __future__ import annotations

import re

# Names only challenge pages carry: a real list page or feed never contains these.
_WAF_MARKERS = (
    b"__jsl_clearance",  # 加速乐 / 知道创宇
    b"__jsluid",
    b"yunsuo_session_verify",  # 云锁
    b"safedog",  # 安全狗
    b"acw_sc__v2",  # Aliyun WAF
    b"_waf_bd8ce2ce37",  # Aliyun
    b"cf-chl",  # Cloudflare
    b"cf_chl_opt",
    b"challenge-platform",
    b"just a moment...",
    b"checking your browser",
    b"jiasule",
)
# Looser words, believed only on a status that already says "refused".
_REFUSAL_MARKERS = (
    b"captcha",
    b"challenge",
    b"access denied",
    "验证码".encode(),  # verification code
    "人机验证".encode(),  # human check
    "验证码".encode("gb18030"),
    "人机验证".encode("gb18030"),
)

_SETS_COOKIE = re.compile(rb"document\.cookie\s*=", re.I)
_RELOADS = re.compile(
    rb"location\.reload|location\.href\s*=|location\.replace|window\.location\s*=", re.I
)
_FEED_ROOT = re.compile(rb"<(rss|feed|rdf:RDF)[\s>]", re.I)
CHALLENGE_MAX = 32 * 1024  # a challenge page is small; a news page is not


def challenge(status: int, body: bytes) -> str | None:
    """Why this response is an anti-bot wall, or None.

    `body` may be only the first few KB (error answers are peeked, not read).
    """
    if status == 412:
        return "HTTP 412: the site's firewall refused the request (anti-bot)"
    head = body[:CHALLENGE_MAX].lower()
    if status == 200:
        if len(body) > CHALLENGE_MAX or _FEED_ROOT.search(body[:4096]):
            return None
        if any(m in head for m in _WAF_MARKERS):
            return "HTTP 200 with a JavaScript/cookie challenge page instead of content"
        if _SETS_COOKIE.search(head) and _RELOADS.search(head) and len(_visible(head)) < 200:
            return "HTTP 200 with a page that sets a cookie by script and reloads (challenge)"
        return None
    if status in (403, 503, 521, 523) and (
        any(m in head for m in _WAF_MARKERS)
        or any(m in head for m in _REFUSAL_MARKERS)
        or (_SETS_COOKIE.search(head) and _RELOADS.search(head))
    ):
        return f"HTTP {status} with a challenge page: blocked by an anti-bot check"
    return None


_TAGS = re.compile(rb"<script.*?</script>|<style.*?</style>|<[^>]*>", re.S | re.I)


def _visible(html: bytes) -> bytes:
    """The page's text without scripts, styles and tags (a challenge has almost none)."""
    return b"".join(_TAGS.sub(b" ", html).split())
