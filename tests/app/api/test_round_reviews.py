"""``/api/v1/round-reviews`` through the real API on a small hand-made week on the embedded Monaco network.

The week: two working days (Monday, Tuesday), one lorry of 100 kg working both, no tip, and the eight
Monaco bins (146 kg in all) every one collected on Monday today. One lorry cannot carry 146 kg in a
day, so the review must move households to Tuesday (each move costs ``day_change_cost``): the best
week by hand keeps one lorry a day and moves as little as fits, at least 46 kg of households.
"""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.app.conftest import BINS, DEPOT, JobWaiter

CAPACITY_KG = 100.0
ADDRESS = "1 Rue Grimaldi, Monaco"


def week_body() -> dict[str, Any]:
    """The hand-made week (see the module docstring): b00001 and b00002 are one household, p1."""
    bins = []
    for b in copy.deepcopy(BINS):
        b.update(frequency="weekly", current={"day": "mon", "week": "A", "round": "R1"})
        bins.append(b)
    bins[0].update(property="p1", address=ADDRESS)
    bins[1].update(property="p1")
    return {
        "calendar": {"days": ["mon", "tue"], "weeks": ["A"]},
        "depots": [DEPOT],
        "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": CAPACITY_KG, "shift": ["06:00", "14:00"],
                      "days": ["mon", "tue"]}],
        "bins": bins,
        "options": {"time_limit_s": 2, "seed": 0, "day_change_cost": 5.0},
    }


@pytest.fixture(scope="module")
def reviewed(client: TestClient, wait_for_job: JobWaiter) -> dict[str, Any]:
    """The week reviewed through the API: the finished job."""
    answer = client.post("/api/v1/round-reviews", json=week_body())
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"].endswith(answer.json()["id"])
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    return job


def test_a_review_runs_as_a_job_and_answers_the_week(reviewed: dict[str, Any], client: TestClient) -> None:
    """The job is of kind review; its result is the review, as GET /round-reviews/{id} answers it: every bin
    on one day, no day over the lorry's capacity, one lorry a day, the households moved counted."""
    assert reviewed["kind"] == "review"
    result = reviewed["result"]
    assert result["review_id"] == reviewed["id"]
    assert client.get(f"/api/v1/round-reviews/{reviewed['id']}").json() == result
    assert {(d["day"], d["week"]) for d in result["days"]} == {("mon", "A"), ("tue", "A")}
    days = {a["bin_id"]: a["day"] for a in result["assignments"]}
    assert sorted(days) == sorted(b["id"] for b in BINS) and len(result["assignments"]) == len(BINS)
    assert days["b00001"] == days["b00002"], "a household's bins share one day"
    demand = {b["id"]: b["demand_kg"] for b in BINS}
    for day in ("mon", "tue"):
        assert 0 < sum(demand[b] for b, d in days.items() if d == day) <= CAPACITY_KG
    assert all(a["round"] == "rcv-1" for a in result["assignments"])
    assert result["unassigned"] == []
    summary = result["summary"]
    assert summary["max_vehicles_per_day"] == 1
    moved = {b for b, d in days.items() if d == "tue"}
    assert summary["properties_changing_day"] == len(result["day_changes"]) == len(moved) - ("b00001" in moved)
    assert summary["distance_m"] == pytest.approx(sum(d["distance_m"] for d in result["days"]))
    assert summary["duration_s"] == pytest.approx(sum(d["duration_s"] for d in result["days"]))
    assert set(summary["balance"]) >= {"duration_spread", "load_spread"}
    # one lorry a day: each day's one group of rounds is within any tolerance, and none is named outside it
    for day in (d for d in result["days"] if d["vehicles_used"]):
        assert [f["rounds"] for f in day["balance_by_streams"]] == [day["vehicles_used"]]
        assert all(f["within_tolerance"] in (True, None) for f in day["balance_by_streams"])
    assert summary["balance_outside_tolerance"] == []


def test_each_day_is_a_stored_plan(reviewed: dict[str, Any], client: TestClient) -> None:
    """GET /api/v1/plans/{plan_id} of each day answers the optimisation answer of that day's bins."""
    result = reviewed["result"]
    for day in result["days"]:
        plan = client.get(f"/api/v1/plans/{day['plan_id']}")
        assert plan.status_code == 200, plan.text
        answer = plan.json()
        assert answer["source"] == "review" and answer["name"].endswith(f"{day['day']} {day['week']}")
        served = {f["properties"]["bin_id"] for f in answer["features"] if f["properties"].get("type") == "bin"}
        assert served == {a["bin_id"] for a in result["assignments"] if a["day"] == day["day"]}
        assert answer["summary"]["vehicles_used"] == day["vehicles_used"] == 1
        assert answer["summary"]["distance_m"] == pytest.approx(day["distance_m"])


