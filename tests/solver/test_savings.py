"""Savings of an optimised plan against deliberately poor rounds on the real Rutland network.

The baseline puts 150 kerbside bins on three lorries in a random order (tipping when
the next bin would overfill the body), the kind of plan that wastes miles; the plan is
the same problem optimised by OR-Tools. Every figure of the report must be the
evaluator's (or the evaluator's times a stated factor) and every delta must add up.
"""

from __future__ import annotations

import math
import random
from types import SimpleNamespace

import pytest

from solver.network import RoadNetwork
from solver.pipeline import evaluate_plan, optimise
from solver.problem import Depot, DisposalSite, Problem, SolveOptions, Vehicle
from solver.savings import FIGURES, Factors, Figures, no_round, savings_report, unreachable_bins
from solver.solution import RoutePlan
from solver.synthetic import kerbside_bins

FACTORS = Factors(fuel_l_per_km=0.55, co2e_kg_per_l=2.57082, cost_fixed_per_vehicle=200.0, cost_per_km=1.2,
                  cost_per_hour=70.0, collections_per_year=26.0)
ADDITIVE = ("distance_m", "drive_s", "duration_s", "working_hours", "vehicles_used", "trips", "fuel_l", "co2e_kg",
            "cost_gbp", "cost", "bins_served", "violations")


def poor_rounds(problem: Problem, *, seed: int) -> tuple[RoutePlan, ...]:
    """Bins dealt to the vehicles in a random order, a tip whenever the next bin would overfill."""
    order = list(problem.bins)
    random.Random(seed).shuffle(order)
    stops: dict[str, list[str]] = {v.id: [] for v in problem.vehicles}
    loads = dict.fromkeys(stops, 0.0)
    site = problem.disposal_sites[0].id
    for i, b in enumerate(order):
        vehicle = problem.vehicles[i % len(problem.vehicles)]
        if loads[vehicle.id] + b.demand_kg > vehicle.capacity_kg:
            stops[vehicle.id].append(site)
            loads[vehicle.id] = 0.0
        stops[vehicle.id].append(b.id)
        loads[vehicle.id] += b.demand_kg
    return tuple(RoutePlan(v, (*s, site)) for v, s in stops.items())


@pytest.fixture(scope="module")
def rutland_savings(rutland: RoadNetwork) -> SimpleNamespace:
    """150 bins around Oakham, a depot, a tip near Cottesmore, three 1 t lorries; the poor
    baseline evaluated, the problem optimised for 3 s; their savings report."""
    bins = tuple(kerbside_bins(rutland, 150, seed=7))
    vehicles = tuple(Vehicle(f"rcv-{k}", "oakham", capacity_kg=1000.0, shift_start_s=6 * 3600,
                             shift_end_s=16 * 3600, fixed_cost=100.0, cost_per_km=1.0, cost_per_hour=30.0)
                     for k in (1, 2, 3))
    problem = Problem(depots=(Depot("oakham", -0.7260, 52.6690),), vehicles=vehicles, bins=bins,
                      disposal_sites=(DisposalSite("tip-cottesmore", -0.6660, 52.7130, unload_s=600),))
    baseline = evaluate_plan(problem, rutland, poor_rounds(problem, seed=3))
    plan = optimise(problem, rutland, SolveOptions(time_limit_s=3, seed=0, engine="ortools"))
    report = savings_report(plan.evaluation, baseline.evaluation, FACTORS)
    return SimpleNamespace(problem=problem, baseline=baseline.evaluation, plan=plan.evaluation, report=report)


def _evaluator_totals(figures: Figures, evaluation: object) -> dict[str, tuple[float, float]]:
    s = evaluation.summary  # type: ignore[attr-defined]
    totals = {name: (getattr(figures, name), getattr(s, name))
              for name in ("distance_m", "duration_s", "vehicles_used", "bins_unassigned", "cost", "violations",
                           "trips")}
    # a bin a round has no path to is visited on paper only: not served (solver.savings.unreachable_bins)
    unreachable = sum(len(unreachable_bins(r)) for r in evaluation.routes)  # type: ignore[attr-defined]
    totals["bins_served"] = (figures.bins_served, s.bins_served - unreachable)
    return totals


@pytest.mark.shared
def test_totals_are_the_evaluators_summary(rutland_savings: SimpleNamespace) -> None:
    """Each plan's totals are exactly the evaluator's summary figures, for plan and baseline (bins served
    less those a round has no path to)."""
    for figures, evaluation in ((rutland_savings.report.plan, rutland_savings.plan),
                                (rutland_savings.report.baseline, rutland_savings.baseline)):
        for name, (reported, evaluated) in _evaluator_totals(figures, evaluation).items():
            assert reported == evaluated, name


