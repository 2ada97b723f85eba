"""app/services/district_review.py through the real API on the embedded Monaco network: round reviews forced
down the district path (``district_review_from_bins`` set low), against the one-matrix path on the same week.

Two weeks: the hand-made week of tests/app/api/test_round_reviews.py (eight bins, one 100 kg lorry on Monday
and Tuesday, every bin on Monday today), and a fortnight of :data:`HOUSEHOLDS` households (weekly refuse,
fortnightly recycling for every second one, each with today's day and round) on two refuse lorries and one
recycling lorry: 300 bins, planned in a pool of two processes, as a district's week is.
"""

from __future__ import annotations

import copy
import csv
import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from solver.network import load_network
from solver.synthetic import kerbside_bins
from tests.app.api.test_round_reviews import CAPACITY_KG, week_body
from tests.app.conftest import BINS, JobWaiter

DAYS = ["mon", "tue", "wed", "thu", "fri"]
HOUSEHOLDS = 200


def fortnight_body(settings: Settings, households: int = HOUSEHOLDS, time_limit_s: float = 10) -> dict[str, Any]:
    """A fortnight of ``households`` on Monaco (see the module docstring): household i on DAYS[i % 5] today,
    its recycling (every second household) in week A or B in turn."""
    network = load_network(settings.network_file, cache_dir=settings.cache_dir)
    bins: list[dict[str, Any]] = []
    for i, b in enumerate(kerbside_bins(network, households, seed=3)):
        day = DAYS[i % 5]
        bins.append({"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": 12, "service_s": 20, "stream": "refuse",
                     "property": f"p{i}", "frequency": "weekly", "address": f"{i} Rue Test",
                     "current": {"day": day, "round": f"{day}-R"}})
        if i % 2 == 0:
            bins.append({"id": b.id + "r", "lon": b.lon, "lat": b.lat, "demand_kg": 8, "service_s": 20,
                         "stream": "recycling", "property": f"p{i}", "frequency": "fortnightly",
                         "current": {"day": day, "week": "AB"[(i // 2) % 2], "round": f"{day}-C"}})
    lorry = {"depot": "depot", "capacity_kg": 2000, "shift": ["06:00", "14:00"]}
    return {"calendar": {"days": DAYS, "weeks": ["A", "B"]},
            "depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
            "vehicles": [{"id": "rcv-1", "streams": ["refuse"], **lorry},
                         {"id": "rcv-2", "streams": ["refuse"], **lorry},
                         {"id": "rcv-3", "streams": ["recycling"], **lorry}],
            "bins": bins,
            "options": {"time_limit_s": time_limit_s, "seed": 0, "day_change_cost": 5.0}}


@pytest.fixture(scope="module")
def district(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app whose reviews of more than one bin take the district path, its days in a pool of two,
    on a store of its own: the job queue is the database's, and on the tests' shared store the session's
    app (one-matrix path) claimed a district job now and then."""
    store = tmp_path_factory.mktemp("district") / "store.sqlite3"
    forced = settings.model_copy(update={"district_review_from_bins": 2, "district_review_workers": 2,
                                         "database_url": f"sqlite:///{store}"})
    with TestClient(create_app(forced)) as started:
        yield started


def _reviewed(http: TestClient, body: dict[str, Any], wait_for_job: JobWaiter) -> dict[str, Any]:
    """Post ``body`` as a review and wait for its job; the succeeded job."""
    answer = http.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(http, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    return job


@pytest.fixture(scope="module")
def small_pair(district: TestClient, client: TestClient, wait_for_job: JobWaiter) -> tuple[dict[str, Any], ...]:
    """The hand-made week reviewed down the district path and down the one-matrix path."""
    return _reviewed(district, week_body(), wait_for_job), _reviewed(client, week_body(), wait_for_job)


@pytest.fixture(scope="module")
def fortnight(district: TestClient, settings: Settings, wait_for_job: JobWaiter) -> dict[str, Any]:
    """The fortnight of :data:`HOUSEHOLDS` households reviewed down the district path."""
    return _reviewed(district, fortnight_body(settings), wait_for_job)


def test_the_small_week_answers_the_same_contract_on_both_paths(small_pair: tuple[dict[str, Any], ...]) -> None:
    """The district answer has every field of the one-matrix answer (summary, days and today's week alike)
    and says which path it took."""
    district, matrix = (job["result"] for job in small_pair)
    assert set(district) == set(matrix)
    assert set(matrix["summary"]) <= set(district["summary"])
    assert district["summary"]["method"] == "district" and matrix["summary"]["method"] == "matrix"
    optional = {"balance", "compactness"}  # a plan's shape figures, absent where there is no shape to measure
    assert [set(d) - optional for d in district["days"]] == [set(d) - optional for d in matrix["days"]]
    assert set(district["today"]) == set(matrix["today"])
    assert [(d["day"], d["week"]) for d in district["days"]] == [("mon", "A"), ("tue", "A")]


def test_the_small_week_is_sensible_down_the_district_path(small_pair: tuple[dict[str, Any], ...],
                                                           district: TestClient) -> None:
    """146 kg on one 100 kg lorry a day: the district path too moves households to Tuesday, serves every bin
    once with no day over the lorry, stores each day as a plan whose bins are the day's assignments, and
    its km are within twice the one-matrix path's (a cruder method, not a worse week by far)."""
    district_job, matrix_job = small_pair
    result = district_job["result"]
    assert Counter(a["bin_id"] for a in result["assignments"]) == {b["id"]: 1 for b in BINS}
    demand = {b["id"]: b["demand_kg"] for b in BINS}
    for day in result["days"]:
        on_day = [a["bin_id"] for a in result["assignments"] if a["day"] == day["day"]]
        assert sum(demand[b] for b in on_day) <= CAPACITY_KG
        plan = district.get(f"/api/v1/plans/{day['plan_id']}").json()
        assert plan["source"] == "review" and plan["summary"]["bins_served"] == len(on_day)
        assert all(a["round"] == "rcv-1" for a in result["assignments"] if a["day"] == day["day"])
        assert [f["rounds"] for f in day["balance_by_streams"]] == [1]  # one lorry: one round, its own group
    assert result["unassigned"] == [] and result["summary"]["max_vehicles_per_day"] == 1
    assert result["summary"]["properties_changing_day"] == len(result["day_changes"]) > 0
    assert result["summary"]["distance_m"] <= 2 * matrix_job["result"]["summary"]["distance_m"]


def test_the_fortnight_gives_each_bin_its_frequency_and_keeps_households_together(fortnight: dict[str, Any]) -> None:
    """Weekly refuse on one weekday in both weeks, fortnightly recycling once, on its household's weekday."""
    result = fortnight["result"]
    slots: dict[str, list[tuple[str, str]]] = {}
    for a in result["assignments"]:
        slots.setdefault(a["bin_id"], []).append((a["day"], a["week"]))
    refuse = {b: s for b, s in slots.items() if not b.endswith("r")}
    assert len(refuse) == HOUSEHOLDS and all(len(s) == 2 and s[0][0] == s[1][0] for s in refuse.values())
    recycling = {b: s for b, s in slots.items() if b.endswith("r")}
    assert len(recycling) == HOUSEHOLDS // 2 and all(len(s) == 1 for s in recycling.values())
    assert all(recycling[b][0][0] == refuse[b[:-1]][0][0] for b in recycling)
    assert result["summary"]["method"] == "district" and result["summary"]["clusters"] > 0


def test_the_fortnight_stores_each_day_with_both_streams_rounds(fortnight: dict[str, Any],
                                                                district: TestClient) -> None:
    """Each of the ten days is a stored plan holding that day's bins, refuse and recycling rounds together
    (no lorry twice), its row's figures the plan's; the summary adds the days up."""
    result = fortnight["result"]
    assert len(result["days"]) == 10
    for day in result["days"]:
        plan = district.get(f"/api/v1/plans/{day['plan_id']}").json()
        assert plan["name"] == f"review {fortnight['id']} {day['day']} {day['week']}"
        on_day = {a["bin_id"] for a in result["assignments"] if (a["day"], a["week"]) == (day["day"], day["week"])}
        served = {f["properties"]["bin_id"] for f in plan["features"] if f["properties"].get("type") == "bin"}
        left = {u["bin_id"] for u in plan["unassigned"]}
        assert served | left == on_day
        vehicles = [f["properties"]["vehicle_id"] for f in plan["features"]
                    if f["properties"].get("kind") == "route"]
        assert len(vehicles) == len(set(vehicles)) == day["vehicles_used"] <= day["vehicles_available"] == 3
        assert plan["summary"]["distance_m"] == pytest.approx(day["distance_m"])
    assert result["summary"]["distance_m"] == pytest.approx(sum(d["distance_m"] for d in result["days"]))
    assert result["summary"]["max_vehicles_per_day"] == max(d["vehicles_used"] for d in result["days"])


def test_the_fortnight_s_letters_today_s_week_and_report(fortnight: dict[str, Any], district: TestClient) -> None:
    """The day changes as CSV (one line per household moved, address given), today's week ordered and stored
    (source ``today``), and the week's savings report comparing the two."""
    result = fortnight["result"]
    letters = district.get(f"/api/v1/round-reviews/{fortnight['id']}/day-changes")
    rows = list(csv.DictReader(io.StringIO(letters.text)))
    assert len(rows) == result["summary"]["properties_changing_day"]
    assert all(r["address"].endswith("Rue Test") for r in rows)
    assert all((r["old_day"], r["old_week"]) != (r["new_day"], r["new_week"]) for r in rows)
    today = result["today"]
    assert len(today["days"]) == 10 and all(d["plan_id"] for d in today["days"])
    plan = district.get(f"/api/v1/plans/{today['days'][0]['plan_id']}").json()
    assert plan["source"] == "today"
    report = district.get(f"/api/v1/round-reviews/{fortnight['id']}/report", params={"format": "json"})
    assert report.status_code == 200, report.text
    totals = report.json()
    assert totals, "the report has figures"


def test_the_district_week_is_approved_into_the_weeks_round_sets(fortnight: dict[str, Any],
                                                                 district: TestClient) -> None:
    """Approving the district review files every day's plan into its day's round set."""
    answer = district.post(f"/api/v1/round-reviews/{fortnight['id']}/approve",
                           json={"week_a_starts": "2026-12-07"})
    assert answer.status_code == 200, answer.text
    filed = answer.json()["approval"]["round_sets"]
    assert len(filed) == 10 and len({r["round_set"] for r in filed}) == 10
    for r in filed:
        assert district.get(f"/api/v1/plans/{r['plan_id']}").json()["status"] == "approved"


def test_a_cancelled_district_review_stops_and_stores_nothing(district: TestClient, settings: Settings,
                                                              wait_for_job: JobWaiter) -> None:
    """DELETE of a running district review: it stops within seconds of its 30 s limit, its pool's processes
    ended, and no day is stored."""
    body = fortnight_body(settings, time_limit_s=30)
    review_id = district.post("/api/v1/round-reviews", json=body).json()["id"]
    wait_for_job(district, review_id, until=lambda job: job["status"] == "running" and job["progress"] > 0,
                 timeout_s=60)
    assert district.delete(f"/api/v1/jobs/{review_id}").status_code == 200
    job = wait_for_job(district, review_id, timeout_s=15)
    assert job["status"] == "cancelled" and job["result"] is None and job["progress"] < 0.6
    names = [p["name"] for p in district.get("/api/v1/plans", params={"limit": 1000}).json()["plans"]]
    assert not any(review_id in (name or "") for name in names)


def test_below_the_threshold_the_one_matrix_path_answers(client: TestClient, wait_for_job: JobWaiter) -> None:
    """The default threshold (5,000 bins) leaves a small week on the one-matrix path."""
    body = copy.deepcopy(week_body())
    result = _reviewed(client, body, wait_for_job)["result"]
    assert result["summary"]["method"] == "matrix" and "clusters" not in result["summary"]
