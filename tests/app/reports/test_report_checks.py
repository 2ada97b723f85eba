"""A savings claim a council can defend: the report's own checks, through the real API on the Monaco
network (GET /api/v1/plans/{id}/report). How often the rounds run comes from the request or the round
set; crews are priced on the shift they are paid for; plans are named; a baseline that breaks many
rules or is far longer than the plan on the same bins is flagged."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.reports import inputs
from app.services.answers import read_answer
from solver.savings import Factors, plan_figures, savings_report
from solver.solution import Evaluation, Violation

TIP = {"id": "tip-0", "lon": 7.4186, "lat": 43.7318, "unload_s": 300}
"""A tip on a street in Fontvieille, near the depot."""

SHIFT_S = 8 * 3600
"""Both vehicles of the base problem work 06:00-14:00 (rcv-2 by the schema's default shift)."""


def _store(client: TestClient, body: dict[str, Any], rounds: list[list[str]], **params: str) -> dict[str, Any]:
    """Store ``rounds`` (rcv-1's, then rcv-2's stops) of ``body`` as a person's plan; the stored plan."""
    routes = [{"vehicle_id": v, "stops": stops} for v, stops in zip(("rcv-1", "rcv-2"), rounds, strict=False)]
    response = client.post("/api/v1/plans", json={**body, "routes": routes}, params=params)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _report(client: TestClient, plan: dict[str, Any], baseline: dict[str, Any], **params: Any) -> dict[str, Any]:
    """The JSON report of ``plan`` against ``baseline``."""
    response = client.get(f"/api/v1/plans/{plan['id']}/report",
                          params={"baseline": baseline["id"], "format": "json", **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


WEST, EAST = ["b00008", "b00003", "b00002", "b00001"], ["b00004", "b00005", "b00006", "b00007"]


def test_collections_a_year_come_from_the_round_set_or_the_request(client: TestClient,
                                                                   problem: dict[str, Any]) -> None:
    """Plans of a fortnightly round set are reported at 26 collections a year, said so; the request's
    own figure wins; with neither, the service's default is used and called an assumption."""
    fortnightly = "depot/refuse/tuesday/fortnightly"
    base = _store(client, problem, [WEST + EAST], round_set=fortnightly)
    plan = _store(client, problem, [WEST, EAST], round_set=fortnightly)
    report = _report(client, plan, base)
    assert report["factors"]["collections_per_year"] == 26
    assert "fortnightly" in report["factors"]["collections_source"]
    assert report["per_year"]["plan"]["distance_m"] == pytest.approx(26 * report["plan"]["distance_m"])
    asked = _report(client, plan, base, collections_per_year=13)
    assert asked["factors"]["collections_per_year"] == 13 and "request" in asked["factors"]["collections_source"]
    unnamed = _report(client, _store(client, problem, [WEST, EAST]), _store(client, problem, [WEST + EAST]))
    assert unnamed["factors"]["collections_source"].startswith("assumption")
    refused = client.get(f"/api/v1/plans/{plan['id']}/report",
                         params={"baseline": base["id"], "collections_per_year": 0})
    assert refused.status_code == 422 and "collections_per_year" in refused.text


def test_crews_are_priced_on_the_shift_they_are_paid(client: TestClient, problem: dict[str, Any]) -> None:
    """Rounds of minutes in Monaco still pay each crew its 8-hour shift: paid hours are 8 per round
    worked, the money is priced on them, and a plan on one lorry instead of two saves a whole shift."""
    base = _store(client, problem, [WEST, EAST])
    plan = _store(client, problem, [WEST + EAST])
    report = _report(client, plan, base)
    factors = report["factors"]
    for side, rounds in (("baseline", 2), ("plan", 1)):
        figures = report[side]
        assert figures["working_hours"] < 2 and figures["paid_hours"] == pytest.approx(rounds * SHIFT_S / 3600)
        assert figures["cost_gbp"] == pytest.approx(
            factors["cost_fixed_per_vehicle"] * rounds + factors["cost_per_km"] * figures["distance_m"] / 1000
            + factors["cost_per_hour"] * figures["paid_hours"])
    assert report["delta"]["paid_hours"] == pytest.approx(-SHIFT_S / 3600)


def test_named_plans_are_named_in_the_report(client: TestClient, problem: dict[str, Any]) -> None:
    """A plan stored with a name is called by it in the report, beside its id."""
    base = _store(client, problem, [WEST, EAST], name="Today's rounds (in-cab export)")
    plan = _store(client, problem, [WEST + EAST], name="One lorry")
    meta = _report(client, plan, base)["meta"]
    assert meta["plan_label"].startswith("One lorry: " + plan["id"])
    assert meta["baseline_label"].startswith("Today's rounds (in-cab export): " + base["id"])


def test_a_baseline_breaking_many_rules_or_far_longer_is_flagged(client: TestClient, problem: dict[str, Any]) -> None:
    """A baseline that tips after every bin, each bin collected after its window closed, is far longer
    than the plan on the same bins and breaks more than a rule a round: both warnings are given."""
    problem["disposal_sites"] = [TIP]
    for b in problem["bins"]:
        b["time_windows"] = [["05:00", "05:30"]]
    plan = _store(client, problem, [[*WEST, "tip-0"], [*EAST, "tip-0"]])
    base = _store(client, problem, [[s for b in WEST for s in (b, "tip-0")], [s for b in EAST for s in (b, "tip-0")]])
    notes = _report(client, plan, base)["notes"]
    assert any(n.startswith("warning: the baseline breaks") for n in notes), notes
    assert any("straw man" in n for n in notes), notes
    fair = _report(client, base, plan)["notes"]  # the other way round the yardstick is the short plan
    assert not any("straw man" in n for n in fair), fair


def test_bins_the_baseline_cannot_reach_are_not_served(client: TestClient, problem: dict[str, Any]) -> None:
    """A bin whose leg has no path (``no_path``, as the evaluator reports a street the lorry may not
    use) is visited on paper only: the report does not count it served, and says so."""
    base = _store(client, problem, [WEST, EAST])
    assert _report(client, base, base)["baseline"]["bins_served"] == 8
    evaluation = _evaluation_with_no_path(client, problem, base, "b00003")
    assert evaluation.summary.bins_served == 8  # the evaluator counts the visit ...
    assert plan_figures(evaluation, Factors()).bins_served == 7  # ... the report does not count it served
    report = savings_report(evaluation, evaluation)
    assert any("cannot reach 1 of its bin(s) (b00003)" in n for n in report.notes)
    assert sum(r.baseline.bins_served for r in report.rounds) == report.baseline.bins_served == 7


def _evaluation_with_no_path(client: TestClient, problem: dict[str, Any], stored: dict[str, Any],
                             bin_id: str) -> Evaluation:
    """The evaluator's evaluation of ``stored`` on the service's network, its leg to ``bin_id`` having
    no path (a no_path violation, as the evaluator records one)."""
    network = client.app.state.network_registry.get()  # type: ignore[attr-defined]
    settings = client.app.state.settings  # type: ignore[attr-defined]
    body = {**problem, "routes": [r.model_dump() for r in inputs.routes_from_answer(read_answer(stored))]}
    evaluation = inputs.score("baseline", body, network, settings=settings).planned.evaluation
    routes = []
    for route in evaluation.routes:
        if any(v.location_id == bin_id for v in route.visits):
            broken = Violation(type="no_path", stop=bin_id, detail=f"no path to {bin_id!r}")
            route = dataclasses.replace(route, violations=(*route.violations, broken))
        routes.append(route)
    return dataclasses.replace(evaluation, routes=tuple(routes))

