"""Property-based tests (hypothesis) of snapping on the real Monaco network: every point,
anywhere on Earth, gets a status of ok, off_network or unreachable; a placed point lies
on its edge within the limit, where its fraction says; an unplaced one stays put."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.network import RoadNetwork
from solver.snapping import OFF_NETWORK, OK, UNREACHABLE, snap_points

MONACO_BOX = ((7.40, 7.45), (43.72, 43.76))
"""lon and lat ranges around Monaco, streets and sea."""

near_monaco = st.tuples(st.floats(*MONACO_BOX[0]), st.floats(*MONACO_BOX[1]))
anywhere = st.tuples(st.floats(-180, 180), st.floats(-90, 90))
points = st.lists(near_monaco | anywhere, min_size=1, max_size=30)
limits = st.floats(min_value=1.0, max_value=5000.0)

SETTINGS = settings(deadline=None, max_examples=60)

ON_EDGE_TOLERANCE_M = 0.01
"""How far (metres) a snapped point may lie from its edge after the round trip through lon/lat."""


def _xy(network: RoadNetwork, lonlat: np.ndarray) -> np.ndarray:
    """Points in the network's metric projection."""
    x, y = network.to_xy().transform(lonlat[:, 0], lonlat[:, 1])
    return np.column_stack([x, y])


@SETTINGS
@given(pts=points, limit_m=limits)
def test_every_point_gets_one_of_three_statuses(monaco: RoadNetwork, pts: list[tuple[float, float]],
                                                limit_m: float) -> None:
    """Each point is ok, off_network or unreachable; only off-network points have no edge."""
    snapped = snap_points(monaco, np.array(pts), limit_m=limit_m)
    assert len(snapped) == len(pts)
    assert set(snapped.status.tolist()) <= {OK, OFF_NETWORK, UNREACHABLE}
    assert ((snapped.edge < 0) == (snapped.status == OFF_NETWORK)).all()


@SETTINGS
@given(pts=points, limit_m=limits)
def test_placed_point_lies_on_its_edge_within_the_limit(monaco: RoadNetwork, pts: list[tuple[float, float]],
                                                        limit_m: float) -> None:
    """A placed point lies on its edge, at its fraction and offset, moved no farther than
    the limit, and the distance reported is how far it moved."""
    given_lonlat = np.array(pts, dtype=float)
    snapped = snap_points(monaco, given_lonlat, limit_m=limit_m)
    placed = np.flatnonzero(snapped.edge >= 0)
    if placed.size == 0:
        return
    lines = monaco.edge_xy[snapped.edge[placed]]
    on_street = shapely.points(_xy(monaco, snapped.lonlat[placed]))
    assert (shapely.distance(lines, on_street) <= ON_EDGE_TOLERANCE_M).all()
    assert ((snapped.fraction[placed] >= 0) & (snapped.fraction[placed] <= 1)).all()
    expected = shapely.line_interpolate_point(lines, snapped.fraction[placed], normalized=True)
    assert (shapely.distance(expected, on_street) <= ON_EDGE_TOLERANCE_M).all()
    assert (snapped.offset_m[placed] <= monaco.edge_length_m[snapped.edge[placed]] + 1e-6).all()
    assert (snapped.distance_m[placed] <= limit_m + 1e-6).all()
    moved = shapely.distance(shapely.points(_xy(monaco, given_lonlat[placed])), on_street)
    np.testing.assert_allclose(moved, snapped.distance_m[placed], atol=ON_EDGE_TOLERANCE_M)


@SETTINGS
@given(pts=points, limit_m=limits)
def test_off_network_point_stays_put_beyond_the_limit(monaco: RoadNetwork, pts: list[tuple[float, float]],
                                                      limit_m: float) -> None:
    """An off-network point keeps its coordinates and reports a distance beyond the limit."""
    given_lonlat = np.array(pts, dtype=float)
    snapped = snap_points(monaco, given_lonlat, limit_m=limit_m)
    off = snapped.status == OFF_NETWORK
    np.testing.assert_array_equal(snapped.lonlat[off], given_lonlat[off])
    assert (snapped.distance_m[off] > limit_m).all()


@SETTINGS
@given(pts=st.lists(near_monaco, min_size=1, max_size=30), limit_m=limits, more=st.floats(1.0, 5000.0))
def test_a_wider_limit_never_loses_a_point(monaco: RoadNetwork, pts: list[tuple[float, float]], limit_m: float,
                                           more: float) -> None:
    """A point placed under one limit is placed under a wider one, and an ``ok`` point
    stays ``ok`` on a street no farther away (a wider limit may instead find a reachable
    street for an ``unreachable`` one)."""
    narrow = snap_points(monaco, np.array(pts), limit_m=limit_m)
    wide = snap_points(monaco, np.array(pts), limit_m=limit_m + more)
    assert (wide.edge[narrow.edge >= 0] >= 0).all()
    ok = narrow.status == OK
    assert (wide.status[ok] == OK).all()
    assert (wide.distance_m[ok] <= narrow.distance_m[ok] + 1e-6).all()
