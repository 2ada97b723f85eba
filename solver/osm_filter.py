"""Read drivable ways out of an OpenStreetMap file, offline, with osmnx's ``drive`` rules.

osmnx reads OSM XML but has no PBF reader, and its ``graph_from_xml`` turns every
way it is given into edges. This module therefore reads ``.osm``, ``.osm.pbf`` or
``.osm.bz2`` files with pyosmium, keeps only the ways that osmnx's own ``drive``
network filter would keep, and writes them as OSM XML for ``osmnx.graph_from_xml``.

Extracts clipped to a box hold ways whose nodes lie outside the box; such ways are
split at the missing nodes so that no edge is invented across the gap.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import osmium

log = logging.getLogger(__name__)

#: osmnx 2.1's ``drive`` filter in Overpass QL, used when osmnx's own cannot be read.
_DRIVE_FILTER_FALLBACK = (
    '["highway"]["area"!~"yes"]["access"!~"private"]'
    '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|'
    "escalator|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|rest_area|"
    'service|services|steps|track"]'
    '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
    '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
)

_CLAUSE = re.compile(r'\["([^"]+)"(?:(!~|~|!=|=)"([^"]*)")?\]')

OSM_SUFFIXES = (".osm", ".osm.pbf", ".pbf", ".osm.bz2", ".osm.gz", ".xml")

SIDE_WAY_HIGHWAYS = frozenset({"service", "track"})
"""``highway`` values of the ways a lorry does not route along but can reverse into to turn
round: driveways, yards, field entrances, farm tracks."""

SIDE_WAY_TAG = "wasteroute:side_way"
"""Node tag written on a drivable way's node where a side way (:data:`SIDE_WAY_HIGHWAYS`, not
itself drivable) joins it: a place to turn round by reversing (:mod:`solver.network.turns`)."""


@dataclass(frozen=True, slots=True)
class TagRule:
    """One Overpass tag clause: ``op`` is ``exists``, ``=``, ``!=``, ``~`` or ``!~``."""

    key: str
    op: str
    value: str = ""

    def accepts(self, tags: Mapping[str, str]) -> bool:
        """Whether a way with ``tags`` passes this clause (Overpass semantics)."""
        present = self.key in tags
        if self.op == "exists":
            return present
        if self.op == "=":
            return present and tags[self.key] == self.value
        if self.op == "!=":
            return not present or tags[self.key] != self.value
        if self.op == "~":
            return present and re.search(self.value, tags[self.key]) is not None
        # "!~": absent, or present and not matching
        return not present or re.search(self.value, tags[self.key]) is None


def parse_overpass_filter(text: str) -> tuple[TagRule, ...]:
    """Parse an Overpass tag filter such as ``["highway"]["area"!~"yes"]`` into rules."""
    rules = []
    for key, op, value in _CLAUSE.findall(text):
        rules.append(TagRule(key=key, op=op or "exists", value=value))
    if not rules:
        raise ValueError(f"no tag clause found in filter {text!r}")
    return tuple(rules)


def drive_filter() -> tuple[TagRule, ...]:
    """osmnx's ``drive`` network filter as rules (read from osmnx, so both agree)."""
    try:
        from osmnx import _overpass  # private, but it is the definition we must match

        text = _overpass._get_network_filter("drive")
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - osmnx layout changed
        text = _DRIVE_FILTER_FALLBACK
    return parse_overpass_filter(text)


def is_osm_file(path: Path) -> bool:
    """Whether ``path`` names an OSM data file this module can read."""
    name = path.name.lower()
    return any(name.endswith(s) for s in OSM_SUFFIXES)


@dataclass(frozen=True, slots=True)
class FilterStats:
    """Counts from one filtering run."""

    ways_read: int
    ways_kept: int
    ways_split: int
    nodes_written: int


def write_drivable_xml(source: Path, target: Path,
                       rules: Iterable[TagRule] | None = None) -> FilterStats:
    """Write the ways of ``source`` that pass ``rules`` (default: osmnx ``drive``) as OSM XML.

    Only the nodes those ways use are written, with their coordinates and ``highway`` tag
    (turning circles, mini-roundabouts, signals...), and :data:`SIDE_WAY_TAG` where a side way
    that is not kept joins them. Ways with nodes missing from the file are split into the runs
    of nodes that are present.
    """
    rule_list = tuple(rules) if rules is not None else drive_filter()
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    coords: dict[int, tuple[float, float]] = {}
    node_highway: dict[int, str] = {}
    side_nodes: set[int] = set()
    ways_read = ways_split = 0
    processor = (osmium.FileProcessor(str(source), osmium.osm.NODE | osmium.osm.WAY)
                 .with_locations()
                 .with_filter(osmium.filter.KeyFilter("highway")))
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            # kept on the graph's nodes: turning circles, mini-roundabouts (solver.network.turns)
            node_highway[obj.id] = obj.tags["highway"]
            continue
        if not isinstance(obj, osmium.osm.Way):
            continue
        ways_read += 1
        tags = {t.k: t.v for t in obj.tags}
        if not all(rule.accepts(tags) for rule in rule_list):
            if tags.get("highway") in SIDE_WAY_HIGHWAYS:
                side_nodes.update(node.ref for node in obj.nodes)
            continue
        runs: list[list[int]] = [[]]
        for node in obj.nodes:
            if node.location.valid():
                coords[node.ref] = (node.location.lon, node.location.lat)
                runs[-1].append(node.ref)
            elif runs[-1]:
                runs.append([])
        pieces = [run for run in runs if len(run) >= 2]
        if len(pieces) > 1 or (pieces and len(pieces[0]) != len(obj.nodes)):
            ways_split += 1
        for i, run in enumerate(pieces):
            # split pieces get ids of their own so osmnx does not merge them back
            way_id = obj.id if len(pieces) == 1 else -(obj.id * 1000 + i)
            ways.append((way_id, run, tags))
    used = sorted({ref for _, run, _ in ways for ref in run})
    with target.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="wasteroute">\n')
        for ref in used:
            lon, lat = coords[ref]
            node_tags = ([f'<tag k="highway" v={quoteattr(node_highway[ref])}/>'] if ref in node_highway else []) + (
                [f'<tag k="{SIDE_WAY_TAG}" v="yes"/>'] if ref in side_nodes else [])
            if node_tags:
                out.write(f'<node id="{ref}" lat="{lat:.7f}" lon="{lon:.7f}">{"".join(node_tags)}</node>\n')
            else:
                out.write(f'<node id="{ref}" lat="{lat:.7f}" lon="{lon:.7f}"/>\n')
        for way_id, run, tags in ways:
            out.write(f'<way id="{way_id}">\n')
            out.writelines(f'<nd ref="{ref}"/>\n' for ref in run)
            out.writelines(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>\n" for k, v in tags.items())
            out.write("</way>\n")
        out.write("</osm>\n")
    stats = FilterStats(ways_read=ways_read, ways_kept=len(ways), ways_split=ways_split,
                        nodes_written=len(used))
    log.info("filtered %s: %s", source.name, stats)
    return stats
