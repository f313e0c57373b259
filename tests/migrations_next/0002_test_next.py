"""A revision after the package's head, for tests only: a table and a column more.

Revision ID: test_next
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "test_next"
down_revision = "0001"  # tests/test_migrations.py checks this is the package's head
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("test_notes", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("hosts") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hosts") as batch:
        batch.drop_column("note")
    op.drop_table("test_notes")
