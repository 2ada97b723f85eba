"""Realised savings: what the lorries actually drove before a change against after it, over days.

Pure. Each actual day is a day's rounds as driven, scored by the one evaluator into
:class:`~solver.savings.Figures` (:func:`solver.savings.plan_figures`), with the waste it
collected (kg) and the households it served. :func:`realised_savings` compares a period of
such days before the change (say four weeks on the old rounds) with a period after it:

- per collection day: the mean of each figure before and after, ``delta = after - before``
  (a negative delta is a saving, except for bins collected), and the day-to-day spread as a
  confidence interval of the delta by bootstrap over the days of each period
  (``scipy.stats.bootstrap``, the two periods resampled independently, BCa);
- per year: the delta times the collection days a year (``collection_days_per_year``);
- normalised: each additive figure per tonne collected and per household served, before and
  after, so that a period with more waste (Christmas, the garden season) is not read as a
  worse round;
- beside the modelled saving, when the approved plan's promise is given (its
  :class:`~solver.savings.SavingsReport` ``delta`` per collection day): realised less modelled,
  and notes saying where the difference comes from as far as the figures show it;
- what got worse, listed as prominently as what got better.

Units are in the names, as in :mod:`solver.savings`: metres, seconds, hours, litres, kg, GBP.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import numpy as np
from scipy import stats

from solver.savings import FIGURE_INFO, Figures, Verdict, verdict

COMPARED = ("distance_m", "duration_s", "paid_hours", "vehicles_used", "trips", "fuel_l", "co2e_kg", "cost_gbp",
            "bins_served", "violations")
"""The figures a realised-savings report compares, in the order shown (see :data:`solver.savings.FIGURES`)."""

NORMALISED = ("distance_m", "duration_s", "paid_hours", "fuel_l", "co2e_kg", "cost_gbp")
"""The figures also given per tonne collected and per household served."""

RESAMPLES = 9999
"""Bootstrap resamples of the days."""

CONFIDENCE = 0.95
"""Confidence of the intervals."""


@dataclass(frozen=True, slots=True)
class ScoredDay:
    """One day's rounds as driven: ``figures`` by the one evaluator, ``collected_kg`` the waste it
    took to the tip (weighbridge or lift weights), ``households`` the households it served,
    ``order_followed`` each round's share (0..1) of its bins collected in the planned order (vehicle
    id -> share; :mod:`solver.traces.order`), for the rounds whose plan was named."""

    day: date
    figures: Figures
    collected_kg: float
    households: int
    order_followed: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Interval:
    """A confidence interval ``[low, high]`` at ``confidence`` (0..1)."""

    low: float
    high: float
    confidence: float


@dataclass(frozen=True, slots=True)
class RealisedFigure:
    """One figure before and after, per collection day, with its spread, per year and normalised.

    ``delta = after - before`` (per collection day); ``delta_interval`` its bootstrap interval
    (``None`` with fewer than two days in a period); ``per_year`` and ``per_year_interval`` the
    same times the collection days a year (``None`` for figures that do not add up over days,
    such as vehicles); ``per_tonne_*`` and ``per_household_*`` the period's total over its tonnes
    and households (``None`` when not normalised or nothing was collected); ``modelled`` the
    approved plan's promised delta and ``gap = delta - modelled`` when it was given.
    """

    figure: str
    label: str
    unit: str
    before: float
    after: float
    delta: float
    pct: float | None
    verdict: Verdict
    delta_interval: Interval | None
    per_year: float | None
    per_year_interval: Interval | None
    per_tonne_before: float | None
    per_tonne_after: float | None
    per_household_before: float | None
    per_household_after: float | None
    modelled: float | None
    gap: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RoundOrder:
    """A round's share (0..1) of its bins collected in the planned order, the mean over the days of
    each period that hold it (``None``: none does), and those days."""

    vehicle_id: str
    before: float | None
    after: float | None
    before_days: int
    after_days: int


@dataclass(frozen=True, slots=True)
class RealisedReport:
    """Before against after: the figures, what got better and worse, and notes on what explains them."""

    before_days: int
    after_days: int
    before_period: tuple[date, date]
    after_period: tuple[date, date]
    collection_days_per_year: float
    figures: tuple[RealisedFigure, ...]
    notes: tuple[str, ...]
    order_followed: tuple[RoundOrder, ...] = ()

    @property
    def worse(self) -> tuple[RealisedFigure, ...]:
        """The figures that got worse, first among what the report shows."""
        return tuple(f for f in self.figures if f.verdict == "worse")

    @property
    def better(self) -> tuple[RealisedFigure, ...]:
        """The figures that got better."""
        return tuple(f for f in self.figures if f.verdict == "better")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: the figures, then the names of those worse and better, and the notes."""
        return {"before_days": self.before_days, "after_days": self.after_days,
                "before_period": [d.isoformat() for d in self.before_period],
                "after_period": [d.isoformat() for d in self.after_period],
                "collection_days_per_year": self.collection_days_per_year,
                "figures": [f.as_dict() for f in self.figures],
                "worse": [f.figure for f in self.worse], "better": [f.figure for f in self.better],
                "notes": list(self.notes), "order_followed": [asdict(r) for r in self.order_followed]}


