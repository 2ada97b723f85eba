"""Positions in lon/lat, British National Grid or a named CRS, recognised by column names and
confirmed by range; rows in another grid or outside Great Britain are told, never guessed."""

from __future__ import annotations

import pytest

from app.services.upload_coordinates import (
    BRITISH_NATIONAL_GRID,
    WGS84,
    PlacementError,
    find_columns,
    parse_crs,
    place,
    shape_of,
)
from app.services.upload_faults import Record

OAKHAM_E, OAKHAM_N = 486101.2, 308945.7
"""A point in Oakham, Rutland, British National Grid metres (about lon -0.73, lat 52.67)."""


def records(*pairs: tuple[object, object], columns: tuple[str, str] = ("x", "y")) -> list[Record]:
    """One record per (x, y), under ``columns``."""
    return [Record(i, {columns[0]: x, columns[1]: y}) for i, (x, y) in enumerate(pairs, start=2)]


@pytest.mark.parametrize(("headers", "pair", "kind"), [
    (["uprn", "longitude", "latitude", "easting", "northing"], ("longitude", "latitude"), "degrees"),
    (["uprn", "x_coordinate", "y_coordinate"], ("x_coordinate", "y_coordinate"), "grid"),
    (["easting", "northing"], ("easting", "northing"), "grid"),
    (["id", "x", "y"], ("x", "y"), "either")])
def test_columns_are_recognised_by_name(headers: list[str], pair: tuple[str, str], kind: str) -> None:
    """Degree names first, then grid names, then plain x/y told by their values."""
    assert find_columns(headers) == (pair, kind)


def test_half_a_pair_and_no_pair_are_refused() -> None:
    """An easting without a northing, or no position columns at all, is one whole-file message."""
    with pytest.raises(PlacementError, match="'easting' holds half a position"):
        find_columns(["easting", "uprn"])
    with pytest.raises(PlacementError, match="no usable coordinate columns"):
        find_columns(["uprn", "address"])


def test_shapes_of_positions() -> None:
    """Degrees, grid metres inside Great Britain, and neither (an easting a digit too long)."""
    assert [shape_of(-0.73, 52.67), shape_of(OAKHAM_E, OAKHAM_N), shape_of(4861012.0, OAKHAM_N),
            shape_of(7.41, 95.0)] == ["degrees", "grid", "neither", "neither"]


def test_plain_x_y_in_grid_metres_are_read_as_british_national_grid() -> None:
    """x/y holding grid metres land in Oakham in WGS84."""
    rows = records((OAKHAM_E, OAKHAM_N), (str(OAKHAM_E + 50), str(OAKHAM_N)))
    placement = place(rows, columns=("x", "y"), kind="either", request_crs=None)
    assert placement.crs == BRITISH_NATIONAL_GRID and not any(r.faults for r in rows)
    assert -0.75 < rows[0].cells["lon"] < -0.70 and 52.65 < rows[0].cells["lat"] < 52.69


def test_plain_x_y_in_degrees_stay_degrees() -> None:
    """x/y holding degrees are WGS84 as they are."""
    rows = records((-0.73, 52.67))
    assert place(rows, columns=("x", "y"), kind="either", request_crs=None).crs == WGS84
    assert (rows[0].cells["lon"], rows[0].cells["lat"]) == (-0.73, 52.67)


def test_the_minority_grid_is_the_fault() -> None:
    """Two rows of grid metres and one of degrees: the degrees row is the mixed one."""
    rows = records((OAKHAM_E, OAKHAM_N), (OAKHAM_E, OAKHAM_N + 1), (-0.73, 52.67))
    place(rows, columns=("x", "y"), kind="either", request_crs=None)
    assert [f.type for r in rows for f in r.faults] == ["mixed_grids"] and rows[2].faults


def test_named_crs_wins_over_the_column_names() -> None:
    """lon/lat columns declared EPSG:27700 by the request are read as grid metres."""
    rows = records((OAKHAM_E, OAKHAM_N), columns=("lon", "lat"))
    place(rows, columns=("lon", "lat"), kind="degrees", request_crs=parse_crs("27700"))
    assert not rows[0].faults and -0.75 < rows[0].cells["lon"] < -0.70


def test_unknown_crs_is_refused_by_name() -> None:
    """A crs pyproj does not know is refused, naming the option."""
    with pytest.raises(PlacementError) as caught:
        parse_crs("EPSG:999999")
    assert caught.value.fault.column == "crs"


def test_a_missing_or_wordy_coordinate_names_its_column() -> None:
    """An empty northing and a word for an easting are faults of their own columns."""
    rows = [Record(2, {"easting": OAKHAM_E}), Record(3, {"easting": "west", "northing": OAKHAM_N})]
    place(rows, columns=("easting", "northing"), kind="grid", request_crs=None)
    assert [(f.row, f.column, f.type) for r in rows for f in r.faults] == [(2, "northing", "missing"),
                                                                          (3, "easting", "float_parsing")]


def test_plain_x_y_that_are_neither_grid_are_ambiguous() -> None:
    """x/y values that are neither degrees nor grid metres in Great Britain ask for the crs."""
    rows = records((2_500_000.0, 7_000_000.0))
    place(rows, columns=("x", "y"), kind="either", request_crs=None)
    (fault,) = rows[0].faults
    assert (fault.column, fault.type) == ("x", "ambiguous_grid") and "send the crs" in fault.msg


def test_one_plain_x_y_row_beyond_the_grid_of_the_others_is_outside_great_britain() -> None:
    """Among x/y rows in grid metres, one easting a digit too long is outside Great Britain, not ambiguous."""
    rows = records((OAKHAM_E, OAKHAM_N), (OAKHAM_E * 10, OAKHAM_N))
    place(rows, columns=("x", "y"), kind="either", request_crs=None)
    assert [f.type for r in rows for f in r.faults] == ["outside_great_britain"]
