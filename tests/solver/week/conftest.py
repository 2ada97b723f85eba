"""Hand-made weeks: a depot and bins on a line, with matrices worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Depot, DisposalSite, Problem, Vehicle

SPEED_MPS = 10.0
"""Driving speed of the hand-made matrices: 100 m take 10 s."""


def line_problem(bins: Sequence[tuple[str, float, float]], vehicles: Sequence[tuple[str, float]], *,
                 tips: Sequence[tuple[str, float]] = ()) -> tuple[Problem, FleetMatrices]:
    """A depot at x = 0 m, tips ``(id, x)`` and bins ``(id, x, demand_kg)`` on a straight road, vehicles
    ``(id, capacity_kg)`` on a 06:00-14:00 shift costing 1 per km; distances |x - x'| metres."""
    problem = Problem(
        depots=(Depot("depot", 0.0, 0.0),),
        vehicles=tuple(Vehicle(id=v, depot_id="depot", capacity_kg=c, cost_per_km=1.0, cost_per_hour=0.0)
                       for v, c in vehicles),
        bins=tuple(Bin(id=b, lon=0.0, lat=0.0, demand_kg=d, service_s=10.0) for b, _, d in bins),
        disposal_sites=tuple(DisposalSite(id=t, lon=0.0, lat=0.0, unload_s=60.0) for t, _ in tips))
    xs = np.array([0.0, *(x for _, x in tips), *(x for _, x, _ in bins)])
    distance = np.abs(xs[:, None] - xs[None, :])
    matrices = TravelMatrices(duration_s=distance / SPEED_MPS, distance_m=distance)
    return problem, FleetMatrices.uniform(matrices, (v for v, _ in vehicles))
