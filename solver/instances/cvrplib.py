"""VRPLIB CVRP instances (``.vrp``) and CVRPLIB solutions (``.sol``) as wasteroute problems.

The mapping, chosen so that wasteroute's evaluator scores a plan exactly as CVRPLIB does:

- node ``k`` of the file (1-based) is location index ``k - 1``; the depot (from
  ``DEPOT_SECTION``) becomes the depot ``"depot"`` and every other node the bin whose
  id is its index as a string (``"1"`` .. ``"n-1"`` when the depot is node 1), which is
  how CVRPLIB solutions number customers;
- ``distance_m`` between two locations is the Euclidean distance of their coordinates
  rounded to the nearest integer (``EUC_2D``, the CVRPLIB convention), so a plan's
  evaluated ``distance_m`` is the sum of per-arc rounded distances: the CVRPLIB cost;
- ``duration_s`` is zero everywhere and service takes no time: CVRP has no clock, so
  no shift can be overrun;
- demands become ``demand_kg`` and the capacity ``capacity_kg`` (the same numbers);
- the fleet is ``VEHICLES`` identical vehicles when the file limits the number of
  routes, otherwise :func:`default_fleet_size` (more than enough for the demand).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Depot, Problem, Vehicle
from solver.solution import Plan, RoutePlan

DEPOT_ID = "depot"
"""Id of the (single) depot of a CVRP instance."""

FloatArray = npt.NDArray[np.float64]

_SECTIONS = frozenset({"NODE_COORD_SECTION", "DEMAND_SECTION", "DEPOT_SECTION"})


class InstanceFormatError(ValueError):
    """An instance or solution file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class CvrpInstance:
    """A CVRP instance read from a VRPLIB file and its wasteroute problem.

    ``coords`` is ``(n, 2)`` and ``demands`` ``(n,)`` in file order; ``depot`` the
    0-based index of the depot; ``max_routes`` the file's ``VEHICLES`` (a limit on the
    number of routes) or ``None``. ``problem`` and ``matrices`` are what the engines
    and the evaluator take (see the module docstring for the mapping).
    """

    name: str
    capacity: float
    coords: FloatArray
    demands: FloatArray
    depot: int
    max_routes: int | None
    problem: Problem
    matrices: FleetMatrices

    @property
    def dimension(self) -> int:
        """Number of nodes, depot included."""
        return int(self.coords.shape[0])

    @property
    def n_customers(self) -> int:
        """Number of customers (bins)."""
        return self.dimension - 1


@dataclass(frozen=True)
class CvrpSolution:
    """A CVRPLIB solution: routes of customer numbers (the depot is implied) and its stated cost."""

    routes: tuple[tuple[int, ...], ...]
    cost: float


def rounded_euclidean(coords: npt.ArrayLike) -> FloatArray:
    """Pairwise Euclidean distances rounded to the nearest integer, halves up (CVRPLIB's ``nint``)."""
    xy = np.asarray(coords, dtype=np.float64)
    diff = xy[:, None, :] - xy[None, :, :]
    return np.floor(np.hypot(diff[..., 0], diff[..., 1]) + 0.5)


def default_fleet_size(demands: npt.ArrayLike, capacity: float) -> int:
    """Vehicles offered when the file sets no limit: the bin-packing bound plus a fifth (at least two) spare."""
    total = float(np.sum(np.asarray(demands, dtype=np.float64)))
    bound = max(1, math.ceil(total / capacity)) if capacity > 0 else 1
    return bound + max(2, math.ceil(bound / 5))


def _header_value(line: str) -> tuple[str, str] | None:
    """``("KEY", "value")`` of a ``KEY : value`` line, or ``None`` for other lines."""
    match = re.match(r"^\s*([A-Z_]+)\s*:\s*(.*?)\s*$", line)
    if match is None:
        return None
    return match.group(1), match.group(2).strip('"').strip()


