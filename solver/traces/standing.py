"""Which bins a lorry stood at, read from a matched trace: **count from time, identity from place**.

Between two matched fixes the lorry drove from ``along_m[i]`` to ``along_m[i + 1]`` metres along the
drive in ``dt`` seconds, where the network's speeds take ``drive_s``; the difference is its
**standing** there (seconds, signed: a lorry a little faster than the network's speeds gives some
back). The seconds are sound however noisy the positions: over a run of stands, their sum says how
many bins were lifted far better than where any one fix fell.

Where: each interval's standing is laid on the bins near where the lorry was
(:func:`standing_on_bins`): the bins within ``radius_m`` of either fix (the fixes' own positions,
not the matched drive's: a match that cuts a corner or misses a short cul-de-sac still stood
where the fixes say), and the bins the matched drive passes between the two fixes (a sparse trace
does not say where between them it stood); shared by a Gaussian weight of ``spread_m`` metres in
their distance from the nearer fix (a bin passed between them: distance 0). An interval near no
bin is standing away from bins (traffic, a junction) and is dropped.

How many: bins that shared the standing of an interval the lorry mostly stood through are one
**group** (:func:`bins_stood_at`); a group's standing ``T``, in units of its bins' mean service time
``tau``, gives its count ``n`` (a bin counts from ``min_share`` of a lift), and its ``n`` bins with
the most standing laid on them are read as collected. A street driven at speed gathers no standing
and yields no bins; a street not driven has no fixes near its bins.

A day's lorries are read together (:func:`bins_stood_at_jointly`): **each bin is collected once**, so
a bin two lorries stood near (two rounds down the same street, their bins 10 m apart) goes to one of
them, and the other takes its count from its other bins. Per lorry this reads what
:func:`bins_stood_at` reads.

A stand far longer than the bins passed there could take (:func:`long_stands`: ``break_s`` more than
their lifts, within ``still_m`` metres along the drive) is a break: the bin nearest it is lifted
(:mod:`solver.traces.driven`), the rest of it is laid on none.

Positions are metres (the network's projection, or along the drive), times seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python.min_cost_flow import SimpleMinCostFlow
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree


@dataclass(frozen=True)
class Spread:
    """How an interval's standing is shared among bins, metres: those within ``radius_m`` of either fix,
    weighted by a Gaussian of ``spread_m`` in their distance from the nearer fix; a bin the drive
    passes between the two fixes counts as ``passed_m`` away (the lorry may have stood there, but a
    fix more likely fell where it stood); a bin the matched drive does not pass at all (a side
    street, the other carriageway) as ``off_drive_m`` farther than it is (a match can miss a short
    cul-de-sac, so such bins are not left out); when the plan is known, a bin not planned for the
    vehicle as ``unplanned_m`` farther (a crew does collect another round's bins now and then, so
    they are not left out either). When the plan's order is known, a planned bin's time is read from
    the stands when it was due, within ``order_window`` bins of the one due then (:func:`due_in_plan`),
    where any laid on it then."""

    radius_m: float = 30.0
    spread_m: float = 10.0
    passed_m: float = 10.0
    off_drive_m: float = 5.0
    unplanned_m: float = 10.0
    order_window: int = 5


def _no_laid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)


@dataclass(frozen=True)
class BinStanding:
    """Per bin: the seconds of standing laid on it (``seconds``), when (``time_s``: the time of the
    first interval that laid at least half the most any laid on it; ``nan`` for none), and its group
    (``group``: bins sharing an interval the lorry mostly stood through, :func:`bins_stood_at`); and
    ``laid``, what each interval laid on each bin (interval, bin, seconds), for the share of a bin's
    standing that fell in a stretch of the trace."""

    seconds: np.ndarray
    time_s: np.ndarray
    group: np.ndarray
    laid: tuple[np.ndarray, np.ndarray, np.ndarray] = field(default_factory=_no_laid)


def standing_on_bins(time_s: np.ndarray, xy: np.ndarray, excess_s: np.ndarray, bin_xy: np.ndarray,
                     passed: tuple[np.ndarray, np.ndarray], farther_m: np.ndarray, options: Spread,
                     due: tuple[np.ndarray, np.ndarray] | None = None) -> BinStanding:
    """Lay each interval's standing ``excess_s[i]`` (between fixes ``i`` and ``i + 1``, at ``time_s``
    and ``xy``) on the bins (``bin_xy``) within ``radius_m`` of either fix and on those the drive passes
    between them (``passed``: pairs (interval, bin)); each bin counts as ``farther_m`` metres farther
    than it is (see :class:`Spread` and the module's docstring).

    A bin's time is that of the first interval that laid at least half the most any laid on it (a bin
    passed again later gets a little then, which is not when it was lifted). Given ``due`` (per
    interval, the position in the plan due then, :func:`due_in_plan`; per bin, its position in the
    plan; ``nan`` for none), only the intervals within ``order_window`` positions of the bin's count,
    where any laid on it: at 15 m of noise a stand's place does not say which of two bins 20-30 m
    apart was lifted, and a bin the plan leaves for half an hour later, stood near now and again then,
    was lifted then (read now, the standing now looked spent, and the bin due now was not read from
    the plan's order, :func:`solver.traces.driven.fill_from_plan`)."""
    n_bins = bin_xy.shape[0]
    seconds = np.zeros(n_bins)
    if time_s.size < 2 or n_bins == 0:
        return BinStanding(seconds, np.full(n_bins, np.nan), np.arange(n_bins))
    near = cKDTree(bin_xy).sparse_distance_matrix(cKDTree(xy), options.radius_m, output_type="coo_matrix")
    b, f, d = near.row, near.col, near.data
    # a fix is the end of the interval before it and the start of the one after it
    interval = np.concatenate((f - 1, f, passed[0]))
    which = np.concatenate((b, b, passed[1]))
    dist = np.concatenate((d, d, np.full(passed[0].size, options.passed_m)))
    ok = (interval >= 0) & (interval < excess_s.size)
    interval, which, dist = interval[ok], which[ok], dist[ok]
    order = np.lexsort((dist, which, interval))
    interval, which, dist = interval[order], which[order], dist[order]
    first = np.ones(interval.size, dtype=bool)
    first[1:] = (interval[1:] != interval[:-1]) | (which[1:] != which[:-1])
    interval, which, dist = interval[first], which[first], dist[first]
    dist = dist + farther_m[which]
    weight = np.exp(-0.5 * (dist / options.spread_m) ** 2)
    weight /= np.bincount(interval, weights=weight, minlength=excess_s.size)[interval]
    laid = weight * excess_s[interval]
    seconds += np.bincount(which, weights=laid, minlength=n_bins)
    middle = 0.5 * (time_s[:-1] + time_s[1:])
    away = np.zeros(interval.size, dtype=bool)
    if due is not None:
        with np.errstate(invalid="ignore"):  # nan: no order known, never away
            away = np.abs(due[1][which] - due[0][interval]) > options.order_window
    due_laid = np.zeros(n_bins)
    np.add.at(due_laid, which, np.where(away, 0.0, np.maximum(laid, 0.0)))
    counted = ~away | (due_laid[which] <= 0)
    most = np.zeros(n_bins)
    np.maximum.at(most, which[counted], laid[counted])
    main = counted & (laid >= 0.5 * most[which]) & (laid > 0)
    when = np.full(n_bins, np.inf)
    np.minimum.at(when, which[main], middle[interval[main]])
    when[np.isinf(when)] = np.nan
    # bins sharing an interval the lorry stood through at least half of are one group
    stood = excess_s[interval] >= 0.5 * np.diff(time_s)[interval]
    same = np.flatnonzero(stood[1:] & stood[:-1] & (interval[1:] == interval[:-1]))
    links = coo_matrix((np.ones(same.size), (which[same], which[same + 1])), shape=(n_bins, n_bins))
    _, group = connected_components(links, directed=False)
    return BinStanding(seconds, when, group, (interval, which, laid))


def due_in_plan(standing: BinStanding, chosen: np.ndarray, position: np.ndarray, middle_s: np.ndarray,
                reads: int = 3) -> np.ndarray:
    """Per interval (its middle at ``middle_s``), the position in the plan due then: from the planned bins
    read (``chosen``, with ``position`` their place in the plan's order, ``nan`` for a bin not planned)
    in the order they were read, the median of each read's ``reads`` neighbours either side (as many
    either side near the day's ends; a bin read out of its place, at a stand meant for another, does not
    move it), between reads as the time goes. ``nan`` throughout with fewer than two reads."""
    read = np.flatnonzero(chosen & ~np.isnan(position) & ~np.isnan(standing.time_s))
    if read.size < 2:
        return np.full(middle_s.size, np.nan)
    read = read[np.argsort(standing.time_s[read], kind="stable")]
    at, pos = standing.time_s[read], position[read]
    side = np.minimum(np.minimum(np.arange(pos.size), pos.size - 1 - np.arange(pos.size)), reads)
    median = np.array([np.median(pos[i - k:i + k + 1]) for i, k in enumerate(side.tolist())])
    return np.interp(middle_s, at, median)


def long_stands(along_m: np.ndarray, time_s: np.ndarray, excess_s: np.ndarray, pass_m: np.ndarray,
                service_s: np.ndarray, still_m: float, break_s: float) -> list[tuple[int, int]]:
    """Runs of fixes ``(first, last)`` within ``still_m`` metres of each other along the drive whose
    standing exceeds the lifts of the bins passed there (``pass_m`` sorted, with ``service_s``) by
    ``break_s`` or more: a break (or a long wait) taken where the lorry stood."""
    if along_m.size < 2:
        return []
    running = np.concatenate(([0.0], np.cumsum(excess_s)))
    last = np.searchsorted(along_m, along_m + still_m, side="right") - 1
    lifts = np.concatenate(([0.0], np.cumsum(service_s)))
    lo = np.searchsorted(pass_m, along_m, side="left")
    hi = np.searchsorted(pass_m, along_m[last], side="right")
    over = running[last] - running[np.arange(along_m.size)] - (lifts[hi] - lifts[lo])
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(over >= break_s).tolist():
        if runs and i <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], int(last[i])))
        else:
            runs.append((i, int(last[i])))
    return [(i, j) for i, j in runs if time_s[j] > time_s[i]]


