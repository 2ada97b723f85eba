"""Whether a database's schema is at the migrations' head: what readiness asks of the store.

Alembic keeps the revision a database is at in its ``alembic_version`` table; the head is
the newest revision of the packaged scripts (``app/migrations``). A replica whose database is
behind (an upgrade not yet applied) or ahead (a newer replica migrated it) should not take
work: its code and the tables disagree.
"""

from __future__ import annotations

from functools import cache

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from app.store.engine import MIGRATIONS_DIR


@cache
def script_heads() -> frozenset[str]:
    """The head revision(s) of the packaged migrations (read from the files once per process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def database_revisions(connection: Connection) -> frozenset[str]:
    """The revision(s) the database on ``connection`` is at; empty before its first migration."""
    return frozenset(MigrationContext.configure(connection).get_current_heads())


def describe_schema(connection: Connection) -> tuple[bool, str]:
    """Whether the database's schema is at the head, and a sentence saying where it is."""
    current, heads = database_revisions(connection), script_heads()
    at = ", ".join(sorted(current)) or "no revision (never migrated)"
    head = ", ".join(sorted(heads))
    if current == heads:
        return True, f"schema at {at} (head)"
    return False, f"schema at {at}, the service's migrations are at {head}"
