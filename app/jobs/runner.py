"""Asynchronous optimisation jobs, the server's side: queued in the store, handed to workers, recovered after a restart.

:class:`JobRunner` takes new jobs (:meth:`JobRunner.submit`, refusing when
``job_queue_size`` jobs already wait), hands them one at a time to each solver worker
process (:meth:`app.jobs.pool.SolverPool.run_job`), or, when
``WASTEROUTE_DASK_SCHEDULER`` names a Dask cluster, to the cluster's workers
(:func:`app.jobs.cluster.run_job`, which must reach the same database), and at startup
(:meth:`JobRunner.start`) puts back to work what a previous run left: queued jobs run
again, a job found ``running`` (the process died under it) is retried while it has
attempts left (``job_max_attempts``, 2 by default: retried once) or marked failed
with the reason.

Either way a worker runs :func:`app.jobs.execute.execute_job`. Only ids cross the
process boundary; the store is the one place where a job's state lives, so the server,
its workers and a restarted server all see the same.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from app import store
from app.compute.executors import solver_executor
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.jobs.cluster import run_job
from app.jobs.execute import ResultMaker
from app.jobs.pool import SolverPool, WorkerDiedError
from app.store import JobRecord, Store
from app.store.availability import first_line, is_unavailable, retry_async

logger = logging.getLogger(__name__)

T = TypeVar("T")

SERVICE_STOPPED = "the service stopped while the job was running"


class QueueFullError(RuntimeError):
    """The job queue holds ``job_queue_size`` jobs already, or the tenant holds
    ``max_queued_jobs_per_tenant``; ``retry_after_s`` is a fair wait."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class _Ticket:
    """A job waiting in the runner's in-memory queue."""

    tenant: str
    job_id: str


