"""The jobs table's figures for the metrics, on a real SQLite file and a real PostgreSQL server:
counts by tenant and state, and each started job's wait, run time and plan's engine."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import store
from app.store import JobRecord, Store
from app.store.job_figures import NO_ENGINE, job_counts, job_times

from . import test_store
from .test_store import RESULT, body

db = test_store.db
"""A migrated store on an empty database (test_store's fixture)."""


def queue(db: Store, tenant: str, n_bins: int) -> str:
    """A queued optimisation job of ``tenant`` on a problem of ``n_bins`` bins; its id."""
    with db.transaction() as session:
        problem = store.save_problem(session, tenant, body(n_bins))
        return store.create_job(session, tenant, problem).id


def test_counts_are_by_tenant_and_state(db: Store) -> None:
    """Two tenants' jobs in three states are counted apart, across tenants, in one grouped query."""
    north = [queue(db, "north", n) for n in (1, 2, 3)]
    queue(db, "south", 1)
    with db.transaction() as session:
        store.start_job(session, "north", north[0])
        store.start_job(session, "north", north[1])
        store.fail_job(session, "north", north[1], error="test")
    with db.transaction() as session:
        counts = job_counts(session)
    assert counts == {("north", "running"): 1, ("north", "failed"): 1, ("north", "queued"): 1,
                      ("south", "queued"): 1}


def test_times_are_the_wait_and_the_run_with_the_plans_engine(db: Store) -> None:
    """A job queued 30 s before it started and finished 12 s after reports wait 30 s, run 12 s and its
    plan's engine; a running job has no run time; a job that stored no plan has engine 'none';
    a queued job is not listed."""
    done, running, planless = queue(db, "north", 1), queue(db, "north", 2), queue(db, "south", 1)
    queue(db, "south", 2)
    with db.transaction() as session:
        for tenant, job_id in (("north", done), ("north", running), ("south", planless)):
            store.start_job(session, tenant, job_id)
        problem = store.get_problem(session, "north", session.get(JobRecord, done).problem_id)
        plan = store.create_plan(session, "north", problem=problem, result=RESULT, source="optimised",
                                 parameters={}, engine="pyvrp", seed=0)
        store.succeed_job(session, "north", done, plan=plan)
        store.succeed_job(session, "south", planless, result={"ok": True})
        job = session.get(JobRecord, done)
        assert job is not None and job.started_at is not None
        job.created_at = job.started_at - timedelta(seconds=30)
        job.finished_at = job.started_at + timedelta(seconds=12)
    with db.transaction() as session:
        times = {(t.tenant, t.status, t.engine): t for t in job_times(session)}
    assert set(times) == {("north", "succeeded", "pyvrp"), ("north", "running", NO_ENGINE),
                          ("south", "succeeded", NO_ENGINE)}
    finished = times[("north", "succeeded", "pyvrp")]
    assert finished.kind == "optimisation"
    assert finished.wait_s == pytest.approx(30, abs=1e-3) and finished.run_s == pytest.approx(12, abs=1e-3)
    assert times[("north", "running", NO_ENGINE)].run_s is None
