"""Issue 15's Oakham case, planned by the real pipeline and measured: rounds a crew would drive?

Usage::

    .venv/bin/python benchmarks/oakham.py [--network FILE] [--time-limit-s T] [--seed S]
        [--options JSON] [--unsimplified] [--searches N] [--json]
        [--write-problem FILE] [--save-plan FILE] [--save-routes FILE] [--plan FILE]

The case (:mod:`solver.instances.oakham`: 2,603 household bins in and around Oakham, four
26 t lorries, one depot, one tip) is built from the Rutland extract in ``../shared`` as
the JSON body of ``POST /api/v1/optimisations``; ``--options`` (a JSON object) is merged
into its ``options``, so features switched on or off by options pass straight through.
The body goes through the service's own validation and translation
(``app.services.optimisation``), then :func:`solver.pipeline.optimise` plans it on the
network as the service loads it (simplified, refuse-truck speeds; ``--unsimplified``
for the graph with every OSM node), with the service's snap limit (200 m).

Printed: one row per round (duration, kg, km, bins, stops, tips, streets it shares
with other rounds, its area's share inside other rounds' areas, reversals in its drawn
line) and one row for the plan (duration and load spread, total km, streets served by
more than one round, mean overlap share, crossing pairs, reversals). A **reversal** is
a vertex of a round's drawn line (WGS84, measured in the network's metric projection)
where the heading turns by :data:`REVERSAL_DEG` degrees or more; it is **mid-street**
when no dead-end, turning-place or side-way node of the network (where the lorry reverses
into a driveway or track) lies within :data:`CLEAR_M` metres, nor the round's depot or tip
within :data:`AT_STOP_M` (the lorry turns round in the yard, as the legs and the manoeuvre
count take it); ``mid_street_at_stops`` counts those within :data:`AT_STOP_M` of one of the
round's bins (the lorry turned round at a bin). ``banned_turns`` counts the network's banned
turns and banned edge sequences the drawn line drives (:func:`driven_turns` reads the turn at
every node the line passes through).
``--json`` prints the same figures as one JSON object; ``--save-plan`` writes the answer exactly as the API would
(for the map and ``scripts/screenshot_plan.py``); ``--write-problem`` writes the request
body; ``--save-routes`` the rounds' stops alone, as an evaluation's ``routes``. ``--plan``
measures the rounds of a saved answer or routes file instead of optimising: they are
re-evaluated (:func:`solver.pipeline.evaluate_plan`) and redrawn by this checkout, so the
same rounds can be measured before and after a change to legs or drawing. Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pydantic import TypeAdapter, ValidationError  # noqa: E402

from app.schemas import OptimisationRequest, RouteIn  # noqa: E402
from app.services.answers import read_answer, round_stops  # noqa: E402
from app.services.optimisation import dump_response, to_problem, to_response, to_solve_options  # noqa: E402
from solver.instances.oakham import oakham_request  # noqa: E402
from solver.network import RoadNetwork, load_network  # noqa: E402
from solver.pipeline import PlannedRounds, evaluate_plan, optimise  # noqa: E402
from solver.solution import RouteEvaluation, RoutePlan  # noqa: E402
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
SNAP_LIMIT_M = 200.0
"""The service's default snap limit (``WASTEROUTE_SNAP_LIMIT_M``)."""

REVERSAL_DEG = 165.0
"""A heading change at least this large (degrees) is a reversal: the lorry turned back."""

CLEAR_M = 30.0
"""A reversal farther than this (metres) from every dead end and turning place is mid-street."""

NODE_M = 0.05
"""A line vertex this close (metres) to a network node passes through the node."""

SAME_HEADING_COS = 0.995
"""A line and an edge head the same way at a node when the cosine between them is at least this
(about 6 degrees: the line is drawn from the edges' own geometry)."""

AT_STOP_M = 1.0
"""A reversal within this many metres of one of its round's stopping points happens at the stop."""

MERGE_M = 0.5
"""Vertices closer than this (metres) to the previous one are one vertex: a heading over a
few centimetres is noise from snapping, not a direction driven."""


