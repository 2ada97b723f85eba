"""Drivable road networks: load, time and cache them.

A :class:`RoadNetwork` is built from

* a local OpenStreetMap file (``.osm``, ``.osm.pbf``, ``.osm.bz2``), offline, with
  osmnx's ``drive`` semantics (see :mod:`solver.osm_filter`);
* an osmnx GraphML file;
* for users with internet, an osmnx query: ``place:Rutland, England``,
  ``bbox:WEST,SOUTH,EAST,NORTH`` (degrees) or ``polygon:FILE`` (a GeoJSON or WKT
  file holding the area's boundary in WGS84).

The graph is directed: one-way streets have one edge, two-way streets two. Edge
speeds (``speed_kph``) come from ``maxspeed`` where tagged and otherwise from the
:class:`SpeedProfile`'s per-highway-type speeds, then scaled and capped for the
vehicle; ``travel_time`` is in seconds and ``length`` in metres.

Built networks are cached on disk (a checked pickle, see :mod:`solver.cache_file`, keyed
by the source's content and the settings) and in memory, so a request never rebuilds
one. A truncated, damaged or foreign cache file is refused with a warning and rebuilt.

One concern per module:

* :mod:`~solver.network.speeds`: speed profiles, edge speeds and travel times;
* :mod:`~solver.network.tags`: OSM access tags -> limits in kilograms and metres;
* :mod:`~solver.network.access`: access profiles and the edges open to each;
* :mod:`~solver.network.source`: where a network comes from, and reading its raw graph;
* :mod:`~solver.network.build`: :class:`RoadNetwork` and :func:`build_network`;
* :mod:`~solver.network.routing`: the road graph one access profile drives;
* :mod:`~solver.network.turns`: banned turns (OSM turn restrictions on the edges), turning
  places and dead ends;
* :mod:`~solver.network.turn_angles`: the angle and kind of every turn between two edges;
* :mod:`~solver.network.turn_graph`: the turn-aware (edge-based) graph a lorry routes on;
* :mod:`~solver.network.cache`: :func:`load_network` through the memory and disk caches.
"""

from solver.network.access import (
    HGV_THRESHOLD_KG,
    UNRESTRICTED,
    UNRESTRICTED_KEY,
    AccessProfile,
    SizedVehicle,
    access_counts,
    allowed_edges,
)
from solver.network.build import RoadNetwork, build_network, utm_crs
from solver.network.cache import CACHE_FORMAT, cache_key, load_network
from solver.network.routing import RoutingGraph, routing_graph
from solver.network.source import NetworkSource
from solver.network.speeds import CAR, PROFILES, REFUSE_TRUCK, UK_HIGHWAY_SPEEDS_KPH, SpeedProfile, add_speeds
from solver.network.tags import (
    EXTRA_WAY_TAGS,
    NO_LIMIT,
    UNKNOWN_LIMIT,
    EdgeLimits,
    edge_limits,
    exempts_service_vehicles,
    hgv_forbidden,
    parse_length_m,
    parse_weight_kg,
)
from solver.network.turn_angles import TURN_KINDS, Turns, all_turns, crossing_kinds, turn_angle_deg, turn_kind
from solver.network.turn_graph import TurnCosts, TurnGraph, TurnPolicy, junction_nodes, turn_graph
from solver.network.turns import BannedTurns, banned_turns, dead_ends, map_restrictions, side_ways, turning_places

__all__ = [
    "CACHE_FORMAT",
    "CAR",
    "EXTRA_WAY_TAGS",
    "HGV_THRESHOLD_KG",
    "NO_LIMIT",
    "PROFILES",
    "REFUSE_TRUCK",
    "TURN_KINDS",
    "UK_HIGHWAY_SPEEDS_KPH",
    "UNKNOWN_LIMIT",
    "UNRESTRICTED",
    "UNRESTRICTED_KEY",
    "AccessProfile",
    "BannedTurns",
    "EdgeLimits",
    "NetworkSource",
    "RoadNetwork",
    "RoutingGraph",
    "SizedVehicle",
    "SpeedProfile",
    "TurnCosts",
    "TurnGraph",
    "TurnPolicy",
    "Turns",
    "access_counts",
    "add_speeds",
    "all_turns",
    "allowed_edges",
    "banned_turns",
    "build_network",
    "cache_key",
    "crossing_kinds",
    "dead_ends",
    "edge_limits",
    "exempts_service_vehicles",
    "hgv_forbidden",
    "junction_nodes",
    "load_network",
    "map_restrictions",
    "parse_length_m",
    "parse_weight_kg",
    "routing_graph",
    "side_ways",
    "turn_angle_deg",
    "turn_graph",
    "turn_kind",
    "turning_places",
    "utm_crs",
]
