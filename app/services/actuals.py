"""A day as the lorries drove it: traces and lifts read (:mod:`app.services.trace_files`), matched onto
the streets and read as rounds (:func:`solver.traces.actuals.actual_day`), scored by the one evaluator,
stored as a plan of source ``actual``.

``POST /api/v1/actuals`` reads the files and answers a job of kind ``actual``: :func:`job_request` packs
what it read (each vehicle's fixes as seconds since the day's local midnight, the lifts, the files'
SHA-256 and the notes) beside the stored problem; :func:`make_actual`, in a worker, reads the day,
scores its rounds with the evaluator as a person's plan is scored (the break where it fits), and
stores them as a plan (``parameters``: the day, the files' hashes, the notes, the routes) in the round
set asked. Its result (``../shared/API.md``, "Actual rounds"): ``{"plan_id", "day", "rounds":
[{"vehicle_id", "distance_m", "duration_s", "bins_collected", "bins_from_plan", "streets_not_in_plan", ...}],
"notes"}``.

A trace's vehicle is the problem's vehicle whose id, or any of whose attributes (a fleet list's
registration), equals the trace's name, case and spaces ignored; a trace of no known vehicle is a note.
Units: metres, seconds since the day's local midnight, degrees.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, tzinfo
from typing import TYPE_CHECKING

import numpy as np

from app import store
from app.core.config import Settings
from app.core.json_types import JSONObject, JSONValue
from app.schemas import EvaluationRequest, OptimisationRequest, VehicleIn
from app.services import evaluation
from app.services.trace_files import Fix as FileFix
from app.services.trace_files import Lift as FileLift
from app.services.trace_files import TraceNote
from solver.directions import edge_names, match_line, to_xy
from solver.geometry import Pieces, cut_pieces, piece_starts_m, pieces_line
from solver.solution import RoutePlan
from solver.traces.actuals import actual_day
from solver.traces.driven import RoundAsDriven
from solver.traces.fixes import Fix, Lift
from solver.traces.order import order_followed

if TYPE_CHECKING:
    from app.store import Store
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)

ACTUAL_KIND = "actual"
"""The job kind, and the plan source, of a day as driven."""


def _key(text: object) -> str:
    """A name compared as people write it: lower case, no spaces."""
    return "".join(str(text).split()).lower()


def vehicle_names(vehicles: Iterable[VehicleIn]) -> dict[str, str]:
    """How traces may name each vehicle (its id, any of its text attributes) -> the vehicle's id. An
    attribute several vehicles share (a make, a depot's name) names none of them; an id always wins."""
    owners: dict[str, set[str]] = {}
    for v in vehicles:
        for value in v.attributes.values():
            if isinstance(value, str) and value.strip():
                owners.setdefault(_key(value), set()).add(v.id)
    names = {name: next(iter(ids)) for name, ids in owners.items() if len(ids) == 1}
    names.update({_key(v.id): v.id for v in vehicles})
    return names


def day_of(fixes: Mapping[str, Sequence[FileFix]], zone: tzinfo) -> date:
    """The day the traces cover: the local date of their earliest fix."""
    return min(f.time for found in fixes.values() for f in found).astimezone(zone).date()


def seconds_since_midnight(moment: datetime, day: date, zone: tzinfo) -> float:
    """Seconds from ``day``'s local midnight to ``moment`` (past 86,400 after the next midnight)."""
    return (moment - datetime.combine(day, time(0), tzinfo=zone)).total_seconds()


def job_request(request: OptimisationRequest, fixes: Mapping[str, Sequence[FileFix]], lifts: Sequence[FileLift], *,
                day: date, zone: tzinfo, round_set: str | None, hashes: Mapping[str, str],
                notes: Sequence[TraceNote]) -> JSONObject:
    """The job's request: each known vehicle's fixes ``[t, lon, lat, speed]`` (t: seconds since the day's
    local midnight), the lifts ``[t, bin id, vehicle id or null]``, the day, round set, files' hashes and
    the notes, a trace of no known vehicle among them (left out)."""
    names = vehicle_names(request.vehicles)
    said = [n.as_dict() for n in notes]
    packed: dict[str, list[JSONValue]] = {}
    for name, found in fixes.items():
        vehicle_id = names.get(_key(name))
        if vehicle_id is None:
            said.append(TraceNote("unknown_vehicle", "", len(found), f"a trace of {name!r}, no vehicle of the problem "
                                  "by its id or an attribute such as a registration: left out", name).as_dict())
            continue
        packed.setdefault(vehicle_id, []).extend(
            [[seconds_since_midnight(f.time, day, zone), f.lon, f.lat, f.speed_mps] for f in found])
    packed_lifts: list[JSONValue] = [[seconds_since_midnight(x.time, day, zone), x.bin_id,
                                      names.get(_key(x.vehicle)) if x.vehicle else None] for x in lifts]
    return {"day": day.isoformat(), "round_set": round_set, "files": dict(hashes), "fixes": packed,  # type: ignore[dict-item]
            "lifts": packed_lifts, "notes": said}  # type: ignore[dict-item]


def _fixes(asked: JSONObject) -> list[Fix]:
    """The request's fixes as the solver's."""
    packed = asked.get("fixes")
    out: list[Fix] = []
    for vehicle_id, rows in (packed.items() if isinstance(packed, dict) else ()):
        for r in rows if isinstance(rows, list) else ():
            if isinstance(r, list) and len(r) == 4:
                out.append(Fix(vehicle_id, float(r[0]), float(r[1]), float(r[2]),  # type: ignore[arg-type]
                               None if r[3] is None else float(r[3])))  # type: ignore[arg-type]
    return out


def _lifts(asked: JSONObject, vehicles: Sequence[str]) -> list[Lift]:
    """The request's lifts as the solver's; a lift naming no vehicle goes to the only vehicle traced."""
    packed = asked.get("lifts")
    out = []
    for r in packed if isinstance(packed, list) else ():
        if not isinstance(r, list) or len(r) != 3:
            continue
        vehicle = r[2] if isinstance(r[2], str) else (vehicles[0] if len(vehicles) == 1 else None)
        if vehicle is not None:
            out.append(Lift(vehicle, float(r[0]), str(r[1])))  # type: ignore[arg-type]
    return out


def _street_names(network: RoadNetwork, pieces: Pieces) -> set[str]:
    """The names of the streets ``pieces`` drive along (unnamed ones left out)."""
    names = edge_names(network)
    return {str(names[e]) for e, a, b in pieces if b > a and names[e]}


def planned_edges(network: RoadNetwork, answer: Mapping[str, object]) -> dict[str, set[int]]:
    """Each planned round's edges, both directions of a street (vehicle id -> edges), from the drawn
    lines of a plan's answer."""
    out: dict[str, set[int]] = {}
    features = answer.get("features")
    for feature in features if isinstance(features, list) else ():
        props = feature.get("properties", {}) if isinstance(feature, dict) else {}
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if props.get("kind") != "route" or not isinstance(geometry, dict):
            continue
        lines = geometry["coordinates"] if geometry.get("type") == "MultiLineString" else [geometry["coordinates"]]
        edges = out.setdefault(str(props.get("vehicle_id")), set())
        for line in lines:
            if len(line) >= 2:
                for e, a, b in match_line(network, to_xy(network, np.asarray(line, dtype=float))):
                    if b > a:
                        edges.add(int(e))
                        if network.edge_twin[e] >= 0:
                            edges.add(int(network.edge_twin[e]))
    return out


def planned_streets(network: RoadNetwork, answer: Mapping[str, object]) -> dict[str, set[str]]:
    """Each planned round's streets (vehicle id -> names), from the drawn lines of a plan's answer."""
    names = edge_names(network)
    return {v: {str(names[e]) for e in edges if names[e]} for v, edges in planned_edges(network, answer).items()}


#: Degrees the lines of a round as driven are simplified to (~1 m): they are drawn, not measured.
LINE_TOLERANCE_DEG = 0.00001

#: Metres a stretch filled in must exceed to be drawn as such: shorter, its dots would not show
#: on the map at a round's zoom, and a planner could not tell it from the line driven.
FILLED_IN_MIN_M = 5.0


def _coords(network: RoadNetwork, pieces: Pieces) -> list[JSONValue]:
    """``[[lon, lat], ...]`` of the line ``pieces`` draw, simplified, 6 decimals (empty for none)."""
    line = pieces_line(network, pieces)
    if line is None:
        return []
    simple = line.simplify(LINE_TOLERANCE_DEG, preserve_topology=False)
    return [[round(x, 6), round(y, 6)] for x, y in simple.coords]


def _filled_in(network: RoadNetwork, driven: RoundAsDriven) -> list[JSONValue]:
    """The stretches of the drive no fix shows (its bridges over ``FILLED_IN_MIN_M``), each ``{"reason",
    "line"}``: the reason's kind (``gap``, ``jump``, ``no_match``, ``bin``) and the stretch, lon/lat."""
    starts = piece_starts_m(network, driven.pieces)
    out: list[JSONValue] = []
    for bridge in driven.bridges:
        if bridge.end_m - bridge.start_m > FILLED_IN_MIN_M:
            line = _coords(network, cut_pieces(network, driven.pieces, starts, bridge.start_m, bridge.end_m))
            if len(line) >= 2:
                # the matcher's words after the kind ("no drive joins them") are for the notes, not the map
                out.append({"reason": bridge.reason.split(" ", 1)[0], "line": line})
    return out


def driven_lines(network: RoadNetwork, driven: RoundAsDriven, planned: set[int] | None) -> JSONObject:
    """A round as driven for the map: ``line`` the whole drive, ``off_plan`` each stretch of it on
    streets its planned round did not use (none when no plan was named), and ``filled_in`` each
    stretch no fix shows (:func:`_filled_in`), as lon/lat lines."""
    stretches: list[Pieces] = []
    if planned is not None:
        run: Pieces = []
        for piece in driven.pieces:
            if piece[2] > piece[1] and piece[0] not in planned:
                run.append(piece)
            elif run:
                stretches.append(run)
                run = []
        if run:
            stretches.append(run)
    return {"line": _coords(network, driven.pieces),
            "off_plan": [_coords(network, stretch) for stretch in stretches],
            "filled_in": _filled_in(network, driven)}


def _not_in(network: RoadNetwork, driven: RoundAsDriven, planned: Mapping[str, set[str]],
            every: set[str]) -> list[JSONValue]:
    """The streets a round drove that its planned round (else the whole plan) did not use; none when no
    plan was named."""
    if not planned:
        return []
    return [str(name) for name in sorted(_street_names(network, driven.pieces) - planned.get(driven.vehicle_id, every))]


def planned_bins(answer: Mapping[str, object]) -> dict[str, list[str]]:
    """Each planned round's bins in the planned order (vehicle id -> bin ids), from the visit features of
    a plan's answer (in driving order within a round)."""
    visits: list[tuple[str, int, str]] = []
    features = answer.get("features")
    for feature in features if isinstance(features, list) else ():
        props = feature.get("properties", {}) if isinstance(feature, dict) else {}
        if isinstance(props, dict) and props.get("kind") == "visit" and props.get("type") == "bin":
            sequence = props.get("sequence")
            visits.append((str(props.get("vehicle_id")), sequence if isinstance(sequence, int) else 0,
                           str(props.get("bin_id"))))
    out: dict[str, list[str]] = {}
    for vehicle_id, _, bin_id in sorted(visits, key=lambda v: (v[0], v[1])):
        out.setdefault(vehicle_id, []).append(bin_id)
    return out


def _orders_followed(rounds: Sequence[RoundAsDriven], planned: Mapping[str, list[str]]) -> dict[str, JSONValue]:
    """Each traced round's share of bins collected in its planned round's order (rounds the plan does
    not hold, or sharing no bin with it, left out), rounded to 4 places."""
    out: dict[str, JSONValue] = {}
    for r in rounds:
        share = order_followed(planned.get(r.vehicle_id, []), [c.bin_id for c in r.bins])
        if share is not None:
            out[r.vehicle_id] = round(share, 4)
    return out


def make_actual(db: Store, settings: Settings, tenant: str, request: JSONObject, network: RoadNetwork) -> JSONObject:
    """The job of kind ``actual`` (see the module docstring). Blocking."""
    problem_id = request.get("problem_id")
    with db.transaction() as session:
        record = store.get_problem(session, tenant, str(problem_id))
        if record is None:
            raise LookupError(f"the job's problem {problem_id!r} is not in the store")
        body = dict(record.body)
    probe = EvaluationRequest.model_validate({**body, "routes": []})
    problem, options, _ = evaluation.prepare(probe, settings=settings)
    fixes = _fixes(request)
    plan_of = request.get("plan_id")
    with db.transaction() as session:
        meant = store.get_plan(session, tenant, plan_of) if isinstance(plan_of, str) else None
        meant_answer = dict(meant.result) if meant is not None else None
    # the plan's bins tell whose bins a stand between two rounds' bins served (solver.traces.standing)
    planned_of = planned_bins(meant_answer) if meant_answer is not None else None
    day = actual_day(network, problem, fixes, _lifts(request, sorted({f.vehicle_id for f in fixes})),
                     snap_limit_m=settings.snap_limit_m, planned=planned_of)
    routes = tuple(RoutePlan(r.vehicle_id, r.stops, breaks_where_they_fit=True) for r in day.plan.routes if r.stops)
    answer = evaluation.evaluate(problem, routes, options, network, snap_limit_m=settings.snap_limit_m)
    asked_notes = request.get("notes")
    notes: list[JSONValue] = list(asked_notes) if isinstance(asked_notes, list) else []
    for issue in day.issues:
        notes.append({"kind": issue.kind, "vehicle": issue.vehicle_id, "count": issue.count, "msg": issue.detail})
    when, round_set = str(request["day"]), request.get("round_set")
    route_bodies: list[JSONValue] = [{"vehicle_id": r.vehicle_id, "stops": list(r.stops)} for r in routes]
    in_order = _orders_followed(day.rounds, planned_of) if planned_of is not None else {}
    edges = planned_edges(network, meant_answer) if meant_answer is not None else {}  # off the transaction
    every_edge = set().union(*edges.values()) if edges else set()
    lines: JSONObject = {r.vehicle_id: driven_lines(network, r, edges.get(r.vehicle_id, every_edge) if edges else None)
                         for r in day.rounds}
    with db.transaction() as session:
        saved = store.get_problem(session, tenant, str(problem_id))  # stored by the endpoint: not saved again
        assert saved is not None
        plan = store.create_plan(
            session, tenant, problem=saved, result=answer.model_dump(mode="json", exclude_none=True),
            source=ACTUAL_KIND, round_set=round_set if isinstance(round_set, str) else None,
            parameters={"day": when, "files": request.get("files") or {}, "notes": notes, "routes": route_bodies,
                        "order_followed": in_order, "planned_plan_id": plan_of if meant is not None else None,
                        "driven_lines": lines},
            name=f"As driven {when}" + (f", {round_set}" if isinstance(round_set, str) else ""))
        plan_id = plan.id
    names = edge_names(network)
    planned = {v: {str(names[e]) for e in es if names[e]} for v, es in edges.items()}
    every = set().union(*planned.values()) if planned else set()
    rounds: list[JSONValue] = [
        {"vehicle_id": r.vehicle_id, "distance_m": round(r.distance_m, 1), "bridged_m": round(r.bridged_m, 1),
         "duration_s": round(r.duration_s, 1), "start_s": round(r.start_s, 1), "end_s": round(r.end_s, 1),
         "bins_collected": [c.bin_id for c in r.bins],
         "bins_from_plan": [c.bin_id for c in r.bins if c.source == "plan"], "tips": [t.site_id for t in r.tips],
         "breaks": [[round(a, 1), round(b, 1)] for a, b in r.breaks],
         "streets_not_in_plan": _not_in(network, r, planned, every),
         "order_followed": in_order.get(r.vehicle_id)}
        for r in day.rounds]
    logger.info("actual day %s: %d round(s) as driven stored as plan %s", when, len(day.rounds), plan_id)
    return {"plan_id": plan_id, "day": when, "rounds": rounds, "notes": notes,
            "summary": answer.summary.model_dump(mode="json")}
