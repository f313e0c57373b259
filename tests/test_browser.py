"""What a person sees, in headless Chromium: the index, a region page on a phone, and a
page of another site embedding both widgets.

The browser is Debian's (`chromium` and `chromium-driver`, installed by .ci/run) driven by
selenium; nothing is downloaded. Without it these tests skip with the reason, unless
AGGREGATOR_REQUIRE_BROWSER=1 (set by .ci/run), which makes that a failure.

One service for the module: an origin serves fixture feeds plus a hostile one whose
title and summary carry <script> and <img onerror>; the real service polls it and serves
on a loopback port; a second server on another port (another origin) is the host site.
Any script from a feed would set `window.__pwned`, which must stay undefined.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import textwrap
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

from aggregator.config import load_text
from aggregator.service import open_parts
from aggregator.settings import Settings
from aggregator.web.app import make_app, start_site
from tests.origin import Origin

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--window-size=1280,900",
)
WAIT = 10  # seconds a page may take to show what is awaited (a bound, not a timing)

EVIL_TITLE = '<script>window.__pwned="title"</script>费县警示<img src=x onerror="window.__pwned=1">'

CONFIG = """\
site:
  title: 临沂新闻聚合
  base_url: {base}
defaults:
  interval: 15m
  allow_private_networks: true
  per_host: 4
  host_gap: 0s
channels:
  - id: politics
    title: 时政
    keywords: [会议, 警示]
regions:
  - id: linyi
    title: 临沂市
    regions:
      - id: feixian
        title: 费县
        sources:
          - id: feixian-news
            title: 费县新闻网
            url: {origin}/feeds/rss20_utf8.xml
          - id: feixian-evil
            title: 费县<b>论坛</b>
            url: {origin}/evil.xml
      - id: mengyin
        title: 蒙阴县
        sources:
          - id: mengyin-rb
            title: 蒙阴报
            url: {origin}/feeds/rss20_gbk_naive.xml
"""


def hostile_feed(now: datetime) -> bytes:
    """An RSS item whose title is text that looks like markup, and a summary that is markup."""
    title = EVIL_TITLE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return textwrap.dedent(
        f"""\
        <?xml version="1.0" encoding="utf-8"?>
        <rss version="2.0"><channel><title>论坛</title><link>http://bbs.example.cn/</link>
        <item>
          <title>{title}</title>
          <link>http://bbs.example.cn/t/1.html</link>
          <description><![CDATA[<p>正文<script>window.__pwned="summary"</script>
            <img src="x" onerror="window.__pwned='img'">
            &lt;script&gt;window.__pwned=2&lt;/script&gt;</p>]]></description>
          <pubDate>{format_datetime(now - timedelta(hours=1))}</pubDate>
        </item>
        <item>
          <title>县委召开会议</title>
          <link>javascript:window.__pwned='link'</link>
          <pubDate>{format_datetime(now - timedelta(hours=2))}</pubDate>
        </item>
        </channel></rss>
        """
    ).encode()


def host_page(service: str, *, widgets: bool = True) -> str:
    """Another site's page: an iframe widget and two embed.js widgets (one with no target)."""
    scripts = textwrap.dedent(
        f"""\
        <div id="news"></div>
        <script src="{service}/embed.js" data-feed="{service}/feeds/region/feixian.json"
                data-target="news" data-limit="5" data-summary="1" async></script>
        <section id="second"><script src="{service}/embed.js?v=2" async
            data-feed="/feeds/channel/politics.json" data-window="_top"></script></section>
        """
    )
    return textwrap.dedent(
        f"""\
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Partner site</title></head>
        <body><h1>Partner site</h1>
        <iframe id="frame" src="{service}/embed/region/feixian?limit=5&amp;summary=1&amp;theme=dark"
                title="费县新闻" width="600" height="400"></iframe>
        {scripts if widgets else ""}
        </body></html>
        """
    )


