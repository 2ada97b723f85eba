"""The district week on Rutland's streets (issue 16, "Scale"): properties along residential streets,
their streams, today's days by area, the fleet per stream; on a hand-made file and the real extract."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from solver.instances.oakham import DEPOT
from solver.instances.rutland_week import DISTRICT_PROPERTIES, FLEET_AT_DISTRICT, district_week, property_places
from solver.week import week_units

M_PER_DEG_LAT = 111_250.0
M_PER_DEG_LON = 67_600.0


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    """(lat, lon) ``east_m``/``north_m`` metres from the Oakham depot."""
    return DEPOT.lat + north_m / M_PER_DEG_LAT, DEPOT.lon + east_m / M_PER_DEG_LON


@pytest.fixture
def streets(tmp_path: Path, tools: SimpleNamespace) -> Path:
    """A residential street 1 km long east of the depot, a living street 1 km long north of it, and a
    primary road 1 km long to the west (no homes placed along it)."""
    nodes = {1: _at(100, 0), 2: _at(1100, 0), 3: _at(0, 100), 4: _at(0, 1100), 5: _at(-100, 0), 6: _at(-1100, 0)}
    ways = [(10, [1, 2], {"highway": "residential"}), (11, [3, 4], {"highway": "living_street"}),
            (12, [5, 6], {"highway": "primary"})]
    return tools.write_osm_xml(tmp_path / "streets.osm", nodes, ways)


def test_properties_are_spread_along_home_streets_only(streets: Path) -> None:
    """2 km of home streets for a district of 200: a property every 10 m, none along the primary road."""
    xy, spacing = property_places(streets, district=200)
    assert spacing == pytest.approx(10.0, rel=0.01)
    assert 198 <= len(xy) <= 202


def test_the_week_has_three_streams_days_by_area_and_a_fleet_per_stream(streets: Path) -> None:
    """The 100 properties nearest the depot of a district of 200: refuse for each, recycling and garden
    waste for about their shares, every bin fortnightly; today's days by sector, equal in count, inner
    half in week A; lorries per stream in proportion (at least one), every one working Monday to Friday;
    the same seed gives the same week."""
    district = district_week(streets, 100, seed=3, district=200)
    week = district.week
    streams = Counter(b.stream for b in week.problem.bins)
    assert streams["refuse"] == 100
    assert 15 <= streams["recycling"] <= 55 and 3 <= streams["garden"] <= 30
    assert all(b.frequency.kind == "fortnightly" for b in week.bins)
    current = [b.current for b in week.bins if b.current is not None]
    assert len(current) == 100
    assert set(Counter(c.day for c in current).values()) == {20}
    assert Counter(c.week for c in current) == {"A": 50, "B": 50}
    expected = {s: max(1, round(k * 100 / 200)) for s, k in FLEET_AT_DISTRICT.items()}
    assert Counter(v.streams[0] for v in week.problem.vehicles) == expected
    assert all(week.vehicle_days[v.id] == week.calendar.days for v in week.problem.vehicles)
    units, unplaceable = week_units(week)
    assert len(units) == 100 and not unplaceable
    assert district_week(streets, 100, seed=3, district=200).week == week


@pytest.mark.shared
@pytest.mark.slow
def test_the_district_on_rutland_has_about_sixty_thousand_visits(tools: SimpleNamespace) -> None:
    """On the real extract: 40,000 properties, about 60,000 bin-visits a fortnight (each bin fortnightly),
    11 lorries."""
    tools.require_shared(tools.rutland_pbf)
    week = district_week(tools.rutland_pbf).week
    assert len({b.property for b in week.bins}) == DISTRICT_PROPERTIES
    assert 58_000 <= len(week.problem.bins) <= 62_000
    assert len(week.problem.vehicles) == sum(FLEET_AT_DISTRICT.values())
