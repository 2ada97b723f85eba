"""The job queue every service replica shares: claims with leases, renewals, expired leases, counts.

A replica (one server process, named by its replica id) takes work by :func:`claim_job`: the
oldest queued job of the highest priority (lowest ``priority``) among the tenants running
fewer than their limit is marked ``running`` with one more attempt and a lease
(``lease_owner``, ``lease_expires_at``), in one transaction. On PostgreSQL the candidate row
is read ``FOR UPDATE SKIP LOCKED`` (a row another transaction holds, a cancellation being
written say, is passed over rather than waited for) and claims are serialised by a
transaction-scoped advisory lock, so two replicas never count a tenant's running jobs
at the same moment and both go over its limit; on both databases the change itself is a
conditional ``UPDATE`` of a job still queued, so no job is ever claimed twice.

While a job runs its replica calls :func:`renew_leases` (its heartbeat). A ``running`` job
whose lease has expired, or that has none (left by a version before leases), lost its
replica: :func:`release_expired_leases` queues it again while it has attempts left, else
fails it with the reason. :func:`hand_back` is the replica's own way of giving a job back
(stopping, or its worker died), touching it only while the replica still holds its lease.

Times are UTC from the calling replica's clock: replicas must keep their clocks within a
small part of the lease of each other (NTP does).

Every function here works across tenants: it is the service's own housekeeping, and
returns ids, states and counts only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from app.store.models import JobRecord, utc_now
from app.store.repository import fail_job, get_job, requeue_job

CLAIM_LOCK_KEY = 0x77617374  # "wast"
"""The PostgreSQL advisory lock (transaction-scoped) that serialises claims across replicas."""

LEASE_LOST = "the service stopped while the job was running"
"""How an expired lease is explained in a job's ``error``: its replica stopped (killed, crashed, cut off)."""


@dataclass(frozen=True, slots=True)
class ExpiredLease:
    """A running job whose lease had expired, and what became of it (``queued`` again or ``failed``)."""

    tenant: str
    job_id: str
    owner: str | None
    outcome: str


