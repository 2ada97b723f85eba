"""Asynchronous jobs, the server's side: claimed from the one queue in the store, run, handed back.

The queue is the ``jobs`` table, shared by every replica (server process) of the service
on the same database (:mod:`app.store.job_queue`). :class:`JobRunner` stores new jobs
(:meth:`JobRunner.submit`, refusing when ``job_queue_size`` jobs already wait, or
``max_queued_jobs_per_tenant`` of the tenant), with a priority from their kind and size
(:mod:`app.jobs.priority`). Each of its dispatchers (one per solver worker process) claims
the next job it may run (fair shares: no tenant over ``max_running_jobs_per_tenant``
running) with a lease of ``job_lease_s`` seconds in this replica's name
(:mod:`app.jobs.replica`), and hands it to a solver worker
(:meth:`app.jobs.pool.SolverPool.run_job`) or, when ``WASTEROUTE_DASK_SCHEDULER`` names a Dask
cluster, to the cluster's workers (:func:`app.jobs.cluster.run_job`, which must reach the same
database). An idle dispatcher looks again every ``job_poll_interval_s`` seconds, at once when
a job is posted to this replica.

While jobs run, the runner renews their leases every ``job_heartbeat_s`` seconds, and on every
look it queues again (or fails, with no attempt left) the jobs whose lease expired: their
replica died. So a job runs once, and a replica killed mid-job loses nothing: its jobs are
claimed by another replica within ``job_lease_s + job_poll_interval_s`` seconds of its death.
A graceful stop (:meth:`JobRunner.stop`) hands its running jobs back at once, their attempt
refunded. A replica's start touches no job another replica holds a live lease on.

Either way a worker runs :func:`app.jobs.execute.execute_job`. Only ids cross the process
boundary; the store is the one place where a job's state, progress and cancellation live,
so every replica, its workers and a restarted replica all see the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from app import store
from app.compute.executors import solver_executor
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.jobs.cluster import run_job
from app.jobs.execute import ResultMaker
from app.jobs.pool import SolverPool, WorkerDiedError
from app.jobs.priority import job_priority
from app.jobs.replica import QueueClaim, claim_sqlite_queue, replica_id, sqlite_queue_lock_path
from app.store import JobRecord, Store, job_queue
from app.store.availability import first_line, is_unavailable, retry_async

logger = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE_STOPPED = job_queue.LEASE_LOST


class QueueFullError(RuntimeError):
    """The job queue holds ``job_queue_size`` jobs already, or the tenant holds
    ``max_queued_jobs_per_tenant``; ``retry_after_s`` is a fair wait."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """The queue as one replica sees it, for health and metrics: ``counts`` of jobs by ``(tenant, status)``
    over every replica, when each tenant's oldest queued job was posted (``oldest_queued``, UTC), and
    this replica's id, whether it claims jobs and the ids of the jobs it runs."""

    replica_id: str
    claiming: bool
    running_here: tuple[str, ...]
    counts: dict[tuple[str, str], int]
    oldest_queued: dict[str, datetime]


