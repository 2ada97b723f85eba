"""Bins that share a street become one stop; a plan of stops expands back into bins.

Kerbside bins line streets: a district's 20,000 bins stand on a few thousand street
segments, and a vehicle lifts the bins of one segment in one pass. So before solving,
bins on the same snapped edge (a two-way street is one edge: snapping uses one of the
pair) that the model cannot tell apart are merged into one *stop*:

* same waste stream, same time windows, same pinned vehicle and vehicle-size limits,
  all required (an optional bin, with its own penalty, stays a stop of its own);
* in driving order along the edge (by ``fraction``), cut into groups of at most
  ``max_bins`` bins whose summed weight and volume stay within ``max_share`` of the
  smallest vehicle that carries the stream, and whose service (lifts plus driving
  along the street between them) takes at most ``max_service_s`` seconds.

On a busy road a bin is collected from the nearside only (:mod:`solver.nearside`): given
the points' ``approach`` slots, bins collected in different directions along their street
(slot 0 along the snapped edge, slot 1 along its twin) are never in one stop, as they are
lifted in different passes; a stop of slot 1 lists its bins in driving order along the
twin (from the edge's end towards its start).

A stop's demand and volume are the sums of its bins'; its service time is theirs plus
the drive along the street from the first bin to the last (seconds); it starts at its
first bin (``entry_bin``) and the vehicle leaves from its last (``exit_bin``), so the
matrices of the aggregated problem take rows at exits and columns at entries. Its
windows end earlier by the time from its start to the start of its last lift, so every
bin's lift starts within the bins' windows. The expanded plan visits the same bins
in the same order and its drives between bins are never longer than the stop's
service assumed, so it is at least as early everywhere as the plan of stops.

A vehicle's ``max_lifts`` counts stops in the aggregated problem, so it is divided by
the largest group (conservative). The id of a stop is the id of its first bin.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np

from solver.network import RoadNetwork
from solver.problem import BREAK_STOP, Bin, Problem, TimeWindow
from solver.snapping import SnappedPoints
from solver.solution import Plan, RoutePlan, Unassigned


@dataclass(frozen=True)
class GroupLimits:
    """Caps on one stop: bins, share of the smallest suitable vehicle's capacity (weight
    and volume), and service seconds (lifts plus driving along the street)."""

    max_bins: int = 20
    max_share: float = 0.25
    max_service_s: float = 1200.0


@dataclass(frozen=True)
class Aggregation:
    """An aggregated problem and the way back to bins.

    ``problem`` has the original depots, sites and vehicles (``max_lifts`` divided by the
    largest group) and one bin per stop; ``members`` maps each stop id to its bin ids in
    service order; ``entry_bin``/``exit_bin`` name the bins where the vehicle arrives and
    leaves (equal for a single bin).
    """

    problem: Problem
    members: dict[str, tuple[str, ...]]

    def entry_bin(self, stop_id: str) -> str:
        """The bin the vehicle lifts first at stop ``stop_id`` (the stop's place)."""
        return self.members[stop_id][0]

    def exit_bin(self, stop_id: str) -> str:
        """The bin the vehicle lifts last at stop ``stop_id`` (where it leaves from)."""
        return self.members[stop_id][-1]

    def expand_stops(self, stops: Sequence[str], reversed_stops: Collection[str] = ()) -> tuple[str, ...]:
        """A stop list with every stop replaced by its bins in service order (sites and breaks kept);
        a stop of ``reversed_stops`` is driven the other way along its street, its bins in reverse order."""
        out: list[str] = []
        for stop in stops:
            bins = self.members.get(stop, (stop,)) if stop != BREAK_STOP else (stop,)
            out.extend(reversed(bins) if stop in reversed_stops else bins)
        return tuple(out)

    def expand_unassigned(self, left_out: Sequence[Unassigned]) -> tuple[Unassigned, ...]:
        """Each stop left out becomes its bins left out, with the stop's reason."""
        out: list[Unassigned] = []
        for u in left_out:
            bins = self.members.get(u.bin_id, (u.bin_id,))
            note = "" if len(bins) == 1 else f" (as one stop {u.bin_id!r} with the {len(bins)} bins of its street)"
            out.extend(Unassigned(b, u.reason, u.detail + note) for b in bins)
        return tuple(out)

    def expand_plan(self, plan: Plan, reversed_stops: Collection[str] = ()) -> Plan:
        """The plan with stops expanded into bins, on routes and among the left out (the bins of
        ``reversed_stops`` in reverse order)."""
        return Plan(routes=tuple(RoutePlan(r.vehicle_id, self.expand_stops(r.stops, reversed_stops))
                                 for r in plan.routes),
                    unassigned=self.expand_unassigned(plan.unassigned), relaxed=plan.relaxed)


def _key(b: Bin, edge: int) -> tuple[object, ...]:
    return (edge, b.stream, b.time_windows, b.vehicle_id, b.max_vehicle_weight_kg, b.max_vehicle_width_m)


def _smallest(problem: Problem, stream: str, attr: str) -> float:
    """The smallest ``attr`` (capacity) among vehicles carrying ``stream`` (``inf`` when none limits)."""
    values = [getattr(v, attr) for v in problem.vehicles if v.carries(stream) and getattr(v, attr) is not None]
    return min(values, default=math.inf)


def _shifted(windows: tuple[TimeWindow, ...], offset_s: float) -> tuple[TimeWindow, ...] | None:
    """Windows for a stop whose last lift starts ``offset_s`` after the stop starts; ``None`` if none is left."""
    if not windows:
        return ()
    late = math.ceil(offset_s)
    kept = tuple((a, b - late) for a, b in windows if b - late >= a)
    return kept or None


class _Group:
    """Bins of one stop being gathered along an edge."""

    def __init__(self, first: Bin, fraction: float) -> None:
        self.bins = [first]
        self.fractions = [fraction]
        self.drive_s = 0.0
        self.last_start_s = 0.0  # from the stop's start to its last lift's start

    def service_with(self, b: Bin, drive_s: float) -> float:
        return sum(x.service_s for x in self.bins) + self.drive_s + drive_s + b.service_s

    def add(self, b: Bin, fraction: float, drive_s: float) -> None:
        self.last_start_s = sum(x.service_s for x in self.bins) + self.drive_s + drive_s
        self.drive_s += drive_s
        self.bins.append(b)
        self.fractions.append(fraction)

    def stop(self) -> Bin:
        first = self.bins[0]
        windows = _shifted(first.time_windows, self.last_start_s)
        assert windows is not None  # checked before each add
        return replace(first, demand_kg=sum(b.demand_kg for b in self.bins),
                       volume_l=sum(b.volume_l for b in self.bins),
                       service_s=sum(b.service_s for b in self.bins) + self.drive_s, time_windows=windows)


def aggregate_bins(problem: Problem, network: RoadNetwork, snapped: SnappedPoints, *,
                   limits: GroupLimits | None = None, exclude: frozenset[str] = frozenset(),
                   approach: np.ndarray | None = None) -> Aggregation:
    """Merge the bins of ``problem`` that share a street into stops (see the module docstring).

    ``snapped`` holds every location of ``problem`` in matrix order; bins not ``ok`` there,
    optional bins and bins in ``exclude`` stay stops of their own (``exclude`` ones are
    left out of the aggregated problem altogether, for the caller to report). ``approach``,
    aligned with ``snapped``, holds each location's approach slot
    (:func:`solver.nearside.approach_slots`: -1 either way, 0 along the snapped edge, 1
    along its twin); by default every bin may be collected either way.
    """
    limits = limits or GroupLimits()
    if approach is not None and np.shape(approach) != (len(snapped),):
        raise ValueError(f"approach has shape {np.shape(approach)}, expected ({len(snapped)},) like snapped")
    offset = problem.bin_offset()
    by_key: dict[tuple[object, ...], list[tuple[float, int]]] = {}
    singles: list[int] = []
    ok = snapped.ok
    for j, b in enumerate(problem.bins):
        if b.id in exclude:
            continue
        i = offset + j
        if not b.required or not ok[i]:
            singles.append(j)
            continue
        slot = -1 if approach is None else int(approach[i])
        if slot not in (-1, 0, 1) or (slot == 1 and network.edge_twin[snapped.edge[i]] < 0):
            raise ValueError(f"bin {b.id!r}: approach slot {slot} is not -1, 0 or 1 (1 only on a two-way street)")
        by_key.setdefault((*_key(b, int(snapped.edge[i])), slot), []).append((float(snapped.fraction[i]), j))
    groups: list[_Group] = []
    for key, on_edge in by_key.items():
        edge, backwards = int(key[0]), key[-1] == 1  # type: ignore[call-overload]
        edge_time = float(network.edge_time_s[int(network.edge_twin[edge]) if backwards else edge])
        stream = problem.bins[on_edge[0][1]].stream
        cap_kg = limits.max_share * _smallest(problem, stream, "capacity_kg")
        cap_l = limits.max_share * _smallest(problem, stream, "capacity_l")
        group: _Group | None = None
        for fraction, j in sorted(on_edge, reverse=backwards):
            b = problem.bins[j]
            if group is not None:
                drive = abs(fraction - group.fractions[-1]) * edge_time
                fits = (len(group.bins) < limits.max_bins
                        and sum(x.demand_kg for x in group.bins) + b.demand_kg <= cap_kg
                        and sum(x.volume_l for x in group.bins) + b.volume_l <= cap_l
                        and group.service_with(b, drive) <= limits.max_service_s
                        and _shifted(b.time_windows, group.service_with(b, drive) - b.service_s) is not None)
                if fits:
                    group.add(b, fraction, drive)
                    continue
            group = _Group(b, fraction)
            groups.append(group)
    stops = [g.stop() for g in groups] + [problem.bins[j] for j in singles]
    members = {g.bins[0].id: tuple(b.id for b in g.bins) for g in groups}
    members.update({problem.bins[j].id: (problem.bins[j].id,) for j in singles})
    largest = max((len(m) for m in members.values()), default=1)
    vehicles = tuple(v if v.max_lifts is None else replace(v, max_lifts=v.max_lifts // largest)
                     for v in problem.vehicles)
    order = {b.id: k for k, b in enumerate(problem.bins)}
    stops.sort(key=lambda s: order[s.id])
    aggregated = Problem(depots=problem.depots, vehicles=vehicles, bins=tuple(stops),
                         disposal_sites=problem.disposal_sites)
    return Aggregation(problem=aggregated, members=members)

