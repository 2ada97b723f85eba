"""Screening bins before a solve, and repairing or explaining the bins an engine dropped.

Cases sit on a straight road: positions in km from the depot D (0 km), travel at
10 m/s (so 1 km takes 100 s), 30 s of service per bin, shifts from 06:00 (21600 s),
tips unloading in 600 s. Each reason of ``docs/rules.md`` is checked on a case built
to have exactly that fact.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from solver.evaluate import evaluate
from solver.feasibility import explain_dropped, screen_bins
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Break, Depot, DisposalSite, InitialRoute, Problem, ProblemError, SolveOptions, Vehicle
from solver.solution import Plan, RoutePlan, Unassigned

SHIFT_START_S = 6 * 3600


def _bin(bin_id: str, km: float, kg: float = 10.0, **changes: object) -> tuple[Bin, float]:
    return Bin(bin_id, -0.7 + 0.01 * km, 52.6, demand_kg=kg, service_s=changes.pop("service_s", 30.0),
               **changes), km


def _site(site_id: str, km: float, **changes: object) -> tuple[DisposalSite, float]:
    return DisposalSite(site_id, -0.7 + 0.01 * km, 52.6, unload_s=600.0, **changes), km


def _vehicle(vehicle_id: str, capacity_kg: float = 1000.0, *, shift_s: int = 8 * 3600, **changes: object) -> Vehicle:
    return Vehicle(vehicle_id, "D", capacity_kg=capacity_kg, shift_start_s=SHIFT_START_S,
                   shift_end_s=SHIFT_START_S + shift_s, **changes)


def _case(bins: list[tuple[Bin, float]], vehicles: list[Vehicle],
          sites: list[tuple[DisposalSite, float]] | None = None) -> tuple[Problem, TravelMatrices]:
    """A problem on the line with depot D at 0 km, and its matrices."""
    sites = sites or []
    problem = Problem((Depot("D", -0.7, 52.6),), tuple(vehicles), tuple(b for b, _ in bins),
                      tuple(s for s, _ in sites))
    positions = np.array([0.0, *(x for _, x in sites), *(x for _, x in bins)]) * 1000.0
    distance_m = np.abs(positions[:, None] - positions[None, :])
    return problem, TravelMatrices(duration_s=distance_m / 10.0, distance_m=distance_m)


def _cut(matrices: TravelMatrices, i: int, j: int) -> None:
    """Remove the path from row ``i`` to column ``j``."""
    matrices.duration_s[i, j] = math.inf
    matrices.distance_m[i, j] = math.inf


def _reasons(unassigned: tuple[Unassigned, ...]) -> list[tuple[str, str]]:
    return [(u.bin_id, u.reason) for u in unassigned]


# --------------------------------------------------------------------------- screening a bin alone


def test_screen_keeps_servable_bins_in_input_order() -> None:
    """Bins some vehicle can serve alone pass the screen, in the order given."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 2), _bin("C", 3)], [_vehicle("v1")])
    kept, ruled_out = screen_bins(problem, matrices, ["C", "A", "B"])
    assert kept == ("C", "A", "B")
    assert ruled_out == ()


def test_screen_rules_out_a_bin_heavier_than_every_vehicle() -> None:
    """A 5000 kg bin against 1000 and 2000 kg vehicles: capacity, naming the numbers."""
    problem, matrices = _case([_bin("A", 1), _bin("H", 2, 5000)], [_vehicle("v1", 1000), _vehicle("v2", 2000)])
    kept, ruled_out = screen_bins(problem, matrices, ["A", "H"])
    assert kept == ("A",)
    assert _reasons(ruled_out) == [("H", "capacity")]
    assert "5000 kg" in ruled_out[0].detail and "2000 kg" in ruled_out[0].detail


def test_screen_rules_out_a_bin_bulkier_than_every_body() -> None:
    """A 30000 l bin against a 20000 l body: capacity in litres."""
    problem, matrices = _case([_bin("A", 1, volume_l=30000.0)], [_vehicle("v1", capacity_l=20000.0)])
    _, ruled_out = screen_bins(problem, matrices, ["A"])
    assert _reasons(ruled_out) == [("A", "capacity")]
    assert "20000 l" in ruled_out[0].detail


