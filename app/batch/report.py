"""What the nightly batch changed, round set by round set, as JSON and as Markdown.

A *round* is one vehicle's route in a round set; a bin *moved between rounds* when the
new draft puts it on another vehicle than the approved plan did (or leaves it out).
Everything is read from stored optimisation answers (the API's FeatureCollections) and
problem bodies, so a report can be rebuilt from the store at any time.

Units: distances in metres, durations in seconds, weights in kg, cost in money, shares
in 0..1.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypedDict

from app.schemas import OptimisationResponse
from app.services.answers import bin_rounds, read_answer, read_bins, round_stops, summary_figures
from app.store.models import PlanRecord

KPI_NAMES = ("distance_m", "duration_s", "cost", "vehicles_used", "bins_served", "bins_unassigned")
"""Summary figures whose change the report gives."""

STATUSES = ("new_draft", "already_done", "failed")
"""A round set's outcome: a draft stored tonight, a draft stored by an earlier run tonight, or a failure."""

PLACEMENT_STATUSES = ("placed", "already_placed", "unplaced")
"""A new property's outcome: put on a day (and round) of its approved week tonight, found on one already
(placed on an earlier night, or earlier tonight), or not placed (with the reason)."""


def route_stops(answer: OptimisationResponse) -> dict[str, list[str]]:
    """Vehicle id -> its stops in driving order (bin ids, disposal-site ids, ``"break"``;
    depots left out), from an optimisation answer; rounds without such stops left out."""
    return {vehicle: stops for vehicle, stops in round_stops(answer).items() if stops}


def bin_demands(body: Mapping[str, object]) -> dict[str, float]:
    """Bin id -> demand (kg) of a problem body."""
    return {b.id: b.demand_kg for b in read_bins(body)}


class DemandChange(TypedDict):
    """A bin whose demand (kg) differs between the approved plan's problem and the draft's."""

    bin_id: str
    from_kg: float
    to_kg: float


@dataclass(frozen=True)
class MovedBin:
    """A bin the draft collects with another vehicle (``to`` ``None``: left out) than the approved plan."""

    bin_id: str
    from_vehicle: str
    to_vehicle: str | None


@dataclass
class RoundSetChanges:
    """What one round set's draft changes against its approved plan (``approved_plan_id`` ``None``:
    there was none, so only the draft's own figures are given)."""

    bins_added: list[str] = field(default_factory=list)
    bins_removed: list[str] = field(default_factory=list)
    demand_changed: list[DemandChange] = field(default_factory=list)
    moved: list[MovedBin] = field(default_factory=list)
    kept: int = 0
    comparable: int = 0
    kpis: dict[str, float] = field(default_factory=dict)
    kpi_delta: dict[str, float] = field(default_factory=dict)
    unassigned: list[str] = field(default_factory=list)

    @property
    def kept_share(self) -> float | None:
        """Share (0..1) of the bins the approved plan collected, still present, that stay on
        the same round; ``None`` without an approved plan or such bins."""
        return self.kept / self.comparable if self.comparable else None


def compare(*, approved: PlanRecord | None, approved_body: Mapping[str, object] | None, draft: PlanRecord,
            draft_body: Mapping[str, object]) -> RoundSetChanges:
    """The changes of a draft (its plan and problem body) against the approved plan's."""
    draft_demand = bin_demands(draft_body)
    draft_answer = read_answer(draft.result)
    draft_rounds = bin_rounds(draft_answer)
    summary = summary_figures(draft_answer.summary)
    kpis = {k: summary[k] for k in KPI_NAMES}
    unassigned = sorted(b for b, vehicle in draft_rounds.items() if vehicle is None)
    if approved is None or approved_body is None:
        return RoundSetChanges(kpis=kpis, unassigned=unassigned)
    old_demand = bin_demands(approved_body)
    approved_answer = read_answer(approved.result)
    old_rounds = {b: vehicle for b, vehicle in bin_rounds(approved_answer).items() if vehicle is not None}
    changed = [DemandChange(bin_id=b, from_kg=old_demand[b], to_kg=draft_demand[b])
               for b in sorted(old_demand.keys() & draft_demand.keys()) if old_demand[b] != draft_demand[b]]
    moved = [MovedBin(b, old_rounds[b], draft_rounds.get(b))
             for b in sorted(old_rounds) if b in draft_demand and draft_rounds.get(b) != old_rounds[b]]
    comparable = sum(1 for b in old_rounds if b in draft_demand)
    old_summary = summary_figures(approved_answer.summary)
    return RoundSetChanges(
        bins_added=sorted(draft_demand.keys() - old_demand.keys()),
        bins_removed=sorted(old_demand.keys() - draft_demand.keys()),
        demand_changed=changed, moved=moved, kept=comparable - len(moved), comparable=comparable, kpis=kpis,
        kpi_delta={k: kpis[k] - old_summary[k] for k in KPI_NAMES}, unassigned=unassigned)


