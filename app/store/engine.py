"""Connections to the store: the SQLAlchemy engine, sessions, transactions and migrations.

A SQLite file by default (``sqlite:///var/wasteroute.sqlite3``), PostgreSQL by URL
(``postgresql+psycopg://user:password@host/db``, psycopg 3). SQLite connections run in
WAL mode (readers never block the writer, so worker processes can write progress
while the server reads) with a busy timeout (a writer waits for another instead of
failing at once) and foreign keys enforced.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from sqlalchemy.engine.interfaces import DBAPIConnection
    from sqlalchemy.pool import ConnectionPoolEntry

    from app.core.config import Settings

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 10.0
"""Seconds a database operation waits for a lock or a connection before giving up
(``Settings.database_timeout_s``): SQLite's busy timeout, PostgreSQL's ``lock_timeout``,
connect timeout and the connection pool's wait."""

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
"""The Alembic script location, packaged with the application (``app/migrations``)."""


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    """A ``connect`` listener setting WAL journal, the busy timeout and foreign keys on a new SQLite connection."""
    def set_pragmas(dbapi_connection: DBAPIConnection, connection_record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
    return set_pragmas


def make_engine(url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> Engine:
    """An engine for ``url`` (no connection is made yet; a SQLite file's folder is created
    at the first connection if missing).

    SQLite gets WAL mode, a busy timeout of ``timeout_s`` and foreign keys. (The driver
    opens the database transaction at the first write of a SQLAlchemy transaction, so a
    writer waits out the busy timeout at that point, then fails with "database is
    locked".) PostgreSQL gets a connect timeout and a ``lock_timeout`` of ``timeout_s``
    and a check of pooled connections before use, so a restarted server is reconnected to.

    Statement parameters are hidden from SQL logs and error messages alike: they carry addresses,
    UPRNs and traces, and an error's message ends up in logs, a failed job's ``error`` and the audit
    log (docs/privacy.md).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": timeout_s},
                               hide_parameters=True)
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).parent
            event.listen(engine, "do_connect", lambda *_: folder.mkdir(parents=True, exist_ok=True))
        event.listen(engine, "connect", _sqlite_pragmas(max(1, round(timeout_s * 1000))))
        return engine
    connect_args: dict[str, object] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": max(1, math.ceil(timeout_s)),
                        "options": f"-c lock_timeout={max(1, round(timeout_s * 1000))}"}
    return create_engine(url, pool_pre_ping=True, pool_timeout=timeout_s, connect_args=connect_args,
                         hide_parameters=True)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration without ``alembic.ini``: the packaged scripts, ``engine``'s URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


MIGRATION_LOCK_KEY = 0x77726D67  # "wrmg"
"""The PostgreSQL advisory lock (transaction-scoped) taken while migrating."""

MIGRATION_LOCK_WAIT_S = 300
"""Seconds a replica waits on PostgreSQL for another replica's migration before giving up."""


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database's schema up to ``revision`` (the latest by default); idempotent.

    On PostgreSQL the migration holds an advisory lock, so replicas started together migrate one
    after the other (the later ones find the schema up to date) instead of racing to create tables.
    """
    config = alembic_config(engine)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_WAIT_S}s'"))
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    logger.info("store schema at %s on %s", revision, engine.url.render_as_string(hide_password=True))


class Store:
    """The store of one database: its engine, a session factory and transactions.

    >>> store = Store("sqlite:///var/wasteroute.sqlite3")
    >>> store.migrate()
    >>> with store.transaction() as session:
    ...     repository.save_problem(session, "default", body)

    Every ``transaction()`` commits when its block ends and rolls back when it raises, so
    a plan and the job that produced it are written together or not at all.
    """

    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        """Connect lazily to ``url`` (nothing is opened until the first transaction); wait at most
        ``timeout_s`` seconds for a lock or a connection."""
        self.url = url
        self.engine = make_engine(url, timeout_s=timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store at ``settings.database_url``, waiting ``settings.database_timeout_s`` for locks."""
        return cls(settings.database_url, timeout_s=settings.database_timeout_s)

    def migrate(self) -> None:
        """Create or upgrade the schema to the latest revision."""
        migrate(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed at the end of the block, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    async def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in one :meth:`transaction`, in a thread, so an event loop stays free."""
        def in_transaction() -> T:
            with self.transaction() as session:
                return work(session)
        return await asyncio.to_thread(in_transaction)

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self.engine.dispose()
