"""The one place where errors become HTTP answers.

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

Both pydantic's :class:`~fastapi.exceptions.RequestValidationError` and the solver's
:class:`~solver.problem.ProblemError` take this shape. The offending input is never
echoed back (it may be huge, or a NaN that JSON cannot carry).

A service still starting (network not loaded, solver workers not ready), a database that is
locked or unreachable, and a solver worker that died mid-request answer 503 with
``Retry-After``; anything unexpected 500 with a generic message and a reference under
which the traceback is logged.

The shaping functions are plain functions so that the command line reports the
same faults in the same shape.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from app.json_types import ErrorItemDict, Fault, Loc
from app.network_registry import NetworkUnavailableError
from app.store.availability import UNAVAILABLE_ERRORS, first_line
from app.workers import WorkerDiedError, WorkersUnavailableError
from solver.problem import ProblemError

logger = logging.getLogger(__name__)

BAD_REQUEST = 400
FASTAPI_BODY_ERROR = "There was an error parsing the body"
"""The detail of the 400 FastAPI raises (from the cause) when it cannot read a body."""
UNPROCESSABLE = 422
INTERNAL_ERROR = 500
UNAVAILABLE = 503
STORE_RETRY_AFTER_S = 5
"""Seconds a client is asked to wait (``Retry-After``) when the database is locked or unreachable."""
WORKER_RETRY_AFTER_S = 5
"""Seconds a client is asked to wait when the solver worker doing its request died."""

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


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 for a request pydantic refused."""
    assert isinstance(exc, RequestValidationError)
    items = validation_error_items(exc.errors(), exc.body)
    return JSONResponse(status_code=UNPROCESSABLE, content={"detail": items})


def _unreadable_body(exc: StarletteHTTPException) -> tuple[str, str] | None:
    """(message, type) when ``exc`` is the 400 FastAPI or Starlette raise for a body they
    could not read at all; ``None`` for any other HTTP error."""
    if exc.status_code != BAD_REQUEST:
        return None
    if isinstance(exc.__context__, MultiPartException):
        return f"the request body cannot be read ({exc.detail})", "body_invalid"
    cause = exc.__cause__
    if exc.detail != FASTAPI_BODY_ERROR or cause is None:
        return None
    if isinstance(cause, UnicodeDecodeError):
        return "the request body is not valid JSON (not UTF-8 text)", "json_invalid"
    if isinstance(cause, RecursionError):
        return "the request body is not valid JSON (nested too deeply)", "json_invalid"
    return f"the request body cannot be read ({type(cause).__name__})", "body_invalid"


async def _on_http_error(request: Request, exc: Exception) -> Response:
    """HTTP errors as FastAPI answers them, except a body that could not be read at all
    (JSON that is no UTF-8 text or nests too deeply, a broken multipart form), which
    FastAPI answers 400: that is malformed input, answered 422 at ``body`` like any other
    fault (``json_invalid`` for JSON, ``body_invalid`` otherwise)."""
    assert isinstance(exc, StarletteHTTPException)
    unreadable = _unreadable_body(exc)
    if unreadable is None:
        return await http_exception_handler(request, exc)
    msg, kind = unreadable
    return JSONResponse(status_code=UNPROCESSABLE,
                        content={"detail": [error_item(loc=("body",), item_id=None, msg=msg, type_=kind)]})


async def _on_problem_error(request: Request, exc: Exception) -> JSONResponse:
    """422 for a problem the solver refused."""
    assert isinstance(exc, ProblemError)
    return JSONResponse(status_code=UNPROCESSABLE, content={"detail": problem_error_items(exc)})


async def _on_not_ready(request: Request, exc: Exception) -> JSONResponse:
    """503 while the service is starting."""
    return JSONResponse(status_code=UNAVAILABLE, content={"detail": str(exc)},
                        headers={"Retry-After": "5"})


async def _on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` while the database is locked or unreachable (its transaction was
    rolled back, so nothing was half written)."""
    logger.warning("database unavailable on %s %s: %s", request.method, request.url.path, first_line(exc))
    return JSONResponse(status_code=UNAVAILABLE, headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
                        content={"detail": "the database is unavailable (locked or unreachable); nothing was "
                                           f"changed: try again in {STORE_RETRY_AFTER_S} s"})


async def _on_worker_died(request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` when the solver worker doing the request died (it is being replaced)."""
    logger.error("%s on %s %s", exc, request.method, request.url.path)
    return JSONResponse(status_code=UNAVAILABLE, headers={"Retry-After": str(WORKER_RETRY_AFTER_S)},
                        content={"detail": f"{exc} while working on this request; a replacement is starting: "
                                           f"try again in {WORKER_RETRY_AFTER_S} s"})


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """500 with a generic message; the traceback goes to the log under a reference."""
    reference = uuid.uuid4().hex[:12]
    logger.error("unexpected error %s on %s %s", reference, request.method, request.url.path,
                 exc_info=exc)
    return JSONResponse(status_code=INTERNAL_ERROR,
                        content={"detail": f"internal error; it has been logged under reference {reference}"})


def install_error_handlers(app: FastAPI) -> None:
    """Register every mapping from exceptions to HTTP answers on ``app``."""
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(ProblemError, _on_problem_error)
    app.add_exception_handler(NetworkUnavailableError, _on_not_ready)
    app.add_exception_handler(WorkersUnavailableError, _on_not_ready)
    app.add_exception_handler(WorkerDiedError, _on_worker_died)
    for error in UNAVAILABLE_ERRORS:
        app.add_exception_handler(error, _on_store_unavailable)
    app.add_exception_handler(Exception, _on_unexpected)