def turn_places_xy(network: RoadNetwork) -> np.ndarray:
    """Metric positions (``network.crs``) of the nodes where a lorry may turn round: dead ends
    and OSM turning circles, loops and mini-roundabouts, and where a side way (driveway, yard,
    farm track) joins the road, which a lorry reverses into (counted as reversing, not mid-street)."""
    places = network.node_dead_end | network.node_turning_place | network.node_side_way
    lonlat = network.node_lonlat[places]
    x, y = network.to_xy().transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


def reversal_points(line_xy: np.ndarray, *, min_deg: float = REVERSAL_DEG) -> np.ndarray:
    """The vertices ``(k, 2)`` of a line given as metric vertices ``(n, 2)`` where the heading
    turns by ``min_deg`` degrees or more."""
    if len(line_xy) < 3:
        return np.empty((0, 2))
    steps = np.diff(line_xy, axis=0)
    kept = np.concatenate([[True], np.hypot(steps[:, 0], steps[:, 1]) >= MERGE_M])
    vertices = line_xy[kept]
    if len(vertices) < 3:
        return np.empty((0, 2))
    heading_in = vertices[1:-1] - vertices[:-2]
    heading_out = vertices[2:] - vertices[1:-1]
    cosine = np.einsum("ij,ij->i", heading_in, heading_out) / (
        np.linalg.norm(heading_in, axis=1) * np.linalg.norm(heading_out, axis=1))
    turned_deg = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return vertices[1:-1][turned_deg >= min_deg]


def near(points_xy: np.ndarray, others_xy: np.ndarray, within_m: float) -> np.ndarray:
    """Per point of ``points_xy``, whether some point of ``others_xy`` lies within ``within_m`` metres."""
    found = np.zeros(len(points_xy), dtype=bool)
    if len(points_xy) and len(others_xy):
        tree = shapely.STRtree(shapely.points(others_xy))
        found[tree.query(shapely.points(points_xy), predicate="dwithin", distance=within_m)[0]] = True
    return found


def reversals_in_line(line_xy: np.ndarray, places_xy: np.ndarray, *, min_deg: float = REVERSAL_DEG,
                      clear_m: float = CLEAR_M) -> tuple[int, int]:
    """``(reversals, mid_street)`` of a line given as metric vertices ``(n, 2)``: vertices where
    the heading turns by ``min_deg`` degrees or more, and how many of them lie farther than
    ``clear_m`` metres from every point of ``places_xy``."""
    at = reversal_points(line_xy, min_deg=min_deg)
    return len(at), int((~near(at, places_xy, clear_m)).sum())


@dataclasses.dataclass(frozen=True)
class TurnIndex:
    """What finding banned turns in a drawn line needs: the nodes' metric positions (a k-d
    tree), the edges into and out of each node with the unit direction of their last and
    first metre of geometry, and the network's banned turns (in-edge, out-edge) and banned
    edge sequences."""

    nodes: cKDTree
    node_xy: np.ndarray
    into: dict[int, list[int]]
    out_of: dict[int, list[int]]
    arriving: np.ndarray
    leaving: np.ndarray
    banned_pairs: frozenset[tuple[int, int]]
    banned_sequences: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, network: RoadNetwork) -> TurnIndex:
        """The index of ``network``."""
        x, y = network.to_xy().transform(network.node_lonlat[:, 0], network.node_lonlat[:, 1])
        into: dict[int, list[int]] = {}
        out_of: dict[int, list[int]] = {}
        arriving = np.zeros((network.n_edges, 2))
        leaving = np.zeros((network.n_edges, 2))
        for e in range(network.n_edges):
            into.setdefault(int(network.edge_v[e]), []).append(e)
            out_of.setdefault(int(network.edge_u[e]), []).append(e)
            coords = shapely.get_coordinates(network.edge_xy[e])
            arriving[e] = _unit(coords[-1] - coords[-2])
            leaving[e] = _unit(coords[1] - coords[0])
        offsets = network.banned_seq_offsets.tolist()
        sequences = tuple(tuple(network.banned_seq_edges[a:b].tolist()) for a, b in itertools.pairwise(offsets))
        pairs = frozenset(zip(network.banned_turn_in.tolist(), network.banned_turn_out.tolist(), strict=True))
        node_xy = np.column_stack([x, y])
        return cls(cKDTree(node_xy), node_xy, into, out_of, arriving, leaving, pairs, sequences)


