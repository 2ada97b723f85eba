"""The round as driven: a matched trace (:mod:`solver.traces.matching`) read as the round it was:
the bins collected in order, the tips visited, the breaks, start and end, and the stops as a
:class:`~solver.solution.RoutePlan` the evaluator scores like any plan.

**Where the lorry stood.** Between two matched fixes the lorry drove ``along_m`` metres of
street in ``dt`` seconds; at the network's speeds that stretch takes ``drive_s`` seconds, so it
stood ``dt - drive_s`` seconds there (signed: traffic and a driver slower than the network's speeds
stand in here too, and a faster one gives some back). A tip passed between the two fixes takes that
standing first (a lorry standing at a tip is tipping, not collecting the bins across the road), a
depot when both fixes are at it; standing with either fix at a tip by its own position (wherever
the match put it) is laid on no bin. A tip is **visited** on
each pass with ``min_share`` of its ``unload_s``.

The **bins collected** are read by :mod:`solver.traces.standing`: *count from time, identity from
place*. The standing is laid on the bins near the fixes' own positions (given ``trace``; a match
that cuts a corner or misses a cul-de-sac still stood where the fixes say) and on those the drive
passes between two fixes; per group of bins that shared a stand, the standing in units of their
``service_s`` says how many were lifted (a bin from ``min_share`` of a lift, and at least
``min_standing_s``), and the bins with the most standing laid on them are the ones. A bin the
lorry drives past at speed gathers nothing; a street not driven has no fixes near it.

A day's rounds are read together (:func:`rounds_as_driven`, which :func:`stood_at` and
:func:`read_round` make up, as they make up :func:`round_as_driven` for one): each bin is collected
once, so a bin two lorries stood near goes to one of them
(:func:`~solver.traces.standing.bins_stood_at_jointly`).

Given the plan's rounds in order, a lift no fix shows (a lost fix, a tunnel) is read from the plan:
a run of planned bins between two read in the plan's order is read when the lorry's standing between
them, less the lifts it read there, makes their lifts (:func:`fill_from_plan`, ``source`` ``plan``).

**The drive laid through the bins.** A bin named by a lift or the plan's order that the matched drive
does not pass, lying ``via_m`` or more from it or in a stretch no fix shows, has the drive between
the two fixes either side of its time laid through it (:func:`through_collected`,
:mod:`solver.traces.relay`): the lorry drove there, and the km say so (Monaco at 30 s: the spurs and
the tunnel's bins the match cut out, up to 2.3 % of a round).

A stand of ``break_s`` seconds or more beyond the lifts of the bins there (within ``still_m`` metres
along the drive), or a gap in the trace of that length, is a **break** (the bin nearest it, within
``near_m``, lifted first).

**Lift events**, when the in-cab system gives them for a vehicle, name its bins outright: the
bins collected are the lifts' bins in time order (a lift of a bin the problem does not hold is
said and left out).

Metres are the network's (``edge_length_m``), times seconds since midnight.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Literal

import numpy as np
import shapely
from scipy.spatial import cKDTree

from solver.geometry import Pieces
from solver.network import RoadNetwork
from solver.problem import Problem
from solver.snapping import SnappedPoints
from solver.solution import RoutePlan
from solver.traces.clean import CleanTrace
from solver.traces.fixes import Lift, TraceIssue
from solver.traces.matching import Bridge, MatchedTrace, MatchOptions, Stands, smoothed
from solver.traces.relay import Via, through_bins
from solver.traces.standing import (
    BinStanding,
    Spread,
    bins_stood_at,
    bins_stood_at_jointly,
    due_in_plan,
    long_stands,
    standing_on_bins,
)


@dataclass(frozen=True)
class DrivenOptions:
    """How stops are read (see the module's docstring): ``near_m`` metres along the drive within which
    a tip or depot is passed; ``min_share`` a fraction of a bin's service (a tip's unload) time that
    counts as one; ``min_standing_s`` the least standing (seconds) that reads any bin; ``break_s``
    seconds of standing beyond the lifts there that make a break, within ``still_m`` metres along the
    drive; ``smooth_s`` the half-width (seconds) of the moving mean the fixes' positions are read
    through (as :class:`~solver.traces.matching.MatchOptions` smooths them); ``via_m`` how far (metres)
    from the drive a bin named by a lift or the plan lies for the drive to be laid through it
    (:func:`through_collected`); ``spread`` how standing
    is shared among the bins near it (:class:`~solver.traces.standing.Spread`)."""

    near_m: float = 25.0
    min_share: float = 0.3
    min_standing_s: float = 5.0
    break_s: float = 600.0
    still_m: float = 15.0
    smooth_s: float = 3.0
    via_m: float = 30.0
    spread: Spread = field(default_factory=Spread)


@dataclass(frozen=True, slots=True)
class Collected:
    """A bin collected at ``time_s``, after standing ``standing_s`` seconds there (0 for a lift
    event), known from ``source`` ``stop`` (where the lorry stood), ``lift`` (an in-cab lift) or
    ``plan`` (the lorry stood where no fix shows a bin, between two bins read before and after it in
    the plan's order: :func:`fill_from_plan`)."""

    bin_id: str
    time_s: float
    standing_s: float
    source: Literal["stop", "lift", "plan"]


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
    ``breaks`` ``(start_s, end_s)``, the ``issues`` met on the way, and the ``bridges``, the stretches
    filled in (metres along ``pieces``; ``bridged_m`` their length), for the map to tell them from the
    stretches the fixes show."""

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
    bridges: tuple[Bridge, ...] = field(default=())

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


#: how near its street's end (metres) a location is on the junction (:func:`_passes`)
_JUNCTION_M = 1.0


def _passes(network: RoadNetwork, pieces: Pieces, starts: np.ndarray, snapped: SnappedPoints,
            near_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Every time the drive passes a location (row of ``snapped``): the row and the metres along the
    drive, sorted by the metres. A location on a junction (within ``_JUNCTION_M`` of its street's end) is
    passed by a drive through the junction along any of its streets: a tip on a corner, reached down the
    other street, was not visited (a stand matched at the mean of its fixes lies on the corner, and either
    street is as near)."""
    by_edge: dict[int, list[tuple[int, float]]] = {}
    at_node: dict[int, list[int]] = {}
    for row in np.flatnonzero(snapped.edge >= 0).tolist():
        e, f = int(snapped.edge[row]), float(snapped.fraction[row])
        by_edge.setdefault(e, []).append((row, f))
        twin = int(network.edge_twin[e])
        if twin >= 0:
            by_edge.setdefault(twin, []).append((row, 1.0 - f))
        length = float(network.edge_length_m[e])
        if f * length <= _JUNCTION_M:
            at_node.setdefault(int(network.edge_u[e]), []).append(row)
        elif (1.0 - f) * length <= _JUNCTION_M:
            at_node.setdefault(int(network.edge_v[e]), []).append(row)
    nodes = np.fromiter(at_node, dtype=np.int64, count=len(at_node))
    for ends, f in ((network.edge_u, 0.0), (network.edge_v, 1.0)):
        for e in np.flatnonzero(np.isin(ends, nodes)).tolist():
            for row in at_node[int(ends[e])]:
                if all(r != row for r, _ in by_edge.get(e, ())):
                    by_edge.setdefault(e, []).append((row, f))
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


def _places_xy(network: RoadNetwork, snapped: SnappedPoints, rows: np.ndarray) -> np.ndarray:
    """Where ``rows`` (of ``snapped``, each on a street) lie on their streets (projected metres)."""
    points = shapely.line_interpolate_point(network.edge_xy[snapped.edge[rows]], snapped.fraction[rows],
                                            normalized=True)
    return shapely.get_coordinates(points).reshape(-1, 2)


def bin_stands(network: RoadNetwork, problem: Problem, snapped: SnappedPoints) -> Stands:
    """Where on their streets ``problem``'s bins lie (projected metres; ``snapped`` holds the depots,
    the disposal sites and then the bins, as :func:`round_as_driven` takes them) and their lift seconds,
    for the matcher to weigh the time between fixes (:class:`~solver.traces.matching.Stands`); bins not
    snapped to a street are left out."""
    rows = np.arange(problem.bin_offset(), problem.bin_offset() + len(problem.bins))
    placed = snapped.edge[rows] >= 0
    service = np.array([b.service_s for b in problem.bins], dtype=float)
    return Stands(xy=_places_xy(network, snapped, rows[placed]), service_s=service[placed])


def _drive_xy(network: RoadNetwork, matched: MatchedTrace) -> np.ndarray:
    """Where the matched drive puts each matched fix (projected metres)."""
    starts = matched.piece_start_m
    if not matched.pieces:
        return np.zeros((matched.along_m.size, 2))
    k = np.clip(np.searchsorted(starts, matched.along_m, side="right") - 1, 0, len(matched.pieces) - 1)
    edge = np.array([matched.pieces[i][0] for i in k.tolist()], dtype=np.int64)
    f0 = np.array([matched.pieces[i][1] for i in k.tolist()])
    lengths = network.edge_length_m[edge]
    fraction = np.clip(f0 + (matched.along_m - starts[k]) / np.where(lengths > 0, lengths, 1.0), 0.0, 1.0)
    return shapely.get_coordinates(shapely.line_interpolate_point(network.edge_xy[edge], fraction, normalized=True))


def _fix_xy(network: RoadNetwork, matched: MatchedTrace, trace: CleanTrace | None, smooth_s: float) -> np.ndarray:
    """Each matched fix's own position (projected metres), smoothed as the matcher smoothed it, from
    ``trace``; without it, where the matched drive puts it."""
    if trace is None:
        return _drive_xy(network, matched)
    given: dict[int, np.ndarray] = {}
    for piece in trace.pieces:
        mean = smoothed(piece, smooth_s)
        given.update(zip(mean.source.tolist(), mean.xy, strict=True))
    fallback = _drive_xy(network, matched)
    return np.array([given.get(int(s), fallback[k]) for k, s in enumerate(matched.source.tolist())]).reshape(-1, 2)


@dataclass(frozen=True)
class Stood:
    """Where one vehicle's matched trace stood, before its bins are chosen (:func:`stood_at`): the
    ``matched`` trace; the places it passed (``rows`` of the snapped places, sorted by the metres along
    the drive) with when (``pass_time``, s) and the standing laid on each pass at a tip or depot
    (``site_standing``, s); the ``breaks`` ``(start_s, end_s)``; the standing laid on each bin of the
    problem (``bins``, :class:`~solver.traces.standing.BinStanding`); when the drive passed each
    bin stood at (``passed_at``: bin index -> s, the pass nearest the standing's time); and the
    standing between each two fixes (``excess_s``, s; none at tips, depots and breaks)."""

    matched: MatchedTrace
    rows: np.ndarray
    pass_time: np.ndarray
    site_standing: np.ndarray
    breaks: tuple[tuple[float, float], ...]
    bins: BinStanding
    passed_at: dict[int, float]
    excess_s: np.ndarray


def round_as_driven(network: RoadNetwork, problem: Problem, snapped: SnappedPoints, matched: MatchedTrace,
                    lifts: Sequence[Lift] = (), options: DrivenOptions | None = None,
                    trace: CleanTrace | None = None, planned: Collection[str] | None = None,
                    match: MatchOptions | None = None) -> RoundAsDriven:
    """Read ``matched`` (one vehicle's matched trace) as the round it was, on ``problem``'s places
    snapped in matrix order (``snapped``, :func:`solver.snapping.snap_points`); ``lifts`` are the
    vehicle's lift events, if any; ``trace``, the cleaned trace ``matched`` was matched from, gives
    the fixes' own positions to read the bins by (without it, the matched drive's are used);
    ``planned``, the ids of the bins the plan gave the vehicle, if known, are preferred to others
    near the same stand (see the module's docstring). A day's rounds are read together by
    :func:`rounds_as_driven`, which gives each bin to one of them."""
    opts = options or DrivenOptions()
    stood = stood_at(network, problem, snapped, matched, opts, trace, planned)
    service = np.array([b.service_s for b in problem.bins], dtype=float)
    chosen = bins_stood_at(stood.bins, service, opts.min_share, opts.min_standing_s)
    filled = fill_from_plan(problem, stood, chosen, planned, np.zeros_like(chosen), opts) if planned else {}
    done = read_round(problem, stood, chosen, lifts, opts, filled)
    return through_collected(network, problem, snapped, matched, done, opts, match)


def rounds_as_driven(network: RoadNetwork, problem: Problem, snapped: SnappedPoints,
                     matched: Sequence[MatchedTrace], lifts: Mapping[str, Sequence[Lift]],
                     options: DrivenOptions | None = None, traces: Sequence[CleanTrace | None] | None = None,
                     planned: Mapping[str, Collection[str]] | None = None,
                     match: MatchOptions | None = None) -> list[RoundAsDriven]:
    """A day's rounds read together, one per trace of ``matched`` (``traces`` the cleaned traces they
    were matched from; ``lifts`` and ``planned`` by vehicle id), as :func:`round_as_driven` reads one,
    but **each bin collected once**: a bin two lorries stood near (two rounds on the same street, 10 m
    apart) goes to one of them, and the other reads its count from its other bins
    (:func:`~solver.traces.standing.bins_stood_at_jointly`). A bin an in-cab lift names is that
    vehicle's, and no other reads it from a stop."""
    opts = options or DrivenOptions()
    given = list(traces) if traces is not None else [None] * len(matched)
    stood = [stood_at(network, problem, snapped, m, opts, t,
                      planned.get(m.vehicle_id, ()) if planned is not None else None)
             for m, t in zip(matched, given, strict=True)]
    service = np.array([b.service_s for b in problem.bins], dtype=float)
    index = {b.id: k for k, b in enumerate(problem.bins)}
    lifted = np.zeros(len(problem.bins), dtype=bool)
    for m in matched:
        for lift in lifts.get(m.vehicle_id, ()):
            if lift.bin_id in index:
                lifted[index[lift.bin_id]] = True
    reading = [k for k, m in enumerate(matched) if not lifts.get(m.vehicle_id)]
    chosen = [np.zeros(len(problem.bins), dtype=bool) for _ in matched]
    joint = bins_stood_at_jointly([stood[k].bins for k in reading], service, opts.min_share, opts.min_standing_s,
                                  taken=lifted)
    for k, mask in zip(reading, joint, strict=True):
        chosen[k] = mask
    readers = np.sum(chosen, axis=0)  # per bin, how many lorries read it (0 or 1)
    rounds = []
    for s, c in zip(stood, chosen, strict=True):
        vehicle_id = s.matched.vehicle_id
        order = planned.get(vehicle_id, ()) if planned is not None else ()
        others = lifted | (readers - c > 0)
        filled = fill_from_plan(problem, s, c, order, others, opts) if not lifts.get(vehicle_id) else {}
        done = read_round(problem, s, c, lifts.get(vehicle_id, ()), opts, filled)
        rounds.append(through_collected(network, problem, snapped, s.matched, done, opts, match))
    return rounds


def through_collected(network: RoadNetwork, problem: Problem, snapped: SnappedPoints, matched: MatchedTrace,
                      done: RoundAsDriven, opts: DrivenOptions, match: MatchOptions | None = None) -> RoundAsDriven:
    """``done``, read from ``matched``, with its drive laid through the bins it collected that the drive
    does not pass (within ``near_m``), up the spur or through the tunnel no fix shows
    (:func:`~solver.traces.relay.through_bins`, on the graph ``match`` drives): those named by a lift
    or the plan's order (``lift``, ``plan``), lying ``via_m`` or more from the drive or collected in a
    stretch no fix shows (a bridge).

    Nearer the drive, the bin stands by it (a short stub, the next street's end) and the fixes did not
    say which of two streets 10-30 m apart the lorry stood on: laid through every such bin named by a
    lift, Oakham's rounds at 30 s (seed 0) read 0.7-3.5 % long (each laid out and back from where the
    match stood, 40-100 m, where the lorry drove 10-50 m); from 30 m, -0.7 to +0.5 %. Bins read from
    stops are not laid through: on Monaco at 30 s (seeds 0-2) that gained nothing and cost one round
    0.6 points."""
    if all(c.source == "stop" for c in done.bins):  # read from stops alone: nothing to lay the drive through
        return done
    rows, _ = _passes(network, matched.pieces, matched.piece_start_m, snapped, opts.near_m)
    passed = set(rows.tolist())
    offset = problem.bin_offset()
    index = {b.id: k for k, b in enumerate(problem.bins)}
    drive = shapely.union_all(network.edge_xy[sorted({int(e) for e, _, _ in matched.pieces})])
    via, lifted = [], []
    for c in done.bins:
        row = offset + index[c.bin_id]
        e = int(snapped.edge[row])
        service = float(problem.bins[index[c.bin_id]].service_s)
        if row not in passed and e >= 0 and c.source != "stop":
            place = shapely.points(_places_xy(network, snapped, np.array([row]))[0])
            unseen = any(b.start_s <= c.time_s <= b.end_s for b in matched.bridges)
            if unseen or float(shapely.distance(place, drive)) >= opts.via_m:
                via.append(Via(c.time_s, e, float(snapped.fraction[row]) * float(network.edge_length_m[e]), service))
                continue
        lifted.append((c.time_s, service))
    if not via:
        return done
    laid = through_bins(network, matched, via, match, lifted)
    # the bridges move with the drive: their metres are along the laid pieces, not the matched ones
    return replace(done, distance_m=laid.distance_m, bridged_m=laid.bridged_m, pieces=laid.pieces,
                   bridges=laid.bridges)


def fill_from_plan(problem: Problem, stood: Stood, chosen: np.ndarray, order: Collection[str],
                   others: np.ndarray, opts: DrivenOptions) -> dict[int, float]:
    """The planned bins a lorry collected where no fix shows it, read from the plan's ``order`` (a list:
    a set holds no order, and then none is read). A run of planned bins not ``chosen``, between two
    that were (read in the plan's order), none of them read by another lorry (``others``), is read
    when the lorry's standing from the fix before the first's lift to the fix after the second's, less
    the lifts of the bins it read, each by the share of its standing laid in that time, makes as many
    lifts as the run holds (a bin from ``min_share`` of a lift): a lift whose fix was lost, or hidden in
    a tunnel, up a spur the match did not drive. A bin the crew left (not put out, a street skipped) has
    no standing to read it by. Gives bin index -> when (s): spread evenly over the seconds between the
    two fixes, of those from the first's lift to the second's, where the lorry stood longest (a tunnel,
    a lost fix), after the first bin and before the second."""
    t = stood.matched.time_s
    if not isinstance(order, (list, tuple)) or stood.excess_s.size == 0:
        return {}
    index = {b.id: k for k, b in enumerate(problem.bins)}
    seq = [index[b] for b in order if b in index]
    service = np.array([b.service_s for b in problem.bins], dtype=float)
    times = {k: stood.passed_at.get(k, float(stood.bins.time_s[k])) for k in np.flatnonzero(chosen).tolist()}
    read = np.array(list(times), dtype=int)
    read_at = np.array([times[k] for k in read.tolist()])
    interval, which, laid = stood.bins.laid
    order_by = np.argsort(interval, kind="stable")
    interval, which, laid = interval[order_by], which[order_by], np.maximum(laid[order_by], 0.0)
    total = np.bincount(which, weights=laid, minlength=service.size)[read]
    running = np.concatenate(([0.0], np.cumsum(stood.excess_s)))
    filled: dict[int, float] = {}
    for p0, p1 in pairwise([p for p, k in enumerate(seq) if chosen[k]]):
        run = seq[p0 + 1:p1]
        t0, t1 = times[seq[p0]], times[seq[p1]]
        if not run or not t0 < t1 or others[run].any():
            continue
        # from the fix before the first's lift began (the drive passes a bin during its lift, or after)
        first = max(int(np.searchsorted(t, t0 - service[seq[p0]], side="right")) - 1, 0)
        last = min(int(np.searchsorted(t, t1 + service[seq[p1]], side="left")), t.size - 1)
        # a read bin's lift counts by the share of its standing laid in that time: a whole lift for a bin
        # read at the edge, most of whose standing lies outside, left no spare (Monaco at 30 s: a bin
        # unread); a bin no interval laid on (lifted before a break) counts whole where read in it
        lo, hi = np.searchsorted(interval, first), np.searchsorted(interval, last)
        inside = np.bincount(which[lo:hi], weights=laid[lo:hi], minlength=service.size)[read]
        whole = ((read_at >= t[first]) & (read_at <= t[last])).astype(float)
        share = np.divide(inside, total, out=whole, where=total > 0)
        lifted = float(np.sum(service[read] * share))
        spare = running[last] - running[first] - lifted
        if spare / float(np.mean(service[run])) + 1.0 - opts.min_share >= len(run):
            # lifted where the lorry stood longest without a bin read: a tunnel, a lost fix
            gap = first + int(np.argmax(stood.excess_s[first:last])) if last > first else first
            a, b = max(float(t[gap]), t0), min(float(t[min(gap + 1, t.size - 1)]), t1)
            a, b = (a, b) if a < b else (t0, t1)
            filled.update((k, a + (b - a) * (j + 1) / (len(run) + 1)) for j, k in enumerate(run))
    return filled


def stood_at(network: RoadNetwork, problem: Problem, snapped: SnappedPoints, matched: MatchedTrace,
             opts: DrivenOptions, trace: CleanTrace | None = None,
             planned: Collection[str] | None = None) -> Stood:
    """Where ``matched`` stood (see :class:`Stood` and the module's docstring), the arguments as
    :func:`round_as_driven` takes them."""
    bin_offset, site_offset = problem.bin_offset(), problem.site_offset()
    along, time_s = matched.along_m, matched.time_s
    starts = matched.piece_start_m
    rows, where = _passes(network, matched.pieces, starts, snapped, opts.near_m)
    clock = _drive_clock(network, matched.pieces)
    standing = np.zeros(rows.size)
    breaks: list[tuple[float, float]] = []
    bin_rows = np.arange(bin_offset, bin_offset + len(problem.bins))
    placed = snapped.edge[bin_rows] >= 0
    bin_xy = _places_xy(network, snapped, bin_rows[placed])
    service = np.array([b.service_s for b in problem.bins], dtype=float)
    is_bin = rows >= bin_offset
    bin_m, pass_bin = where[is_bin], rows[is_bin] - bin_offset
    seconds = np.zeros(len(problem.bins))
    when = np.full(len(problem.bins), np.nan)
    group = np.arange(len(problem.bins))
    passed_at: dict[int, float] = {}
    excess = np.zeros(0)
    by_interval = BinStanding(seconds, when, group).laid
    if along.size > 1:
        drive_s = np.diff(np.interp(along, starts, clock)) if starts.size > 1 else np.zeros(along.size - 1)
        excess = np.diff(time_s) - drive_s
        # a tip passed between two fixes takes their standing first (a lorry standing at a tip is
        # tipping, not collecting the bins across the road); a depot only when both fixes are at
        # it (the day's first interval leaves the depot for the first bin, and stands there)
        lo = np.searchsorted(where, along[:-1] - opts.near_m, side="left")
        hi = np.searchsorted(where, along[1:] + opts.near_m, side="right")
        for i in np.flatnonzero(excess > 0).tolist():
            here = np.arange(lo[i], hi[i])
            at_both = (where[here] >= along[i + 1] - opts.near_m) & (where[here] <= along[i] + opts.near_m)
            is_tip = (rows[here] >= site_offset) & (rows[here] < bin_offset)
            special = here[is_tip | (rows[here] < site_offset) & at_both]
            if excess[i] >= opts.break_s:
                breaks.append((float(time_s[i]), float(time_s[i + 1])))
                excess[i] = 0.0
            elif special.size:
                standing[special] += excess[i] / special.size
                excess[i] = 0.0
        fix_xy = _fix_xy(network, matched, trace, opts.smooth_s)
        site_rows_arr = np.arange(site_offset, bin_offset)
        site_xy = _places_xy(network, snapped, site_rows_arr[snapped.edge[site_rows_arr] >= 0])
        if site_xy.shape[0]:  # a fix at a tip, wherever the match put it: the standing there is not at bins
            at_tip = cKDTree(site_xy).query(fix_xy, distance_upper_bound=opts.spread.radius_m)[0] < np.inf
            excess[at_tip[:-1] | at_tip[1:]] = np.minimum(excess[at_tip[:-1] | at_tip[1:]], 0.0)
        lifted: list[tuple[float, np.ndarray]] = []
        for i, j in long_stands(along, time_s, excess, bin_m, service[pass_bin], opts.still_m, opts.break_s):
            breaks.append((float(time_s[i]), float(time_s[j])))
            excess[i:j] = 0.0
            middle = float(np.median(along[i:j + 1]))  # the bin nearest where it stood was lifted first
            nearest = np.flatnonzero(np.abs(bin_m - middle) <= opts.near_m)
            nearest = nearest[np.argsort(np.abs(bin_m[nearest] - middle))[:1]]
            lifted.append((float(time_s[i]), pass_bin[nearest]))
        breaks.sort()
        # the bins the drive passes strictly between two fixes: where a sparse trace may have stood
        first = np.searchsorted(bin_m, along[:-1], side="right")
        count = np.maximum(np.searchsorted(bin_m, along[1:], side="left") - first, 0)
        interval = np.repeat(np.arange(count.size), count)
        passed = pass_bin[np.repeat(first - (np.cumsum(count) - count), count) + np.arange(interval.size)]
        index = np.flatnonzero(placed)
        farther = np.where(np.isin(np.arange(len(problem.bins)), pass_bin), 0.0, opts.spread.off_drive_m)
        if planned is not None:
            farther += np.where([b.id in planned for b in problem.bins], 0.0, opts.spread.unplanned_m)
        local = np.full(len(problem.bins), -1)
        local[index] = np.arange(index.size)
        inside = local[passed] >= 0
        pairs = (interval[inside], local[passed[inside]])
        laid = standing_on_bins(time_s, fix_xy, excess, bin_xy, pairs, farther[index], opts.spread)
        if isinstance(planned, (list, tuple)):  # again, each bin timed at the stands when it was due
            place = {b: p for p, b in enumerate(planned)}
            position = np.array([place.get(problem.bins[k].id, np.nan) for k in index.tolist()], dtype=float)
            read = bins_stood_at(laid, service[index], opts.min_share, opts.min_standing_s)
            due = due_in_plan(laid, read, position, 0.5 * (time_s[:-1] + time_s[1:]))
            laid = standing_on_bins(time_s, fix_xy, excess, bin_xy, pairs, farther[index], opts.spread,
                                    (due, position))
        seconds[index], when[index], group[index] = laid.seconds, laid.time_s, laid.group + len(problem.bins)
        by_interval = (laid.laid[0], index[laid.laid[1]], laid.laid[2])
        for t0, k in lifted:  # the bins where a break was taken were lifted before it
            seconds[k] += service[k]
            when[k] = np.where(np.isnan(when[k]), t0, when[k])
    pass_time = np.interp(where, along, time_s) if along.size else np.zeros(rows.size)
    # a bin the drive passes is lifted when the drive passes it (the pass nearest the standing's time):
    # that keeps the order of bins stood at between two fixes, or in a tunnel, the drive's
    for k, t in zip(pass_bin.tolist(), pass_time[is_bin].tolist(), strict=True):
        if not np.isnan(when[k]) and (k not in passed_at or abs(t - when[k]) < abs(passed_at[k] - when[k])):
            passed_at[k] = t
    return Stood(matched=matched, rows=rows, pass_time=pass_time, site_standing=standing, breaks=tuple(breaks),
                 bins=BinStanding(seconds, when, group, by_interval), passed_at=passed_at, excess_s=excess)


def read_round(problem: Problem, stood: Stood, chosen: np.ndarray, lifts: Sequence[Lift],
               opts: DrivenOptions, filled: Mapping[int, float] | None = None) -> RoundAsDriven:
    """The round as driven from where it ``stood``: the tips visited, and the bins ``chosen`` (a mask
    over the problem's bins) and ``filled`` (bin index -> when, from the plan's order:
    :func:`fill_from_plan`), or, when the vehicle's ``lifts`` are given, the lifts' bins."""
    matched, rows, pass_time, standing = stood.matched, stood.rows, stood.pass_time, stood.site_standing
    seconds, when, passed_at = stood.bins.seconds, stood.bins.time_s, stood.passed_at
    time_s = matched.time_s
    ids = problem.location_ids()
    site_rows = set(range(problem.site_offset(), problem.bin_offset()))
    issues: list[TraceIssue] = []
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
        taken = np.flatnonzero(chosen)
        bins = sorted([*(Collected(problem.bins[k].id, passed_at.get(k, float(when[k])), float(seconds[k]), "stop")
                         for k in taken.tolist()),
                       *(Collected(problem.bins[k].id, t, 0.0, "plan") for k, t in (filled or {}).items())],
                      key=lambda c: c.time_s)
    return RoundAsDriven(vehicle_id=matched.vehicle_id, start_s=float(time_s[0]) if time_s.size else 0.0,
                         end_s=float(time_s[-1]) if time_s.size else 0.0, distance_m=matched.distance_m,
                         bridged_m=matched.bridged_m, pieces=matched.pieces, bins=tuple(bins), tips=tuple(tips),
                         breaks=stood.breaks, issues=(*matched.issues, *issues), bridges=matched.bridges)