@dataclass
class RoundSetOutcome:
    """One round set's line in the batch report."""

    tenant: str
    round_set: str
    status: str
    draft_plan_id: str | None = None
    draft_version: int | None = None
    approved_plan_id: str | None = None
    changes: RoundSetChanges | None = None
    error: str | None = None
    seconds: float = 0.0
    worker: str = ""

    def as_dict(self) -> dict[str, Any]:  # dataclasses.asdict gives dict[str, Any]
        """JSON-able form (``kept_share`` included)."""
        data = asdict(self)
        if self.changes is not None:
            data["changes"]["kept_share"] = self.changes.kept_share
        return data


@dataclass
class PlacedVisit:
    """A day a new property is collected on: the day and week, the round (vehicle id) it was put on, the
    round set and the plan that holds it, and the driving time its insertion adds to that day (s)."""

    day: str
    week: str
    round: str | None
    round_set: str
    plan_id: str | None
    added_s: float | None = None


@dataclass
class PropertyPlacement:
    """A new property of an approved week: where it goes and why, for the planner and the household's letter.

    ``alternatives`` are the other ways its frequency and allowed days permit (``label``, ``added_s`` or
    ``None`` with ``why`` when none fits)."""

    tenant: str
    area: str | None
    property: str
    bin_ids: list[str]
    status: str
    address: str | None = None
    visits: list[PlacedVisit] = field(default_factory=list)
    why: str = ""
    alternatives: list[dict[str, Any]] = field(default_factory=list)

    def days(self) -> str:
        """``"mon A; mon B"``: the days it is collected on."""
        return "; ".join(f"{v.day} {v.week}" for v in self.visits)


@dataclass
class BatchReport:
    """The whole night's report: one :class:`RoundSetOutcome` per round set."""

    night: date
    started_at: datetime
    finished_at: datetime | None = None
    executor: str = ""
    round_sets: list[RoundSetOutcome] = field(default_factory=list)
    new_properties: list[PropertyPlacement] = field(default_factory=list)

    @property
    def unplaced(self) -> list[PropertyPlacement]:
        """The new properties that could not be placed."""
        return [p for p in self.new_properties if p.status == "unplaced"]

    @property
    def failed(self) -> list[RoundSetOutcome]:
        """The round sets that failed."""
        return [r for r in self.round_sets if r.status == "failed"]

    def counts(self) -> dict[str, int]:
        """Round sets per status."""
        return {status: sum(1 for r in self.round_sets if r.status == status) for status in STATUSES}

    def kept_share(self) -> float | None:
        """Share (0..1) of the comparable bins of every round set kept on the same round."""
        changes = [r.changes for r in self.round_sets if r.changes is not None]
        comparable = sum(c.comparable for c in changes)
        return sum(c.kept for c in changes) / comparable if comparable else None

    def as_dict(self) -> dict[str, object]:
        """JSON-able form of the report."""
        return {"night": self.night.isoformat(), "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "executor": self.executor, "counts": self.counts(), "kept_share": self.kept_share(),
                "round_sets": [r.as_dict() for r in self.round_sets],
                "new_properties": [asdict(p) for p in self.new_properties]}

    def write(self, folder: Path) -> tuple[Path, Path]:
        """Write ``batch-<night>.json`` and ``batch-<night>.md`` into ``folder`` (and, when new properties
        came, ``new-properties-<night>.csv`` for the households' letters); the first two paths."""
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"batch-{self.night.isoformat()}"
        json_path, md_path = folder / f"{stem}.json", folder / f"{stem}.md"
        json_path.write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")
        md_path.write_text(render_markdown(self), encoding="utf-8")
        if self.new_properties:
            (folder / f"new-properties-{self.night.isoformat()}.csv").write_text(
                new_properties_csv(self.new_properties), encoding="utf-8")
        return json_path, md_path


NEW_PROPERTY_COLUMNS = ("property", "address", "bin_ids", "status", "days", "rounds", "round_sets", "plan_ids", "why")
"""The columns of ``new-properties-<night>.csv``: one line per new property (lists joined by ``;``)."""


