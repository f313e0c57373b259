"""The first schema: sources, entries, stories, feed membership, change log, search
index, article pages (full text), near-duplicate keys, hosts and tombstones.

Revision ID: 0001
Revises:
Create Date: 2026-11-28

The search index is not in the models (SQLAlchemy cannot declare an FTS5 table): an
FTS5 table and a delete trigger on SQLite, a GIN-indexed tsvector table on PostgreSQL
(see aggregator.store.search). Column types are written out here, not imported from
the models, so this revision stays what it was when the models move on.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = sa.DateTime(timezone=True)  # aggregator.store.tables.UTCDateTime stores this
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite rowid aliases

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE entry_search USING fts5("
    "terms, tokenize = 'ascii', detail = 'full', columnsize = 0)",
    "CREATE TRIGGER entry_search_delete AFTER DELETE ON entries "
    "BEGIN DELETE FROM entry_search WHERE rowid = old.id; END",
)
POSTGRES_SEARCH = (
    "CREATE TABLE entry_search ("
    "entry_id BIGINT NOT NULL PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE, "
    "terms TSVECTOR NOT NULL)",
    "CREATE INDEX ix_entry_search_terms ON entry_search USING gin (terms)",
)


def upgrade() -> None:
    op.create_table(
        "article_pages",
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("retry", sa.Boolean(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("fetched_at", TIME, nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("origin", sa.String(length=100), nullable=True),
        sa.Column("published_raw", sa.String(length=100), nullable=True),
        sa.Column("canonical", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("source_id", "key"),
    )
    op.create_index("ix_article_pages_url", "article_pages", ["url"], unique=False)
    op.create_table(
        "entries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("story_id", sa.BigInteger(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("link_hash", sa.String(length=32), nullable=True),
        sa.Column("guid_hash", sa.String(length=32), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("title_hash", sa.String(length=32), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=True),
        sa.Column("categories", JSON, nullable=False),
        sa.Column("channels", JSON, nullable=False),
        sa.Column("channel_rules", JSON, nullable=False),
        sa.Column("origin", sa.String(length=100), nullable=True),
        sa.Column("image", sa.Text(), nullable=True),
        sa.Column("enclosures", JSON, nullable=False),
        sa.Column("published", TIME, nullable=False),
        sa.Column("precision", sa.String(length=10), nullable=False),
        sa.Column("first_seen", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("page_canonical", sa.Text(), nullable=True),
        sa.Column("merged_by", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "key", name="uq_entries_source_key"),
    )
    op.create_index("ix_entries_guid_hash", "entries", ["guid_hash"], unique=False)
    op.create_index("ix_entries_link_hash", "entries", ["link_hash"], unique=False)
    op.create_index("ix_entries_story", "entries", ["story_id"], unique=False)
    op.create_index("ix_entries_title_hash", "entries", ["title_hash"], unique=False)
    op.create_table(
        "feed_changes",
        sa.Column("seq", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("feed_key", sa.String(length=220), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_table(
        "feed_members",
        sa.Column("feed_key", sa.String(length=220), nullable=False),
        sa.Column("story_id", sa.BigInteger(), nullable=False),
        sa.Column("published", TIME, nullable=False),
        sa.PrimaryKeyConstraint("feed_key", "story_id"),
    )
    op.create_index(
        "ix_feed_members_order", "feed_members", ["feed_key", "published", "story_id"], unique=False
    )
    op.create_index("ix_feed_members_story", "feed_members", ["story_id"], unique=False)
    op.create_table(
        "hosts",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("next_start_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("host"),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("effective_url", sa.Text(), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("feed_title", sa.String(length=300), nullable=True),
        sa.Column("site_link", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("gone", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=True),
        sa.Column("interval_s", sa.Float(), nullable=False),
        sa.Column("next_poll_at", TIME, nullable=False),
        sa.Column("next_poll_reason", sa.String(length=200), nullable=False),
        sa.Column("hint_floor_s", sa.Float(), nullable=True),
        sa.Column("hint_reason", sa.String(length=100), nullable=True),
        sa.Column("retry_after", TIME, nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_token", sa.BigInteger(), nullable=False),
        sa.Column("lease_expires", TIME, nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("per_host", sa.Integer(), nullable=False),
        sa.Column("host_gap_s", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("last_attempt_at", TIME, nullable=True),
        sa.Column("last_success_at", TIME, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("fetch_seconds", sa.Float(), nullable=True),
        sa.Column("bytes_last", sa.Integer(), nullable=True),
        sa.Column("entries_total", sa.Integer(), nullable=False),
        sa.Column("entries_new_last", sa.Integer(), nullable=False),
        sa.Column("entries_seen_last", sa.Integer(), nullable=False),
        sa.Column("seen_counts", JSON, nullable=True),
        sa.Column("warnings", JSON, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sources_due", "sources", ["next_poll_at", "id"], unique=False)
    op.create_index("ix_sources_leased", "sources", ["lease_expires"], unique=False)
    op.create_table(
        "stories",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("published", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("best_entry_id", sa.BigInteger(), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "story_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("published", TIME, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("story_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "band_key", "published", "entry_id", postgresql_include=["story_id"]
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "tombstones",
        sa.Column("source_id", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("deleted_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("source_id", "key"),
    )
    op.create_index("ix_tombstones_deleted", "tombstones", ["deleted_at"], unique=False)
    # ### end Alembic commands ###
    search = SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRES_SEARCH
    for statement in search:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS entry_search_delete")
    op.execute("DROP TABLE IF EXISTS entry_search")
    op.drop_index("ix_tombstones_deleted", table_name="tombstones")
    op.drop_table("tombstones")
    op.drop_table("story_bands")
    op.drop_table("stories")
    op.drop_index("ix_sources_leased", table_name="sources")
    op.drop_index("ix_sources_due", table_name="sources")
    op.drop_table("sources")
    op.drop_table("hosts")
    op.drop_index("ix_feed_members_story", table_name="feed_members")
    op.drop_index("ix_feed_members_order", table_name="feed_members")
    op.drop_table("feed_members")
    op.drop_table("feed_changes")
    op.drop_index("ix_entries_title_hash", table_name="entries")
    op.drop_index("ix_entries_story", table_name="entries")
    op.drop_index("ix_entries_link_hash", table_name="entries")
    op.drop_index("ix_entries_guid_hash", table_name="entries")
    op.drop_table("entries")
    op.drop_index("ix_article_pages_url", table_name="article_pages")
    op.drop_table("article_pages")
    # ### end Alembic commands ###
