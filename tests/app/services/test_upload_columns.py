"""Column names as councils write them, normalised and read through the documented aliases."""

from __future__ import annotations

from app.services.upload_columns import BIN_ALIASES, ROUND_ALIASES, normalise, resolve

from .test_bin_sizes import COUNCIL_DATA_MD


def test_headers_are_normalised() -> None:
    """Case, spaces, hyphens and dots do not matter."""
    assert [normalise(h) for h in (" Bin Size ", "BIN-SIZE", "bin.size", "X_COORDINATE")] == [
        "bin_size", "bin_size", "bin_size", "x_coordinate"]


def test_first_alias_wins_and_the_other_stays_unread() -> None:
    """With both id and bin_id, id is the id; bin_id is left for the attributes."""
    assert resolve(["bin_id", "id", "waste_type"], BIN_ALIASES) == {"id": "id", "waste_type": "stream"}


def test_no_alias_names_two_fields() -> None:
    """Each alias reads into one field only, for bins and for rounds."""
    for table in (BIN_ALIASES, ROUND_ALIASES):
        aliases = [a for names in table.values() for a in names]
        assert len(aliases) == len(set(aliases))


def docs_table_after(heading: str) -> dict[str, tuple[str, ...]]:
    """The first table after the heading starting with ``heading`` in docs/council_data.md: name -> aliases."""
    lines = COUNCIL_DATA_MD.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    first = next(i for i in range(start, len(lines)) if lines[i].startswith("|"))
    table = {}
    for line in lines[first + 2:]:
        if not line.startswith("|"):
            break
        name, aliases = (cell.strip().replace("`", "") for cell in line.strip("|").split("|")[:2])
        table[name] = tuple(alias.strip() for alias in aliases.split(","))
    return table


def test_docs_alias_tables_are_the_code_tables() -> None:
    """docs/council_data.md lists exactly the bins' and the rounds' aliases."""
    assert docs_table_after("## Bins: columns") == BIN_ALIASES
    assert docs_table_after("## Today's rounds") == ROUND_ALIASES