def new_properties_csv(placements: Sequence[PropertyPlacement]) -> str:
    """The new properties' days as CSV (:data:`NEW_PROPERTY_COLUMNS`), ready for a letter merge."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NEW_PROPERTY_COLUMNS)
    for p in placements:
        writer.writerow([p.property, p.address or "", ";".join(p.bin_ids), p.status, p.days(),
                         ";".join(v.round or "" for v in p.visits), ";".join(v.round_set for v in p.visits),
                         ";".join(v.plan_id or "" for v in p.visits), p.why])
    return out.getvalue()


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _signed(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:+,.{digits}f}"


def _ids(ids: Iterable[str], limit: int = 50) -> str:
    items = list(ids)
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _details(outcome: RoundSetOutcome) -> list[str]:
    """The Markdown lines describing one round set's changes in full."""
    lines = [f"### {outcome.tenant} / {outcome.round_set}: {outcome.status}", ""]
    if outcome.error:
        return [*lines, "```", outcome.error.strip(), "```", ""]
    changes = outcome.changes
    if changes is None:
        return lines
    lines.append(f"- draft plan `{outcome.draft_plan_id}` (version {outcome.draft_version}), compared with "
                 + (f"approved plan `{outcome.approved_plan_id}`" if outcome.approved_plan_id
                    else "no approved plan (solved without a warm start)"))
    rows: Sequence[tuple[str, list[str]]] = (
        ("bins added", changes.bins_added), ("bins removed", changes.bins_removed),
        ("demand changed", [f"{c['bin_id']} ({c['from_kg']:g} -> {c['to_kg']:g} kg)" for c in changes.demand_changed]),
        ("bins moved between rounds", [f"{m.bin_id} ({m.from_vehicle} -> {m.to_vehicle or 'left out'})"
                                       for m in changes.moved]),
        ("left out", changes.unassigned),
    )
    for label, items in rows:
        lines.append(f"- {label} ({len(items)}): {_ids(items) if items else 'none'}")
    lines.append(f"- bins kept on the same round: {changes.kept} of {changes.comparable} "
                 f"({_share(changes.kept_share)})")
    return [*lines, ""]


def render_markdown(report: BatchReport) -> str:
    """The report as Markdown text: a summary table, then each round set's changes."""
    counts = report.counts()
    lines = [f"# Nightly re-optimisation, night of {report.night.isoformat()}", "",
             f"Run from {report.started_at:%Y-%m-%d %H:%M:%S} UTC"
             + (f" to {report.finished_at:%H:%M:%S} UTC" if report.finished_at else "")
             + f"; solves ran on: {report.executor or 'unknown'}.", "",
             f"{counts['new_draft']} new draft(s), {counts['already_done']} stored earlier tonight, "
             f"{counts['failed']} failed; {_share(report.kept_share())} of the bins kept on their round. "
             "Drafts are never approved automatically: a planner reviews and approves them.", "",
             "| tenant | round set | status | draft | bins +/- | moved | kept | distance (m) | "
             "duration (s) | cost |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in report.round_sets:
        c = r.changes
        delta = c.kpi_delta if c else {}
        lines.append(
            f"| {r.tenant} | {r.round_set} | {r.status} | {'v' + str(r.draft_version) if r.draft_version else ''} "
            f"| {f'+{len(c.bins_added)}/-{len(c.bins_removed)}' if c else ''} | {len(c.moved) if c else ''} "
            f"| {_share(c.kept_share) if c else ''} | {_signed(delta.get('distance_m'))} "
            f"| {_signed(delta.get('duration_s'))} | {_signed(delta.get('cost'), 2)} |")
    lines += ["", "Changes are against each round set's approved plan (distance, duration and cost: "
              "draft minus approved).", "", "## Round sets", ""]
    for r in report.round_sets:
        lines += _details(r)
    if report.new_properties:
        lines += ["## New properties", "",
                  "Each put on the day (and round) of its approved week that its insertion costs least, among the "
                  "days its frequency and allowed days permit; tell each household its day.", "",
                  "| tenant | property | address | status | days | rounds | why |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {p.tenant} | {p.property} | {p.address or ''} | {p.status} | {p.days()} "
                  f"| {', '.join(v.round or '' for v in p.visits)} | {p.why} |" for p in report.new_properties]
        lines.append("")
    return "\n".join(lines)
