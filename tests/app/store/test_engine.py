"""The store's engines (app/store/engine.py) keep statement parameters out of error messages, which end in
logs, a failed job's ``error`` and the audit log: on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app import store
from app.store import Store

ADDRESS = "17 Quai Sentinelle-Albert"


def test_a_failed_statement_names_no_parameter(database_url: str) -> None:
    """A problem stored twice under one id fails; the error's message shows neither the address nor the UPRN."""
    db = Store(database_url)
    db.migrate()
    body = {"bins": [{"id": "b1", "attributes": {"address": ADDRESS, "uprn": "999000111222"}}]}
    try:
        with pytest.raises(IntegrityError) as failed, db.transaction() as session:
            store.ensure_tenant(session, "north")
            for _ in range(2):
                session.add(store.ProblemRecord(id="same", tenant_id="north", content_hash="h", body=body))
                session.flush()
        message = str(failed.value)
        assert "parameters hidden" in message and ADDRESS not in message and "999000111222" not in message
    finally:
        db.dispose()
