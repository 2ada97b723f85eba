"""How many vehicles a day would need when its bins do not fit the vehicles working it.

A day that leaves bins out for want of room or time (the engine's reasons ``capacity``,
``shift_too_short``, ``time_window`` or ``no_feasible_insertion``: :data:`FLEET_REASONS`) needs
more vehicles. The estimate (:func:`vehicles_needed`) is the vehicles the day's rounds use plus the
vehicles the work left out would take, each extra vehicle being like the largest of the day's:

- **by load** (only on a day no tip opens, when a vehicle carries its capacity once a day):
  ``ceil(kg left out / capacity_kg)``;
- **by time**: the work left out is each bin's service time plus the drive to it from its nearest
  other location of the day (a lower bound on the drive a round through them takes), in seconds;
  an extra vehicle gives its shift less one drive out to and back from the bins (the mean drive
  from the depot to them, twice): ``ceil(work / (shift - 2 * mean depot drive))``;

and at least one. It is an estimate, not a plan: it neither routes the bins left out nor counts
tip trips on days a tip opens, so the day planned with that many vehicles may need one more or
one fewer. Bins left out for reasons more vehicles of the same kind cannot cure (off the network,
no vehicle of their stream, not worth serving) are not counted. Units: kg, seconds.
"""

from __future__ import annotations

import math

import numpy as np

from solver.matrix import FleetMatrices
from solver.problem import Problem
from solver.solution import Plan

FLEET_REASONS = frozenset({"capacity", "shift_too_short", "time_window", "no_feasible_insertion"})
"""Reasons a bin is left out that another vehicle like the day's could cure."""


def vehicles_needed(day: Problem, matrices: FleetMatrices, plan: Plan, *, tips_open: bool) -> int:
    """The vehicles ``day`` (its bins, the vehicles working it, its tips) would need: the rounds of
    ``plan`` plus the extra vehicles its bins left out for :data:`FLEET_REASONS` would take (see the
    module docstring); ``matrices`` are the day's (rows by ``day.location_index``)."""
    used = sum(1 for route in plan.routes if route.stops)
    short = [day.bin(u.bin_id) for u in plan.unassigned if u.reason in FLEET_REASONS]
    if not short or not day.vehicles:
        return used
    capacity = max(v.capacity_kg for v in day.vehicles)
    shift_s = max(float(v.shift_end_s - v.shift_start_s) for v in day.vehicles)
    duration = next(iter(matrices.profiles.values())).duration_s
    rows = np.array([day.location_index(b.id) for b in short], dtype=np.intp)
    others = duration[rows].astype(float)
    others[np.arange(len(rows)), rows] = np.inf
    nearest = np.min(others, axis=1)
    nearest[~np.isfinite(nearest)] = 0.0
    work_s = float(sum(b.service_s for b in short) + nearest.sum())
    depot = day.location_index(day.depots[0].id)
    reach = duration[depot, rows]
    approach_s = 2.0 * float(np.mean(reach[np.isfinite(reach)])) if np.isfinite(reach).any() else 0.0
    usable_s = shift_s - approach_s
    by_time = math.ceil(work_s / usable_s) if usable_s > 0 else len(short)
    by_load = 0 if tips_open or capacity <= 0 else math.ceil(sum(b.demand_kg for b in short) / capacity)
    return used + max(1, by_time, by_load)
