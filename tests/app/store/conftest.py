"""Fixtures of the store's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.store import Store


@pytest.fixture
def empty_store(database_url: str) -> Iterator[Store]:
    """A migrated store on an empty database (SQLite, and PostgreSQL where it runs)."""
    opened = Store(database_url)
    opened.migrate()
    yield opened
    opened.dispose()
