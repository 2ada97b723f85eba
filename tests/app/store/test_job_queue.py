"""The job queue replicas share, on a real SQLite file and a real PostgreSQL server: claims in order of
priority and age under per-tenant running limits, leases renewed and expired, jobs handed back, and
no job claimed twice by claimers racing in threads."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from app import store
from app.store import Store, job_queue
from app.store.models import utc_now

LEASE_S = 30.0


@pytest.fixture
def db(empty_store: Store) -> Store:
    """A migrated store on an empty database (SQLite, and PostgreSQL where it runs)."""
    return empty_store


def body(seed: int) -> dict[str, Any]:
    """A small problem body, distinct per ``seed``."""
    return {"depots": [{"id": "depot", "lon": 7.41, "lat": 43.73}],
            "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 100}],
            "bins": [{"id": "b1", "lon": 7.42, "lat": 43.735, "demand_kg": 10}],
            "options": {"time_limit_s": 1, "seed": seed}}


def queue_job(db: Store, tenant: str, *, priority: int = 1, seed: int = 0, max_attempts: int = 2) -> str:
    """A queued job of ``tenant``; its id."""
    with db.transaction() as session:
        problem = store.save_problem(session, tenant, body(seed))
        return store.create_job(session, tenant, problem, priority=priority, max_attempts=max_attempts).id


def claim(db: Store, owner: str = "replica-a", *, limit: int = 4) -> str | None:
    """The id of the job ``owner`` claims next, or ``None``."""
    with db.transaction() as session:
        job = job_queue.claim_job(session, owner=owner, lease_s=LEASE_S, max_running_per_tenant=limit)
        return None if job is None else job.id


def expire(db: Store, job_id: str) -> None:
    """Make the job's lease end a second ago, as a dead replica's lease does."""
    with db.transaction() as session:
        job = session.get(store.JobRecord, job_id)
        assert job is not None
        job.lease_expires_at = utc_now() - timedelta(seconds=1)


def test_claim_takes_the_highest_priority_then_the_oldest_and_sets_a_lease(db: Store) -> None:
    """Priority 0 goes before older jobs of priority 1 and 2; the claimed job runs under the owner's lease,
    one attempt spent."""
    large = queue_job(db, "north", priority=2, seed=1)
    standard = queue_job(db, "north", priority=1, seed=2)
    small = queue_job(db, "north", priority=0, seed=3)
    before = utc_now()
    order = [claim(db), claim(db), claim(db), claim(db)]
    assert order == [small, standard, large, None]
    with db.transaction() as session:
        job = store.get_job(session, "north", small)
        assert job is not None and (job.status, job.attempts, job.lease_owner) == ("running", 1, "replica-a")
        assert job.lease_expires_at is not None
        assert before + timedelta(seconds=LEASE_S - 1) < job.lease_expires_at <= utc_now() + timedelta(seconds=LEASE_S)


def test_a_tenant_at_its_running_limit_waits_while_another_tenant_is_claimed(db: Store) -> None:
    """With ``north`` running its limit of two, its older job waits and ``south``'s newer job is claimed;
    when one of north's jobs finishes its next job is claimed again."""
    first, second, third = (queue_job(db, "north", seed=s) for s in (1, 2, 3))
    south = queue_job(db, "south", seed=4)
    assert [claim(db, limit=2), claim(db, "replica-b", limit=2)] == [first, second]
    assert claim(db, limit=2) == south
    assert claim(db, limit=2) is None
    with db.transaction() as session:
        store.succeed_job(session, "north", first)
    assert claim(db, limit=2) == third


def test_expired_leases_do_not_count_against_the_running_limit(db: Store) -> None:
    """A running job whose lease expired (its replica is dead) no longer holds a place of its tenant."""
    first = queue_job(db, "north", seed=1)
    second = queue_job(db, "north", seed=2)
    assert claim(db, limit=1) == first
    assert claim(db, limit=1) is None
    expire(db, first)
    assert claim(db, "replica-b", limit=1) == second


def test_a_cancelled_job_is_never_claimed(db: Store) -> None:
    """A job cancelled while queued is not claimed."""
    job_id = queue_job(db, "north")
    with db.transaction() as session:
        store.request_cancel(session, "north", job_id)
    assert claim(db) is None


def test_expired_lease_queues_the_job_again_naming_the_replica_then_fails_it_past_its_attempts(db: Store) -> None:
    """A job whose replica stopped renewing is queued again (reason naming the replica, an audit line), claimed
    by another replica with its second attempt; when that lease expires too it fails with the reason."""
    job_id = queue_job(db, "north", max_attempts=2)
    assert claim(db, "replica-a") == job_id
    expire(db, job_id)
    with db.transaction() as session:
        released = job_queue.release_expired_leases(session)
    assert released == [job_queue.ExpiredLease("north", job_id, "replica-a", "queued")]
    with db.transaction() as session:
        job = store.get_job(session, "north", job_id)
        assert job is not None and (job.status, job.attempts, job.lease_owner) == ("queued", 1, None)
        assert "replica replica-a stopped renewing its lease" in (job.error or "")
        assert [e.action for e in store.list_audit(session, "north", subject_id=job_id)][-1] == "job.retry"
    assert claim(db, "replica-b") == job_id
    expire(db, job_id)
    with db.transaction() as session:
        assert [r.outcome for r in job_queue.release_expired_leases(session)] == ["failed"]
        job = store.get_job(session, "north", job_id)
        assert job is not None and (job.status, job.attempts) == ("failed", 2)
        assert "service stopped while the job was running, on each of its 2 attempts" in (job.error or "")


