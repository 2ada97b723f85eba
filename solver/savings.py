"""The savings of a plan against a baseline (today's rounds), from two evaluations.

Pure: :func:`savings_report` takes two :class:`~solver.solution.Evaluation` (the
evaluator's figures of the plan and of the baseline, both from
:func:`solver.evaluate.evaluate`) and the :class:`Factors` that turn kilometres and
hours into litres of diesel, kg CO2e and money. Nothing is measured here: every
figure is either the evaluator's own (distance, duration, vehicles, bins, tips,
violations, the route cost at the vehicles' own rates) or that figure times a stated
factor. Units are in the names: metres, seconds, hours, litres, kg, GBP.

Rounds are matched by vehicle id. A vehicle that works in only one of the two plans
has a round of zeros in the other (``vehicles_used`` 0), so the totals of every
additive figure equal the sum of the rounds and the total delta equals the sum of the
rounds' deltas (up to floating-point rounding). Every delta is computed as
``plan - baseline``, field by field, so that identity holds exactly; a negative delta
is a saving for every figure except ``bins_served``, where more is better.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from solver.solution import Evaluation, RouteEvaluation
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

DESNZ_2025_DIESEL_CO2E_KG_PER_L = 2.57082
"""kg CO2e per litre of diesel (average biofuel blend), UK Government GHG Conversion
Factors for Company Reporting 2025 (DESNZ, published June 2025), sheet "Fuels", unit
"litres", total kg CO2e (CO2 + CH4 + N2O; direct, tank-to-wheel, scope 1)."""

DESNZ_2025_SOURCE = ("UK Government GHG Conversion Factors for Company Reporting 2025 (DESNZ), "
                     "Fuels: Diesel (average biofuel blend), litres, kg CO2e (scope 1, tank-to-wheel)")
DESNZ_2025_URL = "https://www.gov.uk/government/publications/greenhouse-gas-reporting-conversion-factors-2025"

Verdict = Literal["better", "worse", "same"]

SAME_TOLERANCE = 1e-9
"""A change smaller than this (relative to the larger magnitude, or absolute below 1e-9) is ``same``."""


@dataclass(frozen=True, slots=True)
class Factors:
    """What turns the evaluator's kilometres and hours into fuel, CO2e and money.

    - ``fuel_l_per_km``: litres of diesel a refuse collection vehicle burns per km of
      its round (collection work included: stop-start, idling and bin lifts).
    - ``co2e_kg_per_l``: kg CO2e per litre of diesel; ``co2e_source``/``co2e_url`` name
      the published factor (default: DESNZ 2025, :data:`DESNZ_2025_DIESEL_CO2E_KG_PER_L`).
    - ``cost_fixed_per_vehicle`` (GBP per vehicle per collection day: lease or
      depreciation, insurance, overheads), ``cost_per_km`` (GBP per km: fuel, tyres,
      maintenance), ``cost_per_hour`` (GBP per hour of round: the crew).
    - ``collections_per_year``: how often the rounds run (52: weekly, 26: fortnightly);
      ``collections_source`` says where that figure comes from.

    The fuel and cost defaults are stated assumptions for a 26 t diesel RCV with a
    crew of three; a council should set its own (``docs/savings.md``).
    """

    fuel_l_per_km: float = 0.6
    co2e_kg_per_l: float = DESNZ_2025_DIESEL_CO2E_KG_PER_L
    cost_fixed_per_vehicle: float = 250.0
    cost_per_km: float = 1.10
    cost_per_hour: float = 75.0
    collections_per_year: float = 52.0
    fuel_source: str = ("assumption: 0.6 l/km (about 4.7 mpg), a diesel 26 t refuse collection vehicle "
                        "on a collection round; replace with the fleet's own fuel records")
    co2e_source: str = DESNZ_2025_SOURCE
    co2e_url: str = DESNZ_2025_URL
    cost_source: str = "assumption: illustrative rates for a 26 t RCV and a crew of three; set the council's own"
    collections_source: str = "assumption: weekly rounds (52 collections a year); give the round set's own"

    def __post_init__(self) -> None:
        for name in ("fuel_l_per_km", "co2e_kg_per_l", "cost_fixed_per_vehicle", "cost_per_km", "cost_per_hour",
                     "collections_per_year"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"factors.{name} must be a finite number >= 0, got {value!r}")
        if self.collections_per_year <= 0:
            raise ValueError(f"factors.collections_per_year must be > 0, got {self.collections_per_year!r}")

    def as_dict(self) -> dict[str, Any]:
        """Every factor and its source, JSON-ready."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FigureInfo:
    """How a figure is labelled and judged: its ``unit``, whether less of it is better,
    whether it scales with the number of collections a year, whether it exists per round."""

    name: str
    label: str
    unit: str
    lower_is_better: bool = True
    yearly: bool = True
    per_round: bool = True


