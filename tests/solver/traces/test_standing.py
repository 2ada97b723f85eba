"""Tests of solver.traces.standing (through round_as_driven, on the hand-made street grid of
tests/conftest.py, with traces made by hand so that where the lorry stood is known exactly): of five
bins on a street the three the lorry stood at are read and the other two are not; a street driven
through at speed yields no bin; a stand whose fixes fall over the junction onto the next street is
read on the lorry's own street; of two bins at one place, the one the plan gave the lorry is read;
a break taken beside bins is a break, and lifts none of the bins beside; two lorries read together
(rounds_as_driven) collect each bin once."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pytest

from solver.network import RoadNetwork
from solver.problem import Bin, Depot, Problem, Vehicle
from solver.snapping import snap_points
from solver.traces.clean import clean_trace
from solver.traces.driven import RoundAsDriven, round_as_driven, rounds_as_driven
from solver.traces.fixes import Fix, Lift
from solver.traces.matching import match_trace

from .conftest import KERB_DEG

#: metres per degree on the equator (the grid lies on it)
M_PER_DEG = 111_320.0
ROW_1 = 0.001
EAST_END = 9.006  # the grid's last column street


def _lon(x_m: float) -> float:
    return 9.0 + x_m / M_PER_DEG


def _bin(bin_id: str, x_m: float, north: bool = True) -> Bin:
    """A bin beside row 1, ``x_m`` metres east of the grid's west side, on the north kerb or the south."""
    return Bin(id=bin_id, lon=_lon(x_m), lat=ROW_1 + (KERB_DEG if north else -KERB_DEG), demand_kg=10.0,
               service_s=30.0)


def _drive(path: Sequence[tuple[float, float]], speed_mps: float, stands: dict[float, tuple[float, float, float]],
           interval_s: float, noise_m: float, seed: int, vehicle_id: str = "rcv-1") -> list[Fix]:
    """Fixes every ``interval_s`` of a lorry driving ``path`` (lon/lat corners) at ``speed_mps``, standing
    at each metre along it in ``stands`` for ``(seconds, east, north)``: the fixes of a stand fall that
    many metres east and north of where it stands; each fix off by ``noise_m`` metres a axis."""
    corners = np.asarray(path) * M_PER_DEG
    legs = np.hypot(*np.diff(corners, axis=0).T)
    at = np.concatenate(([0.0], np.cumsum(legs)))
    times, places, shifts = [0.0], [0.0], [(0.0, 0.0)]  # breakpoints of (time, metres along)
    for where in sorted(stands):
        seconds, east, north = stands[where]
        times += [times[-1] + (where - places[-1]) / speed_mps, 0.0]
        times[-1] = times[-2] + seconds
        places += [where, where]
        shifts += [(east, north), (east, north)]
    times.append(times[-1] + (at[-1] - places[-1]) / speed_mps)
    places.append(float(at[-1]))
    shifts.append((0.0, 0.0))
    rng = np.random.default_rng(seed)
    fixes = []
    for t in np.arange(0.0, times[-1] + 1e-9, interval_s):
        s = float(np.interp(t, times, places))
        xy = np.array([np.interp(s, at, corners[:, 0]), np.interp(s, at, corners[:, 1])])
        k = int(np.searchsorted(times, t, side="right")) - 1
        standing = 0 < k < len(times) - 1 and places[k] == places[k + 1]
        xy += np.asarray(shifts[k] if standing else (0.0, 0.0)) + rng.normal(0.0, noise_m, 2)
        fixes.append(Fix(vehicle_id, 6 * 3600.0 + float(t), float(xy[0] / M_PER_DEG), float(xy[1] / M_PER_DEG)))
    return fixes


def _done(network: RoadNetwork, bins: Sequence[Bin], fixes: list[Fix],
          planned: Collection[str] | None = None) -> RoundAsDriven:
    problem = Problem(depots=(Depot("depot", 9.0, ROW_1),), bins=tuple(bins),
                      vehicles=(Vehicle("rcv-1", "depot", capacity_kg=10_000.0),))
    places = [*problem.depots, *problem.bins]
    snapped = snap_points(network, np.array([[p.lon, p.lat] for p in places]))
    trace = clean_trace(network, "rcv-1", fixes)
    done = round_as_driven(network, problem, snapped, match_trace(network, trace), trace=trace, planned=planned)
    assert all(c.source == "stop" for c in done.bins)
    return done


def _read(network: RoadNetwork, bins: Sequence[Bin], fixes: list[Fix],
          planned: Collection[str] | None = None) -> list[str]:
    return [c.bin_id for c in _done(network, bins, fixes, planned).bins]


def _speed(network: RoadNetwork) -> float:
    """The network's speed on the grid's streets (m/s): a lorry driving at it stands nowhere."""
    return float(np.median(network.edge_length_m / network.edge_time_s))


