"""The audit trail as people read it (app/services/audit_trail.py): periods read from ISO text, lines as
JSON and CSV, formulas kept from spreadsheets, the download's name."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from app.services.audit_trail import BadFilterError, csv_file_name, csv_text, entry_json, parse_when
from app.store import AuditEntry

AT = datetime(2026, 12, 6, 14, 30, 5, 123456, tzinfo=UTC)


def line(actor: str = "Jo Bloggs", details: dict[str, object] | None = None) -> AuditEntry:
    """An audit line as the store hands it back (not stored)."""
    return AuditEntry(id=7, tenant_id="town", at=AT, actor=actor, action="plan.approve", subject_type="plan",
                      subject_id="p1", details=details if details is not None else {"version": 2, "user_id": "u-1"})


@pytest.mark.parametrize(("text", "end", "expected"), [
    ("2026-12-06", False, datetime(2026, 12, 6, tzinfo=UTC)),
    ("2026-12-06", True, datetime(2026, 12, 7, tzinfo=UTC)),
    ("2026-12-06T14:30:00Z", False, datetime(2026, 12, 6, 14, 30, tzinfo=UTC)),
    ("2026-12-06T14:30:00", True, datetime(2026, 12, 6, 14, 30, tzinfo=UTC)),
    ("2026-12-06T15:30:00+01:00", False, datetime(2026, 12, 6, 14, 30, tzinfo=UTC)),
])
def test_a_period_bound_is_read_as_utc(text: str, end: bool, expected: datetime) -> None:
    """A date is its day's start (the next day's for an end bound); a time without zone is UTC; a zone counts."""
    assert parse_when(text, field="from", end=end) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "06/12/2026", "2026-12-06T25:00"])
def test_an_unreadable_bound_names_its_field(text: str) -> None:
    """Text that is no ISO date or time raises BadFilterError naming the field and the text."""
    with pytest.raises(BadFilterError) as refused:
        parse_when(text, field="to", end=True)
    assert refused.value.field == "to" and refused.value.msg.startswith("to: ") and repr(text) in refused.value.msg


def test_a_line_as_json_and_as_csv() -> None:
    """JSON: time with Z, user, action, object type:id, details; CSV: the header, then the same in five cells,
    details compact with sorted keys."""
    shown = entry_json(line())
    assert shown["time"] == "2026-12-06T14:30:05.123456Z" and shown["object"] == "plan:p1"
    assert shown["user"] == "Jo Bloggs" and shown["details"] == {"version": 2, "user_id": "u-1"}
    rows = list(csv.reader(io.StringIO(csv_text([line()]))))
    assert rows == [["time", "user", "action", "object", "details"],
                    ["2026-12-06T14:30:05.123456Z", "Jo Bloggs", "plan.approve", "plan:p1",
                     '{"user_id":"u-1","version":2}']]


@pytest.mark.parametrize("name", ["=SUM(A1)", "+44 1572", "-1", "@cmd", "\tTab"])
def test_a_cell_a_spreadsheet_would_run_is_written_as_text(name: str) -> None:
    """A name starting with =, +, -, @ or a tab gets a leading quote; others are left alone."""
    assert list(csv.reader(io.StringIO(csv_text([line(actor=name)]))))[1][1] == "'" + name
    assert list(csv.reader(io.StringIO(csv_text([line(actor="Ann")]))))[1][1] == "Ann"


def test_the_download_is_named_after_the_tenant_and_time() -> None:
    """audit-<tenant>-<YYYYMMDD-HHMMSS>.csv, the tenant kept to safe characters."""
    assert csv_file_name("rutland", AT) == "audit-rutland-20261206-143005.csv"
    assert csv_file_name('a/b"c', AT) == "audit-a-b-c-20261206-143005.csv"
