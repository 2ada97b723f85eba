"""A small English county's files, as its fleet planner would export them, for the county case on
Rutland (``tests/web/test_county_case_rutland.py``): built from the real OpenStreetMap extract of
Rutland in ``../shared``, deterministic (the same extract always gives the same bytes).

**Households.** Oakham's homes as :mod:`solver.instances.oakham` places them (mapped buildings and
addresses, and homes placed along residential streets where the map has none), within
:data:`RADIUS_M` of the town's ``place=town`` node and within :data:`STREET_M` of a named street;
the :data:`HOUSEHOLDS` nearest the centre. Each is given the name of its nearest named street and a
house number counted along that street, odd on the left and even on the right (as English streets
are numbered), so the round book's street ranges are real streets of Oakham.

**Files.** A gazetteer export in British National Grid (EPSG:27700, metres to the centimetre):
UPRN, ADDRESS, EASTING, NORTHING, BIN_SIZE, STREAM, FREQUENCY, DAY, WEEK, ROUND, ASSISTED, NOTES, and
columns the service does not use (USRN, POSTCODE, WARD, PARISH, LPI_STATUS: made up, in the shape
councils' are); a fleet file (two
lorries on the depot of the Oakham case, Pillings Road, its position in eastings/northings); the
tip (Cottesmore recycling centre); and an in-cab export of Monday's and Tuesday's round (round,
day, week, sequence, UPRN, address): one lorry, house to nearest house as :func:`todays_rounds`
drives them (Monday's the other way round), then to the tip (a row whose UPRN cell names the tip, as
in-cab systems log a tip visit).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pyproj
import shapely

from solver.instances.oakham import DEPOT, SETTLEMENTS, TIP, Settlement, households

from .test_county_case import write_csv

BNG = "EPSG:27700"
HOUSEHOLDS = int(os.environ.get("WASTEROUTE_COUNTY_HOUSEHOLDS", "300"))
"""Households of the case: 300 in CI (about a minute); the issue's whole county day is the Oakham case's
2,603 homes, of which 2,584 can be addressed on a named road (``WASTEROUTE_COUNTY_HOUSEHOLDS=2584``: four
lorries today, docs/web.md)."""
RADIUS_M = 700.0
"""Homes within this many metres of Oakham's centre (its OSM ``place=town`` node) are the candidates of the
CI case; the whole county day takes the Oakham case's (``solver.instances.oakham``: the town and its villages)."""
STREET_M = 40.0 if HOUSEHOLDS <= 300 else 250.0
"""A home farther than this from every named street is left out (it could not be given an address); the
whole county day's farms and lanes are addressed on the nearest named road within 250 m."""
HOMES_A_ROUND = 500
"""Homes one lorry collects today at most (lifts and driving within a 9-hour shift, villages included)."""
TIP_ID = "cottesmore-hwrc"
ROUNDS = tuple(f"OAK-REF-{k}" for k in range(1, math.ceil(HOUSEHOLDS / HOMES_A_ROUND) + 2))
"""The lorries' ids in the fleet file, which the in-cab system names its rounds by (today's rounds are
all but the last's: the last is the spare)."""
STREETS = frozenset({"residential", "living_street", "unclassified", "tertiary", "secondary", "primary",
                     "service"})
"""``highway`` values whose ``name`` can be a household's street."""


@dataclass(frozen=True)
class Home:
    """A household of the case: position (WGS84 and BNG metres), street, house number, UPRN."""

    uprn: int
    lon: float
    lat: float
    easting: float
    northing: float
    street: str
    number: int


