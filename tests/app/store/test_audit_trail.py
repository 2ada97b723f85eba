"""Reading the audit log by filter and page (app/store/audit_trail.py) on SQLite and PostgreSQL: newest
first, each filter, a cursor that neither repeats nor skips a line written between pages, and never
another tenant's lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import store
from app.store import Store
from app.store.audit_trail import AuditFilter, count_audit, find_audit


@pytest.fixture
def db(empty_store: Store) -> Store:
    """A migrated store holding five lines of ``north`` and one of ``south``."""
    opened = empty_store
    with opened.transaction() as session:
        for actor, action, kind, ident in [("Ann", "plan.create", "plan", "p1"), ("Bob", "plan.approve", "plan", "p1"),
                                           ("Ann", "job.create", "job", "j1"), ("Ann", "export.csv", "plan", "p1"),
                                           ("Bob", "plan_x.odd", "plan", "p2")]:
            store.append_audit(session, "north", actor=actor, action=action, subject_type=kind, subject_id=ident)
        store.append_audit(session, "south", actor="Ann", action="plan.create", subject_type="plan", subject_id="p1")
    return opened


def actions(db: Store, wanted: AuditFilter, **page: int) -> list[str]:
    """The actions of ``north``'s lines ``wanted`` asks for, as found."""
    with db.transaction() as session:
        return [e.action for e in find_audit(session, "north", wanted, limit=page.pop("limit", 100), **page)]


def test_newest_first_and_each_filter(db: Store) -> None:
    """Without a filter every north line, newest first; the action prefix (``_`` literal), actor and subject
    filters narrow it; counts agree."""
    assert actions(db, AuditFilter()) == ["plan_x.odd", "export.csv", "job.create", "plan.approve", "plan.create"]
    assert actions(db, AuditFilter(action="plan.")) == ["plan.approve", "plan.create"]
    assert actions(db, AuditFilter(action="plan_")) == ["plan_x.odd"]
    assert actions(db, AuditFilter(actor="Bob")) == ["plan_x.odd", "plan.approve"]
    assert actions(db, AuditFilter(subject_type="plan", subject_id="p1")) == ["export.csv", "plan.approve",
                                                                               "plan.create"]
    with db.transaction() as session:
        assert count_audit(session, "north", AuditFilter(actor="Ann")) == 3
        assert count_audit(session, "south", AuditFilter()) == 1


def test_period_bounds_are_from_inclusive_to_exclusive(db: Store) -> None:
    """A period ending before the lines gives none, one around them all; ``until`` at a line's time leaves it out."""
    now = datetime.now(UTC)
    assert actions(db, AuditFilter(until=now - timedelta(hours=1))) == []
    assert len(actions(db, AuditFilter(since=now - timedelta(hours=1), until=now + timedelta(hours=1)))) == 5
    with db.transaction() as session:
        newest = find_audit(session, "north", AuditFilter(), limit=1)[0]
        assert [e.id for e in find_audit(session, "north", AuditFilter(since=newest.at), limit=10)] == [newest.id]
        assert newest.id not in [e.id for e in find_audit(session, "north", AuditFilter(until=newest.at), limit=10)]


def test_a_cursor_page_is_stable_while_lines_are_written(db: Store) -> None:
    """Page 1 (2 lines), a new line written, page 2 from page 1's last id: the next two older lines, no repeat."""
    with db.transaction() as session:
        first = find_audit(session, "north", AuditFilter(), limit=2)
        store.append_audit(session, "north", actor="Cy", action="job.cancel", subject_type="job", subject_id="j1")
        second = find_audit(session, "north", AuditFilter(), limit=2, cursor=first[-1].id)
        assert [e.action for e in second] == ["job.create", "plan.approve"]
        assert [e.action for e in find_audit(session, "north", AuditFilter(), limit=2, offset=1)] == [
            "plan_x.odd", "export.csv"]
