"""Names for JSON as it is stored and sent, defined once.

A value the service keeps or passes on without reading it field by field (a problem
body as posted, a plan's parameters, an audit entry's details) is typed with
:data:`JSONValue` / :data:`JSONObject`; what the service does read has a pydantic model
in :mod:`app.schemas` instead. The two ``TypedDict`` shapes are plain data on purpose: a
:class:`Fault` travels inside a pydantic error's context, an :class:`ErrorItemDict`
goes straight into a JSON response (its public model is :class:`app.schemas.ErrorItem`).
"""

from __future__ import annotations

from typing import TypeAlias, TypedDict

from pydantic import JsonValue

JSONValue: TypeAlias = JsonValue
"""Any JSON value, as :func:`json.loads` gives it (pydantic's recursive alias, which mypy and
pydantic both understand)."""

JSONObject: TypeAlias = dict[str, JSONValue]
"""A JSON object."""

Loc: TypeAlias = "tuple[str | int, ...]"
"""Where a fault is: keys and list indices from the top of a body, ``("bins", 3, "id")``."""


class Fault(TypedDict):
    """A fault between fields of a request body (:func:`app.schemas.reference_faults`)."""

    type: str
    loc: Loc
    msg: str
    id: str | None


class ErrorItemDict(TypedDict):
    """One entry of a 422 answer's ``detail``, as sent (see :class:`app.schemas.ErrorItem`)."""

    loc: list[str | int]
    field: str
    id: str | None
    msg: str
    type: str
