"""Time article extraction on large and pathological pages (run by hand, not in CI).

Usage: python bench/article_extract.py
"""

from __future__ import annotations

import time

from aggregator.poller.work import ArticleJob, digest_article

SENTENCE = "今年以来，费县坚持把招商引资作为经济工作的一号工程，围绕木业开展精准招商。"
RELATED = "<li><a href='/x.html'>费县召开全县安全生产工作会议</a><span>2018-10-20</span></li>"
PAGES = {
    "1.6 MB: 3000 paragraphs, 5000 related links": (
        "<html><body><div class=nav>" + "<a href=/>首页</a>" * 50 + "</div><div id=zoom>"
        + f"<p>{SENTENCE * 3}</p>" * 3000 + "</div><ul class=related>" + RELATED * 5000
        + "</ul></body></html>"
    ),
    "3000 nested divs with text": (
        "<html><body>" + f"<div>{SENTENCE}" * 3000 + "</div>" * 3000 + "</body></html>"
    ),
}  # fmt: skip


def main() -> None:
    for name, page in PAGES.items():
        started = time.perf_counter()
        out = digest_article(ArticleJob(page.encode(), "http://fx.example.cn/1.html", None))
        took = time.perf_counter() - started
        print(f"{name}: ok={out.ok} chars={len(out.text)} {took:.2f}s")


if __name__ == "__main__":
    main()
