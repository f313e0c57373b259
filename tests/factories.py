"""Small builders for tests: a Site from YAML text, Articles with sensible defaults."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from aggregator.config import LoadedConfig, load_text
from aggregator.model import Article, DatePrecision, PollResult, PollStatus
from aggregator.normalise.identity import digest
from aggregator.normalise.urls import canonical

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

SITE_YAML = """\
site:
  title: 临沂新闻聚合
  base_url: http://news.example.org
  timezone: Asia/Shanghai
defaults:
  interval: 1m
  timeout: 5s
  allow_private_networks: true
  per_host: 8
  host_gap: 0s
channels:
  - id: politics
    title: 时政
    keywords: [会议, 干部, 党委]
  - id: economy
    title: 经济
    keywords: [企业, 项目, 招商]
regions:
  - id: shandong
    title: 山东
    regions:
      - id: linyi
        title: 临沂市
        sources:
          - id: linyi-daily
            title: 临沂日报
            url: {origin}/feeds/syndicated_b.xml
        regions:
          - id: feixian
            title: 费县
            sources:
              - id: feixian-news
                title: 费县新闻网
                url: {origin}/feeds/rss20_utf8.xml
              - id: feixian-syn
                url: {origin}/feeds/syndicated_a.xml
              - id: feixian-gov
                url: {origin}/feeds/atom.xml
                channels: [politics]
          - id: mengyin
            title: 蒙阴县
            sources:
              - id: mengyin-rb
                title: 蒙阴报
                url: {origin}/feeds/rss20_gbk_naive.xml
          - id: lanling
            title: 兰陵县
            sources:
              - id: lanling-tv
                url: {origin}/feeds/rss10.rdf
              - id: lanling-bad
                url: {origin}/feeds/malformed.xml
              - id: lanling-down
                url: {origin}/down
"""


def site_config(origin: str = "http://origin.example", text: str = SITE_YAML) -> LoadedConfig:
    return load_text(textwrap.dedent(text).replace("{origin}", origin), "feeds.yaml")


def article(source_id: str = "feixian-news", n: int = 1, **changes: Any) -> Article:
    link = changes.pop("link", f"http://www.feixian.example.cn/news/{n}.html")
    base = Article(
        source_id=source_id,
        key="g" + digest(source_id, str(n)),
        link=link,
        title=f"费县召开第{n}次招商引资工作会议",
        summary=f"<p>摘要 {n}</p>",
        content="",
        author=None,
        categories=(),
        published=NOW - timedelta(hours=n),
        precision=DatePrecision.DATETIME,
        channels=("politics",),
        content_hash=digest("v1", source_id, str(n)),
        guid=f"guid-{n}",
        canonical_link=canonical(link),
        text=f"摘要 {n}",
    )
    return replace(base, **changes)


def poll_result(source_id: str, status: PollStatus = PollStatus.OK, **changes: Any) -> PollResult:
    values: dict[str, Any] = {
        "source_id": source_id,
        "status": status,
        "started": NOW,
        "duration": 0.1,
        "next_poll_at": NOW + timedelta(minutes=15),
    }
    values.update(changes)
    return PollResult(**values)


def store_articles(store: Any, source_id: str, articles: Any, now: datetime = NOW) -> Any:
    """Store articles as if `source_id` had just been polled; returns the IngestStats."""
    from aggregator.store import SourceUpdate

    store.set_flags(source_id, next_poll_at=now - timedelta(seconds=1))
    claims = store.claim_due(now, 1, "test", timedelta(minutes=2), only=[source_id])
    assert [c.source_id for c in claims] == [source_id]
    return store.save_poll(claims[0], poll_result(source_id, started=now), SourceUpdate(), articles)


def web_runtime(store: Any, config: LoadedConfig | None = None) -> Any:
    """A server's Runtime over a store, with the test site (or `config`)."""
    from aggregator.web.runtime import Runtime

    return Runtime(config=config or site_config(), store=store, loaded_at=NOW)
