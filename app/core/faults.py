"""Faults of the input in one shape, for the API's 422 answers and the command line alike.

Bad input answers **422** with ``{"detail": [item, ...]}``, each item
``{"loc", "field", "id", "msg", "type"}``:

- ``loc``: the path as FastAPI gives it, e.g. ``["body", "bins", 3, "demand_kg"]``;
- ``field``: the same path written out, e.g. ``"bins[3].demand_kg"``;
- ``id``: the id of the depot, disposal site, vehicle or bin the field belongs to
  (looked up in the request body; a route's ``vehicle_id``; for a stop of a route,
  the stop id), or ``null`` when the field belongs to no item;
- ``msg``: what is wrong, always naming the field and, when there is one, the id;
- ``type``: a machine-readable kind (pydantic's, or ``duplicate_id``, ``unknown_depot``,
  ``unknown_vehicle``, ``missing_penalty``, ``unknown_stop``, ``window_order``, ``problem``, ...).

Both pydantic's :class:`~pydantic.ValidationError` and the solver's
:class:`~solver.problem.ProblemError` take this shape, and every other fault is built
by :func:`error_item`. The offending input is never echoed back (it may be huge, or a
NaN that JSON cannot carry).

These are plain functions, free of HTTP, so that the command line reports the same
faults in the same shape; :mod:`app.api.errors` maps them (and every other error) to
HTTP answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from pydantic_core import ErrorDetails

from app.core.json_types import ErrorItemDict, Fault, Loc
from solver.problem import ProblemError

_FIELD_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_path(loc: Iterable[str | int]) -> str:
    """Write a location as a path: ``("body", "bins", 3, "demand_kg")`` -> ``"bins[3].demand_kg"``.

    The leading ``"body"`` is dropped; an empty path is ``"body"``.
    """
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def parse_field_path(field: str) -> Loc:
    """Inverse of :func:`field_path` for solver field names: ``"bins[3].demand_kg"`` -> loc."""
    loc: list[str | int] = []
    for name, index in _FIELD_TOKEN.findall(field):
        loc.append(int(index) if index else name)
    return tuple(loc)


def _describe_id(value: object) -> str | None:
    """An id value as text, or ``None`` when it is blank or no id at all."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return str(value)
    return None


def find_item_id(body: object, loc: Sequence[str | int]) -> str | None:
    """The id of the innermost list item on the path ``loc`` through ``body``.

    For ``("body", "bins", 3, "demand_kg")`` this is ``body["bins"][3]["id"]``. An item
    without an ``id`` but with a ``vehicle_id`` (a route) is known by that; a stop of a
    ``stops`` list is known by the stop id itself. Missing parts of the path, other
    non-dict items and blank ids give ``None``.
    """
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    node: object = body
    found: str | None = None
    key: str | int | None = None
    for part in parts:
        if isinstance(node, Mapping) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            if isinstance(node, Mapping):
                found = _describe_id(node.get("id")) or _describe_id(node.get("vehicle_id"))
            elif key == "stops" and isinstance(node, str):
                found = _describe_id(node)
        else:
            break
        key = part
    return found


def _qualified(field: str, item_id: str | None, msg: str) -> str:
    """``msg`` prefixed with the field and id unless it names them already."""
    names_field = field in msg
    names_id = item_id is None or repr(item_id) in msg or f'"{item_id}"' in msg
    if names_field and names_id:
        return msg
    if item_id is None:
        return f"{field}: {msg}"
    return f"{field} of {item_id!r}: {msg}"


def error_item(*, loc: Loc, item_id: str | None, msg: str, type_: str) -> ErrorItemDict:
    """One entry of a 422 answer's ``detail``."""
    field = field_path(loc)
    return {"loc": list(loc), "field": field, "id": item_id, "msg": _qualified(field, item_id, msg),
            "type": type_}


def _message(error: ErrorDetails) -> str:
    """pydantic's message, reworded where it would leave a planner guessing."""
    kind = error.get("type", "")
    loc = tuple(error.get("loc", ()))
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden" and loc:
        return f"field {loc[-1]!r} is not accepted: this version of the service does not support it"
    if kind == "finite_number":
        return "must be a finite number (NaN and infinity are not accepted)"
    if kind == "json_invalid":
        return f"the request body is not valid JSON ({ctx.get('error', 'decode error')})"
    return str(error.get("msg", "invalid value"))


def validation_error_items(errors: Iterable[ErrorDetails], body: object, *,
                           loc_prefix: Loc = ()) -> list[ErrorItemDict]:
    """Shape pydantic's errors (``exc.errors()``) for a 422, adding the id of each item at fault.

    ``body`` is the request body as parsed from JSON, in which ids are looked up;
    ``loc_prefix`` is put before every location (``("body",)`` makes the errors of a
    plain ``model_validate`` look like those of a request). An
    error that stands for several faults between fields (``invalid_references``,
    see :func:`app.schemas.reference_faults`) is expanded into one item per fault.
    """
    items: list[ErrorItemDict] = []
    for error in errors:
        loc: Loc = loc_prefix + tuple(error.get("loc", ()))
        ctx = error.get("ctx") or {}
        faults: tuple[Fault, ...] | None = ctx.get("faults") if isinstance(ctx, Mapping) else None
        if faults:
            for fault in faults:
                items.append(error_item(loc=loc + tuple(fault["loc"]), item_id=fault.get("id"),
                                        msg=fault["msg"], type_=fault["type"]))
            continue
        if error.get("type") == "json_invalid":
            loc = loc[:1]  # pydantic adds the character offset, which is no field
        items.append(error_item(loc=loc, item_id=find_item_id(body, loc), msg=_message(error),
                                type_=str(error.get("type", "value_error"))))
    return items


def problem_error_items(exc: ProblemError) -> list[ErrorItemDict]:
    """Shape a :class:`~solver.problem.ProblemError` like a validation error of the body."""
    loc: Loc = ("body", *parse_field_path(exc.field))
    return [error_item(loc=loc, item_id=exc.item_id, msg=str(exc), type_="problem")]
