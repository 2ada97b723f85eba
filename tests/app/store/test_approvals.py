"""What an approval binds to (app/store/approvals.py): the plan's hash, the four-eyes rule, and an approved
plan whose content changes going back to draft, logged."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from app import store
from app.store import Store

RESULT: dict[str, Any] = {"type": "FeatureCollection", "features": [],
                          "summary": {"distance_m": 1200.0, "duration_s": 600.0, "vehicles_used": 1, "bins_served": 2,
                                      "bins_unassigned": 0, "cost": 600.0, "violations": 0},
                          "unassigned": []}
BODY = {"depots": [{"id": "depot", "lon": 7.41, "lat": 43.73}],
        "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 100}],
        "bins": [{"id": "b1", "lon": 7.42, "lat": 43.735, "demand_kg": 10}], "options": {"time_limit_s": 1}}


@pytest.fixture
def db(empty_store: Store) -> Store:
    """The store of the test (see conftest.py)."""
    return empty_store


def _plan(db: Store, *, created_by_user_id: str | None = None) -> str:
    """A draft plan of tenant north; its id."""
    with db.transaction() as session:
        problem = store.save_problem(session, "north", BODY)
        return store.create_plan(session, "north", problem=problem, result=copy.deepcopy(RESULT), source="manual",
                                 parameters={}, created_by_user_id=created_by_user_id).id


def test_approval_records_the_person_and_the_plans_hash(db: Store) -> None:
    """approve_plan keeps the user id and the hash of result, kpis and inputs, in the plan and the audit line."""
    plan_id = _plan(db)
    with db.transaction() as session:
        plan = store.approve_plan(session, "north", plan_id, by="Ann Approver", by_user_id="u-ann")
        assert plan is not None
        assert plan.approved_by_user_id == "u-ann" and plan.approved_hash == store.plan_content_hash(plan)
        [line] = store.list_audit(session, "north", actions=["plan.approve"])
    assert line.actor == "Ann Approver" and line.details["plan_hash"] == plan.approved_hash
    assert len(plan.approved_hash or "") == 64


def test_four_eyes_refuses_the_creator(db: Store) -> None:
    """With four_eyes the user who created the plan cannot approve it; someone else can."""
    plan_id = _plan(db, created_by_user_id="u-pat")
    with pytest.raises(store.FourEyesError, match="four-eyes"), db.transaction() as session:
        store.approve_plan(session, "north", plan_id, by="Pat", by_user_id="u-pat", four_eyes=True)
    with db.transaction() as session:
        plan = store.approve_plan(session, "north", plan_id, by="Ann", by_user_id="u-ann", four_eyes=True)
        assert plan is not None and plan.status == "approved"


def test_changed_content_undoes_the_approval(db: Store) -> None:
    """A new result written over an approved plan turns it back into a draft, with a plan.unapprove line."""
    plan_id = _plan(db)
    with db.transaction() as session:
        store.approve_plan(session, "north", plan_id, by="Ann", by_user_id="u-ann")
    with db.transaction() as session:
        plan = store.get_plan(session, "north", plan_id)
        assert plan is not None
        plan.name = "renamed"  # not what a crew drives: the approval stands
    with db.transaction() as session:
        plan = store.get_plan(session, "north", plan_id)
        assert plan is not None and plan.status == "approved"
        changed = copy.deepcopy(RESULT)
        changed["summary"]["distance_m"] = 999.0
        plan.result = changed
    with db.transaction() as session:
        plan = store.get_plan(session, "north", plan_id)
        assert plan is not None
        assert (plan.status, plan.approved_by, plan.approved_hash) == ("draft", None, None)
        [line] = store.list_audit(session, "north", actions=["plan.unapprove"])
    assert line.actor == "system" and line.details["approved_by"] == "Ann"
    assert line.details["plan_hash"] != line.details["approved_hash"]
