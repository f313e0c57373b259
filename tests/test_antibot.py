"""fetch.antibot: challenge pages are told apart from feeds and ordinary pages."""

from __future__ import annotations

import pytest

from aggregator.fetch.antibot import challenge
from tests import faults as f

ANALYTICS_PAGE = (
    b"<html><head><script>var _hmt=_hmt||[];document.cookie='visited=1';"
    b"if(!x){location.href='/m/'}</script></head><body>"
    + "".join(f"<p>费县第{i}条新闻：乡村振兴工作推进会召开</p>" for i in range(60)).encode()
    + b"</body></html>"
)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (412, b""),
        (200, f.JS_CHALLENGE),
        (503, f.CLOUDFLARE_503),
        (403, f.SAFEDOG_403),
        (403, "<html><body>请输入验证码</body></html>".encode("gbk")),
        (200, b"<html><script>document.cookie='a=1';location.reload()</script></html>"),
    ],
)
def test_challenges_are_recognised(status, body) -> None:
    assert challenge(status, body)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, f.rss(["document.cookie 与 location.href 的安全问题 captcha"])),  # a feed about it
        (200, ANALYTICS_PAGE),  # a real page that happens to set a cookie by script
        (200, f.HTML_PORTAL),
        (403, b"<html><body>Forbidden</body></html>"),
        (503, b"Service Unavailable"),
        (500, f.CLOUDFLARE_503),  # a 500 is a server error whatever it says
        (429, b"captcha"),  # rate limiting, honoured through Retry-After instead
    ],
)
def test_ordinary_answers_are_not_challenges(status, body) -> None:
    assert challenge(status, body) is None
