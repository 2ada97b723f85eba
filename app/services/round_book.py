"""A crew's round book: one round of a plan as a crew reads it, street by street.

The round's stops in driving order become entries: leaving the depot, each street with its
house numbers or range and count ("Burley Road 2-48 even, 23 bins", assisted collections
named), the tip visits, the break, the return to the depot; each entry with its planned times
and the directions that lead to it from the entry before ("left onto High Street"). The
directions come from the drawn line matched back to the road network
(:func:`solver.directions.match_line`, :func:`solver.directions.steps`); streets and numbers
from :mod:`app.services.addresses`. Times are ``"HH:MM"`` on the plan's day, distances
metres, volumes litres. Rendering (HTML, PDF, the map) is :mod:`app.services.round_book_render`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from app.schemas import OptimisationResponse, RouteFeature, VisitFeature
from app.services.addresses import BinDetails, house_number_value, stop_lonlat, streets_at
from app.services.optimisation import seconds_to_clock

if TYPE_CHECKING:
    from solver.network import RoadNetwork

EntryKind = Literal["depot", "street", "disposal", "break"]

class UnknownRoundError(ValueError):
    """A round was asked for that the plan does not have."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a round book: ``kind`` (depot, street, disposal, break), ``title`` (the street
    with its numbers and count, the site, the depot), ``arrival``/``departure`` (``"HH:MM"``),
    ``bins`` lifted, ``assisted`` house numbers or bin ids, ``directions`` to reach it from the
    entry before, and the first and last stop ``sequence`` numbers it covers."""

    kind: EntryKind
    title: str
    arrival: str
    departure: str
    first_sequence: int
    last_sequence: int
    bins: int = 0
    assisted: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    street: str | None = None


@dataclass(frozen=True, slots=True)
class RoundBook:
    """One round's book: ``round_id`` (the vehicle), its figures (``distance_m``, ``duration_s``,
    ``bins``, ``trips``), ``start``/``end`` times, its ``entries`` in driving order, its drawn
    ``line`` (lon/lat) and its ``stops`` (lon, lat, kind) for the map."""

    round_id: str
    distance_m: float
    duration_s: float
    bins: int
    trips: int
    start: str
    end: str
    entries: list[Entry]
    line: list[tuple[float, float]]
    stops: list[tuple[float, float, str]] = field(default_factory=list)


def _street_key(street: str) -> str:
    """A street's name as compared: its letters and digits in lower case ("Lands' End Way" is
    "Lands End Way", as :func:`solver.directions.steps` reads them)."""
    return re.sub(r"[^0-9a-z]", "", street.casefold()) or street


def _plural(n: int, word: str) -> str:
    """``1 bin``, ``23 bins``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def number_range(numbers: Sequence[str | None]) -> str:
    """House numbers as a crew reads them: ``"2-48 even"``, ``"1-47 odd"``, ``"3-20"`` (both sides),
    ``"12"`` (one), ``""`` (none known)."""
    values = sorted({v for v in (house_number_value(n) for n in numbers) if v is not None})
    if not values:
        return ""
    if len(values) == 1:
        known = [n for n in numbers if n is not None]
        return known[0] if len(set(known)) == 1 else str(values[0])
    span = f"{values[0]}-{values[-1]}"
    if all(v % 2 == 0 for v in values):
        return f"{span} even"
    if all(v % 2 == 1 for v in values):
        return f"{span} odd"
    return span


def street_title(street: str, numbers: Sequence[str | None]) -> str:
    """``"Burley Road 2-48 even, 23 bins"`` for the bins of one street (one number per bin)."""
    span = number_range(numbers)
    return f"{street}{' ' + span if span else ''}, {_plural(len(numbers), 'bin')}"


def _rounds(plan: OptimisationResponse) -> list[tuple[RouteFeature, list[VisitFeature]]]:
    """Each route with its visits in driving order."""
    visits = [f for f in plan.features if isinstance(f, VisitFeature)]
    out = []
    for route in (f for f in plan.features if isinstance(f, RouteFeature)):
        mine = sorted((v for v in visits if v.properties.vehicle_id == route.properties.vehicle_id),
                      key=lambda v: v.properties.sequence)
        out.append((route, mine))
    return out


def round_ids(plan: OptimisationResponse) -> list[str]:
    """The plan's rounds (vehicle ids), in the plan's order."""
    return [route.properties.vehicle_id for route, _ in _rounds(plan)]


