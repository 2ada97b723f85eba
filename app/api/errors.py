"""The one place where errors become HTTP answers.

Faults of the input answer **422** with ``{"detail": [item, ...]}``, the items shaped by
:mod:`app.core.faults` (which the command line uses too): pydantic's
:class:`~fastapi.exceptions.RequestValidationError`, the solver's
:class:`~solver.problem.ProblemError`, and a body that could not be read at all.

A service still starting (network not loaded, solver workers not ready), a database that is
locked or unreachable, and a solver worker that died mid-request answer 503 with
``Retry-After``; anything unexpected 500 with a generic message and a reference under
which the traceback is logged.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from app.compute.network_registry import NetworkUnavailableError
from app.core.faults import error_item, problem_error_items, validation_error_items
from app.jobs.pool import WorkerDiedError, WorkersUnavailableError
from app.store.availability import UNAVAILABLE_ERRORS, first_line
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