def _counted_groups(standing: BinStanding, service_s: np.ndarray, min_share: float,
                    min_standing_s: float) -> list[tuple[np.ndarray, int]]:
    """Each group of bins with any lift in it: its members (most standing first) and how many lifts
    its standing makes (a bin from ``min_share`` of a lift, at least ``min_standing_s`` seconds)."""
    seconds, group = standing.seconds, standing.group
    order = np.lexsort((-seconds, group))
    bounds = np.flatnonzero(np.diff(group[order])) + 1
    counted = []
    for members in np.split(order, bounds):
        total = float(seconds[members].sum())
        tau = float(np.mean(service_s[members]))
        if tau <= 0 or total < min_standing_s:
            continue
        n = min(int(np.floor(total / tau + 1.0 - min_share)), members.size)
        if n > 0:
            counted.append((members, n))
    return counted


def bins_stood_at(standing: BinStanding, service_s: np.ndarray, min_share: float,
                  min_standing_s: float) -> np.ndarray:
    """Which bins (``service_s`` seconds each) were collected, from the standing laid on them: per
    group, as many as its standing makes lifts, those with the most standing (see the module's
    docstring)."""
    chosen = np.zeros(service_s.size, dtype=bool)
    for members, n in _counted_groups(standing, service_s, min_share, min_standing_s):
        chosen[members[:n]] = True
    return chosen


