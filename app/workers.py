"""Solves run in worker processes, so the event loop keeps answering meanwhile.

Why processes and not threads: OR-Tools' routing search holds the GIL for its whole
duration (measured with ortools 9.15: while a 3 s search ran in a thread, the main
thread could not run once in those 3 s). A solve in a worker thread would freeze
every other request, health checks included.

:class:`SolverPool` keeps ``max_concurrent_solves`` worker processes (started with
``spawn``: safe beside the server's threads). Each worker loads the road network
once, from the cache the server process built at startup, and keeps it for every
solve it runs. A solve sends the :class:`~solver.problem.Problem` and
:class:`~solver.problem.SolveOptions` to a worker and gets the finished
:class:`~app.schemas.OptimisationResponse` back; requests beyond the number of
workers wait in the pool's queue.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.network_registry import load_road_network
from app.schemas import OptimisationResponse
from app.services import evaluation as evaluation_service
from app.services import optimisation as service
from solver.problem import Problem, ProblemError, SolveOptions
from solver.solution import RoutePlan

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)


class WorkersUnavailableError(RuntimeError):
    """The solver workers are not running (the service is starting or stopping)."""


class SolverFailureError(RuntimeError):
    """A solve failed inside a worker for a reason that is no fault of the input."""


# --------------------------------------------------------------------------- inside a worker

_worker_network: RoadNetwork | None = None
"""The road network of this worker process (set by :func:`_init_worker`; unused in the server process)."""


def _init_worker(network_file: Path, cache_dir: Path, log_level: str) -> None:
    """Set up a fresh worker process: logging, then the road network (from the cache)."""
    global _worker_network
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _worker_network = load_road_network(network_file, cache_dir=cache_dir)


def _ping() -> int:
    """A task that only proves a worker is up (its process id)."""
    return os.getpid()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a worker sends back: the answer, or the fields of a ``ProblemError``.

    (``ProblemError`` itself cannot cross the process boundary: its keyword-only
    arguments do not survive pickling.)
    """

    response: OptimisationResponse | None = None
    problem_error: tuple[str, str, str | None] | None = None


def _run_in_worker(work: Callable[[RoadNetwork], OptimisationResponse]) -> _Outcome:
    """Run ``work`` on this worker's network, turning its errors into something picklable."""
    if _worker_network is None:
        raise SolverFailureError("worker started without a road network")
    try:
        return _Outcome(response=work(_worker_network))
    except ProblemError as exc:
        return _Outcome(problem_error=(str(exc), exc.field, exc.item_id))
    except Exception as exc:  # re-raised as a plain picklable error carrying the worker's traceback
        raise SolverFailureError(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}") from None


def _solve_in_worker(problem: Problem, options: SolveOptions, snap_limit_m: float) -> _Outcome:
    """Run one solve on this worker's network."""
    return _run_in_worker(lambda network: service.solve(problem, options, network, snap_limit_m=snap_limit_m))


def _evaluate_in_worker(problem: Problem, routes: Sequence[RoutePlan], options: SolveOptions,
                        snap_limit_m: float) -> _Outcome:
    """Evaluate one plan made by a person on this worker's network."""
    return _run_in_worker(lambda network: evaluation_service.evaluate(problem, routes, options, network,
                                                                      snap_limit_m=snap_limit_m))


# --------------------------------------------------------------------------- in the server


class SolverPool:
    """Worker processes that run solves for the server.

    Creating a pool does nothing; :meth:`start` (in the application's lifespan,
    after the network is loaded and cached) starts the workers and waits until each
    has loaded the network; :meth:`stop` ends them.
    """

    def __init__(self, *, network_file: Path, cache_dir: Path, workers: int, log_level: str) -> None:
        """Remember how to start the workers; start none yet."""
        self.network_file = network_file
        self.cache_dir = cache_dir
        self.workers = workers
        self.log_level = log_level
        self._executor: ProcessPoolExecutor | None = None
        self._in_flight = 0

    def _new_executor(self) -> ProcessPoolExecutor:
        """A process pool whose workers each load the network when they start."""
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.network_file, self.cache_dir, self.log_level),
        )

    async def start(self) -> None:
        """Start the workers and wait until every one has loaded the network."""
        if self._executor is not None:
            return
        executor = self._new_executor()
        loop = asyncio.get_running_loop()
        try:
            pids = await asyncio.gather(*(loop.run_in_executor(executor, _ping) for _ in range(self.workers)))
        except BrokenProcessPool as exc:
            executor.shutdown(wait=False, cancel_futures=True)
            raise RuntimeError("solver workers failed to start; see the log above") from exc
        self._executor = executor
        logger.info("%d solver worker process(es) ready: %s", self.workers, sorted(set(pids)))

    async def stop(self) -> None:
        """End the workers, those in the middle of a solve included."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        _terminate(executor)
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    @property
    def running(self) -> int:
        """Solves being worked on now."""
        return min(self._in_flight, self.workers)

    @property
    def queued(self) -> int:
        """Solves waiting for a free worker."""
        return max(0, self._in_flight - self.workers)

    async def solve(self, problem: Problem, options: SolveOptions, *, snap_limit_m: float) -> OptimisationResponse:
        """Solve in a worker and return the answer; the event loop stays free meanwhile.

        Raises :class:`ProblemError` for faults of the input found while solving
        (a depot off the network, say), :class:`WorkersUnavailableError` before
        :meth:`start`, and :class:`SolverFailureError` when a worker fails or dies (the
        pool is then renewed for the next requests).
        """
        return await self._run(_solve_in_worker, problem, options, snap_limit_m)

    async def evaluate(self, problem: Problem, routes: Sequence[RoutePlan], options: SolveOptions, *,
                       snap_limit_m: float) -> OptimisationResponse:
        """Evaluate a plan made by a person in a worker and return the answer, as :meth:`solve` does."""
        return await self._run(_evaluate_in_worker, problem, routes, options, snap_limit_m)

    async def _run(self, task: Callable[..., _Outcome], *args: Any) -> OptimisationResponse:
        """Run ``task(*args)`` in a worker (see :meth:`solve` for the errors)."""
        executor = self._executor
        if executor is None:
            raise WorkersUnavailableError("the service is starting: its solver workers are not ready yet")
        loop = asyncio.get_running_loop()
        self._in_flight += 1
        try:
            outcome = await loop.run_in_executor(executor, task, *args)
        except BrokenProcessPool as exc:
            logger.error("a solver worker died; starting fresh workers")
            if self._executor is executor:
                self._executor = self._new_executor()
                executor.shutdown(wait=False, cancel_futures=True)
            raise SolverFailureError("a solver worker process died during the work") from exc
        finally:
            self._in_flight -= 1
        if outcome.problem_error is not None:
            message, field, item_id = outcome.problem_error
            raise ProblemError(message, field=field, item_id=item_id)
        assert outcome.response is not None
        return outcome.response


def _terminate(executor: ProcessPoolExecutor) -> None:
    """Stop the executor's processes now rather than after their current solve.

    Python 3.14 has ``terminate_workers``; before it, the processes are reached through
    the executor's ``_processes`` mapping.
    """
    terminate_workers = getattr(executor, "terminate_workers", None)
    if callable(terminate_workers):
        terminate_workers()
        return
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()