def browser_unavailable() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Loop:
    """An event loop on its own thread, for servers that live as long as the module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class Sites:
    service: str  # the aggregator, http://127.0.0.1:PORT
    host: str  # another origin that embeds it


@pytest.fixture(scope="module")
def sites(tmp_path_factory) -> Iterator[Sites]:
    loop = Loop()
    stack = contextlib.AsyncExitStack()
    port, host_port = _free_port(), _free_port()
    service = f"http://127.0.0.1:{port}"

    async def start() -> None:
        origin = Origin()
        await origin.start()
        stack.push_async_callback(origin.close)
        origin.set(
            "/evil.xml",
            body=hostile_feed(datetime.now(UTC)),
            content_type="application/rss+xml; charset=utf-8",
        )
        text = CONFIG.format(base=service, origin=origin.url("").rstrip("/"))
        config = load_text(text, "feeds.yaml")
        db = tmp_path_factory.mktemp("browser") / "agg.db"
        settings = Settings(db=f"sqlite:///{db}", workers=0, concurrency=4)
        parts = await stack.enter_async_context(open_parts(settings, config, poll=True))
        assert parts.poller is not None
        await parts.poller.run_once()
        runner = await start_site(make_app(parts.runtime), "127.0.0.1", port)
        stack.push_async_callback(runner.cleanup)

        async def page(request: web.Request) -> web.Response:
            text = host_page(service, widgets=request.path != "/plain")
            return web.Response(text=text, content_type="text/html")

        host = web.Application()
        host.router.add_get("/", page)
        host.router.add_get("/plain", page)
        host_runner = web.AppRunner(host)
        await host_runner.setup()
        await web.TCPSite(host_runner, "127.0.0.1", host_port).start()
        stack.push_async_callback(host_runner.cleanup)

    try:
        loop.run(start())
        yield Sites(service, f"http://127.0.0.1:{host_port}")
    finally:
        loop.run(stack.aclose())
        loop.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    why = browser_unavailable()
    if why is not None:
        if os.environ.get("AGGREGATOR_REQUIRE_BROWSER") == "1":
            pytest.fail(why + " (AGGREGATOR_REQUIRE_BROWSER=1)")
        pytest.skip(why)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="aggregator-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(driver: Any, url: str, size: tuple[int, int] = (1280, 900)) -> None:
    driver.get_log("browser")  # drop what earlier pages logged
    driver.set_window_size(*size)
    driver.get(url)


def problems(driver: Any, service: str) -> list[str]:
    """Console errors worth failing on: CSP violations, script errors, our own 4xx/5xx.

    Images in article summaries point at the sources' hosts, which do not answer here;
    those failed loads are the only errors a page may log.
    """
    out = []
    for entry in driver.get_log("browser"):
        message = entry["message"]
        if entry["level"] != "SEVERE":
            continue
        if "Failed to load resource" in message and not message.startswith(service):
            continue
        out.append(message)
    return out


def texts(driver: Any, css: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]


def wait_for(driver: Any, css: str) -> None:
    """Until the page has an element for `css` (asked with plain DOM calls, which, unlike
    selenium's visibility atoms, leave no helper names on the page's window)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, WAIT).until(
        lambda d: d.execute_script("return document.querySelector(arguments[0]) !== null", css)
    )


def pwned(driver: Any) -> Any:
    return driver.execute_script("return window.__pwned")


# Text contrast as WCAG 2 defines it, for every visible element that holds text.
CONTRAST_JS = """
function lum(rgb) {
  const c = rgb.slice(0, 3).map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function rgba(s) {
  const m = s.match(/[\\d.]+/g).map(Number);
  return m.length === 3 ? [...m, 1] : m;
}
function background(el) {
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) return c;
  }
  return [255, 255, 255, 1];
}
const bad = [];
for (const el of document.body.querySelectorAll('*')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const box = el.getBoundingClientRect();
  if (!own || box.width === 0 || box.height === 0 || box.right < 0) continue;
  const fg = lum(rgba(getComputedStyle(el).color)), bg = lum(background(el));
  const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  const what = el.textContent.trim().slice(0, 30);
  if (ratio < 4.5) bad.push(el.tagName + ' ' + ratio.toFixed(2) + ' ' + what);
}
return bad;
"""


# ---------------------------------------------------------------- the tests


def test_index_shows_regions_channels_subscribe_links_and_headlines(browser, sites) -> None:
    open_page(browser, sites.service + "/")
    assert browser.title == "临沂新闻聚合"
    assert texts(browser, "h1") == ["临沂新闻聚合"]
    assert texts(browser, "main h2") == ["地区", "频道"]
    assert texts(browser, "li.region > h3") == ["临沂市", "费县", "蒙阴县"]
    assert texts(browser, "li.channel > h3") == ["时政"]
    feixian = texts(browser, "li.region li.region:first-child > .subscribe")[0]
    assert feixian == "订阅：RSS · Atom · JSON Feed"
    headlines = texts(browser, "li.region li.region:first-child > ul.headlines > li > a")
    assert len(headlines) == 5 and EVIL_TITLE in headlines  # the title shows as text
    assert "费县“山楂&蜜桃”产销对接会举行 签约金额3.2亿元" in texts(browser, "ul.headlines a")
    assert pwned(browser) is None
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    assert browser.execute_script(CONTRAST_JS) == []
    assert problems(browser, sites.service) == []


