"""Balanced and compact rounds through the API: the options, ``summary.relaxed``, and fixed
territories from an approved stored plan (real solves on the Monaco network)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from .test_plans import TODAYS_ROUNDS, todays_plan

URL = "/api/v1/optimisations"


def _served_by(answer: dict[str, Any]) -> dict[str, str]:
    """Bin id -> the vehicle whose round visits it."""
    return {f["properties"]["bin_id"]: f["properties"]["vehicle_id"] for f in answer["features"]
            if f["properties"].get("type") == "bin"}


def _fault(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    [item] = response.json()["detail"]
    return dict(item)


def test_balance_and_compact_are_on_by_default_and_the_answer_says_what_was_relaxed(
        client: TestClient, problem: dict[str, Any]) -> None:
    """The base problem (136 kg for two 100 kg lorries: two rounds) answers ``summary.relaxed``
    as a list naming only known relaxations; with both options off the field is absent."""
    answer = client.post(URL, json=problem)
    assert answer.status_code == 200, answer.text
    relaxed = answer.json()["summary"]["relaxed"]
    assert isinstance(relaxed, list) and set(relaxed) <= {"compactness", "balance"}
    if "balance" not in relaxed:
        assert answer.json()["summary"]["balance"]["duration_spread"] <= 0.10
    problem["options"].update({"balance": False, "compact": False})
    plain = client.post(URL, json=problem)
    assert plain.status_code == 200, plain.text
    assert "relaxed" not in plain.json()["summary"]


def test_a_balance_tolerance_below_zero_answers_422_naming_it(app_client: TestClient,
                                                              problem: dict[str, Any]) -> None:
    """``options.balance_tolerance`` of -0.1 is refused at that field."""
    problem["options"]["balance_tolerance"] = -0.1
    fault = _fault(app_client.post(URL, json=problem))
    assert fault["loc"] == ["body", "options", "balance_tolerance"]


def test_territories_of_an_unknown_plan_answer_422_naming_field_and_id(client: TestClient,
                                                                       problem: dict[str, Any]) -> None:
    """A ``territories_plan_id`` the tenant does not have: 422 naming the field and the id, for a
    synchronous optimisation and for a job (refused before it is queued)."""
    problem["options"]["territories_plan_id"] = "no-such-plan"
    for url in (URL, "/api/v1/jobs"):
        fault = _fault(client.post(url, json=problem))
        assert (fault["field"], fault["id"]) == ("options.territories_plan_id", "no-such-plan")
        assert "no-such-plan" in fault["msg"]


def test_territories_of_a_draft_plan_answer_422(client: TestClient, problem: dict[str, Any]) -> None:
    """Only an approved plan fixes territories: a draft's id answers 422 saying it is not approved."""
    draft = todays_plan(client, problem)
    problem["options"]["territories_plan_id"] = draft["id"]
    fault = _fault(client.post(URL, json=problem))
    assert (fault["field"], fault["id"]) == ("options.territories_plan_id", draft["id"])
    assert "approved" in fault["msg"]


def test_an_approved_plans_territories_keep_each_crew_on_its_patch(client: TestClient,
                                                                   problem: dict[str, Any]) -> None:
    """Today's approved rounds (b00001-4 on rcv-1, b00005-8 on rcv-2) fix the territories of a
    later day's optimisation: every bin stays with its vehicle, and nothing is relaxed."""
    plan = todays_plan(client, problem)
    approved = client.post(f"/api/v1/plans/{plan['id']}/approve")
    assert approved.status_code == 200, approved.text
    problem["options"].update({"territories_plan_id": plan["id"], "compact": False, "balance": False})
    answer = client.post(URL, json=problem)
    assert answer.status_code == 200, answer.text
    served = _served_by(answer.json())
    expected = {stop: route["vehicle_id"] for route in TODAYS_ROUNDS for stop in route["stops"]}
    assert served == expected
    assert answer.json()["summary"]["relaxed"] == []