def test_screen_capacity_counts_only_compatible_vehicles() -> None:
    """The big truck does not carry recycling; the small one does but holds 1000 kg < 2000 kg: capacity."""
    problem, matrices = _case([_bin("R", 1, 2000, stream="recycling")],
                              [_vehicle("big", 5000), _vehicle("small", 1000, streams=("recycling",))])
    _, ruled_out = screen_bins(problem, matrices, ["R"])
    assert _reasons(ruled_out) == [("R", "capacity")]
    assert "'small'" in ruled_out[0].detail and "'big'" not in ruled_out[0].detail


def test_screen_rules_out_a_bin_above_the_daily_limit() -> None:
    """150 kg against a 100 kg daily limit: capacity."""
    problem, matrices = _case([_bin("A", 1, 150)], [_vehicle("v1", max_collected_kg=100.0)])
    assert _reasons(screen_bins(problem, matrices, ["A"])[1]) == [("A", "capacity")]


def test_screen_rules_out_a_stream_no_vehicle_carries() -> None:
    """A glass bin and refuse trucks only: no_compatible_vehicle, naming each vehicle's fault."""
    problem, matrices = _case([_bin("G", 1, stream="glass")], [_vehicle("v1"), _vehicle("v2")])
    _, ruled_out = screen_bins(problem, matrices, ["G"])
    assert _reasons(ruled_out) == [("G", "no_compatible_vehicle")]
    assert "'v1' does not carry 'glass'" in ruled_out[0].detail
    assert "'v2' does not carry 'glass'" in ruled_out[0].detail


def test_screen_names_each_vehicles_own_fault() -> None:
    """Pinned to a truck too heavy for its lane: v1 is not the pinned one, v2 is too big."""
    problem, matrices = _case([_bin("A", 1, vehicle_id="v2", max_vehicle_weight_kg=7500.0)],
                              [_vehicle("v1"), _vehicle("v2", gross_weight_kg=26000.0)])
    _, ruled_out = screen_bins(problem, matrices, ["A"])
    assert _reasons(ruled_out) == [("A", "no_compatible_vehicle")]
    assert "'v1' is not 'v2'" in ruled_out[0].detail
    assert "'v2' weighs 26000 kg" in ruled_out[0].detail


def test_screen_checks_the_path_on_each_vehicles_own_matrices() -> None:
    """The street to U is closed to the heavy vehicle only: U is kept (the small one can go)."""
    problem, matrices = _case([_bin("U", 2)], [_vehicle("heavy"), _vehicle("small")])
    heavy = TravelMatrices(duration_s=matrices.duration_s.copy(), distance_m=matrices.distance_m.copy())
    _cut(heavy, problem.location_index("D"), problem.location_index("U"))
    fleet = FleetMatrices(profiles={"hgv": heavy, "car": matrices}, vehicle_profile={"heavy": "hgv", "small": "car"})
    assert screen_bins(problem, fleet, ["U"]) == (("U",), ())


def test_screen_rules_out_a_bin_no_vehicle_has_a_path_to() -> None:
    """The only vehicle's matrices have no path to U: no_compatible_vehicle, saying so."""
    problem, matrices = _case([_bin("U", 2)], [_vehicle("heavy")])
    _cut(matrices, problem.location_index("U"), problem.location_index("D"))
    _, ruled_out = screen_bins(problem, matrices, ["U"])
    assert _reasons(ruled_out) == [("U", "no_compatible_vehicle")]
    assert "'heavy' has no path" in ruled_out[0].detail


def test_screen_rules_out_a_stream_no_site_accepts_when_the_vehicle_must_tip() -> None:
    """Recycling must be tipped before returning, and the only tip takes refuse: no_compatible_vehicle."""
    problem, matrices = _case([_bin("R", 1, stream="recycling")],
                              [_vehicle("v1", streams=("refuse", "recycling"))],
                              [_site("T", 5, streams=("refuse",))])
    _, ruled_out = screen_bins(problem, matrices, ["R"])
    assert _reasons(ruled_out) == [("R", "no_compatible_vehicle")]
    assert "no disposal site accepts 'recycling'" in ruled_out[0].detail


def test_screen_rules_out_a_window_closed_before_any_vehicle_arrives() -> None:
    """Window 06:00-06:01 at 1 km: the earliest arrival is 06:01:40, time_window."""
    problem, matrices = _case([_bin("A", 1, time_windows=((21600, 21660),))], [_vehicle("v1")])
    _, ruled_out = screen_bins(problem, matrices, ["A"])
    assert _reasons(ruled_out) == [("A", "time_window")]
    assert "06:01:40" in ruled_out[0].detail


