"""Reading a tenant's audit log as people ask for it: a period, a person, a kind of action, a record.

:func:`find_audit` answers newest first, a page at a time. Pages follow by ``cursor`` (the id of the
last line of the previous page: lines are numbered in the order they were written, so a page never
repeats or skips a line written meanwhile) or by ``offset``. Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.store.models import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which lines of a tenant's log are wanted (every field optional).

    ``since`` (inclusive) and ``until`` (exclusive) bound ``at``; ``actor`` is the name recorded,
    matched exactly; ``action`` a prefix of the action (``plan.`` for every plan action, or a whole
    action such as ``plan.approve``); ``subject_type`` and ``subject_id`` match exactly.
    """

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None


def _like_prefix(text: str) -> str:
    """``text`` as a ``LIKE`` pattern matching what starts with it (its own ``%`` and ``_`` escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(query: Select[tuple[AuditEntry]], tenant: str, wanted: AuditFilter) -> Select[tuple[AuditEntry]]:
    """``query`` restricted to the tenant's lines that ``wanted`` asks for."""
    query = query.where(AuditEntry.tenant_id == tenant)
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEntry.at < wanted.until)
    if wanted.actor is not None:
        query = query.where(AuditEntry.actor == wanted.actor)
    if wanted.action is not None:
        query = query.where(AuditEntry.action.like(_like_prefix(wanted.action), escape="\\"))
    if wanted.subject_type is not None:
        query = query.where(AuditEntry.subject_type == wanted.subject_type)
    if wanted.subject_id is not None:
        query = query.where(AuditEntry.subject_id == wanted.subject_id)
    return query


def find_audit(session: Session, tenant: str, wanted: AuditFilter, *, limit: int, cursor: int | None = None,
               offset: int = 0) -> list[AuditEntry]:
    """Up to ``limit`` of the tenant's lines that ``wanted`` asks for, newest first: those written before
    line ``cursor`` when given, after skipping ``offset`` lines."""
    query = _filtered(select(AuditEntry), tenant, wanted)
    if cursor is not None:
        query = query.where(AuditEntry.id < cursor)
    return list(session.scalars(query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)))


def count_audit(session: Session, tenant: str, wanted: AuditFilter) -> int:
    """How many of the tenant's lines ``wanted`` asks for."""
    query = _filtered(select(AuditEntry), tenant, wanted).with_only_columns(func.count(AuditEntry.id))
    return int(session.scalar(query) or 0)
