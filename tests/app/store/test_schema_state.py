"""Whether a database's schema is at the migrations' head, on a real SQLite file: never migrated,
at head, and one revision behind."""

from __future__ import annotations

from pathlib import Path

from alembic import command

from app.store import Store
from app.store.engine import alembic_config
from app.store.schema_state import describe_schema, script_heads


def test_a_new_database_is_not_at_head(tmp_path: Path) -> None:
    """A database never migrated is reported as such, with the head it lacks."""
    db = Store(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    with db.engine.connect() as connection:
        at_head, where = describe_schema(connection)
    db.dispose()
    assert not at_head
    assert "never migrated" in where and all(head in where for head in script_heads())


def test_a_migrated_database_is_at_head_until_downgraded(tmp_path: Path) -> None:
    """After the migrations the schema is at head; one revision down it is behind, naming both revisions."""
    db = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    db.migrate()
    with db.engine.connect() as connection:
        migrated = describe_schema(connection)
    with db.engine.begin() as connection:
        config = alembic_config(db.engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    with db.engine.connect() as connection:
        behind = describe_schema(connection)
    db.dispose()
    head = ", ".join(sorted(script_heads()))
    assert migrated == (True, f"schema at {head} (head)")
    assert not behind[0] and behind[1].endswith(f"the service's migrations are at {head}")
