"""Readers of the published benchmark instances: CVRPLIB (VRPLIB ``.vrp``/``.sol``) and the
Kim et al. (2006) waste instances, read from ``<repo>/../shared/benchmarks/``.

The decisive check of the CVRP mapping: wasteroute's evaluator scores each shared
best-known solution at exactly the cost its ``.sol`` file states.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from solver.evaluate import evaluate, route_cost
from solver.instances import (
    FEET_PER_MILE,
    KNOWN_RESULTS,
    CvrpInstance,
    WcvrptwInstance,
    miles,
    read_cvrp,
    read_cvrp_solution,
    read_wcvrptw,
    solution_plan,
)
from solver.instances.cvrplib import InstanceFormatError, rounded_euclidean
from solver.instances.wcvrptw import DEFAULT_VEHICLE_FIXED_MILES, LUNCH_WINDOW, hhmm_seconds
from solver.solution import Evaluation, Plan

BENCHMARKS = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"
CVRP = BENCHMARKS / "cvrp"
WASTE = BENCHMARKS / "wcvrptw"

CVRP_NAMES = ("X-n101-k25", "X-n106-k14", "X-n125-k30", "X-n148-k46", "X-n200-k36", "X-n256-k16",
              "X-n303-k21", "X-n401-k29", "X-n502-k39", "X-n801-k40")

WASTE_COUNTS = {"102": (99, 2), "277": (275, 1), "444": (442, 1), "804": (784, 19), "1051": (1048, 2),
                "1599": (1596, 2), "1932": (1927, 4)}
"""Stops and disposal facilities per waste instance, from the shared README's table."""

TINY_VRP = """NAME : tiny
TYPE : CVRP
DIMENSION : 3
EDGE_WEIGHT_TYPE : {weights}
CAPACITY : 10
{vehicles}NODE_COORD_SECTION
1 0 0
2 3 4
3 0 1
DEMAND_SECTION
1 0
2 4
3 5
DEPOT_SECTION
1
-1
EOF
"""


def _evaluate(instance: CvrpInstance, plan: Plan) -> Evaluation:
    """The evaluator's figures for ``plan`` on a CVRP instance."""
    return evaluate(instance.problem, instance.matrices, plan)


@pytest.fixture(scope="module")
def x101(tools: SimpleNamespace) -> CvrpInstance:
    """X-n101-k25 as read by :func:`read_cvrp`."""
    return read_cvrp(tools.require_shared(CVRP / "X-n101-k25.vrp"))


@pytest.fixture(scope="module")
def w102(tools: SimpleNamespace) -> WcvrptwInstance:
    """The 102-stop waste instance as read by :func:`read_wcvrptw`."""
    return read_wcvrptw(tools.require_shared(WASTE / "102_stop.txt"))


# --- CVRPLIB ---------------------------------------------------------------------------------

def test_cvrp_reader_reads_dimension_and_capacity(x101: CvrpInstance) -> None:
    """X-n101-k25 has 101 nodes (depot and 100 customers) and capacity 206."""
    assert (x101.dimension, x101.capacity) == (101, 206)
    assert len(x101.problem.bins) == 100


def test_cvrp_customers_keep_their_solution_numbers(x101: CvrpInstance) -> None:
    """Node 2 of the file is bin ``"1"`` (CVRPLIB's customer 1) with the file's demand 38."""
    problem = x101.problem
    assert problem.bin("1").demand_kg == 38
    assert problem.bin("100").id == "100"


def test_cvrp_distance_is_rounded_euclidean(x101: CvrpInstance) -> None:
    """Depot (365, 689) to customer 1 (146, 180) is round(554.1) = 554 units."""
    m = x101.matrices.for_vehicle("v1")
    problem = x101.problem
    assert m.distance_m[problem.location_index("depot"), problem.location_index("1")] == 554


def test_rounded_euclidean_rounds_halves_up() -> None:
    """A distance of exactly 0.5 rounds to 1 (CVRPLIB's nint), not to the even 0."""
    assert rounded_euclidean([[0.0, 0.0], [0.5, 0.0]])[0, 1] == 1


def test_cvrp_has_no_clock(x101: CvrpInstance) -> None:
    """CVRP travel and service take no time, so no shift can be overrun."""
    m = x101.matrices.for_vehicle("v1")
    assert not m.duration_s.any()
    assert all(b.service_s == 0 for b in x101.problem.bins)


def test_cvrp_fleet_covers_the_demand(x101: CvrpInstance) -> None:
    """Without a VEHICLES limit the fleet exceeds the bin-packing bound of the demand."""
    problem = x101.problem
    bound = math.ceil(sum(b.demand_kg for b in problem.bins) / 206)
    assert len(problem.vehicles) > bound
    assert x101.max_routes is None


