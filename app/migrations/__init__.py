"""Alembic migrations of the store (script location of :func:`app.store.engine.migrate`)."""