@pytest.mark.parametrize("interval_s", [1.0, 5.0])
def test_of_five_bins_the_three_stood_at_are_read(street_grid: RoadNetwork, interval_s: float) -> None:
    """Five bins 25 m apart along row 1; the lorry stands 30 s at the first, third and fourth and drives
    past the other two: those three are read, in the order stood at, and the other two are not."""
    bins = [_bin(f"b{x}", x) for x in (250, 275, 300, 325, 350)]
    fixes = _drive([(9.0, ROW_1), (EAST_END, ROW_1)], _speed(street_grid),
                   {250.0: (30.0, 0.0, 0.0), 300.0: (30.0, 0.0, 0.0), 325.0: (30.0, 0.0, 0.0)}, interval_s,
                   noise_m=5.0, seed=3)
    assert _read(street_grid, bins, fixes) == ["b250", "b300", "b325"]


def test_a_street_driven_at_speed_yields_no_bins(street_grid: RoadNetwork) -> None:
    """The lorry drives along row 1 past five bins at the network's speed, standing nowhere: none is read
    (a stand at a bin past them still is, so the street was read, not left out)."""
    bins = [*(_bin(f"b{x}", x) for x in (150, 250, 350, 450, 550)), _bin("stood", 620.0)]
    fixes = _drive([(9.0, ROW_1), (EAST_END, ROW_1)], _speed(street_grid), {620.0: (30.0, 0.0, 0.0)}, 5.0,
                   noise_m=8.0, seed=5)
    assert _read(street_grid, bins, fixes) == ["stood"]


def test_a_stand_whose_fixes_fall_on_the_next_street_is_read_on_its_own(street_grid: RoadNetwork) -> None:
    """The lorry stands 30 s at a bin 15 m short of the junction at row 1's east end while its fixes fall
    15 m past the junction and 15 m up the next street (the column street it turns into); it then
    drives up that street past a bin at speed. The bin it stood at is read; the one up the next street,
    which it passed, is not."""
    bins = [_bin("own", 666.0 - 15.0),
            Bin(id="next", lon=EAST_END - KERB_DEG, lat=ROW_1 + 55.0 / M_PER_DEG, demand_kg=10.0, service_s=30.0)]
    path = [(9.0, ROW_1), (EAST_END, ROW_1), (EAST_END, 2 * ROW_1)]
    fixes = _drive(path, _speed(street_grid), {666.0 - 15.0: (30.0, 15.0, 15.0)}, 1.0, noise_m=3.0, seed=7)
    assert _read(street_grid, bins, fixes) == ["own"]


def test_of_two_bins_at_one_place_the_planned_one_is_read(street_grid: RoadNetwork) -> None:
    """Two bins face each other across row 1, one on each kerb, and the lorry stands there for one lift:
    one bin is read; given the plan, the one it gave this lorry, whichever kerb it is on."""
    bins = [_bin("north", 300.0), _bin("south", 300.0, north=False)]
    fixes = _drive([(9.0, ROW_1), (EAST_END, ROW_1)], _speed(street_grid), {300.0: (30.0, 0.0, 0.0)}, 5.0,
                   noise_m=5.0, seed=11)
    assert len(_read(street_grid, bins, fixes)) == 1
    assert _read(street_grid, bins, fixes, planned={"north"}) == ["north"]
    assert _read(street_grid, bins, fixes, planned={"south"}) == ["south"]


def test_a_break_beside_bins_lifts_only_the_bin_stood_at(street_grid: RoadNetwork) -> None:
    """The lorry lifts a bin and stays there 30 minutes more (a break), 20 m from two other bins it
    drives past: the break is read, and only the bin it stood at (the break's half hour, laid on the
    bins near, read all three before)."""
    bins = [_bin("before", 280.0), _bin("stood", 300.0), _bin("after", 320.0)]
    fixes = _drive([(9.0, ROW_1), (EAST_END, ROW_1)], _speed(street_grid), {300.0: (30.0 + 1800.0, 0.0, 0.0)},
                   5.0, noise_m=5.0, seed=13)
    done = _done(street_grid, bins, fixes)
    assert [c.bin_id for c in done.bins] == ["stood"]
    ((start, end),) = done.breaks
    assert end - start >= 1500.0


@pytest.mark.parametrize("seed", [5, 13, 19])
def test_two_lorries_at_one_place_read_together_collect_each_bin_once(street_grid: RoadNetwork, seed: int) -> None:
    """Two bins face each other across row 1 and two lorries (two rounds down the same street) each
    stand there for one lift: read together, each reads one bin and not the same one (on these draws,
    each read on its own by round_as_driven, both read the same bin); when the in-cab
    lifts of rcv-2 name the north bin, rcv-1 reads the south one from its stand."""
    bins = [_bin("north", 300.0), _bin("south", 300.0, north=False)]
    problem = Problem(depots=(Depot("depot", 9.0, ROW_1),), bins=tuple(bins),
                      vehicles=(Vehicle("rcv-1", "depot", capacity_kg=10_000.0),
                                Vehicle("rcv-2", "depot", capacity_kg=10_000.0)))
    snapped = snap_points(street_grid, np.array([[p.lon, p.lat] for p in [*problem.depots, *problem.bins]]))
    traces = [clean_trace(street_grid, v, _drive([(9.0, ROW_1), (EAST_END, ROW_1)], _speed(street_grid),
                                                  {300.0: (30.0, 0.0, 0.0)}, 5.0, noise_m=5.0, seed=seed + k,
                                                  vehicle_id=v))
              for k, v in enumerate(("rcv-1", "rcv-2"))]
    matched = [match_trace(street_grid, t) for t in traces]
    apart = [round_as_driven(street_grid, problem, snapped, m, trace=t).bins
             for m, t in zip(matched, traces, strict=True)]
    assert apart[0][0].bin_id == apart[1][0].bin_id
    one, two = rounds_as_driven(street_grid, problem, snapped, matched, {}, traces=traces)
    assert len(one.bins) == 1 and len(two.bins) == 1
    assert {one.bins[0].bin_id, two.bins[0].bin_id} == {"north", "south"}
    lifted = {"rcv-2": [Lift("rcv-2", 6 * 3600.0 + 60.0, "north")]}
    one, two = rounds_as_driven(street_grid, problem, snapped, matched, lifted, traces=traces)
    assert [c.bin_id for c in one.bins] == ["south"] and [c.bin_id for c in two.bins] == ["north"]