def test_cvrp_solution_reader_reads_routes_and_cost(tools: SimpleNamespace) -> None:
    """X-n101-k25.sol has 26 routes over the 100 customers and cost 27591."""
    sol = read_cvrp_solution(tools.require_shared(CVRP / "X-n101-k25.sol"))
    assert (len(sol.routes), sol.cost) == (26, 27591)
    assert sorted(c for r in sol.routes for c in r) == list(range(1, 101))


@pytest.mark.parametrize("name", CVRP_NAMES)
def test_evaluator_scores_the_best_known_solution_at_its_stated_cost(tools: SimpleNamespace, name: str) -> None:
    """The evaluator's distance of the ``.sol`` routes equals the ``.sol`` cost (27591 for X-n101-k25)."""
    instance = read_cvrp(tools.require_shared(CVRP / f"{name}.vrp"))
    sol = read_cvrp_solution(tools.require_shared(CVRP / f"{name}.sol"))
    evaluation = _evaluate(instance, solution_plan(instance, sol.routes))
    assert evaluation.summary.distance_m == sol.cost


def test_best_known_solution_is_feasible(x101: CvrpInstance, tools: SimpleNamespace) -> None:
    """The evaluator finds no violation in X-n101-k25's best known solution, which serves every customer."""
    sol = read_cvrp_solution(tools.require_shared(CVRP / "X-n101-k25.sol"))
    evaluation = _evaluate(x101, solution_plan(x101, sol.routes))
    assert evaluation.summary.violations == 0
    assert evaluation.summary.bins_served == 100


def test_cvrp_vehicles_limit_sets_fleet_and_route_limit(tmp_path: Path) -> None:
    """A ``VEHICLES`` header is both the fleet size and the route limit."""
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY_VRP.format(weights="EUC_2D", vehicles="VEHICLES : 2\n"), encoding="utf-8")
    instance = read_cvrp(path)
    assert (len(instance.problem.vehicles), instance.max_routes) == (2, 2)


def test_cvrp_reader_refuses_other_edge_weights(tmp_path: Path) -> None:
    """Only EUC_2D instances are read; another edge weight type is refused by name."""
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY_VRP.format(weights="GEO", vehicles=""), encoding="utf-8")
    with pytest.raises(InstanceFormatError, match="GEO"):
        read_cvrp(path)


def test_solution_plan_refuses_more_routes_than_vehicles(tmp_path: Path) -> None:
    """Mapping a solution with more routes than the fleet has vehicles is an error, not a silent cut."""
    path = tmp_path / "tiny.vrp"
    path.write_text(TINY_VRP.format(weights="EUC_2D", vehicles="VEHICLES : 1\n"), encoding="utf-8")
    with pytest.raises(ValueError, match="2 routes"):
        solution_plan(read_cvrp(path), [(1,), (2,)])


# --- Kim et al. waste instances ------------------------------------------------------------------

def test_waste_reader_reads_the_header(w102: WcvrptwInstance) -> None:
    """102_stop.txt: 280 yd3 capacity, 400 yd3 a day, 500 stops, a 3600 s lunch, 40 mph."""
    h = w102.header
    assert (h.capacity, h.daily_capacity, h.max_stops, h.lunch_s, h.speed_mph) == (280, 400, 500, 3600, 40)


def test_waste_reader_counts_stops_and_facilities(w102: WcvrptwInstance) -> None:
    """102_stop.txt has 99 stops (bins) and 2 disposal facilities (sites)."""
    problem = w102.problem
    assert (len(problem.bins), len(problem.disposal_sites)) == (99, 2)


@pytest.mark.parametrize("name", sorted(WASTE_COUNTS, key=int))
def test_every_waste_instance_parses_with_the_published_counts(tools: SimpleNamespace, name: str) -> None:
    """Each shared waste instance has the stops and facilities the shared README lists."""
    instance = read_wcvrptw(tools.require_shared(WASTE / f"{name}_stop.txt"))
    assert (instance.n_stops, instance.n_facilities) == WASTE_COUNTS[name]


def test_waste_distance_is_manhattan_feet(w102: WcvrptwInstance) -> None:
    """Depot (1215029, 3461398) to facility 1 (1229125, 3460107) is 14096 + 1291 = 15387 ft."""
    problem = w102.problem
    m = w102.matrices.for_vehicle("v1")
    assert m.distance_m[problem.location_index("0"), problem.location_index("1")] == 15387


def test_waste_travel_time_is_at_the_stated_speed(w102: WcvrptwInstance) -> None:
    """15387 ft at 40 mph (58.67 ft/s) takes 262.3 s."""
    problem = w102.problem
    m = w102.matrices.for_vehicle("v1")
    seconds = m.duration_s[problem.location_index("0"), problem.location_index("1")]
    assert seconds == pytest.approx(15387 / (40 * 5280 / 3600))


def test_miles_converts_feet() -> None:
    """The one conversion from the matrix unit (feet) to reported miles: 5280 ft a mile."""
    assert miles(2.5 * FEET_PER_MILE) == 2.5