FIGURES: tuple[FigureInfo, ...] = (
    FigureInfo("distance_m", "Distance", "m"),
    FigureInfo("drive_s", "Drive time", "s"),
    FigureInfo("duration_s", "Round time", "s"),
    FigureInfo("working_hours", "Working hours", "h"),
    FigureInfo("paid_hours", "Crew hours paid", "h"),
    FigureInfo("vehicles_used", "Vehicles", "vehicles", yearly=False),
    FigureInfo("trips", "Tip trips", "trips"),
    FigureInfo("fuel_l", "Fuel", "l"),
    FigureInfo("co2e_kg", "CO2e", "kg"),
    FigureInfo("cost_gbp", "Cost at the report's rates", "GBP"),
    FigureInfo("cost", "Route cost at the vehicles' own rates", "cost units"),
    FigureInfo("bins_served", "Bins served", "bins", lower_is_better=False, yearly=False),
    FigureInfo("bins_unassigned", "Bins not served", "bins", yearly=False, per_round=False),
    FigureInfo("violations", "Rules broken", "violations", yearly=False),
)
"""Every figure of the report, in the order it is shown."""

FIGURE_INFO = {f.name: f for f in FIGURES}


@dataclass(frozen=True, slots=True)
class Figures:
    """One set of figures: a round, or a whole plan for one collection (or a year of them).

    ``working_hours`` = ``duration_s`` / 3600 (vehicle hours from leaving the depot to
    coming back); ``paid_hours`` the crew's hours paid: per round the longer of its
    working hours and the vehicle's paid shift (a crew back early is still paid its shift),
    the working hours where no shift is known; ``drive_s`` the part of the round spent
    driving (the evaluator's legs); ``fuel_l`` = km x ``fuel_l_per_km``; ``co2e_kg`` =
    ``fuel_l`` x ``co2e_kg_per_l``; ``cost_gbp`` = ``cost_fixed_per_vehicle`` x vehicles +
    ``cost_per_km`` x km + ``cost_per_hour`` x paid hours; ``cost`` the evaluator's route
    cost at each vehicle's own rates. ``bins_served`` leaves out the bins a round cannot
    reach (a ``no_path`` leg to them). ``bins_unassigned`` is ``None`` for a round (it
    belongs to no round).
    """

    distance_m: float
    drive_s: float
    duration_s: float
    working_hours: float
    paid_hours: float
    vehicles_used: int
    trips: int
    fuel_l: float
    co2e_kg: float
    cost_gbp: float
    cost: float
    bins_served: int
    violations: int
    bins_unassigned: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The figures by name (``bins_unassigned`` left out for a round)."""
        out = asdict(self)
        if self.bins_unassigned is None:
            del out["bins_unassigned"]
        return out

    def minus(self, other: Figures) -> Figures:
        """``self - other``, figure by figure (``bins_unassigned`` only when both have it)."""
        values = {f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)
                  if f.name != "bins_unassigned"}
        unassigned = (None if self.bins_unassigned is None or other.bins_unassigned is None
                      else self.bins_unassigned - other.bins_unassigned)
        return Figures(**values, bins_unassigned=unassigned)

    def per_year(self, collections_per_year: float) -> dict[str, float]:
        """The figures that add up over collections, times ``collections_per_year``."""
        return {f.name: getattr(self, f.name) * collections_per_year for f in FIGURES if f.yearly}


def _money(factors: Factors, *, vehicles: int, distance_m: float, paid_s: float) -> float:
    """Cost at the factors' rates, GBP (the crew priced on ``paid_s`` seconds paid)."""
    return (factors.cost_fixed_per_vehicle * vehicles + factors.cost_per_km * distance_m / METRES_PER_KM
            + factors.cost_per_hour * paid_s / SECONDS_PER_HOUR)


