"""The readable audit trail (app/api/audit.py, app/services/audit_trail.py, app/store/audit_trail.py) on a
real started app with keys required: every create, change, approve, export, upload and cancel writes a
line naming the key's principal; filters, pages, the CSV download; bad filters 422 naming the field;
another council's lines never shown."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter
from .test_auth import TODAYS_ROUNDS, Caller, new_person_key

BINS_CSV = ("id,lon,lat,demand_kg,address,uprn\n"
            "h1,7.4200,43.7350,12,1 Rue Grimaldi,100012345678\n"
            "h2,7.4210,43.7352,12,3 Rue Grimaldi,100012345679\n")
"""Two households as a council's file (a real upload)."""


@pytest.fixture(scope="module")
def audit_client(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app (Monaco loaded, one solver worker) requiring keys, on a store of this module's own."""
    folder: Path = tmp_path_factory.mktemp("audit-store")
    keyed = settings.model_copy(update={"auth_required": True, "max_concurrent_solves": 1,
                                        "database_url": f"sqlite:///{folder / 'store.sqlite3'}"})
    with TestClient(create_app(keyed)) as started:
        yield started


@pytest.fixture(scope="module")
def town(audit_client: TestClient) -> Caller:
    """Tenant ``town``'s planner, who is also its administrator (and so reads the audit trail)."""
    return Caller(audit_client, new_person_key(audit_client, "town", "planner", "admin"))


@pytest.fixture(scope="module")
def ann(audit_client: TestClient) -> Caller:
    """Tenant ``town``'s approver, Ann Approver (the four-eyes rule keeps the planner from approving)."""
    with audit_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        user = store.create_user(session, "town", name="Ann Approver", roles=["approver"], actor="test")
        made = store.create_user_key(session, "town", user.id, actor="test")
        assert made is not None
    return Caller(audit_client, made[1])


@pytest.fixture(scope="module")
def village(audit_client: TestClient) -> Caller:
    """Tenant ``village``'s planner and administrator."""
    return Caller(audit_client, new_person_key(audit_client, "village", "planner", "admin"))


@pytest.fixture(scope="module")
def done(town: Caller, ann: Caller, village: Caller, make_problem: Any, wait_for_job: JobWaiter) -> dict[str, str]:
    """The town's day of work through the API (a job and its plan, a person's plan approved, exports, a round
    book, an upload, a cancelled job) and the village's one plan: ``{"job", "plan", "manual", "cancelled",
    "village_plan"}`` ids."""
    problem = make_problem()
    accepted = town.post("/api/v1/jobs", json=problem)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(town, accepted.json()["id"])
    assert job["status"] == "succeeded", job
    manual = town.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS}).json()["id"]
    assert ann.post(f"/api/v1/plans/{manual}/approve").status_code == 200
    assert town.get(f"/api/v1/plans/{job['plan_id']}/export?format=csv").status_code == 200
    assert town.get(f"/api/v1/plans/{manual}/book").status_code == 200
    uploaded = town.post("/api/v1/uploads/bins", files={"file": ("bins.csv", BINS_CSV.encode(), "text/csv")})
    assert uploaded.status_code == 200, uploaded.text
    slow = {**make_problem(), "options": {"time_limit_s": 30, "seed": 0}}
    cancelled = town.post("/api/v1/jobs", json=slow).json()["id"]
    assert town.delete(f"/api/v1/jobs/{cancelled}").status_code == 200
    village_plan = village.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS}).json()["id"]
    return {"job": job["id"], "plan": job["plan_id"], "manual": manual, "cancelled": cancelled,
            "village_plan": village_plan}


def key_name(caller: Caller) -> str:
    """The name the audit log records for a caller's key: its person's name."""
    name: str = caller.get("/api/v1/me").json()["name"]
    return name


def lines(caller: Caller, query: str = "") -> list[dict[str, Any]]:
    """Every line the caller's filters give (one page of up to 1000)."""
    answer = caller.get(f"/api/v1/audit?limit=1000{query}")
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


def test_every_write_and_export_is_a_line_naming_the_key(town: Caller, done: dict[str, str]) -> None:
    """Job created, plan stored (by the job and by a person), approved, exported as CSV, round book printed,
    bins uploaded, job cancelled: each a line about its record; those of a request name the key."""
    found = {(e["action"], e["object"]): e for e in lines(town)}
    me = key_name(town)
    expected_by_me = [("job.create", f"job:{done['job']}"), ("plan.create", f"plan:{done['manual']}"),
                      ("export.csv", f"plan:{done['plan']}"), ("export.round_book", f"plan:{done['manual']}"),
                      ("job.cancel", f"job:{done['cancelled']}")]
    for wanted in expected_by_me:
        assert wanted in found, (wanted, sorted(found))
        assert found[wanted]["user"] == me, found[wanted]
    assert found[("plan.create", f"plan:{done['plan']}")]["user"] == me  # stored by the job for whoever asked
    assert found[("plan.approve", f"plan:{done['manual']}")]["user"] == "Ann Approver"
    [upload] = [e for e in found.values() if e["action"] == "upload.bins"]
    assert upload["user"] == me and upload["details"]["bins"] == 2
    assert "Grimaldi" not in json.dumps(upload) and "100012345678" not in json.dumps(upload)


