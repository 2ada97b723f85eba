"""``GET /api/v1/round-reviews/{id}/report``: the week's savings report through the real API, on the hand-made
weeks of tests/app/api/test_round_reviews.py (the eight Monaco bins, all collected on Monday today by one
100 kg lorry that cannot carry their 146 kg), reviewed for real and every day scored by the one evaluator."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tests.app.api.test_round_reviews import week_body
from tests.app.conftest import BINS, JobWaiter

ADDITIVE = ("distance_m", "duration_s", "paid_hours", "vehicles_used", "fuel_l", "co2e_kg", "cost_gbp",
            "bins_served", "bins_unassigned")


def _review(client: TestClient, wait_for_job: JobWaiter, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    return job


@pytest.fixture(scope="module")
def reviewed(client: TestClient, wait_for_job: JobWaiter) -> dict[str, Any]:
    """The Monday-and-Tuesday week reviewed (today: everything on Monday, round R1)."""
    return _review(client, wait_for_job, week_body())


@pytest.fixture(scope="module")
def report(reviewed: dict[str, Any], client: TestClient) -> dict[str, Any]:
    """Its report as JSON."""
    answer = client.get(f"/api/v1/round-reviews/{reviewed['id']}/report", params={"format": "json"})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_week_s_totals_are_its_days_and_a_year_is_52_one_week_cycles(report: dict[str, Any]) -> None:
    """Every additive total of the week is the sum of its two days, on both sides; a one-week calendar runs
    52 times a year, so each yearly figure is 52 times the week's."""
    assert [d["day"] for d in report["days"]] == ["mon A", "tue A"]
    for side in ("today", "proposed"):
        for figure in ADDITIVE:
            assert report[side][figure] == pytest.approx(sum(d[side][figure] for d in report["days"])), figure
    assert report["cycles_per_year"] == 52
    for figure in ("distance_m", "cost_gbp", "co2e_kg", "paid_hours"):
        assert report["per_year"]["today"][figure] == pytest.approx(52 * report["today"][figure])
        assert report["per_year"]["proposed"][figure] == pytest.approx(52 * report["proposed"][figure])
        assert report["delta"][figure] == pytest.approx(report["proposed"][figure] - report["today"][figure])


def test_the_report_says_what_the_review_changed_and_what_got_worse(report: dict[str, Any],
                                                                  reviewed: dict[str, Any]) -> None:
    """Today one lorry on Monday cannot serve all 146 kg; the proposed week serves every bin on one lorry a
    day. Busiest day: 1 lorry both; bins served better; Tuesday, empty today, drives more (named worse); the
    households moved are named worse too."""
    today = reviewed["result"]["today"]
    assert report["busiest_day_vehicles"] == {"today": 1, "proposed": 1, "delta": 0}
    assert report["proposed"]["bins_served"] == len(BINS)
    assert report["today"]["bins_served"] == len(BINS) - today["summary"]["bins_unassigned"] < len(BINS)
    moved = reviewed["result"]["summary"]["properties_changing_day"]
    assert report["households_moved"] == moved >= 1
    assert any(line.startswith("households moved: ") for line in report["worse"])
    assert any(line.startswith("tue A: Distance +") for line in report["worse"])
    assert "mon A: today's rounds would need 2 vehicles to serve every bin, 1 work that day" in report["notes"]
    assert not any("the proposed rounds would need" in note for note in report["notes"])
    tuesday = report["days"][1]
    assert tuesday["today"]["vehicles_used"] == 0 and tuesday["proposed"]["vehicles_used"] == 1
    assert any(c["figure"] == "bins_served" and c["verdict"] == "better" for c in report["changes"])


def test_each_day_matches_the_one_day_report_of_its_two_stored_plans(report: dict[str, Any],
                                                                    reviewed: dict[str, Any],
                                                                    client: TestClient) -> None:
    """Monday of the week's report equals the one-day savings report of Monday's proposed plan against
    today's Monday plan: the same evaluator, the same factors, the same figures."""
    proposed = reviewed["result"]["days"][0]["plan_id"]
    today = reviewed["result"]["today"]["days"][0]["plan_id"]
    one_day = client.get(f"/api/v1/plans/{proposed}/report", params={"baseline": today, "format": "json"}).json()
    monday = report["days"][0]
    for figure in ("distance_m", "duration_s", "cost_gbp", "co2e_kg", "bins_served"):
        assert monday["proposed"][figure] == pytest.approx(one_day["plan"][figure]), figure
        assert monday["today"][figure] == pytest.approx(one_day["baseline"][figure]), figure
    assert report["factors"]["cost_per_km"] == one_day["factors"]["cost_per_km"]