def test_region_page_reads_well_on_a_phone(browser, sites) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    open_page(browser, sites.service + "/region/feixian", size=(390, 844))
    width = browser.execute_script("return window.innerWidth")
    assert width <= 400
    # Nothing wider than the screen: no sideways scrolling.
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    assert texts(browser, "h1") == ["费县"]
    titles = texts(browser, "ol.articles > li h3")
    assert titles[0] == EVIL_TITLE and len(titles) == 8
    first = browser.find_element(By.CSS_SELECTOR, "ol.articles > li")
    assert first.find_element(By.CSS_SELECTOR, ".source").text == "费县<b>论坛</b>"
    assert first.find_element(By.CSS_SELECTOR, "h3 a").get_attribute("href") == (
        "http://bbs.example.cn/t/1.html"
    )
    # The summary's markup was cleaned; what looked like a tag in its text is text.
    summary = first.find_element(By.CSS_SELECTOR, ".summary").text
    assert "<script>window.__pwned=2</script>" in summary
    assert not first.find_elements(By.CSS_SELECTOR, ".summary script, .summary img[onerror]")
    assert texts(browser, "ol.articles > li .meta time")[0].count(":") == 1
    assert texts(browser, "a[rel=next]") == [] and "方式一：iframe" in texts(browser, "h3")
    assert pwned(browser) is None
    # The skip link is the first stop of the keyboard and comes into view.
    ActionChains(browser).send_keys(Keys.TAB).perform()
    active = browser.switch_to.active_element
    assert active.text == "跳到正文" and active.rect["x"] >= 0
    assert browser.execute_script(CONTRAST_JS) == []
    assert problems(browser, sites.service) == []


def test_another_site_shows_both_widgets_and_no_feed_script_runs(browser, sites) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, sites.host + "/plain")
    wait_for(browser, "iframe")  # the same driver calls as below, which leave names of their own
    plain_globals = set(browser.execute_script("return Object.getOwnPropertyNames(window)"))

    open_page(browser, sites.host + "/")
    wait_for(browser, "#news ul.aggregator-embed-list li")
    wait_for(browser, "#second .aggregator-embed-list li")
    # No names left on the host's window by the two widgets.
    names = set(browser.execute_script("return Object.getOwnPropertyNames(window)"))
    assert names - plain_globals == set()
    news = browser.find_element(By.ID, "news")
    links = news.find_elements(By.CSS_SELECTOR, "li > a")
    assert links[0].text == EVIL_TITLE and len(links) == 5
    assert {a.get_attribute("href").split(":")[0] for a in links} == {"http"}
    assert {a.get_attribute("target") for a in links} == {"_blank"}
    assert "<script>window.__pwned=2</script>" in news.text  # summary, as text
    assert not news.find_elements(By.CSS_SELECTOR, "script, img, b")
    # The second widget: no target (placed before its script), a relative feed URL,
    # links opening in the top window; the javascript: link was dropped.
    second = browser.find_elements(By.CSS_SELECTOR, "#second .aggregator-embed-list li > a")
    assert {a.get_attribute("target") for a in second} == {"_top"}
    assert all(a.get_attribute("href").startswith("http") for a in second)
    more = browser.find_element(By.CSS_SELECTOR, "#second .aggregator-embed-more a")
    assert more.get_attribute("href") == sites.service + "/channel/politics"
    assert pwned(browser) is None  # nothing from the feed ran

    browser.switch_to.frame(browser.find_element(By.ID, "frame"))
    try:
        wait_for(browser, "ol.headlines li")
        frame_links = browser.find_elements(By.CSS_SELECTOR, "ol.headlines li > a")
        assert frame_links[0].text == EVIL_TITLE and len(frame_links) == 5
        assert browser.execute_script("return document.documentElement.className") == "theme-dark"
        assert texts(browser, "h1") == ["费县"]
        assert pwned(browser) is None
        assert browser.execute_script(CONTRAST_JS) == []
    finally:
        browser.switch_to.default_content()
    assert problems(browser, sites.service) == []


def test_a_bad_embed_url_shows_its_reason_inside_the_frame(browser, sites) -> None:
    open_page(browser, sites.service + "/embed/region/feixian?theme=blue")
    assert texts(browser, "h1") == ["地址中的参数有误"]
    assert "theme" in texts(browser, "code")[0]
    # The server said 400; the browser logs that, and nothing else.
    assert [p for p in problems(browser, sites.service) if "400" not in p] == []
