"""A vehicle's fixes made fit to match: sorted by time, the unusable ones dropped and the trace
cut where it cannot be followed, every step said as a :class:`~solver.traces.fixes.TraceIssue`.

Positions are metres in the network's projection (``RoadNetwork.crs``), times seconds.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from solver.directions import _all_edges_tree  # the one tree of every edge, cached on the network
from solver.network import RoadNetwork
from solver.traces.fixes import Fix, TraceIssue


@dataclass(frozen=True)
class CleanOptions:
    """Limits of a usable trace.

    ``max_distance_m``: a fix farther than this from every street is dropped (``off_network``);
    ``max_gap_s``: no fix for longer than this breaks the match (``gap``, seconds);
    ``jump_m`` and ``jump_speed_mps``: a move longer than ``jump_m`` metres at more than
    ``jump_speed_mps`` (a lorry does not drive at 144 km/h in town) cuts the trace (``jump``);
    ``min_fixes``: a piece of fewer fixes is dropped (``outlier``: the fixes a jump went to).
    """

    max_distance_m: float = 60.0
    max_gap_s: float = 1200.0
    jump_m: float = 500.0
    jump_speed_mps: float = 40.0
    min_fixes: int = 3

    def __post_init__(self) -> None:
        for name in ("max_distance_m", "max_gap_s", "jump_m", "jump_speed_mps"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        if self.min_fixes < 1:
            raise ValueError(f"min_fixes must be at least 1, got {self.min_fixes}")


@dataclass(frozen=True)
class TracePiece:
    """A run of fixes the matcher follows as one drive: ``time_s`` (n,) increasing, ``xy`` (n, 2)
    metres in the network's projection, and ``source`` (n,) the index of each fix in the
    vehicle's fixes as given. ``after`` says why the piece before it ended (``start`` for the
    first, ``gap`` or ``jump``)."""

    time_s: np.ndarray
    xy: np.ndarray
    source: np.ndarray
    after: str

    def __len__(self) -> int:
        return int(self.time_s.shape[0])


@dataclass(frozen=True)
class CleanTrace:
    """One vehicle's trace ready to match: its ``pieces`` in time order and what was done (``issues``)."""

    vehicle_id: str
    pieces: tuple[TracePiece, ...]
    issues: tuple[TraceIssue, ...]
    n_fixes: int

    @property
    def n_kept(self) -> int:
        """Fixes kept for matching."""
        return sum(len(p) for p in self.pieces)


def street_distance_m(network: RoadNetwork, xy: np.ndarray) -> np.ndarray:
    """Metres from each point of ``xy`` (n, 2, projected) to the nearest street."""
    if xy.shape[0] == 0:
        return np.zeros(0)
    points = shapely.points(xy)
    (idx, _), dist = _all_edges_tree(network).query_nearest(points, return_distance=True, all_matches=False)
    out = np.full(xy.shape[0], np.inf)
    out[idx] = dist
    return out


def clean_trace(network: RoadNetwork, vehicle_id: str, fixes: Sequence[Fix],
                options: CleanOptions | None = None) -> CleanTrace:
    """``fixes`` of ``vehicle_id`` (any order) sorted, checked and cut into pieces to match.

    Nothing is dropped silently: each fix left out is counted in an issue saying why.
    """
    opts = options or CleanOptions()
    issues: list[TraceIssue] = []
    n = len(fixes)
    time_s = np.array([f.time_s for f in fixes], dtype=float)
    lonlat = np.array([[f.lon, f.lat] for f in fixes], dtype=float).reshape(-1, 2)

    valid = (np.isfinite(time_s) & np.isfinite(lonlat).all(axis=1) & (np.abs(lonlat[:, 0]) <= 180)
             & (np.abs(lonlat[:, 1]) <= 90))
    if (~valid).any():
        issues.append(TraceIssue("invalid", vehicle_id, int((~valid).sum()),
                                 "fixes with a time or coordinate that is not a number, or off lon/lat's range: "
                                 "dropped"))
    order_given = np.flatnonzero(valid)
    late = int((np.diff(time_s[order_given]) < 0).sum()) if order_given.size > 1 else 0
    if late:
        issues.append(TraceIssue("out_of_order", vehicle_id, late,
                                 f"{late} fixes come earlier in time than the fix before them in the file: "
                                 "sorted by time and kept"))
    order = order_given[np.argsort(time_s[order_given], kind="stable")]
    same = np.concatenate(([False], np.diff(time_s[order]) == 0)) if order.size else np.zeros(0, dtype=bool)
    if same.any():
        issues.append(TraceIssue("duplicate_time", vehicle_id, int(same.sum()),
                                 "fixes at the same time as an earlier fix: the first one kept"))
    order = order[~same]

    x, y = network.to_xy().transform(lonlat[order, 0], lonlat[order, 1])
    xy = np.column_stack([x, y]).reshape(-1, 2)
    far = street_distance_m(network, xy) > opts.max_distance_m
    if far.any():
        everything = bool(far.all())
        issues.append(TraceIssue(
            "off_network", vehicle_id, int(far.sum()),
            (f"every fix lies farther than {opts.max_distance_m:g} m from the streets of network "
             f"{network.name!r}: a trace of another area?" if everything else
             f"{int(far.sum())} fixes lie farther than {opts.max_distance_m:g} m from every street: dropped")))
    order, xy = order[~far], xy[~far]
    t = time_s[order]

    pieces: list[TracePiece] = []
    if order.size:
        step_m = np.hypot(*np.diff(xy, axis=0).T)
        dt = np.diff(t)
        gap = dt > opts.max_gap_s
        jump = ~gap & (step_m > opts.jump_m) & (step_m > opts.jump_speed_mps * dt)
        if gap.any():
            issues.append(TraceIssue("gap", vehicle_id, int(gap.sum()),
                                     f"{int(gap.sum())} times no fix for more than {opts.max_gap_s:g} s "
                                     f"(longest {float(dt[gap].max()):.0f} s): the match breaks there"))
        if jump.any():
            issues.append(TraceIssue("jump", vehicle_id, int(jump.sum()),
                                     f"{int(jump.sum())} moves of more than {opts.jump_m:g} m faster than "
                                     f"{opts.jump_speed_mps:g} m/s (longest {float(step_m[jump].max()):.0f} m): "
                                     "the trace is cut there"))
        cuts = np.flatnonzero(gap | jump) + 1
        bounds = [0, *cuts.tolist(), order.size]
        why = ["start", *("gap" if gap[c - 1] else "jump" for c in cuts)]
        short = 0
        pending = "start"
        for (lo, hi), reason in zip(itertools.pairwise(bounds), why, strict=True):
            pending = reason if pending != "gap" else "gap"
            if hi - lo < opts.min_fixes:
                short += hi - lo
                continue
            pieces.append(TracePiece(time_s=t[lo:hi], xy=xy[lo:hi], source=order[lo:hi],
                                     after=pending if pieces else "start"))
            pending = "start"
        if short:
            issues.append(TraceIssue("outlier", vehicle_id, short,
                                     f"{short} fixes in pieces of fewer than {opts.min_fixes} between jumps or "
                                     "gaps: dropped"))
    return CleanTrace(vehicle_id=vehicle_id, pieces=tuple(pieces), issues=tuple(issues), n_fixes=n)
