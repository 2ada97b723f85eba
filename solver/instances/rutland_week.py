"""A district-sized week on Rutland's streets (issue 16, "Scale"): properties, their three streams
and frequencies, today's days by area, a fleet per stream, one tip; deterministic for a seed.

Built from the real OpenStreetMap extract of Rutland (``rutland-latest.osm.pbf``, read in place).

**Properties.** Along every street of :data:`HOME_STREETS` in the extract (residential streets
and living streets, where homes front the road), one property every ``spacing`` metres on
alternate sides, set back :data:`~solver.instances.oakham.SETBACK_M` metres from the centre line
(as :mod:`solver.instances.oakham` places its unmapped homes). The spacing is chosen so that the
whole county holds :data:`DISTRICT_PROPERTIES` properties (about twice Rutland's real households:
the issue asks for a district of 40,000); a week of fewer properties takes the ``n`` nearest the
depot, so that every size has the same density and the area grows with ``n``. Some stand on streets
a lorry cannot reach from the depot (ways the network cuts off): every plan leaves them out with
that reason, as it would real properties there.

**Streams and frequencies.** The issue's figures do not add up literally: 40,000 properties with
weekly refuse alone are 80,000 visits a fortnight, which 8-12 lorries cannot lift. The binding
figures kept are 40,000 properties, about 60,000 bin-visits a fortnight, 8-12 vehicles and three
streams; 60,000 visits over 40,000 properties is 1.5 a property, so at most one stream reaches
every property fortnightly. The mix chosen (the alternate-weekly collection most English
districts, Rutland among them, run):

- refuse, fortnightly, every property (:data:`REFUSE_KG`);
- recycling, fortnightly in the other week, for :data:`RECYCLING_SHARE` of the properties (those
  with a wheeled recycling bin; the rest use boxes or bring banks, left out);
- garden waste, fortnightly, for :data:`GARDEN_SHARE` (the paid subscribers).

That is 1 + 0.35 + 0.15 = 1.5 visits a property a fortnight: 60,000 at 40,000 properties, about
6,000 lifts a working day, some 500-600 per lorry-day on 10-12 lorries, which is what a UK crew lifts.

**Today's days.** A plausible current assignment by area: the properties cut by angle around the
depot into five sectors of equal count, Monday to Friday, and each sector's inner half (by
distance from the depot) in week A, its outer half in week B (the refuse week; recycling the
other week). Every property has its current day on its refuse bin, round ``"<day>-<week>"``.

**Fleet and places.** Per stream, lorries as :mod:`solver.instances.oakham`'s (10,000 kg, 06:00-15:00,
a 30-minute break between 11:00 and 13:00), carrying that stream only:
:data:`FLEET_AT_DISTRICT` at 40,000 properties and in proportion below (at least one each), all
working Monday to Friday; every bin 240 litres, lifted in :data:`LIFT_S` seconds; the Oakham depot
and the Cottesmore tip (open Monday to Friday); a household moved off its day costs
:data:`DAY_CHANGE_COST`.
Units: metres, seconds, kg.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import osmium
import pyproj
import shapely

from solver.instances.oakham import BIN_VOLUME_L, BREAK, DEPOT, SETBACK_M, SHIFT, TIP, TIP_UNLOAD_S
from solver.instances.oakham import _frontage as frontage
from solver.network.build import utm_crs
from solver.problem import Bin, Break, Depot, DisposalSite, Problem, Vehicle
from solver.week.calendar import Calendar, Frequency
from solver.week.model import CurrentDay, WeekBin, WeekOptions, WeekProblem

HOME_STREETS = frozenset({"residential", "living_street"})
"""``highway`` values along which properties are placed."""

DISTRICT_PROPERTIES = 40_000
"""Properties in the whole county at the chosen spacing (the issue's district)."""

RECYCLING_SHARE = 0.35
GARDEN_SHARE = 0.15
REFUSE_KG = (20.0, 6.0)
RECYCLING_KG = (10.0, 4.0)
GARDEN_KG = (15.0, 6.0)
"""Mean and standard deviation of a bin's weight (kg), clipped to 3-50 kg."""

FLEET_AT_DISTRICT = {"refuse": 7, "recycling": 3, "garden": 2}
"""Lorries per stream at :data:`DISTRICT_PROPERTIES` properties (12 in all: a day's 4,000 refuse lifts at
:data:`LIFT_S` are 22 crew-hours before driving and tipping, some 5 lorries' shifts, with spares)."""

LIFT_S = 20.0
"""Seconds a bin takes at the kerb: a driver and two loaders on streets of terraces (the Oakham case, and
the API's default, take 30 s; docs/performance.md gives the district at both)."""

DAY_CHANGE_COST = 1.0
"""Money per household moved off its current day (a letter, a calendar, the calls): a km's worth."""

DAYS = ("mon", "tue", "wed", "thu", "fri")
WEEKS = ("A", "B")
VEHICLE_CAPACITY_KG = 10_000.0


class _Streets(osmium.SimpleHandler):
    """The lines (lon/lat) of every street of :data:`HOME_STREETS`."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[list[tuple[float, float]]] = []

    def way(self, w: Any) -> None:
        if w.tags.get("highway") in HOME_STREETS:
            self.lines.append([(node.lon, node.lat) for node in w.nodes])


@dataclass(frozen=True)
class DistrictWeek:
    """The week (``week``), the properties' positions (``lonlat``, one row per property, in the
    order of their ids ``p00001``...) and the spacing used (metres of street per property)."""

    week: WeekProblem
    lonlat: np.ndarray
    spacing_m: float


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def _bin(bin_id: str, lonlat: np.ndarray, kg: float, stream: str) -> Bin:
    """A 240-litre wheeled bin of ``stream`` at ``lonlat`` weighing ``kg``, lifted in :data:`LIFT_S`."""
    return Bin(id=bin_id, lon=float(lonlat[0]), lat=float(lonlat[1]), demand_kg=kg, service_s=LIFT_S,
               volume_l=BIN_VOLUME_L, stream=stream)


def property_places(osm_file: str | Path, district: int = DISTRICT_PROPERTIES) -> tuple[np.ndarray, float]:
    """Every property of a ``district`` of that many (metres in the county's UTM zone, one row each) and the
    spacing (metres of street per property); :class:`FileNotFoundError` naming the file when it is absent."""
    path = Path(osm_file)
    if not path.is_file():
        raise FileNotFoundError(f"OSM file {path} not found")
    reader = _Streets()
    reader.apply_file(str(path), locations=True)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", utm_crs(DEPOT.lon, DEPOT.lat), always_xy=True)
    lines = []
    for line in reader.lines:
        lonlat = np.asarray(line, dtype=float)
        if len(lonlat) >= 2:
            lines.append(np.column_stack(to_xy.transform(lonlat[:, 0], lonlat[:, 1])))
    total = sum(float(shapely.LineString(xy).length) for xy in lines)
    spacing = total / max(district, 1)
    placed = [(kx, ky) for xy in lines for kx, ky, _, _ in frontage(xy, spacing, SETBACK_M)]
    return np.asarray(placed, dtype=float).reshape(-1, 2), spacing


def district_week(osm_file: str | Path, n_properties: int = DISTRICT_PROPERTIES, *, seed: int = 0,
                  day_change_cost: float = DAY_CHANGE_COST, district: int = DISTRICT_PROPERTIES) -> DistrictWeek:
    """The week of the ``n_properties`` properties nearest the depot of a ``district`` of that many (see the
    module docstring), each household moved off its current day costing ``day_change_cost`` (money)."""
    xy, spacing = property_places(osm_file, district)
    to_xy = pyproj.Transformer.from_crs("EPSG:4326", utm_crs(DEPOT.lon, DEPOT.lat), always_xy=True)
    depot_xy = np.asarray(to_xy.transform(DEPOT.lon, DEPOT.lat))
    far = np.hypot(*(xy - depot_xy).T)
    chosen = np.argsort(far, kind="stable")[:n_properties]
    xy, far = xy[chosen], far[chosen]
    lon, lat = to_xy.transform(xy[:, 0], xy[:, 1], direction="INVERSE")
    lonlat = np.round(np.column_stack([lon, lat]), 7)
    n = len(xy)
    rng = np.random.default_rng(seed)
    recycles = rng.random(n) < RECYCLING_SHARE
    gardens = rng.random(n) < GARDEN_SHARE

    def weights(mean_sd: tuple[float, float]) -> np.ndarray:
        return np.round(np.clip(rng.normal(*mean_sd, size=n), 3.0, 50.0), 1)

    refuse_kg, recycling_kg, garden_kg = weights(REFUSE_KG), weights(RECYCLING_KG), weights(GARDEN_KG)
    angle = np.arctan2(xy[:, 1] - depot_xy[1], xy[:, 0] - depot_xy[0])
    sector = np.empty(n, dtype=int)
    sector[np.argsort(angle, kind="stable")] = np.arange(n) * len(DAYS) // max(n, 1)
    outer = np.zeros(n, dtype=bool)
    for s in range(len(DAYS)):
        members = np.flatnonzero(sector == s)
        if len(members):
            outer[members] = far[members] > np.median(far[members])
    bins, week_bins = [], []
    fortnightly = Frequency("fortnightly")
    for i in range(n):
        pid = f"p{i + 1:05d}"
        day, label = DAYS[sector[i]], WEEKS[int(outer[i])]
        bins.append(_bin(f"{pid}-r", lonlat[i], float(refuse_kg[i]), "refuse"))
        week_bins.append(WeekBin(id=f"{pid}-r", frequency=fortnightly, property=pid,
                                 current=CurrentDay(day=day, week=label, round=f"{day}-{label}")))
        if recycles[i]:
            bins.append(_bin(f"{pid}-c", lonlat[i], float(recycling_kg[i]), "recycling"))
            week_bins.append(WeekBin(id=f"{pid}-c", frequency=fortnightly, property=pid))
        if gardens[i]:
            bins.append(_bin(f"{pid}-g", lonlat[i], float(garden_kg[i]), "garden"))
            week_bins.append(WeekBin(id=f"{pid}-g", frequency=fortnightly, property=pid))
    vehicles = []
    shift = (_seconds(SHIFT[0]), _seconds(SHIFT[1]))
    lunch = Break(duration_s=float(BREAK["duration_s"]),  # type: ignore[arg-type]
                  window=(_seconds(BREAK["window"][0]), _seconds(BREAK["window"][1])))  # type: ignore[index]
    for stream, lorries in FLEET_AT_DISTRICT.items():
        for k in range(max(1, round(lorries * n / max(district, 1)))):
            vehicles.append(Vehicle(id=f"{stream}-{k + 1}", depot_id=DEPOT.id, capacity_kg=VEHICLE_CAPACITY_KG,
                                    shift_start_s=shift[0], shift_end_s=shift[1], streams=(stream,),
                                    breaks=(lunch,)))
    problem = Problem(depots=(Depot(id=DEPOT.id, lon=DEPOT.lon, lat=DEPOT.lat),),
                      vehicles=tuple(vehicles), bins=tuple(bins),
                      disposal_sites=(DisposalSite(id=TIP.id, lon=TIP.lon, lat=TIP.lat, unload_s=TIP_UNLOAD_S),))
    week = WeekProblem(calendar=Calendar(days=DAYS, weeks=WEEKS), problem=problem, bins=tuple(week_bins),
                       vehicle_days={v.id: DAYS for v in vehicles}, tip_days={TIP.id: DAYS},
                       options=WeekOptions(day_change_cost=day_change_cost))
    return DistrictWeek(week=week, lonlat=lonlat, spacing_m=spacing)