def _unit(vector: np.ndarray) -> np.ndarray:
    """``vector`` scaled to length 1 (a zero vector stays zero)."""
    norm = float(np.hypot(vector[0], vector[1]))
    return vector / norm if norm > 0 else vector


def _heading_edge(candidates: list[int], directions: np.ndarray, heading: np.ndarray) -> int | None:
    """The edge of ``candidates`` whose direction (rows of ``directions``) is ``heading``, or ``None``."""
    if not candidates:
        return None
    cosines = directions[candidates] @ heading
    best = int(np.argmax(cosines))
    return candidates[best] if cosines[best] >= SAME_HEADING_COS else None


def driven_turns(line_xy: np.ndarray, index: TurnIndex) -> list[list[int]]:
    """The turns a line (metric vertices ``(n, 2)``) drives, as runs of edges ``[e0, e1, ...]``
    where each ``(e_k, e_k+1)`` is a turn at a node it passes through.

    The line passes through a node where a vertex lies within :data:`NODE_M` of it. Its
    in-edge is the edge into the node whose last stretch has the line's heading there, its
    out-edge the edge out of the node with the line's heading on leaving: a part-driven edge
    (from or to a stop mid-street) counts as well as a whole one. A node where the line turns
    round, or that matches no edge, judges no turn. Runs join where a turn's out-edge is the
    next turn's in-edge, so banned sequences over several edges can be found in them.
    """
    if len(line_xy) < 3:
        return []
    distance, node = index.nodes.query(line_xy, distance_upper_bound=NODE_M)
    runs: list[list[int]] = []
    k = 0
    n = len(line_xy)
    while k < n:
        if not np.isfinite(distance[k]):
            k += 1
            continue
        at, last = int(node[k]), k
        while last + 1 < n and np.isfinite(distance[last + 1]) and int(node[last + 1]) == at:
            last += 1
        here = index.node_xy[at]
        before = next((line_xy[i] for i in range(k - 1, -1, -1) if np.hypot(*(line_xy[i] - here)) >= MERGE_M), None)
        after = next((line_xy[i] for i in range(last + 1, n) if np.hypot(*(line_xy[i] - here)) >= MERGE_M), None)
        k = last + 1
        if before is None or after is None:
            continue
        came = _heading_edge(index.into.get(at, []), index.arriving, _unit(here - before))
        goes = _heading_edge(index.out_of.get(at, []), index.leaving, _unit(after - here))
        if came is None or goes is None:
            continue
        if runs and runs[-1][-1] == came:
            runs[-1].append(goes)
        else:
            runs.append([came, goes])
    return runs


def banned_turns_in_line(line_xy: np.ndarray, index: TurnIndex) -> int:
    """How many banned turns, and banned edge sequences, a line drives (see :func:`driven_turns`)."""
    found = 0
    for run in driven_turns(line_xy, index):
        found += sum((a, b) in index.banned_pairs for a, b in itertools.pairwise(run))
        for sequence in index.banned_sequences:
            size = len(sequence)
            found += sum(tuple(run[i:i + size]) == sequence for i in range(len(run) - size + 1))
    return found


def _commit() -> str:
    """The checkout's commit (short), with ``+changes`` when the work tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout.strip()
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return git("rev-parse", "--short", "HEAD") + ("+changes" if dirty else "")


def _points_xy(planned: PlannedRounds, route: RouteEvaluation, types: tuple[str, ...], to_xy: Any) -> np.ndarray:
    """Metric positions of the stopping points of ``route``'s visits of ``types``."""
    points = np.asarray([planned.stop_points[v.location_id] for v in route.visits
                         if v.type in types and v.location_id in planned.stop_points], dtype=float).reshape(-1, 2)
    return np.column_stack(to_xy.transform(points[:, 0], points[:, 1])) if len(points) else points


