"""``GET /api/v1/actuals/report`` on a real started app: actual days stored as driven (real evaluator
answers on the Monaco network, in a real store), scored again and compared before against after."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.reports.case_study import check
from app.reports.realised_report import ACTUAL_SOURCE
from tests.app.conftest import base_problem

ROUND_SET = "actuals-test/tue-refuse"
LONG_WAY = [{"vehicle_id": "rcv-1", "stops": ["b00008", "b00007", "b00001", "b00006", "b00002"]},
            {"vehicle_id": "rcv-2", "stops": ["b00005", "b00003", "b00004"]}]
"""The old rounds, driven criss-crossing the town."""
SHORT_WAY = [{"vehicle_id": "rcv-1", "stops": ["b00008", "b00003", "b00004", "b00001", "b00002"]},
             {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007"]}]
"""The new rounds, each a patch."""
BEFORE = date(2026, 10, 6)
AFTER = date(2026, 11, 10)


def store_actual_day(client: TestClient, day: date, routes: list[dict[str, Any]],
                     order: dict[str, float] | None = None) -> tuple[str, float]:
    """A day as driven, stored as an actual plan of the round set (its answer the real evaluator's), with
    each round's share of bins collected in the planned order when ``order`` is given; the plan id and
    the evaluator's metres."""
    problem = base_problem()
    answer = client.post("/api/v1/evaluations", json={**problem, "routes": routes})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    with client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        record = store.save_problem(session, "default", problem)
        plan = store.create_plan(session, "default", problem=record, result=result, source=ACTUAL_SOURCE,
                                 parameters={"day": day.isoformat(), "files": {"trace.gpx": "0" * 64},
                                             **({"order_followed": order} if order is not None else {})},
                                 round_set=ROUND_SET)
        return plan.id, float(result["summary"]["distance_m"])


@pytest.fixture(scope="module")
def days(client: TestClient) -> dict[str, float]:
    """Four Tuesdays on the old rounds and four on the new, with one old day driven the new way (the
    crew's choice: a spread), and the metres of each way. Before, rcv-1 followed 60 % of its planned
    order and rcv-2's plan was not named; after, 100 % and 90 %."""
    long_m = short_m = 0.0
    for k in range(4):
        _, long_m = store_actual_day(client, BEFORE + timedelta(weeks=k), SHORT_WAY if k == 3 else LONG_WAY,
                                     {"rcv-1": 0.6})
        _, short_m = store_actual_day(client, AFTER + timedelta(weeks=k), SHORT_WAY, {"rcv-1": 1.0, "rcv-2": 0.9})
    _, long_m = store_actual_day(client, BEFORE, LONG_WAY, {"rcv-1": 0.6})  # read again: the later reading counts
    return {"long": long_m, "short": short_m}


def report_path(client: TestClient, path: str, **query: Any) -> Any:
    """The answer of ``path`` for the two periods (four weeks each) and ``query``."""
    params = {"round_set": ROUND_SET, "before": f"{BEFORE}/{BEFORE + timedelta(days=27)}",
              "after": f"{AFTER}/{AFTER + timedelta(days=27)}", **query}
    return client.get(path, params=params)


def report(client: TestClient, **query: Any) -> Any:
    """The realised-savings report's answer for the two periods and ``query``."""
    return report_path(client, "/api/v1/actuals/report", **query)


def test_the_realised_saving_is_the_days_as_driven_scored_again(client: TestClient, days: dict[str, float]) -> None:
    """Before: three days the long way and one the short way (the re-read day counted once); after: four
    the short way. The distance a day falls by three quarters of the difference, an interval around it,
    times 52 a year; the figures are the evaluator's of the stored routes."""
    answer = report(client)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["before_days"], body["after_days"]) == (4, 4)
    km = next(f for f in body["figures"] if f["figure"] == "distance_m")
    expected = -(days["long"] - days["short"]) * 3 / 4
    assert days["long"] > days["short"] and km["delta"] == pytest.approx(expected, rel=1e-6)
    assert km["per_year"] == pytest.approx(expected * 52, rel=1e-6) and km["verdict"] == "better"
    assert km["delta_interval"]["low"] <= expected <= km["delta_interval"]["high"]
    assert km["per_tonne_before"] == pytest.approx(km["before"] / (136 / 1000), rel=1e-6)
    assert "distance_m" in body["better"]


