"""Simulated GPS traces of planned rounds, with the truth they were made from: there are no public
refuse-lorry traces, so the matcher is measured on these.

How a round is driven (:func:`simulate_round`), reproducibly from ``TraceOptions.seed``:

* the lorry drives the planned round's drawn pieces of street (:func:`solver.geometry.route_pieces`,
  the quickest turn-aware drive the evaluator priced), leg by leg from the depot and back;
* each edge at the network's speed for a refuse lorry (``edge_length_m / edge_time_s``) times a
  factor drawn once per edge, uniform in ``1 +- speed_variation`` (traffic, the driver);
* it stands at each bin for the bin's ``service_s``, at a tip for its ``unload_s``, and for a
  break (``"break"`` in the stops) the vehicle's break's ``duration_s`` where it is;
* the tracker records a fix every ``interval_s`` seconds (1-30 s in the trackers councils use),
  each off the true position by a Gaussian error of ``noise_m`` metres on each axis (the
  5-15 m of a phone-grade or fleet GPS), loses each fix with probability ``dropout``, and
  records nothing for ``tunnel_s`` seconds once, somewhere in the middle third of the round
  (a tunnel, an underground tip hall);
* the in-cab system records a lift when the lorry arrives at a bin (:class:`~solver.traces.fixes.Lift`).

Crews that depart from the plan (:class:`Departures`): a street whose bins are skipped and
which is not driven at all; a stretch of the round driven in reverse order; an extra trip to a
tip halfway through. The truth (:class:`TrueRound`) is what was really driven: the pieces, the
metres (the network's ``edge_length_m``, as the evaluator counts them), the bins collected and
when. Times are seconds since midnight; positions WGS84 lon/lat in the output, metres in the
network's projection inside.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from solver.compactness import street_of
from solver.geometry import Pieces, route_pieces
from solver.pipeline.stages import PreparedProblem
from solver.problem import BREAK_STOP, Problem
from solver.traces.fixes import Fix, Lift


@dataclass(frozen=True)
class TraceOptions:
    """How the tracker and the drive behave (see the module's docstring): ``seed`` makes it
    reproducible; ``noise_m`` metres; ``interval_s``, ``tunnel_s`` seconds; ``dropout`` a
    probability; ``speed_variation`` a fraction of the network's speed; ``with_speed`` gives
    each fix the lorry's speed (m/s), as many trackers do."""

    seed: int = 0
    noise_m: float = 10.0
    interval_s: float = 5.0
    speed_variation: float = 0.1
    dropout: float = 0.02
    tunnel_s: float = 120.0
    with_speed: bool = False

    def __post_init__(self) -> None:
        if not (self.noise_m >= 0 and self.interval_s > 0 and self.tunnel_s >= 0):
            raise ValueError("noise_m and tunnel_s must be >= 0 and interval_s > 0")
        if not (0 <= self.dropout < 1 and 0 <= self.speed_variation < 1):
            raise ValueError("dropout and speed_variation must lie in [0, 1)")


@dataclass(frozen=True)
class Departures:
    """Where the crew departs from the plan: ``skip_street`` (the bins of one street left and the
    street not driven), ``reorder`` (a stretch of the stops driven in reverse order),
    ``extra_tip`` (a trip to a tip halfway through)."""

    skip_street: bool = False
    reorder: bool = False
    extra_tip: bool = False


@dataclass(frozen=True)
class TrueRound:
    """What was really driven: the ``stops`` (ids in driving order, ``"break"`` included), the
    ``pieces`` of edges and their metres (``distance_m``), the bins collected with the time the
    lorry arrived at each (``bins``, in order), the tips visited (``tips``), the street skipped
    (``skipped_street``: its lower edge index, see :func:`solver.compactness.street_of`; -1 for
    none) and its bins (``skipped_bins``), the day's ``start_s`` and ``end_s``, and the ``timeline`` of the drive,
    ``(time_s, metres along it)`` at each change of speed or stop."""

    vehicle_id: str
    stops: tuple[str, ...]
    pieces: Pieces
    distance_m: float
    bins: tuple[tuple[str, float], ...]
    tips: tuple[tuple[str, float], ...]
    start_s: float
    end_s: float
    skipped_street: int = -1
    skipped_bins: tuple[str, ...] = ()
    timeline: tuple[tuple[float, float], ...] = ()

    def along_m(self, time_s: np.ndarray) -> np.ndarray:
        """Metres along the drive at each of ``time_s`` (from ``timeline``: (time, metres) breakpoints)."""
        t, s = np.asarray(self.timeline).T
        return np.interp(time_s, t, s)

    @property
    def edges(self) -> frozenset[int]:
        """The edges driven (any stretch of them)."""
        return frozenset(e for e, a, b in self.pieces if b > a)


@dataclass(frozen=True)
class SimulatedRound:
    """A simulated day of one vehicle: the tracker's ``fixes``, the in-cab ``lifts`` and the ``truth``."""

    fixes: tuple[Fix, ...]
    lifts: tuple[Lift, ...]
    truth: TrueRound


def _leg_pieces(prepared: PreparedProblem, vehicle_id: str, rows: Sequence[int]) -> list[Pieces]:
    """The pieces of each leg between consecutive matrix ``rows``, as drawn for the vehicle."""
    legs = prepared.legs_for(vehicle_id)
    drawn = route_pieces(legs, {str(k): [rows[k], rows[k + 1]] for k in range(len(rows) - 1)})
    return [drawn[str(k)] for k in range(len(rows) - 1)]


def _rows(prepared: PreparedProblem, vehicle_id: str, stops: Sequence[str]) -> list[int]:
    problem = prepared.problem
    depot = problem.location_index(problem.vehicle(vehicle_id).depot_id)
    return [depot, *(problem.location_index(s) for s in stops if s != BREAK_STOP), depot]


def tip_sites(problem: Problem, vehicle_id: str) -> list[str]:
    """The disposal sites that take the loads of ``vehicle_id`` (where an extra tip run can go)."""
    streams = problem.vehicle(vehicle_id).streams
    return [site.id for site in problem.disposal_sites if any(site.accepts(x) for x in streams)]


def _depart(prepared: PreparedProblem, vehicle_id: str, stops: list[str], departures: Departures,
            rng: np.random.Generator) -> tuple[list[str], int, tuple[str, ...]]:
    """The stops the crew really made, the street it skipped (-1 for none) and that street's bins."""
    problem = prepared.problem
    network = prepared.network
    bin_ids = {b.id for b in problem.bins}
    skipped = -1
    skipped_bins: tuple[str, ...] = ()
    if departures.reorder:
        places = [k for k, s in enumerate(stops) if s in bin_ids]
        if len(places) >= 6:
            width = max(3, len(places) // 5)
            lo = int(rng.integers(0, len(places) - width))
            a, b = places[lo], places[lo + width - 1]
            if all(s in bin_ids for s in stops[a:b + 1]):
                stops = [*stops[:a], *stops[a:b + 1][::-1], *stops[b + 1:]]
    if departures.extra_tip:
        sites = tip_sites(problem, vehicle_id)
        if not sites:
            raise ValueError(f"an extra tip run needs a disposal site that takes {vehicle_id!r}'s loads")
        half = len(stops) // 2
        stops = [*stops[:half], sites[int(rng.integers(0, len(sites)))], *stops[half:]]
    if departures.skip_street:
        edges = prepared.snapped.edge
        street = {s: int(street_of(network, np.array([edges[problem.location_index(s)]]))[0])
                  for s in stops if s in bin_ids}
        streets = sorted(set(street.values()))
        rng.shuffle(streets)
        for candidate in streets:
            kept = [s for s in stops if street.get(s) != candidate]
            if len(kept) == len(stops) or not any(s in bin_ids for s in kept):
                continue
            pieces = [p for leg in _leg_pieces(prepared, vehicle_id, _rows(prepared, vehicle_id, kept)) for p in leg]
            driven = {e for e, a, b in pieces if b > a}
            if not driven & {candidate, int(network.edge_twin[candidate])}:
                skipped_bins = tuple(s for s in stops if street.get(s) == candidate)
                stops, skipped = kept, candidate
                break
    return stops, skipped, skipped_bins


def simulate_round(prepared: PreparedProblem, vehicle_id: str, stops: Sequence[str],
                   options: TraceOptions | None = None, departures: Departures | None = None) -> SimulatedRound:
    """Drive the round of ``vehicle_id`` whose ``stops`` (bin ids, tip ids and ``"break"`` in driving
    order, depot implied, as in :class:`~solver.solution.RoutePlan`) ``prepared`` was planned with,
    and record it as a tracker would (see the module's docstring)."""
    opts = options or TraceOptions()
    rng = np.random.default_rng(opts.seed)
    problem, network = prepared.problem, prepared.network
    vehicle = problem.vehicle(vehicle_id)
    stops_done, skipped, skipped_bins = _depart(prepared, vehicle_id, list(stops), departures or Departures(), rng)
    rows = _rows(prepared, vehicle_id, stops_done)
    legs = _leg_pieces(prepared, vehicle_id, rows)
    factor = rng.uniform(1 - opts.speed_variation, 1 + opts.speed_variation, network.n_edges)
    speed = network.edge_length_m / network.edge_time_s * factor

    bin_ids = {b.id for b in problem.bins}
    site_ids = {s.id for s in problem.disposal_sites}
    breaks = iter(vehicle.breaks)
    s_k, t_k = [0.0], [float(vehicle.shift_start_s)]
    pieces: Pieces = []
    bins: list[tuple[str, float]] = []
    tips: list[tuple[str, float]] = []
    lifts: list[Lift] = []
    places = [s for s in stops_done if s != BREAK_STOP]
    leg = 0
    for stop in [*stops_done, None]:
        if stop == BREAK_STOP:
            pause = next(breaks, None)
            s_k.append(s_k[-1])
            t_k.append(t_k[-1] + (pause.duration_s if pause is not None else 0.0))
            continue
        for e, a, b in legs[leg]:
            metres = abs(b - a) * float(network.edge_length_m[e])
            pieces.append((e, a, b))
            s_k.append(s_k[-1] + metres)
            t_k.append(t_k[-1] + metres / float(speed[e]))
        leg += 1
        if stop is None:
            break
        arrived = t_k[-1]
        if stop in bin_ids:
            stand = problem.bin(stop).service_s
            bins.append((stop, arrived))
            lifts.append(Lift(vehicle_id, arrived + stand / 2, stop))
        elif stop in site_ids:
            stand = problem.site(stop).unload_s
            tips.append((stop, arrived))
        else:
            stand = 0.0
        s_k.append(s_k[-1])
        t_k.append(arrived + stand)
    assert leg == len(places) + 1

    s_arr, t_arr = np.asarray(s_k), np.asarray(t_k)
    times = np.arange(t_arr[0], t_arr[-1] + 1e-9, opts.interval_s)
    if t_arr[-1] - times[-1] > 1e-6:  # the tracker's last fix is at the depot, when the engine stops
        times = np.append(times, t_arr[-1])
    keep = rng.random(times.size) >= opts.dropout
    if opts.tunnel_s > 0 and times.size:
        span = t_arr[-1] - t_arr[0]
        enter = t_arr[0] + span / 3 + rng.random() * span / 3
        keep &= (times < enter) | (times >= enter + opts.tunnel_s)
    keep[[0, -1]] = True  # the tracker is on when the lorry leaves and when it is back
    times = times[keep]
    along = np.interp(times, t_arr, s_arr)
    piece_m = np.array([abs(b - a) * network.edge_length_m[e] for e, a, b in pieces])
    starts = np.concatenate(([0.0], np.cumsum(piece_m)))
    k = np.clip(np.searchsorted(starts, along, side="right") - 1, 0, len(pieces) - 1)
    edge = np.array([pieces[i][0] for i in k], dtype=np.int64)
    f0 = np.array([pieces[i][1] for i in k])
    f1 = np.array([pieces[i][2] for i in k])
    u = np.where(piece_m[k] > 0, (along - starts[k]) / np.where(piece_m[k] > 0, piece_m[k], 1.0), 0.0)
    point = shapely.line_interpolate_point(network.edge_xy[edge], f0 + (f1 - f0) * np.clip(u, 0, 1), normalized=True)
    xy = shapely.get_coordinates(point) + rng.normal(0.0, opts.noise_m, (times.size, 2))
    lon, lat = network.to_lonlat().transform(xy[:, 0], xy[:, 1])
    if opts.with_speed:
        seg = np.clip(np.searchsorted(t_arr, times, side="right") - 1, 0, len(t_arr) - 2)
        dt = t_arr[seg + 1] - t_arr[seg]
        mps = np.where(dt > 0, (s_arr[seg + 1] - s_arr[seg]) / np.where(dt > 0, dt, 1.0), 0.0)
    fixes = tuple(Fix(vehicle_id, float(t), float(x), float(y), float(mps[i]) if opts.with_speed else None)
                  for i, (t, x, y) in enumerate(zip(times, lon, lat, strict=True)))
    truth = TrueRound(vehicle_id=vehicle_id, stops=tuple(stops_done), pieces=pieces, distance_m=float(starts[-1]),
                      bins=tuple(bins), tips=tuple(tips), start_s=float(t_arr[0]), end_s=float(t_arr[-1]),
                      skipped_street=skipped, skipped_bins=skipped_bins,
                      timeline=tuple(zip(t_k, s_k, strict=True)))
    return SimulatedRound(fixes=fixes, lifts=tuple(lifts), truth=truth)