def measure(planned: PlannedRounds, network: RoadNetwork) -> dict[str, Any]:
    """Every figure of the table, for the rounds of ``planned``."""
    evaluation = planned.evaluation
    places = turn_places_xy(network)
    turns = TurnIndex.of(network)
    to_xy = network.to_xy()
    rounds: list[dict[str, Any]] = []
    for route in evaluation.routes:
        line = np.asarray(planned.route_lines[route.vehicle_id].coords) if route.vehicle_id in planned.route_lines \
            else np.empty((0, 2))
        line_xy = np.column_stack(to_xy.transform(line[:, 0], line[:, 1])) if len(line) else line
        turned = reversal_points(line_xy)
        stops_xy = _points_xy(planned, route, ("bin",), to_xy)
        # the lorry turns round in a depot's or tip's yard: turning back at its gate is no mid-street turn
        sites_xy = _points_xy(planned, route, ("depot", "disposal"), to_xy)
        mid_street = turned[~near(turned, places, CLEAR_M) & ~near(turned, sites_xy, AT_STOP_M)]
        bins = [v.location_id for v in route.visits if v.type == "bin"]
        own = planned.compactness.of(route.vehicle_id) if planned.compactness is not None else None
        rounds.append({
            "vehicle": route.vehicle_id, "duration_h": route.duration_s / SECONDS_PER_HOUR, "load_kg": route.load_kg,
            "km": route.distance_m / METRES_PER_KM, "bins": route.n_bins,
            "stops": len({planned.stop_points.get(b) for b in bins}), "tips": route.trips,
            "shared_streets": own.shared_streets if own else 0,
            "overlap_share": own.overlap_share if own else 0.0,
            "reversals": len(turned), "mid_street_reversals": len(mid_street),
            "mid_street_at_stops": int(near(mid_street, stops_xy, AT_STOP_M).sum()),
            "banned_turns": banned_turns_in_line(line_xy, turns),
            "violations": len(route.violations)})
    balance, shape = planned.balance, planned.compactness
    plan = {
        "rounds": len(rounds), "bins_served": evaluation.summary.bins_served,
        "bins_unassigned": evaluation.summary.bins_unassigned,
        "duration_h": evaluation.summary.duration_s / SECONDS_PER_HOUR,
        "duration_spread": balance.duration_spread if balance else 0.0,
        "load_spread": balance.load_spread if balance else 0.0,
        "km": evaluation.summary.distance_m / METRES_PER_KM,
        "streets": shape.streets if shape else 0,
        "shared_streets": shape.shared_streets if shape else 0,
        "max_rounds_per_street": shape.max_rounds_per_street if shape else 0,
        "mean_overlap_share": shape.mean_overlap_share if shape else 0.0,
        "crossing_pairs": shape.crossing_pairs if shape else 0,
        "reversals": sum(r["reversals"] for r in rounds),
        "mid_street_reversals": sum(r["mid_street_reversals"] for r in rounds),
        "mid_street_at_stops": sum(r["mid_street_at_stops"] for r in rounds),
        "banned_turns": sum(r["banned_turns"] for r in rounds),
        "violations": evaluation.summary.violations,
    }
    return {"rounds": rounds, "plan": plan}


def plan_routes(saved: object) -> tuple[RoutePlan, ...]:
    """The rounds of a saved plan: an optimisation answer (the API's FeatureCollection), or the
    ``routes`` of an evaluation (``[{"vehicle_id", "stops"}, ...]``, as ``--save-routes`` writes).

    Raises pydantic's ``ValidationError`` naming the field at fault when it is neither.
    """
    if isinstance(saved, dict) and saved.get("type") == "FeatureCollection":
        stops = round_stops(read_answer(saved))
        return tuple(RoutePlan(vehicle, tuple(ids)) for vehicle, ids in stops.items())
    rounds = TypeAdapter(list[RouteIn]).validate_python(saved)
    return tuple(RoutePlan(r.vehicle_id, tuple(r.stops)) for r in rounds)


