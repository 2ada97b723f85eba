"""The periodic vehicle routing problem with intermediate facilities (PVRP-IF) of the University of
Udine's waste instances (Milan, Rome, Turin; ``../shared/benchmarks/pvrpif/``), read, checked and
turned into a wasteroute problem.

File format (GeoJSON FeatureCollection): ``info`` gives ``numVehicles`` (vehicles available each
day), ``maxDuration`` (longest route: travel plus service), ``maxCapacity`` (load between two
unloads) and ``planningHorizon`` (days); ``duration`` is the asymmetric travel-time matrix, rows
and columns in feature id order; each feature has ``id``, ``type`` (``depot``, ``customer``,
``intermediateFacility``), ``frequency`` (visits over the horizon), ``demand``, ``service`` and
lon/lat coordinates. Times are the instance's own unit (minutes, by their size), used as given.

:func:`check_plan` re-checks a plan from the instance alone, by the README's rules (which the
published solution reports check): each customer on one of its visiting schemes
(:func:`solver.week.calendar.even_schemes`), at most ``numVehicles`` routes a day, each route from
the depot back to it, the load back to 0 at an intermediate facility and never over
``maxCapacity``, an intermediate facility before the depot, travel + service at most
``maxDuration``; the **cost** is the travel time of every route of every day (service excluded).

:func:`pvrpif_problem` gives the daily problem (the depot, the facilities as tips, every customer
as a bin, ``numVehicles`` vehicles) and matrices in which both the "seconds" and the "metres" are
the instance's travel times, so that the evaluator's ``distance_m`` is the benchmark's cost.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from solver.instances.cvrplib import InstanceFormatError
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Depot, DisposalSite, Problem, Vehicle
from solver.week.calendar import even_schemes

NODE_TYPES = ("depot", "customer", "intermediateFacility")
"""Feature types of an instance."""

REPORT_NAME = re.compile(r"^report_(?P<instance>.+)_feasible_(?P<cost>\d+(?:\.\d+)?)_\d+\.txt$")
"""A solution report's file name: the instance and the cost of its feasible solution."""


@dataclass(frozen=True)
class PvrpifNode:
    """A feature: ``id`` (its row in ``duration``), ``type``, ``frequency`` (visits over the horizon),
    ``demand`` (load units), ``service`` (time units) and lon/lat (degrees)."""

    id: int
    type: str
    frequency: int
    demand: float
    service: float
    lon: float
    lat: float


@dataclass(frozen=True)
class PvrpifInstance:
    """An instance: its ``name``, ``nodes`` (by id), the travel-time ``duration`` matrix and the limits."""

    name: str
    nodes: tuple[PvrpifNode, ...]
    duration: np.ndarray
    num_vehicles: int
    max_duration: float
    max_capacity: float
    horizon: int

    @property
    def depot(self) -> PvrpifNode:
        """The depot."""
        return next(n for n in self.nodes if n.type == "depot")

    @property
    def customers(self) -> tuple[PvrpifNode, ...]:
        """The customers, by id."""
        return tuple(n for n in self.nodes if n.type == "customer")

    @property
    def facilities(self) -> tuple[PvrpifNode, ...]:
        """The intermediate facilities, by id."""
        return tuple(n for n in self.nodes if n.type == "intermediateFacility")

    def schemes(self, node: PvrpifNode) -> tuple[frozenset[int], ...]:
        """The visiting schemes (day sets) of a customer: ``frequency`` evenly spaced days over the horizon."""
        return even_schemes(self.horizon, node.frequency)


