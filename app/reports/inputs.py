"""What a savings report is made from: two plans of one problem, each scored by the one evaluator.

A plan reaches the report as an *evaluation body* (an optimisation body plus
``routes``, what ``POST /api/v1/evaluations`` and ``POST /api/v1/plans`` take), or as
a plan's GeoJSON answer (what ``wasteroute solve`` writes) together with the problem
it answers, whose routes are read back from its visits in driving order. Either way
the plan is evaluated again, here and now, by :func:`solver.pipeline.evaluate_plan`:
the report never copies a figure from a stored answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.config import Settings
from app.schemas import EvaluationRequest, OptimisationResponse, RouteIn
from app.services import evaluation as service
from app.services.answers import read_answer, round_stops
from solver import pipeline
from solver.pipeline import PlannedRounds
from solver.problem import Problem
from solver.savings import DESNZ_2025_DIESEL_CO2E_KG_PER_L, DESNZ_2025_SOURCE, Factors

if TYPE_CHECKING:
    from solver.network import RoadNetwork

PROBLEM_KEYS = ("depots", "disposal_sites", "vehicles", "bins", "options")
"""The keys of an optimisation body (an evaluation body adds ``routes``)."""


@dataclass(frozen=True)
class ScoredPlan:
    """A plan scored by the evaluator: its ``label`` (an id or a file name), the problem,
    and the pipeline's result (evaluation, street lines, stop points)."""

    label: str
    problem: Problem
    planned: PlannedRounds


ROUND_SET_FREQUENCIES: dict[str, float] = {"weekly": 52.0, "fortnightly": 26.0, "fortnight": 26.0,
                                           "biweekly": 26.0, "alternate-weekly": 26.0}
"""Collections a year of a round set whose name carries one of these words (``refuse/tuesday/fortnightly``)."""


def collections_per_year(requested: float | None, round_sets: Sequence[str | None], *,
                         settings: Settings) -> tuple[float, str]:
    """How often the rounds run, and where that figure comes from: the request's own, else a frequency
    word in the first round set naming one (:data:`ROUND_SET_FREQUENCIES`), else the service's setting
    (``WASTEROUTE_SAVINGS_COLLECTIONS_PER_YEAR``, said to be an assumption)."""
    if requested is not None:
        return requested, f"given with the report request ({requested:g} a year)"
    for round_set in round_sets:
        words = re.split(r"[/\s_,.;:]+", (round_set or "").lower())
        for word in words:
            if word in ROUND_SET_FREQUENCIES:
                value = ROUND_SET_FREQUENCIES[word]
                return value, f"round set {round_set!r} runs {word} ({value:g} collections a year)"
    value = settings.savings_collections_per_year
    return value, (f"assumption: the service's default of {value:g} collections a year "
                   "(WASTEROUTE_SAVINGS_COLLECTIONS_PER_YEAR); neither the request (collections_per_year) "
                   "nor the round set's name (weekly, fortnightly) says how often these rounds run")


def paid_shifts_s(*problems: Problem) -> dict[str, float]:
    """Each vehicle's paid shift in seconds (shift end minus start), by vehicle id, over ``problems``."""
    return {v.id: float(v.shift_end_s - v.shift_start_s) for problem in problems for v in problem.vehicles}


def factors_from(settings: Settings, collections: tuple[float, str] | None = None) -> Factors:
    """The report's factors as configured (``WASTEROUTE_SAVINGS_*``); a CO2e value changed
    without its source is attributed to the setting, not to DESNZ. ``collections``: how often the
    rounds run and why (:func:`collections_per_year`); the setting when omitted."""
    defaults = Factors()
    collections = collections if collections is not None else collections_per_year(None, (), settings=settings)
    overridden = (settings.savings_co2e_kg_per_l != DESNZ_2025_DIESEL_CO2E_KG_PER_L
                  and settings.savings_co2e_source == DESNZ_2025_SOURCE)
    fuel_changed = settings.savings_fuel_l_per_km != defaults.fuel_l_per_km
    costs_changed = (settings.savings_cost_fixed_per_vehicle, settings.savings_cost_per_km,
                     settings.savings_cost_per_hour) != (defaults.cost_fixed_per_vehicle, defaults.cost_per_km,
                                                         defaults.cost_per_hour)
    return Factors(
        fuel_l_per_km=settings.savings_fuel_l_per_km, co2e_kg_per_l=settings.savings_co2e_kg_per_l,
        cost_fixed_per_vehicle=settings.savings_cost_fixed_per_vehicle, cost_per_km=settings.savings_cost_per_km,
        cost_per_hour=settings.savings_cost_per_hour,
        collections_per_year=collections[0], collections_source=collections[1],
        fuel_source="set by WASTEROUTE_SAVINGS_FUEL_L_PER_KM" if fuel_changed else defaults.fuel_source,
        co2e_source="set by WASTEROUTE_SAVINGS_CO2E_KG_PER_L" if overridden else settings.savings_co2e_source,
        co2e_url="" if overridden else defaults.co2e_url,
        cost_source="set by WASTEROUTE_SAVINGS_COST_* settings" if costs_changed else defaults.cost_source)


def routes_from_answer(answer: OptimisationResponse) -> list[RouteIn]:
    """The ``routes`` of a plan's answer: per vehicle, its bin, site and break visits in
    ``sequence`` order (depot visits left out: they are implied).

    Raises ``ValueError`` naming the feature at fault when a visit carries neither id.
    """
    return [RouteIn(vehicle_id=vehicle, stops=stops) for vehicle, stops in round_stops(answer).items()]


def answer_body(answer: OptimisationResponse, problem: Mapping[str, object]) -> dict[str, object]:
    """The evaluation body of a plan's answer: the problem it answers (an optimisation or
    evaluation body) with the routes read back from the answer's visits."""
    body = {key: problem[key] for key in PROBLEM_KEYS if key in problem}
    body["routes"] = [route.model_dump() for route in routes_from_answer(answer)]
    return body


def evaluation_body(plan: Mapping[str, object], problem: Mapping[str, object] | None = None) -> dict[str, object]:
    """An evaluation body for ``plan``: ``plan`` itself when it has ``routes``; else a plan's
    GeoJSON answer joined to ``problem`` (an optimisation or evaluation body).

    Raises ``ValueError`` when a GeoJSON answer comes without a problem or is malformed.
    """
    if "routes" in plan:
        return dict(plan)
    if plan.get("type") != "FeatureCollection":
        raise ValueError("a plan must be an evaluation body (with routes) or a plan's GeoJSON answer")
    if problem is None:
        raise ValueError("a plan's GeoJSON answer needs the problem it answers (an optimisation body)")
    return answer_body(read_answer(plan), problem)


def score(label: str, body: Mapping[str, object], network: RoadNetwork, *, settings: Settings) -> ScoredPlan:
    """Validate an evaluation body and score its routes with the evaluator. Blocking.

    Raises pydantic's ``ValidationError`` or :class:`~solver.problem.ProblemError` for a
    malformed body (the caller shapes them as a 422).
    """
    request = EvaluationRequest.model_validate(body)
    problem, options, routes = service.prepare(request, settings=settings)
    planned = pipeline.evaluate_plan(problem, network, routes, snap_limit_m=settings.snap_limit_m, options=options)
    return ScoredPlan(label=label, problem=problem, planned=planned)