def _along(network: RoadNetwork, line: Sequence[tuple[float, float]], visits: Sequence[VisitFeature],
           streets: Sequence[str | None]) -> tuple[list[list[str]], list[str | None]]:
    """For each visit, the instructions of the streets turned onto since the visit before, and the
    street it is on: the snapped edge's name, narrowed to the name the drive goes by there when the
    edge was merged from ways of several names."""
    from solver.directions import TURN_WORDS, match_line, positions_along, steps, to_xy

    turn_round = TURN_WORDS["u_turn"]
    if len(line) < 2:
        return [[] for _ in visits], list(streets)
    line_xy = to_xy(network, np.asarray(line))
    drive = steps(network, match_line(network, line_xy))
    positions = positions_along(line_xy, to_xy(network, np.asarray([v.geometry.coordinates for v in visits])))
    said: list[list[str]] = []
    named: list[str | None] = []
    previous = -1.0
    for i, (position, street) in enumerate(zip(positions.tolist(), streets, strict=True)):
        # a turn round where the vehicle stops is made on leaving the stop: it belongs to the next one
        said.append([s.instruction() for s in drive if i > 0 and s.turn != "start" and (
            previous < s.start_m <= position + 1e-6 or (abs(s.start_m - previous) <= 1e-6 and s.turn == turn_round))
            and not (abs(s.start_m - position) <= 1e-6 and s.turn == turn_round)])
        on = [s for s in drive if s.start_m <= position + 1e-6 <= s.end_m + 2e-6]
        narrower = [s.street for s in on if street and set(s.street.split(" / ")) < set(street.split(" / "))]
        named.append(narrower[-1] if narrower else street)
        previous = position
    return said, named


def build_round_book(plan: OptimisationResponse, round_id: str, network: RoadNetwork,
                     bins: Mapping[str, BinDetails] | None = None) -> RoundBook:
    """The round book of round ``round_id`` of ``plan``, its streets named from ``bins`` (the bins'
    details, by id) where given, else from ``network``. Raises :class:`UnknownRoundError`."""
    found = [(r, v) for r, v in _rounds(plan) if r.properties.vehicle_id == round_id]
    if not found:
        raise UnknownRoundError(f"round {round_id!r} is not in the plan")
    route, visits = found[0]
    details = bins or {}
    line = [(float(lon), float(lat)) for lon, lat in route.geometry.coordinates]
    directions, streets = _along(network, line, visits,
                                 streets_at(network, [stop_lonlat(v) for v in visits]))

    entries: list[Entry] = []
    group: list[tuple[VisitFeature, BinDetails, str]] = []
    group_directions: list[str] = []

    def close_group() -> None:
        if not group:
            return
        street = group[0][2]
        numbers = [d.house_number for _, d, _ in group]
        assisted = tuple(d.house_number or d.address or (v.properties.bin_id or "") for v, d, _ in group
                         if d.assisted)
        first, last = group[0][0].properties, group[-1][0].properties
        entries.append(Entry("street", street_title(street, numbers), first.arrival,
                             seconds_to_clock(last.departure_s), first.sequence, last.sequence, bins=len(group),
                             assisted=assisted, directions=tuple(group_directions), street=street))
        group.clear()
        group_directions.clear()

    for visit, street_here, said in zip(visits, streets, directions, strict=True):
        p = visit.properties
        if p.type == "bin":
            d = details.get(p.bin_id or "", BinDetails())
            street = d.street or street_here or "unnamed road"
            # a new entry wherever the drive turns between two bins, even back onto the same street:
            # one side done, "turn round on Burley Road", then the other side
            if group and (said or _street_key(group[-1][2]) != _street_key(street)):
                close_group()
            if not group:
                group_directions[:] = said
            group.append((visit, d, street))
            continue
        close_group()
        if p.type == "depot":
            title = f"{'Leave' if p.sequence == 0 else 'Back at'} depot {p.depot_id}"
        elif p.type == "disposal":
            title = f"Tip at {p.site_id}" + (f" ({street_here})" if street_here else "")
        else:
            title = f"Break ({round((p.departure_s - p.start_s) / 60)} min)"
        entries.append(Entry(p.type, title, p.arrival, seconds_to_clock(p.departure_s), p.sequence, p.sequence,
                             directions=tuple(said), street=street_here))
    close_group()
    props = route.properties
    stops: list[tuple[float, float, str]] = [
        (float(v.geometry.coordinates[0]), float(v.geometry.coordinates[1]), v.properties.type) for v in visits]
    return RoundBook(round_id=round_id, distance_m=props.distance_m, duration_s=props.duration_s,
                     bins=props.n_bins, trips=props.trips,
                     start=seconds_to_clock(visits[0].properties.departure_s) if visits else "",
                     end=visits[-1].properties.arrival if visits else "", entries=entries, line=line, stops=stops)
