"""A reviewed week approved as a whole in the store (SQLite and PostgreSQL), and the calendar day of a
date, on dates worked out by hand (Monday 4 January 2027 starts a week A)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from app import store
from app.services.week_approval import (
    WeekDayKey,
    approve_week,
    calendar_day,
    parse_week_round_set,
    week_new_properties,
    week_round_set,
)
from app.store import Store
from solver.problem import ProblemError

TENANT = "rutland"
ANCHOR = date(2027, 1, 4)
FORTNIGHT = {"days": ["mon", "tue", "wed", "thu", "fri"], "weeks": ["A", "B"]}


@pytest.mark.parametrize(("night", "expected"), [
    (date(2027, 1, 4), ("mon", "A")),
    (date(2027, 1, 8), ("fri", "A")),
    (date(2027, 1, 11), ("mon", "B")),
    (date(2027, 1, 18), ("mon", "A")),
    (date(2026, 12, 31), ("thu", "B")),
    (date(2026, 12, 22), ("tue", "A")),
    (date(2027, 1, 9), None),
])
def test_a_date_is_a_day_and_week_of_the_fortnight(night: date, expected: tuple[str, str] | None) -> None:
    """Weeks alternate A, B from Monday 4 January, before it too (28 December starts a week B, 21 December a
    week A); a Saturday is no working day."""
    assert calendar_day(night, week_a_starts=ANCHOR, **FORTNIGHT) == expected


def test_a_week_of_one_needs_no_anchor_and_a_fortnight_does() -> None:
    """One week: every Monday is Monday A. Two weeks without the start of week A: a ValueError naming it."""
    assert calendar_day(date(2031, 6, 2), days=["mon"], weeks=["A"], week_a_starts=None) == ("mon", "A")
    with pytest.raises(ValueError, match="week_a_starts"):
        calendar_day(date(2027, 1, 4), week_a_starts=None, **FORTNIGHT)


def test_round_set_keys_of_a_week_read_back() -> None:
    """``week/mon/A`` and ``week/north/tue/B`` read back as their day and week; other round sets are none."""
    assert parse_week_round_set(week_round_set("mon", "A")) == WeekDayKey(area=None, day="mon", week="A")
    assert parse_week_round_set(week_round_set("tue", "B", "north")) == WeekDayKey(area="north", day="tue", week="B")
    for other in ("north/refuse/mon", "week/someday/A", "week/a/b/c/d"):
        assert parse_week_round_set(other) is None


@pytest.fixture
def db(database_url: str) -> Iterator[Store]:
    """A migrated store on an empty database."""
    opened = Store(database_url)
    opened.migrate()
    yield opened
    opened.dispose()


def _review(db: Store, *, status: str = "succeeded", weeks: list[str] | None = None,
            asked_by: str | None = None) -> str:
    """A review job of the tenant (asked for by the user ``asked_by``) as the review job leaves it: two days' draft
    plans, the review its result."""
    with db.transaction() as session:
        body: dict[str, Any] = {"calendar": {"days": ["mon", "tue"], "weeks": weeks or ["A"]}, "bins": []}
        problem = store.save_problem(session, TENANT, body)
        job = store.create_job(session, TENANT, problem, kind="review", created_by_user_id=asked_by)
        rows = []
        for day in ("mon", "tue"):
            plan = store.create_plan(session, TENANT, problem=problem, result={"summary": {"distance_m": 1.0}},
                                     source="review", parameters={"review_id": job.id, "day": day, "week": "A"},
                                     created_by_user_id=asked_by)
            rows.append({"day": day, "week": "A", "plan_id": plan.id})
        if status == "succeeded":
            store.succeed_job(session, TENANT, job.id, result={"review_id": job.id, "days": rows,
                                                               "summary": {"max_vehicles_per_day": 1}})
        return job.id


def test_every_day_is_approved_and_filed_in_one_transaction(db: Store) -> None:
    """Both days approved by J. Smith and filed as version 1 of week/north/<day>/A, their parameters holding
    the week; the job's result has the approval; one week.approve audit line."""
    review_id = _review(db)
    with db.transaction() as session:
        answer = approve_week(session, TENANT, review_id, by="J. Smith", area="north")
    assert answer is not None and answer["approval"]["by"] == "J. Smith"
    with db.transaction() as session:
        for day in ("mon", "tue"):
            plan = store.latest_plan(session, TENANT, f"week/north/{day}/A", status="approved")
            assert plan is not None and (plan.version, plan.approved_by) == (1, "J. Smith")
            assert plan.parameters["week"]["review_id"] == review_id and plan.parameters["week"]["weeks"] == ["A"]
        job = store.get_job(session, TENANT, review_id)
        assert job is not None and job.result is not None and job.result["approval"]["area"] == "north"
        assert len(store.list_audit(session, TENANT, subject_id=review_id, actions=["week.approve"])) == 1
        assert week_new_properties(session, TENANT, review_id) == [], "no new property has come yet"


def test_four_eyes_refuses_whoever_asked_for_the_review(db: Store) -> None:
    """With four_eyes, the user who asked for the review cannot approve the week (FourEyesError, nothing
    approved); another user can, and the approval and each day's plan name them by user id."""
    review_id = _review(db, asked_by="u-pat")
    with pytest.raises(store.FourEyesError, match="four-eyes"), db.transaction() as session:
        approve_week(session, TENANT, review_id, by="Pat", by_user_id="u-pat", four_eyes=True)
    with db.transaction() as session:
        assert store.list_plans(session, TENANT, status="approved") == []
        answer = approve_week(session, TENANT, review_id, by="Ann", by_user_id="u-ann", four_eyes=True)
    assert answer is not None and (answer["approval"]["by"], answer["approval"]["user_id"]) == ("Ann", "u-ann")
    with db.transaction() as session:
        approved = store.list_plans(session, TENANT, status="approved")
    assert len(approved) == 2 and {p.approved_by_user_id for p in approved} == {"u-ann"}


def test_a_failed_approval_changes_nothing(db: Store) -> None:
    """A fortnight without the start of week A: ProblemError naming week_a_starts and the review; no plan is
    approved or filed (the transaction is all or nothing); an unfinished review: ConflictError."""
    review_id = _review(db, weeks=["A", "B"])
    with pytest.raises(ProblemError) as raised, db.transaction() as session:
        approve_week(session, TENANT, review_id, by="J. Smith")
    assert (raised.value.field, raised.value.item_id) == ("week_a_starts", review_id)
    with db.transaction() as session:
        assert store.list_plans(session, TENANT, status="approved") == []
        assert store.list_round_sets(session, TENANT) == []
    with pytest.raises(store.ConflictError, match="not approved"), db.transaction() as session:
        week_new_properties(session, TENANT, review_id)
    queued = _review(db, status="queued")
    with pytest.raises(store.ConflictError, match="queued"), db.transaction() as session:
        approve_week(session, TENANT, queued, by="J. Smith")
    with db.transaction() as session:
        assert approve_week(session, TENANT, "no-such-review", by="J. Smith") is None
        assert approve_week(session, "another-council", review_id, by="J. Smith") is None