def test_screen_rules_out_a_window_after_every_shift() -> None:
    """Window 15:00-16:00 and a shift ending 14:00: time_window."""
    problem, matrices = _case([_bin("A", 1, time_windows=((54000, 57600),))], [_vehicle("v1")])
    assert _reasons(screen_bins(problem, matrices, ["A"])[1]) == [("A", "time_window")]


def test_screen_rules_out_a_bin_too_far_for_every_shift() -> None:
    """A bin 20 km out needs 2000 + 30 + 2000 s against 1 h shifts: shift_too_short."""
    problem, matrices = _case([_bin("F", 20)], [_vehicle("v1", shift_s=3600), _vehicle("v2", shift_s=3000)])
    kept, ruled_out = screen_bins(problem, matrices, ["F"])
    assert kept == ()
    assert _reasons(ruled_out) == [("F", "shift_too_short")]
    assert "4030 s" in ruled_out[0].detail and "3600 s" in ruled_out[0].detail


def test_screen_counts_the_tip_a_vehicle_must_make() -> None:
    """D -> 10 km bin -> tip at 20 km -> D: 1000 + 30 + 1000 + 600 + 2000 = 4630 s > 3600 s."""
    problem, matrices = _case([_bin("A", 10)], [_vehicle("v1", shift_s=3600)], [_site("T", 20)])
    _, ruled_out = screen_bins(problem, matrices, ["A"])
    assert _reasons(ruled_out) == [("A", "shift_too_short")]
    assert "4630 s" in ruled_out[0].detail


def test_screen_counts_a_break_that_is_due() -> None:
    """2030 s round trip plus a due 1800 s break: 3830 s > 3600 s, shift_too_short."""
    problem, matrices = _case([_bin("A", 10)], [_vehicle("v1", shift_s=3600,
                                                           breaks=(Break(1800.0, (21600, 23400)),))])
    _, ruled_out = screen_bins(problem, matrices, ["A"])
    assert _reasons(ruled_out) == [("A", "shift_too_short")]
    assert "3830 s" in ruled_out[0].detail


def test_screen_ignores_a_break_that_is_not_due() -> None:
    """The break window opens at 08:00, after the 2030 s round trip is over: the bin is kept."""
    problem, matrices = _case([_bin("A", 10)], [_vehicle("v1", shift_s=3600,
                                                           breaks=(Break(1800.0, (28800, 30000)),))])
    assert screen_bins(problem, matrices, ["A"]) == (("A",), ())


def test_screen_rules_out_a_bin_whose_tip_closes_too_early() -> None:
    """The only tip closes at 06:03:20; collecting at 1 km first, it is reached at 06:03:50."""
    problem, matrices = _case([_bin("A", 1)], [_vehicle("v1")], [_site("T", 3, opening=(21600, 21800))])
    _, ruled_out = screen_bins(problem, matrices, ["A"])
    assert _reasons(ruled_out) == [("A", "shift_too_short")]
    assert "opening hours" in ruled_out[0].detail


def test_screen_rejects_unknown_bin_ids() -> None:
    """An id that is not a bin of the problem is a ProblemError naming its position."""
    problem, matrices = _case([_bin("A", 1)], [_vehicle("v1")])
    with pytest.raises(ProblemError) as caught:
        screen_bins(problem, matrices, ["A", "nope"])
    assert caught.value.field == "bin_ids[1]"


# --------------------------------------------------------------------------- repairing dropped bins


