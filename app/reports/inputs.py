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


def _frequency_word(text: str) -> str | None:
    """The frequency word of :data:`ROUND_SET_FREQUENCIES` that ``text`` (a round set's name or a bin's
    ``FREQUENCY`` cell, any case) carries, if any: ``Alternate weekly`` and ``alternate-weekly`` alike."""
    lowered = text.lower().strip()
    if lowered.replace(" ", "-") in ROUND_SET_FREQUENCIES:
        return lowered.replace(" ", "-")
    words = re.split(r"[/\s_,.;:]+", lowered)
    return next((word for word in words if word in ROUND_SET_FREQUENCIES), None)


def bins_frequency(problems: Sequence[Mapping[str, object]]) -> tuple[float | None, str]:
    """Collections a year the bins' own ``frequency`` attribute (a gazetteer's FREQUENCY column, kept by
    the upload) gives, over the bins of ``problems`` (optimisation bodies; a bin counted once by id):
    the figure when every bin carries the same frequency word, else ``None``; and what was found, in
    words (for the report's source line, or why the bins could not say; empty when no bin names a
    frequency the table knows)."""
    seen: dict[str, str | None] = {}
    for problem in problems:
        bins = problem.get("bins")
        for item in bins if isinstance(bins, list) else []:
            if not isinstance(item, Mapping) or str(item.get("id")) in seen:
                continue
            attributes = item.get("attributes")
            cell = next((value for key, value in attributes.items() if str(key).lower() == "frequency"), None) \
                if isinstance(attributes, Mapping) else None
            seen[str(item.get("id"))] = _frequency_word(str(cell)) if cell not in (None, "") else None
    if not seen:
        return None, "the plans have no bins"
    counts: dict[str, int] = {}
    for word in seen.values():
        key = word if word is not None else "none"
        counts[key] = counts.get(key, 0) + 1
    found = ", ".join(f"{n} {word}" for word, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    figures = {ROUND_SET_FREQUENCIES[word] for word in seen.values() if word is not None}
    if not figures:
        return None, ""  # the bins say nothing of how often: nothing to add to the assumption
    if counts.get("none") or len(figures) != 1:
        return None, f"the bins' frequencies do not agree on one figure ({found})"
    value = figures.pop()
    return value, f"the bins' FREQUENCY: {found} ({value:g} collections a year)"


def collections_per_year(requested: float | None, round_sets: Sequence[str | None], *,
                         settings: Settings, problems: Sequence[Mapping[str, object]] = ()) -> tuple[float, str]:
    """How often the rounds run, and where that figure comes from: the request's own, else a frequency
    word in the first round set naming one (:data:`ROUND_SET_FREQUENCIES`), else the bins' own frequency
    in ``problems`` when they all agree (:func:`bins_frequency`), else the service's setting
    (``WASTEROUTE_SAVINGS_COLLECTIONS_PER_YEAR``, said to be an assumption)."""
    if requested is not None:
        return requested, f"given with the report request ({requested:g} a year)"
    for round_set in round_sets:
        word = _frequency_word(round_set or "")
        if word is not None:
            value = ROUND_SET_FREQUENCIES[word]
            return value, f"round set {round_set!r} runs {word} ({value:g} collections a year)"
    from_bins, found = bins_frequency(problems) if problems else (None, "")
    if from_bins is not None:
        return from_bins, found
    value = settings.savings_collections_per_year
    why = f"; {found}" if found else ""
    return value, (f"assumption: the service's default of {value:g} collections a year "
                   "(WASTEROUTE_SAVINGS_COLLECTIONS_PER_YEAR); neither the request (collections_per_year), "
                   f"the round set's name (weekly, fortnightly) nor the bins' frequency says how often these "
                   f"rounds run{why}")


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