def test_waste_stop_windows_come_from_early_and_late(w102: WcvrptwInstance) -> None:
    """Stop 5 (0000-0700) may start until 07:00, stop 3 (0700-2400) from 07:00; stop 4 (0000-2400) has none."""
    problem = w102.problem
    assert problem.bin("5").time_windows == ((0, 7 * 3600),)
    assert problem.bin("3").time_windows == ((7 * 3600, 24 * 3600),)
    assert problem.bin("4").time_windows == ()


def test_waste_loads_and_service_come_from_the_file(w102: WcvrptwInstance) -> None:
    """Stop 3 has 12 yd3 (carried in ``demand_kg``) and 180 s of service."""
    b = w102.problem.bin("3")
    assert (b.demand_kg, b.service_s) == (12, 180)


def test_waste_facilities_unload_for_their_service_time(w102: WcvrptwInstance) -> None:
    """Facility 1 unloads in 1600 s and is open all day (0000-2400)."""
    site = w102.problem.site("1")
    assert (site.unload_s, site.opening) == (1600, (0, 24 * 3600))


def test_waste_vehicles_carry_the_daily_limits(w102: WcvrptwInstance) -> None:
    """Each vehicle has the capacity, the daily yardage as ``max_collected_kg`` and the stop limit as ``max_lifts``."""
    v = w102.problem.vehicles[0]
    assert (v.capacity_kg, v.max_collected_kg, v.max_lifts) == (280, 400, 500)


def test_waste_vehicles_take_an_hour_lunch_starting_11_to_12(w102: WcvrptwInstance) -> None:
    """The lunch break lasts the header's 3600 s and starts between 11:00 and 12:00."""
    [lunch] = w102.problem.vehicles[0].breaks
    assert (lunch.duration_s, lunch.window) == (3600, (11 * 3600, 12 * 3600)) == (3600, LUNCH_WINDOW)


def test_waste_vehicles_work_the_depot_hours_and_tip_before_returning(w102: WcvrptwInstance) -> None:
    """The depot's window (0400-1500) is the shift, and vehicles tip before going back."""
    v = w102.problem.vehicles[0]
    assert (v.shift_start_s, v.shift_end_s, v.tip_before_return) == (4 * 3600, 15 * 3600, True)


def test_waste_fleet_exceeds_the_best_known_count(w102: WcvrptwInstance) -> None:
    """The fleet offers more vehicles than the best known solution uses (3 for 102)."""
    assert len(w102.problem.vehicles) > KNOWN_RESULTS["102"].vehicles


def test_waste_vehicle_fixed_cost_is_worth_its_miles(w102: WcvrptwInstance) -> None:
    """A vehicle's fixed cost equals the distance cost of DEFAULT_VEHICLE_FIXED_MILES miles."""
    v = w102.problem.vehicles[0]
    driving = route_cost(v, distance_m=DEFAULT_VEHICLE_FIXED_MILES * FEET_PER_MILE, duration_s=0) - v.fixed_cost
    assert v.fixed_cost == pytest.approx(driving)


def test_known_result_of_102(w102: WcvrptwInstance) -> None:
    """The best known result of 102 is 174.5 miles with 3 vehicles."""
    known = w102.known
    assert (known.miles, known.vehicles) == (174.5, 3)


@pytest.mark.parametrize(("text", "seconds"), [("0700", 25200), ("400", 14400), ("0", 0), ("2400", 86400),
                                               ("875", 33300)])
def test_hhmm_clock_times(text: str, seconds: int) -> None:
    """HHMM times with or without leading zeros; minutes past 59 carry into the hour (1932's ``875``)."""
    assert hhmm_seconds(text) == seconds


@pytest.mark.parametrize("text", ["2401", "-100", "2500"])
def test_hhmm_refuses_times_beyond_the_day(text: str) -> None:
    """Negative times and times after 24:00 are refused."""
    with pytest.raises(ValueError, match="HHMM"):
        hhmm_seconds(text)


def test_waste_reader_names_the_line_of_a_short_row(tmp_path: Path) -> None:
    """A stop line with a missing field is refused with its line number."""
    path = tmp_path / "9_stop.txt"
    path.write_text("100\n200\n50\n3600\n40\nheader\n0 0 0 0400 1500 0 0 0\n1 10 10 0000 2400 60 5\n",
                    encoding="utf-8")
    with pytest.raises(InstanceFormatError, match=r":8: expected 8 fields"):
        read_wcvrptw(path)


def test_waste_matrix_follows_the_problem_location_order(w102: WcvrptwInstance) -> None:
    """Row i of the matrix is location i of the problem: the depot's row is all distances from the depot."""
    problem = w102.problem
    m = w102.matrices.for_vehicle("v1")
    stops = {s.id: s for s in w102.stops}
    depot = stops["0"]
    expected = [abs(stops[i].x_ft - depot.x_ft) + abs(stops[i].y_ft - depot.y_ft) for i in problem.location_ids()]
    assert np.array_equal(m.distance_m[problem.location_index("0")], np.array(expected))