def test_dropped_bin_that_fits_is_inserted_at_the_cheapest_position() -> None:
    """B lies between A and C: the repair puts it there and removes its unassigned entry."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 2), _bin("C", 3)], [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A", "C")),),
                unassigned=(Unassigned("B", "no_feasible_insertion", "dropped"),))
    repaired = explain_dropped(problem, matrices, plan, ["B"])
    assert repaired.routes == (RoutePlan("v1", ("A", "B", "C")),)
    assert repaired.unassigned == ()


def test_dropped_bin_can_open_an_unused_vehicle() -> None:
    """When the used vehicle is full, an unused one takes the bin on a route of its own."""
    problem, matrices = _case([_bin("A", 1, 900), _bin("B", 2, 200)], [_vehicle("v1"), _vehicle("v2")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    repaired = explain_dropped(problem, matrices, plan, ["B"])
    assert repaired.routes == (RoutePlan("v1", ("A",)), RoutePlan("v2", ("B",)))
    assert evaluate(problem, matrices, repaired).summary.violations == 0


def test_dropped_bin_that_overloads_every_route_gets_reason_capacity() -> None:
    """900 kg on board of a 1000 kg truck, no other truck, no tip: a 200 kg bin is dropped for capacity."""
    problem, matrices = _case([_bin("A", 1, 900), _bin("B", 2, 200)], [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert explained.routes == plan.routes
    assert _reasons(explained.unassigned) == [("B", "capacity")]
    assert "200 kg" in explained.unassigned[0].detail and "100 kg" in explained.unassigned[0].detail


def test_a_tip_is_added_when_that_makes_the_bin_fit() -> None:
    """900 kg on board, then a tip; a 200 kg bin goes in with a second tip so no load exceeds 1000 kg."""
    problem, matrices = _case([_bin("A", 1, 900), _bin("B", 2, 200)], [_vehicle("v1")], [_site("T", 5)])
    plan = Plan(routes=(RoutePlan("v1", ("A", "T")),))
    repaired = explain_dropped(problem, matrices, plan, ["B"])
    assert repaired.unassigned == ()
    [route] = evaluate(problem, matrices, repaired).routes
    assert "B" in repaired.routes[0].stops
    assert (route.violations, route.trips) == ((), 2)


def test_insertion_respects_the_bins_own_window() -> None:
    """B must be collected by 06:04; after A (60 s service) it would be late, so it goes first."""
    problem, matrices = _case([_bin("A", 1, service_s=60.0), _bin("B", 2, time_windows=((21600, 21840),)),
                               _bin("C", 3)], [_vehicle("v1")])
    repaired = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A", "C")),)), ["B"])
    assert repaired.routes == (RoutePlan("v1", ("B", "A", "C")),)


def test_insertion_never_makes_a_later_stop_late() -> None:
    """C closes at 21940 s and is reached at 21930 s; B before it would bring C to 21960 s, so B goes last."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 2), _bin("C", 3, time_windows=((21600, 21940),))],
                              [_vehicle("v1")])
    repaired = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A", "C")),)), ["B"])
    assert repaired.routes == (RoutePlan("v1", ("A", "C", "B")),)
    assert evaluate(problem, matrices, repaired).summary.violations == 0


def test_insertion_keeps_locked_stops_first() -> None:
    """A and C are locked as the first two stops: B goes after them, not between."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 2), _bin("C", 3)], [_vehicle("v1")])
    options = SolveOptions(initial_routes=(InitialRoute("v1", ("A", "C"), locked=2),))
    repaired = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A", "C")),)), ["B"],
                               options=options)
    assert repaired.routes == (RoutePlan("v1", ("A", "C", "B")),)


def test_insertion_goes_to_the_cheapest_vehicle() -> None:
    """B (1.2 km) beside A (1 km) costs less on v1 than on v2, which drives the other way (-5 km)."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 1.2), _bin("C", -5)], [_vehicle("v1"), _vehicle("v2")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)), RoutePlan("v2", ("C",))))
    repaired = explain_dropped(problem, matrices, plan, ["B"])
    assert [(r.vehicle_id, sorted(r.stops)) for r in repaired.routes] == [("v1", ["A", "B"]), ("v2", ["C"])]


def test_move_penalty_keeps_a_bin_on_the_vehicle_that_had_it() -> None:
    """Same case with B on v2 in the initial routes and a move penalty of 10: B goes back to v2."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 1.2), _bin("C", -5)], [_vehicle("v1"), _vehicle("v2")])
    options = SolveOptions(initial_routes=(InitialRoute("v1", ("A",)), InitialRoute("v2", ("B", "C"))),
                           move_penalty=10.0)
    plan = Plan(routes=(RoutePlan("v1", ("A",)), RoutePlan("v2", ("C",))))
    repaired = explain_dropped(problem, matrices, plan, ["B"], options=options)
    assert repaired.routes[0] == RoutePlan("v1", ("A",))
    assert "B" in repaired.routes[1].stops


def test_optional_bin_costing_more_than_its_penalty_is_not_worth_serving() -> None:
    """An optional bin 3 km out with a penalty of 0.5: the detour costs more, not_worth_serving."""
    problem, matrices = _case([_bin("A", 1), _bin("O", 4, required=False, penalty=0.5)], [_vehicle("v1")])
    explained = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A",)),)), ["O"])
    assert explained.routes == (RoutePlan("v1", ("A",)),)
    assert _reasons(explained.unassigned) == [("O", "not_worth_serving")]
    assert "0.5" in explained.unassigned[0].detail


def test_optional_bin_costing_less_than_its_penalty_is_served() -> None:
    """The same optional bin with a penalty of 100 is inserted."""
    problem, matrices = _case([_bin("A", 1), _bin("O", 4, required=False, penalty=100.0)], [_vehicle("v1")])
    repaired = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A",)),)), ["O"])
    assert [sorted(r.stops) for r in repaired.routes] == [["A", "O"]]
    assert repaired.unassigned == ()


def test_dropped_bin_no_vehicle_can_serve_alone_gets_the_screens_reason() -> None:
    """A dropped bin whose window closed before anyone could arrive: time_window, not an insertion failure."""
    problem, matrices = _case([_bin("A", 1), _bin("W", 2, time_windows=((21600, 21660),))], [_vehicle("v1")])
    explained = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A",)),)), ["W"])
    assert _reasons(explained.unassigned) == [("W", "time_window")]


def test_a_route_with_a_break_takes_a_bin_and_keeps_its_break_valid() -> None:
    """Route A, break, C with the break due: B fits in, and the evaluator finds no violation."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 2), _bin("C", 3)],
                              [_vehicle("v1", breaks=(Break(1800.0, (21700, 25200)),))])
    repaired = explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A", "break", "C")),)), ["B"])
    assert repaired.unassigned == ()
    assert sorted(repaired.routes[0].stops) == ["A", "B", "C", "break"]
    assert evaluate(problem, matrices, repaired).summary.violations == 0


