"""Fixtures of the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.store import Store


@pytest.fixture
def migrated(database_url: str) -> Iterator[Store]:
    """A migrated store on an empty database (SQLite, then PostgreSQL)."""
    opened = Store(database_url)
    opened.migrate()
    yield opened
    opened.dispose()
