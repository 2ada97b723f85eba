"""Names for JSON as it is stored and sent, defined once.

A value the service keeps or passes on without reading it field by field (a problem
body as posted, a plan's parameters, an audit entry's details) is typed with these;
what the service does read has a pydantic model in :mod:`app.schemas` instead.
"""

from __future__ import annotations

from typing import TypeAlias

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
"""Any JSON value, as :func:`json.loads` gives it."""

JSONObject: TypeAlias = "dict[str, JSONValue]"
"""A JSON object."""
