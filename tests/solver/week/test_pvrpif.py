"""A PVRP-IF benchmark instance planned as a week, the plan re-checked from the instance file alone."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from solver.instances.pvrpif import check_plan, read_pvrpif
from solver.week.pvrpif import pvrpif_units, solve_pvrpif

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
