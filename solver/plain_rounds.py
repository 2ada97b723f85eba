"""Deliberately plain rounds, the kind a planner draws by hand: a baseline to compare with.

:func:`nearest_bin_rounds` builds "today's rounds" the plain way: each vehicle, in
fleet order, leaves its depot and keeps going to the nearest bin not yet collected,
as the crow flies, until the nearest bins would overfill it (kg, and litres where
the vehicle has a volume limit); then the next vehicle starts. Nothing is optimised
and the streets are not consulted (one-way streets, hills and river crossings are
invisible to the crow), which is what makes it a fair stand-in for a hand-made plan
in demos, notebooks and tests. Disposal sites, time windows, streams and shifts are
ignored on purpose: the evaluator names whatever the plain plan breaks. Bins left
when every vehicle is full are on no route (the evaluator reports them
``not_in_plan``).
"""

from __future__ import annotations

import math

import numpy as np

from solver.problem import Problem
from solver.solution import RoutePlan


def _plane_xy(lon: np.ndarray, lat: np.ndarray, lat0: float) -> np.ndarray:
    """Lon/lat degrees -> an equirectangular plane (degrees of latitude), good for
    comparing short distances around latitude ``lat0``."""
    return np.column_stack([lon * math.cos(math.radians(lat0)), lat])


def nearest_bin_rounds(problem: Problem) -> tuple[RoutePlan, ...]:
    """One route per vehicle that gets at least one bin, each bin once.

    Each step goes to the nearest remaining bin (straight line) that still fits the
    vehicle's ``capacity_kg`` and, when set, ``capacity_l``; a vehicle that no remaining
    bin fits goes home and the next one starts from its own depot.
    """
    if not problem.bins:
        return ()
    lat0 = problem.depots[0].lat
    bins = problem.bins
    xy = _plane_xy(np.array([b.lon for b in bins]), np.array([b.lat for b in bins]), lat0)
    demand_kg = np.array([b.demand_kg for b in bins])
    volume_l = np.array([b.volume_l for b in bins])
    depots = {d.id: d for d in problem.depots}
    left = np.ones(len(bins), dtype=bool)
    routes: list[RoutePlan] = []
    for vehicle in problem.vehicles:
        depot = depots[vehicle.depot_id]
        here = _plane_xy(np.array([depot.lon]), np.array([depot.lat]), lat0)[0]
        room_kg = vehicle.capacity_kg
        room_l = math.inf if vehicle.capacity_l is None else vehicle.capacity_l
        stops: list[str] = []
        while True:
            fits = left & (demand_kg <= room_kg) & (volume_l <= room_l)
            if not fits.any():
                break
            distance = np.where(fits, np.hypot(*(xy - here).T), np.inf)
            k = int(np.argmin(distance))
            stops.append(bins[k].id)
            left[k] = False
            room_kg -= demand_kg[k]
            room_l -= volume_l[k]
            here = xy[k]
        if stops:
            routes.append(RoutePlan(vehicle_id=vehicle.id, stops=tuple(stops)))
        if not left.any():
            break
    return tuple(routes)
