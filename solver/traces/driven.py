"""The round as driven: a matched trace (:mod:`solver.traces.matching`) read as the round it was:
the bins collected in order, the tips visited, the breaks, start and end, and the stops as a
:class:`~solver.solution.RoutePlan` the evaluator scores like any plan.

**Where the lorry stood.** Between two matched fixes the lorry drove ``along_m`` metres of
street in ``dt`` seconds; at the network's speeds that stretch takes ``drive_s`` seconds, so it
stood ``dt - drive_s`` seconds somewhere on it (never less than 0; traffic and a driver slower
than the network's speeds stand in here too). That standing time is laid on the places the
drive passes within ``near_m`` metres of that stretch: a tip or a depot first (a lorry standing at
a tip is tipping, not collecting the bins across the road), else the bins there, shared equally.
A bin is **collected** when the standing laid on one pass of it reaches ``min_share`` of its
``service_s`` (and at least ``min_standing_s``): the crew stood there about as long as a lift
takes. A bin the lorry drives past at speed gathers nothing. A tip is **visited** on each pass
with ``min_share`` of its ``unload_s``. Standing at no bin, tip or depot for ``break_s`` seconds or
more, or a gap in the trace of that length, is a **break**.

**Lift events**, when the in-cab system gives them for a vehicle, name its bins outright: the
bins collected are the lifts' bins in time order (a lift of a bin the problem does not hold is
said and left out).

Metres are the network's (``edge_length_m``), times seconds since midnight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from solver.geometry import Pieces
from solver.network import RoadNetwork
from solver.problem import Problem
from solver.snapping import SnappedPoints
from solver.solution import RoutePlan
from solver.traces.fixes import Lift, TraceIssue
from solver.traces.matching import MatchedTrace


@dataclass(frozen=True)
class DrivenOptions:
    """How stops are read (see the module's docstring): ``near_m`` metres, ``min_share`` a fraction
    of a bin's service (a tip's unload) time, ``min_standing_s`` and ``break_s`` seconds."""

    near_m: float = 25.0
    min_share: float = 0.4
    min_standing_s: float = 5.0
    break_s: float = 600.0


@dataclass(frozen=True, slots=True)
class Collected:
    """A bin collected at ``time_s``, after standing ``standing_s`` seconds there (0 for a lift
    event), known from ``source`` ``stop`` (where the lorry stood) or ``lift`` (an in-cab lift)."""

    bin_id: str
    time_s: float
    standing_s: float
    source: Literal["stop", "lift"]


@dataclass(frozen=True, slots=True)
class TipVisit:
    """A visit to disposal site ``site_id`` at ``time_s``, standing there ``standing_s`` seconds."""

    site_id: str
    time_s: float
    standing_s: float


@dataclass(frozen=True)
class RoundAsDriven:
    """One vehicle's day as driven: from ``start_s`` to ``end_s``, ``distance_m`` metres (of which
    ``bridged_m`` filled in where no fix shows the way), the ``pieces`` of street driven
    (:data:`solver.geometry.Pieces`), the ``bins`` collected in order, the ``tips`` visited, the
    ``breaks`` ``(start_s, end_s)``, and the ``issues`` met on the way."""

    vehicle_id: str
    start_s: float
    end_s: float
    distance_m: float
    bridged_m: float
    pieces: Pieces
    bins: tuple[Collected, ...]
    tips: tuple[TipVisit, ...]
    breaks: tuple[tuple[float, float], ...]
    issues: tuple[TraceIssue, ...] = field(default=())

    @property
    def duration_s(self) -> float:
        """Seconds from the first fix to the last."""
        return self.end_s - self.start_s

    @property
    def edges(self) -> frozenset[int]:
        """The edges driven (any stretch of them)."""
        return frozenset(e for e, a, b in self.pieces if b > a)

    def route_plan(self) -> RoutePlan:
        """The stops as driven, bins and tips in time order, for the evaluator. The breaks are not
        named (``breaks_where_they_fit``): where a trace shows a break is not where a plan's break
        stop would be priced."""
        timed = [(c.time_s, c.bin_id) for c in self.bins] + [(t.time_s, t.site_id) for t in self.tips]
        return RoutePlan(self.vehicle_id, tuple(stop for _, stop in sorted(timed, key=lambda x: x[0])),
                         breaks_where_they_fit=True)


def _passes(network: RoadNetwork, pieces: Pieces, starts: np.ndarray, snapped: SnappedPoints,
            near_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Every time the drive passes a location (row of ``snapped``): the row and the metres along the
    drive, sorted by the metres."""
    by_edge: dict[int, list[tuple[int, float]]] = {}
    for row in np.flatnonzero(snapped.edge >= 0).tolist():
        e, f = int(snapped.edge[row]), float(snapped.fraction[row])
        by_edge.setdefault(e, []).append((row, f))
        twin = int(network.edge_twin[e])
        if twin >= 0:
            by_edge.setdefault(twin, []).append((row, 1.0 - f))
    rows: list[int] = []
    where: list[float] = []
    for k, (e, f0, f1) in enumerate(pieces):
        length = float(network.edge_length_m[e])
        tol = near_m / length if length > 0 else 1.0
        for row, f in by_edge.get(e, ()):
            if f0 - tol <= f <= f1 + tol:
                rows.append(row)
                where.append(float(starts[k]) + (min(max(f, f0), f1) - f0) * length)
    order = np.argsort(where, kind="stable")
    rows_sorted, where_sorted = np.asarray(rows, dtype=np.int64)[order], np.asarray(where, dtype=float)[order]
    # driving up to a place and turning back there passes it twice (along the edge and its twin): one pass
    last: dict[int, float] = {}
    keep = np.ones(rows_sorted.size, dtype=bool)
    for k, (row, w) in enumerate(zip(rows_sorted.tolist(), where_sorted.tolist(), strict=True)):
        if row in last and w - last[row] <= 2.0 * near_m:
            keep[k] = False
        else:
            last[row] = w
    return rows_sorted[keep], where_sorted[keep]


