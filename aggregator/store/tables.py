"""The database schema: typed rows for SQLite and PostgreSQL alike. Declarations only.

A story is what a reader sees once; each source's copy of it is an entry. Feed reads
go through `feed_members`, one row per (feed, story) written at ingest, so reading a
region or channel feed is one index range scan whose cost grows with `limit`, not with
the number of stored articles.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE_SOURCES = "sources"
TABLE_ENTRIES = "entries"
TABLE_STORIES = "stories"
TABLE_FEED_MEMBERS = "feed_members"
TABLE_STORY_BANDS = "story_bands"
TABLE_FEED_CHANGES = "feed_changes"
TABLE_HOSTS = "hosts"
TABLE_TOMBSTONES = "tombstones"
TABLE_ENTRY_SEARCH = "entry_search"
TABLE_ARTICLE_PAGES = "article_pages"


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; naive UTC text on SQLite, timestamptz on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite rowid aliases need INTEGER


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class SourceRow(Base):
    """A source's polling state and health; kept when a source leaves feeds.yaml."""

    __tablename__ = TABLE_SOURCES

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    url: Mapped[str] = mapped_column(Text)  # as configured
    effective_url: Mapped[str | None] = mapped_column(Text)  # after a permanent redirect
    region: Mapped[str] = mapped_column(String(100), default="")
    name: Mapped[str] = mapped_column(String(300), default="")  # config title, else feed title
    feed_title: Mapped[str | None] = mapped_column(String(300))
    site_link: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10), default="feed")
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # still in feeds.yaml
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    gone: Mapped[bool] = mapped_column(Boolean, default=False)  # answered 410
    # conditional GET and unchanged-body detection
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    # scheduling
    interval_s: Mapped[float] = mapped_column(Float, default=900.0)
    next_poll_at: Mapped[datetime] = mapped_column()
    next_poll_reason: Mapped[str] = mapped_column(String(200), default="new")
    hint_floor_s: Mapped[float | None] = mapped_column(Float)  # the feed's ttl or sy:updatePeriod
    hint_reason: Mapped[str | None] = mapped_column(String(100))  # which of them, for admins
    retry_after: Mapped[datetime | None] = mapped_column()
    # leases: a poller owns a source while it polls it (see store.sources.claim_due)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_token: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_expires: Mapped[datetime | None] = mapped_column()
    # politeness across pollers: live leases per host are its requests in flight
    host: Mapped[str] = mapped_column(String(255), default="")  # of the effective URL
    per_host: Mapped[int] = mapped_column(Integer, default=1)
    host_gap_s: Mapped[float] = mapped_column(Float, default=1.0)
    # health
    status: Mapped[str | None] = mapped_column(String(30))
    message: Mapped[str | None] = mapped_column(Text)
    http_status: Mapped[int | None] = mapped_column(Integer)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    fetch_seconds: Mapped[float | None] = mapped_column(Float)
    bytes_last: Mapped[int | None] = mapped_column(Integer)
    entries_total: Mapped[int] = mapped_column(Integer, default=0)
    entries_new_last: Mapped[int] = mapped_column(Integer, default=0)
    entries_seen_last: Mapped[int] = mapped_column(Integer, default=0)
    # entries found by the last polls that found any (html layout drift; see poller.drift)
    seen_counts: Mapped[list[int] | None] = mapped_column(JSONType)
    warnings: Mapped[list[str] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        # (next_poll_at, id): claims order by both, so a window of the earliest due is
        # an index range with no sort, even when many sources share one due time
        Index("ix_sources_due", "next_poll_at", "id"),
        Index("ix_sources_leased", "lease_expires"),  # live leases per host, at every claim
    )


class EntryRow(Base):
    """One source's copy of a story."""

    __tablename__ = TABLE_ENTRIES

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(40))  # identity within the source
    story_id: Mapped[int] = mapped_column(BigInteger)
    guid: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    link_hash: Mapped[str | None] = mapped_column(String(32))  # digest of the canonical link
    guid_hash: Mapped[str | None] = mapped_column(String(32))  # a URI guid (store.matching)
    title: Mapped[str] = mapped_column(Text)
    title_hash: Mapped[str | None] = mapped_column(String(32))  # see normalise.identity.title_key
    summary: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(200))
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    channel_rules: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    origin: Mapped[str | None] = mapped_column(String(100))
    image: Mapped[str | None] = mapped_column(Text)
    enclosures: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    published: Mapped[datetime] = mapped_column()
    precision: Mapped[str] = mapped_column(String(10))
    first_seen: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    content_hash: Mapped[str] = mapped_column(String(32))
    page_canonical: Mapped[str | None] = mapped_column(Text)  # the article page's rel=canonical
    # Why this copy joined a story another copy began: rule, other entry, evidence.
    merged_by: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    __table_args__ = (
        UniqueConstraint("source_id", "key", name="uq_entries_source_key"),
        Index("ix_entries_story", "story_id"),
        Index("ix_entries_link_hash", "link_hash"),
        Index("ix_entries_guid_hash", "guid_hash"),
        Index("ix_entries_title_hash", "title_hash"),
    )


