"""How fast a vehicle drives each street: speed profiles and edge travel times.

Posted speeds are km/h (``maxspeed``, else a per-highway-type speed); an edge's
``travel_time`` is in seconds and its ``length`` in metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import osmnx as ox

from solver.units import kph_to_mps

#: typical posted speeds (km/h) by OSM highway type, for edges without ``maxspeed``
#: (UK national limits where they apply).
UK_HIGHWAY_SPEEDS_KPH: dict[str, float] = {
    "motorway": 112.0, "motorway_link": 64.0, "trunk": 96.0, "trunk_link": 56.0,
    "primary": 80.0, "primary_link": 48.0, "secondary": 64.0, "secondary_link": 48.0,
    "tertiary": 48.0, "tertiary_link": 40.0, "unclassified": 48.0, "residential": 48.0,
    "living_street": 16.0, "road": 40.0, "busway": 32.0,
}


@dataclass(frozen=True, slots=True)
class SpeedProfile:
    """How fast a vehicle drives each street, in km/h.

    The posted speed of an edge is its ``maxspeed``; if untagged,
    ``highway_speeds_kph[highway]``; for a highway type not in that table, osmnx's
    mean of the tagged edges of that type, else ``fallback_kph`` (all posted speeds).
    The vehicle then drives ``posted * speed_factor``, capped at ``max_speed_kph``.
    """

    name: str
    speed_factor: float = 1.0
    max_speed_kph: float = 200.0
    fallback_kph: float = 40.0
    highway_speeds_kph: tuple[tuple[str, float], ...] = tuple(UK_HIGHWAY_SPEEDS_KPH.items())

    def __post_init__(self) -> None:
        if not 0 < self.speed_factor <= 2:
            raise ValueError(f"speed_factor of profile {self.name!r} must be in (0, 2]")
        if self.max_speed_kph <= 0 or self.fallback_kph <= 0:
            raise ValueError(f"speeds of profile {self.name!r} must be positive")


#: a car at the posted speed.
CAR = SpeedProfile(name="car")
#: a loaded refuse collection vehicle: 80 % of the posted speed, at most 80 km/h
#: (a 26 t rigid lorry's practical top speed on UK roads is 50 mph).
REFUSE_TRUCK = SpeedProfile(name="refuse_truck", speed_factor=0.8, max_speed_kph=80.0,
                            fallback_kph=32.0)
PROFILES = {p.name: p for p in (CAR, REFUSE_TRUCK)}


def add_speeds(graph: nx.MultiDiGraph, profile: SpeedProfile) -> nx.MultiDiGraph:
    """Set each edge's ``speed_kph`` (vehicle speed) and ``travel_time`` (s) for ``profile``."""
    ox.add_edge_speeds(graph, hwy_speeds=dict(profile.highway_speeds_kph), fallback=profile.fallback_kph)
    for _, _, data in graph.edges(data=True):
        posted = float(data["speed_kph"])
        data["posted_speed_kph"] = posted
        speed = min(posted * profile.speed_factor, profile.max_speed_kph)
        data["speed_kph"] = speed
        data["travel_time"] = float(data["length"]) / kph_to_mps(speed)
    return graph
