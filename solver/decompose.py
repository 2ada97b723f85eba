"""Split a large problem into geographic parts solved independently, and how large problems run.

:func:`sweep_parts` cuts the stops into sectors around the depots (a sweep: sorted by
angle from the depots' centre, starting at the widest empty angle so no cluster is
cut in two) holding about equal work, and shares the vehicles among the parts in
proportion to their work (at least one each). A stop's work is its service time
plus :data:`DRIVE_ALLOWANCE_S` of driving. A stop pinned to a vehicle goes to that
vehicle's part.

:class:`ScaleOptions` say when :func:`solver.pipeline.optimise` aggregates bins
(:mod:`solver.aggregate`) and when it decomposes; the parts are solved through a
``concurrent.futures.Executor`` the caller passes (a ``ProcessPoolExecutor``, a Dask
``client.get_executor()``), or one after the other in the calling process.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from solver.aggregate import GroupLimits
from solver.problem import Problem

#: seconds of driving counted per stop when balancing parts.
DRIVE_ALLOWANCE_S = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class ScaleOptions:
    """When and how a problem is made smaller before solving.

    ``aggregate_from_bins``: from this many bins on, bins sharing a street become one
    stop (``group`` caps a stop): street by street, one pass along each stretch (1,000 by
    default, the synchronous limit: on the 2,603-bin Oakham case this plans 219 km with no
    street shared between rounds, against 264 km and 43 shared streets bin by bin,
    docs/crew_rounds.md); ``max_part_stops``: an aggregated problem with more
    stops than this is cut into parts of about this size (never more parts than
    vehicles); ``part_time_limit_s``: each part's search time (seconds); by default the
    request's ``time_limit_s`` is shared out: ``parallel_parts`` parts run at once (the
    caller's executor's workers; 1 without one), so each part gets
    ``time_limit_s / ceil(parts / parallel_parts)`` and the search as a whole keeps to
    the request's time limit (plus the short second round).
    """

    aggregate_from_bins: int = 1000
    max_part_stops: int = 600
    part_time_limit_s: float | None = None
    parallel_parts: int = 1
    group: GroupLimits = field(default_factory=GroupLimits)

    def part_time_s(self, time_limit_s: float, n_parts: int) -> float:
        """Search seconds of each of ``n_parts`` parts for a request of ``time_limit_s`` (see above)."""
        if self.part_time_limit_s is not None:
            return self.part_time_limit_s
        return time_limit_s / math.ceil(n_parts / max(1, self.parallel_parts))

    def aggregates(self, problem: Problem) -> bool:
        """Whether ``problem`` is large enough to aggregate."""
        return len(problem.bins) >= self.aggregate_from_bins


@dataclass(frozen=True)
class Part:
    """Stops (bin ids of the aggregated problem) and the vehicles that serve them."""

    bin_ids: tuple[str, ...]
    vehicle_ids: tuple[str, ...]


def _xy(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """Stop and depot positions in metres on a local plane around the depots."""
    lon0 = float(np.mean([d.lon for d in problem.depots]))
    lat0 = float(np.mean([d.lat for d in problem.depots]))
    scale = np.array([111_320.0 * math.cos(math.radians(lat0)), 110_540.0])
    stops = np.array([[b.lon - lon0, b.lat - lat0] for b in problem.bins]).reshape(-1, 2) * scale
    depots = np.array([[d.lon - lon0, d.lat - lat0] for d in problem.depots]).reshape(-1, 2) * scale
    return stops, depots


def _shares(weights: np.ndarray, total: int) -> np.ndarray:
    """``total`` items shared in proportion to ``weights``, at least one each (largest remainders)."""
    k = len(weights)
    share = np.ones(k, dtype=int)
    rest = total - k
    if rest > 0:
        ideal = weights / weights.sum() * rest
        share += np.floor(ideal).astype(int)
        left = total - int(share.sum())
        share[np.argsort(-(ideal - np.floor(ideal)), kind="stable")[:left]] += 1
    return share


def sweep_parts(problem: Problem, n_parts: int) -> list[Part]:
    """``problem``'s stops in ``n_parts`` sectors of about equal work, each with its vehicles.

    Every stop lands in exactly one part and every vehicle in at most one (all are used
    when there are at least as many vehicles as parts; ``n_parts`` is capped at the
    number of vehicles and of stops).
    """
    n_parts = max(1, min(n_parts, len(problem.vehicles), len(problem.bins)))
    stops, _ = _xy(problem)
    angle = np.arctan2(stops[:, 1], stops[:, 0]) if len(stops) else np.zeros(0)
    order = np.argsort(angle, kind="stable")
    if len(order) > 1:  # start after the widest empty angle
        sorted_angle = angle[order]
        gaps = np.diff(np.r_[sorted_angle, sorted_angle[0] + 2 * math.pi])
        order = np.roll(order, -(int(np.argmax(gaps)) + 1))
    work = np.array([b.service_s + DRIVE_ALLOWANCE_S for b in problem.bins])[order]
    cumulative = np.cumsum(work)
    cuts = np.searchsorted(cumulative, cumulative[-1] * np.arange(1, n_parts) / n_parts) if len(work) else []
    pieces = [p for p in np.split(order, cuts) if len(p)] or [order]
    part_work = np.array([float(np.sum([problem.bins[i].service_s + DRIVE_ALLOWANCE_S for i in p]))
                          for p in pieces])
    counts = _shares(part_work, len(problem.vehicles))
    vehicles = [v.id for v in problem.vehicles]
    owned = np.split(np.array(vehicles, dtype=object), np.cumsum(counts)[:-1])
    part_of_vehicle = {v: k for k, ids in enumerate(owned) for v in ids}
    bins: list[list[str]] = [[problem.bins[i].id for i in p] for p in pieces]
    for k, p in enumerate(pieces):
        for i in p:
            pinned = problem.bins[i].vehicle_id
            if pinned is not None and part_of_vehicle[pinned] != k:
                bins[k].remove(problem.bins[i].id)
                bins[part_of_vehicle[pinned]].append(problem.bins[i].id)
    return [Part(tuple(b), tuple(str(v) for v in ids)) for b, ids in zip(bins, owned, strict=True)]


def n_parts_for(n_stops: int, options: ScaleOptions) -> int:
    """How many parts a problem of ``n_stops`` stops is cut into."""
    return max(1, math.ceil(n_stops / max(1, options.max_part_stops)))


def subproblem(problem: Problem, part: Part) -> Problem:
    """The problem restricted to ``part``'s stops and vehicles (all depots and sites kept)."""
    keep = set(part.bin_ids)
    chosen = set(part.vehicle_ids)
    return Problem(depots=problem.depots, vehicles=tuple(v for v in problem.vehicles if v.id in chosen),
                   bins=tuple(b for b in problem.bins if b.id in keep), disposal_sites=problem.disposal_sites)


def run_all(fn: Callable[..., T], jobs: list[tuple[Any, ...]], executor: Executor | None) -> Iterator[T]:
    """``fn(*job)`` for every job, in job order: through ``executor`` when given (all submitted
    at once), else one after the other here."""
    if executor is None:
        for job in jobs:
            yield fn(*job)
        return
    futures: list[Future[T]] = [executor.submit(fn, *job) for job in jobs]
    for future in futures:
        yield future.result()