def test_lines_come_newest_first_and_page_by_cursor_and_offset(town: Caller, done: dict[str, str]) -> None:
    """Ids fall down the page; pages of 3 by cursor, and by offset, add up to the whole trail without repeats."""
    whole = lines(town)
    ids = [e["id"] for e in whole]
    assert ids == sorted(ids, reverse=True) and len(ids) >= 8
    by_cursor: list[int] = []
    query = "/api/v1/audit?limit=3"
    while True:
        page = town.get(query).json()
        by_cursor += [e["id"] for e in page["entries"]]
        if page["next_cursor"] is None:
            break
        query = f"/api/v1/audit?limit=3&cursor={page['next_cursor']}"
    assert by_cursor == ids
    second = town.get("/api/v1/audit?limit=3&offset=3").json()["entries"]
    assert [e["id"] for e in second] == ids[3:6]


def test_filters_by_action_prefix_user_subject_and_period(town: Caller, done: dict[str, str]) -> None:
    """``action=plan.`` gives plan lines only, ``user`` one person's, ``subject_type``/``subject_id`` one
    record's, and a period after every line gives none while one around them gives all."""
    assert {e["action"] for e in lines(town, "&action=plan.")} == {"plan.create", "plan.approve"}
    assert {e["action"] for e in lines(town, "&action=plan.approve")} == {"plan.approve"}
    assert {e["user"] for e in lines(town, "&user=Ann%20Approver")} == {"Ann Approver"}
    assert lines(town, "&actor=Ann%20Approver") == lines(town, "&user=Ann%20Approver")
    about = lines(town, f"&subject_type=plan&subject_id={done['manual']}")
    assert {e["action"] for e in about} == {"plan.create", "plan.approve", "export.round_book"}
    assert {e["subject_type"] for e in lines(town, "&subject_type=upload")} == {"upload"}
    assert lines(town, "&from=2999-01-01") == []
    whole = lines(town)
    assert lines(town, "&from=2000-01-01&to=2999-12-31T23:59:59%2B01:00") == whole
    newest = whole[0]["time"]
    assert lines(town, f"&to={newest.replace('+', '%2B')}") == whole[1:]  # to is exclusive
    assert lines(town, "&action=plan_") == []  # a LIKE wildcard is taken literally


@pytest.mark.parametrize(("query", "field"), [
    ("from=yesterday", "from"), ("to=2026-13-01", "to"), ("from=2026-12-06&to=2026-12-01", "to"),
    ("limit=0", "limit"), ("limit=5000", "limit"), ("cursor=0", "cursor"), ("offset=-1", "offset"),
    ("format=xlsx", "format"), ("user=a&actor=b", "actor"), ("action=", "action"), ("subject_id=a%00b", "subject_id"),
])
def test_a_bad_filter_answers_422_naming_it(town: Caller, query: str, field: str) -> None:
    """Each unreadable filter: 422 whose error item names the query field."""
    answer = town.get(f"/api/v1/audit?{query}")
    assert answer.status_code == 422, answer.text
    fields = [item["loc"][-1] for item in answer.json()["detail"]]
    assert field in fields and any(field in item["msg"] or item["loc"][-1] == field
                                   for item in answer.json()["detail"])


def test_csv_download_has_its_columns_a_file_name_and_is_itself_recorded(town: Caller,
                                                                         done: dict[str, str]) -> None:
    """format=csv: an attachment named audit-town-...csv, columns time,user,action,object,details, one row a
    line (details compact JSON), the same lines as JSON; the download is an ``export.audit`` line."""
    wanted = lines(town, "&action=plan.")
    answer = town.get("/api/v1/audit?format=csv&action=plan.")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"].startswith('attachment; filename="audit-town-')
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["time", "user", "action", "object", "details"]
    assert [(r[0], r[1], r[2], r[3]) for r in rows[1:]] == [(e["time"], e["user"], e["action"], e["object"])
                                                          for e in wanted]
    assert all(json.loads(r[4]) == e["details"] and ": " not in r[4] for r, e in zip(rows[1:], wanted, strict=True))
    [recorded] = lines(town, "&action=export.audit")[:1]
    assert recorded["user"] == key_name(town) and recorded["details"]["filters"] == {"action": "plan."}


def test_a_formula_typed_as_a_name_is_written_as_text(audit_client: TestClient, town: Caller) -> None:
    """A name starting with ``=`` reaches the CSV with a leading ``'``: a spreadsheet shows it, never runs it."""
    with audit_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        store.append_audit(session, "town", actor='=HYPERLINK("http://x")', action="plan.approve",
                           subject_type="plan", subject_id="p-formula")
    rows = list(csv.reader(io.StringIO(town.get("/api/v1/audit?format=csv&subject_id=p-formula").text)))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'


def test_another_councils_lines_never_show(town: Caller, village: Caller, done: dict[str, str]) -> None:
    """The village sees its own plan's line and none of the town's, even asking for a town record by id;
    the town never sees the village's."""
    village_lines = lines(village)
    assert {e["object"] for e in village_lines} >= {f"plan:{done['village_plan']}"}
    town_objects = {e["object"] for e in lines(town)}
    assert not town_objects & {e["object"] for e in village_lines if e["subject_type"] != "audit"}
    assert lines(village, f"&subject_id={done['manual']}") == []
    assert village.get("/api/v1/audit?format=csv").text.count("\n") == len(village_lines) + 1
    assert f"plan:{done['village_plan']}" not in town_objects
