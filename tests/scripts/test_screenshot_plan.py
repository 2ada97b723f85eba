"""Tests of scripts/screenshot_plan.py: a problem into the CSV files the page uploads (read
back by the service's own upload readers), and screenshots saved with a palette."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
from PIL import Image

from app.services.uploads import read_bins, read_sites, read_vehicles

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "screenshot_plan.py"


@pytest.fixture(scope="module")
def script(tools: SimpleNamespace) -> ModuleType:
    """The script, imported as a module."""
    return tools.import_script(SCRIPT)


def test_upload_files_read_back_as_the_problem(script: ModuleType) -> None:
    """The bins, vehicles (with their depot and break) and tips written for the page are read
    by the service's upload readers into the same values."""
    problem = {
        "depots": [{"id": "depot", "lon": -0.734218, "lat": 52.67909}],
        "disposal_sites": [{"id": "tip", "lon": -0.677778, "lat": 52.705095, "unload_s": 900}],
        "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 10000.0, "shift": ["06:00", "15:00"],
                      "break": {"duration_s": 1800, "window": ["11:00", "13:00"]}}],
        "bins": [{"id": "h00001", "lon": -0.7301, "lat": 52.6702, "demand_kg": 14.2, "volume_l": 240.0,
                  "service_s": 30.0}],
    }
    files = script.upload_files(problem)
    [b] = read_bins(files["bins-file"], filename="bins.csv")
    assert (b.id, b.lon, b.lat, b.demand_kg, b.volume_l, b.service_s) == ("h00001", -0.7301, 52.6702, 14.2, 240.0, 30.0)
    vehicles, depots = read_vehicles(files["vehicles-file"], filename="vehicles.csv")
    [v] = vehicles
    assert (v.id, v.depot, v.capacity_kg, tuple(v.shift)) == ("rcv-1", "depot", 10000.0, ("06:00", "15:00"))
    assert v.break_ is not None and v.break_.duration_s == 1800 and tuple(v.break_.window) == ("11:00", "13:00")
    assert [(d.id, d.lon, d.lat) for d in depots] == [("depot", -0.734218, 52.67909)]
    [t] = read_sites(files["sites-file"], filename="sites.csv")
    assert (t.id, t.lon, t.lat, t.unload_s) == ("tip", -0.677778, 52.705095, 900.0)


def test_screenshots_are_saved_with_a_palette_and_the_same_colours(script: ModuleType, tmp_path: Path) -> None:
    """A screenshot of a few flat colours is saved as a palette PNG whose pixels are unchanged."""
    image = Image.new("RGB", (40, 20), (230, 230, 230))
    image.paste((0, 114, 178), (0, 0, 20, 10))
    image.paste((213, 94, 0), (20, 10, 40, 20))
    raw = io.BytesIO()
    image.save(raw, format="PNG")
    out = tmp_path / "shot.png"
    script.save_palette_png(raw.getvalue(), out)
    with Image.open(out) as saved:
        assert saved.mode == "P"
        assert saved.convert("RGB").tobytes() == image.tobytes()
