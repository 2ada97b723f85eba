"""The store's schema comes from the Alembic revisions, which match the models, on SQLite
and PostgreSQL; SQLite connections run in WAL mode with a busy timeout."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.store import Store
from app.store.engine import DEFAULT_TIMEOUT_S, alembic_config
from app.store.models import Base

TABLES = {"tenants", "problems", "plans", "jobs", "audit_log", "api_keys", "alembic_version"}


def test_migrations_create_every_table(database_url: str) -> None:
    """Migrating an empty database creates the store's tables and records the latest revision."""
    db = Store(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    db.dispose()
    assert tables >= TABLES
    assert revision == ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()


def test_migrations_match_the_models(database_url: str) -> None:
    """Alembic finds no difference between the migrated schema and the ORM models."""
    db = Store(database_url)
    db.migrate()
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    """Every SQLite connection of the store uses WAL, waits for a busy writer, and enforces foreign keys."""
    db = Store(f"sqlite:///{tmp_path / 'sub' / 'store.sqlite3'}")
    with db.engine.connect() as connection:
        mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
        timeout = connection.execute(text("PRAGMA busy_timeout")).scalar_one()
        foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar_one()
    db.dispose()
    assert (mode, timeout, foreign_keys) == ("wal", DEFAULT_TIMEOUT_S * 1000, 1)
