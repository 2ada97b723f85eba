"""The PVRP-IF reader, the best reported costs and the plan checker, on a real instance of the shared
benchmark (``../shared/benchmarks/pvrpif/``): the checker accepts the published solution and rejects
plans broken on purpose."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from solver.evaluate import evaluate
from solver.instances.pvrpif import (
    DayRoute,
    PvrpifInstance,
    best_known,
    check_plan,
    pvrpif_problem,
    read_pvrpif,
    read_report_routes,
)
from solver.solution import Plan, RoutePlan

PVRPIF = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "pvrpif"
NAME = "Milano_020_4_0"

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def instance(tools: SimpleNamespace) -> PvrpifInstance:
    """Milano_020_4_0: 20 customers, 2 facilities, 2 vehicles a day over 4 days."""
    return read_pvrpif(tools.require_shared(PVRPIF / "instances" / f"{NAME}.geojson"))


@pytest.fixture(scope="module")
def published(instance: PvrpifInstance) -> list[DayRoute]:
    """The routes of the published solution report (cost 562)."""
    return read_report_routes(PVRPIF / "solutions" / f"report_{NAME}_feasible_562_0.txt")


def test_the_reader_finds_the_instance_s_parts(instance: PvrpifInstance) -> None:
    """Depot 0, customers 1-20, facilities 21 and 22; the limits of its info; two-visit customers on
    days {0, 2} or {1, 3}."""
    assert instance.depot.id == 0
    assert [c.id for c in instance.customers] == list(range(1, 21))
    assert [f.id for f in instance.facilities] == [21, 22]
    assert (instance.num_vehicles, instance.max_duration, instance.max_capacity, instance.horizon) == (2, 149, 107, 4)
    assert [sorted(s) for s in instance.schemes(instance.nodes[1])] == [[0, 2], [1, 3]]


def test_best_known_takes_the_lowest_report(tools: SimpleNamespace) -> None:
    """Milano_020_4_0's report says 562; Milano_050_4_3's MILP report (813) beats its other one (818)."""
    assert best_known(PVRPIF / "instances" / f"{NAME}.geojson").cost == 562  # type: ignore[union-attr]
    milp = best_known(tools.require_shared(PVRPIF / "instances" / "Milano_050_4_3.geojson"))
    assert milp is not None and (milp.cost, milp.source) == (813, "milp_best/report_Milano_050_4_3_feasible_813_0.txt")


def test_the_checker_accepts_the_published_solution(instance: PvrpifInstance, published: list[DayRoute]) -> None:
    """The report's eight routes: feasible, cost 562 (its file name), two vehicles each day."""
    check = check_plan(instance, published)
    assert check.faults == ()
    assert (check.cost, check.vehicles_per_day) == (562, (2, 2, 2, 2))


def test_the_checker_rejects_a_route_home_without_unloading(instance: PvrpifInstance,
                                                            published: list[DayRoute]) -> None:
    """Dropping the facility before the depot of the first route is caught (and the cost falls)."""
    day, path = published[0]
    broken = [(day, (*path[:-2], path[-1])), *published[1:]]
    check = check_plan(instance, broken)
    assert not check.feasible
    assert any("without an intermediate facility" in f for f in check.faults)


def test_the_checker_rejects_a_customer_off_its_scheme(instance: PvrpifInstance, published: list[DayRoute]) -> None:
    """Moving the first customer of a day-0 route to a day-1 route breaks its scheme ({0, 2} or {1, 3})."""
    (day0, path0), rest = published[0], published[1:]
    moved = path0[1]
    day1_index = next(i for i, (d, _) in enumerate(rest) if d == 1)
    day1, path1 = rest[day1_index]
    rest[day1_index] = (day1, (path1[0], moved, *path1[1:]))
    check = check_plan(instance, [(day0, (path0[0], *path0[2:])), *rest])
    assert any(f.startswith(f"customer {moved}:") for f in check.faults)


def test_the_checker_rejects_too_many_vehicles_and_overlong_or_overloaded_routes(
        instance: PvrpifInstance, published: list[DayRoute]) -> None:
    """A third route on day 0 is one too many; every day-0 customer on one route without unloading is
    over the capacity and the maximum duration."""
    day0 = [p for d, p in published if d == 0]
    split = [(0, (0, c, 21, 0)) for c in day0[0][1:-2]]
    assert any("more than the 2 vehicles" in f for f in check_plan(instance, [*published, *split]).faults)
    customers = [n for p in day0 for n in p if instance.nodes[n].type == "customer"]
    merged = [(0, (0, *customers, 21, 0)), *[(d, p) for d, p in published if d != 0]]
    faults = check_plan(instance, merged).faults
    assert any("over the capacity" in f for f in faults) and any("over the maximum" in f for f in faults)


def test_the_problem_s_evaluator_agrees_with_the_checker(instance: PvrpifInstance, published: list[DayRoute]) -> None:
    """Each published day evaluated on the wasteroute problem: no violation, and the evaluator's
    distance (the instance's travel times) sums to the checker's 562."""
    problem, matrices = pvrpif_problem(instance)
    total = 0.0
    for day in range(instance.horizon):
        routes = [p for d, p in published if d == day]
        plan = Plan(routes=tuple(RoutePlan(f"v{k + 1}", tuple(str(n) for n in p[1:-1])) for k, p in enumerate(routes)))
        evaluation = evaluate(problem, matrices, plan)
        assert all(not r.violations for r in evaluation.routes)
        total += evaluation.summary.distance_m
    assert total == 562
