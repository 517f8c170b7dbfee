"""Alembic's revisions, oldest first: `photomaker.store.migrate` runs them."""
