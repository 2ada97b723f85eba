"""Reproduce a stored plan: do its figures come out the same from its inputs today?

Three checks, each shown figure by figure (``wasteroute reproduce PLAN_ID``):

1. **Inputs**: the stored problem still hashes to the plan's ``inputs_hash``.
2. **Evaluation**: the plan's routes, scored again by the evaluator on the stored
   inputs, give every stored figure exactly (summary and each round).
3. **Re-optimisation** (optimised plans): the stored inputs solved again with the
   stored parameters, engine and seed give the same rounds and figures. A search
   stopped by its time limit may go further or less far on another machine or under
   another load, so a difference here is reported, not hidden; check 2 does not
   depend on it.

Library versions then and now are listed side by side. The store does not record
which road network a plan was made on: the configured one is used and named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from app import store
from app.core.config import Settings
from app.core.json_types import JSONObject
from app.reports.inputs import PROBLEM_KEYS, routes_from_answer
from app.reports.stored import StoredPlan
from app.schemas import EvaluationRequest, OptimisationRequest, OptimisationResponse, RouteFeature
from app.services import evaluation as evaluation_service
from app.services import optimisation as optimisation_service

if TYPE_CHECKING:
    from solver.network import RoadNetwork

OPTION_KEYS = frozenset({"time_limit_s", "seed", "engine", "objective", "move_penalty", "initial_routes",
                         "balance", "balance_tolerance", "compact", "fix_directions"})
"""Stored parameters that are search options (a batch also stores notes such as the night)."""

UNSHAPED = {"balance": False, "compact": False}
"""The shape options of a plan stored before they existed: it was solved without them."""

ROUTE_FIGURES = ("distance_m", "duration_s", "load_kg", "load_l", "n_bins", "trips", "cost")

Figure: TypeAlias = "float | str | list[str] | None"
"""A figure as compared: a number (metres, seconds, kg, litres, money, a count), a hash or a
library version, a round's stops; ``None`` where one side does not have it."""


@dataclass(frozen=True, slots=True)
class FigureCheck:
    """One figure stored with the plan and the same figure computed now."""

    name: str
    stored: Figure
    now: Figure

    @property
    def match(self) -> bool:
        """Exactly equal (numbers as numbers: 3 == 3.0)."""
        return bool(self.stored == self.now)


@dataclass(frozen=True)
class Reproduction:
    """The outcome of the three checks for plan ``plan_id``."""

    plan_id: str
    network: str
    inputs_hash: FigureCheck
    evaluation: list[FigureCheck]
    reoptimisation: list[FigureCheck] | None
    libraries: list[FigureCheck] = field(default_factory=list)

    @property
    def evaluation_matches(self) -> bool:
        """Every stored figure is what the evaluator gives for the stored routes today."""
        return self.inputs_hash.match and all(c.match for c in self.evaluation)

    @property
    def reoptimisation_matches(self) -> bool | None:
        """The re-run gives the same rounds and figures (``None``: not an optimised plan)."""
        return None if self.reoptimisation is None else all(c.match for c in self.reoptimisation)

    @property
    def matches(self) -> bool:
        """Both checks that apply pass."""
        return self.evaluation_matches and self.reoptimisation_matches is not False

    def as_dict(self) -> dict[str, object]:
        """JSON-ready, with each check's verdict."""
        def rows(checks: list[FigureCheck]) -> list[dict[str, object]]:
            return [{"figure": c.name, "stored": c.stored, "now": c.now, "match": c.match} for c in checks]

        return {"plan_id": self.plan_id, "network": self.network, "matches": self.matches,
                "inputs_hash": rows([self.inputs_hash])[0],
                "evaluation": {"matches": self.evaluation_matches, "figures": rows(self.evaluation)},
                "reoptimisation": None if self.reoptimisation is None else {
                    "matches": self.reoptimisation_matches, "figures": rows(self.reoptimisation)},
                "libraries": rows(self.libraries)}


def answer_figures(answer: OptimisationResponse) -> dict[str, Figure]:
    """Every figure of a plan's answer by name: ``summary.*``, ``unassigned``, and per round
    ``<vehicle>.<figure>``, its ``violations`` count and its ``stops``.

    The summary's ``balance`` and ``compactness`` groups are left out: they follow from the
    rounds checked here, and plans stored before they existed would otherwise never match; so
    is ``relaxed``, which says how a solve went, not what its rounds are (an evaluation of the
    same rounds has none).
    """
    figures: dict[str, Figure] = {f"summary.{k}": v for k, v in answer.summary.model_dump().items()
                                  if v is not None and not isinstance(v, dict) and k != "relaxed"}
    figures["unassigned"] = len(answer.unassigned)
    for feature in answer.features:
        if not isinstance(feature, RouteFeature):
            continue
        props = feature.properties
        vid = props.vehicle_id
        figures.update({f"{vid}.{name}": getattr(props, name) for name in ROUTE_FIGURES})
        figures[f"{vid}.violations"] = len(props.violations)
    for route in routes_from_answer(answer):
        figures[f"{route.vehicle_id}.stops"] = route.stops
    return figures


