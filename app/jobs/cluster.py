"""Work units that run the service's own work on an executor's workers (a Dask cluster or a local pool).

The executors and the road network each worker keeps are in :mod:`app.compute.executors`;
the units here need the service's translators and its store, which lie above it:

- :func:`run_solve` (a :class:`SolveTask` in, a :class:`SolveOutcome` out, errors
  included, never raising): one problem optimised by :func:`solver.pipeline.optimise`,
  answered as the API's optimisation answer (a JSON-able dict). The nightly batch
  (:mod:`app.batch.nightly`) submits these.
- :func:`run_job`: a stored job of the API run to its end (progress, cancellation and
  the plan through the store), so the API's job runner (:mod:`app.jobs.runner`) can use
  the same cluster. Dask names its tasks after this function (``run_job``).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass

from app.compute.executors import NetworkPaths, worker_name, worker_network
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.jobs.execute import ResultMaker, execute_job
from app.services import optimisation as service
from app.store.engine import Store
from solver.problem import Problem, ProblemError, SolveOptions

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SolveTask:
    """One solve to run on a worker: ``key`` names it for the caller (a round set, say)."""

    key: str
    problem: Problem
    options: SolveOptions
    network: NetworkPaths
    snap_limit_m: float = 200.0


@dataclass(frozen=True, slots=True)
class SolveOutcome:
    """What a worker answers for a :class:`SolveTask`.

    ``response`` is the optimisation answer (the API's FeatureCollection as a dict) when
    the solve succeeded; otherwise ``error`` says why, and for a fault of the input
    ``error_field`` / ``error_id`` name the field and id (as a ``ProblemError`` does).
    ``seconds`` is the wall-clock time of the unit on the worker, ``worker`` its
    ``host:pid``.
    """

    key: str
    response: JSONObject | None
    error: str | None = None
    error_field: str | None = None
    error_id: str | None = None
    seconds: float = 0.0
    worker: str = ""

    @property
    def ok(self) -> bool:
        """Whether the solve succeeded."""
        return self.response is not None


def run_solve(task: SolveTask) -> SolveOutcome:
    """Optimise ``task.problem`` on this worker's network; never raises (errors go in the outcome)."""
    import json

    started = time.perf_counter()
    try:
        network = worker_network(task.network)
        answer = service.solve(task.problem, task.options, network, snap_limit_m=task.snap_limit_m)
        response = json.loads(service.dump_response(answer))
    except ProblemError as exc:
        return SolveOutcome(key=task.key, response=None, error=str(exc), error_field=exc.field,
                            error_id=exc.item_id, seconds=time.perf_counter() - started, worker=worker_name())
    except Exception as exc:  # a failed unit is reported, never lost: the batch goes on with the others
        logger.exception("solve %s failed", task.key)
        return SolveOutcome(key=task.key, response=None,
                            error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}",
                            seconds=time.perf_counter() - started, worker=worker_name())
    return SolveOutcome(key=task.key, response=response, seconds=time.perf_counter() - started,
                        worker=worker_name())


_stores: dict[str, Store] = {}
"""This process's connections to stores, by database URL (opened at its first job)."""


def run_job(settings: Settings, tenant: str, job_id: str, makers: Mapping[str, ResultMaker] | None = None) -> str:
    """Run the stored, ``running`` job ``job_id`` of ``tenant`` on this worker; its final status.

    The same work as the service's own job workers (:func:`app.jobs.execute.execute_job`:
    progress and cancellation through the store, plan and outcome in one transaction),
    so the API's job runner can hand jobs to the cluster. The worker must reach
    ``settings.database_url`` (PostgreSQL for a cluster of several machines).
    """
    db = _stores.get(settings.database_url)
    if db is None:
        db = _stores[settings.database_url] = Store(settings.database_url)
    return execute_job(db, settings, tenant, job_id, worker_network(NetworkPaths.of(settings)), makers)
