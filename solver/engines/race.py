"""Several searches of one request at once, one process each: the best plan is the answer.

The engines' searches are single-threaded (and hold Python's GIL), so on a machine with
idle cores one search leaves them idle. :class:`RacingEngine` runs the same request as
a few different searches, *lanes*, at the same time and keeps the best plan by the
evaluator (fewer violations, then fewer bins unserved, then the lower objective). A
lane's answer is never worse than it would be alone, and the best of a few is better
on average: local searches from different starts land in different local optima.

- Lane 0 is the engine itself, run in the calling process with the caller's progress
  reporter (so progress and cancelling work as for the engine alone).
- Lane ``k`` runs with seed ``options.seed + k``; OR-Tools lanes also search with
  other operators or from another first solution (:data:`ORTOOLS_LANES`), which
  matters more to guided local search than the seed.
- Lanes ``1..`` run in processes started with ``spawn``. Their input is pickled to a
  file in a private temporary folder (so starting them never waits on the pipe) and
  every lane stops at the same wall-clock deadline; a lane that fails, or answers
  more than :data:`LANE_GRACE_S` after it, is left out (and logged). A search shorter
  than :data:`MIN_RACE_S` is not raced: a lane would spend it starting.

Racing needs a process that may start children: in a daemonic process (a Dask worker,
for instance) the engine runs alone. Requests with their own warm start are not raced
(:func:`racing`): they ask for stability, not another start.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from solver.engines.base import Engine
from solver.engines.ortools import AUTO as ORTOOLS_AUTO
from solver.engines.ortools import OrToolsEngine
from solver.evaluate import AnyMatrices, as_fleet, evaluate, plan_rank
from solver.matrix import FleetMatrices
from solver.problem import Problem, SolveOptions
from solver.progress import ProgressReporter
from solver.solution import Plan

logger = logging.getLogger(__name__)

ORTOOLS_LANES: tuple[tuple[str, bool], ...] = ((ORTOOLS_AUTO, True), ("GLOBAL_CHEAPEST_ARC", False),
                                                ("LOCAL_CHEAPEST_INSERTION", True))
"""OR-Tools lanes 1, 2, ...: (first-solution strategy, close-nodes operators); lane 0 is the engine
itself. From screens of guided local search at 30 s on the ten CVRPLIB X instances (docs/benchmarks.md):
the close-nodes large-neighbourhood operators gained up to 2.4 points of gap on some instances and lost
up to 1.7 on others, so beside lane 0 they are the better second lane (the best of the two: 3.09% mean,
lane 0 alone 3.65%); global cheapest arc as the first solution beat path cheapest arc on most instances
but found none on two when every customer was required."""

LANE_GRACE_S = 2.0
"""Seconds past the deadline the calling process waits for a lane's answer before leaving it out: a
lane still starting by then is not worth the wait, lane 0's plan stands (a longer grace let a lane
that spent seconds importing stretch a 20 s job's search to 44.5 s; docs/performance.md)."""

MIN_RACE_S = 5.0
"""Searches shorter than this (seconds) are not raced: a spawned lane takes seconds to start (measured
2.8-10.2 s on a loaded 2-core machine), longer than the search it would join (docs/performance.md)."""

MIN_LANE_S = 0.5
"""Least search time (s) a lane gets, however late it started."""


def lane_engines(engine: Engine, lanes: int) -> list[Engine]:
    """The engines of ``lanes`` lanes of ``engine``: itself first, then copies that differ by seed
    (see :meth:`RacingEngine.solve`) and, for OR-Tools with its automatic first solution and its
    default operators, by :data:`ORTOOLS_LANES` (in turn)."""
    if lanes < 1:
        raise ValueError(f"lanes must be at least 1, got {lanes}")
    engines = [engine]
    for k in range(1, lanes):
        if isinstance(engine, OrToolsEngine) and engine.first_solution is None and not engine.close_nodes_lns:
            first_solution, close_nodes_lns = ORTOOLS_LANES[(k - 1) % len(ORTOOLS_LANES)]
            engines.append(engine.variant(first_solution=first_solution, close_nodes_lns=close_nodes_lns))
        else:
            engines.append(engine)
    return engines


def can_start_processes() -> bool:
    """Whether this process may start child processes (daemonic ones, such as Dask's workers, may not)."""
    return not multiprocessing.current_process().daemon


@dataclass
class _Lane:
    """A lane running in a child process: the process and the end of the pipe its answer comes by."""

    number: int
    process: BaseProcess
    answers: Connection


def _lane_main(payload: str, answers: Connection) -> None:
    """A child lane: read the request from ``payload``, search until its deadline, send the plan."""
    try:
        with open(payload, "rb") as f:
            engine, problem, fleet, bin_ids, options, deadline = pickle.load(f)
        seconds = max(MIN_LANE_S, deadline - time.time())
        plan = engine.solve(problem, fleet, bin_ids=bin_ids, options=replace(options, time_limit_s=seconds))
        answers.send(("plan", plan))
    except Exception as exc:  # reported to the racing process, which carries on without this lane
        answers.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        answers.close()


