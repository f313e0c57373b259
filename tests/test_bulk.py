"""store.bulk writes rows that read back exactly as rows written through SQLAlchemy's types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from aggregator.store import Store, bulk
from aggregator.store.tables import ENTRIES, FEED_MEMBERS, STORY_BANDS

SHANGHAI = timezone(timedelta(hours=8))
WHEN = datetime(2026, 11, 27, 8, 30, 0, tzinfo=SHANGHAI)  # no microseconds: the edge case


def entry(key: str, **over: object) -> dict[str, object]:
    values: dict[str, object] = {
        "source_id": "feixian-news",
        "key": key,
        "story_id": 7,
        "guid": None,
        "link": f"http://www.feixian.gov.cn/{key}.html",
        "link_hash": None,
        "guid_hash": None,
        "title": "费县“山楂节”开幕 'quoted' \\ back",
        "title_hash": None,
        "summary": "<p>摘要</p>",
        "content": "",
        "text": "正文",
        "author": None,
        "categories": ["时政", "经济"],
        "channels": [],
        "channel_rules": {"politics": "keyword 会议"},
        "origin": None,
        "image": None,
        "enclosures": [["http://x.example.cn/a.mp3", "audio/mpeg", 12]],
        "published": WHEN,
        "precision": "datetime",
        "updated_at": WHEN + timedelta(microseconds=5),
        "content_hash": "h",
        "page_canonical": None,
        "first_seen": WHEN,
        "merged_by": None,
    }
    values.update(over)
    return values


@pytest.fixture
def store(db_url: str):
    s = Store(db_url)
    yield s
    s.close()


def test_rows_read_back_as_sqlalchemy_writes_them(store: Store) -> None:
    cols = tuple(entry("a"))
    merged = {"rule": "link", "entry": 1}
    with store.engine.begin() as conn:
        conn.execute(insert(ENTRIES), [entry("orm", merged_by=merged)])
        got = bulk.insert(
            conn,
            ENTRIES,
            cols,
            [tuple(entry(k, merged_by=merged).values()) for k in ("b1", "b2")],
            returning=("id", "key"),
        )
    assert sorted(k for _, k in got) == ["b1", "b2"]
    with store.engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(ENTRIES))}
    orm, mine = rows["orm"]._asdict(), rows["b1"]._asdict()
    for name in ("id", "key", "link"):
        orm.pop(name), mine.pop(name)
    assert mine == orm
    assert rows["b1"].published == WHEN.astimezone(UTC)


def test_times_compare_in_sql_as_sqlalchemy_writes_them(store: Store) -> None:
    """Range scans over times written by both paths (SQLite compares text)."""
    with store.engine.begin() as conn:
        conn.execute(
            insert(STORY_BANDS),
            [{"band_key": 1, "published": WHEN, "entry_id": 1, "story_id": 1}],
        )
        bulk.insert(
            conn,
            STORY_BANDS,
            ("band_key", "published", "entry_id", "story_id"),
            [(1, WHEN, 2, 2), (1, WHEN + timedelta(microseconds=1), 3, 3), (1, WHEN, 1, 9)],
            on_conflict="DO NOTHING",  # (1, WHEN, 1) is there already
        )
    b = STORY_BANDS.c
    with store.engine.connect() as conn:
        same = conn.execute(select(b.entry_id).where(b.published == WHEN)).scalars().all()
        later = conn.execute(select(b.entry_id).where(b.published > WHEN)).scalars().all()
        first = conn.scalar(select(b.story_id).where(b.entry_id == 1))
    assert sorted(same) == [1, 2] and later == [3] and first == 1


def test_many_rows_go_out_in_chunks(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(bulk, "MAX_PARAMS", 30)
    monkeypatch.setattr(bulk, "PG_ROWS", 7)
    rows = [(f"region:r{i}", i, WHEN) for i in range(50)]
    with store.engine.begin() as conn:
        bulk.insert(conn, FEED_MEMBERS, ("feed_key", "story_id", "published"), rows)
        assert bulk.insert(conn, FEED_MEMBERS, ("feed_key", "story_id", "published"), []) == []
    with store.engine.connect() as conn:
        assert len(conn.execute(select(FEED_MEMBERS)).all()) == 50


def test_naive_times_are_refused(store: Store) -> None:
    with store.engine.begin() as conn, pytest.raises(ValueError, match="naive"):
        bulk.insert(
            conn,
            FEED_MEMBERS,
            ("feed_key", "story_id", "published"),
            [("region:x", 1, datetime(2026, 1, 1))],
        )


NASTY = [
    "",
    " ",
    "NULL",
    "null",
    '"',
    "\\",
    '\\"',
    "{a,b}",
    "a, b",
    "}{",
    "行\n换\t表",
    "表情😀",
    "'",
]


def test_awkward_values_read_back_as_written(store: Store) -> None:
    """Array literals (PostgreSQL) and placeholders (SQLite) keep every character."""
    cols = tuple(entry("a"))
    rows = [
        tuple(
            entry(
                f"k{i}",
                title=text,
                summary=text,
                author=None if i % 2 else text,
                categories=[text, "x"],
                channel_rules={text: text},
                published=WHEN + timedelta(microseconds=i),
                merged_by={"rule": text},
            ).values()
        )
        for i, text in enumerate(NASTY)
    ]
    with store.engine.begin() as conn:
        bulk.insert(conn, ENTRIES, cols, rows)
    with store.engine.connect() as conn:
        got = {r.key: r for r in conn.execute(select(ENTRIES))}
    for i, text in enumerate(NASTY):
        r = got[f"k{i}"]
        assert (r.title, r.summary, r.author) == (text, text, None if i % 2 else text)
        assert r.categories == [text, "x"] and r.channel_rules == {text: text}
        assert r.merged_by == {"rule": text}
        assert r.published == WHEN + timedelta(microseconds=i)


def test_array_literals() -> None:
    assert bulk.pg_ints([1, None, -3]) == "{1,NULL,-3}"
    assert bulk.pg_texts(['a"b', "c\\d", None, ""]) == '{"a\\"b","c\\\\d",NULL,""}'
    assert bulk.pg_times([WHEN, None]) == "{2026-11-27T08:30:00+08:00,NULL}"
    with pytest.raises(ValueError, match="naive"):
        bulk.pg_times([datetime(2026, 1, 1)])


def test_update_sets_columns_by_key(store: Store) -> None:
    cols = tuple(entry("a"))
    with store.engine.begin() as conn:
        ids = dict(
            (k, i)
            for i, k in bulk.insert(
                conn, ENTRIES, cols, [tuple(entry(k).values()) for k in ("u1", "u2", "u3")],
                returning=("id", "key"),
            )
        )  # fmt: skip
        later = WHEN + timedelta(hours=1, microseconds=7)
        bulk.update(
            conn,
            ENTRIES,
            "id",
            ("title", "published", "channel_rules", "author"),
            [
                (ids["u1"], '新"标题\\', later, {"economy": "源"}, None),
                (ids["u3"], "三", WHEN, {}, "x"),
            ],
        )
        bulk.update(conn, ENTRIES, "id", ("title",), [])
    with store.engine.connect() as conn:
        got = {r.key: r for r in conn.execute(select(ENTRIES))}
    assert (got["u1"].title, got["u1"].published) == ('新"标题\\', later)
    assert got["u1"].channel_rules == {"economy": "源"} and got["u1"].author is None
    assert (got["u3"].title, got["u3"].author, got["u3"].channel_rules) == ("三", "x", {})
    assert got["u2"].title == entry("u2")["title"]  # untouched
