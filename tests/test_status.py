"""`aggregator status` (table, sorting, region filter, JSON) and `aggregator reclassify`."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.cli import main
from aggregator.model import FeedQuery, FeedScope
from aggregator.normalise.channels import classify
from aggregator.store import SourceUpdate, Store
from tests.factories import NOW, SITE_YAML, article, poll_result, site_config

LEASE = timedelta(minutes=2)


@pytest.fixture
def health_db(db_url, tmp_path):
    """A database with sources in every state, and the feeds.yaml that describes them."""
    config = tmp_path / "feeds.yaml"
    config.write_text(SITE_YAML.replace("{origin}", "http://origin.example"), "utf-8")
    now = datetime.now(UTC)
    store = Store(db_url)
    try:
        store.sync_sources(site_config().site, now, random.Random(1))
        states = {
            "feixian-news": ("ok", 200, now - timedelta(minutes=10), 0),
            "feixian-gov": ("http_error", 500, now - timedelta(days=2), 3),
            "mengyin-rb": ("not_modified", 304, now - timedelta(hours=1), 0),
            "lanling-bad": ("parse_error", 200, None, 2),
        }
        for sid, (status, http, success, fails) in states.items():
            store.set_flags(
                sid,
                status=status,
                http_status=http,
                last_attempt_at=now - timedelta(minutes=1),
                last_success_at=success,
                consecutive_failures=fails,
                message="HTTP 500 Internal Server Error" if http == 500 else None,
            )
        store.set_flags("lanling-tv", paused=True)
        store.set_flags("mengyin-rb", effective_url="http://new.example/rss.xml")
    finally:
        store.close()
    return db_url, str(config)


def status_json(capsys, db: str, config: str, *args: str) -> list[dict]:
    assert main(["status", "--db", db, "--config", config, "--json", *args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"] == config and out["generated_at"].endswith("Z")
    return out["sources"]


def ids(records: list[dict]) -> list[str]:
    return [r["id"] for r in records]


def test_json_has_every_source_in_region_order(health_db, capsys):
    records = status_json(capsys, *health_db)
    assert ids(records) == [
        "linyi-daily",
        "feixian-gov",
        "feixian-news",
        "feixian-syn",
        "mengyin-rb",
        "lanling-bad",
        "lanling-down",
        "lanling-tv",
    ]
    news = next(r for r in records if r["id"] == "feixian-news")
    assert news["status"] == "ok" and 590 <= news["last_success_age_s"] <= 700
    assert news["region"] == "feixian" and news["in_config"] is True
    assert next(r for r in records if r["id"] == "lanling-tv")["paused"] is True


def test_sorting_by_status_and_by_age(health_db, capsys):
    by_status = ids(status_json(capsys, *health_db, "--sort", "status"))
    assert by_status[:2] == ["feixian-gov", "lanling-bad"]  # http_error, parse_error first
    by_age = status_json(capsys, *health_db, "--sort", "age")
    never = [r["id"] for r in by_age if r["last_success_age_s"] is None]
    assert ids(by_age)[: len(never)] == sorted(never)
    assert ids(by_age)[len(never) :] == ["feixian-gov", "mengyin-rb", "feixian-news"]
    assert ids(status_json(capsys, *health_db, "--sort", "id")) == sorted(by_status)


def test_region_filter_includes_the_regions_below(health_db, capsys):
    linyi = ids(status_json(capsys, *health_db, "--region", "linyi"))
    assert len(linyi) == 8
    assert ids(status_json(capsys, *health_db, "--region", "lanling")) == [
        "lanling-bad",
        "lanling-down",
        "lanling-tv",
    ]
    db, config = health_db
    assert main(["status", "--db", db, "--config", config, "--region", "narnia"]) == 2
    assert "unknown region 'narnia'" in capsys.readouterr().err


def test_the_table_is_coloured_on_a_terminal(health_db, capsys, monkeypatch):
    db, config = health_db
    assert main(["status", "--db", db, "--config", config, "--sort", "status"]) == 0
    plain = capsys.readouterr().out
    assert "\x1b[" not in plain  # piped: no escape codes
    assert "sorted by status" in plain
    assert plain.index("feixian-gov") < plain.index("feixian-news")
    assert "never" in plain and "paused" in plain and "HTTP 500" in plain
    assert "moved to http://new.example/rss.xml" in plain
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["status", "--db", db, "--config", config]) == 0
    coloured = capsys.readouterr().out
    assert "\x1b[1;31mhttp_error" in coloured and "\x1b[32mok" in coloured


def test_status_without_a_database_creates_none(tmp_path, capsys):
    db = tmp_path / "missing.db"
    assert main(["status", "--db", f"sqlite:///{db}", "--config", str(tmp_path / "x.yaml")]) == 1
    assert "no database" in capsys.readouterr().err
    assert not db.exists()


def test_status_with_a_broken_config_still_shows_the_database(health_db, capsys, tmp_path):
    db, _ = health_db
    broken = tmp_path / "broken.yaml"
    broken.write_text("site: [\n", "utf-8")
    assert (
        main(["status", "--db", db, "--config", str(broken), "--json", "--region", "feixian"]) == 0
    )
    captured = capsys.readouterr()
    assert "showing the database alone" in captured.err
    records = json.loads(captured.out)["sources"]
    assert ids(records) == ["feixian-gov", "feixian-news", "feixian-syn"]
    assert all(r["in_config"] is None for r in records)


# ------------------------------------------------------------------ reclassify


def save(store: Store, source_id: str, articles) -> None:
    store.set_flags(source_id, next_poll_at=NOW - timedelta(seconds=1))
    (claim,) = store.claim_due(NOW, 1, "t", LEASE, only=[source_id], include_new=True)
    store.save_poll(claim, poll_result(source_id), SourceUpdate(), articles, NOW)


def classified(site, source_id: str, n: int, title: str):
    rules = classify(title, (), site.sources[source_id].channels, site.channels)
    return article(
        source_id, n, title=title, channels=tuple(rules), channel_rules=tuple(rules.items())
    )


def page(store: Store, kind: str, **ids) -> set[str]:
    items, _ = store.read_page(FeedQuery(FeedScope(kind, **ids), limit=50), "tag:x,2024:story/")
    return {i.title for i in items}


def test_reclassify_applies_new_channel_rules_to_stored_articles(db_url, tmp_path, capsys):
    old = site_config().site
    titles = [
        "费县招商引资项目签约",
        "费县山楂丰收",
        "蒙阴蜜桃上市",
        "兰陵县召开干部会议",
        "费县企业座谈",
    ]
    store = Store(db_url)
    try:
        store.sync_sources(old, NOW, random.Random(1))
        save(
            store,
            "feixian-news",
            [
                classified(old, "feixian-news", i, t)
                for i, t in enumerate(titles[:2] + titles[4:], 1)
            ],
        )
        save(store, "mengyin-rb", [classified(old, "mengyin-rb", 10, titles[2])])
        save(store, "feixian-gov", [classified(old, "feixian-gov", 20, titles[3])])
        assert page(store, "channel", channel="economy") == {"费县企业座谈", "费县招商引资项目签约"}
    finally:
        store.close()

    # The admin edits the economy channel: 山楂 and 蜜桃 now, and 招商 excluded.
    text = SITE_YAML.replace(
        "keywords: [企业, 项目, 招商]", "keywords: [企业, 山楂, 蜜桃]\n    exclude: [招商]"
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(text.replace("{origin}", "http://origin.example"), "utf-8")
    assert main(["reclassify", "--config", str(config), "--db", db_url, "--batch", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("5 entries read, 3 changed channels; 3 stories re-filed")

    store = Store(db_url)
    try:
        store.configure(site_config(text=text).site)
        assert page(store, "channel", channel="economy") == {
            "费县企业座谈",
            "费县山楂丰收",
            "蒙阴蜜桃上市",
        }
        assert page(store, "region_channel", region="mengyin", channel="economy") == {
            "蒙阴蜜桃上市"
        }
        assert page(store, "channel", channel="politics") == {"兰陵县召开干部会议"}
    finally:
        store.close()
    assert main(["reclassify", "--config", str(config), "--db", db_url]) == 0
    assert capsys.readouterr().out.startswith("5 entries read, 0 changed channels; 0 stories")
