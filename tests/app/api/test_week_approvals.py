"""``POST /api/v1/round-reviews/{id}/approve`` through the real API on the hand-made Monaco week of
``test_round_reviews`` (two working days, one 100 kg lorry, 146 kg of bins: the review puts some
households on Tuesday), and on the same week as a fortnight (weeks A and B)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from app.store import Store, list_audit
from tests.app.api.test_round_reviews import week_body
from tests.app.conftest import JobWaiter


def _review(client: TestClient, wait_for_job: JobWaiter, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` reviewed through the API: the succeeded job."""
    answer = client.post("/api/v1/round-reviews", json=body)
    assert answer.status_code == 202, answer.text
    job = wait_for_job(client, answer.json()["id"], timeout_s=120)
    assert job["status"] == "succeeded", job
    return job


@pytest.fixture(scope="module")
def approved(client: TestClient, wait_for_job: JobWaiter) -> tuple[dict[str, Any], Any]:
    """The one-week review, reviewed and approved by the only caller there is without keys ("anonymous"; people
    and keys: tests/app/api/test_roles.py): the job and the approval's answer."""
    job = _review(client, wait_for_job, week_body())
    answer = client.post(f"/api/v1/round-reviews/{job['id']}/approve", json={})
    return job, answer


def test_approving_a_week_approves_every_days_plan(approved: tuple[dict[str, Any], Any],
                                                   client: TestClient) -> None:
    """200 with the review and its approval; each day's plan is approved by anonymous and filed as version 1
    of its day's round set (week/mon/A, week/tue/A), found by the plan list's round_set filter."""
    job, answer = approved
    assert answer.status_code == 200, answer.text
    approval = answer.json()["approval"]
    assert approval["by"] == "anonymous" and approval["at"] and approval["week_a_starts"] is None
    filed = {(r["day"], r["week"]): r for r in approval["round_sets"]}
    assert set(filed) == {("mon", "A"), ("tue", "A")}
    for day in job["result"]["days"]:
        row = filed[(day["day"], day["week"])]
        assert row["plan_id"] == day["plan_id"] and row["round_set"] == f"week/{day['day']}/A"
        plan = client.get(f"/api/v1/plans/{day['plan_id']}").json()
        assert (plan["status"], plan["approved_by"], plan["round_set"], plan["version"]) == \
            ("approved", "anonymous", row["round_set"], 1)
        listed = client.get("/api/v1/plans", params={"round_set": row["round_set"], "status": "approved"}).json()
        assert [p["id"] for p in listed["plans"]] == [day["plan_id"]]


def test_the_review_shows_its_approval_and_the_audit_log_its_figures(
        approved: tuple[dict[str, Any], Any], client: TestClient, settings: Settings) -> None:
    """GET of the review answers the approval (who, when); the audit log has one week.approve line by
    anonymous with the week's summary and round sets, and a plan.approve line per day."""
    job, answer = approved
    shown = client.get(f"/api/v1/round-reviews/{job['id']}").json()
    assert shown["approval"] == answer.json()["approval"]
    db = Store(settings.database_url)
    with db.transaction() as session:
        week = [(e.actor, e.details) for e in list_audit(session, settings.default_tenant, subject_id=job["id"],
                                                         actions=["week.approve"])]
        days = [e.actor for d in job["result"]["days"]
                for e in list_audit(session, settings.default_tenant, subject_id=d["plan_id"],
                                    actions=["plan.approve"])]
    db.dispose()
    assert len(week) == 1 and week[0][0] == "anonymous"
    assert week[0][1]["summary"] == job["result"]["summary"]
    assert len(week[0][1]["round_sets"]) == 2
    assert days == ["anonymous", "anonymous"]


def test_a_typed_name_is_refused(approved: tuple[dict[str, Any], Any], client: TestClient) -> None:
    """An approval naming someone (``by``) is a 422 naming the field ``by``: the approver is the person signed in."""
    job, _ = approved
    answer = client.post(f"/api/v1/round-reviews/{job['id']}/approve", json={"by": "K. Jones"})
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "by"