def compare(stored: dict[str, Figure], now: dict[str, Figure]) -> list[FigureCheck]:
    """A check per figure in either answer (absent on one side: ``None``)."""
    names = list(dict.fromkeys([*stored, *now]))
    return [FigureCheck(name, stored.get(name), now.get(name)) for name in names]


def _problem_body(plan: StoredPlan) -> JSONObject:
    """The stored problem without any routes: the optimisation body."""
    return {key: plan.problem_body[key] for key in PROBLEM_KEYS if key in plan.problem_body}


def _reoptimise(plan: StoredPlan, network: RoadNetwork, settings: Settings) -> OptimisationResponse:
    """The stored inputs solved again with the plan's stored options, engine and seed (and the
    territories its approved plan fixed, as stored; balance and compact off for a plan stored
    before they existed)."""
    body = _problem_body(plan)
    stored = {key: value for key, value in plan.parameters.items()
              if key in OPTION_KEYS and (key != "initial_routes" or isinstance(value, list))}
    given = body.get("options")
    options: JSONObject = {**UNSHAPED, **(given if isinstance(given, dict) else {}), **stored}
    if plan.engine is not None:
        options["engine"] = plan.engine
    if plan.seed is not None:
        options["seed"] = plan.seed
    body["options"] = options
    request = OptimisationRequest.model_validate(body)
    problem = optimisation_service.to_problem(request)
    fixed = plan.parameters.get("territories")
    territories = tuple((str(pair[0]), str(pair[1])) for pair in fixed
                        if isinstance(pair, list) and len(pair) == 2) if isinstance(fixed, list) else ()
    solve_options = optimisation_service.to_solve_options(
        request.options, default_time_limit_s=settings.default_time_limit_s, max_time_limit_s=math.inf,
        territories=territories, **optimisation_service.road_defaults(settings))
    return optimisation_service.solve(problem, solve_options, network, snap_limit_m=settings.snap_limit_m)


def reproduce(plan: StoredPlan, network: RoadNetwork, settings: Settings, *, reoptimise: bool = True) -> Reproduction:
    """Run the three checks on ``plan`` with ``network``. Blocking (the re-run solves)."""
    stored = answer_figures(plan.answer)
    request = EvaluationRequest.model_validate(plan.body)
    evaluated = evaluation_service.evaluate_request(request, network, settings=settings)
    evaluation = compare(stored, answer_figures(evaluated))
    rerun = None
    if reoptimise and plan.source != "manual":
        rerun = compare(stored, answer_figures(_reoptimise(plan, network, settings)))
    now_libraries = store.library_versions()
    libraries = [FigureCheck(name, plan.library_versions.get(name), now_libraries.get(name))
                 for name in dict.fromkeys([*plan.library_versions, *now_libraries])]
    return Reproduction(plan_id=plan.id, network=network.name,
                        inputs_hash=FigureCheck("inputs_hash", plan.inputs_hash, store.content_hash(plan.problem_body)),
                        evaluation=evaluation, reoptimisation=rerun, libraries=libraries)


def describe(result: Reproduction) -> str:
    """The outcome in words and tables, for the command line."""
    def table(checks: list[FigureCheck], *, only_differences: bool = False) -> list[str]:
        shown = [c for c in checks if not (only_differences and c.match)]
        return [f"  {'ok  ' if c.match else 'DIFF'} {c.name}: stored {c.stored!r}, now {c.now!r}" for c in shown]

    lines = [f"plan {result.plan_id} on network {result.network} (the store does not record the plan's network)"]
    lines.append(f"inputs hash: {'matches' if result.inputs_hash.match else 'DIFFERS'} "
                 f"({result.inputs_hash.stored} stored, {result.inputs_hash.now} now)")
    figures = [c for c in result.evaluation if not c.name.endswith(".stops")]
    verdict = "every figure matches" if result.evaluation_matches else "FIGURES DIFFER"
    lines.append(f"evaluation of the stored routes: {verdict} "
                 f"({sum(c.match for c in figures)} of {len(figures)} figures identical)")
    lines += table(figures, only_differences=result.evaluation_matches)
    if result.reoptimisation is None:
        lines.append("re-optimisation: not applicable (a plan made by a person)")
    else:
        same = result.reoptimisation_matches
        lines.append(f"re-optimisation with the stored parameters, engine and seed: "
                     f"{'same rounds and figures' if same else 'DIFFERENT rounds or figures'}")
        lines += table(result.reoptimisation, only_differences=True)
    changed = [c for c in result.libraries if not c.match]
    lines.append("library versions: " + ("as stored" if not changed else "CHANGED since the plan was made"))
    lines += table(changed)
    lines.append("REPRODUCED" if result.matches else "NOT REPRODUCED")
    return "\n".join(lines)
