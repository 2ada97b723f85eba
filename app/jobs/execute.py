"""Asynchronous jobs, the worker's side: one stored job run to its end.

In a worker (a solver worker process, :mod:`app.jobs.pool`, or a cluster's worker,
:mod:`app.jobs.cluster`), :func:`execute_job` reads the job's problem from the store and
does what its ``kind`` asks:

- ``optimisation``: runs the solver pipeline with a progress callback
  (:class:`ProgressWriter`) that writes the share of the time budget used and the best
  cost so far to the store at most every ``job_progress_interval_s`` seconds and stops
  the search once a cancellation is asked for, then stores the optimised plan as a
  ``draft`` and marks the job succeeded in one transaction;
- ``evaluation``: scores a person's plan with the one evaluator and keeps the answer as
  the job's result; ``plan``: the same, then stores the plan as a ``draft`` (as
  ``POST /api/v1/plans`` does);
- ``review``: plans a council's week (:mod:`app.services.round_review`; a district-sized week,
  :mod:`app.services.district_review`), stores each day's rounds
  as a ``draft`` plan (source ``review``), and each day of today's week, when the bins say where they
  are collected today, as a ``draft`` plan of source ``today`` (the savings report's baseline), and
  keeps the review, each day with its ``plan_id``, as the job's result,
  all in one transaction; a cancellation asked for while it runs stops the week's search at its
  next progress report (after a start, or a round of moves) and stores nothing;
- any other kind (a ``report``) is made by the :data:`ResultMaker` the server handed in
  for it, since what makes it lies above the jobs (:mod:`app.reports`).

Each write after the job has started is fenced by its attempt: a run whose replica lost the job's
lease (the job was claimed again, one attempt more, or handed back) writes nothing more, stops its
search at its next progress report, and ends ``superseded``, so a job's outcome is written by one
run only.

The server's side is :mod:`app.jobs.runner`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.orm import Session

from app import store
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.schemas import EvaluationRequest, OptimisationRequest, ReviewRequest
from app.services import district_review, evaluation, optimisation, plans, round_review
from app.store import JobRecord, PlanRecord, Store, job_queue
from app.store.availability import first_line, is_unavailable, retry_sync
from solver import pipeline
from solver.problem import ProblemError, SolveOptions

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)

T = TypeVar("T")

ResultMaker = Callable[["Store", Settings, str, JSONObject, "RoadNetwork"], JSONObject]
"""Makes the result of a job kind the jobs cannot make themselves: called with the store, the
settings, the tenant, the job's ``request`` and the worker's network, it answers the result to
keep (JSON), or raises an error whose message says why the job failed. Blocking. It must be a
module-level function: it is pickled by name to reach a worker process."""


SUPERSEDED = "superseded"
"""What :func:`execute_job` answers for a run that lost its job to another run (see the module's docstring)."""

_current_run: ContextVar[tuple[str, str, int] | None] = ContextVar("current_run", default=None)
"""``(tenant, job id, attempt)`` of the run this thread is doing, which every write checks it still holds."""


class _SupersededError(Exception):
    """The job is no longer running the attempt this run started as: nothing more may be written."""


def _still_held(session: Session) -> None:
    """Raise :class:`_SupersededError` unless this thread's run still holds its job (no run: nothing to check)."""
    run = _current_run.get()
    if run is not None and not job_queue.holds_attempt(session, *run):
        raise _SupersededError(f"job {run[1]} is no longer running attempt {run[2]}")


class ProgressWriter:
    """The pipeline's ``on_progress`` callback for one job: writes progress, hears of cancellation.

    Called with the share of the time budget used (0..1) and the best cost so far; writes
    them to the store at most every ``interval_s`` seconds and answers ``False`` (stop
    the search) once the job's cancellation was asked for.
    """

    def __init__(self, db: Store, tenant: str, job_id: str, *, interval_s: float) -> None:
        self.db = db
        self.tenant = tenant
        self.job_id = job_id
        self.interval_s = interval_s
        self.best_cost: float | None = None
        self.cancelled = False
        self._last = -math.inf

    def __call__(self, elapsed_fraction: float, best_cost: float | None) -> bool:
        """Record ``best_cost``; every ``interval_s`` write progress and check for cancellation."""
        if best_cost is not None and math.isfinite(best_cost):
            self.best_cost = best_cost if self.best_cost is None else min(self.best_cost, best_cost)
        now = time.monotonic()
        if now - self._last < self.interval_s:
            return not self.cancelled
        self._last = now
        try:
            with self.db.transaction() as session:
                _still_held(session)
                go_on = store.record_progress(session, self.tenant, self.job_id, progress=elapsed_fraction,
                                              best_cost=self.best_cost)
        except _SupersededError:
            self.cancelled = True  # stops this run's search; its writes are refused
            return False
        except Exception as exc:  # progress is best effort: a database away for a moment stops no search
            if not is_unavailable(exc):
                raise
            logger.warning("job %s: progress not written, the database is unavailable: %s", self.job_id,
                           first_line(exc))
            return not self.cancelled
        self.cancelled = self.cancelled or not go_on
        return go_on


def _parameters(options: SolveOptions) -> JSONObject:
    """The options a plan was made with, as stored with it."""
    return {"time_limit_s": options.time_limit_s, "seed": options.seed, "engine": options.engine,
            "objective": options.objective, "move_penalty": options.move_penalty,
            "search_processes": options.search_processes,
            "initial_routes": [{"vehicle_id": r.vehicle_id, "stops": [*r.stops], "locked": r.locked}
                               for r in options.initial_routes],
            "balance": options.balance, "balance_tolerance": options.balance_tolerance, "compact": options.compact,
            "fix_directions": options.fix_directions,
            "territories": [[bin_id, vehicle_id] for bin_id, vehicle_id in options.territories]}


def _fault(exc: ProblemError) -> str:
    """A problem's fault in words, naming the field and the id."""
    where = exc.field if exc.item_id is None else f"{exc.field} of {exc.item_id!r}"
    message = str(exc)
    return message if exc.field in message else f"{where}: {message}"


def execute_job(db: Store, settings: Settings, tenant: str, job_id: str, network: RoadNetwork,
                makers: Mapping[str, ResultMaker] | None = None) -> str:
    """Run the running job ``job_id`` of ``tenant`` on ``network`` as its kind asks; its final status.
    Blocking.

    A plan or result and the job's success are written in one transaction; a search stopped
    by a cancellation stores no plan. A fault of the problem (a depot off the network, say)
    or an error of the solver fails the job with the reason. ``makers`` make the result of
    the kinds this module cannot (a ``report``). While the database is locked or
    unreachable, reads and writes of the job are tried again with back-off for up to
    ``settings.database_retry_s`` seconds (progress writes are skipped), after which the
    error is raised and the job runner retries or fails the job.
    """
    def read(session: Session) -> tuple[JobRecord | None, JSONObject | None]:
        job = store.get_job(session, tenant, job_id)
        record = None if job is None else store.get_problem(session, tenant, job.problem_id)
        return job, None if record is None else record.body

    job, body = _write(db, settings, read, what=f"reading job {job_id}")
    if job is None or job.status != "running":
        return "missing" if job is None else job.status
    token = _current_run.set((tenant, job_id, job.attempts))
    try:
        return _execute(db, settings, tenant, job, body, network, makers)
    except _SupersededError as exc:
        logger.warning("%s: it was claimed again after this run's lease expired (or handed back); this run "
                       "wrote nothing and stops", exc)
        return SUPERSEDED
    finally:
        _current_run.reset(token)


def _execute(db: Store, settings: Settings, tenant: str, job: JobRecord, body: JSONObject | None,
             network: RoadNetwork, makers: Mapping[str, ResultMaker] | None) -> str:
    """:func:`execute_job` once the running job is read and this run's attempt noted."""
    job_id = job.id
    if body is None:
        return _fail(db, settings, tenant, job_id, f"the job's problem {job.problem_id!r} is not in the store")
    if job.kind == "optimisation":
        return _optimise(db, settings, tenant, job, body, network)
    if job.kind in ("evaluation", "plan"):
        return _evaluate(db, settings, tenant, job, body, network)
    if job.kind == "review":
        return _review(db, settings, tenant, job, body, network)
    maker = (makers or {}).get(job.kind)
    if maker is None:
        return _fail(db, settings, tenant, job_id, f"kind: this worker cannot run a job of kind {job.kind!r}")
    return _make(db, settings, tenant, job, maker, network)


def _optimise(db: Store, settings: Settings, tenant: str, job: JobRecord, body: JSONObject,
              network: RoadNetwork) -> str:
    """Optimise the job's problem and store the plan as a draft (named and in the round set the job's
    request gives, else named after how and when it was made); the job's final status. Blocking."""
    job_id = job.id

    def territories(request: OptimisationRequest) -> Callable[[Session], tuple[tuple[str, str], ...]]:
        return lambda session: plans.territories_of(session, tenant, request)

    started = time.perf_counter()
    writer = ProgressWriter(db, tenant, job_id, interval_s=settings.job_progress_interval_s)
    try:
        request = OptimisationRequest.model_validate(body)
        fixed = _write(db, settings, territories(request), what=f"reading the territories of job {job_id}")
        problem, options = optimisation.prepare(request, settings=settings, territories=fixed)
        planned = pipeline.optimise(problem, network, options, snap_limit_m=settings.snap_limit_m,
                                    on_progress=writer)
        response = optimisation.to_response(problem, planned, started=started, time_limit_s=options.time_limit_s)
    except ProblemError as exc:
        return _fail(db, settings, tenant, job_id, _fault(exc))
    except Exception as exc:
        logger.exception("job %s failed in the solver", job_id)
        return _fail(db, settings, tenant, job_id, f"the solver failed: {type(exc).__name__}: {exc}")
    result = response.model_dump(mode="json", exclude_none=True)

    def finish(session: Session) -> PlanRecord | None:
        if writer.cancelled or store.cancel_requested(session, tenant, job_id):
            store.mark_job_cancelled(session, tenant, job_id)
            return None
        problem_record = store.get_problem(session, tenant, job.problem_id)
        assert problem_record is not None
        asked = dict(job.request or {})
        round_set, name = asked.get("round_set"), asked.get("name")
        plan = store.create_plan(session, tenant, problem=problem_record, result=result, source="optimised",
                                 parameters=_parameters(options), engine=options.engine, seed=options.seed,
                                 round_set=round_set if isinstance(round_set, str) else None,
                                 name=name if isinstance(name, str) else None,
                                 created_by_user_id=job.created_by_user_id)
        store.succeed_job(session, tenant, job_id, plan=plan, best_cost=writer.best_cost)
        return plan

    plan = _write(db, settings, finish, what=f"storing the plan of job {job_id}")
    if plan is None:
        logger.info("job %s cancelled after %.1f s", job_id, time.perf_counter() - started)
        return "cancelled"
    logger.info("job %s succeeded in %.1f s: plan %s, %d bins served, %d unassigned", job_id,
                time.perf_counter() - started, plan.id, response.summary.bins_served,
                response.summary.bins_unassigned)
    return "succeeded"


def _evaluate(db: Store, settings: Settings, tenant: str, job: JobRecord, body: JSONObject,
              network: RoadNetwork) -> str:
    """Score a person's plan (the job's problem: an evaluation body) and keep the answer as the job's
    result, or, for a ``plan`` job, store it as a draft plan (named and in the round set the job's
    request gives); the job's final status. Blocking."""
    job_id = job.id
    asked = dict(job.request or {})
    started = time.perf_counter()
    try:
        request = EvaluationRequest.model_validate(body)
        problem, options, routes = evaluation.prepare(request, settings=settings)
        response = evaluation.evaluate(problem, routes, options, network, snap_limit_m=settings.snap_limit_m)
    except ProblemError as exc:
        return _fail(db, settings, tenant, job_id, _fault(exc))
    except Exception as exc:
        logger.exception("job %s failed in the evaluator", job_id)
        return _fail(db, settings, tenant, job_id, f"the evaluator failed: {type(exc).__name__}: {exc}")

    def finish(session: Session) -> str:
        if store.cancel_requested(session, tenant, job_id):
            store.mark_job_cancelled(session, tenant, job_id)
            return "cancelled"
        if job.kind == "plan":
            round_set, name = asked.get("round_set"), asked.get("name")
            plan = plans.store_manual_plan(session, tenant, request, response,
                                           round_set=round_set if isinstance(round_set, str) else None,
                                           name=name if isinstance(name, str) else None,
                                           created_by_user_id=job.created_by_user_id)
            store.succeed_job(session, tenant, job_id, plan=plan)
        else:
            store.succeed_job(session, tenant, job_id, result=response.model_dump(mode="json", exclude_none=True))
        return "succeeded"

    status = _write(db, settings, finish, what=f"storing the answer of job {job_id}")
    logger.info("job %s (%s) %s in %.1f s: %d bins served, %d unassigned, %d violations", job_id, job.kind,
                status, time.perf_counter() - started, response.summary.bins_served,
                response.summary.bins_unassigned, response.summary.violations)
    return status


class _CancelledError(Exception):
    """Raised from a review's progress report once its cancellation was asked for, to stop the search."""


def _review(db: Store, settings: Settings, tenant: str, job: JobRecord, body: JSONObject,
            network: RoadNetwork) -> str:
    """Review the job's week (its problem: a review body), store each day's rounds as a draft plan named
    ``review <job id> <day> <week>`` (and today's as ``today <job id> <day> <week>``, source ``today``) and
    keep the review (``review_id``: the job's id) as the job's result; the job's final status. Blocking."""
    job_id = job.id
    started = time.perf_counter()
    writer = ProgressWriter(db, tenant, job_id, interval_s=settings.job_progress_interval_s)

    def report(share: float) -> None:
        if not writer(share, None):  # the week's search has no stop of its own: it is unwound from here
            raise _CancelledError

    try:
        request = ReviewRequest.model_validate(body)
        reviewer = district_review.review if district_review.takes_district_path(request, settings) \
            else round_review.review
        outcome = reviewer(request, network, settings=settings, progress=report)
    except _CancelledError:
        _write(db, settings, lambda session: store.mark_job_cancelled(session, tenant, job_id),
               what=f"cancelling job {job_id}")
        logger.info("job %s (review) cancelled after %.1f s", job_id, time.perf_counter() - started)
        return "cancelled"
    except ProblemError as exc:
        return _fail(db, settings, tenant, job_id, _fault(exc))
    except Exception as exc:
        logger.exception("job %s (review) failed", job_id)
        return _fail(db, settings, tenant, job_id, f"the review failed: {type(exc).__name__}: {exc}")

    def finish(session: Session) -> str:
        if writer.cancelled or store.cancel_requested(session, tenant, job_id):
            store.mark_job_cancelled(session, tenant, job_id)
            return "cancelled"
        result = dict(outcome.result)
        _store_days(session, tenant, job, result["days"], outcome.days, source="review")
        today = result.get("today")
        if isinstance(today, dict):
            _store_days(session, tenant, job, today["days"], outcome.today, source="today")
        result["review_id"] = job_id
        store.succeed_job(session, tenant, job_id, result=result)
        return "succeeded"

    status = _write(db, settings, finish, what=f"storing the review of job {job_id}")
    logger.info("job %s (review) %s in %.1f s", job_id, status, time.perf_counter() - started)
    return status


def _store_days(session: Session, tenant: str, job: JobRecord, rows: object,
                days: Sequence[round_review.ReviewedDay], *, source: str) -> None:
    """Store each day with rounds of a review as a draft plan of ``source`` named ``<source> <job id> <day>
    <week>`` (created by whoever asked for the review), writing its ``plan_id`` into the matching row of the
    answer (``rows``, in the days' order)."""
    assert isinstance(rows, list)
    job_id = job.id
    for row, day in zip(rows, days, strict=True):
        if day.body is None or day.answer is None:
            continue
        problem = store.save_problem(session, tenant, day.body)
        plan = store.create_plan(session, tenant, problem=problem, result=day.answer, source=source,
                                 parameters={"review_id": job_id, "day": day.day, "week": day.week},
                                 name=f"{source} {job_id} {day.day} {day.week}",
                                 created_by_user_id=job.created_by_user_id)
        assert isinstance(row, dict)
        row["plan_id"] = plan.id


def _make(db: Store, settings: Settings, tenant: str, job: JobRecord, maker: ResultMaker,
          network: RoadNetwork) -> str:
    """Make the job's result with ``maker`` and keep it; the job's final status. Blocking."""
    job_id = job.id
    started = time.perf_counter()
    try:
        result = maker(db, settings, tenant, dict(job.request or {}), network)
    except ProblemError as exc:
        return _fail(db, settings, tenant, job_id, _fault(exc))
    except Exception as exc:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        return _fail(db, settings, tenant, job_id, f"the {job.kind} failed: {type(exc).__name__}: {exc}")

    def finish(session: Session) -> str:
        if store.cancel_requested(session, tenant, job_id):
            store.mark_job_cancelled(session, tenant, job_id)
            return "cancelled"
        store.succeed_job(session, tenant, job_id, result=result)
        return "succeeded"

    status = _write(db, settings, finish, what=f"storing the result of job {job_id}")
    logger.info("job %s (%s) %s in %.1f s", job_id, job.kind, status, time.perf_counter() - started)
    return status


def _write(db: Store, settings: Settings, work: Callable[[Session], T], *, what: str) -> T:
    """``work(session)`` in one transaction, tried again while the database is unavailable
    (for up to ``settings.database_retry_s`` seconds). Blocking."""
    def attempt() -> T:
        with db.transaction() as session:
            _still_held(session)
            return work(session)
    return retry_sync(attempt, within_s=settings.database_retry_s, what=what)


def _fail(db: Store, settings: Settings, tenant: str, job_id: str, reason: str) -> str:
    """Mark the job failed with ``reason``; ``"failed"``."""
    _write(db, settings, lambda session: store.fail_job(session, tenant, job_id, error=reason),
           what=f"failing job {job_id}")
    logger.info("job %s failed: %s", job_id, reason)
    return "failed"
