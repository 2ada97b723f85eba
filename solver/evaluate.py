"""KPIs and constraint check of any plan: the single source of every reported figure.

:func:`evaluate` drives each route through its vehicle's own travel matrices, stop by
stop, following ``docs/rules.md`` exactly, and records what happens. Conventions
(units in the names: metres, seconds since midnight, kg, litres):

- A route starts at its vehicle's depot at ``shift_start_s`` with an empty body
  (visit ``sequence`` 0), visits its stops in order and returns to the same depot
  (the last visit). Routes with no stops are not reported: the vehicle is not used.
- **Bin**: ``arrival_s`` = previous departure + travel; collection starts
  (``start_s``) on arrival, or, with time windows, at the earliest moment a window
  not yet closed allows (the crew waits); with every window closed it starts on
  arrival and the visit is ``late``. ``departure_s = start_s + service_s``. The load
  grows by ``demand_kg`` and ``volume_l``; lifts by one.
- **Disposal site**: unloading starts on arrival or when the site opens, whichever
  is later (``closed_site`` if that is after it closes); ``departure_s = start_s +
  unload_s``; the load drops to 0 kg and 0 l; ``trips`` counts the tips.
- **Break** (``"break"``, the vehicle's breaks in order): taken where the vehicle
  is (``location_index`` of the previous stop, or of the depot), no travel; starts at
  the previous departure or when its window opens, whichever is later
  (``late_break`` if after it closes); lasts ``duration_s``. A route whose plan records
  no breaks (:attr:`~solver.solution.RoutePlan.breaks_where_they_fit`, today's rounds
  from an in-cab system) takes each break where it fits: after the first stop left
  once its window has opened, or, when the drive back to the depot would end after the
  window opens, at the last stop before it (waiting for the window if need be).
- Back at the depot: ``arrival_s`` = last departure + travel; the route's
  ``duration_s`` runs from ``shift_start_s`` to that arrival.
- ``load_kg``/``load_l`` of a visit are the load on board **after** the stop; on the
  final depot visit, what is still on board. A route's ``load_kg``/``load_l`` are the
  totals collected over all its loads.
- ``cost = fixed_cost + cost_per_km * km + cost_per_hour * hours``.
- Violations (``Violation(type, stop, detail)``), in driving order, then those found
  back at the depot (``shift_overrun``, ``not_tipped``, ``missing_break``, all with the
  depot as ``stop``):
  ``overload`` once per route at the first stop where the load since the last tip
  exceeds ``capacity_kg`` or ``capacity_l``; ``too_many_lifts`` once, at the first bin
  beyond ``max_lifts``; ``daily_limit`` once, at the first bin that takes the kg
  collected beyond ``max_collected_kg``; ``late`` per bin; ``closed_site`` per tip;
  ``incompatible_stream`` per bin of a stream the vehicle does not carry and per tip
  at a site that does not accept a stream on board; ``vehicle_too_big`` per bin
  whose ``max_vehicle_weight_kg``/``max_vehicle_width_m`` the vehicle exceeds (a
  vehicle whose size is unknown is never too big); ``wrong_vehicle`` per bin pinned
  to another vehicle; ``late_break`` per break; ``missing_break`` per break of the
  vehicle not taken while the route returns after its window opened;
  ``not_tipped`` when the problem has disposal sites, the vehicle has
  ``tip_before_return`` and it comes back with kg or litres on board;
  ``shift_overrun`` when back after ``shift_end_s``.
  ``unknown_stop`` for an id that is no bin or site of the problem (a depot id
  included) or a ``"break"`` beyond the vehicle's breaks: the stop is skipped (no
  leg, no visit). ``duplicate_stop`` for a bin already visited earlier in the plan:
  the vehicle still drives there and spends the service time, but its load and its
  lift count only once and no other check is made there. ``no_path`` for a leg with
  no path (``inf`` in the vehicle's matrices): that leg counts 0 m and 0 s.
- Comparisons allow :data:`solver.scaling.LOAD_TOLERANCE_KG` (kg and litres) and
  :data:`solver.scaling.TIME_TOLERANCE_S` of float noise.

The summary is the plain sum of the reported routes, in route order, plus the
objective's other terms (see :class:`solver.solution.Summary`). Bins on no route and
not in ``plan.unassigned`` are added to the evaluation's ``unassigned`` with reason
``not_in_plan``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import BREAK_STOP, Bin, DisposalSite, Problem, ProblemError, SolveOptions, TimeWindow, Vehicle
from solver.scaling import LOAD_TOLERANCE_KG, TIME_TOLERANCE_S
from solver.solution import (
    Evaluation,
    Plan,
    RouteEvaluation,
    RoutePlan,
    Summary,
    Unassigned,
    Violation,
    ViolationType,
    Visit,
    VisitType,
)
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR, SECONDS_PER_MINUTE

AnyMatrices = FleetMatrices | TravelMatrices
"""What the evaluator accepts: per-vehicle matrices, or one set every vehicle drives by."""


def clock(seconds: float) -> str:
    """Seconds since midnight as ``"HH:MM"`` (``"HH:MM:SS"`` when not a whole minute)."""
    whole = round(seconds)
    hours, rest = divmod(whole, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, SECONDS_PER_MINUTE)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def as_fleet(problem: Problem, matrices: AnyMatrices) -> FleetMatrices:
    """``matrices`` as :class:`FleetMatrices`: plain :class:`TravelMatrices` serve every vehicle."""
    if isinstance(matrices, TravelMatrices):
        return FleetMatrices.uniform(matrices, (v.id for v in problem.vehicles))
    return matrices


def check_matrices(problem: Problem, matrices: AnyMatrices) -> None:
    """Raise ``ValueError`` unless every vehicle has matrices, all square with one row per location."""
    fleet = as_fleet(problem, matrices)
    n = problem.n_locations
    for v in problem.vehicles:
        if fleet.vehicle_profile.get(v.id) not in fleet.profiles:
            raise ValueError(f"matrices: vehicle {v.id!r} has no access profile with matrices")
    for key, profile in fleet.profiles.items():
        for name in ("duration_s", "distance_m"):
            shape = getattr(profile, name).shape
            if shape != (n, n):
                raise ValueError(f"matrices.{name} of profile {key!r} must have shape ({n}, {n}) for "
                                 f"{len(problem.depots)} depots, {len(problem.disposal_sites)} disposal sites "
                                 f"and {len(problem.bins)} bins, got {shape}")


def find_bin(problem: Problem, location_id: str) -> Bin | None:
    """The bin with id ``location_id``, or ``None`` if it is not a bin of ``problem``."""
    try:
        index = problem.location_index(location_id)
    except KeyError:
        return None
    offset = problem.bin_offset()
    return problem.bins[index - offset] if index >= offset else None


def find_site(problem: Problem, location_id: str) -> DisposalSite | None:
    """The disposal site with id ``location_id``, or ``None`` if it is not a site of ``problem``."""
    try:
        index = problem.location_index(location_id)
    except KeyError:
        return None
    offset = problem.site_offset()
    return problem.disposal_sites[index - offset] if offset <= index < problem.bin_offset() else None


def route_cost(vehicle: Vehicle, *, distance_m: float, duration_s: float) -> float:
    """Money cost of a used vehicle: fixed cost plus per-km and per-hour costs."""
    return (vehicle.fixed_cost + vehicle.cost_per_km * distance_m / METRES_PER_KM
            + vehicle.cost_per_hour * duration_s / SECONDS_PER_HOUR)


def window_start(windows: tuple[TimeWindow, ...], arrival_s: float) -> tuple[float, bool]:
    """When collection starts for an ``arrival_s`` at a bin with ``windows``, and whether it is late.

    The earliest start any window not yet closed allows (waiting for it to open); with
    no windows, the arrival; with every window closed, the arrival and ``True``.
    """
    best = math.inf
    for opens, closes in windows:
        if arrival_s <= closes + TIME_TOLERANCE_S:
            start = opens if opens > arrival_s else arrival_s
            if start < best:
                best = start
    if best == math.inf:
        return arrival_s, bool(windows)
    return best, False


def vehicle_too_big(vehicle: Vehicle, b: Bin) -> str | None:
    """Why ``vehicle`` is too big for ``b`` (its weight or width limit), or ``None``."""
    if (b.max_vehicle_weight_kg is not None and vehicle.gross_weight_kg is not None
            and vehicle.gross_weight_kg > b.max_vehicle_weight_kg + LOAD_TOLERANCE_KG):
        return f"{vehicle.id!r} weighs {vehicle.gross_weight_kg:g} kg, over the {b.max_vehicle_weight_kg:g} kg limit"
    if (b.max_vehicle_width_m is not None and vehicle.width_m is not None
            and vehicle.width_m > b.max_vehicle_width_m + 1e-9):
        return f"{vehicle.id!r} is {vehicle.width_m:g} m wide, over the {b.max_vehicle_width_m:g} m limit"
    return None


def _windows_text(windows: tuple[TimeWindow, ...]) -> str:
    return ", ".join(f"{clock(a)}-{clock(b)}" for a, b in windows)


class _RouteWalk:
    """A vehicle driven along its stops, accumulating visits, figures and violations.

    ``seen`` maps each bin id already visited in the plan to the vehicle id that
    visited it first; the walk adds the bins it serves.
    """

    def __init__(self, problem: Problem, matrices: TravelMatrices, vehicle: Vehicle,
                 seen: dict[str, str], *, breaks_where_they_fit: bool = False) -> None:
        self.breaks_where_they_fit = breaks_where_they_fit
        self.problem = problem
        self.duration = matrices.duration_s
        self.distance = matrices.distance_m
        self.vehicle = vehicle
        self.seen = seen
        self.site_offset = problem.site_offset()
        self.bin_offset = problem.bin_offset()
        self.depot_index = problem.location_index(vehicle.depot_id)
        self.at_index = self.depot_index
        self.clock_s = float(vehicle.shift_start_s)
        self.kg = 0.0
        self.litres = 0.0
        self.on_board: dict[str, str] = {}  # stream -> first bin of that stream in this load
        self.collected_kg = 0.0
        self.collected_l = 0.0
        self.lifts = 0
        self.trips = 0
        self.breaks_taken = 0
        self.distance_m = 0.0
        self.visits: list[Visit] = []
        self.violations: list[Violation] = []
        self._overloaded = False
        self._too_many_lifts = False
        self._over_daily = False
        self._record("depot", vehicle.depot_id, self.depot_index, arrival_s=self.clock_s, start_s=self.clock_s,
                     departure_s=self.clock_s, leg_distance_m=0.0, leg_duration_s=0.0)

    def _violate(self, kind: ViolationType, stop: str, detail: str) -> None:
        self.violations.append(Violation(type=kind, stop=stop, detail=detail))

    def _record(self, kind: VisitType, location_id: str, index: int, *, arrival_s: float, start_s: float,
                departure_s: float, leg_distance_m: float, leg_duration_s: float) -> None:
        self.visits.append(Visit(
            sequence=len(self.visits), type=kind, location_id=location_id, location_index=index,
            arrival_s=arrival_s, departure_s=departure_s, load_kg=self.kg, leg_distance_m=leg_distance_m,
            leg_duration_s=leg_duration_s, load_l=self.litres, start_s=start_s))

    def _drive(self, location_id: str, index: int) -> tuple[float, float]:
        """Drive from the current location to ``index``; the leg's (metres, seconds)."""
        distance_m = float(self.distance[self.at_index, index])
        duration_s = float(self.duration[self.at_index, index])
        if not (math.isfinite(distance_m) and math.isfinite(duration_s)):
            from_id = self.problem.location_ids()[self.at_index]
            self._violate("no_path", location_id,
                          f"{self.vehicle.id!r} has no path from {from_id!r} to {location_id!r} on the streets "
                          "it may use; this leg counts 0 m and 0 s")
            distance_m, duration_s = 0.0, 0.0
        self.distance_m += distance_m
        self.clock_s += duration_s
        self.at_index = index
        return distance_m, duration_s

    def visit(self, stop_id: str) -> None:
        """Drive to ``stop_id`` and serve it: a bin, a disposal site or ``"break"``."""
        if stop_id == BREAK_STOP:
            self._visit_break()
            return
        self._break_if_due(next_leg_s=0.0)
        try:
            index = self.problem.location_index(stop_id)
        except KeyError:
            self._violate("unknown_stop", stop_id,
                          f"{stop_id!r} is no bin or disposal site of this problem; the stop is skipped")
            return
        if index >= self.bin_offset:
            self._visit_bin(self.problem.bins[index - self.bin_offset], index)
        elif index >= self.site_offset:
            self._visit_site(self.problem.disposal_sites[index - self.site_offset], index)
        else:
            self._violate("unknown_stop", stop_id,
                          f"{stop_id!r} is a depot; a route's depot start and end are implied, the stop is skipped")

    def _visit_bin(self, b: Bin, index: int) -> None:
        leg_m, leg_s = self._drive(b.id, index)
        arrival_s = self.clock_s
        start_s, late = window_start(b.time_windows, arrival_s)
        departure_s = start_s + b.service_s
        first_by = self.seen.get(b.id)
        if first_by is None:
            self.seen[b.id] = self.vehicle.id
            self._check_bin(b, start_s, late)
            self._collect(b)
        else:
            where = "earlier on this route" if first_by == self.vehicle.id else f"by {first_by!r}"
            self._violate("duplicate_stop", b.id,
                          f"bin {b.id!r} was already visited {where}; its {b.demand_kg:g} kg count once")
        self.clock_s = departure_s
        self._record("bin", b.id, index, arrival_s=arrival_s, start_s=start_s, departure_s=departure_s,
                     leg_distance_m=leg_m, leg_duration_s=leg_s)

    def _check_bin(self, b: Bin, start_s: float, late: bool) -> None:
        vehicle = self.vehicle
        if late:
            self._violate("late", b.id, f"collection starts at {clock(start_s)} ({start_s:g} s), after every "
                          f"window of {b.id!r} closed ({_windows_text(b.time_windows)})")
        if not vehicle.carries(b.stream):
            self._violate("incompatible_stream", b.id, f"bin {b.id!r} holds {b.stream!r}; {vehicle.id!r} carries "
                          f"{', '.join(map(repr, vehicle.streams))}")
        too_big = vehicle_too_big(vehicle, b)
        if too_big is not None:
            self._violate("vehicle_too_big", b.id, f"bin {b.id!r} needs a smaller vehicle: {too_big}")
        if b.vehicle_id is not None and b.vehicle_id != vehicle.id:
            self._violate("wrong_vehicle", b.id, f"bin {b.id!r} is pinned to {b.vehicle_id!r}, "
                          f"not {vehicle.id!r}")

    def _collect(self, b: Bin) -> None:
        vehicle = self.vehicle
        self.kg += b.demand_kg
        self.litres += b.volume_l
        self.collected_kg += b.demand_kg
        self.collected_l += b.volume_l
        self.lifts += 1
        self.on_board.setdefault(b.stream, b.id)
        if not self._overloaded:
            over = []
            if self.kg > vehicle.capacity_kg + LOAD_TOLERANCE_KG:
                over.append(f"{self.kg:g} kg exceeds capacity {vehicle.capacity_kg:g} kg")
            if vehicle.capacity_l is not None and self.litres > vehicle.capacity_l + LOAD_TOLERANCE_KG:
                over.append(f"{self.litres:g} l exceeds capacity {vehicle.capacity_l:g} l")
            if over:
                self._overloaded = True
                since = f"since the last tip ({self.trips} so far)" if self.trips else "since leaving the depot"
                self._violate("overload", b.id, f"load {since}: " + " and ".join(over) + f" of {vehicle.id!r}")
        if not self._too_many_lifts and vehicle.max_lifts is not None and self.lifts > vehicle.max_lifts:
            self._too_many_lifts = True
            self._violate("too_many_lifts", b.id, f"lift {self.lifts} exceeds the {vehicle.max_lifts} lifts "
                          f"a shift of {vehicle.id!r} allows")
        if (not self._over_daily and vehicle.max_collected_kg is not None
                and self.collected_kg > vehicle.max_collected_kg + LOAD_TOLERANCE_KG):
            self._over_daily = True
            self._violate("daily_limit", b.id, f"{self.collected_kg:g} kg collected exceeds the daily limit "
                          f"{vehicle.max_collected_kg:g} kg of {vehicle.id!r}")

    def _visit_site(self, site: DisposalSite, index: int) -> None:
        leg_m, leg_s = self._drive(site.id, index)
        arrival_s = self.clock_s
        opens, closes = site.opening
        start_s = max(arrival_s, float(opens))
        if start_s > closes + TIME_TOLERANCE_S:
            self._violate("closed_site", site.id, f"unloading at {site.id!r} would start at {clock(start_s)} "
                          f"({start_s:g} s), after it closes at {clock(closes)}")
        refused = [s for s in self.on_board if not site.accepts(s)]
        if refused:
            self._violate("incompatible_stream", site.id, f"{site.id!r} does not accept "
                          f"{', '.join(map(repr, refused))} on board of {self.vehicle.id!r} (first from bin "
                          f"{self.on_board[refused[0]]!r})")
        departure_s = start_s + site.unload_s
        self.kg = 0.0
        self.litres = 0.0
        self.on_board = {}
        self.trips += 1
        self.clock_s = departure_s
        self._record("disposal", site.id, index, arrival_s=arrival_s, start_s=start_s, departure_s=departure_s,
                     leg_distance_m=leg_m, leg_duration_s=leg_s)

    def _break_if_due(self, *, next_leg_s: float) -> None:
        """For a plan that records no breaks: take the next break here when its window has opened by
        the time the vehicle would leave, or opens before it arrives ``next_leg_s`` seconds later."""
        breaks = self.vehicle.breaks
        while self.breaks_where_they_fit and self.breaks_taken < len(breaks):
            if self.clock_s + next_leg_s <= breaks[self.breaks_taken].window[0] + TIME_TOLERANCE_S:
                return
            self._visit_break()

    def _visit_break(self) -> None:
        breaks = self.vehicle.breaks
        if self.breaks_taken >= len(breaks):
            self._violate("unknown_stop", BREAK_STOP, f"{self.vehicle.id!r} has {len(breaks)} break(s) and this "
                          "is one more; the stop is skipped")
            return
        brk = breaks[self.breaks_taken]
        self.breaks_taken += 1
        arrival_s = self.clock_s
        opens, closes = brk.window
        start_s = max(arrival_s, float(opens))
        if start_s > closes + TIME_TOLERANCE_S:
            self._violate("late_break", BREAK_STOP, f"the break of {self.vehicle.id!r} starts at {clock(start_s)} "
                          f"({start_s:g} s), after its window {clock(opens)}-{clock(closes)} closed")
        self.clock_s = start_s + brk.duration_s
        self._record("break", BREAK_STOP, self.at_index, arrival_s=arrival_s, start_s=start_s,
                     departure_s=self.clock_s, leg_distance_m=0.0, leg_duration_s=0.0)

    def finish(self, *, has_sites: bool) -> RouteEvaluation:
        """Drive back to the depot and return the route's figures."""
        vehicle = self.vehicle
        depot = vehicle.depot_id
        back_s = float(self.duration[self.at_index, self.depot_index])
        self._break_if_due(next_leg_s=back_s if math.isfinite(back_s) else 0.0)
        leg_m, leg_s = self._drive(depot, self.depot_index)
        arrival_s = self.clock_s
        self._record("depot", depot, self.depot_index, arrival_s=arrival_s, start_s=arrival_s,
                     departure_s=arrival_s, leg_distance_m=leg_m, leg_duration_s=leg_s)
        if arrival_s > vehicle.shift_end_s + TIME_TOLERANCE_S:
            self._violate("shift_overrun", depot,
                          f"back at the depot at {clock(arrival_s)} ({arrival_s:g} s), "
                          f"{arrival_s - vehicle.shift_end_s:g} s after the shift of {vehicle.id!r} ends at "
                          f"{clock(vehicle.shift_end_s)} ({vehicle.shift_end_s} s)")
        if has_sites and vehicle.tip_before_return and (self.kg > LOAD_TOLERANCE_KG
                                                         or self.litres > LOAD_TOLERANCE_KG):
            self._violate("not_tipped", depot, f"{vehicle.id!r} comes back with {self.kg:g} kg and {self.litres:g} l "
                          "on board; it must tip before returning")
        for brk in vehicle.breaks[self.breaks_taken:]:
            if arrival_s > brk.window[0] + TIME_TOLERANCE_S:
                self._violate("missing_break", depot, f"{vehicle.id!r} is out when its break window "
                              f"{clock(brk.window[0])}-{clock(brk.window[1])} opens (back at {clock(arrival_s)}) "
                              f"and takes no break of {brk.duration_s:g} s")
        duration_s = arrival_s - vehicle.shift_start_s
        return RouteEvaluation(
            vehicle_id=vehicle.id, visits=tuple(self.visits), distance_m=self.distance_m,
            duration_s=duration_s, load_kg=self.collected_kg, n_bins=self.lifts, trips=self.trips,
            cost=route_cost(vehicle, distance_m=self.distance_m, duration_s=duration_s),
            load_l=self.collected_l, lifts=self.lifts, violations=tuple(self.violations))