def claim_job(session: Session, *, owner: str, lease_s: float, max_running_per_tenant: int,
              now: datetime | None = None) -> JobRecord | None:
    """Claim the next job for replica ``owner`` with a lease of ``lease_s`` seconds; ``None`` if none may run.

    The next job is the queued, uncancelled job of the lowest ``priority``, oldest first,
    whose tenant has fewer than ``max_running_per_tenant`` jobs running under a live lease.
    """
    looked_at = now or utc_now()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})
    full = (select(JobRecord.tenant_id)
            .where(JobRecord.status == "running", JobRecord.lease_expires_at > looked_at)
            .group_by(JobRecord.tenant_id)
            .having(func.count() >= max_running_per_tenant))
    candidate = session.execute(
        select(JobRecord.id)
        .where(JobRecord.status == "queued", JobRecord.cancel_requested.is_(False),
               JobRecord.tenant_id.not_in(full))
        .order_by(JobRecord.priority, JobRecord.created_at, JobRecord.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=JobRecord)
    ).first()
    if candidate is None:
        return None
    # Read after the candidate, so a job claimed after another (whose claim this one's read saw) starts later.
    now = now or utc_now()
    changed = session.execute(
        update(JobRecord)
        .where(JobRecord.id == candidate[0], JobRecord.status == "queued", JobRecord.cancel_requested.is_(False))
        .values(status="running", attempts=JobRecord.attempts + 1, started_at=now, updated_at=now, progress=0.0,
                best_cost=None, lease_owner=owner, lease_expires_at=now + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    if getattr(changed, "rowcount", 0) != 1:
        return None  # another claimer of this process took it between the read and the write (SQLite)
    job = session.get(JobRecord, candidate[0])
    if job is not None:
        session.refresh(job)
    return job


def renew_leases(session: Session, *, owner: str, job_ids: Collection[str], lease_s: float,
                 now: datetime | None = None) -> set[str]:
    """Extend to ``now + lease_s`` the leases ``owner`` holds on ``job_ids``; the ids among them it has lost
    (unfinished, but queued again or claimed by another replica after its lease expired). A job that
    has finished meanwhile is neither renewed nor lost."""
    if not job_ids:
        return set()
    now = now or utc_now()
    ids = list(job_ids)
    session.execute(update(JobRecord)
                    .where(JobRecord.id.in_(ids), JobRecord.status == "running", JobRecord.lease_owner == owner)
                    .values(lease_expires_at=now + timedelta(seconds=lease_s))
                    .execution_options(synchronize_session=False))
    return set(session.scalars(
        select(JobRecord.id).where(JobRecord.id.in_(ids), JobRecord.status.in_(("queued", "running")),
                                   or_(JobRecord.lease_owner.is_(None), JobRecord.lease_owner != owner))))


def release_expired_leases(session: Session, *, now: datetime | None = None, running_here: Collection[str] = (),
                           sole_claimer: bool = False) -> list[ExpiredLease]:
    """Queue again (one attempt spent) or fail (no attempt left) every running job whose lease expired
    or that has none, except ``running_here`` (the caller's own, which it renews); what was done.

    ``sole_claimer``: the caller knows no other process runs jobs (it holds a SQLite file's queue lock
    and just started), so every running job but its own is an orphan, whatever its lease says.
    """
    now = now or utc_now()
    orphaned = JobRecord.status == "running"
    if not sole_claimer:
        orphaned = orphaned & or_(JobRecord.lease_expires_at.is_(None), JobRecord.lease_expires_at <= now)
    expired = session.scalars(
        select(JobRecord).where(orphaned).order_by(JobRecord.created_at).with_for_update(skip_locked=True)
    ).all()
    released: list[ExpiredLease] = []
    for job in expired:
        if job.id in running_here:
            continue
        owner, tenant = job.lease_owner, job.tenant_id
        whose = "" if owner is None or sole_claimer else f"replica {owner} stopped renewing its lease; "
        attempt = f"attempt {job.attempts} of {job.max_attempts}"
        if job.attempts < job.max_attempts:
            requeue_job(session, tenant, job.id, reason=f"{LEASE_LOST} ({whose}{attempt}); it was queued again")
            released.append(ExpiredLease(tenant, job.id, owner, "queued"))
        else:
            fail_job(session, tenant, job.id,
                     error=f"{LEASE_LOST}, on each of its {job.attempts} attempts ({whose}no attempt left)")
            released.append(ExpiredLease(tenant, job.id, owner, "failed"))
    return released


def hand_back(session: Session, tenant: str, job_id: str, *, owner: str, reason: str,
              refund: bool = False) -> JobRecord | None:
    """Give the running job ``owner`` holds back to the queue with ``reason`` (``refund``: its attempt not
    counted), or fail it with the reason when it has no attempt left; ``None`` (nothing touched) when
    ``owner`` no longer holds it."""
    job = get_job(session, tenant, job_id)
    if job is None or job.status != "running" or job.lease_owner != owner:
        return None
    attempt = f"attempt {job.attempts} of {job.max_attempts}"
    if refund:
        requeue_job(session, tenant, job_id, reason=f"{reason}; it was queued again")
        job.attempts = max(0, job.attempts - 1)
        return job
    if job.attempts < job.max_attempts:
        return requeue_job(session, tenant, job_id, reason=f"{reason} ({attempt}); it was queued again")
    return fail_job(session, tenant, job_id, error=f"{reason} ({attempt}, no attempt left)")


def holds_attempt(session: Session, tenant: str, job_id: str, attempt: int) -> bool:
    """Whether the tenant's job is still running its attempt number ``attempt``: a run whose lease expired
    and whose job was claimed again (one attempt more), or handed back, no longer does, and must write
    nothing more.

    Asked by an ``UPDATE`` of the row (touching ``updated_at``), so the row (PostgreSQL) or the database
    (SQLite) stays locked until the caller's transaction ends: no hand-back or claim can come between
    this answer and the caller's writes.
    """
    changed = session.execute(
        update(JobRecord)
        .where(JobRecord.tenant_id == tenant, JobRecord.id == job_id, JobRecord.status == "running",
               JobRecord.attempts == attempt)
        .values(updated_at=utc_now())
        .execution_options(synchronize_session=False))
    return getattr(changed, "rowcount", 0) == 1


def job_counts(session: Session) -> dict[tuple[str, str], int]:
    """How many jobs each tenant has in each state: ``{(tenant, status): count}``."""
    rows = session.execute(select(JobRecord.tenant_id, JobRecord.status, func.count())
                           .group_by(JobRecord.tenant_id, JobRecord.status))
    return {(tenant, status): int(count) for tenant, status, count in rows}


def oldest_queued(session: Session) -> dict[str, datetime]:
    """When each tenant's longest-waiting queued job was created (UTC): its queue wait is now minus that."""
    rows = session.execute(select(JobRecord.tenant_id, func.min(JobRecord.created_at))
                           .where(JobRecord.status == "queued").group_by(JobRecord.tenant_id))
    return {tenant: _aware(created) for tenant, created in rows}


def running_leases(session: Session) -> list[tuple[str, str, str | None, datetime | None]]:
    """``(tenant, job id, lease owner, lease expiry)`` of every running job, oldest first."""
    rows = session.execute(select(JobRecord.tenant_id, JobRecord.id, JobRecord.lease_owner,
                                  JobRecord.lease_expires_at)
                           .where(JobRecord.status == "running").order_by(JobRecord.created_at))
    return [(tenant, job_id, owner, expires) for tenant, job_id, owner, expires in rows]


def _aware(value: datetime) -> datetime:
    """An aggregate's time as an aware UTC datetime (whether or not the column type was applied to it)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
