"""What a purge past retention removes (app/store/retention.py) on SQLite and PostgreSQL: old traces and
old problems no approved plan answers, with their drafts and jobs; never an approved plan or what it
answers, nor anything new or still used, nor another tenant's records, nor an audit line."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import store
from app.store import Store
from app.store.retention import purge

from .retention_world import NOW, build


@pytest.fixture
def db(empty_store: Store) -> Store:
    """A migrated store on an empty database."""
    return empty_store


def present(db: Store, ids: dict[str, str]) -> set[str]:
    """The names of ``ids`` whose records are still in the store."""
    models = {"problem": store.ProblemRecord, "plan": store.PlanRecord, "job": store.JobRecord}
    with db.transaction() as session:
        return {name for name, ident in ids.items() if session.get(models[name.rsplit("_", 1)[1]], ident) is not None}


def test_a_dry_run_counts_and_removes_nothing(db: Store) -> None:
    """Dry: one trace, two plans (the old draft, the actual day), one job, one problem; everything stays, no line."""
    ids = build(db)
    with db.transaction() as session:
        counts = purge(session, "north", NOW - timedelta(days=400), dry_run=True)
        assert store.list_audit(session, "north", actions=["data.purge"]) == []
    assert counts.as_dict() == {"traces": 1, "plans": 2, "jobs": 1, "problems": 1}
    assert present(db, ids) == set(ids)


def test_a_purge_removes_old_traces_and_unapproved_problems_only(db: Store) -> None:
    """After the purge: the old draft's problem, plan and job and the actual day's job and plan are gone; the
    approved plan and its problem, the recent records, the reused problem and the south's stay; the audit
    log only grew, by a data.purge line with the counts."""
    ids = build(db)
    with db.transaction() as session:
        lines_before = session.scalar(select(func.count()).select_from(store.AuditEntry))
        purge(session, "north", NOW - timedelta(days=400), retention_days=400)
    assert present(db, ids) == set(ids) - {"old_draft_problem", "old_draft_plan", "old_draft_job", "actual_job",
                                           "actual_plan"}
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(store.AuditEntry)) == (lines_before or 0) + 1
        [line] = store.list_audit(session, "north", actions=["data.purge"])
        assert line.details["problems"] == 1 and line.details["traces"] == 1 and line.details["retention_days"] == 400


def test_a_cut_off_before_everything_removes_nothing(db: Store) -> None:
    """A cut-off older than every record finds nothing to purge."""
    ids = build(db)
    with db.transaction() as session:
        counts = purge(session, "north", NOW - timedelta(days=1000))
    assert counts.as_dict() == {"traces": 0, "plans": 0, "jobs": 0, "problems": 0} and present(db, ids) == set(ids)