def _spur_day(street_grid: RoadNetwork, up_the_spur: bool) -> tuple[list[Bin], list[Fix]]:
    """A lorry lifts a bin on row 1 400 m east, drives on to the east end, up the column street 50 m to
    a bin there (60 s: a slow lift), back, and west along row 1 to lift a bin at 200 m; its fixes are
    lost while it is off row 1 (a tunnel of buildings). With ``up_the_spur`` false it turns at the
    junction and stands nowhere there (the bin was not put out), its fixes lost for as long as the
    drive up the spur and back would take."""
    bins = [_bin("a", 400.0), Bin(id="b", lon=EAST_END - KERB_DEG, lat=ROW_1 + 50.0 / M_PER_DEG, demand_kg=10.0,
                                  service_s=30.0), _bin("c", 200.0)]
    corner = (EAST_END, ROW_1)
    spur = [corner, (EAST_END, ROW_1 + 50.0 / M_PER_DEG), corner] if up_the_spur else [corner]
    path = [(9.0, ROW_1), *spur, (9.0 + 150.0 / M_PER_DEG, ROW_1)]
    east = 666.0
    stands = {400.0: (30.0, 0.0, 0.0), east + 100.0 + 466.0: (30.0, 0.0, 0.0)} if up_the_spur else \
        {400.0: (30.0, 0.0, 0.0), east + 466.0: (30.0, 0.0, 0.0)}
    if up_the_spur:
        stands[east + 50.0] = (60.0, 0.0, 0.0)
    speed = _speed(street_grid)
    fixes = _drive(path, speed, stands, 5.0, noise_m=3.0, seed=29)
    # the lorry reaches the corner after its first stand, and is off row 1 for the spur (or as long)
    at_corner = 6 * 3600.0 + east / speed + 30.0
    gone = 100.0 / speed + (60.0 if up_the_spur else 0.0)
    return bins, [f for f in fixes if not at_corner - 2.0 <= f.time_s <= at_corner + gone + 2.0]


def test_a_lift_no_fix_shows_is_read_from_the_plans_order(street_grid: RoadNetwork) -> None:
    """The lorry's fixes are lost while it drives up a spur and lifts the bin there (no fix within
    50 m of it, and the matched drive turns on row 1): from stops alone the two bins on row 1 are
    read; given the plan's order (a, b, c) the bin between them is read too, from the time the lorry
    stood where no bin is near (source ``plan``), and the drive is laid up the spur to it (at least
    90 m longer than read from stops alone); a set, which holds no order, reads it not; and
    when the lorry did not go up the spur (the bin not put out), no standing reads it."""
    bins, fixes = _spur_day(street_grid, up_the_spur=True)
    assert _read(street_grid, bins, fixes) == ["a", "c"]
    assert _read(street_grid, bins, fixes, planned={"a", "b", "c"}) == ["a", "c"]
    problem = Problem(depots=(Depot("depot", 9.0, ROW_1),), bins=tuple(bins),
                      vehicles=(Vehicle("rcv-1", "depot", capacity_kg=10_000.0),))
    snapped = snap_points(street_grid, np.array([[p.lon, p.lat] for p in [*problem.depots, *problem.bins]]))
    trace = clean_trace(street_grid, "rcv-1", fixes)
    done = round_as_driven(street_grid, problem, snapped, match_trace(street_grid, trace), trace=trace,
                           planned=["a", "b", "c"])
    assert [(c.bin_id, c.source) for c in done.bins] == [("a", "stop"), ("b", "plan"), ("c", "stop")]
    alone = round_as_driven(street_grid, problem, snapped, match_trace(street_grid, trace), trace=trace)
    assert done.distance_m >= alone.distance_m + 2 * 50.0 - 10.0  # the drive laid up the spur and back
    bins, fixes = _spur_day(street_grid, up_the_spur=False)
    trace = clean_trace(street_grid, "rcv-1", fixes)
    done = round_as_driven(street_grid, problem, snapped, match_trace(street_grid, trace), trace=trace,
                           planned=["a", "b", "c"])
    assert [c.bin_id for c in done.bins] == ["a", "c"]