def _values(days: Sequence[ScoredDay], figure: str) -> np.ndarray:
    """A figure of each day."""
    return np.array([float(getattr(d.figures, figure)) for d in days])


def _interval(before: np.ndarray, after: np.ndarray, *, confidence: float, resamples: int, seed: int,
              scale: float = 1.0) -> Interval | None:
    """The bootstrap interval of ``mean(after) - mean(before)`` times ``scale``; ``None`` with fewer than
    two days in a period (no spread to resample)."""
    if len(before) < 2 or len(after) < 2:
        return None
    if np.ptp(before) == 0 and np.ptp(after) == 0:  # every day alike: no spread, the interval is the point
        point = float(after.mean() - before.mean()) * scale
        return Interval(point, point, confidence)

    def difference(b: np.ndarray, a: np.ndarray, axis: int) -> np.ndarray:
        return np.mean(a, axis=axis) - np.mean(b, axis=axis)

    result = stats.bootstrap((before, after), difference, vectorized=True, paired=False,
                             confidence_level=confidence, n_resamples=resamples,
                             rng=np.random.default_rng(seed))
    low, high = (float(x) * scale for x in (result.confidence_interval.low, result.confidence_interval.high))
    if not (math.isfinite(low) and math.isfinite(high)):  # BCa cannot be had of a degenerate sample
        return None
    return Interval(low, high, confidence)


def _per(total: float, amount: float) -> float | None:
    """``total / amount``, ``None`` when nothing was collected."""
    return total / amount if amount > 0 else None


def _notes(before: Sequence[ScoredDay], after: Sequence[ScoredDay], figures: Sequence[RealisedFigure]) -> list[str]:
    """What the figures themselves say about the difference from the modelled saving and about the periods."""
    notes = []
    kg_before = sum(d.collected_kg for d in before) / len(before)
    kg_after = sum(d.collected_kg for d in after) / len(after)
    if kg_before > 0 and abs(kg_after / kg_before - 1.0) > 0.05:
        notes.append(f"The after period collected {100.0 * (kg_after / kg_before - 1.0):+.0f} % waste a day "
                     f"({kg_before / 1000:.1f} t against {kg_after / 1000:.1f} t): compare the figures per tonne.")
    homes_before = sum(d.households for d in before) / len(before)
    homes_after = sum(d.households for d in after) / len(after)
    if homes_before > 0 and abs(homes_after / homes_before - 1.0) > 0.02:
        notes.append(f"The after period served {100.0 * (homes_after / homes_before - 1.0):+.1f} % households a "
                     "day: compare the figures per household.")
    for f in figures:
        if f.gap is None or f.modelled is None or f.modelled == 0:
            continue
        inside = f.delta_interval is not None and f.delta_interval.low <= f.modelled <= f.delta_interval.high
        if inside:
            notes.append(f"{f.label}: the modelled change ({f.modelled:+.1f} {f.unit} a day) lies within the "
                         "day-to-day spread of the realised one.")
        elif FIGURE_INFO[f.figure].lower_is_better == (f.gap > 0):
            notes.append(f"{f.label}: realised {f.delta:+.1f} {f.unit} a day, short of the modelled "
                         f"{f.modelled:+.1f} by {abs(f.gap):.1f}.")
        else:
            notes.append(f"{f.label}: realised {f.delta:+.1f} {f.unit} a day, beyond the modelled "
                         f"{f.modelled:+.1f} by {abs(f.gap):.1f}.")
    return notes


