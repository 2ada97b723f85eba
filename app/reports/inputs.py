"""What a savings report is made from: two plans of one problem, each scored by the one evaluator.

A plan reaches the report as an *evaluation body* (an optimisation body plus
``routes``, what ``POST /api/v1/evaluations`` and ``POST /api/v1/plans`` take), or as
a plan's GeoJSON answer (what ``wasteroute solve`` writes) together with the problem
it answers, whose routes are read back from its visits in driving order. Either way
the plan is evaluated again, here and now, by :func:`solver.pipeline.evaluate_plan`:
the report never copies a figure from a stored answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.core.config import Settings
from app.schemas import EvaluationRequest
from app.services import evaluation as service
from solver import pipeline
from solver.pipeline import PlannedRounds
from solver.problem import BREAK_STOP, Problem
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


def factors_from(settings: Settings) -> Factors:
    """The report's factors as configured (``WASTEROUTE_SAVINGS_*``); a CO2e value changed
    without its source is attributed to the setting, not to DESNZ."""
    defaults = Factors()
    overridden = (settings.savings_co2e_kg_per_l != DESNZ_2025_DIESEL_CO2E_KG_PER_L
                  and settings.savings_co2e_source == DESNZ_2025_SOURCE)
    fuel_changed = settings.savings_fuel_l_per_km != defaults.fuel_l_per_km
    costs_changed = (settings.savings_cost_fixed_per_vehicle, settings.savings_cost_per_km,
                     settings.savings_cost_per_hour) != (defaults.cost_fixed_per_vehicle, defaults.cost_per_km,
                                                         defaults.cost_per_hour)
    return Factors(
        fuel_l_per_km=settings.savings_fuel_l_per_km, co2e_kg_per_l=settings.savings_co2e_kg_per_l,
        cost_fixed_per_vehicle=settings.savings_cost_fixed_per_vehicle, cost_per_km=settings.savings_cost_per_km,
        cost_per_hour=settings.savings_cost_per_hour, collections_per_year=settings.savings_collections_per_year,
        fuel_source="set by WASTEROUTE_SAVINGS_FUEL_L_PER_KM" if fuel_changed else defaults.fuel_source,
        co2e_source="set by WASTEROUTE_SAVINGS_CO2E_KG_PER_L" if overridden else settings.savings_co2e_source,
        co2e_url="" if overridden else defaults.co2e_url,
        cost_source="set by WASTEROUTE_SAVINGS_COST_* settings" if costs_changed else defaults.cost_source)


def routes_from_answer(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``routes`` of a plan's GeoJSON answer: per vehicle, its bin, site and break
    visits in ``sequence`` order (depot visits left out: they are implied).

    Raises ``ValueError`` naming the feature at fault when a visit carries neither id.
    """
    stops: dict[str, list[tuple[int, str]]] = {}
    order: list[str] = []
    for i, feature in enumerate(answer.get("features", [])):
        props = feature.get("properties", {})
        if props.get("kind") == "route":
            order.append(props["vehicle_id"])
            stops.setdefault(props["vehicle_id"], [])
            continue
        if props.get("kind") != "visit" or props.get("type") == "depot":
            continue
        kind = props.get("type")
        stop = BREAK_STOP if kind == "break" else props.get("bin_id") or props.get("site_id")
        if not stop:
            raise ValueError(f"features[{i}]: a {kind!r} visit of {props.get('vehicle_id')!r} names no bin or site")
        stops.setdefault(props["vehicle_id"], []).append((int(props["sequence"]), stop))
    return [{"vehicle_id": v, "stops": [s for _, s in sorted(stops[v])]} for v in order]


def evaluation_body(plan: Mapping[str, Any], problem: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An evaluation body for ``plan``: ``plan`` itself when it has ``routes``; else a plan's
    GeoJSON answer joined to ``problem`` (an optimisation or evaluation body).

    Raises ``ValueError`` when a GeoJSON answer comes without a problem.
    """
    if "routes" in plan:
        return dict(plan)
    if plan.get("type") != "FeatureCollection":
        raise ValueError("a plan must be an evaluation body (with routes) or a plan's GeoJSON answer")
    if problem is None:
        raise ValueError("a plan's GeoJSON answer needs the problem it answers (an optimisation body)")
    body = {key: problem[key] for key in PROBLEM_KEYS if key in problem}
    body["routes"] = routes_from_answer(plan)
    return body


def score(label: str, body: Mapping[str, Any], network: RoadNetwork, *, settings: Settings) -> ScoredPlan:
    """Validate an evaluation body and score its routes with the evaluator. Blocking.

    Raises pydantic's ``ValidationError`` or :class:`~solver.problem.ProblemError` for a
    malformed body (the caller shapes them as a 422).
    """
    request = EvaluationRequest.model_validate(body)
    problem, options, routes = service.prepare(request, settings=settings)
    planned = pipeline.evaluate_plan(problem, network, routes, snap_limit_m=settings.snap_limit_m, options=options)
    return ScoredPlan(label=label, problem=problem, planned=planned)