@pytest.mark.shared
def test_rounds_are_the_evaluators_routes(rutland_savings: SimpleNamespace) -> None:
    """Each round's figures are exactly its evaluated route's, in both plans (bins served less those it has
    no path to); drive time is the sum of its legs."""
    report = rutland_savings.report
    for side, evaluation in (("plan", rutland_savings.plan), ("baseline", rutland_savings.baseline)):
        routes = {r.vehicle_id: r for r in evaluation.routes}
        for comparison in report.rounds:
            figures = getattr(comparison, side)
            route = routes.get(comparison.vehicle_id)
            if route is None:
                assert figures == no_round(FACTORS)
                continue
            assert (figures.distance_m, figures.duration_s, figures.trips, figures.cost, figures.bins_served,
                    figures.violations, figures.vehicles_used) == (
                route.distance_m, route.duration_s, route.trips, route.cost,
                route.n_bins - len(unreachable_bins(route)), len(route.violations), 1)
            assert figures.drive_s == sum(v.leg_duration_s for v in route.visits)


@pytest.mark.shared
def test_fuel_co2e_and_money_follow_the_factors(rutland_savings: SimpleNamespace) -> None:
    """Fuel, CO2e, working hours and money are the evaluator's km and hours times the stated factors."""
    for figures in (rutland_savings.report.plan, rutland_savings.report.baseline,
                    *(r.plan for r in rutland_savings.report.rounds)):
        km, hours = figures.distance_m / 1000, figures.duration_s / 3600
        assert figures.working_hours == hours
        assert figures.fuel_l == pytest.approx(km * 0.55, rel=1e-12)
        assert figures.co2e_kg == pytest.approx(km * 0.55 * 2.57082, rel=1e-12)
        assert figures.cost_gbp == pytest.approx(200.0 * figures.vehicles_used + 1.2 * km + 70.0 * hours, rel=1e-12)


@pytest.mark.shared
def test_delta_is_plan_minus_baseline_exactly(rutland_savings: SimpleNamespace) -> None:
    """Every delta, in total, per round and per year, is exactly plan - baseline."""
    report = rutland_savings.report
    pairs = [(report.plan, report.baseline, report.delta)] + [(r.plan, r.baseline, r.delta) for r in report.rounds]
    for plan, baseline, delta in pairs:
        for info in FIGURES:
            if getattr(delta, info.name) is not None:
                assert getattr(delta, info.name) == getattr(plan, info.name) - getattr(baseline, info.name)
    for name, value in report.per_year["delta"].items():
        assert value == report.per_year["plan"][name] - report.per_year["baseline"][name]
        assert report.per_year["plan"][name] == getattr(report.plan, name) * 26.0


@pytest.mark.shared
def test_totals_and_total_delta_are_the_sums_of_the_rounds(rutland_savings: SimpleNamespace) -> None:
    """For every additive figure, each total and the total delta equal the sum over the rounds."""
    report = rutland_savings.report
    for name in ADDITIVE:
        for side in ("plan", "baseline", "delta"):
            total = getattr(getattr(report, side), name)
            summed = math.fsum(getattr(getattr(r, side), name) for r in report.rounds)
            assert total == pytest.approx(summed, rel=1e-9, abs=1e-9), (side, name)


@pytest.mark.shared
def test_the_poor_baseline_is_beaten_on_distance_and_cost(rutland_savings: SimpleNamespace) -> None:
    """Against rounds in random order the optimised plan drives less and costs less, with no violation."""
    report = rutland_savings.report
    assert report.delta.distance_m < 0
    assert report.delta.cost_gbp < 0
    assert report.plan.violations == 0
    assert {c.figure for c in report.better()} >= {"distance_m", "fuel_l", "co2e_kg", "cost_gbp"}


@pytest.mark.shared
def test_worse_and_better_swap_when_the_plans_swap(rutland_savings: SimpleNamespace) -> None:
    """Reporting the baseline against the plan lists as worse exactly what the plan improved."""
    forward = rutland_savings.report
    backward = savings_report(rutland_savings.baseline, rutland_savings.plan, FACTORS)
    assert [c.figure for c in backward.worse()] == [c.figure for c in forward.better()]
    assert [c.figure for c in backward.better()] == [c.figure for c in forward.worse()]


@pytest.mark.shared
def test_a_round_dropped_by_the_plan_counts_as_zeros_and_is_noted(rutland: RoadNetwork,
                                                                  rutland_savings: SimpleNamespace) -> None:
    """A vehicle left out of the plan keeps its round with zero figures; its bins not served are worse and noted."""
    problem = rutland_savings.problem
    full = poor_rounds(problem, seed=3)
    fewer = evaluate_plan(problem, rutland, full[:-1]).evaluation
    report = savings_report(fewer, rutland_savings.baseline, FACTORS)
    dropped = report.rounds[-1]
    assert dropped.vehicle_id == full[-1].vehicle_id
    assert dropped.plan == no_round(FACTORS)
    assert dropped.delta.bins_served == -dropped.baseline.bins_served
    assert "bins_served" in {c.figure for c in report.worse()}
    assert any("does not serve" in note for note in report.notes)


def test_factors_refuse_a_negative_or_missing_rate() -> None:
    """A negative, non-finite or zero-frequency factor is a ValueError naming the factor."""
    with pytest.raises(ValueError, match=r"factors\.cost_per_km"):
        Factors(cost_per_km=-1.0)
    with pytest.raises(ValueError, match=r"factors\.fuel_l_per_km"):
        Factors(fuel_l_per_km=math.nan)
    with pytest.raises(ValueError, match=r"factors\.collections_per_year"):
        Factors(collections_per_year=0.0)