class JobRunner:
    """Runs jobs claimed from the store's queue in the solver workers, one per worker at a time.

    Creating a runner does nothing; :meth:`start` (after the workers have started) starts
    claiming; :meth:`stop` (before the workers stop) hands the jobs it was running back to the
    queue for any replica to run.
    """

    def __init__(self, db: Store, pool: SolverPool, settings: Settings,
                 makers: Mapping[str, ResultMaker] | None = None) -> None:
        self.db = db
        self.pool = pool
        self.settings = settings
        self.makers: dict[str, ResultMaker] = dict(makers or {})
        """What makes the result of the job kinds the jobs layer cannot (a ``report``), by kind."""
        self.cluster: Executor | None = None
        """The Dask cluster's executor while the runner hands jobs to it (``settings.dask_scheduler``)."""
        self.replica_id = replica_id(settings)
        """This replica's name, written as ``lease_owner`` on the jobs it runs."""
        self.claiming = False
        """Whether this replica claims jobs (not before :meth:`start`, nor as a second process on a SQLite file)."""
        self._running: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._claim_lock = threading.Lock()
        self._queue_lock: QueueClaim | None = None
        self._unavailable_since: float | None = None

    # ----------------------------------------------------------------- life cycle

    async def start(self) -> None:
        """Start claiming jobs (the first look also recovers the jobs of replicas whose leases expired)."""
        self._stopping = False
        lock_path = sqlite_queue_lock_path(self.settings.database_url)
        if lock_path is not None:
            self._queue_lock = claim_sqlite_queue(lock_path)
            if not self._queue_lock.granted:
                logger.error("another server process (pid %s) runs the job queue of this SQLite file (%s): this "
                             "one stores jobs but claims none, that process runs them. SQLite is for one server "
                             "process; run replicas on PostgreSQL (docs/reliability.md)", self._queue_lock.holder,
                             lock_path)
                self._queue_lock = None
                return
            if self._queue_lock.first_in_process:
                await self._release_orphans()
        if self.settings.dask_scheduler and self.cluster is None:
            self.cluster = await asyncio.to_thread(self._connect_cluster)
        self.claiming = True
        self._wake = asyncio.Event()
        self._tasks = [asyncio.create_task(self._dispatch(), name=f"job-dispatcher-{i}")
                       for i in range(self.pool.workers)]
        self._tasks.append(asyncio.create_task(self._keep_house(), name="job-leases"))
        logger.info("job runner started as replica %s: %d dispatcher(s), leases of %.0f s renewed every %.0f s",
                    self.replica_id, self.pool.workers, self.settings.job_lease_s, self.settings.job_heartbeat_s)

    async def _release_orphans(self) -> None:
        """On a SQLite file whose queue lock this process has just taken, no job can be running: the jobs
        found ``running`` were left by a process that died, and are released at once rather than when
        their leases expire."""
        try:
            released = await self.db.run(lambda s: job_queue.release_expired_leases(s, sole_claimer=True))
        except Exception as exc:
            self._note_unavailable(exc, "recovering the jobs a stopped process left running")
            return
        for lease in released:
            logger.warning("job %s of tenant %r was left running by a stopped process (%s); it was %s",
                           lease.job_id, lease.tenant, lease.owner or "no lease",
                           "queued again" if lease.outcome == "queued" else "failed, no attempt left")

    def _connect_cluster(self) -> Executor | None:
        """The executor of the Dask cluster at ``settings.dask_scheduler``; ``None`` (jobs then run in
        the service's own workers, and the log says why) when it cannot be reached."""
        try:
            return solver_executor(self.settings)
        except (OSError, TimeoutError) as exc:
            logger.error("the Dask scheduler at %s cannot be reached (%s); jobs run in the service's own "
                         "solver workers", self.settings.dask_scheduler, first_line(exc))
            return None

    async def stop(self) -> None:
        """Stop claiming and hand the jobs being run back to the queue (no attempt counted)."""
        await asyncio.to_thread(self._close_claims)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.cluster is not None:
            self.cluster.shutdown(wait=False, cancel_futures=True)
            self.cluster = None
        running, self._running = dict(self._running), {}
        if running:
            await asyncio.to_thread(self._put_back, running)
        self.claiming = False
        if self._queue_lock is not None:
            self._queue_lock.release()
            self._queue_lock = None

    def _close_claims(self) -> None:
        """Let no more claims start, once the one in flight (if any) has ended. Blocking."""
        with self._claim_lock:
            self._stopping = True

    def _put_back(self, running: Mapping[str, str]) -> None:
        """Return the jobs of ``running`` (job id -> tenant) this replica still holds to the queue, refunding
        their attempt.

        With the database unavailable they stay ``running`` under this replica's lease, and once it
        expires any replica retries them (spending the attempt) as after a crash."""
        try:
            with self.db.transaction() as session:
                for job_id, tenant in running.items():
                    job_queue.hand_back(session, tenant, job_id, owner=self.replica_id, reason=SERVICE_STOPPED,
                                        refund=True)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.error("could not hand %d running job(s) back to the queue, the database is unavailable; "
                         "their leases expire in %.0f s and any replica retries them", len(running),
                         self.settings.job_lease_s)

    def snapshot(self) -> QueueSnapshot:
        """The queue now (see :class:`QueueSnapshot`). Blocking: one read of the store."""
        with self.db.transaction() as session:
            counts = job_queue.job_counts(session)
            oldest = job_queue.oldest_queued(session)
        return QueueSnapshot(replica_id=self.replica_id, claiming=self.claiming,
                             running_here=tuple(sorted(self._running)), counts=counts, oldest_queued=oldest)

    # ----------------------------------------------------------------- taking jobs

    async def submit(self, tenant: str, body: JSONObject, *, kind: str = "optimisation",
                     request: JSONObject | None = None, problem_id: str | None = None,
                     created_by_user_id: str | None = None) -> JobRecord:
        """Store ``body`` (an optimisation request as posted, or an evaluation body) and queue a job
        of ``kind`` for it, asked ``request`` besides; with ``problem_id`` the job works on that stored
        problem of the tenant instead (``body`` is then not stored). ``created_by_user_id``: the person
        asking (the plans the job stores are theirs, for the four-eyes rule).

        Raises :class:`QueueFullError` when ``job_queue_size`` jobs wait already (all tenants
        together) or the tenant has ``max_queued_jobs_per_tenant`` waiting.
        """
        settings = self.settings

        def create(session: Session) -> JobRecord | tuple[str, int]:
            waiting = store.queued_job_count(session)
            if waiting >= settings.job_queue_size:
                return (f"the job queue is full ({waiting} jobs waiting, limit {settings.job_queue_size}); "
                        f"try again later"), waiting
            own = store.queued_job_count(session, tenant=tenant)
            if own >= settings.max_queued_jobs_per_tenant:
                return (f"tenant {tenant!r} has {own} jobs waiting, its limit of queued jobs "
                        f"(max_queued_jobs_per_tenant = {settings.max_queued_jobs_per_tenant}); "
                        f"try again when some have run"), waiting
            problem = (store.get_problem(session, tenant, problem_id) if problem_id is not None
                       else store.save_problem(session, tenant, body))
            if problem is None:
                raise LookupError(f"problem {problem_id!r} of tenant {tenant!r} is not in the store")
            return store.create_job(session, tenant, problem, max_attempts=settings.job_max_attempts, kind=kind,
                                    request=request, created_by_user_id=created_by_user_id,
                                    priority=job_priority(kind, body, settings))

        created = await self.db.run(create)
        if isinstance(created, tuple):
            message, waiting = created
            rounds = math.ceil((waiting + 1) / self.pool.workers)
            retry_after = max(1, math.ceil(rounds * settings.default_time_limit_s))
            raise QueueFullError(message, retry_after_s=retry_after)
        self._wake_dispatchers()
        return created

    # ----------------------------------------------------------------- claiming and running jobs

    def _wake_dispatchers(self) -> None:
        """Wake every idle dispatcher of this replica to look at the queue now."""
        self._wake.set()
        self._wake = asyncio.Event()

    async def _dispatch(self) -> None:
        """Claim jobs one at a time and run each in a solver worker, forever; idle, look again every
        ``job_poll_interval_s`` seconds or when woken."""
        while True:
            wake = self._wake  # taken before looking, so a job posted during the look wakes this one
            job = await self._claim()
            if job is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=self.settings.job_poll_interval_s)
                continue
            try:
                await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("job %s could not be run", job.id)

    async def _claim(self) -> JobRecord | None:
        """The next job this replica may run, claimed under its lease; ``None`` when there is none, or the
        database is unavailable (said once in the log until it is back)."""
        settings = self.settings

        def claim_now() -> JobRecord | None:
            # Under the claim lock and noted as running before the lock is let go: a dispatcher cancelled
            # while its claim is in flight (the thread runs on) cannot leave a claimed job stop() misses.
            with self._claim_lock:
                if self._stopping:
                    return None
                with self.db.transaction() as session:
                    job = job_queue.claim_job(session, owner=self.replica_id, lease_s=settings.job_lease_s,
                                              max_running_per_tenant=settings.max_running_jobs_per_tenant)
                if job is not None:
                    self._running[job.id] = job.tenant_id
                return job

        try:
            job = await asyncio.to_thread(claim_now)
        except Exception as exc:
            self._note_unavailable(exc, "claiming jobs")
            return None
        self._note_available()
        return job

    def _note_unavailable(self, exc: Exception, doing: str) -> None:
        """Log that the database is unavailable (once per outage), or any other error as such."""
        if not is_unavailable(exc):
            logger.exception("error while %s", doing)
            return
        if self._unavailable_since is None:
            self._unavailable_since = time.monotonic()
            logger.warning("the database is unavailable while %s: %s; trying again every %.0f s", doing,
                           first_line(exc), self.settings.job_poll_interval_s)

    def _note_available(self) -> None:
        """Log the end of an outage noted by :meth:`_note_unavailable`."""
        if self._unavailable_since is not None:
            logger.info("the database is available again after %.0f s", time.monotonic() - self._unavailable_since)
            self._unavailable_since = None

    async def _keep_house(self) -> None:
        """Forever: renew the leases of this replica's running jobs every ``job_heartbeat_s`` seconds, and
        every ``job_poll_interval_s`` seconds release the jobs whose leases expired (their replica died)."""
        settings = self.settings
        next_beat = 0.0
        while True:
            if self._running and time.monotonic() >= next_beat:
                next_beat = time.monotonic() + settings.job_heartbeat_s
                await self._heartbeat()
            if await self._release_expired():
                self._wake_dispatchers()
            await asyncio.sleep(min(settings.job_poll_interval_s, settings.job_heartbeat_s))

    async def _heartbeat(self) -> None:
        """Renew the leases of the jobs this replica runs; log any it has lost."""
        running = dict(self._running)
        try:
            lost = await self.db.run(lambda s: job_queue.renew_leases(
                s, owner=self.replica_id, job_ids=running, lease_s=self.settings.job_lease_s))
        except Exception as exc:
            self._note_unavailable(exc, "renewing leases")
            return
        for job_id in sorted(lost):
            if job_id in self._running:
                logger.error("job %s: replica %s lost its lease (not renewed within %.0f s, the database was "
                             "unavailable), and the job was queued again; the run here goes on, and the "
                             "first run to finish keeps its outcome", job_id, self.replica_id,
                             self.settings.job_lease_s)

    async def _release_expired(self) -> int:
        """Queue again or fail the jobs whose leases expired; how many were queued again."""
        running = set(self._running)
        try:
            released = await self.db.run(lambda s: job_queue.release_expired_leases(s, running_here=running))
        except Exception as exc:
            self._note_unavailable(exc, "looking for expired leases")
            return 0
        for lease in released:
            logger.warning("job %s of tenant %r: the lease of replica %s expired, the job was %s", lease.job_id,
                           lease.tenant, lease.owner or "(none)",
                           "queued again" if lease.outcome == "queued" else "failed, no attempt left")
        return sum(lease.outcome == "queued" for lease in released)

    async def _in_store(self, work: Callable[[Session], T], *, what: str) -> T:
        """``work(session)`` in one transaction, waiting out an unavailable database for as long as
        it takes (the dispatcher is cancelled at :meth:`stop`), so no job is dropped meanwhile."""
        return await retry_async(lambda: self.db.run(work), what=what)

    async def _run(self, job: JobRecord) -> None:
        """Run the claimed job, and settle it if its run ended without an outcome (a worker's death)."""
        tenant, job_id = job.tenant_id, job.id
        logger.info("job %s of tenant %r started on replica %s (attempt %d of %d, priority %d)", job_id, tenant,
                    self.replica_id, job.attempts, job.max_attempts, job.priority)
        self._running[job_id] = tenant
        try:
            status = await self._execute(tenant, job_id)
        except asyncio.CancelledError:
            raise  # still listed as running: stop() hands it back
        except Exception as exc:
            if self._stopping:
                return
            self._running.pop(job_id, None)
            await self._after_crash(tenant, job_id, _reason(exc))
            return
        self._running.pop(job_id, None)
        logger.info("job %s ended %s", job_id, status)

    async def _execute(self, tenant: str, job_id: str) -> str:
        """Run the started job on the Dask cluster when there is one, else in a solver worker; its
        final status. Either way the work is :func:`execute_job`: progress, cancellation, plan and
        outcome go through the store, which a cluster's workers must therefore reach."""
        if self.cluster is None:
            return await self.pool.run_job(self.settings, tenant, job_id, self.makers)
        status: str = await asyncio.wrap_future(self.cluster.submit(run_job, self.settings, tenant, job_id,
                                                                    self.makers))
        return status

    async def _after_crash(self, tenant: str, job_id: str, reason: str) -> None:
        """The job's run ended without an outcome (its worker died, or could not reach the store):
        queue it again while it has attempts left (``job_max_attempts``), else fail it with ``reason``
        (nothing is done if this replica no longer holds it)."""
        def settle(session: Session) -> bool:
            job = job_queue.hand_back(session, tenant, job_id, owner=self.replica_id, reason=reason)
            return job is not None and job.status == "queued"

        if await self._in_store(settle, what=f"settling job {job_id}"):
            self._wake_dispatchers()


def _reason(error: Exception) -> str:
    """Why a job's run ended without an outcome, in one line: a worker's death as the pool words it
    (``the solver worker process (pid 4242) died (signal 9, SIGKILL)``), else the error's first line."""
    if isinstance(error, WorkerDiedError):
        return str(error)
    text = str(error).strip()
    return f"its run ended without an outcome: {text.splitlines()[0] if text else type(error).__name__}"