def read_pvrpif(path: str | Path) -> PvrpifInstance:
    """Read an instance file; :class:`~solver.instances.cvrplib.InstanceFormatError` naming what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        info = data["info"]
        features = data["features"]
        matrix = np.asarray(data["duration"], dtype=np.float64)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InstanceFormatError(f"{path}: not a PVRP-IF instance ({type(exc).__name__}: {exc})") from exc
    nodes = []
    for k, feature in enumerate(features):
        props = feature.get("properties", {})
        try:
            lon, lat = feature["geometry"]["coordinates"][:2]
            node = PvrpifNode(id=int(props["id"]), type=str(props["type"]), frequency=int(props["frequency"]),
                              demand=float(props["demand"]), service=float(props["service"]), lon=float(lon),
                              lat=float(lat))
        except (KeyError, TypeError, ValueError) as exc:
            raise InstanceFormatError(f"{path}: features[{k}] lacks or garbles {exc}") from exc
        if node.type not in NODE_TYPES:
            raise InstanceFormatError(f"{path}: features[{k}] (id {node.id}) has type {node.type!r}, "
                                      f"not one of {', '.join(NODE_TYPES)}")
        nodes.append(node)
    nodes.sort(key=lambda n: n.id)
    if [n.id for n in nodes] != list(range(len(nodes))):
        raise InstanceFormatError(f"{path}: feature ids must be 0..{len(nodes) - 1}, each once")
    if matrix.shape != (len(nodes), len(nodes)):
        raise InstanceFormatError(f"{path}: duration is {matrix.shape}, expected {len(nodes)} x {len(nodes)}")
    if sum(n.type == "depot" for n in nodes) != 1:
        raise InstanceFormatError(f"{path}: expected exactly one depot")
    try:
        instance = PvrpifInstance(name=path.name.removesuffix(".geojson"), nodes=tuple(nodes), duration=matrix,
                                  num_vehicles=int(info["numVehicles"]), max_duration=float(info["maxDuration"]),
                                  max_capacity=float(info["maxCapacity"]), horizon=int(info["planningHorizon"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InstanceFormatError(f"{path}: info lacks or garbles {exc}") from exc
    for node in instance.customers:
        if not 1 <= node.frequency <= instance.horizon:
            raise InstanceFormatError(f"{path}: customer {node.id} has frequency {node.frequency}, outside "
                                      f"1..{instance.horizon}")
    return instance


@dataclass(frozen=True)
class BestKnown:
    """The best reported cost of an instance and the report it comes from."""

    cost: float
    source: str


def best_known(instance_path: str | Path) -> BestKnown | None:
    """The lowest cost among the solution reports of the instance (``../solutions/`` beside the
    ``instances/`` folder, and its ``milp_best/``), or ``None`` when there is none."""
    path = Path(instance_path)
    name = path.name.removesuffix(".geojson")
    folder = path.parent.parent / "solutions"
    best: BestKnown | None = None
    pattern = f"report_{name}_feasible_*.txt"
    for report in [*folder.glob(pattern), *folder.glob(f"milp_best/{pattern}")]:
        match = REPORT_NAME.match(report.name)
        if match is None or match["instance"] != name:
            continue
        cost = float(match["cost"])
        if best is None or cost < best.cost:
            best = BestKnown(cost=cost, source=str(report.relative_to(folder)))
    return best


DayRoute = tuple[int, tuple[int, ...]]
"""A route: its day and its path of node ids, depot first and last."""


def read_report_routes(path: str | Path) -> list[DayRoute]:
    """The routes of a published solution report: each ``Day: d: Vehicle:v`` block's ``path`` row."""
    routes: list[DayRoute] = []
    day: int | None = None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        header = re.match(r"^Day:\s*(\d+):\s*Vehicle:\s*(\d+)", line)
        if header:
            day = int(header[1])
            continue
        if day is not None and line.startswith("path"):
            routes.append((day, tuple(int(float(v)) for v in line.split()[1:])))
            day = None
    return routes


@dataclass(frozen=True)
class PlanCheck:
    """What :func:`check_plan` found: ``feasible`` when ``faults`` is empty, the benchmark ``cost``
    (travel of every route), ``vehicles_per_day`` and each route's time (travel + service)."""

    cost: float
    vehicles_per_day: tuple[int, ...]
    route_times: tuple[float, ...]
    faults: tuple[str, ...] = field(default=())

    @property
    def feasible(self) -> bool:
        """No rule broken."""
        return not self.faults