class _NamedStreets(osmium.SimpleHandler):
    """Named streets of the extract, as lon/lat lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, list[tuple[float, float]]]] = []

    def way(self, w: Any) -> None:
        if w.tags.get("highway") in STREETS and w.tags.get("name") and len(w.nodes) >= 2:
            self.lines.append((str(w.tags["name"]), [(n.lon, n.lat) for n in w.nodes]))


def _to_bng() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs("EPSG:4326", BNG, always_xy=True)


def oakham_homes(osm_file: Path) -> list[Home]:
    """The case's :data:`HOUSEHOLDS` homes, nearest Oakham's centre first, each on its named street."""
    oakham = SETTLEMENTS[0]
    # the CI case is the town's centre; the whole county day is the Oakham case's homes, villages included
    found = (households(osm_file, settlements=(Settlement(oakham.name, oakham.lon, oakham.lat, RADIUS_M),))
             if HOUSEHOLDS <= 300 else households(osm_file))
    reader = _NamedStreets()
    reader.apply_file(str(osm_file), locations=True)
    to_bng = _to_bng()
    names = [name for name, _ in reader.lines]
    lines = [shapely.LineString(np.column_stack(to_bng.transform(*np.asarray(coords).T)))
             for _, coords in reader.lines]
    tree = shapely.STRtree(lines)
    lon = np.array([h.lon for h in found])
    lat = np.array([h.lat for h in found])
    east, north = to_bng.transform(lon, lat)
    points = shapely.points(east, north)
    (home_index, line_index), gaps = tree.query_nearest(points, return_distance=True, all_matches=False)
    centre = np.array(to_bng.transform(oakham.lon, oakham.lat))
    candidates = []
    for h, i, gap in zip(home_index, line_index, gaps, strict=True):
        if gap <= STREET_M:
            candidates.append((float(np.hypot(east[h] - centre[0], north[h] - centre[1])), int(h), int(i)))
    chosen = sorted(candidates)[:HOUSEHOLDS]
    # house numbers along each street: by the way it lies on, then the distance along it; odd left, even right
    placed: dict[str, list[tuple[int, float, bool, int]]] = {}
    for _, h, i in chosen:
        line = lines[i]
        along = float(line.project(points[h]))
        ahead = line.interpolate(min(along + 1.0, line.length))
        behind = line.interpolate(max(along - 1.0, 0.0))
        cross = (ahead.x - behind.x) * (north[h] - behind.y) - (ahead.y - behind.y) * (east[h] - behind.x)
        placed.setdefault(names[i], []).append((i, along, cross > 0, h))
    homes = []
    for street, items in placed.items():
        counters = {True: 1, False: 2}
        for _, _, left, h in sorted(items):
            homes.append((h, street, counters[left]))
            counters[left] += 2
    homes.sort(key=lambda item: (lon[item[0]], lat[item[0]]))
    return [Home(uprn=100_032_000_001 + k, lon=float(lon[h]), lat=float(lat[h]), easting=round(float(east[h]), 2),
                 northing=round(float(north[h]), 2), street=street, number=number)
            for k, (h, street, number) in enumerate(homes)]


def bin_size(k: int) -> int:
    """The ``k``-th home's bin, litres: mostly 240, some 180 and 140 (smaller households), a few 360
    (large families) and a 1100 for each block of flats."""
    return 1100 if k % 50 == 7 else 360 if k % 25 == 3 else 140 if k % 11 == 2 else 180 if k % 7 == 4 else 240


def todays_rounds(homes: list[Home], depot: tuple[float, float]) -> dict[str, list[Home]]:
    """Today's rounds (one lorry for each :data:`HOMES_A_ROUND` homes or fewer: one for the CI case's few
    hundred; the last of :data:`ROUNDS` is the spare) in driving order, as crews that know the town drive
    them: from the ``depot`` (BNG metres) each time to the nearest home not yet collected, as the crow
    flies (blind to one-way streets and turns, which is where an optimised round gains), the order cut
    into equal rounds."""
    left = {h.uprn: h for h in homes}
    at = depot
    ordered: list[Home] = []
    while left:
        home = min(left.values(), key=lambda h: (math.hypot(h.easting - at[0], h.northing - at[1]), h.uprn))
        ordered.append(left.pop(home.uprn))
        at = (home.easting, home.northing)
    working = ROUNDS[:-1]
    share = math.ceil(len(ordered) / len(working))
    return {name: ordered[k * share:(k + 1) * share] for k, name in enumerate(working)}


def county_files(osm_file: Path) -> tuple[list[Home], dict[str, bytes]]:
    """The homes and the council's four files (``gazetteer``, ``fleet``, ``tips``, ``rounds``), as bytes."""
    homes = oakham_homes(osm_file)
    to_bng = _to_bng()
    depot_e, depot_n = (round(v, 2) for v in to_bng.transform(DEPOT.lon, DEPOT.lat))
    tip_e, tip_n = (round(v, 2) for v in to_bng.transform(TIP.lon, TIP.lat))
    rounds = todays_rounds(homes, (depot_e, depot_n))
    round_of = {h.uprn: name for name, members in rounds.items() for h in members}
    gazetteer = []
    for k, home in enumerate(homes):
        gazetteer.append([
            home.uprn, f"{home.number} {home.street}, Oakham", home.easting, home.northing, bin_size(k),
            "Refuse", "Weekly", "Tuesday", 1, round_of[home.uprn], "Y" if k % 40 == 9 else "N",
            "side gate" if k % 60 == 13 else "", 31_900_000 + sorted({h.street for h in homes}).index(home.street),
            "LE15 6" + "ABDEFGHJLNPQRSTUWXYZ"[k % 20] + "ABDEFGHJLNPQRSTUWXYZ"[(k // 20) % 20],
            "Oakham North" if home.northing > float(np.median([h.northing for h in homes])) else "Oakham South",
            "Oakham", "Approved"])
    rows = []
    for day in ("MON", "TUE"):
        for name, members in rounds.items():
            ordered = members[::-1] if day == "MON" else members
            rows += [[name, day, 1, s + 1, h.uprn, f"{h.number} {h.street}, Oakham"] for s, h in enumerate(ordered)]
            rows.append([name, day, 1, len(ordered) + 1, TIP_ID, TIP.name])  # the load tipped before the depot
    files = {
        "gazetteer": write_csv(["UPRN", "ADDRESS", "EASTING", "NORTHING", "BIN_SIZE", "STREAM", "FREQUENCY", "DAY",
                           "WEEK", "ROUND", "ASSISTED", "NOTES", "USRN", "POSTCODE", "WARD", "PARISH",
                           "LPI_STATUS"], gazetteer),
        "fleet": write_csv(["id", "depot", "capacity_kg", "shift_start", "shift_end", "break_duration_s", "break_start",
                       "break_end", "depot_easting", "depot_northing"],
                      [[r, "pillings-road", 10_000, "06:00", "15:00", 1800, "11:00", "13:00", depot_e, depot_n]
                       for r in ROUNDS]),
        "tips": write_csv(["id", "easting", "northing", "unload_s"], [[TIP_ID, tip_e, tip_n, 900]]),
        "rounds": write_csv(["ROUND", "DAY", "WEEK", "SEQUENCE", "UPRN", "ADDRESS"], rows),
    }
    return homes, files


def metres_apart(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two lon/lat points (equirectangular: for points a few metres apart)."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    return 6_371_000 * math.hypot(math.radians(b[0] - a[0]) * math.cos(mean_lat), math.radians(b[1] - a[1]))