def orders_followed(before: Sequence[ScoredDay], after: Sequence[ScoredDay]) -> tuple[RoundOrder, ...]:
    """Each round's mean share of bins collected in the planned order, before and after (by vehicle id)."""
    def mean(days: Sequence[ScoredDay], vehicle_id: str) -> tuple[float | None, int]:
        shares = [d.order_followed[vehicle_id] for d in days if vehicle_id in d.order_followed]
        return (float(np.mean(shares)) if shares else None), len(shares)

    vehicles = sorted({v for d in (*before, *after) for v in d.order_followed})
    out = []
    for v in vehicles:
        (b, nb), (a, na) = mean(before, v), mean(after, v)
        out.append(RoundOrder(v, b, a, nb, na))
    return tuple(out)


def realised_savings(before: Sequence[ScoredDay], after: Sequence[ScoredDay], *, collection_days_per_year: float,
                     modelled: Figures | None = None, confidence: float = CONFIDENCE, resamples: int = RESAMPLES,
                     seed: int = 0) -> RealisedReport:
    """Actual days ``before`` a change against ``after`` it (see the module docstring).

    ``collection_days_per_year``: the days a year the rounds compared run (a weekly round set
    of one day: 52; a whole week's rounds, Monday to Friday: 260). ``modelled``: the approved
    plan's promised change per collection day (a :class:`~solver.savings.SavingsReport`'s
    ``delta``). Raises :class:`ValueError` for an empty period or a non-positive days a year.
    """
    if not before or not after:
        raise ValueError("a realised saving needs at least one actual day before and one after the change")
    if not (math.isfinite(collection_days_per_year) and collection_days_per_year > 0):
        raise ValueError(f"collection_days_per_year must be > 0, got {collection_days_per_year!r}")
    tonnes_before = sum(d.collected_kg for d in before) / 1000.0
    tonnes_after = sum(d.collected_kg for d in after) / 1000.0
    homes_before = sum(d.households for d in before)
    homes_after = sum(d.households for d in after)
    out = []
    for name in COMPARED:
        info = FIGURE_INFO[name]
        b, a = _values(before, name), _values(after, name)
        mean_b, mean_a = float(b.mean()), float(a.mean())
        delta = mean_a - mean_b
        interval = _interval(b, a, confidence=confidence, resamples=resamples, seed=seed)
        yearly = info.yearly
        normalised = name in NORMALISED
        promised = float(getattr(modelled, name)) if modelled is not None else None
        out.append(RealisedFigure(
            figure=name, label=info.label, unit=info.unit, before=mean_b, after=mean_a, delta=delta,
            pct=None if mean_b == 0 else 100.0 * delta / abs(mean_b),
            verdict=verdict(name, delta, scale=max(abs(mean_b), abs(mean_a))), delta_interval=interval,
            per_year=delta * collection_days_per_year if yearly else None,
            per_year_interval=(Interval(interval.low * collection_days_per_year,
                                        interval.high * collection_days_per_year, confidence)
                               if yearly and interval is not None else None),
            per_tonne_before=_per(float(b.sum()), tonnes_before) if normalised else None,
            per_tonne_after=_per(float(a.sum()), tonnes_after) if normalised else None,
            per_household_before=_per(float(b.sum()), homes_before) if normalised else None,
            per_household_after=_per(float(a.sum()), homes_after) if normalised else None,
            modelled=promised, gap=None if promised is None else delta - promised))
    return RealisedReport(before_days=len(before), after_days=len(after),
                          before_period=(min(d.day for d in before), max(d.day for d in before)),
                          after_period=(min(d.day for d in after), max(d.day for d in after)),
                          collection_days_per_year=collection_days_per_year, figures=tuple(out),
                          notes=tuple(_notes(before, after, out)), order_followed=orders_followed(before, after))
