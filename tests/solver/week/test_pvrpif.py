"""A PVRP-IF benchmark instance planned as a week, the plan re-checked from the instance file alone."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from solver.instances.pvrpif import best_known, check_plan, read_pvrpif, read_report_routes
from solver.week.pvrpif import pvrpif_units, route_reported_days, solve_pvrpif

PVRPIF = Path(__file__).resolve().parents[3].parent / "shared" / "benchmarks" / "pvrpif"

pytestmark = pytest.mark.shared


def test_each_customer_is_a_unit_with_its_visiting_schemes(tools: SimpleNamespace) -> None:
    """Milano_020_4_0: 20 units; a two-visit customer may take days {0, 2} or {1, 3}, each its own bin."""
    instance = read_pvrpif(tools.require_shared(PVRPIF / "instances" / "Milano_020_4_0.geojson"))
    units = pvrpif_units(instance)
    assert len(units) == 20
    first = units[0]
    assert (first.id, [sorted(p.slots) for p in first.patterns]) == ("1", [[0, 2], [1, 3]])
    assert first.patterns[0].visits == ((0, ("1",)), (2, ("1",)))


@pytest.mark.slow
def test_a_short_solve_is_a_feasible_week_near_the_best_reported(tools: SimpleNamespace) -> None:
    """Five seconds on Milano_020_4_0: the checker finds no fault, every day within the 2 vehicles, and
    the cost within 15 % of the best reported 562 (the search needs more time to come near it)."""
    instance = read_pvrpif(tools.require_shared(PVRPIF / "instances" / "Milano_020_4_0.geojson"))
    solution = solve_pvrpif(instance, time_limit_s=5.0)
    check = check_plan(instance, solution.routes)
    assert check.faults == ()
    assert max(check.vehicles_per_day) <= 2
    assert check.cost <= 562 * 1.15
    assert solution.seconds < 5.0 + 2.0


@pytest.mark.slow
def test_the_reported_days_routed_again_keep_each_customer_on_its_days(tools: SimpleNamespace) -> None:
    """Milano_020_4_3's best report, its days routed again in 2 s: every customer on its reported days,
    no fault, and the cost within 2 % of the report's 657 (so the days, not the routing, make a gap)."""
    path = tools.require_shared(PVRPIF / "instances" / "Milano_020_4_3.geojson")
    instance = read_pvrpif(path)
    known = best_known(path)
    assert known is not None and known.cost == 657
    reported = read_report_routes(PVRPIF / "solutions" / known.source)
    solution = route_reported_days(instance, reported, time_limit_s=2.0)
    check = check_plan(instance, solution.routes)
    assert check.faults == ()
    def days(routes: list[tuple[int, tuple[int, ...]]]) -> dict[int, set[int]]:
        seen: dict[int, set[int]] = {}
        for day, route in routes:
            for node in route[1:-1]:
                seen.setdefault(node, set()).add(day)
        return {n: d for n, d in seen.items() if n in {c.id for c in instance.customers}}
    assert days(solution.routes) == days(reported)
    assert check.cost <= 657 * 1.02


def test_reported_days_that_are_no_scheme_are_refused(tools: SimpleNamespace) -> None:
    """A report that visits customer 1 (two visits, days {0, 2} or {1, 3}) on days 0 and 1 is refused by name."""
    instance = read_pvrpif(tools.require_shared(PVRPIF / "instances" / "Milano_020_4_0.geojson"))
    with pytest.raises(ValueError, match="customer 1: reported on days \\[0, 1\\]"):
        route_reported_days(instance, [(0, (0, 1, 0)), (1, (0, 1, 0))], time_limit_s=0.5)