def _figures(factors: Factors, *, distance_m: float, drive_s: float, duration_s: float, paid_s: float,
             vehicles_used: int, trips: int, cost: float, bins_served: int, violations: int,
             bins_unassigned: int | None = None) -> Figures:
    """Figures from the evaluator's own, with fuel, CO2e and money at ``factors``."""
    fuel_l = distance_m / METRES_PER_KM * factors.fuel_l_per_km
    return Figures(
        distance_m=distance_m, drive_s=drive_s, duration_s=duration_s, working_hours=duration_s / SECONDS_PER_HOUR,
        paid_hours=paid_s / SECONDS_PER_HOUR, vehicles_used=vehicles_used, trips=trips, fuel_l=fuel_l,
        co2e_kg=fuel_l * factors.co2e_kg_per_l,
        cost_gbp=_money(factors, vehicles=vehicles_used, distance_m=distance_m, paid_s=paid_s),
        cost=cost, bins_served=bins_served, violations=violations, bins_unassigned=bins_unassigned)


def drive_s(route: RouteEvaluation) -> float:
    """Seconds the route spends driving: the sum of its legs (waiting, service, tips and breaks excluded)."""
    return sum((v.leg_duration_s for v in route.visits), 0.0)


def unreachable_bins(route: RouteEvaluation) -> set[str]:
    """Bins of the round it has no path to (a ``no_path`` leg ending at them): visited on paper only."""
    bins = {v.location_id for v in route.visits if v.type == "bin"}
    return {v.stop for v in route.violations if v.type == "no_path" and v.stop in bins}


def paid_s(route: RouteEvaluation, paid_shift_s: Mapping[str, float] | None) -> float:
    """Seconds the round's crew is paid: the longer of the round and the vehicle's paid shift
    (the round's own time where no shift is known)."""
    shift = (paid_shift_s or {}).get(route.vehicle_id, 0.0)
    return max(route.duration_s, shift)


def round_figures(route: RouteEvaluation, factors: Factors, paid_shift_s: Mapping[str, float] | None = None
                  ) -> Figures:
    """The figures of one evaluated round (crew hours paid at ``paid_shift_s``, seconds by vehicle id)."""
    return _figures(factors, distance_m=route.distance_m, drive_s=drive_s(route), duration_s=route.duration_s,
                    paid_s=paid_s(route, paid_shift_s), vehicles_used=1, trips=route.trips, cost=route.cost,
                    bins_served=route.n_bins - len(unreachable_bins(route)), violations=len(route.violations))


def no_round(factors: Factors) -> Figures:
    """The figures of a vehicle that does not work: all zero."""
    return _figures(factors, distance_m=0.0, drive_s=0.0, duration_s=0.0, paid_s=0.0, vehicles_used=0, trips=0,
                    cost=0.0, bins_served=0, violations=0)


def plan_figures(evaluation: Evaluation, factors: Factors, paid_shift_s: Mapping[str, float] | None = None
                 ) -> Figures:
    """The figures of a whole plan for one collection: the evaluator's summary, plus drive time,
    crew hours paid, fuel, CO2e and money; bins the rounds cannot reach are not served."""
    s = evaluation.summary
    unreachable = sum(len(unreachable_bins(r)) for r in evaluation.routes)
    return _figures(factors, distance_m=s.distance_m, drive_s=sum((drive_s(r) for r in evaluation.routes), 0.0),
                    duration_s=s.duration_s, paid_s=sum((paid_s(r, paid_shift_s) for r in evaluation.routes), 0.0),
                    vehicles_used=s.vehicles_used, trips=s.trips, cost=s.cost, bins_served=s.bins_served - unreachable,
                    violations=s.violations, bins_unassigned=s.bins_unassigned)


@dataclass(frozen=True, slots=True)
class RoundComparison:
    """One vehicle's round in the baseline and in the plan, and ``delta = plan - baseline``."""

    vehicle_id: str
    baseline: Figures
    plan: Figures
    delta: Figures

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"vehicle_id": self.vehicle_id, "baseline": self.baseline.as_dict(), "plan": self.plan.as_dict(),
                "delta": self.delta.as_dict()}


@dataclass(frozen=True, slots=True)
class Change:
    """How one figure moved from the baseline to the plan: ``delta = plan - baseline``,
    ``pct`` of the baseline (``None`` when the baseline is 0), and whether that is
    ``better``, ``worse`` or the ``same``. ``vehicle_id`` is ``None`` for the totals."""

    figure: str
    label: str
    unit: str
    baseline: float
    plan: float
    delta: float
    pct: float | None
    verdict: Verdict
    vehicle_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def verdict(figure: str, delta: float, *, scale: float) -> Verdict:
    """``better``/``worse``/``same`` for a ``delta`` of ``figure`` (``scale``: the larger magnitude)."""
    if abs(delta) <= max(SAME_TOLERANCE, SAME_TOLERANCE * abs(scale)):
        return "same"
    lower = FIGURE_INFO[figure].lower_is_better
    return "better" if (delta < 0) == lower else "worse"