def test_live_leases_and_the_callers_own_jobs_are_left_alone(db: Store) -> None:
    """Release touches neither a job under a live lease nor an expired one the caller says it runs."""
    live = queue_job(db, "north", seed=1)
    own = queue_job(db, "north", seed=2)
    assert [claim(db), claim(db)] == [live, own]
    expire(db, own)
    with db.transaction() as session:
        assert job_queue.release_expired_leases(session, running_here={own}) == []
        assert [store.get_job(session, "north", i).status for i in (live, own)] == ["running", "running"]  # type: ignore[union-attr]


def test_renewal_extends_the_lease_and_reports_a_job_taken_over(db: Store) -> None:
    """The holder's renewal moves its lease on; after its lease expired and another replica claimed the
    job, the first replica's renewal reports it lost and leaves the new lease alone."""
    job_id = queue_job(db, "north")
    assert claim(db, "replica-a") == job_id
    later = utc_now() + timedelta(seconds=60)
    with db.transaction() as session:
        assert job_queue.renew_leases(session, owner="replica-a", job_ids=[job_id], lease_s=LEASE_S, now=later) == set()
        job = store.get_job(session, "north", job_id)
        assert job is not None and job.lease_expires_at == later + timedelta(seconds=LEASE_S)
    expire(db, job_id)
    with db.transaction() as session:
        job_queue.release_expired_leases(session)
    assert claim(db, "replica-b") == job_id
    with db.transaction() as session:
        assert job_queue.renew_leases(session, owner="replica-a", job_ids=[job_id], lease_s=LEASE_S) == {job_id}
        job = store.get_job(session, "north", job_id)
        assert job is not None and job.lease_owner == "replica-b"


def test_hand_back_only_by_the_holder_refunding_the_attempt_when_asked(db: Store) -> None:
    """Another replica cannot hand back a job it does not hold; the holder's refunded hand-back queues it
    with no attempt spent, an unrefunded one spends it, and past its attempts the job fails."""
    job_id = queue_job(db, "north", max_attempts=1)
    assert claim(db, "replica-a") == job_id
    with db.transaction() as session:
        assert job_queue.hand_back(session, "north", job_id, owner="replica-b", reason="stopping") is None
        job = job_queue.hand_back(session, "north", job_id, owner="replica-a", reason="stopping", refund=True)
        assert job is not None and (job.status, job.attempts) == ("queued", 0)
    assert claim(db, "replica-a") == job_id
    with db.transaction() as session:
        job = job_queue.hand_back(session, "north", job_id, owner="replica-a", reason="the worker died")
        assert job is not None and job.status == "failed"
        assert job.error == "the worker died (attempt 1 of 1, no attempt left)"


def test_racing_claimers_claim_every_job_exactly_once(db: Store) -> None:
    """Four threads, each with its own connections, claim twenty jobs of three tenants until none is left:
    every job is claimed once, by one claimer."""
    ids = {queue_job(db, tenant, seed=i) for i, tenant in enumerate(["north", "south", "east"] * 7) if i < 20}
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(owner: str) -> None:
        mine = Store(db.url)
        misses = 0
        while misses < 3:
            with mine.transaction() as session:
                job = job_queue.claim_job(session, owner=owner, lease_s=LEASE_S, max_running_per_tenant=100)
            if job is None:
                misses += 1
                continue
            with lock:
                claimed.append(job.id)
        mine.dispose()

    threads = [threading.Thread(target=claimer, args=(f"replica-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(claimed) == sorted(ids)
    with db.transaction() as session:
        counts = job_queue.job_counts(session)
    assert sum(n for (_, status), n in counts.items() if status == "running") == 20


def test_counts_and_oldest_queued_per_tenant(db: Store) -> None:
    """Counts by tenant and state, and each tenant's oldest queued job's time, for health and metrics."""
    started = utc_now()
    first = queue_job(db, "north", seed=1)
    queue_job(db, "north", seed=2)
    queue_job(db, "south", seed=3)
    assert claim(db) == first
    with db.transaction() as session:
        counts = job_queue.job_counts(session)
        oldest = job_queue.oldest_queued(session)
        leases = job_queue.running_leases(session)
    assert counts == {("north", "running"): 1, ("north", "queued"): 1, ("south", "queued"): 1}
    assert set(oldest) == {"north", "south"} and all(started <= t <= utc_now() for t in oldest.values())
    assert [(tenant, job_id, owner) for tenant, job_id, owner, _ in leases] == [("north", first, "replica-a")]
