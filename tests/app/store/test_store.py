"""The store on a real SQLite file and a real PostgreSQL server: records, tenants, versions,
approval, the append-only audit log, transactions and API keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app import store
from app.store import Store

RESULT = {"type": "FeatureCollection", "features": [],
          "summary": {"distance_m": 1200.0, "duration_s": 600.0, "vehicles_used": 1, "bins_served": 2,
                      "bins_unassigned": 0, "cost": 600.0, "violations": 0},
          "unassigned": []}


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    opened = Store(database_url)
    opened.migrate()
    yield opened
    opened.dispose()


def body(n_bins: int = 2) -> dict[str, Any]:
    """A small problem body with ``n_bins`` bins."""
    return {"depots": [{"id": "depot", "lon": 7.41, "lat": 43.73}],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 100}],
            "bins": [{"id": f"b{i}", "lon": 7.42, "lat": 43.735, "demand_kg": 10} for i in range(n_bins)],
            "options": {"time_limit_s": 1, "seed": 0}}


def stored_plan(db: Store, tenant: str = "north", **kwargs: Any) -> str:
    """Store a problem and a plan of it for ``tenant``; the plan's id."""
    with db.transaction() as session:
        problem = store.save_problem(session, tenant, body())
        plan = store.create_plan(session, tenant, problem=problem, result=RESULT, source="optimised",
                                 parameters={"seed": 0}, engine="ortools", seed=0, **kwargs)
        return plan.id


def test_migrate_twice_is_harmless(db: Store) -> None:
    """Running the migrations on an up-to-date database changes nothing and fails nothing."""
    db.migrate()
    with db.transaction() as session:
        assert store.list_plans(session, "north") == []


def test_same_body_is_stored_once_per_tenant(db: Store) -> None:
    """A body posted twice (keys in another order) is one problem with one content hash."""
    reordered = dict(reversed(list(body().items())))
    with db.transaction() as session:
        first = store.save_problem(session, "north", body())
        second = store.save_problem(session, "north", reordered)
        other = store.save_problem(session, "south", body())
    assert first.id == second.id
    assert first.content_hash == store.content_hash(body()) and len(first.content_hash) == 64
    assert other.id != first.id


def test_another_tenants_records_are_invisible(db: Store) -> None:
    """Problems, plans and jobs of one tenant are not found, listed or counted under another."""
    plan_id = stored_plan(db, "north")
    with db.transaction() as session:
        problem = store.save_problem(session, "north", body(3))
        job = store.create_job(session, "north", problem)
    with db.transaction() as session:
        assert store.get_plan(session, "south", plan_id) is None
        assert store.get_problem(session, "south", problem.id) is None
        assert store.get_job(session, "south", job.id) is None
        assert store.list_plans(session, "south") == [] and store.list_jobs(session, "south") == []
        assert store.approve_plan(session, "south", plan_id, by="Mallory") is None
        assert store.request_cancel(session, "south", job.id) is None
        assert store.list_audit(session, "south") == []
        assert store.get_plan(session, "north", plan_id) is not None


def test_plans_of_a_round_set_count_versions(db: Store) -> None:
    """Plans of one round set are versions 1, 2, ...; the latest is found by round set."""
    ids = [stored_plan(db, round_set="depot/refuse/mon") for _ in range(3)]
    other = stored_plan(db, round_set="depot/refuse/tue")
    with db.transaction() as session:
        versions = [store.get_plan(session, "north", i).version for i in ids]  # type: ignore[union-attr]
        latest = store.latest_plan(session, "north", "depot/refuse/mon")
        assert store.list_round_sets(session, "north") == ["depot/refuse/mon", "depot/refuse/tue"]
        assert store.get_plan(session, "north", other).version == 1  # type: ignore[union-attr]
    assert versions == [1, 2, 3]
    assert latest is not None and latest.id == ids[-1]