def changes(baseline: Figures, plan: Figures, delta: Figures, *, vehicle_id: str | None = None) -> list[Change]:
    """A :class:`Change` per figure present in both, in :data:`FIGURES` order."""
    out = []
    for info in FIGURES:
        b, p, d = getattr(baseline, info.name), getattr(plan, info.name), getattr(delta, info.name)
        if b is None or p is None or d is None:
            continue
        pct = None if b == 0 else 100.0 * d / abs(b)
        out.append(Change(figure=info.name, label=info.label, unit=info.unit, baseline=b, plan=p, delta=d, pct=pct,
                          verdict=verdict(info.name, d, scale=max(abs(b), abs(p))), vehicle_id=vehicle_id))
    return out


@dataclass(frozen=True, slots=True)
class SavingsReport:
    """A plan against its baseline, per round and in total, per collection and per year.

    ``plan``/``baseline``/``delta`` are the totals of one collection; ``rounds`` one
    :class:`RoundComparison` per vehicle working in either plan (baseline's order,
    then vehicles new in the plan); ``per_year`` the yearly figures
    (``{"plan", "baseline", "delta"}``, each times ``factors.collections_per_year``).
    ``notes`` are plain warnings a reader must see (bins the plan leaves out that the
    baseline served, rules either plan breaks).
    """

    plan: Figures
    baseline: Figures
    delta: Figures
    rounds: tuple[RoundComparison, ...]
    factors: Factors
    per_year: dict[str, dict[str, float]]
    notes: tuple[str, ...] = field(default=())

    def changes(self) -> list[Change]:
        """How each total moved (per collection)."""
        return changes(self.baseline, self.plan, self.delta)

    def round_changes(self) -> list[Change]:
        """How each figure of each round moved."""
        return [c for r in self.rounds for c in changes(r.baseline, r.plan, r.delta, vehicle_id=r.vehicle_id)]

    def better(self) -> list[Change]:
        """Totals that improved."""
        return [c for c in self.changes() if c.verdict == "better"]

    def worse(self) -> list[Change]:
        """Totals that got worse: shown as prominently as :meth:`better`."""
        return [c for c in self.changes() if c.verdict == "worse"]

    def as_dict(self) -> dict[str, Any]:
        """The API's report JSON: ``{"plan", "baseline", "delta", "rounds", "factors"}`` plus
        ``per_year``, ``figures`` (labels and units), ``better``, ``worse`` and ``notes``."""
        return {
            "plan": self.plan.as_dict(),
            "baseline": self.baseline.as_dict(),
            "delta": self.delta.as_dict(),
            "rounds": [r.as_dict() for r in self.rounds],
            "factors": self.factors.as_dict(),
            "per_year": self.per_year,
            "figures": [asdict(f) for f in FIGURES],
            "better": [c.as_dict() for c in self.better()],
            "worse": [c.as_dict() for c in self.worse()],
            "notes": list(self.notes),
        }


def _round_order(plan: Evaluation, baseline: Evaluation) -> list[str]:
    """Vehicle ids of every round: the baseline's first, then those new in the plan."""
    ids = [r.vehicle_id for r in baseline.routes]
    ids += [r.vehicle_id for r in plan.routes if r.vehicle_id not in set(ids)]
    return ids


def _notes(plan: Evaluation, baseline: Evaluation) -> list[str]:
    """Warnings the figures alone would hide."""
    notes = []
    served = {v.location_id for r in plan.routes for v in r.visits if v.type == "bin"}
    was_served = {v.location_id for r in baseline.routes for v in r.visits if v.type == "bin"}
    dropped = sorted(was_served - served)
    if dropped:
        shown = ", ".join(dropped[:10]) + (", ..." if len(dropped) > 10 else "")
        notes.append(f"the plan does not serve {len(dropped)} bin(s) the baseline served ({shown}): "
                     "savings are not like for like")
    added = len(served - was_served)
    if added:
        notes.append(f"the plan serves {added} bin(s) the baseline did not")
    for name, evaluation in (("baseline", baseline), ("plan", plan)):
        if evaluation.summary.violations:
            kinds = sorted({v.type for r in evaluation.routes for v in r.violations})
            notes.append(f"the {name} breaks {evaluation.summary.violations} rule(s) ({', '.join(kinds)}): "
                         "its figures describe rounds that cannot be driven as planned")
        unreachable = sorted(b for r in evaluation.routes for b in unreachable_bins(r))
        if unreachable:
            shown = ", ".join(unreachable[:10]) + (", ..." if len(unreachable) > 10 else "")
            notes.append(f"the {name} cannot reach {len(unreachable)} of its bin(s) ({shown}): they are not "
                         "counted as served")
    notes.extend(_baseline_warnings(plan, baseline))
    return notes


