"""Tests of scripts/settings_table.py: the configuration table is made from Settings itself,
and a document's table can be rewritten and checked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

from app.core.config import Settings

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "settings_table.py"


@pytest.fixture(scope="module")
def script(tools: SimpleNamespace) -> ModuleType:
    """The script, imported as a module."""
    return tools.import_script(SCRIPT)


def _rows(table: str) -> dict[str, list[str]]:
    """Variable -> its row's cells."""
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells
    return rows


def test_every_setting_has_one_row_under_its_variable(script: ModuleType) -> None:
    """One row per Settings field, named WASTEROUTE_ + the field in capitals, in declaration order."""
    rows = _rows(script.settings_table())
    assert list(rows) == [f"WASTEROUTE_{name.upper()}" for name in Settings.model_fields]


def test_rows_carry_the_description_and_the_default(script: ModuleType) -> None:
    """The port's row says what it is and 8000; the embedded network shows relative to the repository."""
    rows = _rows(script.settings_table())
    assert rows["WASTEROUTE_PORT"][1] == Settings.model_fields["port"].description
    assert rows["WASTEROUTE_PORT"][2] == "`8000`"
    assert rows["WASTEROUTE_NETWORK_FILE"][2] == "`data/monaco.osm.pbf` (embedded)"
    assert "`info`" in rows["WASTEROUTE_LOG_LEVEL"][1] and "`debug`" in rows["WASTEROUTE_LOG_LEVEL"][1]


@pytest.mark.spawns
def test_write_replaces_only_the_table_and_check_then_passes(script: ModuleType, tmp_path: Path) -> None:
    """--write puts the table between the markers, leaving the rest; --check exits 0 after, 1 before."""
    doc = tmp_path / "README.md"
    doc.write_text(f"# Title\n\n{script.START}\n| stale |\n{script.END}\n\nAfter.\n", encoding="utf-8")
    run = [sys.executable, str(SCRIPT)]
    assert subprocess.run([*run, "--check", str(doc)], capture_output=True, check=False).returncode == 1
    subprocess.run([*run, "--write", str(doc)], check=True)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n") and text.endswith("\n\nAfter.\n")
    assert script.settings_table() in text and "| stale |" not in text
    assert subprocess.run([*run, "--check", str(doc)], capture_output=True, check=False).returncode == 0


def test_a_file_without_markers_is_refused(script: ModuleType) -> None:
    """Writing into a file with no markers is a ValueError naming them, not a silent append."""
    with pytest.raises(ValueError, match="markers"):
        script.with_table("# no table here\n", "| a |\n")


@pytest.mark.spawns
def test_the_readme_configuration_table_is_current() -> None:
    """README.md's configuration table is exactly what the script makes from Settings today
    (after adding a setting, run ``python scripts/settings_table.py --write README.md``)."""
    readme = SCRIPT.parents[1] / "README.md"
    result = subprocess.run([sys.executable, str(SCRIPT), "--check", str(readme)], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
