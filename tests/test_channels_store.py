"""Channel rules that look in summaries, applied again to stored articles (reclassify)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from aggregator.model import Channel, FeedQuery, FeedScope
from aggregator.store import Store
from aggregator.store.tables import ENTRIES
from tests import test_store
from tests.factories import NOW, article, site_config
from tests.test_store import save

store = test_store.store  # a store on each database, sources synced


def test_reclassify_reads_summaries_where_a_channel_asks(store: Store) -> None:
    stored = article(
        "feixian-news", 1, title="文化广场热闹非凡", summary="<p>非遗传承人现场展示剪纸技艺</p>"
    )
    save(store, "feixian-news", [replace(stored, channels=(), channel_rules=())])
    site = site_config().site
    culture = Channel("culture", "文旅", keywords=("非遗",), match=("title", "summary"))
    site = replace(site, channels=(*site.channels, culture))
    store.configure(site)
    done = store.reclassify(site, NOW)
    assert (done.entries, done.changed) == (1, 1)
    with store.engine.connect() as conn:
        rules = conn.scalar(select(ENTRIES.c.channel_rules))
    assert rules == {"culture": "keyword:非遗 in summary"}
    items, _ = store.read_page(FeedQuery(FeedScope("channel", channel="culture")), "x")
    assert [i.title for i in items] == ["文化广场热闹非凡"]