MANY_RULES_PER_ROUND = 1.0
"""A baseline breaking more rules than this per round on average breaks many: a warning."""

STRAW_MAN_RATIO = 1.5
"""A baseline this many times longer (distance or round time) than the plan on the same bins: a warning."""


def _baseline_warnings(plan: Evaluation, baseline: Evaluation) -> list[str]:
    """Warnings that the baseline may not be a fair yardstick: many rules broken, or far longer than the
    plan on the same bins (a straw man makes any plan look good)."""
    warnings = []
    rounds = max(1, len(baseline.routes))
    broken = baseline.summary.violations
    if broken > MANY_RULES_PER_ROUND * rounds:
        warnings.append(f"warning: the baseline breaks {broken} rules on {len(baseline.routes)} round(s), more "
                        f"than {MANY_RULES_PER_ROUND:g} a round: check it is the rounds crews drive today before "
                        "quoting any saving")
    served = {v.location_id for r in plan.routes for v in r.visits if v.type == "bin"}
    was_served = {v.location_id for r in baseline.routes for v in r.visits if v.type == "bin"}
    if not was_served or not was_served <= served:
        return warnings
    for label, base, mine, unit in (("distance", baseline.summary.distance_m, plan.summary.distance_m, "km"),
                                    ("round time", baseline.summary.duration_s, plan.summary.duration_s, "h")):
        if mine > 0 and base > STRAW_MAN_RATIO * mine:
            scale = METRES_PER_KM if unit == "km" else SECONDS_PER_HOUR
            warnings.append(f"warning: the baseline's {label} ({base / scale:,.1f} {unit}) is {base / mine:.1f} "
                            f"times the plan's ({mine / scale:,.1f} {unit}) on the same bins: it may be a straw "
                            "man rather than today's rounds; a saving this large needs checking")
    return warnings


def savings_report(plan: Evaluation, baseline: Evaluation, factors: Factors | None = None, *,
                   paid_shift_s: Mapping[str, float] | None = None) -> SavingsReport:
    """The savings of ``plan`` against ``baseline`` (both evaluations of the same problem's bins).

    Every figure comes from the two evaluations and ``factors`` (defaults:
    :class:`Factors`); ``delta = plan - baseline`` everywhere. ``paid_shift_s`` gives each
    vehicle's paid shift in seconds, on which its crew's hours are priced (the round's own
    time where none is given).
    """
    factors = factors if factors is not None else Factors()
    plan_rounds = {r.vehicle_id: r for r in plan.routes}
    base_rounds = {r.vehicle_id: r for r in baseline.routes}
    rounds = []
    for vehicle_id in _round_order(plan, baseline):
        p = (round_figures(plan_rounds[vehicle_id], factors, paid_shift_s) if vehicle_id in plan_rounds
             else no_round(factors))
        b = (round_figures(base_rounds[vehicle_id], factors, paid_shift_s) if vehicle_id in base_rounds
             else no_round(factors))
        rounds.append(RoundComparison(vehicle_id=vehicle_id, baseline=b, plan=p, delta=p.minus(b)))
    plan_total = plan_figures(plan, factors, paid_shift_s)
    base_total = plan_figures(baseline, factors, paid_shift_s)
    n = factors.collections_per_year
    yearly_plan, yearly_base = plan_total.per_year(n), base_total.per_year(n)
    per_year = {"plan": yearly_plan, "baseline": yearly_base,
                "delta": {k: yearly_plan[k] - yearly_base[k] for k in yearly_plan}}
    return SavingsReport(plan=plan_total, baseline=base_total, delta=plan_total.minus(base_total), rounds=tuple(rounds),
                         factors=factors, per_year=per_year, notes=tuple(_notes(plan, baseline)))

