"""Alembic environment: runs the revisions on the connection handed over by
:func:`app.store.engine.migrate`, or on the URL of its configuration (the ``alembic``
command line with ``-x`` is not needed: there is no ``alembic.ini``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from app.store.models import Base

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """Write the SQL to standard output instead of running it."""
    context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the revisions on the given connection (or a new one to the configured URL)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(str(context.config.get_main_option("sqlalchemy.url")))
    with engine.begin() as own:
        context.configure(connection=own, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