SECONDS_SCALE = 10.0
"""Standing is weighed in tenths of a second in the flow (its costs are integers)."""


def bins_stood_at_jointly(standings: Sequence[BinStanding], service_s: np.ndarray, min_share: float,
                          min_standing_s: float, taken: np.ndarray | None = None) -> list[np.ndarray]:
    """Which bins each of a day's lorries collected (a mask per lorry of ``standings``), **each bin
    once**: every group keeps the count its standing makes (:func:`bins_stood_at`), and the bins are
    shared out to fill as many of the counts as can be filled and then to lay the most standing on
    the bins chosen (a min-cost flow: groups to bins, one unit a bin). A bin in ``taken`` (a mask: an
    in-cab lift named it) goes to none of them. With one lorry this is :func:`bins_stood_at`."""
    n_bins = service_s.size
    free = np.ones(n_bins, dtype=bool) if taken is None else ~taken
    groups = []
    for k, standing in enumerate(standings):
        for members, n in _counted_groups(standing, service_s, min_share, min_standing_s):
            members = members[free[members]]
            if members.size:
                groups.append((k, members, min(n, members.size)))
    chosen = [np.zeros(n_bins, dtype=bool) for _ in standings]
    if not groups:
        return chosen
    weight = [np.rint(standings[k].seconds[members] * SECONDS_SCALE).astype(np.int64) for k, members, _ in groups]
    slots = sum(n for _, _, n in groups)
    # a filled count outweighs any standing: the flow reads as many lifts as the counts allow, then
    # lays the most standing on them
    fill = 2 * slots * max(int(np.abs(w).max()) for w in weight) + 1
    flow = SimpleMinCostFlow()
    source, sink, first_bin = 0, 1, 2 + len(groups)
    flow.add_arc_with_capacity_and_unit_cost(source, sink, slots, 0)
    arcs = []
    for g, ((_, members, n), w) in enumerate(zip(groups, weight, strict=True)):
        flow.add_arc_with_capacity_and_unit_cost(source, 2 + g, n, 0)
        arcs.append(flow.add_arcs_with_capacity_and_unit_cost(np.full(members.size, 2 + g), first_bin + members,
                                                              np.ones(members.size, dtype=np.int64), -(fill + w)))
    flow.add_arcs_with_capacity_and_unit_cost(first_bin + np.arange(n_bins), np.full(n_bins, sink),
                                              np.ones(n_bins, dtype=np.int64), np.zeros(n_bins, dtype=np.int64))
    flow.set_nodes_supplies(np.array([source, sink]), np.array([slots, -slots]))
    if flow.solve() != flow.OPTIMAL:  # cannot happen (the way round the groups carries any flow); said if it does
        raise RuntimeError("the flow sharing bins among the day's lorries found no optimum")
    for (k, members, _), arc in zip(groups, arcs, strict=True):
        chosen[k][members[flow.flows(arc) > 0]] = True
    return chosen