def evaluate_route(problem: Problem, matrices: AnyMatrices, vehicle: Vehicle, stops: Iterable[str],
                   *, seen: dict[str, str] | None = None, breaks_where_they_fit: bool = False) -> RouteEvaluation:
    """Figures and violations of ``vehicle`` driving ``stops`` (bin ids, site ids, ``"break"``).

    ``matrices`` are the fleet's (the vehicle's own are used) or one set for all.
    ``seen`` maps bin ids visited earlier in the plan to the vehicle that visited
    them (for ``duplicate_stop``); it is updated in place. Matrix shapes are not
    checked here: :func:`evaluate` does that once. ``breaks_where_they_fit``: the stops
    record no breaks; each is taken where it fits (module docstring).
    """
    own = matrices if isinstance(matrices, TravelMatrices) else matrices.for_vehicle(vehicle.id)
    walk = _RouteWalk(problem, own, vehicle, {} if seen is None else seen, breaks_where_they_fit=breaks_where_they_fit)
    for stop_id in stops:
        walk.visit(stop_id)
    return walk.finish(has_sites=bool(problem.disposal_sites))


def route_vehicles(problem: Problem, routes: Iterable[RoutePlan]) -> list[Vehicle]:
    """The vehicle of each route; ``ProblemError`` for an unknown or repeated vehicle id."""
    by_id = {v.id: v for v in problem.vehicles}
    used: set[str] = set()
    vehicles = []
    for i, route in enumerate(routes):
        field = f"routes[{i}].vehicle_id"
        if route.vehicle_id not in by_id:
            raise ProblemError(f"{field} names unknown vehicle {route.vehicle_id!r}", field=field,
                               item_id=route.vehicle_id)
        if route.vehicle_id in used:
            raise ProblemError(f"{field}: vehicle {route.vehicle_id!r} has more than one route",
                               field=field, item_id=route.vehicle_id)
        used.add(route.vehicle_id)
        vehicles.append(by_id[route.vehicle_id])
    return vehicles