def routes_json(planned: PlannedRounds) -> str:
    """The rounds of ``planned`` as an evaluation's ``routes``, one round a line (a small file
    that diffs well: the stops without the geometry)."""
    rounds = [{"vehicle_id": r.vehicle_id, "stops": [v.location_id for v in r.visits if v.type != "depot"]}
              for r in planned.evaluation.routes]
    return "[\n" + ",\n".join(json.dumps(r) for r in rounds) + "\n]\n"


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build the case, plan it and measure the plan; the figures and the run's particulars."""
    body = oakham_request(args.network, time_limit_s=args.time_limit_s, seed=args.seed)
    body["options"].update(json.loads(args.options))
    if args.write_problem:
        args.write_problem.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    request = OptimisationRequest.model_validate(body)
    problem = to_problem(request)
    options = to_solve_options(request.options, default_time_limit_s=args.time_limit_s,
                               max_time_limit_s=math.inf)
    options = dataclasses.replace(options, search_processes=args.searches)
    network = load_network(args.network, simplify=not args.unsimplified, cache_dir=CACHE_DIR)
    started = time.perf_counter()
    if args.plan is not None:
        routes = plan_routes(json.loads(args.plan.read_text(encoding="utf-8")))
        planned = evaluate_plan(problem, network, routes, snap_limit_m=SNAP_LIMIT_M, options=options)
    else:
        planned = optimise(problem, network, options, snap_limit_m=SNAP_LIMIT_M)
    wall_s = time.perf_counter() - started
    if args.save_plan:
        args.save_plan.write_text(dump_response(to_response(problem, planned)) + "\n", encoding="utf-8")
    if args.save_routes:
        args.save_routes.write_text(routes_json(planned), encoding="utf-8")
    figures = measure(planned, network)
    figures["run"] = {
        "commit": _commit(), "network": network.name, "simplified": network.simplify,
        "nodes": network.n_nodes, "edges": network.n_edges, "bins": len(problem.bins),
        "vehicles": len(problem.vehicles), "options": body["options"], "search_processes": args.searches,
        "rounds_from": str(args.plan) if args.plan is not None else "optimise",
        "wall_s": wall_s, "stages_s": planned.timings_s,
        "machine": f"{platform.machine()}, python {platform.python_version()}",
        "started_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() - wall_s)),
    }
    return figures


def _cell(value: object) -> str:
    """A table cell: floats to two decimals (hours and spreads) or one (kg, km)."""
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of ``rows`` (the keys of the first are the columns)."""
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(row[k]) for k in head) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    """Print the tables (or the JSON)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", type=Path, default=RUTLAND)
    parser.add_argument("--time-limit-s", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--options", default="{}", help="JSON object merged into the request's options")
    parser.add_argument("--unsimplified", action="store_true", help="plan on the graph with every OSM node")
    parser.add_argument("--searches", type=int, default=1, help="search processes raced in the solve")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--write-problem", type=Path, help="write the request body (JSON) here")
    parser.add_argument("--save-plan", type=Path, help="write the answer (the API's JSON) here")
    parser.add_argument("--save-routes", type=Path, help="write the rounds' stops (an evaluation's routes) here")
    parser.add_argument("--plan", type=Path,
                        help="measure the rounds of this saved answer or routes file (re-evaluated on this "
                             "checkout) instead of optimising")
    args = parser.parse_args()
    if not args.network.is_file():
        parser.exit(2, f"{args.network} not found: the Oakham case needs the Rutland extract in ../shared\n")
    try:
        options = json.loads(args.options)
    except json.JSONDecodeError as exc:
        parser.exit(2, f"--options is not JSON: {exc}\n")
    if not isinstance(options, dict):
        parser.exit(2, f"--options must be a JSON object, got {args.options}\n")
    try:
        figures = run(args)
    except ValidationError as exc:
        # An option this checkout does not know yet is refused by the schema (extra="forbid").
        parser.exit(2, f"the request was refused: {exc}\n")
    if args.json:
        print(json.dumps(figures))
        return
    particulars = figures["run"]
    print(f"# Oakham case at {particulars['commit']}: {particulars['bins']} bins, {particulars['vehicles']} vehicles, "
          f"{particulars['network']} ({'simplified' if particulars['simplified'] else 'unsimplified'}, "
          f"{particulars['nodes']:,} nodes), rounds from {particulars['rounds_from']}, "
          f"options {json.dumps(particulars['options'])}, "
          f"{particulars['search_processes']} search process(es); {particulars['machine']}; "
          f"started {particulars['started_utc']} UTC, {particulars['wall_s']:.0f} s "
          f"({', '.join(f'{k} {v:.1f}' for k, v in particulars['stages_s'].items())})")
    print()
    print(_table(figures["rounds"]))
    print()
    print(_table([figures["plan"]]))


if __name__ == "__main__":
    main()
