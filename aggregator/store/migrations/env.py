"""Alembic's entry point: runs migrations on the connection aggregator.store.migrate passes.

The caller opens the transaction (and, on PostgreSQL, holds the migration lock), so
several processes starting on one empty database migrate it once.
"""

from __future__ import annotations

from alembic import context

from aggregator.store.migrate import include_name
from aggregator.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
    compare_type=True,
    include_name=include_name,  # autogenerate leaves the hand-written search index alone
    transactional_ddl=True,  # both databases: the caller's transaction holds it all
)
with context.begin_transaction():
    context.run_migrations()