def _parse_vrp(path: Path) -> tuple[dict[str, str], dict[str, list[list[str]]]]:
    """Header entries and the rows (split into fields) of each section of a VRPLIB file."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if not fields:
            continue
        word = fields[0].rstrip(":")
        if word == "EOF":
            break
        if word in _SECTIONS:
            current = word
            sections[current] = []
            continue
        entry = _header_value(line) if not fields[0].lstrip("-").isdigit() else None
        if entry is not None:
            header[entry[0]] = entry[1]
            current = None
        elif current is not None:
            sections[current].append(fields)
        else:
            raise InstanceFormatError(f"{path}: unexpected line {line.strip()!r}")
    return header, sections


def _number(text: str, *, path: Path, what: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise InstanceFormatError(f"{path}: {what} must be a number, got {text!r}") from exc
    if not math.isfinite(value):
        raise InstanceFormatError(f"{path}: {what} must be finite, got {text!r}")
    return value


def _node_table(rows: list[list[str]], n: int, width: int, *, path: Path, section: str) -> FloatArray:
    """Values of a ``node value...`` section as an ``(n, width)`` array indexed by node - 1."""
    table = np.full((n, width), np.nan)
    for fields in rows:
        if len(fields) != width + 1:
            raise InstanceFormatError(f"{path}: {section} row {' '.join(fields)!r} needs {width + 1} fields")
        node = int(_number(fields[0], path=path, what=f"{section} node"))
        if not 1 <= node <= n:
            raise InstanceFormatError(f"{path}: {section} names node {node} outside 1..{n}")
        table[node - 1] = [_number(v, path=path, what=f"{section} value of node {node}") for v in fields[1:]]
    missing = np.flatnonzero(np.isnan(table).any(axis=1))
    if missing.size:
        raise InstanceFormatError(f"{path}: {section} has no row for node {int(missing[0]) + 1}")
    return table


def read_cvrp(path: str | Path, *, fleet_size: int | None = None) -> CvrpInstance:
    """Read a VRPLIB CVRP file with ``EUC_2D`` distances into a :class:`CvrpInstance`.

    ``fleet_size`` overrides the number of vehicles offered (by default the file's
    ``VEHICLES``, else :func:`default_fleet_size`). Raises :class:`InstanceFormatError`
    for a file that is not such an instance.
    """
    path = Path(path)
    header, sections = _parse_vrp(path)
    if header.get("TYPE", "CVRP").split()[0] != "CVRP":
        raise InstanceFormatError(f"{path}: TYPE {header['TYPE']!r} is not CVRP")
    if header.get("EDGE_WEIGHT_TYPE") != "EUC_2D":
        raise InstanceFormatError(f"{path}: EDGE_WEIGHT_TYPE {header.get('EDGE_WEIGHT_TYPE')!r} is not "
                                  "supported (only EUC_2D)")
    for key in ("DIMENSION", "CAPACITY"):
        if key not in header:
            raise InstanceFormatError(f"{path}: the header has no {key}")
    for key in ("NODE_COORD_SECTION", "DEMAND_SECTION"):
        if key not in sections:
            raise InstanceFormatError(f"{path}: the file has no {key}")
    n = int(_number(header["DIMENSION"], path=path, what="DIMENSION"))
    capacity = _number(header["CAPACITY"], path=path, what="CAPACITY")
    coords = _node_table(sections["NODE_COORD_SECTION"], n, 2, path=path, section="NODE_COORD_SECTION")
    demands = _node_table(sections["DEMAND_SECTION"], n, 1, path=path, section="DEMAND_SECTION")[:, 0]
    depots = [int(f[0]) for f in sections.get("DEPOT_SECTION", [["1"]]) if f[0] != "-1"]
    if len(depots) != 1 or not 1 <= depots[0] <= n:
        raise InstanceFormatError(f"{path}: DEPOT_SECTION must name exactly one node in 1..{n}, got {depots}")
    depot = depots[0] - 1
    max_routes = int(_number(header["VEHICLES"], path=path, what="VEHICLES")) if "VEHICLES" in header else None
    n_vehicles = fleet_size or max_routes or default_fleet_size(np.delete(demands, depot), capacity)
    name = header.get("NAME", path.stem)
    problem, matrices = cvrp_problem(coords, demands, depot=depot, capacity=capacity, n_vehicles=n_vehicles)
    return CvrpInstance(name=name, capacity=capacity, coords=coords, demands=demands, depot=depot,
                        max_routes=max_routes, problem=problem, matrices=matrices)


def cvrp_problem(coords: FloatArray, demands: FloatArray, *, depot: int, capacity: float,
                 n_vehicles: int) -> tuple[Problem, FleetMatrices]:
    """The wasteroute problem and matrices of a CVRP (see the module docstring)."""
    bins = tuple(Bin(id=str(i), lon=0.0, lat=0.0, demand_kg=float(demands[i]), service_s=0.0)
                 for i in range(len(demands)) if i != depot)
    vehicles = tuple(Vehicle(id=f"v{k + 1}", depot_id=DEPOT_ID, capacity_kg=capacity, cost_per_km=1.0,
                             cost_per_hour=0.0) for k in range(n_vehicles))
    problem = Problem(depots=(Depot(DEPOT_ID, 0.0, 0.0),), vehicles=vehicles, bins=bins)
    # matrix rows follow the problem's location order: the depot, then the bins
    order = [depot] + [int(b.id) for b in bins]
    distance = rounded_euclidean(coords[order])
    matrices = TravelMatrices(duration_s=np.zeros_like(distance), distance_m=distance)
    return problem, FleetMatrices.uniform(matrices, (v.id for v in vehicles))


def read_cvrp_solution(path: str | Path) -> CvrpSolution:
    """Read a CVRPLIB ``.sol`` file: ``Route #k: c1 c2 ...`` lines and a ``Cost X`` line."""
    path = Path(path)
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text:
            continue
        route = re.match(r"^Route\s*#\s*\d+\s*:(.*)$", text, flags=re.IGNORECASE)
        if route is not None:
            routes.append(tuple(int(c) for c in route.group(1).split()))
            continue
        stated = re.match(r"^Cost\s*:?\s*(\S+)$", text, flags=re.IGNORECASE)
        if stated is not None:
            cost = _number(stated.group(1), path=path, what="Cost")
    if cost is None:
        raise InstanceFormatError(f"{path}: no 'Cost' line")
    if not routes:
        raise InstanceFormatError(f"{path}: no 'Route #k:' line")
    return CvrpSolution(routes=tuple(routes), cost=cost)


def solution_plan(instance: CvrpInstance, routes: Sequence[Sequence[int]]) -> Plan:
    """The plan driving CVRPLIB ``routes`` (customer numbers), route ``k`` on vehicle ``k``.

    Raises ``ValueError`` when there are more routes than vehicles in the problem.
    """
    vehicles = instance.problem.vehicles
    if len(routes) > len(vehicles):
        raise ValueError(f"{len(routes)} routes but only {len(vehicles)} vehicles in {instance.name}")
    return Plan(routes=tuple(RoutePlan(v.id, tuple(str(c) for c in route))
                             for v, route in zip(vehicles, routes, strict=False)))
