"""Where a round with intermediate facilities unloads: the best tip visits for a given order of stops.

A round drives from the depot through its customers in a fixed order and back to the depot; its
load returns to 0 at an intermediate facility (a tip), it may carry at most ``capacity`` between two
unloads, and it visits a tip before going home (it comes home empty). For a given customer order
the cheapest way to place the tips is a shortest path over the order's cut points:
:func:`split_route` chooses after which customers to unload and at which tip, exact for the order
(the travel of the round is minimised; a second pass minimises travel plus the tips' service when
the cheapest placement breaks ``max_duration``, so that a placement within the limit is found when
there is one that is cheapest in time).

Units are the caller's: ``travel`` a square matrix of travel times indexed by node, ``demand`` and
``service`` per node (same units as ``capacity`` and as ``travel`` respectively). Pure numpy/Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RouteSplit:
    """A round with its tips placed: ``path`` the nodes between the depot's departure and return
    (customers and tips, a tip last), ``travel`` (cost), ``time`` (travel + service of every stop,
    tips included), ``feasible`` when ``time`` is within the limit."""

    path: tuple[int, ...]
    travel: float
    time: float
    feasible: bool


class SplitData:
    """The instance's data the split needs: ``travel`` (n x n), per-node ``demand`` and ``service``,
    the ``depot`` node, the ``facilities`` (tip nodes), ``capacity`` and ``max_duration``; the
    cheapest detour between any two nodes through a tip is worked out once here."""

    def __init__(self, travel: np.ndarray, demand: np.ndarray, service: np.ndarray, *, depot: int,
                 facilities: Sequence[int], capacity: float, max_duration: float) -> None:
        self.travel = np.asarray(travel, dtype=np.float64)
        self.demand = np.asarray(demand, dtype=np.float64)
        self.service = np.asarray(service, dtype=np.float64)
        self.depot = depot
        self.facilities = tuple(facilities)
        self.capacity = capacity
        self.max_duration = max_duration
        fac = np.asarray(self.facilities, dtype=np.intp)
        legs = self.travel[:, fac][:, :, None] + self.travel[fac, :][None, :, :]  # a -> tip -> b
        # by travel, ties to the tip with the shorter service
        best = np.argmin(legs + 1e-9 * self.service[fac][None, :, None], axis=1)
        self.via_travel = np.take_along_axis(legs, best[:, None, :], axis=1)[:, 0, :]
        self.via_tip = fac[best]
        timed = legs + self.service[fac][None, :, None]
        best_t = np.argmin(timed, axis=1)
        self.via_timed = np.take_along_axis(timed, best_t[:, None, :], axis=1)[:, 0, :]
        self.via_tip_timed = fac[best_t]
        self.tips_serve = bool(np.any(self.service[fac] > 0))
        self.is_tip = np.zeros(len(self.demand), dtype=bool)
        self.is_tip[fac] = True

    def via(self, a: int, b: int, *, timed: bool = False) -> tuple[float, int]:
        """The cheapest detour ``a`` -> tip -> ``b`` (travel, or travel + the tip's service if ``timed``), its tip."""
        if timed:
            return float(self.via_timed[a, b]), int(self.via_tip_timed[a, b])
        return float(self.via_travel[a, b]), int(self.via_tip[a, b])


def _cuts(seq: Sequence[int], data: SplitData, *, timed: bool) -> tuple[list[int], list[int]] | None:
    """The cut points (after which customer index to unload) and their tips, cheapest for the order.

    ``best[j]``: the cheapest travel from the depot through ``seq[0..j]`` with an unload right after
    ``seq[j]`` (that detour not counted yet); a stretch ``seq[i..j]`` is one load, so ``best[j]`` is
    ``cum[j]`` plus the least ``base[i]`` over the starts ``i`` whose stretch fits the capacity.
    """
    n = len(seq)
    idx = np.asarray(seq, dtype=np.intp)
    cum = [0.0, *np.cumsum(data.travel[idx[:-1], idx[1:]]).tolist()]
    via = data.via_timed if timed else data.via_travel
    tips = data.via_tip_timed if timed else data.via_tip
    detour = via[idx[:-1], idx[1:]].tolist()
    loads = [0.0, *np.cumsum(data.demand[idx]).tolist()]
    cap = data.capacity + 1e-9
    inf = float("inf")
    best = [inf] * n
    came = [0] * n
    base = [inf] * n
    lo = 0
    for j in range(n):
        before = float(data.travel[data.depot, seq[0]]) if j == 0 else best[j - 1] + detour[j - 1]
        base[j] = before - cum[j]
        while loads[j + 1] - loads[lo] > cap:
            lo += 1
        if lo > j:
            return None
        window = base[lo:j + 1]
        least = min(window)
        best[j] = cum[j] + least
        came[j] = lo + window.index(least)
    cuts: list[int] = []
    j = n - 1
    while came[j] > 0:
        cuts.append(came[j] - 1)
        j = came[j] - 1
    cuts.reverse()
    return cuts, [int(tips[seq[k], seq[k + 1]]) for k in cuts]


def split_route(seq: Sequence[int], data: SplitData) -> RouteSplit | None:
    """The round through ``seq`` (customer nodes, in order) with its tips placed at least travel, or
    ``None`` when one customer alone is over the capacity. An empty ``seq`` is no round: travel 0."""
    if not seq:
        return RouteSplit(path=(), travel=0.0, time=0.0, feasible=True)
    found = _cuts(seq, data, timed=False)
    if found is None:
        return None
    split = _route_of(seq, found, data, timed=False)
    if split.feasible or not data.tips_serve:
        return split
    again = _cuts(seq, data, timed=True)
    return split if again is None else min((split, _route_of(seq, again, data, timed=True)),
                                           key=lambda s: (not s.feasible, s.travel))


def _route_of(seq: Sequence[int], found: tuple[list[int], list[int]], data: SplitData, *, timed: bool) -> RouteSplit:
    cuts, tips = found
    path: list[int] = []
    at = dict(zip(cuts, tips, strict=True))
    for k, node in enumerate(seq):
        path.append(node)
        if k in at:
            path.append(at[k])
    path.append(data.via(seq[-1], data.depot, timed=timed)[1])
    return evaluate_path(path, data)


def evaluate_path(path: Sequence[int], data: SplitData) -> RouteSplit:
    """A round's travel and time as given (depot, ``path``, depot); feasible when the time is within the
    limit (the load between unloads is the caller's to keep)."""
    nodes = [data.depot, *path, data.depot]
    idx = np.asarray(nodes, dtype=np.intp)
    travel = float(data.travel[idx[:-1], idx[1:]].sum()) if path else 0.0
    time = travel + float(data.service[idx[1:-1]].sum())
    return RouteSplit(path=tuple(path), travel=travel, time=time, feasible=time <= data.max_duration + 1e-9)