def test_dropped_bin_failing_for_mixed_reasons_gets_no_feasible_insertion() -> None:
    """v1 is full; v2 could take B alone (830 s of 850 s) but not with C (860 s): counts and margins."""
    problem, matrices = _case([_bin("A", 1, 950), _bin("B", 4, 100), _bin("C", 3)],
                              [_vehicle("v1"), _vehicle("v2", shift_s=850)])
    plan = Plan(routes=(RoutePlan("v1", ("A",)), RoutePlan("v2", ("C",))))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert _reasons(explained.unassigned) == [("B", "no_feasible_insertion")]
    detail = explained.unassigned[0].detail
    assert "2 overload" in detail and "50 kg spare" in detail
    assert "2 make a later stop late or overrun the shift (the least by 10 s, 'v2')" in detail


def test_dropped_bins_are_handled_in_order_against_the_repaired_routes() -> None:
    """Room for one 300 kg bin: the first dropped bin is inserted, the second is over capacity."""
    problem, matrices = _case([_bin("A", 1, 600), _bin("B", 2, 300), _bin("C", 3, 300)], [_vehicle("v1")])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))
    explained = explain_dropped(problem, matrices, plan, ["C", "B"])
    assert [(r.vehicle_id, sorted(r.stops)) for r in explained.routes] == [("v1", ["A", "C"])]
    assert _reasons(explained.unassigned) == [("B", "capacity")]


def test_unassigned_bins_not_dropped_are_kept_as_they_are() -> None:
    """Entries of bins outside ``dropped_ids`` (e.g. screened out) are kept unchanged, first."""
    problem, matrices = _case([_bin("A", 1), _bin("B", 2), _bin("H", 3, 5000)], [_vehicle("v1")])
    screened = Unassigned("H", "capacity", "heavier than every vehicle")
    plan = Plan(routes=(RoutePlan("v1", ("A",)),),
                unassigned=(screened, Unassigned("B", "no_feasible_insertion", "dropped")))
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert explained.unassigned == (screened,)
    assert [(r.vehicle_id, sorted(r.stops)) for r in explained.routes] == [("v1", ["A", "B"])]


def test_routes_that_already_break_a_constraint_are_left_alone() -> None:
    """An overloaded route receives no repair; with no other vehicle the bin is explained."""
    problem, matrices = _case([_bin("A", 1, 1200), _bin("B", 2)], [_vehicle("v1", 1000)])
    plan = Plan(routes=(RoutePlan("v1", ("A",)),))  # A (1200 kg) overloads v1: broken on purpose
    explained = explain_dropped(problem, matrices, plan, ["B"])
    assert explained.routes == plan.routes
    assert _reasons(explained.unassigned) == [("B", "no_feasible_insertion")]
    assert "left alone ('v1')" in explained.unassigned[0].detail


def test_dropped_bin_already_on_a_route_is_an_error() -> None:
    """A bin cannot be both routed and dropped: ProblemError naming it."""
    problem, matrices = _case([_bin("A", 1)], [_vehicle("v1")])
    with pytest.raises(ProblemError) as caught:
        explain_dropped(problem, matrices, Plan(routes=(RoutePlan("v1", ("A",)),)), ["A"])
    assert caught.value.item_id == "A"