def test_the_modelled_promise_is_set_beside(client: TestClient, days: dict[str, float]) -> None:
    """The approved plan (the new rounds) against its baseline (the old) promised the whole difference
    a day; three quarters of it was realised: the gap is the quarter, and a note says whether the
    promise lies within the day-to-day spread of the realised change or beyond it."""
    problem = base_problem()
    plan = client.post("/api/v1/plans", json={**problem, "routes": SHORT_WAY}).json()["id"]
    baseline = client.post("/api/v1/plans", json={**problem, "routes": LONG_WAY}).json()["id"]
    body = report(client, plan=plan, baseline=baseline).json()
    km = next(f for f in body["figures"] if f["figure"] == "distance_m")
    assert km["modelled"] == pytest.approx(days["short"] - days["long"], rel=1e-6)
    assert km["gap"] == pytest.approx((days["long"] - days["short"]) / 4, rel=1e-6)
    inside = km["delta_interval"]["low"] <= km["modelled"] <= km["delta_interval"]["high"]
    said = "lies within the day-to-day spread" if inside else "short of the modelled"
    assert any(note.startswith("Distance: ") and said in note for note in body["notes"])


def test_each_round_s_order_followed_before_and_after(client: TestClient, days: dict[str, float]) -> None:
    """Each round's mean share of bins collected in the planned order over each period's days (none
    where no day named its plan), in the JSON and on the printable page."""
    body = report(client).json()
    assert body["order_followed"] == [
        {"vehicle_id": "rcv-1", "before": pytest.approx(0.6), "after": pytest.approx(1.0), "before_days": 4,
         "after_days": 4},
        {"vehicle_id": "rcv-2", "before": None, "after": pytest.approx(0.9), "before_days": 0, "after_days": 4}]
    page = report_path(client, "/api/v1/actuals/report", format="html").text
    assert "Order followed" in page and "60 %" in page and "90 %" in page


def test_csv_and_printable_html(client: TestClient, days: dict[str, float]) -> None:
    """CSV: one row a figure; HTML: a page that says what got worse before the table."""
    rows = list(csv.DictReader(io.StringIO(report(client, format="csv").text)))
    assert [r["figure"] for r in rows][:2] == ["distance_m", "duration_s"] and rows[0]["verdict"] == "better"
    page = report(client, format="html").text
    assert page.index("What got worse") < page.index("<table>") and ROUND_SET in page


@pytest.mark.parametrize(("query", "field"), [
    ({"before": "2026-10-06..2026-11-01"}, "before"),
    ({"after": "2026-12-01/2026-11-01"}, "after"),
    ({"after": "2027-01-04/2027-01-31"}, "after"),
    ({"plan": "abc"}, "baseline"),
])
def test_a_bad_period_or_a_plan_without_its_baseline_is_a_422_naming_the_field(
        client: TestClient, days: dict[str, float], query: dict[str, str], field: str) -> None:
    """A period that is no FIRST/LAST pair, one ending before it starts, one with no actual day, a plan
    without its baseline: 422 naming the query field."""
    answer = report(client, **query)
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"][0]["field"] == field


def test_an_unknown_plan_is_a_404(client: TestClient, days: dict[str, float]) -> None:
    """A plan id the tenant does not have: 404 naming which one."""
    answer = report(client, plan="nope", baseline="nope2")
    assert answer.status_code == 404 and "plan" in answer.json()["detail"]


def test_the_case_study_holds_figures_and_hashes_but_no_personal_data(client: TestClient,
                                                                      days: dict[str, float]) -> None:
    """The exported case study follows its schema, carries the realised change and every input's hash,
    and no bin id, position or file name of the inputs."""
    answer = report_path(client, "/api/v1/actuals/case-study", council="Monaco Test Council")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert check(doc) == []
    km = next(f for f in doc["figures"] if f["figure"] == "distance_m")
    assert km["delta"] == pytest.approx(-(days["long"] - days["short"]) * 3 / 4, rel=1e-6)
    assert len(doc["inputs"]["actual_days"]) == 8 and doc["inputs"]["actual_days"][0]["files"] == ["0" * 64]
    text = answer.text
    assert "b00001" not in text and "7.41745" not in text and "trace.gpx" not in text


def test_another_council_s_case_study_is_shown_beside_and_a_bad_one_named(client: TestClient,
                                                                          days: dict[str, float]) -> None:
    """Two documents print side by side; a document missing its figures is a 422 naming studies[1]."""
    own = report_path(client, "/api/v1/actuals/case-study", council="Monaco Test Council").json()
    other = {**own, "council": "Another District Council"}
    page = client.post("/api/v1/actuals/case-studies/compare", json={"studies": [own, other]})
    assert page.status_code == 200 and "Another District Council" in page.text and page.text.count("<section>") == 2
    broken = {k: v for k, v in other.items() if k != "figures"}
    refused = client.post("/api/v1/actuals/case-studies/compare", json={"studies": [own, broken]})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["field"] == "studies[1]" and "figures" in refused.json()["detail"][0]["msg"]
