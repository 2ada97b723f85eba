"""The optimisation service's translation of a request's road rules into SolveOptions: the
request's own, else the service's settings."""

from __future__ import annotations

from typing import Any

from app.core.config import Settings
from app.schemas import OptimisationRequest
from app.services.optimisation import prepare


def test_road_rules_default_to_the_service_settings(problem: dict[str, Any], settings: Settings) -> None:
    """A request without road rules gets the service's; one with them keeps its own, even when it
    names the default side of the road."""
    service = settings.model_copy(update={"drives_on": "right", "busy_highways": ["trunk"]})
    _, options = prepare(OptimisationRequest.model_validate(problem), settings=service)
    assert (options.drives_on, options.busy_highways) == ("right", ("trunk",))
    problem["options"].update({"drives_on": "left", "busy_highways": []})
    _, options = prepare(OptimisationRequest.model_validate(problem), settings=service)
    assert (options.drives_on, options.busy_highways) == ("left", ())