def summarise(routes: Iterable[RouteEvaluation], *, bins_unassigned: int, penalty_cost: float = 0.0,
              bins_moved: int = 0, move_cost: float = 0.0) -> Summary:
    """Totals of evaluated routes: plain sums in route order, plus the objective's other terms."""
    routes = tuple(routes)
    return Summary(
        distance_m=sum((r.distance_m for r in routes), 0.0),
        duration_s=sum((r.duration_s for r in routes), 0.0),
        vehicles_used=len(routes),
        bins_served=sum(r.n_bins for r in routes),
        bins_unassigned=bins_unassigned,
        cost=sum((r.cost for r in routes), 0.0),
        violations=sum(len(r.violations) for r in routes),
        trips=sum(r.trips for r in routes),
        penalty_cost=penalty_cost,
        bins_moved=bins_moved,
        move_cost=move_cost)


def initial_vehicles(options: SolveOptions | None) -> dict[str, str]:
    """Bin (or stop) id -> the vehicle that had it in ``options.initial_routes``."""
    if options is None:
        return {}
    return {stop: r.vehicle_id for r in options.initial_routes for stop in r.stops if stop != BREAK_STOP}


def count_moves(served_by: dict[str, str], options: SolveOptions | None) -> int:
    """Bins served by another vehicle than the one that had them in ``options.initial_routes``.

    ``served_by`` maps bin id to the vehicle that serves it; a bin left out is not a move
    (an optional one pays its penalty instead).
    """
    before = initial_vehicles(options)
    return sum(1 for bin_id, vehicle_id in served_by.items()
               if bin_id in before and before[bin_id] != vehicle_id)


