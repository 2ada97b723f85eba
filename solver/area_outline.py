"""A round's area (:mod:`solver.compactness`) as a GeoJSON geometry a map can draw.

The area is drawn in the network's metric CRS; a map needs WGS84 ``[lon, lat]``
positions (RFC 7946). The outline is straightened by up to :data:`OUTLINE_TOLERANCE_M`
before it is turned, so an answer carries a few dozen positions per round rather than
every corner of the buffer, and positions are rounded to :data:`DECIMALS` places
(about 0.1 m), finer than anything a map of streets shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry.polygon import orient

from solver.network import RoadNetwork

OUTLINE_TOLERANCE_M = 1.0
"""Metres the outline may be straightened by before it is turned into lon/lat."""

DECIMALS = 6
"""Decimal places of degrees kept (1e-6 degree is about 0.1 m)."""


def area_outline(network: RoadNetwork, area: shapely.Geometry) -> dict[str, Any] | None:
    """``area`` (in ``network.crs``, metres) as a GeoJSON ``Polygon`` or ``MultiPolygon``
    mapping in WGS84 lon/lat, or ``None`` when it has no surface (a round serving no
    street, or a hull drawn with no buffer that is only a line or a point)."""
    if area.is_empty:
        return None
    outline = shapely.simplify(area, OUTLINE_TOLERANCE_M, preserve_topology=True)
    polygons = [g for g in shapely.get_parts(outline) if isinstance(g, shapely.Polygon) and g.area > 0]
    if not polygons:
        return None
    transformer = network.to_lonlat()

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), DECIMALS)

    turned = [shapely.transform(p, to_lonlat) for p in polygons]
    if len(turned) == 1:
        return {"type": "Polygon", "coordinates": _rings(turned[0])}
    return {"type": "MultiPolygon", "coordinates": [_rings(p) for p in turned]}


def _rings(polygon: shapely.Polygon) -> list[list[list[float]]]:
    """The polygon's rings as lists of ``[lon, lat]``, the exterior first and counter-clockwise
    and the holes clockwise, as RFC 7946 asks."""
    oriented = orient(polygon, sign=1.0)
    rings = [oriented.exterior, *oriented.interiors]
    return [[[float(x), float(y)] for x, y in ring.coords] for ring in rings]
