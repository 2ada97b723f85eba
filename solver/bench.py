"""Benchmark runs: published instances and travel-time matrices, measured honestly.

Pure harness logic (no printing, no command line; ``app.cli.bench`` wires it to
``wasteroute bench``):

- :func:`run_cvrp` solves a CVRPLIB instance with a named engine and scores the plan
  with wasteroute's own evaluator: ``cost`` is the evaluator's ``distance_m`` (the
  CVRPLIB rounded-Euclidean cost, see :mod:`solver.instances.cvrplib`), ``feasible``
  means every customer served once, no violation and no more routes than the
  instance allows; the best known value comes from the ``.sol`` file beside it;
- :func:`run_wcvrptw` does the same for a Kim et al. waste instance, reporting miles
  and vehicles beside the best known result; both rows carry each route's path in the
  instance file's numbering (:func:`plan_paths`), so a plan can be re-checked from the file;
- :func:`run_pvrpif` plans a periodic waste instance's week (:mod:`solver.week`) and re-checks
  it from the instance file alone, reporting the travel cost beside the best reported;
- :func:`run_matrix` times a travel-time matrix between random points of a road
  network and measures its peak memory;
- :func:`machine_info` and :func:`package_versions` record where and with what a
  run was made.

Engines' own objective values are never reported: every figure comes from
:func:`solver.evaluate.evaluate` on the returned plan.
"""

from __future__ import annotations

import gc
import importlib.metadata
import logging
import os
import platform
import time
import tracemalloc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from solver.balance import plan_balance
from solver.evaluate import evaluate
from solver.instances.cvrplib import read_cvrp, read_cvrp_solution
from solver.instances.wcvrptw import miles, read_wcvrptw
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import BREAK_STOP, Problem, SolveOptions
from solver.solution import Evaluation, Plan, RouteEvaluation

log = logging.getLogger(__name__)

Row = dict[str, Any]
"""One result line: JSON-ready values only."""

PACKAGES = ("wasteroute", "ortools", "pyvrp", "numpy", "scipy", "networkx", "osmnx", "shapely")
"""Packages whose versions a benchmark records (those installed)."""


# --- machine and versions -------------------------------------------------------------------