def evaluate(problem: Problem, matrices: AnyMatrices, plan: Plan, *,
             options: SolveOptions | None = None) -> Evaluation:
    """Recompute every figure of ``plan`` from each vehicle's matrices and check its constraints.

    ``matrices``: :class:`FleetMatrices` (each vehicle drives by its own) or one
    :class:`TravelMatrices` for the whole fleet. ``options`` supply the warm start and
    ``move_penalty`` for the summary's move terms. Raises ``ValueError`` for matrices
    of the wrong shape and :class:`ProblemError` for a route naming an unknown vehicle
    or a vehicle with two routes; everything else wrong with a plan is reported as a
    :class:`Violation` on its route. Bins on no route and absent from
    ``plan.unassigned`` are reported unassigned with reason ``not_in_plan``.
    """
    fleet = as_fleet(problem, matrices)
    check_matrices(problem, fleet)
    vehicles = route_vehicles(problem, plan.routes)
    seen: dict[str, str] = {}
    evaluated = [evaluate_route(problem, fleet, vehicle, route.stops, seen=seen,
                                breaks_where_they_fit=route.breaks_where_they_fit)
                 for route, vehicle in zip(plan.routes, vehicles, strict=True) if route.stops]
    listed = {u.bin_id for u in plan.unassigned}
    missing = tuple(Unassigned(b.id, "not_in_plan", "the plan puts this bin on no route")
                    for b in problem.bins if b.id not in seen and b.id not in listed)
    unassigned = plan.unassigned + missing
    penalty_cost = sum((b.penalty or 0.0 for b in problem.bins if not b.required and b.id not in seen), 0.0)
    moved = count_moves(seen, options)
    move_penalty = options.move_penalty if options is not None else 0.0
    summary = summarise(evaluated, bins_unassigned=len(unassigned), penalty_cost=penalty_cost,
                        bins_moved=moved, move_cost=moved * move_penalty)
    return Evaluation(routes=tuple(evaluated), summary=summary, unassigned=unassigned)


def plan_rank(evaluation: Evaluation, objective: str = "cost") -> tuple[int, int, float]:
    """How plans of one problem compare, lower first: violations, then bins unserved, then the
    ``objective`` (``duration``: seconds, ``distance``: metres, ``cost``: money with penalties)."""
    s = evaluation.summary
    value = {"duration": s.duration_s, "distance": s.distance_m}.get(objective, s.objective_cost)
    return s.violations, len(evaluation.unassigned), value


def plan_cost(problem: Problem, matrices: AnyMatrices, plan: Plan, *, options: SolveOptions | None = None) -> float:
    """The objective value of ``plan`` in money, for comparing plans of one problem.

    Route costs (fixed + per km + per hour) + the ``penalty`` of every optional bin on
    no route + ``options.move_penalty`` for every bin served by another vehicle than
    in ``options.initial_routes``. Violations are not priced: compare violation counts
    (``evaluate(...).summary.violations``) first.
    """
    return evaluate(problem, matrices, plan, options=options).summary.objective_cost
