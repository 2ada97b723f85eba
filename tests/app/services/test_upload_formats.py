"""Files as they come: formats told by name or content, CSV headers kept as written, zips checked."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.services.upload_faults import UploadError
from app.services.upload_formats import detect_format, read_csv, read_table


@pytest.mark.parametrize(("name", "content", "fmt"), [
    ("bins.gpkg", b"", "gpkg"), (None, b"SQLite format 3\x00...", "gpkg"), ("bins.zip", b"", "shapefile"),
    (None, b"PK\x03\x04...", "shapefile"), ("bins.geojson", b"", "geojson"), (None, b' {"type"', "geojson"),
    ("bins.csv", b"{", "csv"), (None, b"id,lon", "csv")])
def test_formats_are_told_by_name_then_content(name: str | None, content: bytes, fmt: str) -> None:
    """The file's name decides, else its first bytes, else it is CSV."""
    assert detect_format(name, content) == fmt


def test_csv_headers_are_normalised_and_kept_as_written() -> None:
    """'Bin Size' is read as bin_size and remembered as written; a repeated name gets a suffix."""
    table = read_csv("UPRN,Bin Size,bin_size\n1,240,180\n")
    (record,) = table.records
    assert record.cells == {"uprn": "1", "bin_size": "240", "bin_size_2": "180"}
    assert record.headers == {"uprn": "UPRN", "bin_size": "Bin Size", "bin_size_2": "bin_size"}


def zipped(*names: str) -> bytes:
    """A zip holding empty files of these names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"")
    return buffer.getvalue()


@pytest.mark.parametrize(("names", "words"), [
    (("readme.txt",), "it holds none"), (("a.shp", "b/b.shp"), "it holds a.shp, b/b.shp")])
def test_a_zip_needs_exactly_one_shapefile(names: tuple[str, ...], words: str) -> None:
    """A zip with no .shp, or two, is refused, naming what it holds."""
    with pytest.raises(UploadError, match=words):
        read_table(zipped(*names), filename="bins.zip")


def test_members_cannot_choose_where_they_are_written() -> None:
    """A zip member named with '../' is read under a fixed name, never written outside the folder."""
    with pytest.raises(UploadError, match="not a Shapefile that can be read"):
        read_table(zipped("../../evil.shp"), filename="bins.zip")
