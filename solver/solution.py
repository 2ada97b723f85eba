"""What an engine (or a person) proposes, and what the evaluator makes of it.

A :class:`Plan` is only the order of stops per vehicle plus the bins left out; every
figure (distance in metres, durations and clock times in seconds since midnight,
loads in kg and litres) is produced by :func:`solver.evaluate.evaluate` into an
:class:`Evaluation`, the one source of every number the service reports.

Stop lists (:class:`RoutePlan.stops`) hold bin ids, disposal-site ids and the
literal ``"break"`` (:data:`solver.problem.BREAK_STOP`) in driving order; the depot
start and end are implied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

UnassignedReason = Literal[
    "off_network",
    "unreachable",
    "capacity",
    "time_window",
    "no_compatible_vehicle",
    "shift_too_short",
    "not_worth_serving",
    "no_feasible_insertion",
    "not_in_plan",
]

Relaxation = Literal["compactness", "balance"]
"""A shape constraint a shaped solve may give up; :data:`RELAXATION_ORDER` is the order it does."""

RELAXATION_ORDER: tuple[Relaxation, ...] = ("compactness", "balance")
"""Compact rounds are given up first (a crew can drive a round that reaches into a neighbour's
streets), balance only after (crews are paid and rostered by the shift); hard limits never."""

VisitType = Literal["depot", "bin", "disposal", "break"]

ViolationType = Literal[
    "overload",
    "too_many_lifts",
    "daily_limit",
    "late",
    "closed_site",
    "shift_overrun",
    "missing_break",
    "late_break",
    "incompatible_stream",
    "not_tipped",
    "vehicle_too_big",
    "wrong_vehicle",
    "no_path",
    "unknown_stop",
    "duplicate_stop",
]


@dataclass(frozen=True, slots=True)
class Unassigned:
    """A bin left out of the plan, with the constraint that rules it out."""

    bin_id: str
    reason: UnassignedReason
    detail: str


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """One vehicle's stops in driving order: bin ids, disposal-site ids and ``"break"``;
    depot start and end are implied.

    ``breaks_where_they_fit``: the stops name no break because the plan's source records
    none (today's rounds from an in-cab system), so the evaluator takes each of the
    vehicle's breaks where it fits instead of reporting it missing (see
    :mod:`solver.evaluate`)."""

    vehicle_id: str
    stops: tuple[str, ...]
    breaks_where_they_fit: bool = False


@dataclass(frozen=True, slots=True)
class Plan:
    """Stop sequences for the vehicles used, and the bins not served.

    ``relaxed``: for a shaped solve (balance or compact rounds asked for), the shape
    constraints that could not be kept, in the order they were given up (``"compactness"``,
    ``"balance"``); ``None`` when no shape was asked for.
    """

    routes: tuple[RoutePlan, ...]
    unassigned: tuple[Unassigned, ...] = ()
    relaxed: tuple[Relaxation, ...] | None = None


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken constraint on a route: ``type`` (``overload``, ``shift_overrun``, ...),
    the ``stop`` id where it shows (a bin, a site, ``"break"`` or the depot), and a
    human ``detail``."""

    type: ViolationType
    stop: str
    detail: str


@dataclass(frozen=True, slots=True)
class Visit:
    """A stop on an evaluated route.

    ``type`` is ``depot``, ``bin``, ``disposal`` or ``break``; ``location_id`` the id of
    the stop (``"break"`` for a break) and ``location_index`` the matrix row of the
    place where it happens (for a break: where the vehicle is, the previous stop's
    row or the depot's). ``arrival_s``, ``start_s`` (collection, unloading or break
    starts, after any waiting) and ``departure_s`` are seconds since midnight.
    ``load_kg``/``load_l`` are the load on board **after** the stop (0 after a tip).
    ``leg_distance_m``/``leg_duration_s`` are of the leg that ends here (0 for the
    first depot visit and for breaks).
    """

    sequence: int
    type: VisitType
    location_id: str
    location_index: int
    arrival_s: float
    departure_s: float
    load_kg: float
    leg_distance_m: float
    leg_duration_s: float
    load_l: float
    start_s: float


@dataclass(frozen=True, slots=True)
class RouteEvaluation:
    """Figures of one route: metres driven, seconds from leaving the depot to coming
    back, kg and litres collected (all loads together), bins lifted (``n_bins`` and
    ``lifts``, the same count), loads tipped (``trips``), money cost, and violations."""

    vehicle_id: str
    visits: tuple[Visit, ...]
    distance_m: float
    duration_s: float
    load_kg: float
    n_bins: int
    trips: int
    cost: float
    load_l: float
    lifts: int
    violations: tuple[Violation, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    """Totals over the routes: metres, seconds, vehicles, bins, route cost, violations,
    tips; and the objective's other terms: ``penalty_cost`` (penalties of the optional
    bins left out), ``bins_moved`` and ``move_cost`` (bins on another vehicle than in
    ``options.initial_routes``, times ``options.move_penalty``)."""

    distance_m: float
    duration_s: float
    vehicles_used: int
    bins_served: int
    bins_unassigned: int
    cost: float
    violations: int = 0
    trips: int = 0
    penalty_cost: float = 0.0
    bins_moved: int = 0
    move_cost: float = 0.0

    @property
    def objective_cost(self) -> float:
        """The plan's objective in money: route costs + penalties + move penalties."""
        return self.cost + self.penalty_cost + self.move_cost


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A plan with every figure recomputed from the matrices."""

    routes: tuple[RouteEvaluation, ...]
    summary: Summary
    unassigned: tuple[Unassigned, ...] = field(default=())
