"""This process's request figures for the metrics: requests by route and status, their seconds,
and refused sign-ins.

Counted by each replica for itself (Prometheus scrapes every replica and sums them). Routes
are labelled by their template (``/api/v1/jobs/{job_id}``), never by the path asked, so the
number of series stays bounded whatever clients send; a path no route matches is ``unmatched``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import compile_path

UNMATCHED = "unmatched"
"""The route label of a path no route template matches."""

REQUEST_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds (s) of the request duration histogram: a health check to a minute's synchronous solve."""

UNAUTHORIZED, FORBIDDEN = 401, 403


class RouteTemplates:
    """Labels request paths with the route template that serves them, e.g. ``/api/v1/jobs/{job_id}``.

    The templates are the OpenAPI document's paths (read once, at the first request: the
    document is built from the routes, so it names each with its full prefix) plus the map page
    and its static files, which the document leaves out. A path that several templates match
    gets the one with the fewest parameters (a literal segment beats ``{job_id}``).
    """

    EXTRA = ("/", "/static/{path:path}")

    def __init__(self, paths: Callable[[], Iterable[str]]) -> None:
        self._paths = paths
        self._compiled: list[tuple[re.Pattern[str], str]] | None = None

    def prepare(self) -> None:
        """Read and compile the templates now (blocking) rather than at the first request."""
        self._templates()

    def _templates(self) -> list[tuple[re.Pattern[str], str]]:
        if self._compiled is None:
            templates = sorted({*self._paths(), *self.EXTRA}, key=lambda t: (t.count("{"), t))
            self._compiled = [(compile_path(t)[0], t.replace(":path}", "}")) for t in templates]
        return self._compiled

    def label(self, path: str) -> str:
        """The template that matches ``path``, or :data:`UNMATCHED`."""
        return next((template for regex, template in self._templates() if regex.match(path)), UNMATCHED)


def refusal_reason(status: int, challenge: str | None) -> str | None:
    """Why a sign-in was refused, from an answer's status and ``WWW-Authenticate`` header:
    ``invalid_credentials`` (a key or token was presented and refused, RFC 6750's
    ``invalid_token``), ``missing_credentials`` (none was), ``forbidden`` (403: signed in, not
    allowed); ``None`` for any other answer."""
    if status == FORBIDDEN:
        return "forbidden"
    if status != UNAUTHORIZED:
        return None
    return "invalid_credentials" if challenge and "invalid_token" in challenge else "missing_credentials"


class RequestMetrics:
    """The counters and histogram of this process's requests, in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("wasteroute_http_requests", "HTTP requests answered by this replica, "
                                "by method, route template and status.", ["method", "route", "status"],
                                registry=registry)
        self.seconds = Histogram("wasteroute_http_request_seconds", "Seconds from a request's arrival to its "
                                 "answer's start, by method and route template.", ["method", "route"],
                                 buckets=REQUEST_BUCKETS_S, registry=registry)
        self.refused = Counter("wasteroute_auth_refused", "Requests refused for their credentials (401) or "
                               "their role (403) by this replica, by reason.", ["reason"], registry=registry)

    def observe(self, *, method: str, route: str, status: int, seconds: float, challenge: str | None) -> None:
        """Count one answered request (and its refusal, if it was one)."""
        self.requests.labels(method, route, str(status)).inc()
        self.seconds.labels(method, route).observe(seconds)
        reason = refusal_reason(status, challenge)
        if reason is not None:
            self.refused.labels(reason).inc()