def test_a_second_approval_is_a_409(approved: tuple[dict[str, Any], Any], client: TestClient) -> None:
    """Approving the same week again: 409 naming who approved it first; nothing changes."""
    job, _ = approved
    again = client.post(f"/api/v1/round-reviews/{job['id']}/approve", json={})
    assert again.status_code == 409 and "anonymous" in again.json()["detail"]
    assert client.get(f"/api/v1/round-reviews/{job['id']}").json()["approval"]["by"] == "anonymous"


def test_an_unknown_or_another_tenants_review_is_a_404(approved: tuple[dict[str, Any], Any], client: TestClient,
                                                        settings: Settings) -> None:
    """No review of that id, or one of another tenant: 404 naming the id; the other tenant's try is recorded in
    its own audit log as a refused access (an unknown id is not)."""
    answer = client.post("/api/v1/round-reviews/no-such-review/approve", json={})
    assert answer.status_code == 404 and "no-such-review" in answer.json()["detail"]
    other = TestClient(create_app(settings.model_copy(update={"default_tenant": "another-council"})))
    job, _ = approved
    assert other.post(f"/api/v1/round-reviews/{job['id']}/approve", json={}).status_code == 404
    db = Store(settings.database_url)
    with db.transaction() as session:
        refused = [e.details for e in list_audit(session, "another-council", actions=["access.refused"])]
        mine = list_audit(session, settings.default_tenant, actions=["access.refused"])
    db.dispose()
    # the session's store is shared: other tests' refused plan ids of another-council are there too
    assert [(d["status"], d["path"]) for d in refused if "/round-reviews/" in d["path"]] == [
        (404, f"/api/v1/round-reviews/{job['id']}/approve")]
    assert not any(e.details["path"].endswith("no-such-review/approve") for e in mine)


def test_a_cancelled_review_cannot_be_approved(client: TestClient, wait_for_job: JobWaiter) -> None:
    """A review cancelled before it finished: 409 naming its status."""
    body = week_body()
    body["options"]["time_limit_s"] = 30
    review_id = client.post("/api/v1/round-reviews", json=body).json()["id"]
    assert client.delete(f"/api/v1/jobs/{review_id}").status_code == 200
    assert wait_for_job(client, review_id, timeout_s=30)["status"] == "cancelled"
    answer = client.post(f"/api/v1/round-reviews/{review_id}/approve", json={})
    assert answer.status_code == 409 and "cancelled" in answer.json()["detail"]


def test_a_fortnight_needs_the_monday_that_starts_week_a(client: TestClient, wait_for_job: JobWaiter) -> None:
    """Weeks A and B: without week_a_starts, or with a Tuesday, a 422 naming the field and the review; with a
    Monday, each of the four days (those with bins) is filed as week/<area>/<day>/<week>."""
    body = week_body()
    body["calendar"]["weeks"] = ["A", "B"]
    body["vehicles"][0]["capacity_kg"] = 1000
    for b in body["bins"]:
        b.pop("current")
        b["frequency"] = "fortnightly"
    body["options"]["time_limit_s"] = 1
    job = _review(client, wait_for_job, body)
    path = f"/api/v1/round-reviews/{job['id']}/approve"
    for bad in ({}, {"week_a_starts": "2027-01-05"}):
        answer = client.post(path, json=bad)
        assert answer.status_code == 422, answer.text
        assert "week_a_starts" in answer.text and job["id"] in answer.text
    nameless = client.post(path, json={"area": "a/b"})
    assert nameless.status_code == 422 and "area" in nameless.text
    answer = client.post(path, json={"week_a_starts": "2027-01-04", "area": "monaco"})
    assert answer.status_code == 200, answer.text
    approval = answer.json()["approval"]
    assert approval["week_a_starts"] == "2027-01-04"
    days = [d for d in job["result"]["days"] if d["plan_id"]]
    assert sorted(r["round_set"] for r in approval["round_sets"]) == \
        sorted(f"week/monaco/{d['day']}/{d['week']}" for d in days)
