"""The bin size table, a council's overrides of it, and streams by the names councils give them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.services.bin_sizes import (
    DEFAULT_BIN_SIZES,
    STREAM_ALIASES,
    BinSize,
    canonical_stream,
    parse_size,
    size_table,
    stream_names,
)

COUNCIL_DATA_MD = Path(__file__).resolve().parents[3] / "docs" / "council_data.md"


def docs_table(first_header: str) -> list[list[str]]:
    """The rows (cells stripped of backticks) of the docs/council_data.md table whose header starts so."""
    lines = COUNCIL_DATA_MD.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header}"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("`", "") for cell in line.strip("|").split("|")])
    return rows


@pytest.mark.parametrize(("cell", "size"), [(240, 240), (1100.0, 1100), ("240L", 240), ("240 l", 240),
                                            (" 1100 litres", 1100), ("360ltr", 360), ("big", None),
                                            ("240.5", None), (True, None)])
def test_sizes_are_read_as_councils_write_them(cell: object, size: int | None) -> None:
    """Numbers, '240L', '1100 litres' give whole litres; words and fractions give none."""
    assert parse_size(cell) == size


def test_docs_table_is_the_code_table() -> None:
    """docs/council_data.md's bin size table lists exactly DEFAULT_BIN_SIZES."""
    rows = docs_table("size (litres)")
    assert {int(r[0]): BinSize(float(r[1]), float(r[2]), float(r[3])) for r in rows} == DEFAULT_BIN_SIZES


def test_docs_stream_table_is_the_code_table() -> None:
    """docs/council_data.md's stream table lists exactly STREAM_ALIASES."""
    rows = docs_table("stream |")
    assert {r[0]: tuple(a.strip() for a in r[1].split(",")) for r in rows} == STREAM_ALIASES


def test_override_changes_one_figure_and_adds_a_size() -> None:
    """A council's figure replaces the default's, the others stay; a new size gets its volume from its name."""
    table = size_table('{"240": {"demand_kg": 22.5}, "200L": {"demand_kg": 15, "service_s": 28}}')
    assert table[240] == BinSize(240.0, 22.5, 30.0)
    assert table[200] == BinSize(200.0, 15.0, 28.0)
    assert table[1100] == DEFAULT_BIN_SIZES[1100]


@pytest.mark.parametrize(("option", "words"), [
    ("not json", "not JSON"), ("[1]", "must be an object"), ('{"big": {}}', "'big' is not a size"),
    ('{"240": {"kg": 1}}', "kg"), ('{"240": {"demand_kg": -1}}', "greater than or equal to 0"),
    ('{"200": {"demand_kg": 1}}', "needs demand_kg and service_s")])
def test_wrong_overrides_are_refused_in_words(option: str, words: str) -> None:
    """Each wrong bin_sizes option is refused with a message naming what is wrong."""
    with pytest.raises(ValueError, match=re.escape(words)):
        size_table(option)


def test_streams_by_their_usual_names_and_a_councils_own() -> None:
    """'Dry Recycling', 'GENERAL_WASTE' and 'green-waste' name known streams; 'Clinical' only when named."""
    names = stream_names()
    assert [canonical_stream(n, names) for n in ("Dry Recycling", "GENERAL_WASTE", "green-waste")] == [
        "recycling", "refuse", "garden"]
    assert canonical_stream("Clinical", names) is None
    assert canonical_stream("clinical", stream_names(["Clinical"])) == "Clinical"
