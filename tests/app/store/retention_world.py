"""A tenant's records of several ages, for the retention and tenant-data tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app import store
from app.store import Store

RESULT = {"type": "FeatureCollection", "features": [],
          "summary": {"distance_m": 1200.0, "duration_s": 600.0, "vehicles_used": 1, "bins_served": 2,
                      "bins_unassigned": 0, "cost": 600.0, "violations": 0}, "unassigned": []}
NOW = datetime.now(UTC)
OLD = NOW - timedelta(days=500)
"""Past the default retention (400 days)."""


def body(label: str) -> dict[str, Any]:
    """A problem body whose one bin carries an address and a UPRN (``label`` keeps bodies apart)."""
    return {"bins": [{"id": f"b-{label}", "lon": 7.42, "lat": 43.735, "demand_kg": 10,
                      "attributes": {"address": f"1 {label} Road", "uprn": "100012345678"}}],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 100}],
            "depots": [{"id": "depot", "lon": 7.41, "lat": 43.73}]}


def build(db: Store, tenant: str = "north") -> dict[str, str]:
    """Records of ``tenant``: ``old_draft`` (an old problem, its draft plan and optimisation job), ``approved``
    (an old problem with an approved plan), an old ``actual`` job and plan (traces) on the approved plan's
    problem, ``recent`` (a new problem and draft), ``reused`` (an old problem a new job works on), an old
    ``approved_week`` (a round review whose week was approved), and ``south``'s old problem. Ids by name."""
    ids: dict[str, str] = {}
    with db.transaction() as session:
        def problem(label: str, owner: str = tenant, *, when: datetime = OLD) -> store.ProblemRecord:
            record = store.save_problem(session, owner, body(label))
            record.created_at = when
            ids[f"{label}_problem"] = record.id
            return record

        def plan(label: str, of: store.ProblemRecord, *, when: datetime = OLD, source: str = "optimised",
                 approve: bool = False) -> store.PlanRecord:
            record = store.create_plan(session, of.tenant_id, problem=of, result=RESULT, source=source,
                                       parameters={}, round_set=label)
            record.created_at = when
            if approve:
                store.approve_plan(session, of.tenant_id, record.id, by="Ann Approver")
            ids[f"{label}_plan"] = record.id
            return record

        def job(label: str, of: store.ProblemRecord, *, when: datetime = OLD, kind: str = "optimisation",
                made: store.PlanRecord | None = None) -> None:
            record = store.create_job(session, of.tenant_id, of, kind=kind,
                                      request={"fixes": {"rcv-1": [[7.42, 43.735, 0]]}} if kind == "actual" else None)
            store.succeed_job(session, of.tenant_id, record.id, plan=made)
            record.created_at = when
            ids[f"{label}_job"] = record.id

        old = problem("old_draft")
        job("old_draft", old, made=plan("old_draft", old))
        approved = problem("approved")
        plan("approved", approved, approve=True)
        job("actual", approved, kind="actual", made=plan("actual", approved, source="actual"))
        recent = problem("recent", when=NOW)
        plan("recent", recent, when=NOW)
        reused = problem("reused")
        job("reused", reused, when=NOW)
        week = problem("approved_week")
        review = store.create_job(session, tenant, week, kind="review")
        store.succeed_job(session, tenant, review.id, result={"days": [], "approval": {"by": "Ann Approver"}})
        review.created_at = OLD
        ids["approved_week_job"] = review.id
        south = problem("south", "south")
        plan("south", south)
    return ids