class JobRunner:
    """Runs the store's queued jobs in the solver workers, one per worker at a time.

    Creating a runner does nothing; :meth:`start` (after the workers have started)
    recovers what a previous run left and starts dispatching; :meth:`stop` (before the
    workers stop) puts the jobs it was running back in the queue for the next start.
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
        self._queue: asyncio.Queue[_Ticket] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[_Ticket] = set()
        self._stopping = False

    # ----------------------------------------------------------------- life cycle

    async def start(self) -> None:
        """Recover unfinished jobs of a previous run, queue them, and start dispatching."""
        self._stopping = False
        if self.settings.dask_scheduler and self.cluster is None:
            self.cluster = await asyncio.to_thread(self._connect_cluster)
        for ticket in await asyncio.to_thread(self._recover):
            self._queue.put_nowait(ticket)
        self._tasks = [asyncio.create_task(self._dispatch(), name=f"job-dispatcher-{i}")
                       for i in range(self.pool.workers)]
        logger.info("job runner started: %d job(s) queued", self._queue.qsize())

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
        """Stop dispatching and put the jobs being run back in the queue (no attempt counted)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.cluster is not None:
            self.cluster.shutdown(wait=False, cancel_futures=True)
            self.cluster = None
        running, self._running = list(self._running), set()
        if running:
            await asyncio.to_thread(self._put_back, running)

    def _recover(self) -> list[_Ticket]:
        """After a restart: retry or fail the jobs found running, and list every queued job, oldest first."""
        tickets: list[_Ticket] = []
        with self.db.transaction() as session:
            for tenant, job_id, status in store.unfinished_jobs(session):
                if status == "running":
                    job = store.get_job(session, tenant, job_id)
                    assert job is not None
                    if job.attempts < job.max_attempts:
                        store.requeue_job(session, tenant, job_id,
                                          reason=f"{SERVICE_STOPPED} (attempt {job.attempts} of "
                                                 f"{job.max_attempts}); it was queued again")
                    else:
                        store.fail_job(session, tenant, job_id,
                                       error=f"{SERVICE_STOPPED}, on each of its {job.attempts} attempts")
                        continue
                tickets.append(_Ticket(tenant, job_id))
        return tickets

    def _put_back(self, tickets: list[_Ticket]) -> None:
        """Return the jobs of ``tickets`` that are still running to the queue, refunding their attempt.

        With the database unavailable they stay ``running``, and the next start retries them
        (spending the attempt) as after a crash."""
        try:
            with self.db.transaction() as session:
                for ticket in tickets:
                    job = store.requeue_job(session, ticket.tenant, ticket.job_id,
                                            reason=f"{SERVICE_STOPPED}; it was queued again")
                    if job is not None and job.status == "queued":
                        job.attempts = max(0, job.attempts - 1)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.error("could not hand %d running job(s) back to the queue, the database is unavailable; "
                         "the next start recovers them", len(tickets))

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

        def create(session: Session) -> JobRecord | str:
            waiting = store.queued_job_count(session)
            if waiting >= settings.job_queue_size:
                return (f"the job queue is full ({waiting} jobs waiting, limit {settings.job_queue_size}); "
                        f"try again later")
            own = store.queued_job_count(session, tenant=tenant)
            if own >= settings.max_queued_jobs_per_tenant:
                return (f"tenant {tenant!r} has {own} jobs waiting, its limit of queued jobs "
                        f"(max_queued_jobs_per_tenant = {settings.max_queued_jobs_per_tenant}); "
                        f"try again when some have run")
            problem = (store.get_problem(session, tenant, problem_id) if problem_id is not None
                       else store.save_problem(session, tenant, body))
            if problem is None:
                raise LookupError(f"problem {problem_id!r} of tenant {tenant!r} is not in the store")
            return store.create_job(session, tenant, problem, max_attempts=settings.job_max_attempts, kind=kind,
                                    request=request, created_by_user_id=created_by_user_id)

        created = await self.db.run(create)
        if isinstance(created, str):
            rounds = math.ceil((self._queue.qsize() + 1) / self.pool.workers)
            retry_after = max(1, math.ceil(rounds * settings.default_time_limit_s))
            raise QueueFullError(created, retry_after_s=retry_after)
        self._queue.put_nowait(_Ticket(tenant, created.id))
        return created

    # ----------------------------------------------------------------- running jobs

    async def _dispatch(self) -> None:
        """Take queued jobs one at a time and run each in a solver worker, forever."""
        while True:
            ticket = await self._queue.get()
            try:
                await self._run(ticket)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("job %s could not be run", ticket.job_id)

    async def _in_store(self, work: Callable[[Session], T], *, what: str) -> T:
        """``work(session)`` in one transaction, waiting out an unavailable database for as long as
        it takes (the dispatcher is cancelled at :meth:`stop`), so no job is dropped meanwhile."""
        return await retry_async(lambda: self.db.run(work), what=what)

    async def _run(self, ticket: _Ticket) -> None:
        """Start the job in the store (skipped if cancelled meanwhile), run it, handle a worker's death."""
        job = await self._in_store(lambda s: store.start_job(s, ticket.tenant, ticket.job_id),
                                   what=f"starting job {ticket.job_id}")
        if job is None:
            return
        logger.info("job %s started (attempt %d of %d)", job.id, job.attempts, job.max_attempts)
        self._running.add(ticket)
        try:
            status = await self._execute(ticket)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._running.discard(ticket)
            if self._stopping:
                return
            await self._after_crash(ticket, _reason(exc))
            return
        self._running.discard(ticket)
        logger.info("job %s ended %s", ticket.job_id, status)

    async def _execute(self, ticket: _Ticket) -> str:
        """Run the started job on the Dask cluster when there is one, else in a solver worker; its
        final status. Either way the work is :func:`execute_job`: progress, cancellation, plan and
        outcome go through the store, which a cluster's workers must therefore reach."""
        if self.cluster is None:
            return await self.pool.run_job(self.settings, ticket.tenant, ticket.job_id, self.makers)
        status: str = await asyncio.wrap_future(self.cluster.submit(run_job, self.settings, ticket.tenant,
                                                                    ticket.job_id, self.makers))
        return status

    async def _after_crash(self, ticket: _Ticket, reason: str) -> None:
        """The job's run ended without an outcome (its worker died, or could not reach the store):
        queue it again while it has attempts left (``job_max_attempts``), else fail it with ``reason``."""
        def settle(session: Session) -> bool:
            job = store.get_job(session, ticket.tenant, ticket.job_id)
            if job is None or job.status != "running":
                return False
            attempt = f"attempt {job.attempts} of {job.max_attempts}"
            if job.attempts < job.max_attempts:
                store.requeue_job(session, ticket.tenant, ticket.job_id,
                                  reason=f"{reason} ({attempt}); it was queued again")
                return True
            store.fail_job(session, ticket.tenant, ticket.job_id, error=f"{reason} ({attempt}, no attempt left)")
            return False

        if await self._in_store(settle, what=f"settling job {ticket.job_id}"):
            self._queue.put_nowait(ticket)


def _reason(error: Exception) -> str:
    """Why a job's run ended without an outcome, in one line: a worker's death as the pool words it
    (``the solver worker process (pid 4242) died (signal 9, SIGKILL)``), else the error's first line."""
    if isinstance(error, WorkerDiedError):
        return str(error)
    text = str(error).strip()
    return f"its run ended without an outcome: {text.splitlines()[0] if text else type(error).__name__}"
