"""The day matched again, pinned to the bins the plan names: given the plan, a planned bin read from
where the lorry stood (``source`` ``stop``) that the matched drive does not pass (within ``near_m``
metres along it) is a place the lorry stood at the time it was read. Its trace is matched again with
that place among its fixes as a *pin* (:class:`~solver.traces.matching.Pin`, a fix of ``pin_sigma_m``
metres of error), and the day read again from the new match.

Why: on a sparse, noisy trace the match cuts out a spur a crew drove up to a bin and back. Monaco's
streets lie in switchbacks above each other; at 30 s between fixes and 15 m of noise, the lorry drove
300 m up a spur to a bin, lifted it and came back down in 90 s, and the four fixes of it lay within
35 m of the street below, where the match stood. The bin was read (the lorry stood within 30 m of it
for its lift, and the plan names it), but the drive went past it: Monaco rcv-1 read 3.5 % short, 13
such bins. The matcher's own time term (seconds no drive explains count against it) did not see it,
because the bin's lift explained standing in each of the three intervals near it. Told the bin's place
and time, the match drives the spur (-3.49 -> -0.47 %).

Only bins the plan names and the stops read: a bin read without the plan may be another round's (a
stop between two rounds' bins), and a pin there would drive the lorry to it. Only a bin alone (no other
within ``bin_alone_m``: a crew stops for a bin on its own up a spur, and works along a row), and only
where ``pin_idle_s`` or more seconds around its time go unexplained: on Oakham, whose first match
over-reads elsewhere, a pin at every bin alone read 2 of 12 rounds at 30 s more than 2 % long. Bins
named by a lift or read from the plan's order are laid through by
:func:`~solver.traces.driven.through_collected` as before, on the drive matched again. Lengths in
metres, times in seconds since midnight.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from scipy.spatial import cKDTree

from solver.network import RoadNetwork
from solver.problem import Problem
from solver.snapping import SnappedPoints
from solver.traces.clean import CleanTrace
from solver.traces.driven import RoundAsDriven, _drive_clock, _passes, _places_xy
from solver.traces.matching import MatchedTrace, MatchOptions, Pin, Stands, match_trace


def _idle_s(matched: MatchedTrace, clock_s: np.ndarray, done: RoundAsDriven, service_s: Mapping[str, float],
            time_s: float) -> float:
    """The seconds around ``time_s`` (from the second matched fix before it to the first after it) that
    neither the matched drive, at the network's speeds (``clock_s``, seconds to each piece's start and the
    end: :func:`~solver.traces.driven._drive_clock`), nor the lifts of the bins ``done`` read there (each
    once, ``service_s`` by bin id) take."""
    t = matched.time_s
    i = int(np.searchsorted(t, time_s))
    a, b = max(i - 2, 0), min(i + 1, t.size - 1)
    lifts = sum(service_s[c.bin_id] for c in done.bins if t[a] <= c.time_s <= t[b])
    drive = np.interp(matched.along_m[[a, b]], matched.piece_start_m, clock_s)
    return float(t[b] - t[a] - lifts - (drive[1] - drive[0]))


def pins_for(network: RoadNetwork, problem: Problem, snapped: SnappedPoints, matched: MatchedTrace,
             done: RoundAsDriven, planned: Collection[str], near_m: float,
             options: MatchOptions | None = None) -> list[Pin]:
    """Where and when ``done`` (read from ``matched``) says the lorry stood at a bin of ``planned`` (the
    bins its plan gave it) that the matched drive does not pass within ``near_m`` metres: one
    :class:`Pin` per such bin read from a stop, at its place on its street and its time read, where no
    other bin stands within ``bin_alone_m`` of it and ``pin_idle_s`` or more seconds around its time go
    unexplained (:func:`_idle_s`; see the module's docstring)."""
    opts = options or MatchOptions()
    rows, _ = _passes(network, matched.pieces, matched.piece_start_m, snapped, near_m)
    passed = set(rows.tolist())
    offset = problem.bin_offset()
    index = {b.id: k for k, b in enumerate(problem.bins)}
    wanted = set(planned)
    service = {b.id: float(b.service_s) for b in problem.bins}
    clock = _drive_clock(network, matched.pieces)
    pinned = [(c.time_s, offset + index[c.bin_id]) for c in done.bins
              if c.source == "stop" and c.bin_id in wanted and offset + index[c.bin_id] not in passed
              and snapped.edge[offset + index[c.bin_id]] >= 0
              and _idle_s(matched, clock, done, service, c.time_s) >= opts.pin_idle_s]
    if not pinned:
        return []
    bins = np.arange(offset, offset + len(problem.bins))
    placed = bins[snapped.edge[bins] >= 0]
    tree = cKDTree(_places_xy(network, snapped, placed))
    xy = _places_xy(network, snapped, np.array([row for _, row in pinned], dtype=np.int64))
    alone = np.array([len(n) <= 1 for n in tree.query_ball_point(xy, opts.bin_alone_m)], dtype=bool)
    return [Pin(float(t), (float(x), float(y)), int(snapped.edge[row]))
            for (t, row), (x, y), keep in zip(pinned, xy, alone, strict=True) if keep]


def matched_again(network: RoadNetwork, problem: Problem, snapped: SnappedPoints, traces: Sequence[CleanTrace],
                  matched: Sequence[MatchedTrace], rounds: Sequence[RoundAsDriven],
                  planned: Mapping[str, Collection[str]], stands: Stands | None,
                  options: MatchOptions | None = None, near_m: float = 25.0) -> list[MatchedTrace] | None:
    """Each of ``matched`` (from ``traces``, read as ``rounds``) matched again with the pins
    :func:`pins_for` finds given ``planned`` (vehicle id -> its planned bins); those without pins as
    they were. None where no round has a pin (nothing to read again)."""
    again: list[MatchedTrace] = []
    for trace, first, done in zip(traces, matched, rounds, strict=True):
        pins = pins_for(network, problem, snapped, first, done, planned.get(first.vehicle_id, ()), near_m, options)
        again.append(match_trace(network, trace, options, stands, pins) if pins else first)
    return again if any(a is not m for a, m in zip(again, matched, strict=True)) else None
