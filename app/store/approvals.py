"""What an approval binds to: the hash of a plan's content, and the approval undone when it changes.

An approval is of what a crew would drive and what it was judged on: the plan's ``result``
(its rounds), its ``kpis`` and the ``inputs_hash`` of its problem. :func:`plan_content_hash`
hashes those three; :func:`app.store.approve_plan` keeps the hash in ``plans.approved_hash``.
Whatever path later writes a different result, KPIs or inputs over an approved plan, the
session's flush turns it back into a ``draft`` (approval cleared) and logs ``plan.unapprove``
in the tenant's audit log with both hashes: it must be approved again.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.store.models import AuditEntry, PlanRecord

UNAPPROVE_ACTION = "plan.unapprove"


def plan_content_hash(plan: PlanRecord) -> str:
    """SHA-256 (hex) of the canonical JSON of the plan's ``result``, ``kpis`` and ``inputs_hash``."""
    content = {"result": plan.result, "kpis": plan.kpis, "inputs_hash": plan.inputs_hash}
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _undo_if_changed(session: Session, plan: PlanRecord) -> None:
    """Turn an approved ``plan`` whose content no longer matches its approval back into a draft, logged."""
    if plan.status != "approved" or plan.approved_hash is None:
        return
    now_hash = plan_content_hash(plan)
    if now_hash == plan.approved_hash:
        return
    details: dict[str, Any] = {"reason": "the plan's content (result, kpis or inputs) changed after its approval",
                               "approved_by": plan.approved_by, "approved_by_user_id": plan.approved_by_user_id,
                               "approved_hash": plan.approved_hash, "plan_hash": now_hash}
    plan.status, plan.approved_by, plan.approved_by_user_id = "draft", None, None
    plan.approved_at, plan.approved_hash = None, None
    session.add(AuditEntry(tenant_id=plan.tenant_id, actor="system", action=UNAPPROVE_ACTION, subject_type="plan",
                           subject_id=plan.id, details=details))


@event.listens_for(Session, "before_flush")
def _check_approved_plans(session: Session, flush_context: object, instances: object) -> None:
    """Before every flush: approved plans changed in this session keep their approval only if their content did."""
    for record in list(session.dirty):
        if isinstance(record, PlanRecord) and session.is_modified(record):
            _undo_if_changed(session, record)