def test_a_plan_stored_without_a_name_is_named_after_its_round_set_and_making(db: Store) -> None:
    """Lists and reports name plans a planner knows: a plan stored without a name gets its round set,
    version, how it was made and the day; outside a round set, how and when; a given name is kept."""
    in_set = stored_plan(db, round_set="tue-refuse")
    loose = stored_plan(db)
    named = stored_plan(db, name="Tuesday, proposed")
    with db.transaction() as session:
        names = [store.get_plan(session, "north", i).name for i in (in_set, loose, named)]  # type: ignore[union-attr]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert names[0] == f"tue-refuse v1, optimised {today}"
    assert names[1] is not None and names[1].startswith(f"Optimised {today} ") and names[1].endswith(" UTC")
    assert names[2] == "Tuesday, proposed"


def test_plan_keeps_what_reproduces_it(db: Store) -> None:
    """A stored plan carries the inputs' hash, parameters, engine, seed, library versions and KPIs."""
    plan_id = stored_plan(db)
    with db.transaction() as session:
        plan = store.get_plan(session, "north", plan_id)
    assert plan is not None and plan.status == "draft"
    assert plan.inputs_hash == store.content_hash(body())
    assert (plan.engine, plan.seed, plan.parameters) == ("ortools", 0, {"seed": 0})
    assert "ortools" in plan.library_versions and "python" in plan.library_versions
    assert plan.kpis["cost"] == 600.0 and plan.result["type"] == "FeatureCollection"


def test_idempotency_key_returns_the_plan_stored_before(db: Store) -> None:
    """Storing a plan twice under one idempotency key stores it once."""
    first = stored_plan(db, round_set="r", idempotency_key="2026-11-27/r")
    second = stored_plan(db, round_set="r", idempotency_key="2026-11-27/r")
    with db.transaction() as session:
        assert len(store.list_plans(session, "north", round_set="r")) == 1
    assert first == second


def test_approval_names_the_person_and_is_audited_with_figures(db: Store) -> None:
    """Approving a plan records who and when, and the audit log keeps the KPIs of the time."""
    plan_id = stored_plan(db)
    with db.transaction() as session:
        plan = store.approve_plan(session, "north", plan_id, by="Ann Planner")
    assert plan is not None and plan.status == "approved" and plan.approved_by == "Ann Planner"
    assert plan.approved_at is not None and plan.approved_at.tzinfo is not None
    with db.transaction() as session:
        entries = store.list_audit(session, "north", subject_id=plan_id, actions=["plan.approve"])
    assert len(entries) == 1
    assert entries[0].actor == "Ann Planner" and entries[0].details["kpis"]["cost"] == 600.0


def test_approving_twice_is_a_conflict(db: Store) -> None:
    """A plan approved already cannot be approved again."""
    plan_id = stored_plan(db)
    with db.transaction() as session:
        store.approve_plan(session, "north", plan_id, by="Ann")
    with pytest.raises(store.ConflictError, match="approved already"), db.transaction() as session:
        store.approve_plan(session, "north", plan_id, by="Bob")


def test_audit_log_refuses_changes_through_the_orm(db: Store) -> None:
    """Changing an audit entry through the ORM raises, and nothing changes."""
    stored_plan(db)
    with pytest.raises(store.AppendOnlyError), db.transaction() as session:
        session.scalars(select(store.AuditEntry)).first().actor = "someone else"  # type: ignore[union-attr]
    with db.transaction() as session:
        assert {e.actor for e in store.list_audit(session, "north")} == {"system"}


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"])
def test_audit_log_refuses_changes_in_the_database(db: Store, statement: str) -> None:
    """The database itself refuses SQL that updates or deletes audit entries."""
    stored_plan(db)
    with pytest.raises(DBAPIError, match="append-only"), db.transaction() as session:
        session.execute(text(statement))
    with db.transaction() as session:
        assert len(store.list_audit(session, "north")) == 1


def test_a_failed_transaction_leaves_no_half_plan(db: Store) -> None:
    """A plan and its job's update that fail before commit leave neither behind."""
    with db.transaction() as session:
        problem = store.save_problem(session, "north", body())
        job = store.create_job(session, "north", problem)
        store.start_job(session, "north", job.id)
    with pytest.raises(RuntimeError, match="crash"), db.transaction() as session:
        plan = store.create_plan(session, "north", problem=problem, result=RESULT, source="optimised",
                                 parameters={})
        store.succeed_job(session, "north", job.id, plan=plan)
        raise RuntimeError("crash before commit")
    with db.transaction() as session:
        assert store.list_plans(session, "north") == []
        reread = store.get_job(session, "north", job.id)
    assert reread is not None and reread.status == "running" and reread.plan_id is None