def _start(number: int, folder: Path, engine: Engine, problem: Problem, fleet: FleetMatrices,
           bin_ids: Sequence[str], options: SolveOptions, deadline: float) -> _Lane:
    """Write lane ``number``'s request to ``folder`` and start its process."""
    context = multiprocessing.get_context("spawn")
    payload = folder / f"lane-{number}.pickle"
    with open(payload, "wb") as f:
        pickle.dump((engine, problem, fleet, tuple(bin_ids), options, deadline), f, protocol=pickle.HIGHEST_PROTOCOL)
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_lane_main, args=(str(payload), send), name=f"wasteroute-lane-{number}")
    process.start()
    send.close()
    return _Lane(number, process, receive)


def _answer(lane: _Lane, until: float) -> Plan | None:
    """Lane ``lane``'s plan, waiting until wall-clock ``until`` at most; ``None`` (logged) without one."""
    try:
        if lane.answers.poll(max(0.0, until - time.time())):
            kind, value = lane.answers.recv()
            if kind == "plan":
                return value
            logger.warning("race: lane %d failed: %s", lane.number, value)
            return None
    except (EOFError, OSError) as exc:
        logger.warning("race: lane %d ended without an answer (%s)", lane.number, exc)
        return None
    logger.warning("race: lane %d gave no answer within %.0f s of the deadline; left out", lane.number, LANE_GRACE_S)
    return None


def _end(lane: _Lane) -> None:
    """Stop lane ``lane``'s process if it still runs, and close its pipe."""
    if lane.process.is_alive():
        lane.process.terminate()
        lane.process.join(2.0)
        if lane.process.is_alive():
            lane.process.kill()
    lane.process.join(2.0)
    lane.answers.close()


class RacingEngine:
    """``engine`` raced in ``lanes`` lanes (see the module docstring); it declares ``engine``'s name and
    features, since every lane plans with ``engine`` (or OR-Tools with another first solution)."""

    def __init__(self, engine: Engine, lanes: int) -> None:
        self.engine = engine
        self.name: str = engine.name
        self.features: frozenset[str] = engine.features
        self.lanes = lane_engines(engine, lanes)

    def solve(self, problem: Problem, matrices: AnyMatrices, *, bin_ids: Sequence[str],
              options: SolveOptions, progress: ProgressReporter | None = None) -> Plan:
        """Plan routes for ``bin_ids`` (see :class:`solver.engines.base.Engine`): the best plan of the lanes."""
        fleet = as_fleet(problem, matrices)
        # a phase of a longer solve (a shaped search's) may be shorter than a lane takes to start
        if len(self.lanes) == 1 or options.time_limit_s < MIN_RACE_S or not can_start_processes():
            return self.engine.solve(problem, fleet, bin_ids=bin_ids, options=options, progress=progress)
        deadline = time.time() + options.time_limit_s
        plans: list[tuple[int, Plan]] = []
        with tempfile.TemporaryDirectory(prefix="wasteroute-race-") as folder:
            lanes: list[_Lane] = []
            try:
                for k, engine in enumerate(self.lanes[1:], start=1):
                    lanes.append(_start(k, Path(folder), engine, problem, fleet, bin_ids,
                                        replace(options, seed=options.seed + k), deadline))
                plans.append((0, self.engine.solve(problem, fleet, bin_ids=bin_ids, options=options,
                                                   progress=progress)))
                if progress is None or not progress.stopped:
                    for lane in lanes:
                        plan = _answer(lane, deadline + LANE_GRACE_S)
                        if plan is not None:
                            plans.append((lane.number, plan))
            finally:
                for lane in lanes:
                    _end(lane)
        ranks = [plan_rank(evaluate(problem, fleet, plan, options=options), options.objective) for _, plan in plans]
        best = min(range(len(plans)), key=ranks.__getitem__)
        logger.info("race: %d of %d lanes answered (pid %d); lane %d's plan kept %s, the lanes' (violations, "
                    "unserved, objective): %s", len(plans), len(self.lanes), os.getpid(), plans[best][0],
                    ranks[best], ranks)
        return plans[best][1]


def racing(engine: Engine, options: SolveOptions) -> Engine:
    """``engine`` raced in ``options.search_processes`` lanes, or ``engine`` itself for one process, a
    request with its own warm start or a search shorter than :data:`MIN_RACE_S`."""
    if options.search_processes <= 1 or options.initial_routes or options.time_limit_s < MIN_RACE_S:
        return engine
    return RacingEngine(engine, options.search_processes)