class StoryRow(Base):
    """A story: the earliest time any copy was published and which copy shows best."""

    __tablename__ = TABLE_STORIES

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    published: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    best_entry_id: Mapped[int | None] = mapped_column(BigInteger)
    copies: Mapped[int] = mapped_column(Integer, default=1)


class FeedMemberRow(Base):
    """Which feeds hold which story, in feed order (see the module docstring)."""

    __tablename__ = TABLE_FEED_MEMBERS

    feed_key: Mapped[str] = mapped_column(String(220), primary_key=True)
    story_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    published: Mapped[datetime] = mapped_column()

    __table_args__ = (
        # The feed read: WHERE feed_key = ? AND (published, story_id) < cursor ORDER BY … DESC
        Index("ix_feed_members_order", "feed_key", "published", "story_id"),
        Index("ix_feed_members_story", "story_id"),
    )


class StoryBandRow(Base):
    """Near-duplicate lookup keys of each copy (normalise.fingerprint), by publish time.

    Candidates for a new article are the rows of each of its keys published within its
    window: one range scan of the primary key per key, whose cost grows with the
    articles published in the window, not with the store. The key covers the story too (SQLite:
    a table WITHOUT ROWID, which is its primary key; PostgreSQL: INCLUDE), so the scan
    reads no other page per row, and a new copy writes one B-tree, not two.
    """

    __tablename__ = TABLE_STORY_BANDS
    __table_args__ = (
        PrimaryKeyConstraint("band_key", "published", "entry_id", postgresql_include=["story_id"]),
        {"sqlite_with_rowid": False},
    )

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    published: Mapped[datetime] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    story_id: Mapped[int] = mapped_column(BigInteger)


class FeedChangeRow(Base):
    """A log of feeds that gained or changed stories, so every server can drop stale renders."""

    __tablename__ = TABLE_FEED_CHANGES

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    feed_key: Mapped[str] = mapped_column(String(220))
    at: Mapped[datetime] = mapped_column()


class ArticlePageRow(Base):
    """An entry's article page as fetched for `fulltext: true`: fetched once per entry.

    Keyed like the entry (source, key), so it is known before the entry is stored and a
    re-polled entry is merged with it again (see normalise.fulltext).
    """

    __tablename__ = TABLE_ARTICLE_PAGES

    source_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    ok: Mapped[bool] = mapped_column(Boolean)
    retry: Mapped[bool] = mapped_column(Boolean, default=False)  # worth another try
    tries: Mapped[int] = mapped_column(Integer, default=1)
    fetched_at: Mapped[datetime] = mapped_column()
    message: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(200))
    origin: Mapped[str | None] = mapped_column(String(100))
    published_raw: Mapped[str | None] = mapped_column(String(100))
    canonical: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_article_pages_url", "url"),)


class HostRow(Base):
    """When the next request to a host may start, whichever poller makes it (host_gap)."""

    __tablename__ = TABLE_HOSTS

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_start_s: Mapped[float] = mapped_column(Float, default=0.0)  # Unix time


class TombstoneRow(Base):
    """An entry deleted by retention: a later poll finding it again does not store it anew.

    Kept TOMBSTONE_DAYS (store.retention) after deletion, then dropped in turn.
    """

    __tablename__ = TABLE_TOMBSTONES

    source_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column()

    __table_args__ = (Index("ix_tombstones_deleted", "deleted_at"),)


# Core table objects for statement building (typed as Table for mypy).
SOURCES = cast(Table, SourceRow.__table__)
ENTRIES = cast(Table, EntryRow.__table__)
STORIES = cast(Table, StoryRow.__table__)
FEED_MEMBERS = cast(Table, FeedMemberRow.__table__)
STORY_BANDS = cast(Table, StoryBandRow.__table__)
FEED_CHANGES = cast(Table, FeedChangeRow.__table__)
ARTICLE_PAGES = cast(Table, ArticlePageRow.__table__)
HOSTS = cast(Table, HostRow.__table__)
TOMBSTONES = cast(Table, TombstoneRow.__table__)


# The search index (see store.search). On PostgreSQL, this table: a tsvector of character
# bigrams per entry with a GIN index. On SQLite, an FTS5 virtual table of the same name that
# SQLAlchemy cannot declare. Kept apart from Base so create_all never makes it on SQLite.
SEARCH_METADATA = MetaData()
ENTRY_SEARCH = Table(
    TABLE_ENTRY_SEARCH,
    SEARCH_METADATA,
    Column("entry_id", BigInteger, ForeignKey(ENTRIES.c.id, ondelete="CASCADE"), primary_key=True),
    Column("terms", TSVECTOR, nullable=False),
    Index("ix_entry_search_terms", "terms", postgresql_using="gin"),
)
