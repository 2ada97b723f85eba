"""All of one council's records, table by table: to hand them over (export) or to remove them (delete).

Every table with a ``tenant_id`` column is the tenant's (found from the models' metadata, so a table
added later is covered without change here). An export writes each row as JSON, leaving out the
columns in :data:`SECRET_COLUMNS`; a delete removes every row of the tenant but the audit log, which
is append-only by law and by trigger (docs/privacy.md, "Deleting a council's data"), and the tenant's
own row, which the audit log's lines refer to.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from app.store.models import AuditEntry, Base
from app.store.repository import append_audit

SECRET_COLUMNS: Final = frozenset({"key_hash", "password_hash", "secret", "secret_hash", "token_hash"})
"""Columns never exported: hashes of keys and secrets are of no use outside the service."""
KEPT_TABLES: Final = frozenset({AuditEntry.__tablename__, "tenants"})
"""Tables a tenant delete leaves: the append-only audit log and the tenant row it refers to."""


def tenant_tables() -> list[Table]:
    """The tables holding a tenant's rows, parents before children (the order of foreign keys)."""
    return [t for t in Base.metadata.sorted_tables if "tenant_id" in t.columns]


def _jsonable(value: Any) -> Any:
    """A column's value as JSON takes it (times as ISO 8601)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_rows(session: Session, tenant: str, table: Table) -> Iterator[dict[str, Any]]:
    """The tenant's rows of ``table`` as JSON-able dicts (secret columns left out), in primary-key order."""
    columns = [c for c in table.columns if c.name not in SECRET_COLUMNS]
    query = select(*columns).where(table.c.tenant_id == tenant).order_by(*table.primary_key.columns)
    for row in session.execute(query).mappings():
        yield {name: _jsonable(value) for name, value in row.items()}


def count_rows(session: Session, tenant: str) -> dict[str, int]:
    """How many rows of each tenant table the tenant has."""
    return {t.name: int(session.scalar(select(func.count()).select_from(t).where(t.c.tenant_id == tenant)) or 0)
            for t in tenant_tables()}


def delete_tenant(session: Session, tenant: str, *, actor: str = "cli") -> dict[str, int]:
    """Remove every row of ``tenant`` but the audit log and the tenant row, children first; write a
    ``tenant.delete`` audit line with the counts removed; the counts."""
    removed: dict[str, int] = {}
    for table in reversed(tenant_tables()):
        if table.name in KEPT_TABLES:
            continue
        result = session.execute(delete(table).where(table.c.tenant_id == tenant))
        removed[table.name] = int(getattr(result, "rowcount", 0) or 0)
    append_audit(session, tenant, actor=actor, action="tenant.delete", subject_type="tenant", subject_id=tenant,
                 details={"removed": dict(removed), "kept": ", ".join(sorted(KEPT_TABLES))})
    return removed