def _cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    """Total memory (GB) from ``/proc/meminfo`` (Linux), else ``None``."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_info() -> dict[str, Any]:
    """Where a benchmark ran: platform, CPU model, CPUs (total and usable), memory, Python."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": _cpu_model(),
            "cpu_count": os.cpu_count(), "cpus_usable": usable, "memory_gb": _memory_gb(),
            "python": platform.python_version()}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (packages that are not installed are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


# --- solving and scoring --------------------------------------------------------------------

@dataclass(frozen=True)
class Solved:
    """An engine's plan, the evaluator's figures for it, the engine's wall time (s) and its name."""

    plan: Plan
    evaluation: Evaluation
    seconds: float
    engine: str


def solve_and_evaluate(problem: Problem, matrices: FleetMatrices, options: SolveOptions) -> Solved:
    """Solve every bin of ``problem`` with the engine ``options.engine`` names (or ``auto`` picks)
    and evaluate the plan; :class:`~solver.problem.ProblemError` when that engine lacks a
    feature the problem needs."""
    from solver.engines import choose_engine  # not at import: the matrix benchmark needs no engine

    engine = choose_engine(problem, options, matrices=matrices)
    started = time.perf_counter()
    plan = engine.solve(problem, matrices, bin_ids=[b.id for b in problem.bins], options=options)
    seconds = time.perf_counter() - started
    return Solved(plan=plan, evaluation=evaluate(problem, matrices, plan, options=options), seconds=seconds,
                  engine=engine.name)


def violation_counts(evaluation: Evaluation) -> dict[str, int]:
    """Number of violations of each type over all routes."""
    counts: dict[str, int] = {}
    for route in evaluation.routes:
        for v in route.violations:
            counts[v.type] = counts.get(v.type, 0) + 1
    return dict(sorted(counts.items()))


def all_served_once(problem: Problem, evaluation: Evaluation) -> bool:
    """Whether every bin of ``problem`` is served (and no bin twice: that is a violation)."""
    return (evaluation.summary.bins_served == len(problem.bins) and not evaluation.unassigned
            and evaluation.summary.violations == 0)


def ends_with_tips(evaluation: Evaluation) -> bool:
    """Whether every evaluated route's last bin or tip before the depot is a tip (a break may follow it).

    The waste instances require it (each route ends with a disposal trip). The
    evaluator flags a route back loaded as ``not_tipped``; this reads the same
    evaluated visits, so that an evaluator or engine that does not know tips yet
    cannot make a route that skips them count as feasible.
    """
    def last_stop(route: RouteEvaluation) -> str | None:
        kinds = [v.type for v in route.visits if v.type in ("bin", "disposal")]
        return kinds[-1] if kinds else None

    return all(last_stop(r) == "disposal" for r in evaluation.routes)


def gap_pct(cost: float | None, bks: float | None) -> float | None:
    """``100 * (cost - bks) / bks``, or ``None`` when either is unknown."""
    if cost is None or bks is None or bks == 0:
        return None
    return 100.0 * (cost - bks) / bks


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _failed_row(instance: str, exc: Exception, **fields: Any) -> Row:
    """The row of an instance whose run raised: no cost, not feasible, the error named."""
    log.exception("bench: %s failed", instance)
    return {"instance": instance, "cost": None, "gap_pct": None, "vehicles": None, "feasible": False,
            "seconds": None, **fields, "error": f"{type(exc).__name__}: {exc}"}


def shape_figures(solved: Solved) -> Row:
    """The rounds' balance (duration and load spreads, ``max / mean - 1``) and, for a shaped
    solve, what it relaxed (``None`` when no shape was asked for)."""
    balance = plan_balance(solved.evaluation.routes)
    relaxed = solved.plan.relaxed
    return {"duration_spread": round(balance.duration_spread, 4), "load_spread": round(balance.load_spread, 4),
            "relaxed": None if relaxed is None else list(relaxed)}


def run_cvrp(path: str | Path, *, time_limit_s: float, engine: str = "ortools", seed: int = 0,
             processes: int = 1, balance: bool = False, compact: bool = False) -> Row:
    """Solve one CVRPLIB instance and score it (see the module docstring).

    The row has ``instance, cost, bks, gap_pct, vehicles, feasible, seconds`` and
    ``engine, engine_used`` (the engine ``auto`` chose), ``time_limit_s, seed, processes`` (searches
    raced, :mod:`solver.engines.race`), ``balance, compact`` (the rounds' shape asked for: off, as
    published instances are scored, unless given), ``n, max_routes, unassigned, violations,
    duration_spread, load_spread, relaxed, error``.
    ``bks`` is the ``Cost`` of the ``.sol`` file beside the instance (``None`` if absent).
    An engine that raises gives a row with ``feasible`` false and the ``error``.
    """
    path = Path(path)
    sol = path.with_suffix(".sol")
    bks = read_cvrp_solution(sol).cost if sol.is_file() else None
    instance = read_cvrp(path)
    common: Row = {"bks": bks, "engine": engine, "time_limit_s": time_limit_s, "seed": seed, "processes": processes,
                   "balance": balance, "compact": compact, "n": instance.n_customers,
                   "max_routes": instance.max_routes}
    options = SolveOptions(time_limit_s=time_limit_s, seed=seed, engine=engine, objective="distance",
                           search_processes=processes, balance=balance, compact=compact,
                           fix_directions=False)
    try:
        solved = solve_and_evaluate(instance.problem, instance.matrices, options)
    except Exception as exc:
        return _failed_row(instance.name, exc, **common)
    summary = solved.evaluation.summary
    within_routes = instance.max_routes is None or summary.vehicles_used <= instance.max_routes
    cost = summary.distance_m
    return {"instance": instance.name, "cost": int(cost) if float(cost).is_integer() else cost, **common,
            "gap_pct": _round(gap_pct(cost, bks), 3), "vehicles": summary.vehicles_used,
            "feasible": all_served_once(instance.problem, solved.evaluation) and within_routes,
            "seconds": round(solved.seconds, 2), "engine_used": solved.engine,
            "unassigned": len(solved.evaluation.unassigned), "violations": violation_counts(solved.evaluation),
            **shape_figures(solved), "error": None}


def run_wcvrptw(path: str | Path, *, time_limit_s: float, engine: str = "ortools", seed: int = 0,
                processes: int = 1, balance: bool = False, compact: bool = False) -> Row:
    """Solve one Kim et al. waste instance and score it in miles (see the module docstring).

    The row has ``instance, cost, bks, gap_pct, vehicles, feasible, seconds`` (cost and
    bks in miles, ``bks`` the best known distance) and ``bks_vehicles, bks_source,
    engine, engine_used, time_limit_s, seed, processes, balance, compact, n, fleet, trips, unassigned,
    violations, duration_spread, load_spread, relaxed, error`` (the shape options as for :func:`run_cvrp`).
    """
    instance = read_wcvrptw(path)
    known = instance.known
    common: Row = {"bks": known.miles if known else None, "bks_vehicles": known.vehicles if known else None,
                   "bks_source": known.source if known else None, "engine": engine, "time_limit_s": time_limit_s,
                   "seed": seed, "processes": processes, "balance": balance, "compact": compact, "n": instance.n_stops,
                   "fleet": len(instance.problem.vehicles)}
    options = SolveOptions(time_limit_s=time_limit_s, seed=seed, engine=engine, objective="distance",
                           search_processes=processes, balance=balance, compact=compact,
                           fix_directions=False)
    try:
        solved = solve_and_evaluate(instance.problem, instance.matrices, options)
    except Exception as exc:
        return _failed_row(instance.name, exc, **common)
    summary = solved.evaluation.summary
    cost = miles(summary.distance_m)
    return {"instance": instance.name, "cost": round(cost, 2), **common,
            "gap_pct": _round(gap_pct(cost, known.miles if known else None), 3),
            "vehicles": summary.vehicles_used,
            "feasible": all_served_once(instance.problem, solved.evaluation) and ends_with_tips(solved.evaluation),
            "seconds": round(solved.seconds, 2), "engine_used": solved.engine,
            "trips": sum(r.trips for r in solved.evaluation.routes),
            "unassigned": len(solved.evaluation.unassigned), "violations": violation_counts(solved.evaluation),
            **shape_figures(solved), "routes": plan_paths(instance.problem, solved.plan), "error": None}


def plan_paths(problem: Problem, plan: Plan) -> list[Row]:
    """Each route of ``plan`` as ``{"vehicle_id", "path"}``: the stop ids in the instance file's numbering,
    depot first and last, tips where they are, breaks left out (they happen where the vehicle is)."""
    paths = []
    for route in plan.routes:
        depot = problem.vehicle(route.vehicle_id).depot_id
        paths.append({"vehicle_id": route.vehicle_id,
                      "path": [depot, *(s for s in route.stops if s != BREAK_STOP), depot]})
    return paths


def run_pvrpif(path: str | Path, *, time_limit_s: float, engine: str = "pyvrp", seed: int = 0,
               days_from_best: bool = False) -> Row:
    """Plan one PVRP-IF instance's week (:func:`solver.week.pvrpif.solve_pvrpif`) and re-check it from
    the instance file alone (:func:`solver.instances.pvrpif.check_plan`).

    With ``days_from_best`` the days are not searched: the best report's customers are kept on their
    reported days and each day is routed by the engine
    (:func:`solver.week.pvrpif.route_reported_days`), which tells the daily engine's share of the
    gap from the choice of days' share.

    The row has ``instance, cost, bks, gap_pct, feasible, seconds, vehicles_per_day, routes`` (each
    ``{"day", "path"}`` in the instance's node ids, depot first and last) and ``bks_source, engine,
    time_limit_s, seed, n, horizon, num_vehicles, days_from, starts, moves_tried, moves_kept, faults, error``.
    ``cost`` is the checker's (travel of every route of every day, from the instance's ``duration``
    matrix), ``feasible`` the checker's verdict, ``bks`` the lowest cost among the solution reports.
    """
    from solver.instances.pvrpif import best_known, check_plan, read_pvrpif, read_report_routes
    from solver.week.pvrpif import route_reported_days, solve_pvrpif

    path = Path(path)
    known = best_known(path)
    instance = read_pvrpif(path)
    common: Row = {"bks": known.cost if known else None, "bks_source": known.source if known else None,
                   "engine": engine, "time_limit_s": time_limit_s, "seed": seed, "n": len(instance.customers),
                   "horizon": instance.horizon, "num_vehicles": instance.num_vehicles,
                   "days_from": "best reported" if days_from_best else "searched"}
    try:
        if days_from_best:
            if known is None:
                raise ValueError(f"{path.name}: no solution report to take the days from")
            reported = read_report_routes(path.parent.parent / "solutions" / known.source)
            solution = route_reported_days(instance, reported, time_limit_s=time_limit_s, engine=engine, seed=seed)
        else:
            solution = solve_pvrpif(instance, time_limit_s=time_limit_s, engine=engine, seed=seed)
    except Exception as exc:
        return {**_failed_row(instance.name, exc, **common), "vehicles_per_day": None, "routes": None}
    check = check_plan(instance, solution.routes)
    cost = int(check.cost) if float(check.cost).is_integer() else check.cost
    return {"instance": instance.name, "cost": cost, **common,
            "gap_pct": _round(gap_pct(check.cost, known.cost if known else None), 3), "feasible": check.feasible,
            "seconds": round(solution.seconds, 2), "vehicles_per_day": list(check.vehicles_per_day),
            "vehicles": max(check.vehicles_per_day, default=0), "starts": solution.plan.starts,
            "moves_tried": solution.plan.moves_tried, "moves_kept": solution.plan.moves_kept,
            "faults": list(check.faults), "routes": [{"day": day, "path": list(p)} for day, p in solution.routes],
            "error": None}


def mean_gap(rows: Sequence[Row]) -> float | None:
    """Mean ``gap_pct`` over the rows that have one (``None`` if none has)."""
    gaps = [r["gap_pct"] for r in rows if r.get("gap_pct") is not None]
    return sum(gaps) / len(gaps) if gaps else None


# --- matrices ---------------------------------------------------------------------------------

def random_network_points(network: Any, n: int, *, seed: int) -> np.ndarray:
    """``n`` random points (lon/lat, ``(n, 2)``) on streets of the network's largest strongly
    connected part, each street chosen with probability proportional to its length."""
    rng = np.random.default_rng(seed)
    main = network.largest_component()
    inside = ((network.node_component[network.edge_u] == main)
              & (network.node_component[network.edge_v] == main) & (network.edge_length_m > 0))
    edges = np.flatnonzero(inside)
    if edges.size == 0:
        raise ValueError(f"network {network.name} has no street in its largest component")
    weights = network.edge_length_m[edges] / network.edge_length_m[edges].sum()
    chosen = rng.choice(edges, size=n, p=weights)
    points = shapely.line_interpolate_point(network.edge_xy[chosen], rng.uniform(0.0, 1.0, size=n), normalized=True)
    xy = shapely.get_coordinates(points)
    lon, lat = network.to_lonlat().transform(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _rss_kb(field: str) -> int | None:
    """A ``/proc/self/status`` memory field (kB), or ``None`` where there is none."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_growth_mb(fn: Any) -> float | None:
    """Peak resident memory (MB) ``fn()`` added to the process: Linux's high-water mark, reset
    just before (``/proc/self/clear_refs``), minus the resident size then. Sees memory that C
    libraries allocate themselves; ``None`` where Linux's ``/proc`` is missing."""
    before = _rss_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return None
    fn()
    peak = _rss_kb("VmHWM")
    if before is None or peak is None:
        return None
    return round(max(0, peak - before) / 1024, 1)


def traced_peak_mb(fn: Any) -> float:
    """Peak memory (MB) allocated through Python's allocator (numpy arrays included) while ``fn()`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 1024 / 1024, 1)


def _matrix(network: Any, snapped: Any, backend: str, turns: bool = True) -> tuple[TravelMatrices, float]:
    """The travel matrices between ``snapped`` points (on the turn-aware graph, or with free turns),
    and the seconds spent on the legs (the shortest paths between nodes, or ends of edges) before the
    point-to-point matrix is assembled."""
    from solver.matrix import LORRY_TURNS, build_legs, travel_matrices

    started = time.perf_counter()
    legs = build_legs(network, snapped, backend=backend, turns=LORRY_TURNS if turns else None)
    legs_s = time.perf_counter() - started
    return travel_matrices(legs), legs_s


def _one_backend(network: Any, snapped: Any, backend: str, repeat: int = 1, turns: bool = True
                 ) -> tuple[TravelMatrices, Row]:
    """One backend's point-to-point matrix: its figures (``seconds``, ``legs_s`` and ``cpu_s``, the
    process's CPU seconds, each the median of ``repeat`` timed runs, whose wall times are ``runs_s``;
    ``peak_mb`` and ``rss_mb`` of two more runs) after a warm-up that builds what it keeps on the
    network (``prep_s``: the turn-aware graph and its junction graph, the CCH)."""
    from solver.matrix import LORRY_TURNS, node_matrices
    from solver.matrix_chains import junction_graph
    from solver.network import routing_graph, turn_graph

    started = time.perf_counter()
    graph = turn_graph(network, routing_graph(network), LORRY_TURNS) if turns else None
    one = np.zeros(1, dtype=np.int64)
    node_matrices(network, one, one, routing=junction_graph(network, graph) if graph else None,
                  backend=backend)  # a CCH
    prep_s = time.perf_counter() - started
    runs: list[tuple[float, float, float]] = []
    for _ in range(max(1, repeat)):
        gc.collect()
        cpu = time.process_time()
        started = time.perf_counter()
        matrices, legs_s = _matrix(network, snapped, backend, turns)
        runs.append((time.perf_counter() - started, legs_s, time.process_time() - cpu))
    seconds, legs_s, cpu_s = (float(np.median([run[k] for run in runs])) for k in range(3))
    peak = traced_peak_mb(lambda: _matrix(network, snapped, backend, turns))
    rss = rss_growth_mb(lambda: _matrix(network, snapped, backend, turns))
    return matrices, {"seconds": round(seconds, 3), "legs_s": round(legs_s, 3), "cpu_s": round(cpu_s, 3),
                      "runs_s": [round(run[0], 3) for run in runs], "peak_mb": peak, "rss_mb": rss,
                      "prep_s": round(prep_s, 3)}


def _node_seconds(network: Any, n: int, backend: str, seed: int) -> float:
    """Seconds for the ``n x n`` node-to-node times and lengths between random nodes."""
    from solver.matrix import node_matrices

    rng = np.random.default_rng(seed)
    sources, targets = rng.choice(network.n_nodes, size=(2, n))
    started = time.perf_counter()
    node_matrices(network, sources, targets, backend=backend)
    return round(time.perf_counter() - started, 3)


def run_matrix(network: Any, n: int, *, seed: int = 0, backends: Sequence[str] | None = None,
               repeat: int = 1, turns: bool = True) -> Row:
    """Time an ``n x n`` travel-time matrix between random points of ``network``, by each backend.

    For each backend (default: every available one, see :data:`solver.matrix.BACKENDS`), in
    one run: ``{backend}_s`` the wall time of the point-to-point matrix (snapping excluded:
    ``snap_s``; what :mod:`solver.pipeline` runs), ``{backend}_legs_s`` of which the
    node-to-node paths, ``{backend}_cpu_s`` the CPU seconds of that run (all threads; unlike wall
    time, hardly changed by other work on the machine), each the median of ``repeat`` timed runs
    whose wall times are ``{backend}_runs_s``; ``{backend}_peak_mb`` the ``tracemalloc`` peak of
    another run (Python and numpy allocations), ``{backend}_rss_mb`` the growth of the resident peak
    in one more (memory C libraries allocate included), ``{backend}_prep_s`` the one-off work
    kept on the network (the CCH's build); ``{backend}_node_s`` an ``n x n`` matrix between
    random *nodes* (times and lengths). The row's ``backend``, ``seconds``, ``legs_s`` and
    ``peak_mb`` are those of the backend ``auto`` picks for this matrix. Against scipy (the
    reference): ``speedup`` (scipy seconds over the CCH's), ``node_speedup``, ``max_dt_s``
    (largest duration difference, s) and ``p99_dd_pct`` (99th percentile of the distance
    difference, % of scipy's distance). ``simplified`` says whether the graph's chains of
    nodes were merged into single edges (osmnx simplification) or kept; ``turns`` whether the
    matrix is turn-aware (:class:`~solver.network.TurnGraph`, the service's default) or turns are
    free (the road graph alone).
    """
    from solver.matrix import AUTO, BACKENDS, choose_backend, matrix_ch
    from solver.snapping import snap_points

    chosen = list(backends or [b for b in BACKENDS if b != "ch" or matrix_ch.available()])
    lonlat = random_network_points(network, n, seed=seed)
    started = time.perf_counter()
    snapped = snap_points(network, lonlat, limit_m=1.0)
    snap_s = time.perf_counter() - started
    row: Row = {"n": n, "nodes": network.n_nodes, "edges": network.n_edges, "network": network.name,
                "simplified": bool(network.simplify), "turns": turns, "snap_s": round(snap_s, 3),
                "snapped": int(np.count_nonzero(snapped.ok)), "seed": seed, "backends": chosen}
    results: dict[str, TravelMatrices] = {}
    for backend in chosen:
        results[backend], figures = _one_backend(network, snapped, backend, repeat, turns)
        row.update({f"{backend}_{k}": v for k, v in figures.items()})
        row[f"{backend}_node_s"] = _node_seconds(network, n, backend, seed)
    auto = choose_backend(AUTO, 2 * n, network.n_nodes)
    main = auto if auto in results else chosen[0]
    row.update({"backend": main, "seconds": row[f"{main}_seconds"], "legs_s": row[f"{main}_legs_s"],
                "peak_mb": row[f"{main}_peak_mb"],
                "finite_share": round(float(np.isfinite(results[main].duration_s).mean()), 4)})
    if "scipy" in results and "ch" in results:
        ref, ch = results["scipy"], results["ch"]
        finite = np.isfinite(ref.duration_s) & np.isfinite(ch.duration_s)
        dd = np.abs(ch.distance_m[finite] - ref.distance_m[finite]) / np.maximum(ref.distance_m[finite], 1.0)
        row.update({"speedup": round(row["scipy_seconds"] / max(row["ch_seconds"], 1e-9), 1),
                    "node_speedup": round(row["scipy_node_s"] / max(row["ch_node_s"], 1e-9), 1),
                    "max_dt_s": round(float(np.abs(ch.duration_s[finite] - ref.duration_s[finite]).max(initial=0.0)),
                                      4),
                    "p99_dd_pct": round(100 * float(np.percentile(dd, 99)) if dd.size else 0.0, 3),
                    "same_unreachable": bool(np.array_equal(np.isfinite(ref.duration_s),
                                                            np.isfinite(ch.duration_s)))})
    return row
