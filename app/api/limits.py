"""Limits that keep one request from taking the service down: body size and bins per
synchronous request.

Both answer **413** in the shape of a 422 (``{"detail": [{"loc", "field", "id", "msg",
"type"}]}``, see :mod:`app.core.faults`), with ``type`` ``body_too_large`` (field ``body``)
or ``too_many_bins`` (field ``bins``) and a message that names the limit and what to
do instead. The solver time limit cap (``WASTEROUTE_MAX_TIME_LIMIT_S``) answers 422 at
``options.time_limit_s`` (see :func:`app.services.optimisation.to_solve_options`).

- :class:`BodySizeLimitMiddleware` refuses a body larger than
  ``WASTEROUTE_MAX_BODY_BYTES``: at once when its ``Content-Length`` says so, else as
  soon as the bytes received pass the limit (a chunked body is never read in full).
- :func:`check_sync_bins` refuses a synchronous optimisation with more than
  ``WASTEROUTE_MAX_SYNC_BINS`` bins; larger problems go to ``POST /api/v1/jobs``. An
  evaluation, a stored plan or a report over that limit is not refused: it becomes a job
  itself (:mod:`app.api.job_door`).
"""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.faults import error_item
from app.core.json_types import ErrorItemDict
from app.schemas import ValidationErrorResponse

PAYLOAD_TOO_LARGE = 413

JOBS_PATH = "/api/v1/jobs"
"""Where problems too large for a synchronous answer go."""


def body_too_large_detail(max_body_bytes: int, size: int | None = None) -> list[ErrorItemDict]:
    """The ``detail`` of a 413 for a body over ``max_body_bytes`` (``size`` bytes, if known)."""
    told = f" ({size} bytes)" if size is not None else ""
    msg = (f"body: the request body{told} is over this service's limit of {max_body_bytes} bytes "
           "(WASTEROUTE_MAX_BODY_BYTES); send fewer bins per request")
    return [error_item(loc=("body",), item_id=None, msg=msg, type_="body_too_large")]


class BodyTooLargeError(HTTPException):
    """Raised while a body is read once it passes the limit; FastAPI answers it as a 413."""

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(status_code=PAYLOAD_TOO_LARGE, detail=body_too_large_detail(max_body_bytes))


def _declared_length(scope: Scope) -> int | None:
    """The request's ``Content-Length`` in bytes, or ``None`` when absent or unreadable."""
    value = Headers(scope=scope).get("content-length")
    if value is None or not value.strip().isdigit():
        return None
    return int(value)


class BodySizeLimitMiddleware:
    """ASGI middleware answering 413 to a request body over ``max_body_bytes`` bytes."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse at once on a declared length over the limit; else count the bytes received."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            response = JSONResponse(status_code=PAYLOAD_TOO_LARGE,
                                    content={"detail": body_too_large_detail(self.max_body_bytes, declared)},
                                    headers={"Connection": "close"})
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            """The next message of the request, refusing the body once it passes the limit."""
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
            return message

        await self.app(scope, counted_receive, send)


def check_sync_bins(n_bins: int, max_sync_bins: int, *, endpoint: str) -> None:
    """Raise a 413 when a synchronous ``endpoint`` (``"optimisation"`` or ``"evaluation"``)
    is sent more than ``max_sync_bins`` bins, telling what to do instead."""
    if n_bins <= max_sync_bins:
        return
    advice = (f"optimise it as a job instead: POST {JOBS_PATH} with the same body" if endpoint == "optimisation"
              else "evaluate the plan in parts of fewer bins")
    msg = (f"bins: {n_bins} bins are more than the {max_sync_bins} a synchronous {endpoint} takes "
           f"(WASTEROUTE_MAX_SYNC_BINS); {advice}")
    raise HTTPException(status_code=PAYLOAD_TOO_LARGE,
                        detail=[error_item(loc=("body", "bins"), item_id=None, msg=msg, type_="too_many_bins")])


LIMIT_RESPONSES: dict[int | str, dict[str, object]] = {
    PAYLOAD_TOO_LARGE: {
        "model": ValidationErrorResponse,
        "description": "Too large: a body over the service's byte limit (type body_too_large), or more bins "
                       f"than a synchronous request takes (type too_many_bins: use {JOBS_PATH}).",
    },
}
"""The 413 answer, for the ``responses`` of routes that take a problem body."""
