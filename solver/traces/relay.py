"""The drive re-laid through the bins collected that it does not pass.

The matched drive (:mod:`solver.traces.matching`) fills the seconds between two fixes with the
quickest drive; where the lorry drove up a spur to a bin and back between two fixes, or through a
tunnel to bins no fix shows, that drive passes no bin, while the reading of the round
(:mod:`solver.traces.driven`) knows the bin was collected: from an in-cab lift, from where the
lorry stood, or from the plan's order. A round as driven whose lorry collected a bin it never drove
past is not the round it drove (Monaco at 30 s: every bin read off the drive on the kept rounds,
seeds 0-2, 53 of them, was one the lorry collected; the spurs to them were the km the match read
short).

:func:`through_bins` lays the drive between the two fixes either side of each such bin's time
through it (in time order, several bins between the same two fixes in turn), on the same turn-aware
graph and with the same turns the matcher weighs (turning round at a bin costs ``bin_turn_cost``, as
a crew leaving a bin the way it came), where the new drive, at the network's speeds, and the bins'
lifts fit in the seconds the matcher allows a drive between the two fixes (1.5 times theirs and
15 s); else that stretch is left as it was (the reading said
the bin, the time does not: the drive is not made up to fit it).

Metres are the network's (``edge_length_m``), times seconds since midnight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from solver.geometry import cut_pieces
from solver.network import RoadNetwork
from solver.traces.bin_places import BinPlaces
from solver.traces.matching import Bridge, DriveLayer, MatchedTrace, MatchOptions


@dataclass(frozen=True, slots=True)
class Via:
    """A bin to lay the drive through: collected at ``time_s``, lying ``at_m`` metres along ``edge``
    (either direction of a two-way street will do), lifted in ``service_s`` seconds."""

    time_s: float
    edge: int
    at_m: float
    service_s: float


def _position(network: RoadNetwork, matched: MatchedTrace, along_m: float) -> tuple[int, float]:
    """Where ``along_m`` metres along the drive lies: the edge and the metres along it."""
    starts = matched.piece_start_m
    k = int(np.clip(np.searchsorted(starts, along_m, side="right") - 1, 0, len(matched.pieces) - 1))
    edge, f0, f1 = matched.pieces[k]
    length = float(network.edge_length_m[edge])
    return int(edge), min(f0 * length + along_m - float(starts[k]), f1 * length)


def _cut(network: RoadNetwork, matched: MatchedTrace, from_m: float, to_m: float) -> list[list[float]]:
    """The drive's pieces from ``from_m`` to ``to_m`` metres along it, as ``[edge, start_m, end_m]``."""
    length = network.edge_length_m
    return [[float(e), a * float(length[e]), b * float(length[e])]
            for e, a, b in cut_pieces(network, matched.pieces, matched.piece_start_m, from_m, to_m)]


def through_bins(network: RoadNetwork, matched: MatchedTrace, via: Sequence[Via],
                 options: MatchOptions | None = None, lifted: Sequence[tuple[float, float]] = ()) -> MatchedTrace:
    """``matched`` with the drive between the two matched fixes either side of each ``via``'s time laid
    through it (see the module's docstring); each fix keeps its place on the drive, moved on by the metres
    laid before it, and a bridge by those laid before its two fixes. A stretch laid is a bridge (reason
    ``bin``) where no bridge holds it already: no fix shows that drive."""
    opts = options or MatchOptions()
    t, along, length = matched.time_s, matched.along_m, network.edge_length_m
    if len(via) == 0 or t.size < 2 or not matched.pieces:
        return matched
    by_interval: dict[int, list[Via]] = {}
    for v in sorted(via, key=lambda x: x.time_s):
        i = int(np.clip(np.searchsorted(t, v.time_s, side="right") - 1, 0, t.size - 2))
        by_interval.setdefault(i, []).append(v)
    layer = DriveLayer(network, opts)
    laid: dict[int, list[list[float]]] = {}
    for i, bins in sorted(by_interval.items()):
        ea, oa = _position(network, matched, float(along[i]))
        eb, ob = _position(network, matched, float(along[i + 1]))
        dt_s = float(t[i + 1] - t[i])
        places: dict[int, np.ndarray] = {}
        for v in bins:  # turning round at the bin, either way along its street, is what a crew does
            places.setdefault(v.edge, np.array([]))
            places[v.edge] = np.sort(np.append(places[v.edge], v.at_m))
            twin = int(network.edge_twin[v.edge])
            if twin >= 0:
                places[twin] = np.sort(np.append(places.get(twin, np.array([])), float(length[v.edge]) - v.at_m))
        pieces = layer.lay([(ea, oa), *((v.edge, v.at_m) for v in bins), (eb, ob)], dt_s, BinPlaces(places))
        if pieces is None:
            continue
        drive_s = sum((b - a) / float(length[int(e)]) * float(network.edge_time_s[int(e)])
                      for e, a, b in pieces if length[int(e)] > 0)
        # a lift at one fix's time may stand on either side of it: half the others' lifts count
        others = sum(s for w, s in lifted if t[i] <= w < t[i + 1])
        if drive_s + sum(v.service_s for v in bins) + 0.5 * others <= dt_s + opts.time_allow_s:
            laid[i] = pieces
    if not laid:
        return matched
    out: list[list[float]] = []
    cursor, moved = 0.0, 0.0
    shift = np.zeros(t.size)
    for i, pieces in sorted(laid.items()):
        out.extend(_cut(network, matched, cursor, float(along[i])))
        out.extend(pieces)
        moved += sum(b - a for _, a, b in pieces) - float(along[i + 1] - along[i])
        shift[i + 1:] = moved
        cursor = float(along[i + 1])
    out.extend(_cut(network, matched, cursor, float(matched.piece_start_m[-1])))
    out = [p for p in out if p[2] > p[1]] or out[:1]
    starts = np.concatenate(([0.0], np.cumsum([b - a for _, a, b in out])))
    new_along = np.clip(along + shift, 0.0, starts[-1])

    def at(time_s: float) -> float:
        return float(new_along[int(np.clip(np.searchsorted(t, time_s), 0, t.size - 1))])

    bridges = [replace(b, start_m=at(b.start_s), end_m=at(b.end_s)) for b in matched.bridges]
    # a stretch laid through a bin is a drive no fix shows, as a bridge is
    bridges += [Bridge(float(new_along[i]), float(new_along[i + 1]), float(t[i]), float(t[i + 1]), "bin")
                for i in laid if not any(b.start_s <= t[i] and t[i + 1] <= b.end_s for b in matched.bridges)]
    return MatchedTrace(vehicle_id=matched.vehicle_id,
                        pieces=[(int(e), a / float(length[int(e)]), b / float(length[int(e)])) for e, a, b in out],
                        time_s=t, along_m=new_along, source=matched.source,
                        bridges=tuple(sorted(bridges, key=lambda b: b.start_s)), issues=matched.issues,
                        piece_start_m=starts)
