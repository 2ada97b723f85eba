"""What the nightly batch reads besides the store's plans, and how it reads a plan's inputs: the faults
of its input files (a bin register, new properties), the problem part of a stored body, and the name
its drafts are created by."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from app.core.json_types import JSONObject, JSONValue
from app.store import repository
from app.store.models import PlanRecord

PROBLEM_KEYS = ("depots", "disposal_sites", "vehicles", "bins", "options")
"""Keys of a stored body that make the problem (others, such as a manual plan's ``routes``, are dropped)."""

ACTOR = "batch"
"""Who the audit log names as the creator of the batch's drafts."""


class InputFileError(ValueError):
    """An input file of the batch that cannot be read; ``field`` and ``item_id`` name the fault."""

    def __init__(self, message: str, *, field: str, item_id: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.item_id = item_id


def problem_body(session: Session, tenant: str, plan: PlanRecord) -> JSONObject:
    """The problem part of the body of ``plan``'s stored inputs; ``LookupError`` when it is not stored."""
    record = repository.get_problem(session, tenant, plan.problem_id)
    if record is None:
        raise LookupError(f"plan {plan.id!r} names problem {plan.problem_id!r}, which is not stored")
    return {k: record.body[k] for k in PROBLEM_KEYS if k in record.body}


def read_bins_file(path: Path, *, what: str, error: type[InputFileError],
                   default_tenant: str) -> tuple[dict[str, JSONValue], str]:
    """An input file ``{"tenant": T, "bins": [...], ...}`` read as JSON: its object and its tenant
    (``default_tenant`` when it names none); ``error`` (naming the field) when it is not such an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{what} {path} cannot be read as JSON: {exc}", field="body") from exc
    if not isinstance(data, dict) or not isinstance(data.get("bins"), list):
        raise error(f"{what} {path} must be an object with a list 'bins'", field="bins")
    tenant = data.get("tenant", default_tenant)
    if not isinstance(tenant, str) or not tenant:
        raise error("tenant must be a non-empty string", field="tenant")
    return data, tenant


def check_bin(model: type[BaseModel], fields: object, *, index: int, item_id: str | None,
              error: type[InputFileError]) -> None:
    """``fields`` validated as ``model`` (a bin of the API); ``error`` naming ``bins[index].<field>`` and the
    bin's id at its first fault."""
    try:
        model.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise error(f"bins[{index}].{where} of {item_id!r}: {first['msg']}", field=f"bins[{index}].{where}",
                    item_id=item_id) from exc
