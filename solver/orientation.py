"""Which way a lorry drives past each bin: the approach side, chosen per route.

A bin on a two-way street can be collected driving either way along it (its two *slots*,
:class:`~solver.matrix.Legs`). The matrices an engine searches on take, for each pair of
points, the quickest of the four ways of leaving one and reaching the next, so they let a
lorry arrive at a bin one way and leave it the other: a U-turn in the middle of the street,
which a 26-tonne lorry cannot make. Once a route's order is known, :func:`orient_routes`
picks one direction per bin so that the lorry arrives and leaves the same way, the quickest
such choice for the whole route (a shortest path over the two directions of each bin in
turn: exact for the order given). Depots and disposal sites keep both: a lorry turns round
in the yard.

:func:`oriented` then fixes those directions on the legs (:meth:`~solver.matrix.Legs.with_slots`)
and rebuilds the matrices from them without routing again, so that the evaluator times, and
the map draws, drives whose arrival and departure headings are real.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from solver.matrix import Legs, TravelMatrices, travel_matrices


def orient_route(legs: Legs, rows: Sequence[int], fixable: np.ndarray) -> dict[int, int]:
    """The direction (slot 0 or 1) to drive past each fixable point of one route.

    ``rows`` are the route's matrix rows in driving order (depot first and last); ``fixable``
    marks the points whose direction is chosen (bins); the others may be left another way
    than they were reached. Minimises the route's drive time (s).
    """
    seq = [int(r) for k, r in enumerate(rows) if k == 0 or int(r) != int(rows[k - 1])]
    seq = [r for r in seq if legs.valid[r]]
    if len(seq) < 2:
        return {}
    times, _, _ = legs.candidates(np.array(seq[:-1]), np.array(seq[1:]))
    times = np.where(np.isfinite(times), times, 1e12)
    depart = np.zeros(2)
    arrive_costs: list[np.ndarray] = []
    came_from: list[np.ndarray] = []
    for k in range(len(seq) - 1):
        total = depart[:, None] + times[k].reshape(2, 2)  # [leaving slot, arriving slot]
        came_from.append(np.argmin(total, axis=0))
        arrive = total.min(axis=0)
        arrive_costs.append(arrive)
        depart = arrive if fixable[seq[k + 1]] else np.full(2, arrive.min())
    chosen: dict[int, int] = {}
    slot = int(np.argmin(arrive_costs[-1]))
    for k in range(len(seq) - 2, -1, -1):
        leave = int(came_from[k][slot])
        row = seq[k]
        if k > 0 and fixable[row]:
            chosen[row] = leave
            slot = leave
        elif k > 0:
            slot = int(np.argmin(arrive_costs[k - 1]))
    return chosen


def orient_routes(legs: Legs, routes: Iterable[Sequence[int]], fixable: np.ndarray) -> np.ndarray:
    """Per point of ``legs``, the slot each route drives past it in (``-1`` where no route fixes it)."""
    chosen = np.full(legs.valid.shape[0], -1, dtype=np.int64)
    for rows in routes:
        for row, slot in orient_route(legs, rows, fixable).items():
            chosen[row] = slot
    return chosen


def oriented(legs: Legs, routes: Iterable[Sequence[int]], fixable: np.ndarray) -> tuple[Legs, TravelMatrices]:
    """The legs with each routed bin's direction fixed, and their matrices."""
    fixed = legs.with_slots(orient_routes(legs, routes, fixable))
    return fixed, travel_matrices(fixed)


def choose_rows(duration_s: np.ndarray, candidates: Sequence[Sequence[int]]) -> list[int]:
    """One row per position of a route, from each position's ``candidates`` (rows of the square
    matrix ``duration_s``, seconds; rows and columns index the same locations), so that the drive
    along them is quickest: a shortest path over the candidates in turn, exact for the order given.
    Used where each direction of travel past a stop has its own row (the engine's matrices of
    :attr:`~solver.matrix.FleetMatrices.directed`)."""
    if not candidates:
        return []
    cost = np.zeros(len(candidates[0]))
    back: list[np.ndarray] = []
    for before, after in itertools.pairwise(candidates):
        step = duration_s[np.ix_(np.asarray(before), np.asarray(after))]
        total = cost[:, None] + np.where(np.isfinite(step), step, 1e12)
        back.append(np.argmin(total, axis=0))
        cost = total.min(axis=0)
    pick = int(np.argmin(cost))
    chosen = [candidates[-1][pick]]
    for k in range(len(candidates) - 2, -1, -1):
        pick = int(back[k][pick])
        chosen.append(candidates[k][pick])
    return chosen[::-1]
