"""Tests of scripts/screenshot_plan.py: a problem into the CSV files the page uploads (read
back by the service's own upload readers), screenshots saved with a palette, and (slow) the
whole tool run on the demo plan with the real service and Chromium."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from app.schemas import OptimisationRequest
from app.services.optimisation import dump_response, solve, to_problem
from app.services.uploads import read_bins, read_sites, read_vehicles
from solver.network import RoadNetwork
from solver.problem import SolveOptions

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "screenshot_plan.py"
DEMO = REPO / "data" / "demo_problem.json"


@pytest.fixture(scope="module")
def script(tools: SimpleNamespace) -> ModuleType:
    """The script, imported as a module."""
    return tools.import_script(SCRIPT)


def test_upload_files_read_back_as_the_problem(script: ModuleType) -> None:
    """The bins, vehicles (with their depot and break) and tips written for the page are read
    by the service's upload readers into the same values; a problem without tips gives no
    tips file (the page refuses a file of no rows)."""
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
    assert set(script.upload_files({**problem, "disposal_sites": []})) == {"bins-file", "vehicles-file"}


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


@pytest.mark.slow
@pytest.mark.spawns
def test_a_plan_is_screenshot_on_the_real_map(tmp_path: Path, monaco: RoadNetwork) -> None:
    """The demo problem optimised (2 s), then the script run as a planner runs it: the real service
    stores the rounds with the same distance, and Chromium saves a 1400 x 900 palette PNG in
    which the first round's colour (Okabe-Ito blue) is drawn."""
    body = json.loads(DEMO.read_text(encoding="utf-8"))
    request = OptimisationRequest.model_validate({**body, "options": {"time_limit_s": 2, "seed": 0}})
    problem = to_problem(request)
    answer = solve(problem, SolveOptions(time_limit_s=2.0, seed=0), monaco, snap_limit_m=200.0)
    problem_file, plan_file, out = tmp_path / "problem.json", tmp_path / "plan.json", tmp_path / "shot.png"
    problem_file.write_text(json.dumps(body), encoding="utf-8")
    plan_file.write_text(dump_response(answer), encoding="utf-8")
    done = subprocess.run([sys.executable, str(SCRIPT), "--problem", str(problem_file), "--plan", str(plan_file),
                           "--out", str(out), "--network", str(REPO / "data" / "monaco.osm.pbf"),
                           "--centre", "7.42,43.735", "--zoom", "15"],
                          capture_output=True, text=True, timeout=900, check=False, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    stored_km, plan_km = re.findall(r"([\d.]+) km", done.stdout)[:2]
    assert stored_km == plan_km
    with Image.open(out) as shot:
        assert shot.size == (1400, 900) and shot.mode == "P"
        colours = np.asarray(shot.convert("RGB")).reshape(-1, 3).astype(int)
    blue = np.abs(colours - np.array([0x00, 0x72, 0xB2])).max(axis=1) <= 12
    assert blue.sum() > 500