def test_the_day_changes_are_a_csv_for_the_letters(reviewed: dict[str, Any], client: TestClient) -> None:
    """One CSV line per household moved: property, its address when given, old and new day and week."""
    result = reviewed["result"]
    answer = client.get(f"/api/v1/round-reviews/{reviewed['id']}/day-changes", params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == len(result["day_changes"]) >= 1
    moved = {a["bin_id"] for a in result["assignments"] if a["day"] == "tue"}
    households = {"p1" if b in ("b00001", "b00002") else b for b in moved}
    assert {r["property"] for r in rows} == households
    for row in rows:
        assert (row["old_day"], row["old_week"], row["new_day"], row["new_week"]) == ("mon", "A", "tue", "A")
        assert row["address"] == (ADDRESS if row["property"] == "p1" else "")


def test_keep_current_days_keeps_everyone_on_their_day(client: TestClient, wait_for_job: JobWaiter,
                                                       off_network_bin: dict[str, Any]) -> None:
    """With ``keep_current_days`` and two lorries a day, every household stays on Monday: no day changes;
    a bin in the sea is unassigned with its reason, never dropped."""
    body = week_body()
    body["vehicles"].append({**body["vehicles"][0], "id": "rcv-2"})
    body["bins"].append({**off_network_bin, "current": {"day": "mon"}})
    body["options"].update(keep_current_days=True, time_limit_s=1)
    answer = client.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    assert job["result"]["day_changes"] == [] and job["result"]["summary"]["properties_changing_day"] == 0
    assert {a["day"] for a in job["result"]["assignments"]} == {"mon"}
    assert [(u["bin_id"], u["reason"]) for u in job["result"]["unassigned"]] == [(off_network_bin["id"], "off_network")]
    assert off_network_bin["id"] not in {a["bin_id"] for a in job["result"]["assignments"]}
    assert client.get(f"/api/v1/round-reviews/{job['id']}/day-changes").text.strip() == \
        "property,address,bin_ids,old_day,old_week,new_day,new_week"


def test_a_fortnight_puts_a_households_two_streams_on_one_weekday_in_alternate_weeks(
        client: TestClient, wait_for_job: JobWaiter) -> None:
    """Weeks A and B: p1's fortnightly refuse and recycling come on the same weekday, one week each; a weekly
    bin comes on the same weekday both weeks; each of the four days is a stored plan or empty."""
    body = week_body()
    body["calendar"]["weeks"] = ["A", "B"]
    body["vehicles"][0].update(capacity_kg=1000, streams=["refuse", "recycling"])
    for b in body["bins"]:
        b.update(stream="refuse")
        b.pop("current")
    body["bins"][0].update(frequency="fortnightly")
    body["bins"][1].update(frequency="fortnightly", stream="recycling")
    body["options"]["time_limit_s"] = 1
    answer = client.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    result = job["result"]
    visits: dict[str, list[tuple[str, str]]] = {}
    for a in result["assignments"]:
        visits.setdefault(a["bin_id"], []).append((a["day"], a["week"]))
    (refuse,), (recycling,) = visits["b00001"], visits["b00002"]
    assert refuse[0] == recycling[0] and {refuse[1], recycling[1]} == {"A", "B"}
    for b in BINS[2:]:
        assert len(visits[b["id"]]) == 2 and len({day for day, _ in visits[b["id"]]}) == 1
    assert [(d["day"], d["week"]) for d in result["days"]] == [("mon", "A"), ("tue", "A"), ("mon", "B"),
                                                               ("tue", "B")]
    for day in result["days"]:
        collected = {a["bin_id"] for a in result["assignments"] if (a["day"], a["week"]) == (day["day"], day["week"])}
        if collected:
            plan = client.get(f"/api/v1/plans/{day['plan_id']}").json()
            assert plan["summary"]["bins_served"] == len(collected)
        else:
            assert day["plan_id"] is None
    assert result["day_changes"] == [], "no bin had a current day: nobody is told of a change"


def test_a_cancelled_review_stops_and_stores_nothing(client: TestClient, wait_for_job: JobWaiter) -> None:
    """DELETE /api/v1/jobs/{id} of a running review: it stops long before its time limit, no day is stored,
    and GET /round-reviews/{id} answers 409 naming its status."""
    body = week_body()
    body["options"]["time_limit_s"] = 30
    review_id = client.post("/api/v1/round-reviews", json=body).json()["id"]
    wait_for_job(client, review_id, until=lambda job: job["status"] == "running" and job["progress"] > 0)
    assert client.delete(f"/api/v1/jobs/{review_id}").status_code == 200
    job = wait_for_job(client, review_id, timeout_s=20)
    assert job["status"] == "cancelled" and job["result"] is None and job["progress"] < 0.6
    answer = client.get(f"/api/v1/round-reviews/{review_id}")
    assert answer.status_code == 409 and "cancelled" in answer.json()["detail"]
    names = [p["name"] for p in client.get("/api/v1/plans", params={"limit": 1000}).json()["plans"]]
    assert not any(review_id in (name or "") for name in names)


def test_another_tenant_cannot_see_a_review(reviewed: dict[str, Any], settings: Settings) -> None:
    """Another tenant's id: 404 for the review, its day changes and its days' plans."""
    other = TestClient(create_app(settings.model_copy(update={"default_tenant": "another-council"})))
    review_id = reviewed["id"]
    assert other.get(f"/api/v1/round-reviews/{review_id}").status_code == 404
    assert other.get(f"/api/v1/round-reviews/{review_id}/day-changes").status_code == 404
    for day in reviewed["result"]["days"]:
        assert other.get(f"/api/v1/plans/{day['plan_id']}").status_code == 404


def test_an_unknown_review_or_another_kind_of_job_is_404(client: TestClient, problem: dict[str, Any],
                                                           wait_for_job: JobWaiter) -> None:
    """No review of that id: 404 naming it; an optimisation job's id is no review either."""
    answer = client.get("/api/v1/round-reviews/no-such-review")
    assert answer.status_code == 404 and "no-such-review" in answer.json()["detail"]
    job = client.post("/api/v1/jobs", json=problem).json()
    assert client.get(f"/api/v1/round-reviews/{job['id']}").status_code == 404
    wait_for_job(client, job["id"])


def _bad(edit: Any) -> dict[str, Any]:
    body = week_body()
    edit(body)
    return body


BAD_WEEKS = [
    pytest.param(lambda b: b["bins"][2].update(frequency="fortnightly"), "bins[2].frequency", "b00003",
                 id="a frequency the calendar cannot hold"),
    pytest.param(lambda b: b["bins"][1].update(allowed_days=["tue"]), "bins[1].allowed_days", "p1",
                 id="a property whose bins carry different allowed days"),
    pytest.param(lambda b: b["vehicles"][0].update(days=[]), "vehicles[0].days", "rcv-1",
                 id="a vehicle that works no day"),
    pytest.param(lambda b: b["vehicles"][0].update(days=["sat"]), "vehicles[0].days", "rcv-1",
                 id="a vehicle day outside the calendar"),
    pytest.param(lambda b: b.update(disposal_sites=[{"id": "tip", "lon": 7.4149, "lat": 43.7302, "days": ["mon"]}]),
                 "disposal_sites", "tue", id="a day no tip opens"),
    pytest.param(lambda b: b["bins"][4]["current"].update(day="sat"), "bins[4].current.day", "b00005",
                 id="a current day outside the calendar"),
    pytest.param(lambda b: b["bins"][4]["current"].update(week="B"), "bins[4].current.week", "b00005",
                 id="a current week outside the calendar"),
    pytest.param(lambda b: b["bins"][3].update(frequency={"visits": 3}), "bins[3].frequency", "b00004",
                 id="more visits than the calendar has days"),
    pytest.param(lambda b: b["bins"][3].update(frequency="monthly"), "bins[3].frequency", "b00004",
                 id="a frequency of no known kind (schema)"),
    pytest.param(lambda b: b["bins"][3].update(allowed_days=["mon", "xmas"]), "bins[3].allowed_days", "b00004",
                 id="an allowed day outside the calendar"),
    pytest.param(lambda b: b["vehicles"][0].update(depot="nowhere"), "vehicles[0].depot", "rcv-1",
                 id="a vehicle of an unknown depot (schema)"),
    pytest.param(lambda b: b["options"].update(day_change_cost=-1), "options.day_change_cost", None,
                 id="a negative day change cost (schema)"),
    pytest.param(lambda b: b["options"].update(territories_plan_id="plan-1"), "options.territories_plan_id",
                 "plan-1", id="territories of one day"),
    pytest.param(lambda b: b["bins"][4]["current"].update(sequence=0), "bins[4].current.sequence", "b00005",
                 id="a place in today's round below 1 (schema)"),
]


@pytest.mark.parametrize(("edit", "field", "item_id"), BAD_WEEKS)
def test_a_week_that_cannot_be_planned_is_a_422_naming_the_field_and_the_id(
        app_client: TestClient, edit: Any, field: str, item_id: str | None) -> None:
    """Each bad input of issue 16 answers 422 with the field and the id at fault, before any job is queued."""
    answer = app_client.post("/api/v1/round-reviews", json=_bad(edit))
    assert answer.status_code == 422, answer.text
    faults = answer.json()["detail"]
    assert any(f["field"].startswith(field) and (item_id is None or f["id"] == item_id) for f in faults), faults


def test_today_s_week_is_scored_and_stored_beside_the_review(reviewed: dict[str, Any], client: TestClient) -> None:
    """Every bin is on round R1 on Monday today: today's Monday is one 100 kg lorry's round of 146 kg, so
    the engine serves what fits and leaves the rest out with its reason, and the day would need 2 lorries;
    Tuesday has nothing today. Today's Monday is a stored plan of source ``today``."""
    today = reviewed["result"]["today"]
    assert [(d["day"], d["week"]) for d in today["days"]] == [("mon", "A"), ("tue", "A")]
    monday, tuesday = today["days"]
    assert monday["rounds"] == {"rcv-1": ["R1"]} and monday["vehicles_used"] == 1
    assert monday["vehicles_available"] == 1 and monday["vehicles_needed"] == 2
    assert tuesday["plan_id"] is None and tuesday["vehicles_used"] == 0
    demand = {b["id"]: b["demand_kg"] for b in BINS}
    left = [u["bin_id"] for u in today["unassigned"]]
    assert left and sum(demand.values()) - sum(demand[b] for b in left) <= CAPACITY_KG
    assert {u["reason"] for u in today["unassigned"]} <= {"capacity", "no_feasible_insertion"}
    assert today["summary"]["bins_unassigned"] == len(left) and today["summary"]["bins_without_current"] == 0
    plan = client.get(f"/api/v1/plans/{monday['plan_id']}").json()
    assert plan["source"] == "today" and plan["name"] == f"today {reviewed['id']} mon A"
    assert plan["summary"]["bins_served"] == len(BINS) - len(left)
    assert plan["summary"]["distance_m"] == pytest.approx(monday["distance_m"])


def test_the_proposed_week_fits_its_fleet(reviewed: dict[str, Any]) -> None:
    """The review fits one lorry a day: each day needs the one it has, and no day is short."""
    result = reviewed["result"]
    assert all(d["vehicles_needed"] == d["vehicles_available"] == 1 for d in result["days"])
    assert result["summary"]["days_short_of_vehicles"] == []
    assert result["summary"]["vehicles_needed_per_day"] == {"mon A": 1, "tue A": 1}


def test_a_review_that_cannot_fit_the_fleet_says_how_many_vehicles_each_day_needs(
        client: TestClient, wait_for_job: JobWaiter) -> None:
    """Monday only, one 100 kg lorry, no tip, 146 kg of bins: the review serves what fits, keeps the rest
    unassigned with the engine's reason, and says Monday needs ceil(146 / 100) = 2 lorries."""
    body = week_body()
    body["calendar"]["days"] = ["mon"]
    body["vehicles"][0]["days"] = ["mon"]
    body["options"]["time_limit_s"] = 1
    answer = client.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    result = job["result"]
    (monday,) = result["days"]
    assert monday["vehicles_available"] == 1 and monday["vehicles_needed"] == 2
    assert result["summary"]["days_short_of_vehicles"] == ["mon A"]
    assert result["summary"]["max_vehicles_needed_per_day"] == 2
    assert result["unassigned"] and {u["reason"] for u in result["unassigned"]} <= {"capacity",
                                                                                     "no_feasible_insertion"}
    assert all(u["day"] == "mon" for u in result["unassigned"])


def test_today_s_rounds_given_in_order_are_driven_in_that_order(client: TestClient, wait_for_job: JobWaiter) -> None:
    """Every bin carries its place in today's round R1, the eight in reverse order of their ids, and the lorry
    carries them all: today's Monday visits them in exactly that order (no engine)."""
    body = week_body()
    body["vehicles"][0]["capacity_kg"] = 1000
    for place, b in enumerate(reversed(body["bins"]), start=1):
        b["current"]["sequence"] = place
    body["options"]["time_limit_s"] = 1
    answer = client.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    monday = job["result"]["today"]["days"][0]
    plan = client.get(f"/api/v1/plans/{monday['plan_id']}").json()
    visits = sorted((f["properties"]["sequence"], f["properties"]["bin_id"]) for f in plan["features"]
                    if f["properties"].get("type") == "bin")
    assert [b for _, b in visits] == [b["id"] for b in reversed(BINS)]
