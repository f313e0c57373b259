"""Alembic migrations of the store's schema (run by aggregator.store.migrate; no alembic.ini)."""
