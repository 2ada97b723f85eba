"""The closed lists of the API contract in docs/api.md are the lists the code has.

Each list is a table in docs/api.md whose first header cell names it (``unassigned
`reason```, ``job `status```, ...) and whose rows start with one backticked value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from app.api.audit import AuditFormat
from app.api.oidc import TokenRefusal
from app.api.principal import ROLES
from app.api.round_books import BookFormat
from app.schemas import JobKind, JobStatus, OptionsIn, PlanStatus, ReadinessCheckName
from app.schemas.users import RoleName
from app.services.exports import ExportFormat
from app.services.round_review import ReviewMethod
from app.store.models import JOB_KINDS, JOB_STATUSES, PLAN_STATUSES, ROLE_NAMES
from solver.engines import engine_choices
from solver.problem import DrivesOn, Objective
from solver.solution import Relaxation, UnassignedReason, ViolationType, VisitType

API_MD = Path(__file__).resolve().parents[3] / "docs" / "api.md"

_ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def documented_lists() -> dict[str, list[str]]:
    """Each closed-list table of docs/api.md: its first header cell -> the values of its rows, in order."""
    tables: dict[str, list[str]] = {}
    lines = API_MD.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines[:-1]):
        if not line.startswith("|") or not lines[i + 1].startswith("|---") or (i and lines[i - 1].startswith("|")):
            continue
        name = line.strip("|").split("|")[0].strip()
        rows = []
        for row in lines[i + 2:]:
            match = _ROW.match(row)
            if match is None:
                break
            rows.append(match.group(1))
        tables[name] = rows
    return tables


CODE_LISTS: dict[str, tuple[str, ...]] = {
    "unassigned `reason`": get_args(UnassignedReason),
    "violation `type`": get_args(ViolationType),
    "visit `type`": get_args(VisitType),
    "job `status`": get_args(JobStatus),
    "job `kind`": get_args(JobKind),
    "plan `status`": get_args(PlanStatus),
    "`options.engine`": get_args(OptionsIn.model_fields["engine"].annotation),
    "`options.objective`": get_args(OptionsIn.model_fields["objective"].annotation),
    "`options.drives_on`": get_args(OptionsIn.model_fields["drives_on"].annotation),
    "summary `relaxed`": get_args(Relaxation),
    "export `format`": get_args(ExportFormat),
    "round book `format`": get_args(BookFormat),
    "token refusal `type`": get_args(TokenRefusal),
    "audit `format`": get_args(AuditFormat),
    "readiness check `name`": get_args(ReadinessCheckName),
    "user `role`": get_args(RoleName),
    "refusal `type`": ("role_required", "four_eyes"),
    "review summary `method`": get_args(ReviewMethod),
}
"""Each closed list the contract names, as the code (the API's schema or the solver) has it."""


@pytest.mark.parametrize("name", sorted(CODE_LISTS))
def test_docs_list_every_value_the_code_has(name: str) -> None:
    """docs/api.md's table of a closed list names exactly the code's values, each once."""
    documented = documented_lists().get(name)
    assert documented is not None, f"docs/api.md has no table headed {name!r}"
    assert len(documented) == len(set(documented)), f"{name}: a value is listed twice in docs/api.md"
    assert set(documented) == set(CODE_LISTS[name]), (
        f"{name}: only in docs/api.md {sorted(set(documented) - set(CODE_LISTS[name]))}, "
        f"only in the code {sorted(set(CODE_LISTS[name]) - set(documented))}")


def test_the_code_keeps_each_list_in_one_place() -> None:
    """Where a list is written twice in the code (store and schema, solver and schema), both agree."""
    assert set(JOB_STATUSES) == set(get_args(JobStatus))
    assert set(JOB_KINDS) == set(get_args(JobKind))
    assert set(PLAN_STATUSES) == set(get_args(PlanStatus))
    assert ROLES == ROLE_NAMES == get_args(RoleName)
    assert set(engine_choices()) == set(CODE_LISTS["`options.engine`"])
    assert set(get_args(Objective)) == set(CODE_LISTS["`options.objective`"])
    assert set(get_args(DrivesOn)) == set(CODE_LISTS["`options.drives_on`"])
