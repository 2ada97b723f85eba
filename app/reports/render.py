"""A savings report as HTML (Jinja2, printable), JSON and CSV.

:func:`build` scores nothing itself: it takes two :class:`~app.reports.inputs.ScoredPlan`
(each already evaluated by the one evaluator), makes the
:class:`~solver.savings.SavingsReport` and the pictures, and keeps the facts about
where the plans came from (:class:`ReportMeta`). The three renderers show the same
numbers: the JSON and CSV at full precision, the HTML rounded for reading.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from app.core.version import service_version
from app.reports.charts import plans_map_png, round_bars_svg
from app.reports.inputs import ScoredPlan, paid_shifts_s
from solver.savings import FIGURE_INFO, FIGURES, Change, Factors, SavingsReport, savings_report
from solver.units import METRES_PER_KM, MINUTES_PER_HOUR, SECONDS_PER_MINUTE

if TYPE_CHECKING:
    from solver.network import RoadNetwork

ROUND_FIGURES_SHOWN = frozenset({"distance_m", "duration_s", "vehicles_used", "trips", "fuel_l", "co2e_kg", "cost_gbp",
                                 "bins_served", "violations"})
"""The figures of each round the HTML shows (the JSON and CSV carry them all)."""

CSV_COLUMNS = ("scope", "vehicle_id", "figure", "unit", "baseline", "plan", "delta", "verdict")
"""Columns of the CSV: ``scope`` is ``collection``, ``year`` or ``round``."""


@dataclass(frozen=True)
class ReportMeta:
    """Where the two plans come from and who stands behind them.

    ``approved_by``/``approved_at`` are the plan's approval (``None``: not approved);
    ``extra`` holds further facts shown as they are (for example the plan's engine,
    seed and inputs hash).
    """

    plan_label: str
    baseline_label: str
    network: str
    generated_at: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    version: str = field(default_factory=service_version)
    approved_by: str | None = None
    approved_at: str | None = None
    baseline_approved_by: str | None = None
    baseline_approved_at: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """A savings report ready to render: the figures, the facts and the pictures."""

    savings: SavingsReport
    meta: ReportMeta
    bars_svg: str
    map_png: str


def build(plan: ScoredPlan, baseline: ScoredPlan, network: RoadNetwork, factors: Factors, *,
          meta: ReportMeta | None = None) -> Report:
    """The report of ``plan`` against ``baseline`` (both scored on ``network``)."""
    savings = savings_report(plan.planned.evaluation, baseline.planned.evaluation, factors,
                             paid_shift_s=paid_shifts_s(baseline.problem, plan.problem))
    meta = meta if meta is not None else ReportMeta(plan_label=plan.label, baseline_label=baseline.label,
                                                    network=network.name)
    picture = plans_map_png(network, baseline.planned.route_lines, plan.planned.route_lines,
                            titles=(f"Baseline: {meta.baseline_label}", f"Plan: {meta.plan_label}"))
    return Report(savings=savings, meta=meta, bars_svg=round_bars_svg(savings), map_png=picture)


def to_json(report: Report) -> dict[str, object]:
    """The API's report JSON (``{"plan", "baseline", "delta", "rounds", "factors", ...}``) plus ``meta``."""
    return {**report.savings.as_dict(), "meta": asdict(report.meta)}


def to_csv(report: Report) -> str:
    """Every figure as CSV rows (:data:`CSV_COLUMNS`): the totals per collection and per year, then each round."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    savings = report.savings
    for change in savings.changes():
        writer.writerow(("collection", "", change.figure, change.unit, repr(change.baseline), repr(change.plan),
                         repr(change.delta), change.verdict))
    yearly = savings.per_year
    for name, value in yearly["delta"].items():
        writer.writerow(("year", "", name, FIGURE_INFO[name].unit, repr(yearly["baseline"][name]),
                         repr(yearly["plan"][name]), repr(value), ""))
    for change in savings.round_changes():
        writer.writerow(("round", change.vehicle_id, change.figure, change.unit, repr(change.baseline),
                         repr(change.plan), repr(change.delta), change.verdict))
    return buffer.getvalue()


# --------------------------------------------------------------------------- HTML


def _clock_h(seconds: float) -> str:
    """Seconds as ``H:MM`` (sign kept)."""
    sign = "-" if seconds < 0 else ""
    minutes = round(abs(seconds) / SECONDS_PER_MINUTE)
    return f"{sign}{minutes // MINUTES_PER_HOUR}:{minutes % MINUTES_PER_HOUR:02d}"


def show(value: float | None, unit: str, *, signed: bool = False) -> str:
    """A figure for reading: km for metres, h:mm for seconds, GBP with pence, counts whole."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    sign = "+" if signed and value > 0 else ""
    if unit == "m":
        return f"{sign}{value / METRES_PER_KM:,.1f} km"
    if unit == "s":
        return f"{sign}{_clock_h(value)} h"
    if unit == "h":
        return f"{sign}{value:,.2f} h"
    if unit == "GBP":
        return f"{sign}£{value:,.2f}" if value >= 0 else f"-£{-value:,.2f}"
    if unit in ("l", "kg"):
        return f"{sign}{value:,.1f} {unit}"
    if unit == "cost units":
        return f"{sign}{value:,.2f}"
    return f"{sign}{value:,.0f}"


def show_pct(pct: float | None) -> str:
    """A percentage change, signed, or a dash when the baseline was 0."""
    return "–" if pct is None else f"{pct:+.1f} %"


def environment() -> Environment:
    """The reports' Jinja2 environment: their templates, autoescaped, with :func:`show` and ``show_pct``."""
    env = Environment(loader=PackageLoader("app.reports", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["show_pct"] = show_pct
    env.globals["show"] = show
    return env


def to_html(report: Report) -> str:
    """The printable HTML report (one self-contained page: SVG and PNG inline)."""
    savings = report.savings
    round_changes = [c for c in savings.round_changes() if c.figure in ROUND_FIGURES_SHOWN]
    by_round: dict[str, list[Change]] = {r.vehicle_id: [] for r in savings.rounds}
    for change in round_changes:
        by_round[change.vehicle_id or ""].append(change)
    return environment().get_template("report.html.j2").render(
        report=report, savings=savings, meta=report.meta, factors=savings.factors, figures=FIGURES,
        info=FIGURE_INFO, better=savings.better(), worse=savings.worse(),
        by_round=by_round, round_worse=[c for c in round_changes if c.verdict == "worse"],
        round_better=[c for c in round_changes if c.verdict == "better"])
