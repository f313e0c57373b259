"""One module per schema revision, oldest first (see docs in aggregator.store.migrate)."""