def test_the_report_renders_as_csv_and_html(reviewed: dict[str, Any], report: dict[str, Any],
                                            client: TestClient) -> None:
    """CSV: the week, the year, each day and each day's shape at full precision; HTML: printable, naming
    what got worse."""
    answer = client.get(f"/api/v1/round-reviews/{reviewed['id']}/report", params={"format": "csv"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert {r["scope"] for r in rows} >= {"week", "year", "day"}
    week = {r["figure"]: r for r in rows if r["scope"] == "week"}
    assert float(week["distance_m"]["proposed"]) == report["proposed"]["distance_m"]
    assert week["households_moved"]["verdict"] == "worse"
    html = client.get(f"/api/v1/round-reviews/{reviewed['id']}/report")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "What got worse" in html.text and "households moved" in html.text


def test_a_fortnight_is_counted_26_times_a_year_and_unequal_work_is_flagged(
        client: TestClient, wait_for_job: JobWaiter) -> None:
    """Weeks A and B, a 1000 kg lorry: every weekly bin is on Monday today in both weeks (no week given);
    b00001 is fortnightly but its current day has no week, so today's week collects it twice, the proposed
    week once: the report counts a cycle 26 times a year and says the two weeks differ in work."""
    body = week_body()
    body["calendar"]["weeks"] = ["A", "B"]
    body["vehicles"][0]["capacity_kg"] = 1000
    for b in body["bins"]:
        b["current"] = {"day": "mon", "round": "R1"}
        b.pop("property", None)
    body["bins"][0]["frequency"] = "fortnightly"
    body["options"].update(time_limit_s=1, keep_current_days=True)
    job = _review(client, wait_for_job, body)
    answer = client.get(f"/api/v1/round-reviews/{job['id']}/report", params={"format": "json"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["cycles_per_year"] == 26 and [d["day"] for d in report["days"]] == ["mon A", "tue A", "mon B",
                                                                                       "tue B"]
    assert report["per_year"]["proposed"]["distance_m"] == pytest.approx(26 * report["proposed"]["distance_m"])
    assert any("b00001 (2 today, 1 proposed)" in note for note in report["notes"])
    assert report["households_moved"] == 0


def test_a_review_without_today_s_week_answers_409_saying_so(client: TestClient, wait_for_job: JobWaiter) -> None:
    """No bin carries current: there is no today's week to compare with, 409 naming the review and current."""
    body = week_body()
    for b in body["bins"]:
        b.pop("current")
    body["options"]["time_limit_s"] = 1
    job = _review(client, wait_for_job, body)
    assert job["result"]["today"] is None
    answer = client.get(f"/api/v1/round-reviews/{job['id']}/report")
    assert answer.status_code == 409
    assert job["id"] in answer.json()["detail"] and "no today's week" in answer.json()["detail"]
    assert "current" in answer.json()["detail"]


def test_an_unknown_or_unfinished_review_has_no_report(client: TestClient, wait_for_job: JobWaiter) -> None:
    """404 naming an unknown review; 409 naming the status of one still queued or running."""
    answer = client.get("/api/v1/round-reviews/no-such-review/report")
    assert answer.status_code == 404 and "no-such-review" in answer.json()["detail"]
    body = week_body()
    body["options"]["time_limit_s"] = 30
    review_id = client.post("/api/v1/round-reviews", json=body).json()["id"]
    answer = client.get(f"/api/v1/round-reviews/{review_id}/report")
    assert answer.status_code == 409 and review_id in answer.json()["detail"]
    assert client.delete(f"/api/v1/jobs/{review_id}").status_code == 200
    wait_for_job(client, review_id, timeout_s=60)


@pytest.fixture(scope="module")
def small_door(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app taking 4 bins per synchronous request, with its own store."""
    data_dir = tmp_path_factory.mktemp("week-report-door")
    narrow = settings.model_copy(update={"max_sync_bins": 4, "database_url": f"sqlite:///{data_dir / 'store.sqlite3'}"})
    with TestClient(create_app(narrow)) as started:
        yield started


@pytest.mark.slow
def test_a_week_over_the_synchronous_limit_is_reported_by_a_job(small_door: TestClient,
                                                                wait_for_job: JobWaiter) -> None:
    """Eight bins a week, limit four: 202 and a report job whose report (JSON, CSV, HTML) is the week's."""
    job = _review(small_door, wait_for_job, week_body())
    answer = small_door.get(f"/api/v1/round-reviews/{job['id']}/report")
    assert answer.status_code == 202, answer.text
    made = wait_for_job(small_door, answer.json()["id"], timeout_s=120)
    assert (made["status"], made["kind"]) == ("succeeded", "report"), made
    report = small_door.get(f"/api/v1/jobs/{made['id']}/report", params={"format": "json"}).json()
    assert report["review_id"] == job["id"] and report["proposed"]["bins_served"] == len(BINS)
    as_csv = small_door.get(f"/api/v1/jobs/{made['id']}/report", params={"format": "csv"})
    assert as_csv.text.startswith("scope,day,figure") and f"week-report-{job['id']}" in \
        as_csv.headers["content-disposition"]