def _drive_clock(network: RoadNetwork, pieces: Pieces) -> np.ndarray:
    """Seconds of driving at the network's speeds to the start of each piece, and to the end."""
    seconds = np.array([abs(b - a) * float(network.edge_time_s[e]) for e, a, b in pieces], dtype=float)
    return np.concatenate(([0.0], np.cumsum(seconds)))


def round_as_driven(network: RoadNetwork, problem: Problem, snapped: SnappedPoints, matched: MatchedTrace,
                    lifts: Sequence[Lift] = (), options: DrivenOptions | None = None) -> RoundAsDriven:
    """Read ``matched`` (one vehicle's matched trace) as the round it was, on ``problem``'s places
    snapped in matrix order (``snapped``, :func:`solver.snapping.snap_points`); ``lifts`` are the
    vehicle's lift events, if any (see the module's docstring)."""
    opts = options or DrivenOptions()
    ids = problem.location_ids()
    site_rows = set(range(problem.site_offset(), problem.bin_offset()))
    bin_offset = problem.bin_offset()
    issues: list[TraceIssue] = []
    along, time_s = matched.along_m, matched.time_s
    starts = matched.piece_start_m
    rows, where = _passes(network, matched.pieces, starts, snapped, opts.near_m)
    clock = _drive_clock(network, matched.pieces)
    standing = np.zeros(rows.size)
    breaks: list[tuple[float, float]] = []
    if along.size > 1:
        drive_s = np.diff(np.interp(along, starts, clock)) if starts.size > 1 else np.zeros(along.size - 1)
        excess = np.maximum(np.diff(time_s) - drive_s, 0.0)
        lo = np.searchsorted(where, along[:-1] - opts.near_m, side="left")
        hi = np.searchsorted(where, along[1:] + opts.near_m, side="right")
        for i in np.flatnonzero(excess > 0).tolist():
            here = np.arange(lo[i], hi[i])
            special = here[rows[here] < bin_offset]  # depots and tips first
            share = special if special.size else here
            if share.size and excess[i] < opts.break_s:
                standing[share] += excess[i] / share.size
            elif excess[i] >= opts.break_s:
                breaks.append((float(time_s[i]), float(time_s[i + 1])))
    pass_time = np.interp(where, along, time_s) if along.size else np.zeros(rows.size)

    tips: list[TipVisit] = []
    for r, t, s in zip(rows.tolist(), pass_time.tolist(), standing.tolist(), strict=True):
        if r not in site_rows:
            continue
        site = problem.site(ids[r])
        if tips and tips[-1].site_id == site.id and t - tips[-1].time_s <= site.unload_s + tips[-1].standing_s:
            tips[-1] = TipVisit(site.id, tips[-1].time_s, tips[-1].standing_s + s)  # the same visit, passed twice
        elif s > 0:
            tips.append(TipVisit(site.id, t, s))
    tips = [t for t in tips if t.standing_s >= opts.min_share * problem.site(t.site_id).unload_s]
    known = {b.id for b in problem.bins}
    if lifts:
        unknown = [lift for lift in lifts if lift.bin_id not in known]
        if unknown:
            issues.append(TraceIssue("unknown_bin", matched.vehicle_id, len(unknown),
                                     f"{len(unknown)} lift events name bins the problem does not hold "
                                     f"({', '.join(sorted({x.bin_id for x in unknown})[:5])}): left out"))
        seen: set[str] = set()
        bins: list[Collected] = []
        for lift in sorted(lifts, key=lambda x: x.time_s):
            if lift.bin_id in known and lift.bin_id not in seen:
                seen.add(lift.bin_id)
                bins.append(Collected(lift.bin_id, lift.time_s, 0.0, "lift"))
    else:
        best: dict[str, tuple[float, float, float]] = {}  # bin id -> standing, metres along, time
        for r, s, w, t in zip(rows.tolist(), standing, where, pass_time, strict=True):
            if r >= bin_offset and s > best.get(ids[r], (-1.0, 0.0, 0.0))[0]:
                best[ids[r]] = (float(s), float(w), float(t))
        collected = [(w, Collected(b, t, s, "stop")) for b, (s, w, t) in best.items()
                     if s >= max(opts.min_standing_s, opts.min_share * problem.bin(b).service_s)]
        bins = [c for _, c in sorted(collected, key=lambda x: x[0])]
    return RoundAsDriven(vehicle_id=matched.vehicle_id, start_s=float(time_s[0]) if time_s.size else 0.0,
                         end_s=float(time_s[-1]) if time_s.size else 0.0, distance_m=matched.distance_m,
                         bridged_m=matched.bridged_m, pieces=matched.pieces, bins=tuple(bins), tips=tuple(tips),
                         breaks=tuple(breaks), issues=(*matched.issues, *issues))