def test_a_job_starts_once(db: Store) -> None:
    """A queued job moves to running once, counting the attempt; a second start finds nothing to do."""
    with db.transaction() as session:
        job = store.create_job(session, "north", store.save_problem(session, "north", body()))
    with db.transaction() as session:
        started = store.start_job(session, "north", job.id)
        again = store.start_job(session, "north", job.id)
    assert started is not None and started.status == "running" and started.attempts == 1
    assert again is None


def test_cancelling_a_queued_job_is_immediate(db: Store) -> None:
    """A queued job cancelled is ``cancelled`` at once and can no longer start."""
    with db.transaction() as session:
        job = store.create_job(session, "north", store.save_problem(session, "north", body()))
    with db.transaction() as session:
        cancelled = store.request_cancel(session, "north", job.id)
        assert store.start_job(session, "north", job.id) is None
    assert cancelled is not None and cancelled.status == "cancelled"


def test_cancelling_a_running_job_tells_its_progress_writer_to_stop(db: Store) -> None:
    """Progress writes of a running job answer True until a cancellation is asked for."""
    with db.transaction() as session:
        job = store.create_job(session, "north", store.save_problem(session, "north", body()))
        store.start_job(session, "north", job.id)
    with db.transaction() as session:
        assert store.record_progress(session, "north", job.id, progress=0.25, best_cost=910.0)
        store.request_cancel(session, "north", job.id)
    with db.transaction() as session:
        assert not store.record_progress(session, "north", job.id, progress=0.5, best_cost=900.0)
        reread = store.get_job(session, "north", job.id)
    assert reread is not None and reread.status == "running" and reread.cancel_requested
    assert reread.progress == 0.5 and reread.best_cost == 900.0


def test_unfinished_jobs_cover_every_tenant(db: Store) -> None:
    """Recovery sees the queued and running jobs of all tenants, and the queue count sees the queued."""
    with db.transaction() as session:
        north = store.create_job(session, "north", store.save_problem(session, "north", body()))
        south = store.create_job(session, "south", store.save_problem(session, "south", body()))
        done = store.create_job(session, "south", store.save_problem(session, "south", body(4)))
        store.start_job(session, "north", north.id)
        store.request_cancel(session, "south", done.id)
    with db.transaction() as session:
        unfinished = store.unfinished_jobs(session)
        queued = store.queued_job_count(session)
    assert sorted(unfinished) == sorted([("north", north.id, "running"), ("south", south.id, "queued")])
    assert queued == 1


def test_api_keys_are_stored_hashed_and_can_be_revoked(db: Store) -> None:
    """A new key is shown once, stored as a hash, finds its tenant, and finds nothing once revoked."""
    with db.transaction() as session:
        record, key = store.create_api_key(session, "north", name="planner laptop")
    with db.transaction() as session:
        rows = session.execute(text("SELECT key_hash, prefix FROM api_keys")).all()
        found = store.find_api_key(session, key)
        assert store.revoke_api_key(session, "south", record.id) is None
    assert rows == [(store.hash_api_key(key), key[:8])] and key not in rows[0][0]
    assert found is not None and found.tenant_id == "north"
    with db.transaction() as session:
        store.revoke_api_key(session, "north", record.id)
    with db.transaction() as session:
        assert store.find_api_key(session, key) is None


def test_a_tenant_created_by_two_sessions_at_once_is_one_row(db: Store) -> None:
    """Both sessions look the new tenant up before either creates it; the one that loses the race
    to insert it reads the winner's row instead of failing (no 500 on a council's first two requests)."""
    with db.transaction() as first, db.transaction() as second:
        assert first.get(store.Tenant, "east") is None and second.get(store.Tenant, "east") is None
        store.ensure_tenant(first, "east")
        first.commit()
        second.expunge_all()
        record = store.ensure_tenant(second, "east")
        assert record.id == "east"
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(store.Tenant)) == 1