def check_plan(instance: PvrpifInstance, routes: Iterable[DayRoute]) -> PlanCheck:
    """Re-check a plan by the README's rules from the instance alone (see the module docstring).

    A fault names the rule, the day and route (or the customer); routes without a customer
    (depot to depot) are counted neither as vehicles nor in the cost when they drive nowhere.
    """
    nodes = instance.nodes
    depot = instance.depot.id
    faults: list[str] = []
    vehicles = [0] * instance.horizon
    days_of: dict[int, list[int]] = {c.id: [] for c in instance.customers}
    cost = 0.0
    times = []
    for r, (day, path) in enumerate(routes):
        where = f"day {day} route {r}"
        if not 0 <= day < instance.horizon:
            faults.append(f"{where}: day outside the horizon 0..{instance.horizon - 1}")
            continue
        if len(path) < 2 or path[0] != depot or path[-1] != depot:
            faults.append(f"{where}: does not start and end at the depot {depot}")
            continue
        inner = path[1:-1]
        if any(not 0 <= n < len(nodes) for n in inner):
            faults.append(f"{where}: names a node that is not in the instance")
            continue
        if not inner:
            continue
        vehicles[day] += 1
        travel = float(sum(instance.duration[a, b] for a, b in itertools.pairwise(path)))
        service = float(sum(nodes[n].service for n in inner))
        load = 0.0
        for n in inner:
            kind = nodes[n].type
            if kind == "depot":
                faults.append(f"{where}: passes the depot mid-route")
            elif kind == "intermediateFacility":
                load = 0.0
            else:
                load += nodes[n].demand
                days_of[n].append(day)
                if load > instance.max_capacity + 1e-9:
                    faults.append(f"{where}: load {load:g} over the capacity {instance.max_capacity:g} at {n}")
        if any(nodes[n].type == "customer" for n in inner) and nodes[inner[-1]].type != "intermediateFacility":
            faults.append(f"{where}: goes back to the depot without an intermediate facility (load {load:g})")
        if travel + service > instance.max_duration + 1e-9:
            faults.append(f"{where}: time {travel + service:g} over the maximum {instance.max_duration:g}")
        cost += travel
        times.append(travel + service)
    for day, count in enumerate(vehicles):
        if count > instance.num_vehicles:
            faults.append(f"day {day}: {count} routes, more than the {instance.num_vehicles} vehicles")
    for customer in instance.customers:
        visited = days_of[customer.id]
        if len(set(visited)) != len(visited):
            faults.append(f"customer {customer.id}: visited twice on one day ({sorted(visited)})")
        elif frozenset(visited) not in instance.schemes(customer):
            options = [sorted(s) for s in instance.schemes(customer)]
            faults.append(f"customer {customer.id}: visited on days {sorted(visited)}, not one of its schemes "
                          f"{options}")
    return PlanCheck(cost=cost, vehicles_per_day=tuple(vehicles), route_times=tuple(times), faults=tuple(faults))


def pvrpif_problem(instance: PvrpifInstance) -> tuple[Problem, FleetMatrices]:
    """The daily problem of an instance (see the module docstring); ids are the node ids as text."""
    depot = instance.depot
    sites = tuple(DisposalSite(id=str(n.id), lon=n.lon, lat=n.lat, unload_s=n.service) for n in instance.facilities)
    bins = tuple(Bin(id=str(n.id), lon=n.lon, lat=n.lat, demand_kg=n.demand, service_s=n.service)
                 for n in instance.customers)
    # the shift is the route's longest time; no fixed or hourly cost: the benchmark counts travel alone
    vehicles = tuple(Vehicle(id=f"v{k + 1}", depot_id=str(depot.id), capacity_kg=instance.max_capacity,
                             shift_start_s=0, shift_end_s=int(instance.max_duration), cost_per_km=1.0,
                             cost_per_hour=0.0, tip_before_return=True)
                     for k in range(instance.num_vehicles))
    problem = Problem(depots=(Depot(str(depot.id), depot.lon, depot.lat),), vehicles=vehicles, bins=bins,
                      disposal_sites=sites)
    rows = np.array([int(i) for i in problem.location_ids()], dtype=np.intp)
    travel = instance.duration[np.ix_(rows, rows)]
    matrices = TravelMatrices(duration_s=travel.copy(), distance_m=travel.copy())
    return problem, FleetMatrices.uniform(matrices, (v.id for v in vehicles))


def routes_of_days(days: Mapping[int, Sequence[Sequence[str]]], depot: int) -> list[DayRoute]:
    """Routes in the instance's numbering from each day's stop lists (node ids as text, breaks left out)."""
    return [(day, (depot, *(int(s) for s in stops if s != "break"), depot))
            for day in sorted(days) for stops in days[day]]
