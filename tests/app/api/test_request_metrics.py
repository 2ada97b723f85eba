"""Labels of the request metrics: a route's template for a path, and why a sign-in was refused."""

from __future__ import annotations

import pytest

from app.api.request_metrics import UNMATCHED, RouteTemplates, refusal_reason

PATHS = ["/api/v1/jobs", "/api/v1/jobs/{job_id}", "/api/v1/plans/{plan_id}/report", "/api/v1/uploads/bins"]


@pytest.mark.parametrize(("path", "template"), [
    ("/api/v1/jobs", "/api/v1/jobs"),
    ("/api/v1/jobs/4f2a9c", "/api/v1/jobs/{job_id}"),
    ("/api/v1/plans/p1/report", "/api/v1/plans/{plan_id}/report"),
    ("/static/js/map.js", "/static/{path}"),
    ("/", "/"),
    ("/api/v1/nothing/here", UNMATCHED),
    ("/wp-login.php", UNMATCHED),
])
def test_a_path_is_labelled_by_its_template(path: str, template: str) -> None:
    """Ids become their parameter's name, so clients cannot multiply the series; unknown paths share one label."""
    assert RouteTemplates(lambda: PATHS).label(path) == template


def test_a_literal_template_wins_over_a_parameter() -> None:
    """``/api/v1/jobs/recent`` is its own route where one exists, not ``/api/v1/jobs/{job_id}``."""
    templates = RouteTemplates(lambda: [*PATHS, "/api/v1/jobs/recent"])
    assert templates.label("/api/v1/jobs/recent") == "/api/v1/jobs/recent"
    assert templates.label("/api/v1/jobs/abc") == "/api/v1/jobs/{job_id}"


@pytest.mark.parametrize(("status", "challenge", "reason"), [
    (401, 'Bearer realm="wasteroute"', "missing_credentials"),
    (401, 'Bearer realm="wasteroute", error="invalid_token"', "invalid_credentials"),
    (401, None, "missing_credentials"),
    (403, None, "forbidden"),
    (200, None, None),
    (404, None, None),
])
def test_refusals_are_told_apart_by_status_and_challenge(status: int, challenge: str | None,
                                                          reason: str | None) -> None:
    """RFC 6750's ``invalid_token`` marks a key presented and refused; a 403 is a role refused."""
    assert refusal_reason(status, challenge) == reason
